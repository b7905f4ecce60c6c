/**
 * `dpfwd top`: live rates, computed here from two snapshots of the raw counters (`show.counters`,
 * never cleared) and the ports' hardware statistics (`show.ports`). Per port rx/tx packets/s and
 * bit/s, missed/s; drops/s by port and reason; per worker busy %, cycles per packet and packets per
 * burst over the interval only (not since start, as `show workers` prints). A plain terminal is
 * enough: each refresh clears the screen with ANSI escapes, or prints nothing but the frame with
 * --once / -n COUNT (for scripts and logs).
 */
import type { Argv, CommandModule } from 'yargs';
import { request } from '../../api/client';
import { DpfwdError } from '../../errors';
import { clientOptions, ClientArgs } from '../client-options';
import { table } from '../format';

/** What one sample holds: the raw counters, the ports' statistics and when they were read. */
export interface Sample {
  atMs: number;
  tscHz: number;
  ports: { name: string; rxPackets: number; rxBytes: number; txPackets: number; txBytes: number; missed: number }[];
  drops: string[];
  workers: { index: number; counters: Record<string, number>; drops: number[][] }[];
  lcores: number[];
}

export async function sample(socket: string): Promise<Sample> {
  const t0 = performance.now();
  const [c, p, w] = (await Promise.all([request(socket, 'show.counters'), request(socket, 'show.ports'), request(socket, 'show.workers')])) as [
    any,
    any[],
    any[],
  ];
  const t1 = performance.now();
  return {
    atMs: (t0 + t1) / 2,
    tscHz: c.snapshot.tscHz,
    ports: p.map((r) => ({
      name: r.ifname,
      rxPackets: r.stats64.rx.packets,
      rxBytes: r.stats64.rx.bytes,
      txPackets: r.stats64.tx.packets,
      txBytes: r.stats64.tx.bytes,
      missed: r.stats64.rx.missed,
    })),
    drops: c.names.drops,
    workers: c.snapshot.workers.map((x: any) => ({ index: x.index, counters: x.counters, drops: x.ports.map((q: any) => q.drops) })),
    lcores: w.map((x) => x.lcore),
  };
}

export interface Rates {
  seconds: number;
  ports: { port: string; rx_pps: number; rx_bps: number; tx_pps: number; tx_bps: number; missed_ps: number }[];
  drops: { port: string; reason: string; per_second: number }[];
  workers: {
    worker: number;
    lcore: number;
    rx_pps: number;
    busy_percent: number;
    sleep_percent: number;
    cycles_per_packet: number;
    packets_per_burst: number;
  }[];
}

/** Rates between two samples of one forwarder (counters only grow; a restart shows as zero). */
export function rates(a: Sample, b: Sample): Rates {
  const s = Math.max(1e-3, (b.atMs - a.atMs) / 1000);
  const d = (x: number, y: number) => Math.max(0, y - x);
  const ports = b.ports.map((p, i) => {
    const q = a.ports[i] ?? p;
    return {
      port: p.name,
      rx_pps: Math.round(d(q.rxPackets, p.rxPackets) / s),
      rx_bps: Math.round((8 * d(q.rxBytes, p.rxBytes)) / s),
      tx_pps: Math.round(d(q.txPackets, p.txPackets) / s),
      tx_bps: Math.round((8 * d(q.txBytes, p.txBytes)) / s),
      missed_ps: Math.round(d(q.missed, p.missed) / s),
    };
  });
  const drops: Rates['drops'] = [];
  b.ports.forEach((p, pi) => {
    b.drops.forEach((reason, r) => {
      let n = 0;
      b.workers.forEach((w, wi) => {
        n += d(a.workers[wi]?.drops[pi]?.[r] ?? 0, w.drops[pi][r]);
      });
      if (n > 0) drops.push({ port: p.name, reason, per_second: Math.round(n / s) });
    });
  });
  const workers = b.workers.map((w, i) => {
    const c = w.counters;
    const o = a.workers[i]?.counters ?? c;
    const rx = d(o.rx_packets, c.rx_packets);
    const busy = d(o.busy_cycles, c.busy_cycles);
    const total = busy + d(o.idle_cycles, c.idle_cycles);
    const asleep = d(o.sleep_cycles ?? 0, c.sleep_cycles ?? 0);
    const bursts = d(o.rx_bursts, c.rx_bursts);
    return {
      worker: w.index,
      lcore: b.lcores[i],
      rx_pps: Math.round(rx / s),
      busy_percent: total ? +((100 * busy) / total).toFixed(1) : 0,
      sleep_percent: total ? +((100 * asleep) / total).toFixed(1) : 0,
      cycles_per_packet: rx ? Math.round(busy / rx) : 0,
      packets_per_burst: bursts ? +(rx / bursts).toFixed(1) : 0,
    };
  });
  return { seconds: +s.toFixed(3), ports, drops, workers };
}

/** 1234567 → "1.23M" (SI, for pps and bit/s). */
export function si(n: number): string {
  const units = ['', 'k', 'M', 'G', 'T'];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? String(Math.round(v)) : `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)}${units[i]}`;
}

export type Section = 'ports' | 'drops' | 'workers';

