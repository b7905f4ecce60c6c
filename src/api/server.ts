/**
 * Control API on a UNIX socket: newline-delimited JSON, one request {id, op, args} → one
 * response {id, ok, result | error: {code, message}}. A bad request never disturbs forwarding,
 * and no client can exhaust the process (see docs/config.md `control` for every limit):
 *   - operations come from a map without a prototype: `constructor`, `__proto__`, `toString` are
 *     unknown operations like any other name;
 *   - a reply that cannot be serialised (a cycle, a function) is an error reply; BigInts are sent
 *     as numbers (or decimal strings when not exactly representable);
 *   - a request line longer than maxRequestBytes is refused and the client disconnected; when a
 *     client's bytes would take those buffered across all clients past maxBufferedBytes, the client
 *     holding the most unfinished bytes (more than this one would) is disconnected to make room,
 *     else this one is refused: a few clients sitting on long partial lines cannot lock anyone out;
 *   - the event loop is the router's ARP, ICMP and /healthz, so no client holds it: a request's
 *     shape is measured on its bytes before it is parsed (request.ts: depth, values, id), lines
 *     longer than INLINE_PARSE_BYTES are parsed in a worker thread (parse-worker.ts), and requests
 *     are handled in slices of SLICE_MS, round-robin across clients, yielding to the loop between;
 *   - replies never echo unbounded input: the id is bounded, an unknown op is cut short, an error
 *     message is at most MAX_MESSAGE_CHARS;
 *   - backpressure: while a client has more than maxReplyBacklogBytes of replies unread, its
 *     requests are not read (socket paused, resumed when the replies are flushed); nor while
 *     READ_AHEAD_BYTES of its input wait with a whole request in them (reading ahead of the
 *     handling only filled memory, and one poll phase reading all of it held the loop);
 *   - at most maxClients connections: a new one disconnects the client that has been quiet
 *     longest, so a flood of idle connections can never lock the operator out; a client of
 *     another user never disconnects root's (SO_PEERCRED), so root always gets in;
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
import { OP_NAMES, type ControlStats, type Handler, type OpName, type ConfigOp, type RouterOp } from './ops';
export type { ControlStats };
import { DpfwdError } from '../errors';
import type { ControlLimits } from '../config/types';
import { DEFAULTS } from '../config/keys';
import { CONTROL_REFUSALS, ControlRefusal, Logger, Refusals } from '../metrics/refusals';
import { Logger as Logger_, RateLimit, rootLogger } from '../log';
import { peerCred } from '../dataplane';
import { ParsedRequest, parseRequest, ParseResult } from './request';
import { ParseWorker } from './parse-worker';
export { CONTROL_REFUSALS, ControlRefusal };

/** Lines up to this long are parsed on the main thread (well under a millisecond); longer ones in the parse worker. */
export const INLINE_PARSE_BYTES = 65536;
/** The server handles requests for at most this long per event-loop turn, then yields (timers, punts, /healthz). */
export const SLICE_MS = 10;
/**
 * A client's input is not read further while this much of it waits with a complete request in it
 * (resumed when it is handled): reading ahead of the handling gains nothing, and reading all that
 * 60 pipelining clients send in one poll phase (megabytes of fresh buffers) held the loop 100+ ms.
 * A long request line is read whole as before (no complete request in it yet).
 */
export const READ_AHEAD_BYTES = 65536;
/** Longest error message in a reply (a message may quote what the client sent). */
export const MAX_MESSAGE_CHARS = 4096;

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

/** Every op of src/api/ops.ts but the server's own (show.control): a missing one does not compile. */
// each table against src/api/ops.ts (here, not in the tables' modules: ops.ts names their
// functions' replies, so the tables importing ops.ts would make a cycle)
const ROUTER_TABLE: { [K in RouterOp]: Handler<K, Ctx, Conn> } = ACTIONS;
const CONFIG_TABLE: { [K in ConfigOp]: Handler<K, Ctx, Conn> } = CONFIG_ACTIONS;
// and no op the declarations lack (an assignment checks the missing ones only)
const NO_EXTRA_OP: [Exclude<keyof typeof ACTIONS, RouterOp> | Exclude<keyof typeof CONFIG_ACTIONS, ConfigOp>] extends [never] ? true : false = true;
void NO_EXTRA_OP;
const TABLE: { [K in Exclude<OpName, 'show.control'>]: Action } = { ...ROUTER_TABLE, ...CONFIG_TABLE };

