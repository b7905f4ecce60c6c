import type { Argv } from 'yargs';
import { DEFAULT_SOCKET } from '../api/server';

export interface ClientArgs { socket: string; json: boolean }

/** Options every command that talks to a running forwarder takes. */
export function clientOptions<T>(y: Argv<T>): Argv<T & ClientArgs> {
  return y
    .option('socket', { type: 'string', default: process.env.DPFWD_SOCKET ?? DEFAULT_SOCKET, describe: 'control socket of the running dpfwd' })
    .option('json', { alias: 'j', type: 'boolean', default: false, describe: 'JSON output (iproute2 keys)' }) as Argv<T & ClientArgs>;
}
