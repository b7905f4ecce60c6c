/**
 * `npm run bench:micro`: TypeScript-side micro benchmarks with the `benchmark` package — config
 * parse of examples/demo.yaml and parseRouteFile over 100k route lines. Prints ops/s and writes
 * bench/results/<date>-micro.json. Runs in this process only (no DPDK).
 */
import * as fs from 'fs';
import * as path from 'path';
import Benchmark from 'benchmark';
import { parseConfig } from '../src/config';
import { parseRouteFile } from '../src/routing/prefix';
import { makePrefixes, routeFileText } from './lib/scale';
import { machine } from './lib/machine';
import { rootDir } from './lib/dpfwd';

const demoPath = path.join(rootDir, 'examples', 'demo.yaml');
const demo = fs.readFileSync(demoPath, 'utf8');
const routes100k = routeFileText(makePrefixes(100000), '10.9.0.2');
const l3fwdLines = routes100k.replace(/^([0-9./]+) via 10\.9\.0\.2$/gm, 'R$1 1');

// sanity: what is measured works
if (parseRouteFile(routes100k).routes.length !== 100000) throw new Error('route file parse lost lines');
parseConfig(demo, demoPath);

interface Row { name: string; hz: number; rme: number; samples: number; msPerOp: number }
const rows: Row[] = [];

new Benchmark.Suite('dpfwd TypeScript')
  .add('parseConfig(examples/demo.yaml)', () => { parseConfig(demo, demoPath); })
  .add('parseRouteFile 100k lines "P via A"', () => { parseRouteFile(routes100k); })
  .add('parseRouteFile 100k l3fwd lines "RP n"', () => { parseRouteFile(l3fwdLines); })
  .on('cycle', (e: Benchmark.Event) => {
    const b = e.target as unknown as Benchmark;
    const row = { name: String(b.name), hz: +b.hz!.toFixed(2), rme: +b.stats!.rme.toFixed(2), samples: b.stats!.sample.length, msPerOp: +(1000 / b.hz!).toFixed(3) };
    rows.push(row);
    process.stdout.write(`${row.name.padEnd(42)} ${row.hz.toFixed(1).padStart(10)} ops/s  ±${row.rme}%  ${row.msPerOp} ms/op  (${row.samples} samples)\n`);
  })
  .on('complete', () => {
    const date = new Date().toISOString().slice(0, 10);
    const dir = path.join(rootDir, 'bench', 'results');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${date}-micro.json`);
    fs.writeFileSync(file, JSON.stringify({ date, machine: machine(), results: rows }, null, 2) + '\n');
    process.stderr.write(`bench: wrote ${file}\n`);
  })
  .run({ async: false });
