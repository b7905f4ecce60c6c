import type { Argv, CommandModule } from 'yargs';
import { request } from '../../api/client';
import { clientOptions, ClientArgs } from '../client-options';
import { print } from '../format';
import { DpfwdError } from '../../errors';

type A = ClientArgs & { action: string; address?: string; words?: string[] };

export const addressCommand: CommandModule<object, A> = {
  command: 'address <action> [address] [words..]',
  aliases: ['addr'],
  describe: 'interface addresses: add ADDR/LEN port NAME | del ADDR/LEN port NAME | show',
  builder: (y: Argv) =>
    clientOptions(y)
      .positional('action', { choices: ['add', 'del', 'show'] as const })
      .positional('address', { type: 'string' })
      .positional('words', { type: 'string', array: true }) as unknown as Argv<A>,
  handler: async (a) => {
    if (a.action === 'show') {
      const ports = (await request(a.socket, 'show.ports')) as { ifname: string; addr_info: { local: string; prefixlen: number }[] }[];
      const rows = ports.map((p) => ({ ifname: p.ifname, addr_info: p.addr_info }));
      print(a.json, rows, () => rows.map((p) => `${p.ifname}: ${p.addr_info.map((x) => `${x.local}/${x.prefixlen}`).join(' ') || '-'}\n`).join(''));
      return;
    }
    const words = (a.words ?? []).map(String);
    if (!a.address || words[0] !== 'port' || !words[1] || words.length > 2) {
      throw new DpfwdError('EINVAL', `usage: dpfwd address ${a.action} 10.3.0.1/24 port east`);
    }
    print(a.json, await request(a.socket, a.action === 'add' ? 'address.add' : 'address.del', { address: a.address, port: words[1] }), () => '');
  },
};
