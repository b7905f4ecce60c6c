/**
 * Control API on a UNIX socket: newline-delimited JSON, one request {id, op, args} → one
 * response {id, ok, result | error: {code, message}}. A bad request never disturbs forwarding,
 * and no client can exhaust the process (see docs/config.md `control` for every limit):
 *   - operations come from a map without a prototype: `constructor`, `__proto__`, `toString` are
 *     unknown operations like any other name;
 *   - a reply that cannot be serialised (a cycle, a function) is an error reply; BigInts are sent
 *     as numbers (or decimal strings when not exactly representable);
 *   - a request line longer than maxRequestBytes, or one that would take the bytes buffered across
 *     all clients past maxBufferedBytes, is refused and the client disconnected;
 *   - backpressure: while a client has more than maxReplyBacklogBytes of replies unread, its
 *     requests are not read (socket paused, resumed when the replies are flushed);
 *   - at most maxClients connections: a new one disconnects the client that has been quiet
 *     longest, so a flood of idle connections can never lock the operator out;
 *   - a request must be complete requestTimeoutMs after its first byte; a connection with no
 *     traffic for idleTimeoutMs is closed.
 * Every refusal is counted by reason (`show control`, dpfwd_control_refused_total) and logged
 * rate-limited (src/metrics/refusals.ts).
 */
import { socketPathProblem } from '../host/socket-path';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { ACTIONS, Conn, Ctx } from './actions';
import { CONFIG_ACTIONS } from './config-actions';
import { DpfwdError } from '../errors';
import type { ControlLimits } from '../config/types';
import { DEFAULTS } from '../config/keys';
import { CONTROL_REFUSALS, ControlRefusal, Logger, Refusals } from '../metrics/refusals';
import { Logger as Logger_, RateLimit, rootLogger } from '../log';
import { peerCred } from '../dataplane';
export { CONTROL_REFUSALS, ControlRefusal };

export const DEFAULT_SOCKET = DEFAULTS.control.socket;

export const CONTROL_LIMITS: ControlLimits = {
  maxClients: DEFAULTS.control.maxClients,
  maxRequestBytes: DEFAULTS.control.maxRequestBytes,
  maxBufferedBytes: DEFAULTS.control.maxBufferedBytes,
  maxReplyBacklogBytes: DEFAULTS.control.maxReplyBacklogBytes,
  requestTimeoutMs: DEFAULTS.control.requestTimeoutMs,
  idleTimeoutMs: DEFAULTS.control.idleTimeoutMs,
};


type Action = (ctx: Ctx, args: Record<string, unknown>, conn?: Conn) => unknown;

/** The operations: own properties of ACTIONS only, in a Map (nothing inherited can be called). */
const OPS: ReadonlyMap<string, Action> = new Map(Object.entries({ ...ACTIONS, ...CONFIG_ACTIONS }));

/** Every operation the server answers (docs/api.md documents each; test/api-doc.test.ts checks). */
export const OPERATIONS: readonly string[] = [...OPS.keys(), 'show.control'];

/** What `show control` prints and metrics export. */
export interface ControlStats {
  clients: number;
  bufferedBytes: number;
  /** clients whose reading is paused because they do not read their replies */
  paused: number;
  refused: Record<ControlRefusal, number>;
  limits: ControlLimits;
}

export interface ControlServer extends net.Server {
  stats(): ControlStats;
  /** New limits (a reload): maxClients and the buffer limits at once, timeouts for new requests and connections. */
  setLimits(l: Partial<ControlLimits>): void;
}

/**
 * Operations that only read: health, show.*, *.show, *.get, *.count, config.diff and capture.read
 * (a running capture's client polls it). Every other operation changes something and is logged
 * with who asked and the result (rate-limited); capture.start/stop are, so a capture is on record.
 */
export function isReadOnly(op: string): boolean {
  return op === 'health' || op === 'config.diff' || op === 'capture.read' || op.startsWith('show.') || /\.(show|get|count)$/.test(op);
}

