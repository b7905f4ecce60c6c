/**
 * IPv4 addresses and prefixes: the one parser and formatter of them (config, CLI, API, route
 * files, packets). A leaf module: it imports nothing of dpfwd but its error class.
 *
 * Addresses are plain numbers holding a uint32 in host order (10.1.0.1 === 0x0a010001); the
 * binding converts to network order once, at the boundary. Every parse error is a
 * DpfwdError('EINVAL') whose message names the input and the problem without a path; callers
 * (config, CLI) prefix it with where the input came from. (IPv6 gets its own src/net/ipv6.ts
 * with the same shape: parse/format/prefix functions over its own number type.)
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

export function fail(message: string): never {
  throw new DpfwdError('EINVAL', message);
}

/** Shows user input in a message: as is, unless it is empty or has surrounding whitespace. */
export function show(s: string): string {
  return s === '' || s.trim() !== s ? JSON.stringify(s) : s;
}

// ---------------------------------------------------------------------------------------------
// IPv4 addresses

/**
 * Scans a strict dotted quad in s[start, end). Returns the address (uint32, host order), or
 * -1 when malformed, or -2 when an octet has a leading zero (ambiguous: octal to inet_aton).
 */
export function scanIPv4(s: string, start: number, end: number): number {
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

/** True if s is a strict dotted quad (parseIPv4 would take it). */
export function isIPv4(s: string): boolean {
  return typeof s === 'string' && scanIPv4(s, 0, s.length) >= 0;
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

/** What kind of address a uint32 is, for the unicast rules (RFC 1812 4.3.2.7 / 5.3.7). */
export type AddressClass = 'unicast' | 'this-network' | 'loopback' | 'multicast' | 'reserved' | 'limited-broadcast';

/** The one classifier of special IPv4 ranges. */
export function addressClass(addr: number): AddressClass {
  const top = addr >>> 24;
  if (top !== 0 && top !== 127 && top < 224) return 'unicast';
  if (addr >>> 0 === 0xffffffff) return 'limited-broadcast';
  if (top === 0) return 'this-network';
  if (top === 127) return 'loopback';
  if (top >>> 4 === 0xe) return 'multicast';
  return 'reserved';
}

/** Why `addr` cannot be a unicast host address (ours or a neighbour's), or null if it can. */
export function unicastProblem(addr: number): string | null {
  const k = addressClass(addr);
  if (k === 'unicast') return null; // the common case, without formatting
  const a = formatIPv4(addr);
  switch (k) {
    case 'limited-broadcast':
      return `${a} is the limited broadcast address`;
    case 'this-network':
      return `${a} is in 0.0.0.0/8 ("this network")`;
    case 'loopback':
      return `${a} is a loopback address`;
    case 'multicast':
      return `${a} is a multicast address`;
    default:
      return `${a} is in the reserved range 240.0.0.0/4`;
  }
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
  return (prefix.addr & m) >>> 0 === (addr & m) >>> 0;
}

/** True if the two prefixes share any address (one contains the other). Host bits are ignored. */
export function prefixesOverlap(a: { addr: number; len: number }, b: { addr: number; len: number }): boolean {
  const m = maskOf(Math.min(a.len, b.len));
  return (a.addr & m) >>> 0 === (b.addr & m) >>> 0;
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
// Wire form (network byte order)

/** The address at buf[off, off + 4) (network order) as a uint32 in host order. */
export function readIPv4(buf: Buffer, off = 0): number {
  return buf.readUInt32BE(off);
}

/** Writes a uint32 address in network order at buf[off, off + 4). */
export function writeIPv4(buf: Buffer, off: number, addr: number): void {
  buf.writeUInt32BE(addr >>> 0, off);
}
