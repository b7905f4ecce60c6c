/**
 * Route sync scale (issue 13 item 5): N prefixes (the scale trial's Internet-like length mix) go
 * into a kernel table with one `ip -batch` in a namespace; the time until all of them are in
 * dpfwd's FIB (`sync.show`'s installed count), with the kernel's own install time (the `ip -batch`
 * run) beside it. Then the table is flushed and the time until dpfwd has none is taken too.
 * One run per size; every wait is bounded.
 */
import * as fs from 'fs';
import * as path from 'path';
import { spawn, spawnSync } from 'child_process';
import { startForwarder, Running, freePort } from '../../test/helpers/forwarder';
import { makePrefixes, scrapeHeap } from './scale';
import { sleep } from './proc';

export interface SyncSize {
  routes: number;
  /** `ip -batch` adding them: the kernel's own install time */
  kernelAddSeconds: number;
  /** from the start of `ip -batch` until dpfwd's FIB holds every one */
  fibAddSeconds: number | null;
  /** a dpfwd restart with the routes in the kernel: from spawning it until all are in its FIB */
  restartSeconds?: number | null;
  /** of which the first dump (received and applied) */
  restartDumpMs?: number | null;
  /** `ip route flush table` */
  kernelFlushSeconds: number;
  /** from the start of the flush until dpfwd holds none */
  fibFlushSeconds: number | null;
  overflows: number;
  dumps: number;
  /**
   * CPU seconds of the forwarder's main thread (Node's: the sync's reads, model and RIB, and the
   * kernel's dump work done in its recvmsg) for: following the ip -batch add, the restart (EAL
   * init excluded: from ready to full), following the flush. Wall times on a shared machine
   * measure the neighbours; these do not.
   */
  addMainCpuSeconds?: number;
  restartMainCpuSeconds?: number;
  flushMainCpuSeconds?: number;
  /** the forwarder's VmRSS with the routes in */
  vmRssMiB: number;
  /** Node heap used with the routes in, after a full GC (what the RIB and the sync's model keep) */
  heapRetainedMiB: number | null;
  error?: string;
}

export interface SyncResult {
  table: number;
  socketBufferBytes: number;
  sizes: SyncSize[];
}

const ntoa = (a: number) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;

function ip(args: string[], timeoutMs: number): void {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`ip ${args.slice(0, 4).join(' ')} …: ${r.stderr || r.error?.message || `status ${r.status}`}`);
}

/** Runs `ip` without blocking the event loop (the forwarder's control socket is polled meanwhile). */
function ipAsync(args: string[], timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const p = spawn('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d) => {
      err += d;
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve((Date.now() - t0) / 1000);
      else reject(new Error(`ip ${args.slice(0, 4).join(' ')}: ${err.slice(0, 500) || `exit ${code}`}`));
    });
  });
}