/** The arguments of a request for a log line: each value cut to 80 characters (route.load carries whole files). */
export function argsForLog(args: unknown): Record<string, unknown> {
  if (!args || typeof args !== 'object' || Array.isArray(args)) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args as Record<string, unknown>).slice(0, 16)) {
    const t = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
    out[k] = t.length > 80 ? `${t.slice(0, 80)}… (${t.length} chars)` : v;
  }
  return out;
}

/**
 * Is something answering on this socket path? 'stale' only when connecting is refused (no
 * listener); a listener too busy to accept within `timeoutMs` counts as live.
 */
function probe(p: string, timeoutMs = 2000): Promise<'live' | 'stale' | string> {
  return new Promise((resolve) => {
    const s = net.connect(p);
    const t = setTimeout(() => { s.destroy(); resolve('live'); }, timeoutMs);
    s.once('connect', () => { clearTimeout(t); s.destroy(); resolve('live'); });
    s.once('error', (e: NodeJS.ErrnoException) => { clearTimeout(t); resolve(e.code === 'ECONNREFUSED' ? 'stale' : e.code ?? e.message); });
  });
}

function fail(code: string, socketPath: string, why: string): DpfwdError {
  return new DpfwdError(code, `control socket ${socketPath}: ${why}; choose another path with control.socket in the config or --socket`);
}

/**
 * Checks the socket path before anything else starts: never deletes anything but a stale socket.
 * Refuses a directory, a regular file (or anything else that is not a socket), a socket that a
 * live process answers on, and a parent directory that cannot be made.
 */
export async function prepareSocketPath(socketPath: string): Promise<void> {
  const problem = socketPathProblem(socketPath);
  if (problem) throw new DpfwdError('EINVAL', `${problem} (control.socket in the config, or --socket)`);
  const dir = path.dirname(socketPath);
  try {
    // an explicit mode: under umask 000 the default would be 0777 (anyone could swap the socket)
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw fail(err.code ?? 'ENOENT', socketPath, `cannot create its directory ${dir} (${err.code ?? err.message})`);
  }
  let st: fs.Stats;
  try {
    st = fs.lstatSync(socketPath);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return;
    throw fail(err.code ?? 'EIO', socketPath, `cannot look at it (${err.code ?? err.message})`);
  }
  if (st.isDirectory()) throw fail('EISDIR', socketPath, 'is a directory; give the path of a socket file (e.g. a name inside that directory)');
  if (!st.isSocket()) {
    const kind = st.isFile() ? 'a regular file' : st.isSymbolicLink() ? 'a symbolic link' : st.isFIFO() ? 'a FIFO' : 'not a socket';
    throw fail('EEXIST', socketPath, `exists and is ${kind}, not a socket; dpfwd deletes only stale sockets, so remove it yourself if it is not needed`);
  }
  const state = await probe(socketPath);
  if (state === 'live' || state === 'EAGAIN') {
    throw new DpfwdError('EADDRINUSE', `another dpfwd answers on ${socketPath}; stop it or give this one --socket <path>`);
  }
  if (state !== 'stale') throw fail(state, socketPath, `is a socket that cannot be probed (${state}); dpfwd deletes only sockets nobody listens on`);
  fs.unlinkSync(socketPath); // stale, from a killed process
}

/** JSON with BigInts as numbers (or decimal strings beyond 2^53); throws on cycles. */
export function serialize(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? (x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x.toString()) : x));
}

/** The wire form of one reply: an error reply when the result cannot be serialised. */
export function replyLine(reply: Reply): string {
  try {
    return serialize(reply) + '\n';
  } catch (e) {
    let id: unknown = null;
    try { id = JSON.parse(serialize(reply.id ?? null)); } catch { /* keep null */ }
    return JSON.stringify({ id, ok: false, error: { code: 'EINTERNAL', message: `the reply cannot be serialised: ${(e as Error).message}` } }) + '\n';
  }
}

interface Client {
  conn: net.Socket;
  /** unprocessed input: the start of a request line (and, while paused, whole lines after it) */
  chunks: Buffer[];
  size: number;
  /** bytes of `chunks` already searched for a newline */
  scanned: number;
  lastActive: number;
  requestTimer: NodeJS.Timeout | null;
  /** replies written (numbered), and whether reading is paused until the last is flushed */
  writes: number;
  paused: boolean;
  closed: boolean;
  /** what ends with this connection (a capture or trace it started) */
  closers: (() => void)[];
  conn2: Conn;
  /** the peer's process (SO_PEERCRED), when the addon can tell */
  peer: { pid: number; uid: number; gid: number } | null;
}

