/**
 * IPv6 addresses and prefixes: the one parser and formatter of them (config, CLI, API, route
 * files, packets), the sibling of src/net/ipv4.ts. A leaf module: it imports nothing of dpfwd
 * but its error class and the IPv4 dotted-quad scanner (for the embedded IPv4 tail).
 *
 * Addresses are 16-byte Uint8Arrays in network order (the wire form: no conversion at the
 * boundary). Text is RFC 4291 2.2 on input (every form: `::`, an embedded dotted-quad tail, hex
 * in either case) and RFC 5952 on output (lower case, no leading zeros, the longest run of two or
 * more zero groups as `::`, the first on a tie; IPv4-mapped addresses as ::ffff:a.b.c.d, 5952 §5).
 * Zone ids (`fe80::1%eth0`) are not addresses: an interface is named with `dev`.
 * parseIpv6 is the scanner (undefined when malformed); requireIpv6 and the prefix parsers throw
 * DpfwdError('EINVAL') with messages in ipv4.ts's style.
 */
import { fail, scanIPv4, show } from './ipv4';
import type { Mac } from './mac';

export const IPV6_ADDR_LEN = 16;

/** A network prefix: `addr` has no host bits set (enforced by parseIpv6Prefix). */
export interface Ipv6Prefix {
  addr: Uint8Array;
  len: number;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Scans an IPv6 address in s[start, end) into 16 bytes (network order), or undefined when it
 * is not one of RFC 4291 2.2's text forms: eight groups of 1-4 hex digits; one `::` standing for
 * one or more zero groups; the last 32 bits optionally as a dotted quad (no leading zeros).
 */
export function scanIpv6(s: string, start: number, end: number): Uint8Array | undefined {
  if (end - start < 2 || end - start > 45) return undefined;
  const out = new Uint8Array(16);
  let n = 0; // groups written
  let gap = -1; // group index where `::` stands
  let i = start;
  if (s.charCodeAt(i) === 58 /* : */) {
    if (s.charCodeAt(i + 1) !== 58) return undefined;
    gap = 0;
    i += 2;
  }
  while (i < end) {
    if (n >= 8) return undefined;
    let v = 0;
    let j = i;
    while (j < end) {
      const d = hexVal(s.charCodeAt(j));
      if (d < 0) break;
      v = v * 16 + d;
      j++;
    }
    const digits = j - i;
    if (j < end && s.charCodeAt(j) === 46 /* . */) {
      // The embedded IPv4 tail: the last 32 bits, to the end of the text.
      if (n > 6) return undefined;
      const a = scanIPv4(s, i, end);
      if (a < 0) return undefined;
      out[2 * n] = a >>> 24;
      out[2 * n + 1] = (a >>> 16) & 255;
      out[2 * n + 2] = (a >>> 8) & 255;
      out[2 * n + 3] = a & 255;
      n += 2;
      i = end;
      break;
    }
    if (digits === 0 || digits > 4) return undefined;
    out[2 * n] = v >>> 8;
    out[2 * n + 1] = v & 255;
    n++;
    i = j;
    if (i === end) break;
    if (s.charCodeAt(i) !== 58) return undefined;
    i++;
    if (i < end && s.charCodeAt(i) === 58) {
      if (gap >= 0) return undefined;
      gap = n;
      i++;
    } else if (i === end) {
      return undefined; // a single trailing colon
    }
  }
  if (gap < 0) return n === 8 ? out : undefined;
  if (n >= 8) return undefined; // `::` must stand for at least one group
  // Move the groups after the gap to the end.
  const tail = (n - gap) * 2;
  out.copyWithin(16 - tail, gap * 2, n * 2);
  out.fill(0, gap * 2, 16 - tail);
  return out;
}

/** Parses any RFC 4291 text form to 16 bytes (network order); undefined when malformed. */
export function parseIpv6(s: string): Uint8Array | undefined {
  if (typeof s !== 'string') return undefined;
  return scanIpv6(s, 0, s.length);
}

/** True if s is an IPv6 address parseIpv6 takes. */
export function isIpv6(s: string): boolean {
  return parseIpv6(s) !== undefined;
}

function ipv6Problem(s: string, what: string): string {
  if (typeof s === 'string' && s.includes('%')) {
    return `${show(s)} is not ${what}: zone ids (%name) are not accepted; name the interface with dev`;
  }
  return `${typeof s === 'string' ? show(s) : String(s)} is not ${what} (expected hex groups like 2001:db8::1)`;
}

/** parseIpv6 that throws DpfwdError('EINVAL') naming the input. */
export function requireIpv6(s: string): Uint8Array {
  const a = parseIpv6(s);
  if (!a) fail(ipv6Problem(s, 'an IPv6 address'));
  return a;
}

/** Formats 16 bytes (network order) as RFC 5952 canonical text. */
export function formatIpv6(b: Uint8Array, off = 0): string {
  // The longest run of two or more zero groups, the first on a tie.
  let best = -1;
  let bestLen = 1;
  for (let g = 0; g < 8;) {
    if (b[off + 2 * g] === 0 && b[off + 2 * g + 1] === 0) {
      let e = g + 1;
      while (e < 8 && b[off + 2 * e] === 0 && b[off + 2 * e + 1] === 0) e++;
      if (e - g > bestLen) {
        best = g;
        bestLen = e - g;
      }
      g = e;
    } else {
      g++;
    }
  }
  if (isIpv4Mapped(b, off)) {
    return `::ffff:${b[off + 12]}.${b[off + 13]}.${b[off + 14]}.${b[off + 15]}`;
  }
  let s = '';
  for (let g = 0; g < 8; g++) {
    if (g === best) {
      s += '::';
      g += bestLen - 1;
      continue;
    }
    if (s !== '' && !s.endsWith(':')) s += ':';
    s += ((b[off + 2 * g] << 8) | b[off + 2 * g + 1]).toString(16);
  }
  return s;
}

/** True when a and b hold the same 16 bytes. */
export function ipv6Equal(a: Uint8Array, b: Uint8Array, aOff = 0, bOff = 0): boolean {
  for (let i = 0; i < 16; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Address kinds (RFC 4291 2.4)

export function isIpv6Unspecified(b: Uint8Array, off = 0): boolean {
  for (let i = 0; i < 16; i++) if (b[off + i] !== 0) return false;
  return true;
}

export function isIpv6Loopback(b: Uint8Array, off = 0): boolean {
  for (let i = 0; i < 15; i++) if (b[off + i] !== 0) return false;
  return b[off + 15] === 1;
}

/** ff00::/8 */
export function isIpv6Multicast(b: Uint8Array, off = 0): boolean {
  return b[off] === 0xff;
}

/** fe80::/10 */
export function isIpv6LinkLocal(b: Uint8Array, off = 0): boolean {
  return b[off] === 0xfe && (b[off + 1] & 0xc0) === 0x80;
}

/** ::ffff:0:0/96 */
export function isIpv4Mapped(b: Uint8Array, off = 0): boolean {
  for (let i = 0; i < 10; i++) if (b[off + i] !== 0) return false;
  return b[off + 10] === 0xff && b[off + 11] === 0xff;
}

/** The 4-bit scope of a multicast address (RFC 4291 2.7: 1 interface, 2 link, 5 site, 0xe global). */
export function ipv6MulticastScope(b: Uint8Array, off = 0): number {
  return b[off + 1] & 0x0f;
}

export const IPV6_SCOPE = { RESERVED: 0, INTERFACE: 1, LINK: 2, REALM: 3, ADMIN: 4, SITE: 5, ORGANIZATION: 8, GLOBAL: 0xe } as const;

/** ff02::1, ff02::2 */
export const ALL_NODES = parseIpv6('ff02::1')!;
export const ALL_ROUTERS = parseIpv6('ff02::2')!;

/** The solicited-node multicast address of `b`: ff02::1:ff00:0/104 plus its low 24 bits (RFC 4291 2.7.1). */
export function solicitedNodeMulticast(b: Uint8Array, off = 0): Uint8Array {
  const out = new Uint8Array(16);
  out[0] = 0xff;
  out[1] = 0x02;
  out[11] = 0x01;
  out[12] = 0xff;
  out[13] = b[off + 13];
  out[14] = b[off + 14];
  out[15] = b[off + 15];
  return out;
}

/** The Ethernet group a multicast address maps to: 33:33 and its low 32 bits (RFC 2464 7). */
export function ipv6MulticastMac(b: Uint8Array, off = 0): Mac {
  return 0x3333 * 0x100000000 + (((b[off + 12] << 24) | (b[off + 13] << 16) | (b[off + 14] << 8) | b[off + 15]) >>> 0);
}

/** The EUI-64 interface identifier of a MAC (RFC 4291 2.5.1 / appendix A): ff:fe in the middle, U/L bit flipped. */
export function eui64InterfaceId(mac: Mac): Uint8Array {
  const out = new Uint8Array(8);
  const hi = Math.floor(mac / 0x1000000); // first three bytes
  const lo = mac % 0x1000000;
  out[0] = ((hi >>> 16) & 255) ^ 0x02;
  out[1] = (hi >>> 8) & 255;
  out[2] = hi & 255;
  out[3] = 0xff;
  out[4] = 0xfe;
  out[5] = (lo >>> 16) & 255;
  out[6] = (lo >>> 8) & 255;
  out[7] = lo & 255;
  return out;
}

/** fe80::/64 with the MAC's EUI-64 interface identifier (RFC 4862 5.3, RFC 2464 5). */
export function eui64LinkLocal(mac: Mac): Uint8Array {
  const out = new Uint8Array(16);
  out[0] = 0xfe;
  out[1] = 0x80;
  out.set(eui64InterfaceId(mac), 8);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Prefixes

/** `b` with every bit past `len` cleared (a copy). */
export function ipv6NetworkOf(b: Uint8Array, len: number): Uint8Array {
  if (!Number.isInteger(len) || len < 0 || len > 128) fail(`${len} is not an IPv6 prefix length (0-128)`);
  const out = new Uint8Array(16);
  const whole = len >>> 3;
  for (let i = 0; i < whole; i++) out[i] = b[i];
  if (len & 7) out[whole] = b[whole] & (0xff << (8 - (len & 7)));
  return out;
}

/** True if the first `len` bits of a and b agree. */
export function ipv6PrefixMatch(a: Uint8Array, b: Uint8Array, len: number): boolean {
  const whole = len >>> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  if ((len & 7) === 0) return true;
  const m = 0xff << (8 - (len & 7));
  return ((a[whole] ^ b[whole]) & m) === 0;
}

/** Splits "addr/len"; returns [addr, len] or throws "`s` is not an IPv6 prefix". */
function scanIpv6Prefix(s: string): [Uint8Array, number] {
  if (typeof s !== 'string') fail(`${String(s)} is not an IPv6 prefix (expected address/length like 2001:db8::/32)`);
  const slash = s.indexOf('/');
  if (slash < 0) fail(`${show(s)} is not an IPv6 prefix (missing /length, e.g. ${show(s)}/128)`);
  const a = scanIpv6(s, 0, slash);
  if (!a) {
    if (s.includes('%')) fail(`${show(s)} is not an IPv6 prefix: zone ids (%name) are not accepted`);
    fail(`${show(s)} is not an IPv6 prefix (expected address/length like 2001:db8::/32)`);
  }
  const ls = s.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(ls) || Number(ls) > 128) fail(`${show(s)} is not an IPv6 prefix (length 0-128)`);
  return [a, Number(ls)];
}

/** Parses a network prefix "2001:db8::/32". Host bits set is an error that suggests the network. */
export function parseIpv6Prefix(s: string): Ipv6Prefix {
  const [addr, len] = scanIpv6Prefix(s);
  if (!ipv6Equal(addr, ipv6NetworkOf(addr, len))) {
    fail(`${s} has host bits set; did you mean ${formatIpv6(ipv6NetworkOf(addr, len))}/${len}?`);
  }
  return { addr, len };
}

/** Formats a prefix as "addr/len". */
export function formatIpv6Prefix(p: { addr: Uint8Array; len: number }): string {
  return `${formatIpv6(p.addr)}/${p.len}`;
}

/**
 * Parses an interface address "2001:db8:1::1/64": host bits expected; the address must be
 * unicast (not ::, loopback or multicast) and the length 1-128.
 */
export function parseIpv6InterfaceAddress(s: string): Ipv6Prefix {
  const [addr, len] = scanIpv6Prefix(s);
  if (len === 0) fail(`${s} is not an interface address: a /0 subnet would make every address connected`);
  if (isIpv6Unspecified(addr)) fail(`${s} is not an interface address: :: is the unspecified address`);
  if (isIpv6Loopback(addr)) fail(`${s} is not an interface address: ::1 is the loopback address`);
  if (isIpv6Multicast(addr)) fail(`${s} is not an interface address: ${formatIpv6(addr)} is a multicast address`);
  return { addr, len };
}
