import type { Argv, CommandModule } from 'yargs';
import { request } from '../../api/client';
import { clientOptions, ClientArgs } from '../client-options';
import { print } from '../format';
import { DpfwdError } from '../../errors';

type A = ClientArgs & { action: string; address?: string; words?: string[]; details?: boolean };

export const neighborCommand: CommandModule<object, A> = {
  command: 'neighbor <action> [address] [words..]',
  aliases: ['neigh'],
  describe: 'neighbours: add ADDR MAC port NAME | del ADDR | show',
  builder: (y: Argv) => clientOptions(y)
    .positional('action', { choices: ['add', 'del', 'show'] as const })
    .positional('address', { type: 'string' })
    .positional('words', { type: 'string', array: true })
    .option('details', { alias: 'd', type: 'boolean', default: false, describe: 'show: probes sent and ms until the entry\'s timer fires' }) as unknown as Argv<A>,
  handler: async (a) => {
    const words = (a.words ?? []).map(String);
    if (a.action === 'show') {
      const rows = (await request(a.socket, 'neighbor.show', a.details ? { details: true } : {})) as Record<string, unknown>[];
      const extra = (r: Record<string, unknown>) => (a.details ? ` probes ${r.probes} timer ${r.timer_ms === null ? '-' : `${r.timer_ms}ms`}${r.gateway ? ' gateway' : ''}` : '');
      print(a.json, rows, () => rows.map((r) => `${r.dst} port ${r.dev} lladdr ${r.lladdr ?? '-'} ${(r.state as string[]).join(',')}${extra(r)}\n`).join(''));
      return;
    }
    if (!a.address) throw new DpfwdError('EINVAL', `neighbor ${a.action} needs an address`);
    if (a.action === 'del') {
      print(a.json, await request(a.socket, 'neighbor.del', { address: a.address }), () => '');
      return;
    }
    const [mac, kw, port, ...rest] = words;
    if (!mac || kw !== 'port' || !port || rest.length) {
      throw new DpfwdError('EINVAL', 'usage: dpfwd neighbor add 10.2.0.9 02:00:00:00:00:09 port east');
    }
    print(a.json, await request(a.socket, 'neighbor.add', { address: a.address, mac, port }), () => '');
  },
};
