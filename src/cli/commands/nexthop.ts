import type { Argv, CommandModule } from 'yargs';
import { request } from '../../api/client';
import { clientOptions, ClientArgs } from '../client-options';
import { print } from '../format';
import { DpfwdError } from '../../errors';

type A = ClientArgs & { action?: string; words?: string[] };

type Row = Record<string, any>;

/** One next hop as a line (`ip nexthop show`'s order). */
export function nexthopLine(h: Row): string {
  // a group as iproute2 writes one: member ids with their weights, `id[,weight]/…`
  const group = () => (h.group as { id: number; weight: number }[]).map((m) => (m.weight === 1 ? `${m.id}` : `${m.id},${m.weight}`)).join('/');
  const what =
    h.kind === 'gateway'
      ? `via ${h.gateway} port ${h.dev}`
      : h.kind === 'glean'
        ? `port ${h.dev} (resolves each destination)`
        : h.kind === 'group'
          ? `group ${group()}`
          : h.kind === 'drop'
            ? 'blackhole'
            : 'local';
  return `id ${h.id} ${what} refs ${h.refs}${h.kind === 'gateway' ? ` lladdr ${h.lladdr ?? '-'} ${h.state.join(',')}` : ''}\n`;
}

export const nexthopCommand: CommandModule<object, A> = {
  command: 'nexthop [action] [words..]',
  aliases: ['nh'],
  describe: 'next hops in use: show [id N] (kind, port, gateway, routes holding it, neighbour state)',
  builder: (y: Argv) =>
    clientOptions(y)
      .positional('action', { choices: ['show', 'list', 'ls'], default: 'show' })
      .positional('words', { type: 'string', array: true }) as unknown as Argv<A>,
  handler: async (a) => {
    const words = (a.words ?? []).map(String);
    const args: Record<string, unknown> = {};
    if (words.length) {
      if (words[0] !== 'id' || words.length !== 2 || !/^[0-9]+$/.test(words[1])) {
        throw new DpfwdError('EINVAL', `nexthop show takes 'id N' (a number); unexpected '${words.join(' ')}'`);
      }
      args.id = Number(words[1]);
    }
    const rows = (await request(a.socket, 'nexthop.show', args)) as Row[];
    print(a.json, rows, () => rows.map(nexthopLine).join(''));
  },
};
