/** Client of the control socket: one request, one response, with a timeout. */
import * as fs from 'fs';
import * as net from 'net';
import { DpfwdError } from '../errors';

/** What is at the socket path, when connecting failed: the hint for the error message. */
function whatIsThere(socketPath: string, code: string | undefined, message: string): string {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(socketPath);
  } catch { /* nothing there, or not reachable */ }
  if (st?.isDirectory()) return 'that is a directory, not a socket (give the socket\'s path, e.g. /run/dpfwd/dpfwd.sock)';
  if (st && !st.isSocket()) return `that is ${st.isFile() ? 'a regular file' : 'not a socket'}, not dpfwd's control socket (is --socket right?)`;
  switch (code) {
    case 'ENOENT': return 'no such socket (is dpfwd running? is --socket right?)';
    case 'ENOTDIR': return 'a component of the path is not a directory (is --socket right?)';
    case 'ECONNREFUSED': return 'connection refused (dpfwd is not running; a stale socket file is left)';
    case 'EACCES': return 'permission denied (run as root or join the socket\'s group)';
    case 'EAGAIN': return 'dpfwd is too busy to accept a connection; try again';
    default: return message;
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
export async function request(socketPath: string, op: string, args: Record<string, unknown> = {}, timeoutMs = 10000): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await requestOnce(socketPath, op, args, timeoutMs);
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
      buf += d;
      const nl = buf.indexOf('\n');
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
 * One connection for a sequence of requests (capture, trace): the forwarder ends what the
 * session started when this connection closes, so a CLI that dies takes its capture with it.
 */
export class Session {
  private buf = '';
  private waiting: { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | null = null;
  private closedWith: Error | null = null;
  private seq = 0;

  private constructor(private readonly s: net.Socket, private readonly socketPath: string) {
    s.setEncoding('utf8');
    s.on('data', (d: string) => this.onData(d));
    s.on('error', (e: NodeJS.ErrnoException) => this.fail(new DpfwdError(e.code ?? 'ECONN', `dpfwd at ${socketPath}: ${e.message}`)));
    s.on('close', () => this.fail(new DpfwdError('ECONNRESET', `dpfwd at ${socketPath} closed the connection`)));
  }

  static open(socketPath: string, timeoutMs = 10000): Promise<Session> {
    return new Promise((resolve, reject) => {
      const s = net.connect(socketPath);
      const timer = setTimeout(() => { s.destroy(); reject(new DpfwdError('ETIMEDOUT', `cannot reach dpfwd at ${socketPath}: no answer within ${timeoutMs} ms`)); }, timeoutMs);
      s.once('connect', () => { clearTimeout(timer); s.removeAllListeners('error'); resolve(new Session(s, socketPath)); });
      s.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new DpfwdError(e.code ?? 'ECONN', `cannot reach dpfwd at ${socketPath}: ${whatIsThere(socketPath, e.code, e.message)}`));
      });
    });
  }

  private fail(e: Error): void {
    this.closedWith ??= e;
    const w = this.waiting;
    this.waiting = null;
    if (w) { clearTimeout(w.timer); w.reject(e); }
  }

  private onData(d: string): void {
    this.buf += d;
    for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      const w = this.waiting;
      this.waiting = null;
      if (!w) continue;
      clearTimeout(w.timer);
      let res: { ok: boolean; result?: unknown; error?: { code: string; message: string } };
      try {
        res = JSON.parse(line);
      } catch {
        w.reject(new DpfwdError('EPROTO', `dpfwd at ${this.socketPath} sent a malformed answer`));
        continue;
      }
      if (res.ok) w.resolve(res.result);
      else w.reject(new DpfwdError(res.error?.code ?? 'EREMOTE', res.error?.message ?? 'request failed'));
    }
  }

  /** One request at a time on this connection. */
  request(op: string, args: Record<string, unknown> = {}, timeoutMs = 10000): Promise<unknown> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (this.waiting) return Promise.reject(new DpfwdError('EBUSY', 'a request is already waiting on this session'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        reject(new DpfwdError('ETIMEDOUT', `dpfwd at ${this.socketPath}: no answer to ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = { resolve, reject, timer };
      this.s.write(JSON.stringify({ id: ++this.seq, op, args }) + '\n');
    });
  }

  close(): void {
    this.s.end();
  }
}
