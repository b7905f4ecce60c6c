import type { Argv, CommandModule } from 'yargs';
import { request } from '../../api/client';
import { DpfwdError } from '../../errors';
import { clientOptions, ClientArgs } from '../client-options';
import { print, table } from '../format';
import { watch } from './top';
import { interfaceTable } from './interface';

type A = ClientArgs & { what: string; all?: boolean; watch?: number };

export const showCommand: CommandModule<object, A> = {
  command: 'show <what>',
  describe:
    'show ports | interfaces | workers | drops | controlplane (neighbours, next-hop budgets, ARP) | control (clients of the control socket, refusals) | mirrors (Linux mirror interfaces) of the running forwarder',
  builder: (y: Argv) =>
    clientOptions(y)
      .positional('what', { choices: ['ports', 'interfaces', 'workers', 'drops', 'controlplane', 'control', 'mirrors'] as const })
      .option('all', { type: 'boolean', default: false, describe: 'drops: list zero counters too' })
      .option('watch', {
        alias: 'w',
        type: 'number',
        describe: 'ports, workers, drops: per-interval rates every N seconds, as dpfwd top (Ctrl-C ends)',
      }) as unknown as Argv<A>,
  handler: async (a) => {
    if (a.watch !== undefined) {
      if (a.what !== 'ports' && a.what !== 'workers' && a.what !== 'drops')
        throw new DpfwdError('EINVAL', `--watch shows rates of ports, workers or drops, not ${a.what}`);
      await watch({
        socket: a.socket,
        intervalS: a.watch,
        count: 0,
        json: a.json,
        clear: !a.json,
        sections: [a.what],
        title: `dpfwd show ${a.what} --watch ${a.watch}`,
      });
      return;
    }
    if (a.what === 'drops') {
      const rows = (await request(a.socket, 'show.drops')) as { port: string; reason: string; packets: number }[];
      const shown = a.all ? rows : rows.filter((r) => r.packets > 0);
      print(a.json, rows, () => (shown.length ? table(shown, ['port', 'reason', 'packets']) : 'no drops\n'));
    } else if (a.what === 'interfaces') {
      const rows = (await request(a.socket, 'interface.show')) as Record<string, any>[];
      print(a.json, rows, () => interfaceTable(rows));
    } else if (a.what === 'controlplane') {
      const c = (await request(a.socket, 'show.controlplane')) as Record<string, any>;
      const kv = (o: Record<string, number>) =>
        Object.entries(o)
          .map(([k, v]) => `${k.toLowerCase()} ${v}`)
          .join(' ');
      print(a.json, c, () =>
        [
          `neighbours: ${kv(c.neighbors)}`,
          `next hops: ${c.nexthops.used} of ${c.nexthops.max} used, learned ${c.nexthops.learned} of ${c.nexthops.learnedMax}`,
          `neighbour limits hit: ${kv(c.limits)}`,
          `arp ignored: ${kv(c.arpIgnored)}`,
          `arp sent: requests ${c.counters.arpRequestsSent} replies ${c.counters.arpRepliesSent}; invalid received ${c.counters.arpInvalid}`,
          `held packets: queued ${c.queue.queued} sent ${c.queue.queueSent} dropped ${c.queue.queueDropped}`,
          '',
        ].join('\n'),
      );
    } else if (a.what === 'mirrors') {
      const rows = (await request(a.socket, 'show.mirrors')) as Record<string, any>[];
      print(a.json, rows, () =>
        rows.length
          ? table(
              rows.map((r) => ({
                ...r,
                netns: r.netns ?? '-',
                carrier: r.carrier ? 'UP' : 'DOWN',
                broken: r.broken ?? '-',
                drops:
                  Object.entries(r.drops as Record<string, number>)
                    .filter(([, n]) => n > 0)
                    .map(([k, n]) => `${k}=${n}`)
                    .join(',') || '-',
              })),
              ['port', 'mirror', 'netns', 'carrier', 'to_linux', 'from_linux', 'dropped', 'drops', 'restored', 'broken'],
            )
          : 'no mirrors (linux.mirror is off)\n',
      );
    } else if (a.what === 'control') {
      const st = await request(a.socket, 'show.control');
      if ('error' in st) throw new DpfwdError('EIO', st.error);
      print(
        a.json,
        st,
        () =>
          `clients ${st.clients} (max ${st.limits.maxClients}), request bytes buffered ${st.bufferedBytes}, paused for unread replies ${st.paused}\n` +
          table(
            Object.entries(st.refused).map(([reason, clients]) => ({ refused: reason, clients })),
            ['refused', 'clients'],
          ),
      );
    } else if (a.what === 'workers') {
      const rows = (await request(a.socket, 'show.workers')) as Record<string, unknown>[];
      print(a.json, rows, () =>
        table(
          rows.map((r) => ({ ...r, rx: (r.rx as string[]).join(' ') })),
          [
            'worker',
            'lcore',
            'rx',
            'rx_packets',
            'tx_packets',
            'packets_per_burst',
            'busy_percent',
            'cycles_per_packet',
            'punted',
            'punt_limited',
            'punt_waiting',
            'punt_wait_ms',
            'control_plane',
            'lookup',
            'idle',
            'sleep_percent',
          ],
        ),
      );
    } else {
      const rows = (await request(a.socket, 'show.ports')) as Record<string, any>[];
      print(a.json, rows, () =>
        table(
          rows.map((r) => ({
            port: r.ifname,
            device: r.device,
            driver: r.driver,
            mac: r.address,
            mtu: r.mtu,
            link: r.operstate,
            rx: r.stats64.rx.packets,
            tx: r.stats64.tx.packets,
            missed: r.stats64.rx.missed,
            forwarded: r.forwarded,
            dropped: r.dropped,
            csum: r.csum_completed,
            addresses: r.addr_info.map((x: any) => `${x.local}/${x.prefixlen}`).join(',') || '-',
          })),
          ['port', 'device', 'driver', 'mac', 'mtu', 'link', 'rx', 'tx', 'missed', 'forwarded', 'dropped', 'csum', 'addresses'],
        ),
      );
    }
  },
};
