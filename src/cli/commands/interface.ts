import type { Argv, CommandModule } from 'yargs';
import { request } from '../../api/client';
import { clientOptions, ClientArgs } from '../client-options';
import { print, table } from '../format';
import { DpfwdError } from '../../errors';

type A = ClientArgs & { action: string; name?: string; words?: string[] };

/** Rows of `interface show` / `show interfaces` as a table. */
export function interfaceTable(rows: Record<string, any>[]): string {
  return table(
    rows.map((r) => ({
      interface: r.ifname,
      port: r.link,
      vlan: r.vlan ?? '-',
      mtu: r.mtu,
      mac: r.address,
      forwarded: r.forwarded,
      dropped: r.dropped,
      addresses: r.addr_info.map((x: any) => `${x.local}/${x.prefixlen}`).join(',') || '-',
    })),
    ['interface', 'port', 'vlan', 'mtu', 'mac', 'forwarded', 'dropped', 'addresses'],
  );
}

/**
 * `interface add NAME vlan N [port P] [mtu M]`: pure word parsing, checked before anything is
 * sent (the port defaults to NAME's part before the dot; the server checks the rest).
 */
export function parseInterfaceWords(name: string | undefined, words: string[]): { name: string; vlan: number; port?: string; mtu?: number } {
  if (!name) throw new DpfwdError('EINVAL', 'usage: dpfwd interface add west.100 vlan 100 [port west] [mtu 1500]');
  const out: { name: string; vlan?: number; port?: string; mtu?: number } = { name };
  for (let i = 0; i < words.length; i += 2) {
    const w = words[i];
    const v = words[i + 1];
    if (w !== 'vlan' && w !== 'port' && w !== 'mtu') throw new DpfwdError('EINVAL', `unexpected word '${w}': expected vlan <id>, port <name> or mtu <bytes>`);
    if (v === undefined) throw new DpfwdError('EINVAL', `'${w}' needs a value`);
    if (w === 'port') out.port = v;
    else {
      if (!/^[0-9]{1,5}$/.test(v)) throw new DpfwdError('EINVAL', `${w} ${v} is not a number`);
      out[w] = Number(v);
    }
  }
  if (out.vlan === undefined)
    throw new DpfwdError('EINVAL', `interface add needs vlan <1-4094>, e.g. dpfwd interface add ${name} vlan ${/\.(\d+)$/.exec(name)?.[1] ?? 100}`);
  return out as { name: string; vlan: number; port?: string; mtu?: number };
}

export const interfaceCommand: CommandModule<object, A> = {
  command: 'interface <action> [name] [words..]',
  aliases: ['iface'],
  describe: 'VLAN sub-interfaces: add NAME vlan ID [port NAME] [mtu N] | del NAME | show',
  builder: (y: Argv) =>
    clientOptions(y)
      .positional('action', { choices: ['add', 'del', 'show'] as const })
      .positional('name', { type: 'string', describe: 'the interface, like west.100' })
      .positional('words', { type: 'string', array: true }) as unknown as Argv<A>,
  handler: async (a) => {
    const words = (a.words ?? []).map(String);
    if (a.action === 'show') {
      const rows = (await request(a.socket, 'interface.show')) as Record<string, any>[];
      print(a.json, rows, () => interfaceTable(rows));
    } else if (a.action === 'add') {
      const r = await request(a.socket, 'interface.add', parseInterfaceWords(a.name, words));
      print(a.json, r, () => '');
    } else {
      if (!a.name || words.length) throw new DpfwdError('EINVAL', 'usage: dpfwd interface del west.100');
      print(a.json, await request(a.socket, 'interface.del', { name: a.name }), () => '');
    }
  },
};
