import type { CommandModule } from 'yargs';
import { addressCommand } from './address';
import { bindCommand } from './bind';
import { captureCommand } from './capture';
import { doctorCommand } from './doctor';
import { interfaceCommand } from './interface';
import { neighborCommand } from './neighbor';
import { nexthopCommand } from './nexthop';
import { routeCommand } from './route';
import { runCommand } from './run';
import { showCommand } from './show';
import { sriovCommand } from './sriov';
import { statsCommand } from './stats';
import { syncCommand } from './sync';
import { topCommand } from './top';
import { traceCommand } from './trace';

/**
 * Every `dpfwd` subcommand, one file each in yargs' command-module shape.
 * Add new commands to this list (keep it sorted by command name).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [
  addressCommand, bindCommand, captureCommand, doctorCommand, interfaceCommand, neighborCommand, nexthopCommand, routeCommand, runCommand, showCommand, sriovCommand,
  statsCommand, syncCommand, topCommand, traceCommand,
];