export interface ControlServerOptions {
  /** file mode of the socket (default 0660) */
  mode?: number;
  limits?: Partial<ControlLimits>;
  log?: Logger;
  /** false while the forwarder starts: requests get EAGAIN instead of reaching half-built state */
  ready?: () => boolean;
  /** where requests that change something are logged (who, op, result); default the process logger's `control` */
  changes?: Logger_;
}

/**
 * Checks the path (prepareSocketPath), listens and serves. Bound before the dataplane starts, so
 * that a second instance is refused before it touches a port.
 */
export async function startControlServer(ctx: Ctx, socketPath: string, opts: ControlServerOptions = {}): Promise<ControlServer> {
  const lim: ControlLimits = { ...CONTROL_LIMITS, ...opts.limits };
  const mode = opts.mode ?? DEFAULTS.control.mode;
  const log = opts.log ?? rootLogger.child('control').fn('warn');
  const changes = new RateLimit(opts.changes ?? rootLogger.child('control'));
  const ready = opts.ready ?? (() => true);
  await prepareSocketPath(socketPath);
  const clients = new Set<Client>();
  let buffered = 0;
  const refusals = new Refusals<ControlRefusal>(`control socket ${socketPath}`, CONTROL_REFUSALS, log);

  /** Counts, logs (rate-limited) and disconnects; the reply line is a courtesy and may be lost. */
  const drop = (c: Client, reason: ControlRefusal, detail: string, reply?: object, now = false) => {
    if (c.closed) return;
    refusals.note(reason, detail);
    release(c);
    if (reply) c.conn.write(JSON.stringify(reply) + '\n'); // a short write reaches the kernel at once
    if (now) {
      c.conn.destroy();
      return;
    }
    c.conn.destroySoon();
    // a client that does not read would hold its socket open: the courtesy reply gets 1 s
    setTimeout(() => c.conn.destroy(), 1000).unref();
  };

  const release = (c: Client) => {
    if (c.closed) return;
    c.closed = true;
    clients.delete(c);
    buffered -= c.size;
    c.chunks = [];
    c.size = 0;
    if (c.requestTimer) clearTimeout(c.requestTimer);
    c.requestTimer = null;
    const closers = c.closers;
    c.closers = [];
    for (const f of closers) {
      try { f(); } catch (e) { log(`ending a session of a closed connection: ${(e as Error).message}`); }
    }
  };

  /** Handles every complete line in the client's input, stopping while its replies back up. */
  const pump = (c: Client) => {
    while (!c.closed && !c.paused) {
      // find the next newline in what is not yet scanned (0x0a never occurs inside a UTF-8 sequence)
      let at = -1;
      let pos = 0;
      let k = 0;
      for (; k < c.chunks.length; k++) {
        const ch = c.chunks[k];
        if (pos + ch.length > c.scanned) {
          const from = Math.max(0, c.scanned - pos);
          const i = ch.indexOf(10, from);
          if (i >= 0) { at = pos + i; break; }
        }
        pos += ch.length;
      }
      if (at < 0) {
        c.scanned = c.size;
        break;
      }
      const all = c.chunks.length === 1 ? c.chunks[0] : Buffer.concat(c.chunks, c.size);
      const line = all.subarray(0, at);
      const rest = all.subarray(at + 1);
      buffered -= at + 1;
      c.chunks = rest.length ? [rest] : [];
      c.size = rest.length;
      c.scanned = 0;
      if (c.requestTimer) clearTimeout(c.requestTimer);
      c.requestTimer = null;
      if (line.length > lim.maxRequestBytes) {
        drop(c, 'request_too_large', `a request of ${line.length} bytes is over control.maxRequestBytes (${lim.maxRequestBytes})`,
          { id: null, ok: false, error: { code: 'E2BIG', message: `request of ${line.length} bytes is over control.maxRequestBytes (${lim.maxRequestBytes})` } });
        return;
      }
      const reply = ready() ? handle(ctx, line.toString('utf8'), (op, args, r) => logChange(c, op, args, r), c.conn2)
        : { id: null, ok: false, error: { code: 'EAGAIN', message: 'dpfwd is starting; try again in a moment' } };
      const out = replyLine(reply);
      // the callback of a write runs once it is handed to the kernel, after every earlier one:
      // when the last write's runs, the client has read (or the kernel holds) all its replies
      const seq = ++c.writes;
      c.conn.write(out, () => {
        if (c.paused && seq === c.writes && !c.closed) {
          c.paused = false;
          c.lastActive = Date.now();
          c.conn.resume();
          pump(c);
        }
      });
      if (c.conn.writableLength > lim.maxReplyBacklogBytes) {
        // the client is not reading its replies: read nothing more from it until they are flushed
        c.paused = true;
        c.conn.pause();
      }
    }
    if (c.closed) return;
    if (c.size > lim.maxRequestBytes && !c.paused) {
      drop(c, 'request_too_large', `a request longer than control.maxRequestBytes (${lim.maxRequestBytes} bytes)`,
        { id: null, ok: false, error: { code: 'E2BIG', message: `request longer than control.maxRequestBytes (${lim.maxRequestBytes} bytes); raise it in the config` } });
      return;
    }
    if (c.size > 0 && !c.requestTimer && !c.paused) {
      c.requestTimer = setTimeout(() => {
        drop(c, 'request_timeout', `a request not complete within control.requestTimeoutMs (${lim.requestTimeoutMs} ms)`,
          { id: null, ok: false, error: { code: 'ETIMEDOUT', message: `request not complete within control.requestTimeoutMs (${lim.requestTimeoutMs} ms)` } });
      }, lim.requestTimeoutMs);
      c.requestTimer.unref();
    }
  };

  /** One line per change: who (uid/pid), what (op and its arguments, cut short), result. */
  const logChange = (c: Client, op: string, args: unknown, r: Reply) => {
    if (isReadOnly(op)) return;
    // built only when the rate limit lets the line through: a churn of updates costs no text
    changes.line('control', r.ok ? 'info' : 'warn', () => {
      const who = c.peer ? `uid ${c.peer.uid} pid ${c.peer.pid}` : 'unknown peer';
      const words = Object.entries(argsForLog(args)).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
      const result = r.ok ? 'ok' : `${r.error?.code}: ${r.error?.message.split('\n')[0]}`;
      return `${op}${words ? ` ${words}` : ''} by ${who}: ${result}`;
    }, () => ({ op, args: argsForLog(args), ok: r.ok, ...(c.peer ?? {}), ...(r.ok ? {} : { code: r.error?.code }) }));
  };

  const server = net.createServer((conn) => {
    const fd = (conn as unknown as { _handle?: { fd?: number } })._handle?.fd;
    const peer = typeof fd === 'number' && fd >= 0 ? peerCred(fd) : null;
    const c: Client = {
      conn, chunks: [], size: 0, scanned: 0, lastActive: Date.now(), requestTimer: null, writes: 0, paused: false, closed: false, peer,
      closers: [], conn2: { peer, onClose: (f) => { if (c.closed) f(); else c.closers.push(f); } },
    };
    if (clients.size >= lim.maxClients) {
      // make room: the client quiet longest goes (a flood of idle connections cannot lock anyone out)
      let victim: Client | undefined;
      for (const x of clients) if (!victim || x.lastActive < victim.lastActive) victim = x;
      if (victim) {
        drop(victim, 'too_many_clients', `${clients.size} clients is control.maxClients; disconnected the one quiet longest`,
          { id: null, ok: false, error: { code: 'EBUSY', message: `disconnected: control.maxClients (${lim.maxClients}) reached and this connection was the one quiet longest` } }, true);
      }
    }
    clients.add(c);
    conn.on('error', () => { release(c); conn.destroy(); });
    conn.on('close', () => release(c));
    conn.setTimeout(lim.idleTimeoutMs, () => {
      drop(c, 'idle_timeout', `a connection idle for control.idleTimeoutMs (${lim.idleTimeoutMs} ms)`);
    });
    conn.on('data', (chunk: Buffer) => {
      if (c.closed) return;
      c.lastActive = Date.now();
      if (buffered + chunk.length > lim.maxBufferedBytes) {
        drop(c, 'buffers_full', `request bytes buffered across clients would pass control.maxBufferedBytes (${lim.maxBufferedBytes})`,
          { id: null, ok: false, error: { code: 'ENOBUFS', message: `the control socket buffers ${buffered} request bytes across clients; control.maxBufferedBytes (${lim.maxBufferedBytes}) reached, try again` } });
        return;
      }
      c.chunks.push(chunk);
      c.size += chunk.length;
      buffered += chunk.length;
      pump(c);
    });
  }) as ControlServer;
  server.maxConnections = lim.maxClients * 4; // a backstop only: new clients evict old ones first

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'EADDRINUSE' ? new DpfwdError('EADDRINUSE', `another dpfwd answers on ${socketPath}; stop it or give this one --socket <path>`)
        : fail(e.code ?? 'ELISTEN', socketPath, `cannot listen (${e.code ?? e.message})`));
    });
    server.listen(socketPath, () => resolve());
  });
  try {
    fs.chmodSync(socketPath, mode);
  } catch (e) {
    server.close();
    throw fail((e as NodeJS.ErrnoException).code ?? 'EPERM', socketPath, `cannot set its mode (${(e as Error).message})`);
  }
  server.on('close', () => {
    refusals.close();
    changes.close();
  });
  server.setLimits = (l) => {
    Object.assign(lim, l);
    server.maxConnections = lim.maxClients * 4;
  };
  server.stats = () => {
    let paused = 0;
    for (const c of clients) if (c.paused) paused++;
    return { clients: clients.size, bufferedBytes: buffered, paused, refused: { ...refusals.counts }, limits: lim };
  };
  // the server answers about itself: `show control`
  serverStats.set(ctx, server.stats);
  return server;
}

