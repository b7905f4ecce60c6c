/**
 * `npm run bench:cli`: what one client command costs against a bare `node -e 0` in the same run
 * (issue 24's bar: at most 1.5 ×). hyperfine's method: a warm-up, then the commands interleaved
 * run by run (so load on a shared machine falls on all alike), median and min of wall time per
 * command. The forwarder is a stub control socket that answers route.show with a small table
 * (test/helpers/stub-socket.ts): what is measured is the client's start, parse, one request and
 * print.
 *
 *   npm run bench:cli -- [--runs 30] [--warmup 3]
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { machine } from './lib/machine';
import { rootDir } from './lib/dpfwd';
import { SMALL_TABLE, stubSocket } from '../test/helpers/stub-socket';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

/** Wall time of one run in ms; a run that fails ends the bench (a failing command measures nothing). */
async function timeOne(argv: string[]): Promise<number> {
  const t0 = process.hrtime.bigint();
  const p = spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => p.on('close', resolve));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (code !== 0) throw new Error(`node ${argv.join(' ')} exited ${code}: ${err}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const runs = arg('runs', 30);
  const warmup = arg('warmup', 3);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpfwd-bench-cli-'));
  const sock = path.join(dir, 'ctl.sock');
  const server = await stubSocket(sock, (op) => (op === 'route.show' ? SMALL_TABLE : []));
  const bin = path.join(rootDir, 'bin', 'dpfwd');
  const cases: [string, string[]][] = [
    ['node -e 0', ['-e', '0']],
    ['dpfwd route show', [bin, 'route', 'show', '--socket', sock]],
    ['dpfwd -j route show', [bin, '-j', 'route', 'show', '--socket', sock]],
    ['dpfwd neigh show', [bin, 'neigh', 'show', '--socket', sock]],
    ['dpfwd --help', [bin, '--help']],
  ];
  const times = cases.map(() => [] as number[]);
  try {
    for (let r = 0; r < warmup + runs; r++)
      for (let c = 0; c < cases.length; c++) {
        const ms = await timeOne(cases[c][1]);
        if (r >= warmup) times[c].push(ms);
      }
  } finally {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const base = median(times[0]);
  const m = machine();
  process.stdout.write(`# ${new Date().toISOString()} ${m.cpu}, ${m.cores} CPUs, node ${process.version}, ${runs} runs each, interleaved\n`);
  process.stdout.write(`${'command'.padEnd(22)} ${'median ms'.padStart(10)} ${'min ms'.padStart(8)} ${'× node'.padStart(7)}\n`);
  cases.forEach(([name], c) =>
    process.stdout.write(
      `${name.padEnd(22)} ${median(times[c]).toFixed(1).padStart(10)} ${Math.min(...times[c])
        .toFixed(1)
        .padStart(8)} ${(median(times[c]) / base).toFixed(2).padStart(7)}\n`,
    ),
  );
}

main().catch((e) => {
  process.stderr.write(`bench:cli: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