/** utime + stime of a process's main thread, seconds. */
function mainCpu(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

function vmRssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

async function until(fwd: Running, pred: (s: { installed: number; kernelRoutes: number }) => boolean, t0: number, timeoutMs: number): Promise<number | null> {
  const deadline = t0 + timeoutMs;
  while (Date.now() < deadline) {
    if (pred(await fwd.call('sync.show'))) return (Date.now() - t0) / 1000;
    await sleep(50);
  }
  return null;
}

export async function syncScale(tmp: string, sizes: number[], log: (m: string) => void, timeoutMs = 600000): Promise<SyncResult> {
  const ns = `dpbsync${process.pid}`;
  const table = 100;
  const socketBuffer = 4 * 1048576;
  const res: SyncResult = { table, socketBufferBytes: socketBuffer, sizes: [] };
  const dir = path.join(tmp, 'sync');
  fs.mkdirSync(dir, { recursive: true });
  spawnSync('ip', ['netns', 'del', ns]);
  ip(['netns', 'add', ns], 10000);
  let fwd: Running | undefined;
  try {
    // the mirror of port east, as mirror13's TAP will be: same name, same subnet
    ip(['-n', ns, 'link', 'add', 'east', 'type', 'veth', 'peer', 'name', 'east-p'], 10000);
    ip(['-n', ns, 'addr', 'add', '10.9.0.1/24', 'dev', 'east'], 10000);
    ip(['-n', ns, 'link', 'set', 'east-p', 'up'], 10000);
    ip(['-n', ns, 'link', 'set', 'east', 'up'], 10000);
    const max = Math.max(...sizes);
    const listen = `127.0.0.1:${await freePort()}`;
    const config = {
      metrics: { listen },
      eal: { lcores: '0-1' },
      ports: [
        { name: 'west', device: 'net_null0,no-rx=1', address: '10.1.0.1/24' },
        { name: 'east', device: 'net_null1,no-rx=1', address: '10.9.0.1/24' },
      ],
      fib: { maxRoutes: Math.max(1048576, 2 ** Math.ceil(Math.log2(max + 16))), tbl8Groups: 65536 },
      neighbors: [{ address: '10.9.0.2', mac: '02:00:00:00:09:02', port: 'east' }],
      linux: { netns: ns, sync: { enabled: true, table, socketBuffer } },
    };
    const startFwd = () => startForwarder(config, { dir, timeoutMs: 60000, nodeArgs: ['--expose-gc', '--require', path.join(__dirname, 'gc-on-signal.js')] });
    fwd = await startFwd();
    for (const n of sizes) {
      const p = makePrefixes(n);
      const file = path.join(dir, `add-${n}.batch`);
      const out = fs.createWriteStream(file);
      for (let i = 0; i < n; i++) out.write(`route add ${ntoa(p.addrs[i])}/${p.lens[i]} via 10.9.0.2 table ${table} proto bgp\n`);
      await new Promise<void>((r) => out.end(r));
      const size: SyncSize = {
        routes: n,
        kernelAddSeconds: 0,
        fibAddSeconds: null,
        kernelFlushSeconds: 0,
        fibFlushSeconds: null,
        overflows: 0,
        dumps: 0,
        vmRssMiB: 0,
        heapRetainedMiB: null,
      };
      try {
        const before = await fwd!.call('sync.show');
        const c0 = mainCpu(fwd!.proc.pid!);
        const t0 = Date.now();
        const [k, f] = await Promise.all([
          ipAsync(['-n', ns, '-batch', file], timeoutMs),
          until(fwd!, (s) => s.installed === n && s.kernelRoutes === n, t0, timeoutMs),
        ]);
        size.kernelAddSeconds = +k.toFixed(2);
        size.fibAddSeconds = f === null ? null : +f.toFixed(2);
        size.addMainCpuSeconds = +(mainCpu(fwd!.proc.pid!) - c0).toFixed(2);
        size.vmRssMiB = vmRssMiB(fwd!.proc.pid!);
        fwd!.proc.kill('SIGUSR2'); // a full GC (gc-on-signal), then the heap that is really kept
        await sleep(1000);
        size.heapRetainedMiB = await scrapeHeap(listen);
        // a dpfwd restart with the routes in the kernel: from spawning it to all of them in its FIB
        // (EAL init, the first dump, the installs)
        const mid = await fwd!.call('sync.show');
        await fwd!.stop();
        fwd = undefined;
        const tr = Date.now();
        fwd = await startFwd();
        const cr = mainCpu(fwd!.proc.pid!);
        const rs = await until(fwd!, (st) => st.installed === n, tr, timeoutMs);
        size.restartMainCpuSeconds = +(mainCpu(fwd!.proc.pid!) - cr).toFixed(2);
        size.restartSeconds = rs === null ? null : +rs.toFixed(2);
        size.restartDumpMs = (await fwd!.call('sync.show')).lastDumpMs;
        const cf = mainCpu(fwd!.proc.pid!);
        const t1 = Date.now();
        // `ip route flush` gives up after 10 rounds on a big table ("Flush not complete"): again, bounded
        const flush = async () => {
          for (let i = 0; ; i++) {
            try {
              await ipAsync(['-n', ns, 'route', 'flush', 'table', String(table)], timeoutMs);
              return (Date.now() - t1) / 1000;
            } catch (e) {
              if (i >= 4) throw e;
            }
          }
        };
        const [kf, ff] = await Promise.all([flush(), until(fwd!, (s) => s.installed === 0 && s.kernelRoutes === 0, t1, timeoutMs)]);
        size.kernelFlushSeconds = +kf.toFixed(2);
        size.fibFlushSeconds = ff === null ? null : +ff.toFixed(2);
        size.flushMainCpuSeconds = +(mainCpu(fwd!.proc.pid!) - cf).toFixed(2);
        const after = await fwd!.call('sync.show');
        // before the restart, and since it (the new forwarder's first dump is not a re-dump)
        size.overflows = mid.overflows - before.overflows + after.overflows;
        size.dumps = mid.dumps - before.dumps + after.dumps - 1;
        if (f === null || ff === null) size.error = `timed out after ${timeoutMs / 1000} s: ${JSON.stringify(after)}`;
      } catch (e) {
        size.error = (e as Error).message;
      }
      log(
        `sync ${n} routes: kernel add ${size.kernelAddSeconds} s, in dpfwd's FIB after ${size.fibAddSeconds} s; restart ${size.restartSeconds} s (dump ${size.restartDumpMs} ms); flush ${size.kernelFlushSeconds} s / ${size.fibFlushSeconds} s; ${size.overflows} overflows, ${size.dumps} dumps, VmRSS ${size.vmRssMiB} MiB, heap retained ${size.heapRetainedMiB} MiB${size.error ? `; ${size.error}` : ''}`,
      );
      res.sizes.push(size);
      fs.rmSync(file, { force: true });
    }
  } finally {
    if (fwd) await fwd.stop();
    spawnSync('ip', ['netns', 'del', ns]);
  }
  return res;
}