/** The operations: own properties of the table only, in a Map (nothing inherited can be called). */
const OPS: ReadonlyMap<string, Action> = new Map(Object.entries(TABLE));

/** Every operation the server answers: src/api/ops.ts's (docs/api.md documents each; test/api-doc.test.ts checks). */
export const OPERATIONS: readonly string[] = OP_NAMES;

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

/**
 * JSON text of `v` cut after about `max` characters, built only that far: bounded in depth and
 * length whatever it is given (a value nested 100,000 deep, a 60 MiB string).
 */
export function preview(v: unknown, max: number): { text: string; complete: boolean } {
  let out = '';
  let cut = false;
  const walk = (x: unknown, depth: number): void => {
    if (out.length > max) return;
    if (typeof x === 'string') {
      out += JSON.stringify(x.length > max ? x.slice(0, max + 1) : x);
    } else if (typeof x === 'bigint') {
      out += x.toString();
    } else if (x === null || typeof x !== 'object') {
      out += JSON.stringify(x) ?? String(x);
    } else if (depth >= 8) {
      out += Array.isArray(x) ? '[…]' : '{…}';
      cut = true;
    } else if (Array.isArray(x)) {
      out += '[';
      for (let i = 0; i < x.length && out.length <= max; i++) {
        if (i) out += ',';
        walk(x[i], depth + 1);
      }
      out += ']';
    } else {
      out += '{';
      let first = true;
      for (const k in x) {
        if (out.length > max) break;
        if (!Object.prototype.hasOwnProperty.call(x, k)) continue;
        out += `${first ? '' : ','}${JSON.stringify(k.length > max ? k.slice(0, max + 1) : k)}:`;
        first = false;
        walk((x as Record<string, unknown>)[k], depth + 1);
      }
      out += '}';
    }
  };
  walk(v, 0);
  return { text: out, complete: !cut && out.length <= max };
}

/** The arguments of a request for a log line: at most 16, each value cut to 80 characters (route.load carries whole files). */
export function argsForLog(args: unknown): Record<string, unknown> {
  if (!args || typeof args !== 'object' || Array.isArray(args)) return {};
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const k in args) {
    if (!Object.prototype.hasOwnProperty.call(args, k)) continue;
    if (n++ >= 16) break;
    const v = (args as Record<string, unknown>)[k];
    const key = k.length > 80 ? `${k.slice(0, 80)}…` : k;
    if (typeof v === 'string') {
      out[key] = v.length > 80 ? `${v.slice(0, 80)}… (${v.length} chars)` : v;
    } else {
      const p = preview(v, 80);
      out[key] = p.complete ? v : `${p.text.slice(0, 80)}… (cut)`;
    }
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
    const t = setTimeout(() => {
      s.destroy();
      resolve('live');
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve('live');
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(t);
      resolve(e.code === 'ECONNREFUSED' ? 'stale' : (e.code ?? e.message));
    });
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
  return JSON.stringify(v, (_k, x) =>
    typeof x === 'bigint' ? (x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x.toString()) : x,
  );
}

