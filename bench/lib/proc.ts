/**
 * Child processes for the bench: spawned with their output captured, stopped by their own PID
 * (SIGINT, then SIGKILL after a grace period), never by name. Every wait is bounded.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Child {
  proc: ChildProcess;
  out: () => string;
  /** Called with every stdout+stderr chunk as it arrives. */
  onData: (fn: (chunk: string) => void) => void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGINT (default), then SIGKILL after graceMs; resolves with the exit status. */
  stop: (sig?: NodeJS.Signals, graceMs?: number) => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function start(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Child {
  const proc = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners: ((c: string) => void)[] = [];
  const take = (d: string) => {
    out += d;
    if (out.length > 4 * 1024 * 1024) out = out.slice(-2 * 1024 * 1024);
    for (const l of listeners) l(d);
  };
  proc.stdout!.setEncoding('utf8');
  proc.stderr!.setEncoding('utf8');
  proc.stdout!.on('data', take);
  proc.stderr!.on('data', take);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    proc.on('error', () => {
      done = true;
      resolve({ code: -1, signal: null });
    });
  });
  return {
    proc,
    out: () => out,
    onData: (fn) => {
      listeners.push(fn);
    },
    exited,
    stop: async (sig = 'SIGINT', graceMs = 15000) => {
      if (!done && proc.pid) proc.kill(sig);
      const t = setTimeout(() => {
        if (!done) proc.kill('SIGKILL');
      }, graceMs);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
}

/** Calls fn with each complete line the child prints (output arrives in arbitrary chunks). */
export function onLines(c: Child, fn: (line: string) => void): void {
  let pending = '';
  c.onData((d) => {
    pending += d;
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      fn(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  });
}

/** Waits until `pred(output)` holds, the child exits (error with its output) or the time is up. */
export async function waitOutput(c: Child, what: string, pred: (out: string) => boolean, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  c.exited.then(() => {
    exited = true;
  });
  while (!pred(c.out())) {
    if (exited) throw new Error(`${what}: process exited early:\n${c.out().slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${timeoutMs} ms:\n${c.out().slice(-3000)}`);
    await sleep(20);
  }
}

/** Runs a command to completion (bounded) and returns stdout, or '' if it failed. */
export function capture(cmd: string, args: string[], timeoutMs = 10000): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  return r.status === 0 ? r.stdout : '';
}

export const nowSec = () => Number(process.hrtime.bigint()) / 1e9;
