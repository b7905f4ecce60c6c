/**
 * IPv4 addresses, prefixes, interface addresses, MAC addresses and route lines.
 *
 * Pure functions, no DPDK. Addresses are plain numbers holding a uint32 in host order
 * (10.1.0.1 === 0x0a010001); the binding converts to network order once, at the boundary.
 * Every parse error is a DpfwdError('EINVAL') whose message names the input and the problem
 * without a path; callers (config, CLI) prefix it with where the input came from.
 */
import { DpfwdError } from '../errors';

/** A network prefix: `addr` has no host bits set (enforced by parsePrefix). */
export interface Prefix {
  addr: number;
  len: number;
}

/** An interface address: `addr` is the host address, `len` the connected subnet's length. */
export interface InterfaceAddress {
  addr: number;
  len: number;
}

function fail(message: string): never {
  throw new DpfwdError('EINVAL', message);
}

/** Shows user input in a message: as is, unless it is empty or has surrounding whitespace. */
function show(s: string): string {
  return s === '' || s.trim() !== s ? JSON.stringify(s) : s;
}

// ---------------------------------------------------------------------------------------------
// IPv4 addresses

/**
 * Scans a strict dotted quad in s[start, end). Returns the address (uint32, host order), or
 * -1 when malformed, or -2 when an octet has a leading zero (ambiguous: octal to inet_aton).
 */
function scanIPv4(s: string, start: number, end: number): number {
  let addr = 0;
  let octets = 0;
  let i = start;
  while (true) {
    const first = i;
    let v = 0;
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      i++;
    }
    const digits = i - first;
    if (digits === 0 || digits > 3 || v > 255) return -1;
    if (digits > 1 && s.charCodeAt(first) === 48) return -2;
    addr = addr * 256 + v;
    octets++;
    if (octets === 4) return i === end ? addr : -1;
    if (i >= end || s.charCodeAt(i) !== 46 /* . */) return -1;
    i++;
  }
}

function ipv4Error(s: string, code: number): never {
  if (code === -2) {
    fail(`${show(s)} is not an IPv4 address: leading zeros are ambiguous (octal or decimal?); write each number 0-255 without them`);
  }
  fail(`${show(s)} is not an IPv4 address (expected four numbers 0-255 like 10.1.0.1)`);
}

/** Parses a strict dotted quad ("10.1.0.1"; no leading zeros, no shorthand) to a uint32 in host order. */
export function parseIPv4(s: string): number {
  if (typeof s !== 'string') fail(`${String(s)} is not an IPv4 address (expected four numbers 0-255 like 10.1.0.1)`);
  const a = scanIPv4(s, 0, s.length);
  if (a < 0) ipv4Error(s, a);
  return a;
}