export function render(r: Rates, sections: Section[] = ['ports', 'drops', 'workers']): string {
  const out: string[] = [];
  if (sections.includes('ports')) {
    out.push(
      table(
        r.ports.map((p) => ({
          port: p.port,
          'rx pps': si(p.rx_pps),
          'rx bit/s': si(p.rx_bps),
          'tx pps': si(p.tx_pps),
          'tx bit/s': si(p.tx_bps),
          'missed/s': si(p.missed_ps),
        })),
        ['port', 'rx pps', 'rx bit/s', 'tx pps', 'tx bit/s', 'missed/s'],
      ),
    );
  }
  if (sections.includes('drops')) {
    out.push(
      r.drops.length
        ? table(
            r.drops.map((x) => ({ port: x.port, 'drop reason': x.reason, 'drops/s': si(x.per_second) })),
            ['port', 'drop reason', 'drops/s'],
          )
        : 'no drops\n',
    );
  }
  if (sections.includes('workers')) {
    out.push(
      table(
        r.workers.map((w) => ({
          worker: w.worker,
          lcore: w.lcore,
          'rx pps': si(w.rx_pps),
          'busy %': w.busy_percent.toFixed(1),
          'sleep %': w.sleep_percent.toFixed(1),
          'cycles/pkt': w.cycles_per_packet,
          'pkts/burst': w.packets_per_burst.toFixed(1),
        })),
        ['worker', 'lcore', 'rx pps', 'busy %', 'sleep %', 'cycles/pkt', 'pkts/burst'],
      ),
    );
  }
  return out.join('\n');
}

/** ANSI: cursor home, clear screen. */
const CLEAR = '\x1b[H\x1b[2J';

export interface WatchOptions {
  socket: string;
  intervalS: number;
  /** frames to print; 0 = until interrupted */
  count: number;
  json: boolean;
  clear: boolean;
  sections?: Section[];
  title?: string;
}

/** Prints `count` frames of rates, one every intervalS seconds (the first after one interval). */
export async function watch(o: WatchOptions): Promise<void> {
  if (!(o.intervalS > 0) || o.intervalS > 3600)
    throw new DpfwdError('EINVAL', `interval ${o.intervalS} s: give a number of seconds above 0 and at most 3600 (e.g. -d 1 or -d 0.5)`);
  if (!Number.isInteger(o.count) || o.count < 0) throw new DpfwdError('EINVAL', `count ${o.count}: give a whole number of frames (0 = until Ctrl-C)`);
  let stop = false;
  let wake: (() => void) | null = null;
  const onSig = () => {
    stop = true;
    wake?.();
  };
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  // as top(1): on a terminal, `q` quits (raw mode, so Ctrl-C arrives as a byte and quits too)
  const tty = o.clear && process.stdin.isTTY ? process.stdin : undefined;
  const onKey = (b: Buffer) => {
    if (b.includes(0x71) || b.includes(0x51) || b.includes(0x03)) onSig();
  };
  if (tty) {
    tty.setRawMode(true);
    tty.on('data', onKey);
    tty.resume();
  }
  try {
    let prev = await sample(o.socket);
    for (let n = 0; !stop && (o.count === 0 || n < o.count); n++) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, o.intervalS * 1000);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      if (stop) break;
      const cur = await sample(o.socket);
      const r = rates(prev, cur);
      prev = cur;
      if (o.json) {
        process.stdout.write(JSON.stringify(r) + '\n');
        continue;
      }
      const head = `${o.title ?? 'dpfwd top'} — ${o.socket} — every ${o.intervalS} s — ${new Date().toISOString().slice(11, 19)} UTC (rates over the last ${r.seconds.toFixed(2)} s)\n\n`;
      process.stdout.write((o.clear ? CLEAR : '') + head + render(r, o.sections) + (o.clear ? '' : '\n'));
    }
  } finally {
    if (tty) {
      tty.removeListener('data', onKey);
      tty.setRawMode(false);
      tty.pause();
    }
    process.removeListener('SIGINT', onSig);
    process.removeListener('SIGTERM', onSig);
  }
}

type A = ClientArgs & { delay: number; count?: number; once: boolean };

export const topCommand: CommandModule<object, A> = {
  command: 'top',
  describe: 'live rates of the running forwarder: per port rx/tx pps and bit/s, drops/s by reason, per worker busy %, cycles per packet, packets per burst',
  builder: (y: Argv) =>
    clientOptions(y)
      .option('delay', { alias: 'd', type: 'number', default: 1, describe: 'seconds between refreshes (the rates are over this interval)' })
      .option('count', { alias: 'n', type: 'number', describe: 'print this many frames, then exit (no screen clearing)' })
      .option('once', { type: 'boolean', default: false, describe: 'one frame after one interval, then exit (same as -n 1)' })
      .check((a) => {
        if (a.once && a.count !== undefined) throw new Error('--once and -n are the same thing; give one');
        return true;
      }) as unknown as Argv<A>,
  handler: async (a) => {
    const count = a.once ? 1 : (a.count ?? 0);
    // clear the screen only for an endless view on a terminal; frames for scripts are appended
    await watch({ socket: a.socket, intervalS: a.delay, count, json: a.json, clear: count === 0 && !a.json });
  },
};
