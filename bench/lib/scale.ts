/**
 * Route table scale: 1M IPv4 prefixes with a length mix like the Internet's (most /24, a spread
 * from /8 to /32), loaded through the control socket's bulk op (route.load → Rib.addRoutesBulk →
 * one native bulk add) and through `dpfwd route load FILE`; the time, the FIB's memory, and
 * forwarding with random destinations over that table against a 16-route table.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { request } from '../../src/api/client';
import { buildUdp4, writePcap, makePrng } from '../../src/packet';
import { runDpfwd, DpfwdRunning, sixteenRoutes, PCAP_PORT0_MAC } from './dpfwd';
import { measure, Window } from './forwarding';
import { nowSec } from './proc';
import { summarize, Summary, round } from './stats';

/** Share of prefixes per length (percent), after the global BGP table's shape; sums to 100. */
export const LENGTH_MIX: Record<number, number> = {
  8: 0.001,
  9: 0.002,
  10: 0.004,
  11: 0.008,
  12: 0.02,
  13: 0.05,
  14: 0.1,
  15: 0.215,
  16: 1.3,
  17: 1.0,
  18: 1.6,
  19: 3.0,
  20: 4.5,
  21: 5.0,
  22: 12.0,
  23: 10.0,
  24: 59.7,
  25: 0.3,
  26: 0.2,
  27: 0.2,
  28: 0.2,
  29: 0.2,
  30: 0.2,
  31: 0.05,
  32: 0.15,
};

const ntoa = (a: number) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;

/**
 * n distinct prefixes; first octets 1–223 except 10 (the bench's own subnets) and 127. Returns
 * parallel arrays (addr, len) so no object per route is kept.
 */
export function makePrefixes(n: number, seed = 7): { addrs: Uint32Array; lens: Uint8Array } {
  const rand = makePrng(seed);
  const addrs = new Uint32Array(n);
  const lens = new Uint8Array(n);
  const seen = new Set<number>();
  let k = 0;
  const lengths = Object.keys(LENGTH_MIX).map(Number);
  const total = Object.values(LENGTH_MIX).reduce((a, b) => a + b, 0);
  for (const len of lengths) {
    const want = len === 24 ? 0 : Math.round((n * LENGTH_MIX[len]) / total);
    const space = 2 ** len;
    let got = 0;
    for (let tries = 0; got < want && tries < want * 20; tries++) {
      const a = (len === 0 ? 0 : (rand() & ~((2 ** (32 - len) - 1) | 0)) >>> 0) >>> 0;
      const o = a >>> 24;
      if (o === 0 || o === 10 || o === 127 || o >= 224) continue;
      const key = a / 1 + len * 2 ** 32;
      if (seen.has(key)) continue;
      seen.add(key);
      addrs[k] = a;
      lens[k] = len;
      k++;
      got++;
      if (k === n) break;
    }
    void space;
  }
  // /24s fill the rest
  while (k < n) {
    const a = (rand() & 0xffffff00) >>> 0;
    const o = a >>> 24;
    if (o === 0 || o === 10 || o === 127 || o >= 224) continue;
    const key = a + 24 * 2 ** 32;
    if (seen.has(key)) continue;
    seen.add(key);
    addrs[k] = a;
    lens[k] = 24;
    k++;
  }
  return { addrs, lens };
}

export function routeFileText(p: { addrs: Uint32Array; lens: Uint8Array }, via: string): string {
  const parts: string[] = [];
  for (let i = 0; i < p.addrs.length; i++) parts.push(`${ntoa(p.addrs[i])}/${p.lens[i]} via ${via}\n`);
  return parts.join('');
}

/** tbl8 groups the table needs: one per distinct /24 that holds a prefix longer than /24. */
export function tbl8Needed(p: { addrs: Uint32Array; lens: Uint8Array }): number {
  const s = new Set<number>();
  for (let i = 0; i < p.addrs.length; i++) if (p.lens[i] > 24) s.add(p.addrs[i] >>> 8);
  return s.size;
}