/** The wire form of one reply: an error reply when the result cannot be serialised. */
export function replyLine(reply: Reply): string {
  if (reply.error && reply.error.message.length > MAX_MESSAGE_CHARS) {
    reply = { ...reply, error: { ...reply.error, message: `${reply.error.message.slice(0, MAX_MESSAGE_CHARS)}… (cut)` } };
  }
  try {
    return serialize(reply) + '\n';
  } catch (e) {
    let id: unknown = null;
    try {
      id = JSON.parse(serialize(reply.id ?? null));
    } catch {
      /* keep null */
    }
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
  /** writes made (numbered: the last one's callback resumes a paused client) */
  writes: number;
  /** replies waiting for the socket to drain (one write when it does), their length, and whether a 'drain' is awaited */
  queue: string[];
  queued: number;
  draining: boolean;
  /** reading is paused until the client has taken its replies */
  paused: boolean;
  /** reading is paused because READ_AHEAD_BYTES of input with a whole request in it wait already */
  readAhead: boolean;
  /** bytes of a long line the parse worker holds: nothing else of this client is handled until it is answered */
  parsing: number;
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
  const parser = new ParseWorker();

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
    runnable.delete(c);
    buffered -= c.size + c.parsing;
    c.chunks = [];
    c.size = 0;
    c.parsing = 0;
    c.queue = [];
    c.queued = 0;
    if (c.requestTimer) clearTimeout(c.requestTimer);
    c.requestTimer = null;
    const closers = c.closers;
    c.closers = [];
    for (const f of closers) {
      try {
        f();
      } catch (e) {
        log(`ending a session of a closed connection: ${(e as Error).message}`);
      }
    }
  };

  /** Where the next newline is in the client's input (-1: none yet); 0x0a never occurs inside a UTF-8 sequence. */
  const nextNewline = (c: Client): number => {
    let pos = 0;
    for (let k = 0; k < c.chunks.length; k++) {
      const ch = c.chunks[k];
      if (pos + ch.length > c.scanned) {
        const i = ch.indexOf(10, Math.max(0, c.scanned - pos));
        if (i >= 0) return pos + i;
      }
      pos += ch.length;
    }
    c.scanned = c.size;
    return -1;
  };

  /**
   * Takes the line ending at `at` out of the client's input. A short line comes back whole; a long
   * one as the chunks it arrived in (the last one's first `length` bytes), never concatenated here:
   * touching 60 MiB of fresh memory costs this machine's main thread most of a second, so the
   * parse worker joins them. What follows the line is copied out first (the chunks move there).
   */
  const takeLine = (c: Client, at: number): { line: Buffer } | { parts: { buf: Buffer; length: number }[] } => {
    buffered -= at + 1;
    c.scanned = 0;
    if (c.requestTimer) clearTimeout(c.requestTimer);
    c.requestTimer = null;
    if (at <= INLINE_PARSE_BYTES) {
      // only the chunks the line spans are joined (at most the line's bytes are copied); what
      // follows stays where it arrived: joining all that waits, after every read, copied
      // megabytes per line when a client pipelines
      let k = 0;
      let pos = 0;
      while (pos + c.chunks[k].length <= at) pos += c.chunks[k++].length;
      const first = c.chunks[0];
      const line = k === 0 ? first.subarray(0, at) : Buffer.concat(c.chunks.slice(0, k + 1), at);
      const rest = c.chunks[k].subarray(at - pos + 1);
      if (rest.length) c.chunks[k] = rest;
      c.chunks.splice(0, rest.length ? k : k + 1);
      c.size -= at + 1;
      return { line };
    }
    const parts: { buf: Buffer; length: number }[] = [];
    let pos = 0;
    let k = 0;
    for (; pos + c.chunks[k].length <= at; k++) {
      parts.push({ buf: c.chunks[k], length: c.chunks[k].length });
      pos += c.chunks[k].length;
    }
    const last = c.chunks[k];
    if (at > pos) parts.push({ buf: last, length: at - pos });
    const tail = last.subarray(at - pos + 1);
    const rest = tail.length ? [Buffer.allocUnsafeSlow(tail.length), ...c.chunks.slice(k + 1)] : c.chunks.slice(k + 1);
    if (tail.length) tail.copy(rest[0]);
    c.chunks = rest;
    c.size -= at + 1;
    return { parts };
  };

  /**
   * Writes one reply. While the socket does not take what it has (the client is not reading),
   * replies queue here and go in one write at its next 'drain': the socket's own buffer holds a
   * few writes, not thousands, so closing a connection that never read costs nothing. Past
   * maxReplyBacklogBytes unread, the client's requests are not read until its replies are taken.
   */
  const answer = (c: Client, reply: Reply) => {
    if (c.closed) return;
    const out = replyLine(reply);
    if (c.queue.length || c.conn.writableNeedDrain) {
      c.queue.push(out);
      c.queued += out.length;
    } else {
      send(c, out);
    }
    if (!c.paused && c.conn.writableLength + c.queued > lim.maxReplyBacklogBytes) {
      c.paused = true;
      c.conn.pause();
    }
    if (!c.draining && c.queue.length) {
      c.draining = true;
      c.conn.once('drain', () => drained(c));
    }
  };

  /**
   * One write; its callback runs once the kernel has it, after every earlier one: when the last
   * write's runs and nothing is queued, the client has taken its replies and is read again.
   */
  const send = (c: Client, out: string) => {
    const seq = ++c.writes;
    c.conn.write(out, (err) => {
      if (err || c.closed || seq !== c.writes || c.queue.length || !c.paused) return;
      c.paused = false;
      c.lastActive = Date.now();
      if (!c.readAhead) c.conn.resume();
      wake(c);
    });
  };

  const drained = (c: Client) => {
    c.draining = false;
    if (c.closed || !c.queue.length) return;
    const all = c.queue.length === 1 ? c.queue[0] : c.queue.join('');
    c.queue = [];
    c.queued = 0;
    send(c, all);
  };

  /** The reply to a parsed request (the operation run, a change logged). */
  const dispatch = (c: Client, r: ParseResult): Reply => {
    if (!r.ok) return { id: r.id, ok: false, error: { code: r.code, message: r.message } };
    const x = run(ctx, r.req, c.conn2);
    if (x.op !== undefined) logChange(c, x.op, x.args, x.reply);
    return x.reply;
  };

  /** What a client without a complete line is held to: its line's length and time. */
  const partial = (c: Client) => {
    if (c.size > lim.maxRequestBytes && !c.paused) {
      drop(c, 'request_too_large', `a request longer than control.maxRequestBytes (${lim.maxRequestBytes} bytes)`, {
        id: null,
        ok: false,
        error: { code: 'E2BIG', message: `request longer than control.maxRequestBytes (${lim.maxRequestBytes} bytes); raise it in the config` },
      });
      return;
    }
    if (c.size > 0 && !c.requestTimer && !c.paused) {
      c.requestTimer = setTimeout(() => {
        drop(c, 'request_timeout', `a request not complete within control.requestTimeoutMs (${lim.requestTimeoutMs} ms)`, {
          id: null,
          ok: false,
          error: { code: 'ETIMEDOUT', message: `request not complete within control.requestTimeoutMs (${lim.requestTimeoutMs} ms)` },
        });
      }, lim.requestTimeoutMs);
      c.requestTimer.unref();
    }
  };

  /** Handles the client's next complete line; true when it may have another ready now. */
  const step = (c: Client): boolean => {
    if (c.closed || c.paused || c.parsing) return false;
    const at = nextNewline(c);
    if (at < 0) {
      if (c.readAhead) {
        // a long request follows the ones handled: read it
        c.readAhead = false;
        if (!c.paused) c.conn.resume();
      }
      partial(c);
      return false;
    }
    if (at > lim.maxRequestBytes) {
      drop(c, 'request_too_large', `a request of ${at} bytes is over control.maxRequestBytes (${lim.maxRequestBytes})`, {
        id: null,
        ok: false,
        error: { code: 'E2BIG', message: `request of ${at} bytes is over control.maxRequestBytes (${lim.maxRequestBytes})` },
      });
      return false;
    }
    const line = takeLine(c, at);
    if (c.readAhead && c.size < READ_AHEAD_BYTES / 2) {
      c.readAhead = false;
      if (!c.paused) c.conn.resume();
    }
    if (!ready()) {
      answer(c, { id: null, ok: false, error: { code: 'EAGAIN', message: 'dpfwd is starting; try again in a moment' } });
    } else if ('line' in line) {
      answer(c, dispatch(c, parseRequest(line.line)));
    } else {
      // the bytes stay counted until the worker is done with them
      c.parsing = at;
      buffered += at;
      parser.parse(line.parts).then((r) => {
        if (c.closed) return;
        buffered -= c.parsing;
        c.parsing = 0;
        answer(c, dispatch(c, r));
        wake(c);
      });
      return false;
    }
    return !c.closed && !c.paused;
  };

  /** Clients with input to handle, served round-robin in slices of SLICE_MS between event-loop turns. */
  const runnable = new Set<Client>();
  let scheduled: NodeJS.Immediate | null = null;
  const wake = (c: Client) => {
    if (c.closed || c.paused || c.parsing) return;
    runnable.add(c);
    scheduled ??= setImmediate(slice);
  };
  const slice = () => {
    scheduled = null;
    const t0 = performance.now();
    outer: while (runnable.size) {
      for (const c of runnable) {
        if (!step(c)) runnable.delete(c);
        if (performance.now() - t0 >= SLICE_MS) break outer;
      }
    }
    if (runnable.size) scheduled = setImmediate(slice);
  };

  const isRoot = (c: Client) => c.peer?.uid === 0;

  /**
   * Room in the shared buffer for `need` more bytes of client `c`: disconnects the clients that
   * hold the most unfinished bytes, each more than `c` would then hold (a small request always
   * wins over a long partial line), never root's for another user's.
   */
  const makeRoom = (c: Client, need: number) => {
    while (buffered + need > lim.maxBufferedBytes) {
      let victim: Client | undefined;
      for (const x of clients) {
        if (x === c || x.size <= c.size + need || (isRoot(x) && !isRoot(c))) continue;
        if (!victim || x.size > victim.size) victim = x;
      }
      if (!victim) return;
      drop(
        victim,
        'buffers_full',
        `request bytes buffered across clients reached control.maxBufferedBytes (${lim.maxBufferedBytes}); disconnected the client holding the longest unfinished request (${victim.size} bytes)`,
        {
          id: null,
          ok: false,
          error: {
            code: 'ENOBUFS',
            message: `disconnected: control.maxBufferedBytes (${lim.maxBufferedBytes}) reached and this connection held the longest unfinished request`,
          },
        },
        true,
      );
    }
  };

  /** One line per change: who (uid/pid), what (op and its arguments, cut short), result. */
  const logChange = (c: Client, op: string, args: unknown, r: Reply) => {
    if (isReadOnly(op)) return;
    // built only when the rate limit lets the line through: a churn of updates costs no text
    changes.line(
      'control',
      r.ok ? 'info' : 'warn',
      () => {
        const who = c.peer ? `uid ${c.peer.uid} pid ${c.peer.pid}` : 'unknown peer';
        const words = Object.entries(argsForLog(args))
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ');
        const result = r.ok ? 'ok' : `${r.error?.code}: ${r.error?.message.split('\n')[0]}`;
        return `${op}${words ? ` ${words}` : ''} by ${who}: ${result}`;
      },
      () => ({ op, args: argsForLog(args), ok: r.ok, ...(c.peer ?? {}), ...(r.ok ? {} : { code: r.error?.code }) }),
    );
  };

  const server = net.createServer((conn) => {
    const fd = (conn as unknown as { _handle?: { fd?: number } })._handle?.fd;
    const peer = typeof fd === 'number' && fd >= 0 ? peerCred(fd) : null;
    const c: Client = {
      conn,
      chunks: [],
      size: 0,
      scanned: 0,
      lastActive: Date.now(),
      requestTimer: null,
      writes: 0,
      queue: [],
      queued: 0,
      draining: false,
      paused: false,
      readAhead: false,
      parsing: 0,
      closed: false,
      peer,
      closers: [],
      conn2: {
        peer,
        onClose: (f) => {
          if (c.closed) f();
          else c.closers.push(f);
        },
      },
    };
    conn.on('error', () => {
      release(c);
      conn.destroy();
    });
    conn.on('close', () => release(c));
    if (clients.size >= lim.maxClients) {
      // make room: the client quiet longest goes (a flood of idle connections cannot lock anyone
      // out); another user's client never takes root's place
      let victim: Client | undefined;
      for (const x of clients) {
        if (isRoot(x) && !isRoot(c)) continue;
        if (!victim || (isRoot(victim) && !isRoot(x)) || (isRoot(victim) === isRoot(x) && x.lastActive < victim.lastActive)) victim = x;
      }
      const full = `${clients.size} clients is control.maxClients`;
      if (!victim) {
        drop(
          c,
          'too_many_clients',
          `${full}, all root's; refused a client of uid ${c.peer?.uid ?? '?'}`,
          { id: null, ok: false, error: { code: 'EBUSY', message: `refused: control.maxClients (${lim.maxClients}) reached by root's clients` } },
          true,
        );
        return;
      }
      drop(
        victim,
        'too_many_clients',
        `${full}; disconnected the one quiet longest`,
        {
          id: null,
          ok: false,
          error: { code: 'EBUSY', message: `disconnected: control.maxClients (${lim.maxClients}) reached and this connection was the one quiet longest` },
        },
        true,
      );
    }
    clients.add(c);
    conn.setTimeout(lim.idleTimeoutMs, () => {
      drop(c, 'idle_timeout', `a connection idle for control.idleTimeoutMs (${lim.idleTimeoutMs} ms)`);
    });
    conn.on('data', (chunk: Buffer) => {
      if (c.closed) return;
      c.lastActive = Date.now();
      if (buffered + chunk.length > lim.maxBufferedBytes) makeRoom(c, chunk.length);
      if (buffered + chunk.length > lim.maxBufferedBytes) {
        drop(c, 'buffers_full', `request bytes buffered across clients would pass control.maxBufferedBytes (${lim.maxBufferedBytes})`, {
          id: null,
          ok: false,
          error: {
            code: 'ENOBUFS',
            message: `the control socket buffers ${buffered} request bytes across clients; control.maxBufferedBytes (${lim.maxBufferedBytes}) reached, try again`,
          },
        });
        return;
      }
      c.chunks.push(chunk);
      c.size += chunk.length;
      buffered += chunk.length;
      if (c.size >= READ_AHEAD_BYTES && !c.readAhead && nextNewline(c) >= 0) {
        c.readAhead = true;
        conn.pause();
      }
      wake(c);
    });
  }) as ControlServer;
  server.maxConnections = lim.maxClients * 4; // a backstop only: new clients evict old ones first

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(
        e.code === 'EADDRINUSE'
          ? new DpfwdError('EADDRINUSE', `another dpfwd answers on ${socketPath}; stop it or give this one --socket <path>`)
          : fail(e.code ?? 'ELISTEN', socketPath, `cannot listen (${e.code ?? e.message})`),
      );
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
    parser.close();
    if (scheduled) clearImmediate(scheduled);
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

/** One request line handled whole (parse, run): tests and tools; the server parses long lines off the main thread. */
export function handle(ctx: Ctx, line: string, done?: (op: string, args: unknown, reply: Reply) => void, conn?: Conn): Reply {
  const p = parseRequest(Buffer.from(line, 'utf8'));
  if (!p.ok) return { id: p.id, ok: false, error: { code: p.code, message: p.message } };
  const r = run(ctx, p.req, conn);
  if (done && r.op !== undefined) done(r.op, r.args, r.reply);
  return r.reply;
}

/** How an operation that is not one is named in the error: a string cut short, anything else by its type. */
function describeOp(op: unknown): string {
  if (typeof op === 'string') return JSON.stringify(shorten(op));
  if (op === undefined) return '(none)';
  return `(${op === null ? 'null' : Array.isArray(op) ? 'an array' : typeof op === 'object' ? 'an object' : `a ${typeof op}`})`;
}

/** Runs a parsed request's operation. */
function run(ctx: Ctx, req: ParsedRequest, conn?: Conn): { op?: string; args?: unknown; reply: Reply } {
  const reply = (x: Reply, op?: string, args?: unknown) => ({ op, args, reply: x });
  const id = req.id;
  const op = typeof req.op === 'string' ? req.op : '';
  const fn: Action | undefined = op === 'show.control' ? showControl : OPS.get(op);
  if (!fn) return reply({ id, ok: false, error: { code: 'ENOSYS', message: `unknown operation ${describeOp(req.op)}; known: ${OPERATIONS.join(', ')}` } });
  const args = req.args && typeof req.args === 'object' && !Array.isArray(req.args) ? (req.args as Record<string, unknown>) : {};
  try {
    return reply({ id, ok: true, result: fn(ctx, args, conn) }, op, args);
  } catch (e) {
    const code = (e as DpfwdError)?.code ?? 'EINTERNAL';
    return reply({ id, ok: false, error: { code: typeof code === 'string' ? code : 'EINTERNAL', message: String((e as Error)?.message ?? e) } }, op, args);
  }
}
