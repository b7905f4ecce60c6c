/**
 * Routes as the operator writes them: the one route parser (route files, `route add` on the CLI
 * and the control socket, the config's routes) into the one Route (./route.ts), and RouteBatch,
 * many routes as typed columns.
 * Addresses come from src/net/ipv4.ts; nothing here touches the RIB or the dataplane.
 */
import { DpfwdError } from '../errors';
import { GROUP_MAX_WEIGHT } from '../dataplane/actions';
import type { PathFields, Route, RouteFields, RoutePath } from './route';
import { fail, formatIPv4, maskOf, networkOf, parseIPv4, parsePrefix, scanIPv4, unicastProblem } from '../net/ipv4';

/** A route file's or the CLI's route: the one Route (src/routing/route.ts). */
export type RouteEntry = Route;
export type { PathFields, Route, RouteFields, RoutePath } from './route';

/** The next hop of a RouteBatch row. */
export const ROUTE_VIA = 0; // a gateway, with or without a port
export const ROUTE_PORT = 1; // out of a port, the destination itself resolved there
export const ROUTE_BLACKHOLE = 2;
export const ROUTE_PORT_ID = 3; // l3fwd `R` lines: a port by DPDK port id
export const ROUTE_MULTIPATH = 4; // several paths (ECMP): RouteBatch.paths has them

/**
 * Many routes as columns of typed arrays instead of an object per route: a million-line route
 * file takes ~14 MB outside the JS heap rather than ~100 MB of objects on it. Row i is
 * addrs[i]/lens[i] with next hop kinds[i] (ROUTE_*); vias[i] is the gateway for ROUTE_VIA (else
 * 0); ports[i] is the port id for ROUTE_PORT_ID, otherwise 0 (no port) or n for portNames[n - 1].
 * Rows of kind ROUTE_MULTIPATH keep their paths in `paths` (by row; few routes have them).
 * The columns double when full; rows past `length` mean nothing.
 */
export class RouteBatch {
  addrs: Uint32Array;
  lens: Uint8Array;
  kinds: Uint8Array;
  vias: Uint32Array;
  ports: Uint32Array;
  length = 0;
  /** a ROUTE_MULTIPATH row's paths, by row */
  readonly paths = new Map<number, RoutePath[]>();
  /** the distinct port names, in order of first use */
  readonly portNames: string[] = [];
  private readonly refs = new Map<string, number>();
  private lastRef = 0;

  constructor(capacity = 1024) {
    this.addrs = new Uint32Array(capacity);
    this.lens = new Uint8Array(capacity);
    this.kinds = new Uint8Array(capacity);
    this.vias = new Uint32Array(capacity);
    this.ports = new Uint32Array(capacity);
  }

  /** Route objects (config routes, tests) as a batch. */
  static from(routes: readonly (Omit<Route, 'blackhole' | 'paths'> & { blackhole?: boolean; paths?: readonly RoutePath[] })[]): RouteBatch {
    const b = new RouteBatch(routes.length);
    for (const r of routes) {
      if (r.paths && r.paths.length > 1) b.pushPaths(r.addr, r.len, r.paths);
      else if (r.blackhole) b.push(r.addr, r.len, ROUTE_BLACKHOLE, 0, 0);
      else if (r.portId !== undefined) b.push(r.addr, r.len, ROUTE_PORT_ID, 0, r.portId);
      else b.push(r.addr, r.len, r.via !== undefined ? ROUTE_VIA : ROUTE_PORT, r.via ?? 0, r.port !== undefined ? b.portRef(r.port) : 0);
    }
    return b;
  }

  push(addr: number, len: number, kind: number, via: number, port: number): void {
    if (this.length === this.addrs.length) this.grow();
    const i = this.length++;
    this.addrs[i] = addr;
    this.lens[i] = len;
    this.kinds[i] = kind;
    this.vias[i] = via;
    this.ports[i] = port;
  }

  /** A multipath row. */
  pushPaths(addr: number, len: number, paths: readonly RoutePath[]): void {
    this.paths.set(
      this.length,
      paths.map((p) => ({ ...p })),
    );
    this.push(addr, len, ROUTE_MULTIPATH, 0, 0);
  }