/** Frames to random hosts inside random prefixes of the table (or of the given list). */
export function writeRandomDestFlows(file: string, count: number, pick: (r: () => number) => number, seed = 3): void {
  const rand = makePrng(seed);
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    frames.push(
      buildUdp4({
        srcMac: '02:00:00:00:01:02',
        dstMac: PCAP_PORT0_MAC,
        src: ntoa(((10 << 24) | (1 << 16)) + (i & 0xffff)),
        dst: ntoa(pick(rand)),
        sport: 1024,
        dport: 1024,
        ttl: 64,
        id: i & 0xffff,
        size: 60,
      }),
    );
  }
  writePcap(file, frames);
}

function procStatus(pid: number): { vmRssMiB: number; hugetlbMiB: number | null } {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => {
    const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s);
    return m ? Number(m[1]) : null;
  };
  return { vmRssMiB: round((kb('VmRSS') ?? 0) / 1024, 1), hugetlbMiB: kb('HugetlbPages') === null ? null : round(kb('HugetlbPages')! / 1024, 1) };
}

/**
 * Heap used (MiB) before each collection in a `node --trace-gc` log: the heap only grows between
 * collections, so the largest of these and a reading after the last is the peak.
 */
export function heapsBeforeGc(log: string): number[] {
  return [...log.matchAll(/(?:Scavenge|Mark-Compact|Mark-sweep)[^\d\n]*([\d.]+) \([\d.]+\) ->/g)].map((m) => Number(m[1]));
}

/** Node heap of the forwarder from its Prometheus endpoint (prom-client default metrics), if it serves them. */
export function scrapeHeap(listen: string): Promise<number | null> {
  const [host, port] = listen.split(':');
  return new Promise((resolve) => {
    const req = http.get({ host, port: Number(port), path: '/metrics', timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => {
        const m = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? ([0-9.e+]+)/m.exec(body);
        resolve(m ? round(Number(m[1]) / 1048576, 1) : null);
      });
    });
    req.on('error', () => resolve(null));
    req.on('timeout', () => {
      req.destroy();
      resolve(null);
    });
  });
}

export interface ScaleResult {
  routes: number;
  lengthMix: Record<number, number>;
  fib: { maxRoutes: number; tbl8Groups: number; tbl8Needed: number };
  loads: { path: string; seconds: number; reportedMs?: number; error?: string }[];
  memory: {
    fibMiB: number;
    rulesMiB: number;
    tbl24MiB: number;
    tbl8MiB: number;
    vmRssMiB: number;
    hugepagesUsedMiB: number | null;
    vmRssBeforeMiB: number;
    nodeHeapBeforeMiB: number | null;
    /** heap used read right after the reply: includes whatever garbage no collection has taken yet */
    nodeHeapAfterLoadMiB: number | null;
    /** the most heap used at any point of the load (--trace-gc), the reading after it included */
    nodeHeapPeakMiB: number | null;
    /** heap used after a forced full GC that follows the load: what the route model keeps */
    nodeHeapRetainedMiB: number | null;
  };
  forwarding: { table: string; mpps: Summary; cyclesPerPacket: Summary; drops: number }[];
  ratio: number;
  notes: string[];
}

async function windows(r: DpfwdRunning, reps: number, w: Window) {
  const ts = [];
  for (let i = 0; i < reps; i++) ts.push(await measure(r, { warmupMs: i === 0 ? w.warmupMs : 200, durationMs: w.durationMs }));
  return ts;
}

