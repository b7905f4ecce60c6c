/** Client of the control socket: one request, one response, with a timeout. */
import { socketPathProblem } from '../host/socket-path';
import * as fs from 'fs';
import * as net from 'net';
import { DpfwdError } from '../errors';
import type { OpArgs, OpName, OpResult } from './ops';

/** What is at the socket path, when connecting failed: the hint for the error message. */
function whatIsThere(socketPath: string, code: string | undefined, message: string): string {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(socketPath);
  } catch {
    /* nothing there, or not reachable */
  }
  if (st?.isDirectory()) return "that is a directory, not a socket (give the socket's path, e.g. /run/dpfwd/dpfwd.sock)";
  if (st && !st.isSocket()) return `that is ${st.isFile() ? 'a regular file' : 'not a socket'}, not dpfwd's control socket (is --socket right?)`;
  switch (code) {
    case 'ENOENT':
      return 'no such socket (is dpfwd running? is --socket right?)';
    case 'ENOTDIR':
      return 'a component of the path is not a directory (is --socket right?)';
    case 'ECONNREFUSED':
      return 'connection refused (dpfwd is not running; a stale socket file is left)';
    case 'EACCES':
      return "permission denied (run as root or join the socket's group)";
    case 'EAGAIN':
      return 'dpfwd is too busy to accept a connection; try again';
    default:
      return message;
  }
}

/**
 * Not processed: dropped to make room (control.maxClients), closed before it was read, or not
 * accepted at all (listen backlog full). Safe to send again.
 */
const RETRY = new Set(['EEVICTED', 'ECONNRESET', 'EPIPE', 'EAGAIN']);

/**
 * One request, one answer. Under a flood of connections the server may drop this one to make room
 * before reading it (it answers nothing, or EBUSY with id null): then it is sent again, at most
 * three times in all (such a request was never processed, so this is safe for every operation).
 */