  /** The ports[] value naming this port (added to portNames on first use). */
  portRef(name: string): number {
    let ref = this.refs.get(name);
    if (ref === undefined) {
      ref = this.portNames.push(name);
      this.refs.set(name, ref);
    }
    return ref;
  }

  /** portRef of text[s, e); no slice when it is the name of the previous call (a big file repeats one). */
  portRefAt(text: string, s: number, e: number): number {
    const last = this.lastRef;
    if (last > 0 && wordIs(text, s, e, this.portNames[last - 1])) return last;
    return (this.lastRef = this.portRef(text.slice(s, e)));
  }

  /** Row i as a RouteEntry. */
  entry(i: number): RouteEntry {
    const kind = this.kinds[i];
    const r: RouteEntry = { addr: this.addrs[i], len: this.lens[i], blackhole: kind === ROUTE_BLACKHOLE };
    if (kind === ROUTE_MULTIPATH) {
      r.paths = this.paths.get(i)!.map((p) => ({ ...p }));
      return r;
    }
    if (kind === ROUTE_PORT_ID) r.portId = this.ports[i];
    else if (this.ports[i] > 0) r.port = this.portNames[this.ports[i] - 1];
    if (kind === ROUTE_VIA) r.via = this.vias[i];
    return r;
  }

  /**
   * A 1 for each row whose prefix a later row gives again (the rows that applying the batch in
   * order would overwrite), or null when every prefix appears once. Found with an open-addressing
   * hash of row numbers in one Int32Array of 2-4 slots per row (8-16 bytes, outside the JS heap),
   * filled from the last row back. Rows in ascending prefix order (a dump of a routing table)
   * skip the hash: its random reads cost ~70 ns per row, the order check ~2 ns.
   */
  overridden(): Uint8Array | null {
    const n = this.length;
    const { addrs, lens } = this;
    let k = 1;
    while (k < n && (addrs[k] > addrs[k - 1] || (addrs[k] === addrs[k - 1] && lens[k] > lens[k - 1]))) k++;
    if (k >= n) return null;
    const bits = Math.max(4, 32 - Math.clz32(2 * n - 1)); // at most half full
    const mask = (1 << bits) - 1;
    const slots = new Int32Array(1 << bits); // row + 1; 0 empty
    let out: Uint8Array | null = null;
    for (let i = n - 1; i >= 0; i--) {
      const addr = addrs[i];
      const len = lens[i];
      let h = Math.imul(addr ^ Math.imul(len + 1, 0x9e3779b1), 0x85ebca6b) >>> (32 - bits);
      for (;;) {
        const r = slots[h];
        if (r === 0) {
          slots[h] = i + 1;
          break;
        }
        if (addrs[r - 1] === addr && lens[r - 1] === len) {
          (out ??= new Uint8Array(n))[i] = 1;
          break;
        }
        h = (h + 1) & mask;
      }
    }
    return out;
  }

  private grow(): void {
    const cap = Math.max(16, this.addrs.length * 2);
    this.addrs = grown(this.addrs, cap);
    this.lens = grown(this.lens, cap);
    this.kinds = grown(this.kinds, cap);
    this.vias = grown(this.vias, cap);
    this.ports = grown(this.ports, cap);
  }
}

/** A copy of `a` with room for `cap` elements. */
function grown<T extends Uint8Array | Uint32Array>(a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a);
  return b;
}

export const PORT_NAME_RE = /^[a-z][a-z0-9_-]{0,14}$/;
/** An interface: a port's name, or a VLAN sub-interface's (`west.100`). */
export const IFACE_NAME_RE = /^[a-z][a-z0-9_-]{0,14}(\.[0-9]{1,4})?$/;

/** Words of one route: a multipath route of 32 paths, each `nexthop via A dev D weight W`. */
const TOK_MAX = 240;
const TOK_START = new Int32Array(TOK_MAX);
const TOK_END = new Int32Array(TOK_MAX);

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13;
}

/** True if text[s, e) is exactly `w`. */
function wordIs(text: string, s: number, e: number, w: string): boolean {
  if (e - s !== w.length) return false;
  for (let k = 0; k < w.length; k++) if (text.charCodeAt(s + k) !== w.charCodeAt(k)) return false;
  return true;
}

