/**
 * Runs a real `dpfwd run` in a child process (one EAL per process) on virtual devices, and talks
 * to it through its control socket. Nothing here stubs the dataplane.
 */
import { strict as assert } from 'assert';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as net from 'net';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stringify } from 'yaml';
import { request } from '../../src/api/client';
import type { OpName } from '../../src/api/ops';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const DPFWD = path.join(ROOT, 'bin', 'dpfwd');

export function tmpDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `dpfwd-${tag}-`));
}

export interface Running {
  proc: ChildProcess;
  dir: string;
  socket: string;
  stderr: () => string;
  call: (op: string, args?: Record<string, unknown>) => Promise<any>;
  /** SIGTERM (or another signal) and wait for exit; resolves with the exit code or signal. */
  stop: (sig?: NodeJS.Signals) => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts a forwarder from a config object; resolves when its control socket answers. `nodeArgs`
 * go to node before the script (the scale bench's --trace-gc, --expose-gc, --require), `runArgs`
 * after `dpfwd run --config FILE` (--log-format json). The file is `dir`/dpfwd.yaml.
 */
export async function startForwarder(
  config: Record<string, unknown>,
  opts: { dir?: string; timeoutMs?: number; nodeArgs?: string[]; runArgs?: string[] } = {},
): Promise<Running> {
  const dir = opts.dir ?? tmpDir('fwd');
  const socket = path.join(dir, 'dpfwd.sock');
  const cfg = { metrics: { listen: false }, ...config, control: { socket } };
  const file = path.join(dir, 'dpfwd.yaml');
  fs.writeFileSync(file, stringify(cfg));
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), DPFWD, 'run', '--config', file, ...(opts.runArgs ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (d: string) => {
    err += d;
  });
  proc.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('exit', (code, signal) => resolve({ code, signal }));
  });
  let done = false;
  exited.then(() => {
    done = true;
  });
  const deadline = Date.now() + (opts.timeoutMs ?? 30000);
  while (!err.includes('control socket ')) {
    if (done) throw new Error(`dpfwd exited before it was ready:\n${err}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`dpfwd not ready in time:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    proc,
    dir,
    socket,
    exited,
    stderr: () => err,
    // any op name, known or not (tests send unknown ones too): the typed request, untyped
    call: (op, args = {}) => request(socket, op as OpName, args as never) as Promise<any>,
    stop: async (sig = 'SIGTERM') => {
      if (!done) proc.kill(sig);
      const t = setTimeout(() => proc.kill('SIGKILL'), 20000);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
}

/** Sums raw counters over workers: forwarded and drops per port name, punts per kind. */
export async function totals(fwd: Running) {
  const c = await fwd.call('show.counters');
  const ports: string[] = c.ports;
  const drops: Record<string, Record<string, number>> = {};
  const forwarded: Record<string, number> = {};
  /** per port: DP_PORT_COUNTERS by name (csum_completed, refragmented) */
  const counters: Record<string, Record<string, number>> = {};
  const punted: Record<string, number> = {};
  const puntLimited: Record<string, number> = {};
  let rx = 0;
  ports.forEach((p, i) => {
    drops[p] = {};
    forwarded[p] = 0;
    counters[p] = {};
    c.names.drops.forEach((r: string) => {
      drops[p][r] = 0;
    });
    c.names.port.forEach((k: string) => {
      counters[p][k] = 0;
    });
    for (const w of c.snapshot.workers) {
      forwarded[p] += w.ports[i].forwarded;
      w.ports[i].drops.forEach((n: number, r: number) => {
        drops[p][c.names.drops[r]] += n;
      });
      w.ports[i].counters.forEach((n: number, k: number) => {
        counters[p][c.names.port[k]] += n;
      });
    }
  });
  for (const w of c.snapshot.workers) {
    rx += w.counters.rx_packets;
    w.punts.forEach((p: { punted: number; limited: number }, k: number) => {
      const kind = c.names.punts[k];
      punted[kind] = (punted[kind] ?? 0) + p.punted;
      puntLimited[kind] = (puntLimited[kind] ?? 0) + p.limited;
    });
  }
  return { rx, forwarded, drops, counters, punted, puntLimited, names: c.names };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 10000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Runs the real `dpfwd` CLI against a forwarder's socket (synchronously, as a user would). */
export function dpfwdCli(fwd: Running, args: string[], timeoutMs = 30000) {
  return spawnSync(process.execPath, [DPFWD, '--socket', fwd.socket, ...args], { encoding: 'utf8', timeout: timeoutMs });
}

/** `dpfwd … -j`, asserted to succeed, parsed. */
export function dpfwdJson(fwd: Running, args: string[]): any {
  const r = dpfwdCli(fwd, [...args, '-j']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}