/** The stats of the control server that serves `ctx` (one per forwarder). */
const serverStats = new WeakMap<Ctx, () => ControlStats>();

export function controlStats(ctx: Ctx): ControlStats | undefined {
  return serverStats.get(ctx)?.();
}

function showControl(ctx: Ctx): ControlStats | { error: string } {
  return controlStats(ctx) ?? { error: 'no control server' };
}

/** At most 100 characters of what a client sent, for an error message. */
function shorten(s: string): string {
  return s.length > 100 ? `${s.slice(0, 100)}…` : s;
}

export interface Reply {
  id: unknown;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
}

export function handle(ctx: Ctx, line: string, done?: (op: string, args: unknown, reply: Reply) => void, conn?: Conn): Reply {
  const r = handle1(ctx, line, conn);
  if (done && r.op !== undefined) done(r.op, r.args, r.reply);
  return r.reply;
}

function handle1(ctx: Ctx, line: string, conn?: Conn): { op?: string; args?: unknown; reply: Reply } {
  const reply = (x: Reply, op?: string, args?: unknown) => ({ op, args, reply: x });
  let req: { id?: unknown; op?: unknown; args?: unknown };
  try {
    req = JSON.parse(line);
  } catch {
    return reply({ id: null, ok: false, error: { code: 'EPROTO', message: 'request is not JSON' } });
  }
  const id = req?.id ?? null;
  const op = typeof req?.op === 'string' ? req.op : '';
  const fn: Action | undefined = op === 'show.control' ? showControl : OPS.get(op);
  if (!fn) return reply({ id, ok: false, error: { code: 'ENOSYS', message: `unknown operation ${shorten(JSON.stringify(req?.op) ?? 'undefined')}; known: ${OPERATIONS.join(', ')}` } });
  const args = req.args && typeof req.args === 'object' && !Array.isArray(req.args) ? (req.args as Record<string, unknown>) : {};
  try {
    return reply({ id, ok: true, result: fn(ctx, args, conn) }, op, args);
  } catch (e) {
    const code = (e as DpfwdError)?.code ?? 'EINTERNAL';
    return reply({ id, ok: false, error: { code: typeof code === 'string' ? code : 'EINTERNAL', message: (e as Error)?.message ?? String(e) } }, op, args);
  }
}