/** Formats a uint32 (host order) as a dotted quad. */
export function formatIPv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** The netmask of a prefix length as a uint32 (maskOf(24) === 0xffffff00). */
export function maskOf(len: number): number {
  if (!Number.isInteger(len) || len < 0 || len > 32) fail(`${len} is not an IPv4 prefix length (0-32)`);
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** The network address of addr/len. */
export function networkOf(addr: number, len: number): number {
  return (addr & maskOf(len)) >>> 0;
}

/** Why `addr` cannot be a unicast host address (ours or a neighbour's), or null if it can. */
export function unicastProblem(addr: number): string | null {
  const top = addr >>> 24;
  if (top !== 0 && top !== 127 && top < 224) return null; // the common case, without formatting
  const a = formatIPv4(addr);
  if (addr === 0xffffffff) return `${a} is the limited broadcast address`;
  if (addr >>> 24 === 0) return `${a} is in 0.0.0.0/8 ("this network")`;
  if (addr >>> 24 === 127) return `${a} is a loopback address`;
  if (addr >>> 28 === 0xe) return `${a} is a multicast address`;
  if (addr >>> 28 === 0xf) return `${a} is in the reserved range 240.0.0.0/4`;
  return null;
}

/** Parses a unicast host address (a next hop or a neighbour): parseIPv4 plus unicastProblem. */
export function parseUnicastIPv4(s: string): number {
  const a = parseIPv4(s);
  const p = unicastProblem(a);
  if (p) fail(`${p}, not a unicast host address`);
  return a;
}

// ---------------------------------------------------------------------------------------------
// Prefixes

/** Splits "a.b.c.d/len"; returns [addr, len] or throws "`s` is not an IPv4 prefix". */
function scanPrefix(s: string): [number, number] {
  if (typeof s !== 'string') fail(`${String(s)} is not an IPv4 prefix (expected address/length like 10.1.0.0/16)`);
  const slash = s.indexOf('/');
  if (slash < 0) fail(`${show(s)} is not an IPv4 prefix (missing /length, e.g. ${show(s)}/32)`);
  const a = scanIPv4(s, 0, slash);
  if (a === -2) fail(`${show(s)} is not an IPv4 prefix: leading zeros are ambiguous (octal or decimal?); write each number 0-255 without them`);
  if (a < 0) fail(`${show(s)} is not an IPv4 prefix (expected address/length like 10.1.0.0/16)`);
  const ls = s.slice(slash + 1);
  if (!/^(0|[1-9][0-9]?)$/.test(ls) || Number(ls) > 32) fail(`${show(s)} is not an IPv4 prefix`);
  return [a, Number(ls)];
}

/** Parses a network prefix "10.1.0.0/16". Host bits set is an error that suggests the network. */
export function parsePrefix(s: string): Prefix {
  const [addr, len] = scanPrefix(s);
  const net = networkOf(addr, len);
  if (net !== addr) fail(`${s} has host bits set; did you mean ${formatIPv4(net)}/${len}?`);
  return { addr, len };
}

/** Formats a prefix as "a.b.c.d/len". */
export function formatPrefix(p: { addr: number; len: number }): string {
  return `${formatIPv4(p.addr)}/${p.len}`;
}

/**
 * Parses an interface address "10.1.0.1/24": host bits are expected; the address must be a
 * unicast host address, and for lengths up to /30 neither the subnet's network nor its broadcast
 * address (/31 point-to-point per RFC 3021 and /32 may use any).
 */
export function parseInterfaceAddress(s: string): InterfaceAddress {
  const [addr, len] = scanPrefix(s);
  if (len === 0) fail(`${s} is not an interface address: a /0 subnet would make every address connected`);
  const p = unicastProblem(addr);
  if (p) fail(`${s} is not an interface address: ${p}`);
  if (len <= 30) {
    const net = networkOf(addr, len);
    const bcast = (net | ~maskOf(len)) >>> 0;
    const suggest = `${formatIPv4(net + 1)}/${len}`;
    if (addr === net) fail(`${s} is the network address of its subnet, not a host address; did you mean ${suggest}?`);
    if (addr === bcast) fail(`${s} is the broadcast address of ${formatIPv4(net)}/${len}, not a host address; did you mean ${suggest}?`);
  }
  return { addr, len };
}

/** True if `addr` (a uint32) lies in `prefix`. */
export function prefixContains(prefix: { addr: number; len: number }, addr: number): boolean {
  const m = maskOf(prefix.len);
  return ((prefix.addr & m) >>> 0) === ((addr & m) >>> 0);
}

/** True if the two prefixes share any address (one contains the other). Host bits are ignored. */
export function prefixesOverlap(a: { addr: number; len: number }, b: { addr: number; len: number }): boolean {
  const m = maskOf(Math.min(a.len, b.len));
  return ((a.addr & m) >>> 0) === ((b.addr & m) >>> 0);
}

/**
 * The conflict check for interface addresses, shared by config validation and the runtime
 * `address add`. `existing` and `addr` are interface addresses like "10.10.1.1/24" (already
 * valid). Returns the message naming the offending pair, or null when `addr` can be added.
 */
export function findAddressConflict(existing: { port: string; addr: string }[], port: string, addr: string): string | null {
  const a = parseInterfaceAddress(addr);
  for (const e of existing) {
    const b = parseInterfaceAddress(e.addr);
    if (a.addr === b.addr && a.len === b.len && e.port === port) {
      return `address ${addr} is already configured on port ${port}`;
    }
    if (prefixesOverlap(a, b) || a.addr === b.addr) {
      return `address ${addr} on port ${port} conflicts with ${e.addr} on port ${e.port}`;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// MAC addresses

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Parses "aa:bb:cc:dd:ee:ff" (hex case-insensitive) into a 6-byte Buffer. With
 * `{ unicast: true }` (neighbours, port MAC overrides) the zero and multicast/broadcast MACs
 * are rejected.
 */
export function parseMac(s: string, opts: { unicast?: boolean } = {}): Buffer {
  const bad = () => fail(`${typeof s === 'string' ? show(s) : String(s)} is not a MAC address (expected six hex pairs like 02:00:00:00:01:02)`);
  if (typeof s !== 'string' || s.length !== 17) bad();
  const b = Buffer.alloc(6);
  for (let i = 0; i < 6; i++) {
    const hi = hexVal(s.charCodeAt(i * 3));
    const lo = hexVal(s.charCodeAt(i * 3 + 1));
    if (hi < 0 || lo < 0 || (i < 5 && s.charCodeAt(i * 3 + 2) !== 58)) bad();
    b[i] = hi * 16 + lo;
  }
  if (opts.unicast) {
    const m = formatMac(b);
    if (b.every((x) => x === 0)) fail(`${m} is the zero MAC; a neighbour or port needs a unicast MAC`);
    if (b.every((x) => x === 0xff)) fail(`${m} is the broadcast MAC; a neighbour or port needs a unicast MAC`);
    if (b[0] & 1) fail(`${m} is a multicast MAC (lowest bit of the first byte set); a neighbour or port needs a unicast MAC`);
  }
  return b;
}

/** Formats a MAC (6-byte Buffer, or a 48-bit bigint with the first byte most significant) as lowercase aa:bb:cc:dd:ee:ff. */
export function formatMac(m: Buffer | bigint): string {
  const b = typeof m === 'bigint' ? macFromBigInt(m) : m;
  if (b.length !== 6) fail(`a MAC address has 6 bytes, not ${b.length}`);
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push(b[i].toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** A 6-byte MAC as a 48-bit bigint, first byte most significant (02:00:00:00:00:01 → 0x020000000001n). */
export function macToBigInt(b: Buffer): bigint {
  let v = 0n;
  for (let i = 0; i < 6; i++) v = (v << 8n) | BigInt(b[i]);
  return v;
}

/** Inverse of macToBigInt. */
export function macFromBigInt(v: bigint): Buffer {
  const b = Buffer.alloc(6);
  for (let i = 5; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}

// ---------------------------------------------------------------------------------------------
// Route lines

/** One route from a route file or the CLI. Exactly one of via/port/portId/blackhole forms applies (via may pair with port). */
export interface RouteEntry {
  /** network address, uint32 host order */
  addr: number;
  len: number;
  /** next-hop address, uint32 host order */
  via?: number;
  /** egress port by name */
  port?: string;
  /** egress port by DPDK port id (l3fwd `R<prefix> <portid>` lines) */
  portId?: number;
  blackhole: boolean;
}

/** The next hop of a RouteBatch row. */
export const ROUTE_VIA = 0; // a gateway, with or without a port
export const ROUTE_PORT = 1; // out of a port, the destination itself resolved there
export const ROUTE_BLACKHOLE = 2;
export const ROUTE_PORT_ID = 3; // l3fwd `R` lines: a port by DPDK port id

/**
 * Many routes as columns of typed arrays instead of an object per route: a million-line route
 * file takes ~14 MB outside the JS heap rather than ~100 MB of objects on it. Row i is
 * addrs[i]/lens[i] with next hop kinds[i] (ROUTE_*); vias[i] is the gateway for ROUTE_VIA (else
 * 0); ports[i] is the port id for ROUTE_PORT_ID, otherwise 0 (no port) or n for portNames[n - 1].
 * The columns double when full; rows past `length` mean nothing.
 */
export class RouteBatch {
  addrs: Uint32Array;
  lens: Uint8Array;
  kinds: Uint8Array;
  vias: Uint32Array;
  ports: Uint32Array;
  length = 0;
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
  static from(routes: readonly { addr: number; len: number; via?: number; port?: string; portId?: number; blackhole?: boolean }[]): RouteBatch {
    const b = new RouteBatch(routes.length);
    for (const r of routes) {
      if (r.blackhole) b.push(r.addr, r.len, ROUTE_BLACKHOLE, 0, 0);
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

const TOK_MAX = 16;
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

/** True if text[s, e) is a port name (PORT_NAME_RE), checked without a regex. */
function isPortName(text: string, s: number, e: number): boolean {
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
 * Parses one route-file line. Accepts
 *   `10.20.0.0/16 via 10.2.0.2 [port east]`, `10.20.0.0/16 port east [via 10.2.0.2]`
 *   (`dev` is an alias of `port`), `10.20.0.0/16 blackhole`, l3fwd's `R10.20.0.0/16 1`,
 *   `# comments` (also after a route) and blank lines.
 * Returns null for blank and comment lines; throws DpfwdError('EINVAL') `line N: problem`.
 */
export function parseRouteLine(line: string, lineNo = 1): RouteEntry | null {
  const b = new RouteBatch(1);
  return parseRouteRange(line, 0, line.length, lineNo, b) ? b.entry(0) : null;
}

/**
 * parseRouteLine over text[from, to), appending the route to `batch`; false for a blank or
 * comment line. No slicing, so a million-line file makes no garbage per line.
 */
function parseRouteRange(text: string, from: number, to: number, lineNo: number, batch: RouteBatch): boolean {
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
    if (n === TOK_MAX) fail(`line ${lineNo}: too many words for a route`);
    starts[n] = st;
    ends[n] = i;
    n++;
  }
  if (n === 0) return false;
  const tok = (k: number) => text.slice(starts[k], ends[k]);
  const err = (msg: string): never => fail(`line ${lineNo}: ${msg}`);

  // the prefix, fast path first
  let pStart = starts[0];
  const l3fwd = text.charCodeAt(pStart) === 82; /* R */
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
      err((e as Error).message);
    }
    err(`${tok(0)} is not a route (expected a prefix like 10.20.0.0/16)`);
  }
  if (((addr & maskOf(len)) >>> 0) !== addr) {
    err(`${text.slice(pStart, pEnd)} has host bits set; did you mean ${formatIPv4(networkOf(addr, len))}/${len}?`);
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
  let k = 1;
  while (k < n) {
    const s = starts[k];
    const e = ends[k];
    if (wordIs(text, s, e, 'blackhole')) {
      if (blackhole) err(`blackhole given twice`);
      blackhole = true;
      k++;
      continue;
    }
    const isVia = wordIs(text, s, e, 'via');
    if (isVia || wordIs(text, s, e, 'port') || wordIs(text, s, e, 'dev')) {
      if (k + 1 >= n) err(`${tok(k)} needs a value`);
      const vs = starts[k + 1];
      const ve = ends[k + 1];
      if (isVia) {
        if (via >= 0) err(`via given twice`);
        const a = scanIPv4(text, vs, ve);
        if (a < 0) {
          try {
            parseIPv4(tok(k + 1));
          } catch (ex) {
            err((ex as Error).message);
          }
        }
        const p = unicastProblem(a);
        if (p) err(`via ${tok(k + 1)}: ${p}, not a next-hop address`);
        via = a;
      } else {
        if (port !== 0) err(`port given twice`);
        if (!isPortName(text, vs, ve)) err(`${tok(k + 1)} is not a port name`);
        port = batch.portRefAt(text, vs, ve);
      }
      k += 2;
      continue;
    }
    err(`expected "via <address>", "port <name>" or "blackhole" after ${tok(k - 1)}, got "${tok(k)}"`);
  }
  if (blackhole && (via >= 0 || port !== 0)) err(`a blackhole route takes no via or port`);
  if (!blackhole && via < 0 && port === 0) {
    err(`${tok(0)} needs "via <address>", "port <name>" or "blackhole"`);
  }
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
      parseRouteRange(text, pos, nl, lineNo, routes);
    } catch (e) {
      if (!(e instanceof DpfwdError)) throw e;
      errors.push(e.message);
    }
    pos = nl + 1;
  }
  return { routes, errors };
}
