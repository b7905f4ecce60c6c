import type { Argv, CommandModule } from 'yargs';
import { request } from '../../api/client';
import { clientOptions, ClientArgs } from '../client-options';
import { print, table } from '../format';

type A = ClientArgs & { what: string; all?: boolean };

export const showCommand: CommandModule<object, A> = {
  command: 'show <what>',
  describe: 'show ports | workers | drops of the running forwarder',
  builder: (y: Argv) => clientOptions(y)
    .positional('what', { choices: ['ports', 'workers', 'drops'] as const })
    .option('all', { type: 'boolean', default: false, describe: 'drops: list zero counters too' }) as unknown as Argv<A>,
  handler: async (a) => {
    if (a.what === 'drops') {
      const rows = (await request(a.socket, 'show.drops')) as { port: string; reason: string; packets: number }[];
      const shown = a.all ? rows : rows.filter((r) => r.packets > 0);
      print(a.json, rows, () => (shown.length ? table(shown, ['port', 'reason', 'packets']) : 'no drops\n'));
    } else if (a.what === 'workers') {
      const rows = (await request(a.socket, 'show.workers')) as Record<string, unknown>[];
      print(a.json, rows, () => table(rows.map((r) => ({ ...r, rx: (r.rx as string[]).join(' ') })), ['worker', 'lcore', 'rx', 'rx_packets', 'tx_packets', 'packets_per_burst', 'busy_percent', 'cycles_per_packet', 'punted', 'punt_limited', 'lookup']));
    } else {
      const rows = (await request(a.socket, 'show.ports')) as Record<string, any>[];
      print(a.json, rows, () => table(rows.map((r) => ({
        port: r.ifname, device: r.device, driver: r.driver, mac: r.address, mtu: r.mtu, link: r.operstate,
        rx: r.stats64.rx.packets, tx: r.stats64.tx.packets, missed: r.stats64.rx.missed, forwarded: r.forwarded, dropped: r.dropped, csum: r.csum_completed,
        addresses: r.addr_info.map((x: any) => `${x.local}/${x.prefixlen}`).join(',') || '-',
      })), ['port', 'device', 'driver', 'mac', 'mtu', 'link', 'rx', 'tx', 'missed', 'forwarded', 'dropped', 'csum', 'addresses']));
    }
  },
};