/** A decimal 0-65535 without leading zeros in text[s, e), or -1. */
function scanPortId(text: string, s: number, e: number): number {
  if (e - s < 1 || e - s > 5 || (e - s > 1 && text.charCodeAt(s) === 48)) return -1;
  let v = 0;
  for (let k = s; k < e; k++) {
    const c = text.charCodeAt(k) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v > 65535 ? -1 : v;
}

/** True if text[s, e) is an interface name (IFACE_NAME_RE), checked without a regex. */
function isPortName(text: string, s: number, e: number): boolean {
  const dot = text.lastIndexOf('.', e - 1);
  if (dot >= s) {
    // west.100: a port name, a dot, 1-4 digits
    if (e - dot - 1 < 1 || e - dot - 1 > 4) return false;
    for (let k = dot + 1; k < e; k++) if (text.charCodeAt(k) < 48 || text.charCodeAt(k) > 57) return false;
    e = dot;
  }
  if (e - s < 1 || e - s > 15) return false;
  const c0 = text.charCodeAt(s);
  if (c0 < 97 || c0 > 122) return false;
  for (let k = s + 1; k < e; k++) {
    const c = text.charCodeAt(k);
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 45)) return false;
  }
  return true;
}

/**
 * How a caller words the one route parser's problems: the parser finds the problem, the caller
 * says it in its own terms (route files add `line N: ` themselves, see parseRouteRange).
 */
export interface RouteWording {
  /** l3fwd's `R<prefix> <port id>` lines are route-file syntax only */
  l3fwd: boolean;
  /** a keyword in "needs a value": files name it bare, the CLI quotes the word as typed */
  keyword: (w: string) => string;
  /** a next hop that is no unicast address (`problem` from unicastProblem) */
  badVia: (word: string, problem: string) => string;
  /** a route with no next hop (`prefix` as written) */
  noNextHop: (prefix: string) => string;
}

/** Route files (`route load`, l3fwd R lines allowed). */
export const FILE_WORDING: RouteWording = {
  l3fwd: true,
  keyword: (w) => w,
  badVia: (w, p) => `via ${w}: ${p}, not a next-hop address`,
  noNextHop: (prefix) => `${prefix} needs "via <address>", "port <name>" or "blackhole"`,
};
/** `dpfwd route add PREFIX WORDS…` on the command line. */
export const CLI_WORDING: RouteWording = { ...FILE_WORDING, l3fwd: false, keyword: (w) => `'${w}'` };
/** The control socket's route.add fields (the config's words for a bad gateway). */
export const FIELD_WORDING: RouteWording = {
  l3fwd: false,
  keyword: (w) => w,
  badVia: (_w, p) => `${p}, not a unicast host address`,
  noNextHop: () => 'needs via, port or blackhole: true',
};

/**
 * Parses one route-file line. Accepts
 *   `10.20.0.0/16 via 10.2.0.2 [port east]`, `10.20.0.0/16 port east [via 10.2.0.2]`
 *   (`dev` is an alias of `port`), `10.20.0.0/16 blackhole`, l3fwd's `R10.20.0.0/16 1`,
 *   multipath as iproute2 writes it: `10.20.0.0/16 nexthop via 10.2.0.2 [dev east] [weight 3]
 *   nexthop via 10.3.0.2 …` (each path a gateway and/or a port; weight 1..256, default 1; one
 *   path alone is a plain route), `# comments` (also after a route) and blank lines.
 * Returns null for blank and comment lines; throws DpfwdError('EINVAL') `line N: problem`.
 */
export function parseRouteLine(line: string, lineNo = 1): RouteEntry | null {
  const b = new RouteBatch(1);
  return parseRouteRange(line, 0, line.length, lineNo, b, FILE_WORDING) ? b.entry(0) : null;
}

/**
 * One route given as words, the prefix first (`10.20.0.0/16 via 10.2.0.2 port east`): the CLI's
 * arguments, the control socket's fields (routeFromFields). The same parser as route files,
 * worded for the caller; throws DpfwdError('EINVAL') with the problem alone (no line number).
 */
