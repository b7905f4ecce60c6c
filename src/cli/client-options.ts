import type { Argv } from 'yargs';
import { DEFAULTS } from '../config/keys';

/** `json` is the entry point's global -j (also set by -p), accepted anywhere on the line. */
export interface ClientArgs {
  socket: string;
  json: boolean;
}

/** Options every command that talks to a running forwarder takes. */
export function clientOptions<T>(y: Argv<T>): Argv<T & ClientArgs> {
  return y.option('socket', {
    type: 'string',
    default: process.env.DPFWD_SOCKET ?? DEFAULTS.control.socket,
    describe: 'control socket of the running dpfwd',
  }) as Argv<T & ClientArgs>;
}