export async function request<K extends OpName>(socketPath: string, op: K, args?: OpArgs<K>, timeoutMs = 10000): Promise<OpResult<K>> {
  const a = (args ?? {}) as Record<string, unknown>;
  if (session && session.path === socketPath) return (await session.call(op, a, timeoutMs)) as OpResult<K>;
  for (let attempt = 1; ; attempt++) {
    try {
      return (await requestOnce(socketPath, op, a, timeoutMs)) as OpResult<K>;
    } catch (e) {
      const code = (e as DpfwdError).code;
      if (!RETRY.has(code) || attempt >= 3) {
        if (code === 'EEVICTED') throw new DpfwdError('EBUSY', (e as Error).message);
        throw e;
      }
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}

function requestOnce(socketPath: string, op: string, args: Record<string, unknown>, timeoutMs: number): Promise<unknown> {
  const problem = socketPathProblem(socketPath);
  if (problem) return Promise.reject(new DpfwdError('EINVAL', problem));
  return new Promise((resolve, reject) => {
    const s = net.connect(socketPath);
    let buf = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new DpfwdError('ETIMEDOUT', `cannot reach dpfwd at ${socketPath}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    s.setEncoding('utf8');
    let connected = false;
    s.on('connect', () => {
      connected = true;
      s.write(JSON.stringify({ id: 1, op, args }) + '\n');
    });
    let answered = false;
    s.on('close', () => {
      if (answered) return;
      clearTimeout(timer);
      reject(new DpfwdError('ECONNRESET', `dpfwd at ${socketPath} closed the connection without answering`));
    });
    s.on('data', (d: string) => {
      // the reply ends with the first newline: searched for in the new chunk only (a page of a
      // million-route `route show -j` comes in many chunks; rescanning all of them was quadratic)
      const at = d.indexOf('\n');
      const nl = at < 0 ? -1 : buf.length + at;
      buf += d;
      if (nl < 0) return;
      answered = true;
      clearTimeout(timer);
      s.end();
      let res: { id?: unknown; ok: boolean; result?: unknown; error?: { code: string; message: string } };
      try {
        res = JSON.parse(buf.slice(0, nl));
      } catch {
        reject(new DpfwdError('EPROTO', `dpfwd at ${socketPath} sent a malformed answer`));
        return;
      }
      if (res.ok) resolve(res.result);
      else if (res.id === null && res.error?.code === 'EBUSY') reject(new DpfwdError('EEVICTED', `dpfwd at ${socketPath}: ${res.error.message}`));
      else reject(new DpfwdError(res.error?.code ?? 'EREMOTE', res.error?.message ?? 'request failed'));
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      if (connected && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) {
        reject(new DpfwdError(e.code, `dpfwd at ${socketPath} closed the connection without answering`));
        return;
      }
      const hint = whatIsThere(socketPath, e.code, e.message);
      reject(new DpfwdError(e.code ?? 'ECONN', `cannot reach dpfwd at ${socketPath}: ${hint}`));
    });
  });
}

/**
/**
 * One connection for many requests, one at a time. `dpfwd -b FILE` runs its lines in one
 * (withSession: request() to its path sends on it instead of connecting for each); capture and
 * trace hold one open (Session.open) because the forwarder ends what a connection started when
 * it closes, so a CLI that dies takes its capture with it.
 */
export class Session {
  private sock: net.Socket | null = null;
  private buf = '';
  private nextId = 1;
  private waiting: { id: number; resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | null = null;
  private closedWith: DpfwdError | null = null;

  constructor(readonly path: string) {}

  private connect(): Promise<net.Socket> {
    if (this.sock) return Promise.resolve(this.sock);
    return new Promise((resolve, reject) => {
      const s = net.connect(this.path);
      s.setEncoding('utf8');
      s.once('connect', () => {
        if (this.closedWith) {
          s.destroy(); // closed (open() timed out) while connecting
          return;
        }
        this.sock = s;
        resolve(s);
      });
      s.on('error', (e: NodeJS.ErrnoException) => {
        if (!this.sock) {
          reject(new DpfwdError(e.code ?? 'ECONN', `cannot reach dpfwd at ${this.path}: ${whatIsThere(this.path, e.code, e.message)}`));
          return;
        }
        this.fail(new DpfwdError(e.code ?? 'ECONNRESET', `dpfwd at ${this.path}: ${e.message}`));
      });
      s.on('close', () => this.fail(new DpfwdError('ECONNRESET', `dpfwd at ${this.path} closed the connection`)));
      s.on('data', (d: string) => this.data(d));
    });
  }

  private fail(e: DpfwdError): void {
    this.closedWith = e;
    const w = this.waiting;
    this.waiting = null;
    if (w) {
      clearTimeout(w.timer);
      w.reject(e);
    }
  }

  private data(d: string): void {
    // searched from where the last search ended, not from the start (a big reply comes in many chunks)
    const from = this.buf.length;
    this.buf += d;
    let nl = this.buf.indexOf('\n', from);
    for (; nl >= 0; nl = this.buf.indexOf('\n')) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      const w = this.waiting;
      let res: { id?: unknown; ok: boolean; result?: unknown; error?: { code: string; message: string } };
      try {
        res = JSON.parse(line);
      } catch {
        this.fail(new DpfwdError('EPROTO', `dpfwd at ${this.path} sent a malformed answer`));
        return;
      }
      if (!w || res.id !== w.id) {
        // evicted to make room (id null), or a reply nobody asked for: the connection is unusable
        this.fail(new DpfwdError(res.error?.code ?? 'EPROTO', `dpfwd at ${this.path}: ${res.error?.message ?? 'an answer out of order'}`));
        return;
      }
      this.waiting = null;
      clearTimeout(w.timer);
      if (res.ok) w.resolve(res.result);
      else w.reject(new DpfwdError(res.error?.code ?? 'EREMOTE', res.error?.message ?? 'request failed'));
    }
  }

  /** A session connected now (capture, trace), or an error naming what is at the path. */
  static async open(socketPath: string, timeoutMs = 10000): Promise<Session> {
    const problem = socketPathProblem(socketPath);
    if (problem) throw new DpfwdError('EINVAL', problem);
    const s = new Session(socketPath);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        s.connect(),
        new Promise((_r, reject) => {
          timer = setTimeout(() => reject(new DpfwdError('ETIMEDOUT', `cannot reach dpfwd at ${socketPath}: no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (e) {
      s.close();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return s;
  }

  /** One request at a time on this connection (a timed-out one leaves it unusable: a late answer would be out of order). */
  async request<K extends OpName>(op: K, args?: OpArgs<K>, timeoutMs = 10000): Promise<OpResult<K>> {
    return (await this.call(op, (args ?? {}) as Record<string, unknown>, timeoutMs)) as OpResult<K>;
  }

  async call(op: string, args: Record<string, unknown>, timeoutMs: number): Promise<unknown> {
    if (this.closedWith) throw this.closedWith;
    if (this.waiting) throw new DpfwdError('EBUSY', 'a request is already waiting on this session');
    const s = await this.connect();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new DpfwdError('ETIMEDOUT', `cannot reach dpfwd at ${this.path}: no answer within ${timeoutMs} ms`));
        s.destroy();
      }, timeoutMs);
      this.waiting = { id, resolve, reject, timer };
      s.write(JSON.stringify({ id, op, args }) + '\n');
    });
  }

  close(): void {
    if (this.sock) this.sock.end();
    else this.closedWith ??= new DpfwdError('ECONNRESET', `session to ${this.path} closed`);
  }
}

let session: Session | null = null;

/** Runs `fn` with every request() to `socketPath` sent over one connection. */
export async function withSession<T>(socketPath: string, fn: () => Promise<T>): Promise<T> {
  session = new Session(socketPath);
  try {
    return await fn();
  } finally {
    session.close();
    session = null;
  }
}
