import type { CommandModule } from 'yargs';

/* eslint-disable @typescript-eslint/no-require-imports -- each command's file loads only when that command runs */
type Loader = () => CommandModule<any, any>;

/**
 * Every `dpfwd` subcommand, one file each in yargs' command-module shape, by the words that name
 * it (its command and aliases). Each file is loaded only when its command runs: `dpfwd route show`
 * never loads `run`'s forwarder, the config parser or prom-client (issue 24: a client command
 * costs about a bare `node`). Add new commands here (keep it sorted by command name).
 */
const TABLE: [names: string[], load: Loader][] = [
  [['address', 'addr'], () => require('./address').addressCommand],
  [['bind'], () => require('./bind').bindCommand],
  [['capture'], () => require('./capture').captureCommand],
  [['config'], () => require('./config').configCommand],
  [['doctor'], () => require('./doctor').doctorCommand],
  [['interface', 'iface'], () => require('./interface').interfaceCommand],
  [['monitor'], () => require('./monitor').monitorCommand],
  [['neighbor', 'neigh', 'neighbour', 'n'], () => require('./neighbor').neighborCommand],
  [['nexthop', 'nh'], () => require('./nexthop').nexthopCommand],
  [['reload'], () => require('./reload').reloadCommand],
  [['route'], () => require('./route').routeCommand],
  [['run'], () => require('./run').runCommand],
  [['show'], () => require('./show').showCommand],
  [['sriov'], () => require('./sriov').sriovCommand],
  [['stats'], () => require('./stats').statsCommand],
  [['sync'], () => require('./sync').syncCommand],
  [['top'], () => require('./top').topCommand],
  [['trace'], () => require('./trace').traceCommand],
];

/** Every command (help, completion, a mistyped command's suggestion, the man page). */
export function allCommands(): CommandModule<any, any>[] {
  return TABLE.map(([, load]) => load());
}

/** The one command that `word` names, or null (then the caller registers all of them). */
export function commandNamed(word: string | undefined): CommandModule<any, any> | null {
  const row = word === undefined ? undefined : TABLE.find(([names]) => names.includes(word));
  return row ? row[1]() : null;
}