export async function routeScale(tmp: string, n: number, reps: number, w: Window, log: (m: string) => void): Promise<ScaleResult> {
  const t0 = nowSec();
  const pre = makePrefixes(n);
  const file = path.join(tmp, `routes-${n}.txt`);
  const text = routeFileText(pre, '10.9.0.2');
  fs.writeFileSync(file, text);
  const need = tbl8Needed(pre);
  const tbl8Groups = Math.max(256, 2 ** Math.ceil(Math.log2(need * 1.25)));
  const maxRoutes = Math.max(n + 1024, 1048576 + 1024);
  log(
    `scale: ${n} prefixes generated in ${(nowSec() - t0).toFixed(1)} s (${(text.length / 1048576).toFixed(1)} MiB file, ${need} tbl8 groups needed, sizing ${tbl8Groups})`,
  );
  const fib = { maxRoutes, tbl8Groups, maxNexthops: 65536 };
  const mem = { rulesMiB: round((maxRoutes * 8) / 1048576, 1), tbl24MiB: 64, tbl8MiB: round(tbl8Groups / 1024, 1), fibMiB: 0 };
  mem.fibMiB = round(mem.rulesMiB + mem.tbl24MiB + mem.tbl8MiB, 1);

  const flowsBig = path.join(tmp, 'flows-fib-1m.pcap');
  const flowsSmall = path.join(tmp, 'flows-fib-16.pcap');
  const count = 8192;
  writeRandomDestFlows(flowsBig, count, (r) => {
    const i = r() % n;
    return (pre.addrs[i] + (pre.lens[i] >= 31 ? 0 : r() % 2 ** (32 - pre.lens[i]) || 1)) >>> 0;
  });
  writeRandomDestFlows(flowsSmall, count, (r) => (((198 << 24) | (18 << 16)) >>> 0) + (r() % 4096 || 1));

  const loads: ScaleResult['loads'] = [];
  const listen = `127.0.0.1:${19450 + (process.pid % 500)}`;
  const mbufs = { mempool: { mbufs: 32767 } } as const;

  // 1) bulk path over the control socket while forwarding (traffic hits no route until the load)
  // the forwarder logs its collections (peak heap) and runs a full GC on SIGUSR2 (retained heap)
  const nodeArgs = ['--trace-gc', '--expose-gc', '--require', path.join(__dirname, 'gc-on-signal.js')];
  const big = await runDpfwd({ rxPcap: flowsBig, dir: path.join(tmp, 'dpfwd-scale-1'), fib, nodeArgs, extra: { ...mbufs, metrics: { listen } } });
  let memory: ScaleResult['memory'];
  const forwarding: ScaleResult['forwarding'] = [];
  try {
    const pid = big.fwd.proc.pid!;
    let gcLog = '';
    const onGcLog = (d: Buffer) => {
      gcLog += d.toString();
    };
    const before = procStatus(pid);
    const heapBefore = await scrapeHeap(listen);
    big.fwd.proc.stdout!.on('data', onGcLog);
    const a = nowSec();
    const res = (await request(big.fwd.socket, 'route.load', { text }, 300000)) as { loaded: number; milliseconds: number };
    const secs = nowSec() - a;
    if (res.loaded !== n) throw new Error(`route.load loaded ${res.loaded} of ${n}`);
    loads.push({ path: 'route.load (socket)', seconds: round(secs, 2), reportedMs: res.milliseconds });
    log(`scale: route.load ${n} routes: ${secs.toFixed(2)} s wall, ${res.milliseconds} ms in Rib.addRoutesBulk`);
    const after = procStatus(pid);
    const heapAfter = await scrapeHeap(listen);
    big.fwd.proc.stdout!.off('data', onGcLog);
    const peak = heapAfter === null ? null : round(Math.max(heapAfter, ...heapsBeforeGc(gcLog)), 1);
    big.fwd.proc.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 500));
    const retained = await scrapeHeap(listen);
    log(`scale: Node heap ${heapBefore} MiB before the load, ${heapAfter} MiB right after, peak ${peak} MiB, ${retained} MiB retained after a full GC`);
    memory = {
      ...mem,
      vmRssMiB: after.vmRssMiB,
      hugepagesUsedMiB: after.hugetlbMiB,
      vmRssBeforeMiB: before.vmRssMiB,
      nodeHeapBeforeMiB: heapBefore,
      nodeHeapAfterLoadMiB: heapAfter,
      nodeHeapPeakMiB: peak,
      nodeHeapRetainedMiB: retained,
    };
    const ts = await windows(big, reps, w);
    forwarding.push({
      table: `${n} routes`,
      mpps: summarize(ts.map((t) => t.mpps)),
      cyclesPerPacket: summarize(ts.map((t) => t.cyclesPerPacket)),
      drops: ts.reduce((s, t) => s + (t.drops ?? 0), 0),
    });
    log(`scale: forwarding over ${n} routes: ${ts.map((t) => t.mpps).join(', ')} Mpps`);
  } finally {
    await big.stop();
  }

  // 2) the CLI: dpfwd route load FILE (a second process reads the file and sends it)
  const cli = await runDpfwd({ rxPcap: flowsBig, dir: path.join(tmp, 'dpfwd-scale-2'), fib, extra: mbufs });
  try {
    await cli.sample();
    const a = nowSec();
    const r = spawnSync(
      process.execPath,
      [path.join(__dirname, '..', '..', '..', 'bin', 'dpfwd'), 'route', 'load', file, '--socket', cli.fwd.socket, '--json'],
      { encoding: 'utf8', timeout: 300000 },
    );
    const secs = nowSec() - a;
    if (r.status !== 0) {
      const why = `${r.stderr}${r.stdout}`.trim().slice(0, 500);
      loads.push({ path: 'dpfwd route load FILE', seconds: round(secs, 2), error: why });
      log(`scale: dpfwd route load failed after ${secs.toFixed(2)} s: ${why}`);
    } else {
      let ms: number | undefined;
      try {
        ms = JSON.parse(r.stdout).milliseconds;
      } catch {
        /* printed as text */
      }
      loads.push({ path: 'dpfwd route load FILE', seconds: round(secs, 2), reportedMs: ms });
      log(`scale: dpfwd route load: ${secs.toFixed(2)} s wall`);
    }
  } finally {
    await cli.stop();
  }

  // 3) the same traffic shape over a 16-route table
  const small = await runDpfwd({ rxPcap: flowsSmall, dir: path.join(tmp, 'dpfwd-scale-3'), routes: sixteenRoutes(), extra: mbufs });
  try {
    const ts = await windows(small, reps, w);
    forwarding.push({
      table: '16 routes',
      mpps: summarize(ts.map((t) => t.mpps)),
      cyclesPerPacket: summarize(ts.map((t) => t.cyclesPerPacket)),
      drops: ts.reduce((s, t) => s + (t.drops ?? 0), 0),
    });
    log(`scale: forwarding over 16 routes: ${ts.map((t) => t.mpps).join(', ')} Mpps`);
  } finally {
    await small.stop();
  }
  return {
    routes: n,
    lengthMix: LENGTH_MIX,
    fib: { maxRoutes, tbl8Groups, tbl8Needed: need },
    loads,
    memory: memory!,
    forwarding,
    ratio: round(forwarding[0].mpps.median / forwarding[1].mpps.median, 3),
    notes: [
      `${count} flows, each to a random host of a random prefix of the table (1M case) or of 198.18.0.0/20 (16 /24 routes); all routes via one neighbour on the null sink`,
      'FIB memory computed as rte_lpm sizes: rules maxRoutes × 8 B, tbl24 2^24 × 4 B, tbl8 groups × 256 × 4 B',
      'VmRSS and HugetlbPages from /proc/<pid>/status of the dpfwd process after the load; Node heap = nodejs_heap_size_used_bytes from its /metrics (null if not served): right after the load (a point in time, before or after a GC by chance), peak (the largest heap before any GC during the load in its --trace-gc log, or the reading after), retained (after a full GC the bench triggers with SIGUSR2, dpfwd started with --expose-gc and bench/lib/gc-on-signal)',
      "route.load seconds = wall time of the request from this process (JSON encode, socket, parse, Rib, native bulk add, reply); reportedMs = dpfwd's own timing of Rib.addRoutesBulk",
      'dpfwd route load seconds include starting the CLI process (Node + module load) and reading the file',
    ],
  };
}
