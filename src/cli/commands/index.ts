import type { CommandModule } from 'yargs';
import { addressCommand } from './address';
import { bindCommand } from './bind';
import { captureCommand } from './capture';
import { configCommand } from './config';
import { doctorCommand } from './doctor';
import { interfaceCommand } from './interface';
import { neighborCommand } from './neighbor';
import { nexthopCommand } from './nexthop';
import { reloadCommand } from './reload';
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
export const commands: CommandModule<any, any>[] = [
  addressCommand,
  bindCommand,
  captureCommand,
  configCommand,
  doctorCommand,
  interfaceCommand,
  neighborCommand,
  nexthopCommand,
  reloadCommand,
  routeCommand,
  runCommand,
  showCommand,
  sriovCommand,
  statsCommand,
  syncCommand,
  topCommand,
  traceCommand,
];
