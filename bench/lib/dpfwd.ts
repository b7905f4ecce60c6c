/**
 * dpfwd as a contender: a real `dpfwd run` child (the tests' helper starts it and talks to its
 * control socket), sampled for the sink port's TX packets and the worker's busy cycles.
 */
import * as fs from 'fs';
import * as path from 'path';
import { startForwarder, Running as Fwd } from '../../test/helpers/forwarder';
import { Running } from './peers';
import { nowSec } from './proc';

/** net_pcap's MAC for the first port (02:70:63:61:70:<port id>, "pcap"): the replayed frames'
 * destination, since dpfwd drops frames for other MACs (not_for_us) */
export const PCAP_PORT0_MAC = '02:70:63:61:70:00';

export const SINK_NEIGHBOR = { address: '10.9.0.2', mac: '02:00:00:00:09:02', port: 'east' };

export interface DpfwdOptions {
  rxPcap: string;
  dir: string;
  routes?: { prefix: string; via: string }[];
  fib?: { maxRoutes?: number; tbl8Groups?: number; maxNexthops?: number };
  timeoutMs?: number;
  /** node options for the forwarder process (before the script) */
  nodeArgs?: string[];
  /** more top-level config keys (mempool, metrics, …) */
  extra?: Record<string, unknown>;
}

/** 16 routes like l3fwd's built-in table: 198.18.N.0/24, all via the sink's neighbour. */
export function sixteenRoutes(): { prefix: string; via: string }[] {
  return Array.from({ length: 16 }, (_, i) => ({ prefix: `198.18.${i}.0/24`, via: SINK_NEIGHBOR.address }));
}

export function dpfwdConfig(o: DpfwdOptions): Record<string, unknown> {
  return {
    eal: { lcores: '0-1' },
    ports: [
      { name: 'west', device: `net_pcap0,rx_pcap=${o.rxPcap},infinite_rx=1`, address: '10.1.0.1/24' },
      { name: 'east', device: 'net_null0,no-rx=1', address: '10.9.0.1/24' },
    ],
    workers: [
      {
        lcore: 1,
        rx: [
          { port: 'west', queue: 0 },
          { port: 'east', queue: 0 },
        ],
      },
    ],
    neighbors: [SINK_NEIGHBOR],
    routes: o.routes ?? sixteenRoutes(),
    ...(o.fib ? { fib: o.fib } : {}),
    ...(o.extra ?? {}),
  };
}

export interface DpfwdRunning extends Running {
  fwd: Fwd;
}

export async function runDpfwd(o: DpfwdOptions): Promise<DpfwdRunning> {
  fs.mkdirSync(o.dir, { recursive: true });
  const fwd = await startForwarder(dpfwdConfig(o), { dir: o.dir, timeoutMs: o.timeoutMs ?? 60000, nodeArgs: o.nodeArgs });
  let tscHz = 0;
  const sample = async () => {
    const t0 = nowSec();
    const [ports, c] = await Promise.all([fwd.call('show.ports'), fwd.call('show.counters')]);
    const t1 = nowSec();
    tscHz = c.snapshot.tscHz;
    let busy = 0;
    let rx = 0;
    let drops = 0;
    for (const w of c.snapshot.workers) {
      busy += w.counters.busy_cycles;
      rx += w.counters.rx_packets;
      for (const p of w.ports) for (const d of p.drops) drops += d;
    }
    return { t: (t0 + t1) / 2, tx: ports[1].stats64.tx.packets, rx, busyCycles: busy, drops };
  };
  await sample();
  return {
    fwd,
    get tscHz() {
      return tscHz;
    },
    sample,
    stop: async () => {
      const r = await fwd.stop('SIGTERM');
      if (r.code !== 0) process.stderr.write(`bench: dpfwd exited with ${r.code ?? r.signal}\n${fwd.stderr().slice(-2000)}\n`);
    },
  };
}

export const rootDir = path.resolve(__dirname, '..', '..', '..');
