import type { CommandModule } from 'yargs';
import { bindCommand } from './bind';
import { doctorCommand } from './doctor';
import { sriovCommand } from './sriov';

/**
 * Every `dpfwd` subcommand, one file each in yargs' command-module shape.
 * Add new commands to this list (keep it sorted by command name).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [bindCommand, doctorCommand, sriovCommand];
