/**
 * `npm run bench:micro`: TypeScript-side micro benchmarks with the `benchmark` package — config
 * parse of examples/demo.yaml, parseRouteFile over 100k route lines, and one /metrics rendering
 * (prom-client, default process metrics included) of a forwarder with 8 ports and 4 workers:
 * the cost the Node thread pays per scrape. Prints ops/s and writes
 * bench/results/<date>-micro.json. Runs in this process only (no EAL: the metrics source is a
 * fixed snapshot with the real C list of drop reasons).
 */
import * as fs from 'fs';
import * as path from 'path';
import Benchmark from 'benchmark';
import { parseConfig } from '../src/config';
import { parseRouteFile } from '../src/routing/routes';
import { makePrefixes, routeFileText } from './lib/scale';
import { machine } from './lib/machine';
import { createMetrics, MetricsSource } from '../src/metrics';
import { Dataplane, CounterSnapshot } from '../src/dataplane';
import { newControlPlaneCounters } from '../src/controlplane';
import { rootDir } from './lib/dpfwd';

const demoPath = path.join(rootDir, 'examples', 'demo.yaml');
const demo = fs.readFileSync(demoPath, 'utf8');
const routes100k = routeFileText(makePrefixes(100000), '10.9.0.2');
const l3fwdLines = routes100k.replace(/^([0-9./]+) via 10\.9\.0\.2$/gm, 'R$1 1');

// sanity: what is measured works
if (parseRouteFile(routes100k).routes.length !== 100000) throw new Error('route file parse lost lines');
parseConfig(demo, demoPath);

/** A forwarder's worth of numbers for the collectors: 8 ports, 4 workers, every reason nonzero. */
function metricsSource(nPorts = 8, nWorkers = 4): MetricsSource {
  const names = Dataplane.names();
  const snap: CounterSnapshot = {
    tscHz: 2.5e9,
    workers: Array.from({ length: nWorkers }, (_w, w) => ({
      index: w,
      counters: Object.fromEntries(names.worker.map((n, i) => [n, 1e9 * (w + 1) + i])),
      ports: Array.from({ length: nPorts }, (_p, p) => ({
        forwarded: 1e10 + p,
        drops: names.drops.map((_d, r) => 1000 * r + p),
        counters: names.port.map((_c, k) => 10 * k + p),
      })),
      punts: names.punts.map((_n, k) => ({ punted: 100 * k, limited: k })),
    })),
  };
  return {
    dp: {
      snapshot: () => snap,
      names: () => names,
      portInfo: (i) => ({
        portId: i,
        mac: 0x020000000000 + i,
        driver: 'net_iavf',
        mtu: 1500,
        linkUp: true,
        speedMbps: 25000,
        rxQueues: nWorkers,
        txQueues: nWorkers,
        numaNode: 0,
      }),
      portStats: (i) => ({ ipackets: 1e10 + i, opackets: 1e10 + i, ibytes: 6.4e11, obytes: 6.4e11, ierrors: 1, oerrors: 2, imissed: 3, rxNombuf: 4 }),
      mempoolInfo: () => ({ size: 65535, available: 60000, inUse: 5535, dataRoom: 2176 }),
      fibInfo: () => ({ maxRoutes: 1 << 20, tbl8Groups: 65536, tbl8Used: 3000, maxNexthops: 65536, routes: 1e6, lookupStaged: true }),
      workersAlive: () => nWorkers,
      puntStatus: () => Array.from({ length: nWorkers }, () => ({ waiting: 0, capacity: 1023, sinceDrainMs: 1 })),
    },
    rib: {
      counts: { static: 1e6, connected: nPorts, local: nPorts, neighbor: 20, linux: 0 },
      updates: { add: { ok: 1e6, error: 0 }, del: { ok: 10, error: 0 } },
      nexthopUsage: () => ({ used: 40, max: 65536, learned: 20, learnedMax: 4096 }),
    },
    cp: {
      counters: newControlPlaneCounters(),
      neighbors: {
        countByState: () => ({ INCOMPLETE: 1, REACHABLE: 20, STALE: 3, FAILED: 0, PERMANENT: 2 }),
        limitsByPort: [],
        ignored: { unsolicited: 0, locktime: 0 },
      },
    },
    ports: Array.from({ length: nPorts }, (_p, i) => ({
      index: i,
      name: `vf${i}`,
      device: `0000:3b:0${i}.1`,
      driver: 'net_iavf',
      mac: `02:00:00:00:00:0${i}`,
    })),
    config: {
      workers: Array.from({ length: nWorkers }, (_w, w) => ({ lcore: w + 1, rx: [], idleSleepUs: 0 })),
      punt: { rate: 10000, burst: 256, maxWaitMs: 1000 },
    },
  };
}
const metrics = createMetrics(metricsSource());
let exposition = 0;

interface Row {
  name: string;
  hz: number;
  rme: number;
  samples: number;
  msPerOp: number;
}
const rows: Row[] = [];

new Benchmark.Suite('dpfwd TypeScript')
  .add('/metrics scrape, 8 ports x 4 workers', {
    defer: true,
    fn: (d: { resolve(): void }) => {
      void metrics.scrape().then((t) => {
        exposition = t.length;
        d.resolve();
      });
    },
  })
  .add('parseConfig(examples/demo.yaml)', () => {
    parseConfig(demo, demoPath);
  })
  .add('parseRouteFile 100k lines "P via A"', () => {
    parseRouteFile(routes100k);
  })
  .add('parseRouteFile 100k l3fwd lines "RP n"', () => {
    parseRouteFile(l3fwdLines);
  })
  .on('cycle', (e: Benchmark.Event) => {
    const b = e.target as unknown as Benchmark;
    const row = {
      name: String(b.name),
      hz: +b.hz!.toFixed(2),
      rme: +b.stats!.rme.toFixed(2),
      samples: b.stats!.sample.length,
      msPerOp: +(1000 / b.hz!).toFixed(3),
    };
    rows.push(row);
    process.stdout.write(`${row.name.padEnd(42)} ${row.hz.toFixed(1).padStart(10)} ops/s  ±${row.rme}%  ${row.msPerOp} ms/op  (${row.samples} samples)\n`);
  })
  .on('complete', () => {
    const date = new Date().toISOString().slice(0, 10);
    const dir = path.join(rootDir, 'bench', 'results');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${date}-micro.json`);
    fs.writeFileSync(file, JSON.stringify({ date, machine: machine(), metricsExpositionBytes: exposition, results: rows }, null, 2) + '\n');
    process.stderr.write(`bench: wrote ${file}\n`);
  })
  .run({ async: true });