export function parseRouteWords(words: readonly string[], wording: RouteWording = CLI_WORDING): RouteEntry {
  words.forEach((w, k) => {
    if (w === '' || /[\s#]/.test(w)) throw new RouteError(`'${w}' is not one word of a route`, k);
  });
  const text = [prefixWord(words[0] ?? ''), ...words.slice(1)].join(' ');
  const b = new RouteBatch(1);
  if (!parseRouteRange(text, 0, text.length, 0, b, wording)) fail('a route needs a prefix, e.g. 10.20.0.0/16 via 10.2.0.2');
  return b.entry(0);
}

/**
 * iproute2's ways to write a destination, as a prefix: `default` is 0.0.0.0/0, a bare address
 * (no /len) a host route. Words and fields only; route files keep the strict form.
 */
function prefixWord(w: string): string {
  if (w === 'default') return '0.0.0.0/0';
  return w.includes('/') || scanIPv4(w, 0, w.length) < 0 ? w : `${w}/32`;
}

/** A prefix as `route show`/`flush` selectors take it (`default`, a bare address: /32). */
export function parsePrefixWord(w: string): { addr: number; len: number } {
  return parsePrefix(prefixWord(w));
}

/** A route's fields, as the control socket and the config give them. */
export type RouteField = 'prefix' | 'via' | 'port' | 'blackhole' | 'nexthops';

/**
 * A route the one parser refused: `word` is the index of the word (of parseRouteWords' words)
 * the problem is in, if it is in one; routeFromFields turns it into the `field`.
 */
export class RouteError extends DpfwdError {
  field?: RouteField;
  constructor(
    message: string,
    readonly word?: number,
  ) {
    super('EINVAL', message);
  }
}

/**
 * The control socket's and the config's route fields ({prefix, via?, port?, blackhole?,
 * nexthops?}) through the one parser. `nexthops` (a list of {via?, port?, weight?}) is a
 * multipath route, written as the words `nexthop via … port … weight …`. Throws RouteError whose
 * `field` names the field at fault (unset for a problem of the whole route, like a missing next
 * hop), so the config can give its path.
 */
export function routeFromFields(f: RouteFields & { nexthops?: readonly PathFields[] }): Route {
  const words = [f.prefix];
  const fields: RouteField[] = ['prefix'];
  const add = (field: RouteField, ...w: string[]) => {
    words.push(...w);
    for (const _ of w) fields.push(field);
  };
  if (f.via !== undefined) add('via', 'via', f.via);
  if (f.port !== undefined) add('port', 'port', f.port);
  if (f.blackhole) add('blackhole', 'blackhole');
  if (f.nexthops !== undefined) {
    if (f.nexthops.length === 0) {
      const e = new RouteError('nexthops is empty: give at least one {via, port, weight}');
      e.field = 'nexthops';
      throw e;
    }
    for (const p of f.nexthops) {
      add('nexthops', 'nexthop');
      if (p.via !== undefined) add('nexthops', 'via', p.via);
      if (p.port !== undefined) add('nexthops', 'port', p.port);
      if (p.weight !== undefined) add('nexthops', 'weight', String(p.weight));
    }
  }
  try {
    return parseRouteWords(words, FIELD_WORDING);
  } catch (e) {
    if (e instanceof RouteError && e.word !== undefined) e.field = fields[e.word];
    throw e;
  }
}

/**
 * parseRouteLine over text[from, to), appending the route to `batch`; false for a blank or
 * comment line. No slicing, so a million-line file makes no garbage per line.
 */
function parseRouteRange(text: string, from: number, to: number, lineNo: number, batch: RouteBatch, wording: RouteWording): boolean {
  const starts = TOK_START;
  const ends = TOK_END;
  let n = 0;
  let i = from;
  while (i < to) {
    let c = text.charCodeAt(i);
    while (i < to && isSpace(c)) c = text.charCodeAt(++i);
    if (i >= to || c === 35 /* # */) break;
    const st = i;
    while (i < to && !isSpace(c) && c !== 35) c = text.charCodeAt(++i);
    if (n === TOK_MAX) fail(`${lineNo > 0 ? `line ${lineNo}: ` : ''}too many words for a route`);
    starts[n] = st;
    ends[n] = i;
    n++;
  }
  if (n === 0) return false;
  const tok = (k: number) => text.slice(starts[k], ends[k]);
  // `word`: the index of the word at fault (RouteError.word), when the problem is in one
  const err = (msg: string, word?: number): never => {
    throw new RouteError(lineNo > 0 ? `line ${lineNo}: ${msg}` : msg, word);
  };
  /** The gateway in word k: a unicast address. */
  const scanVia = (k: number): number => {
    const a = scanIPv4(text, starts[k], ends[k]);
    if (a < 0) {
      try {
        parseIPv4(tok(k));
      } catch (ex) {
        err((ex as Error).message, k);
      }
    }
    const p = unicastProblem(a);
    if (p) err(wording.badVia(tok(k), p), k);
    return a;
  };

  // the prefix, fast path first
  let pStart = starts[0];
  const l3fwd = wording.l3fwd && text.charCodeAt(pStart) === 82; /* R */
  if (l3fwd) pStart++;
  const pEnd = ends[0];
  let slash = -1;
  for (let k = pStart; k < pEnd; k++) {
    if (text.charCodeAt(k) === 47) {
      slash = k;
      break;
    }
  }
  const addr = slash > 0 ? scanIPv4(text, pStart, slash) : -1;
  let len = -1;
  if (addr >= 0) {
    const ld = pEnd - slash - 1;
    const c1 = text.charCodeAt(slash + 1) - 48;
    const c2 = text.charCodeAt(slash + 2) - 48;
    if (ld === 1 && c1 >= 0 && c1 <= 9) len = c1;
    else if (ld === 2 && c1 >= 1 && c1 <= 9 && c2 >= 0 && c2 <= 9) len = c1 * 10 + c2;
    if (len > 32) len = -1;
  }
  if (addr < 0 || len < 0) {
    // slow path, only for the message
    try {
      parsePrefix(text.slice(pStart, pEnd));
    } catch (e) {
      err((e as Error).message, 0);
    }
    err(`${tok(0)} is not a route (expected a prefix like 10.20.0.0/16)`, 0);
  }
  if ((addr & maskOf(len)) >>> 0 !== addr) {
    err(`${text.slice(pStart, pEnd)} has host bits set; did you mean ${formatIPv4(networkOf(addr, len))}/${len}?`, 0);
  }

  if (l3fwd) {
    if (n !== 2) err(`l3fwd route lines are R<prefix> <port id>, e.g. R10.20.0.0/16 1`);
    const id = scanPortId(text, starts[1], ends[1]);
    if (id < 0) err(`${tok(1)} is not a port id (0-65535)`);
    batch.push(addr, len, ROUTE_PORT_ID, 0, id);
    return true;
  }
  let via = -1;
  let port = 0;
  let blackhole = false;
  let bhWord = 0;
  let k = 1;
  // multipath: `nexthop` starts a path; via/port/dev/weight after it belong to that path
  let paths: { via: number; port: number; weight: number }[] | null = null;
  while (k < n) {
    const s = starts[k];
    const e = ends[k];
    if (wordIs(text, s, e, 'nexthop')) {
      if (paths === null && (via >= 0 || port !== 0 || blackhole))
        err(`a multipath route gives every gateway after "nexthop" (nexthop via A nexthop via B), not before`);
      (paths ??= []).push({ via: -1, port: 0, weight: 0 });
      k++;
      continue;
    }
    if (paths !== null) {
      const p = paths[paths.length - 1];
      const isW = wordIs(text, s, e, 'weight');
      const isV = wordIs(text, s, e, 'via');
      if (!isW && !isV && !wordIs(text, s, e, 'port') && !wordIs(text, s, e, 'dev')) {
        err(`expected "via <address>", "dev <port>" or "weight <1-256>" in nexthop ${paths.length}, got "${tok(k)}"`, k);
      }
      if (k + 1 >= n) err(`${wording.keyword(tok(k))} needs a value`, k);
      const vs = starts[k + 1];
      const ve = ends[k + 1];
      if (isW) {
        if (p.weight !== 0) err(`weight given twice in nexthop ${paths.length}`, k);
        const wv = scanPortId(text, vs, ve);
        if (wv < 1 || wv > GROUP_MAX_WEIGHT) err(`weight ${tok(k + 1)} in nexthop ${paths.length}: use a whole number 1-${GROUP_MAX_WEIGHT}`, k + 1);
        p.weight = wv;
      } else if (isV) {
        if (p.via >= 0) err(`via given twice in nexthop ${paths.length}`, k);
        p.via = scanVia(k + 1);
      } else {
        if (p.port !== 0) err(`port given twice in nexthop ${paths.length}`, k);
        if (!isPortName(text, vs, ve)) err(`${tok(k + 1)} is not a port name`, k + 1);
        p.port = batch.portRefAt(text, vs, ve);
      }
      k += 2;
      continue;
    }
    if (wordIs(text, s, e, 'blackhole')) {
      if (blackhole) err(`blackhole given twice`, k);
      blackhole = true;
      bhWord = k;
      k++;
      continue;
    }
    const isVia = wordIs(text, s, e, 'via');
    if (isVia || wordIs(text, s, e, 'port') || wordIs(text, s, e, 'dev')) {
      if (k + 1 >= n) err(`${wording.keyword(tok(k))} needs a value`, k);
      const vs = starts[k + 1];
      const ve = ends[k + 1];
      if (isVia) {
        if (via >= 0) err(`via given twice`, k);
        via = scanVia(k + 1);
      } else {
        if (port !== 0) err(`port given twice`, k);
        if (!isPortName(text, vs, ve)) err(`${tok(k + 1)} is not a port name`, k + 1);
        port = batch.portRefAt(text, vs, ve);
      }
      k += 2;
      continue;
    }
    err(`expected "via <address>", "port <name>", "blackhole" or "nexthop" after ${tok(k - 1)}, got "${tok(k)}"`, k);
  }
  if (paths !== null) {
    const seen = new Set<string>();
    paths.forEach((p, i) => {
      if (p.via < 0 && p.port === 0) err(`nexthop ${i + 1} needs "via <address>" or "dev <port>"`);
      const key = `${p.via}/${p.port}`;
      if (seen.has(key)) err(`nexthop ${i + 1} repeats an earlier one; give it a weight instead`);
      seen.add(key);
    });
    if (paths.length === 1) {
      // one path: a plain route (as iproute2 does)
      const p = paths[0];
      batch.push(addr, len, p.via >= 0 ? ROUTE_VIA : ROUTE_PORT, p.via >= 0 ? p.via : 0, p.port);
      return true;
    }
    batch.pushPaths(
      addr,
      len,
      paths.map((p) => {
        const rp: RoutePath = { weight: p.weight || 1 };
        if (p.via >= 0) rp.via = p.via;
        if (p.port !== 0) rp.port = batch.portNames[p.port - 1];
        return rp;
      }),
    );
    return true;
  }
  if (blackhole && (via >= 0 || port !== 0)) err(`a blackhole route takes no via or port`, bhWord);
  if (!blackhole && via < 0 && port === 0) err(wording.noNextHop(tok(0)));
  if (blackhole) batch.push(addr, len, ROUTE_BLACKHOLE, 0, 0);
  else batch.push(addr, len, via >= 0 ? ROUTE_VIA : ROUTE_PORT, via >= 0 ? via : 0, port);
  return true;
}

/**
 * The line numbers (1-based) of RouteBatch rows (ascending) of a route file that parsed without
 * errors: every line that is not blank or a comment made one row, in order.
 */
export function routeLineNumbers(text: string, rows: readonly number[]): number[] {
  const out: number[] = [];
  let row = -1;
  let lineNo = 0;
  let pos = 0;
  let k = 0;
  while (pos < text.length && k < rows.length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    lineNo++;
    let i = pos;
    while (i < nl && isSpace(text.charCodeAt(i))) i++;
    if (i < nl && text.charCodeAt(i) !== 35 /* # */) {
      row++;
      while (k < rows.length && rows[k] === row) {
        out.push(lineNo);
        k++;
      }
    }
    pos = nl + 1;
  }
  return out;
}

/**
 * Parses a whole route file into one RouteBatch. Collects every error (each `line N: problem`)
 * rather than stopping at the first; the caller decides whether a file with errors is applied
 * (route load is atomic).
 */
export function parseRouteFile(text: string): { routes: RouteBatch; errors: string[] } {
  const routes = new RouteBatch();
  const errors: string[] = [];
  let lineNo = 0;
  let pos = 0;
  const total = text.length;
  while (pos < total) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = total;
    lineNo++;
    try {
      parseRouteRange(text, pos, nl, lineNo, routes, FILE_WORDING);
    } catch (e) {
      if (!(e instanceof DpfwdError)) throw e;
      errors.push(e.message);
    }
    pos = nl + 1;
  }
  return { routes, errors };
}
