/**
 * IPv6 header (RFC 8200): a builder, a bounds-checked reader, the extension-header walk for
 * packets addressed to the router, and the upper-layer pseudo-header sum (RFC 8200 8.1).
 * Addresses are 16-byte arrays in network order (src/net/ipv6.ts) or text for tests and tools.
 */
import { DpfwdError } from '../errors';
import { requireIpv6 } from '../net/ipv6';
import { ETH_MIN_FRAME, EthernetOptions, ethernetHeaderLength, writeEthernetHeader } from './ethernet';

export const ETHERTYPE_IPV6 = 0x86dd;
export const IPV6_HEADER_LEN = 40;
/** The minimum link MTU (RFC 8200 5): an ICMPv6 error never exceeds it (RFC 4443 2.4(c)). */
export const IPV6_MIN_MTU = 1280;

export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;

/** How many extension headers the walk reads before giving up (Linux reads more; 8 covers every legitimate chain). */
export const IPV6_MAX_EXT_HEADERS = 8;

/** An address as given to a builder: text, or 16 bytes in network order. */
export type Ipv6Input = string | Uint8Array;

/** A builder's address argument as 16 bytes (text is parsed; EINVAL when malformed). */
export function requireAddr(a: Ipv6Input): Uint8Array {
  return typeof a === 'string' ? requireIpv6(a) : a;
}

export interface Ipv6Options {
  src: Ipv6Input;
  dst: Ipv6Input;
  nextHeader: number;
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
  /** Payload Length field; default the payload's length (tests may lie). */
  payloadLength?: number;
}

/** Writes the 40-byte header at buf[off]; returns off + 40. */
export function writeIpv6Header(buf: Buffer, off: number, opts: Ipv6Options, payloadLength: number): number {
  const tc = (opts.trafficClass ?? 0) & 0xff;
  const fl = (opts.flowLabel ?? 0) & 0xfffff;
  buf.writeUInt32BE(((6 << 28) | (tc << 20) | fl) >>> 0, off);
  buf.writeUInt16BE((opts.payloadLength ?? payloadLength) & 0xffff, off + 4);
  buf[off + 6] = opts.nextHeader & 0xff;
  buf[off + 7] = (opts.hopLimit ?? 64) & 0xff;
  buf.set(requireAddr(opts.src), off + 8);
  buf.set(requireAddr(opts.dst), off + 24);
  return off + IPV6_HEADER_LEN;
}

export type Ipv6FrameOptions = Omit<EthernetOptions, 'etherType'> & Ipv6Options & { payload: Uint8Array; minSize?: number };

/** Builds an Ethernet frame carrying one IPv6 packet (padded to 60 bytes). */
export function buildIpv6Frame(opts: Ipv6FrameOptions): Buffer {
  const eh = ethernetHeaderLength(opts.vlan);
  const buf = Buffer.alloc(Math.max(eh + IPV6_HEADER_LEN + opts.payload.length, opts.minSize ?? ETH_MIN_FRAME));
  writeEthernetHeader(buf, { ...opts, etherType: ETHERTYPE_IPV6 });
  writeIpv6Header(buf, eh, opts, opts.payload.length);
  buf.set(opts.payload, eh + IPV6_HEADER_LEN);
  return buf;
}

export interface Ipv6Header {
  /** Offset of the header in the buffer. */
  offset: number;
  version: number;
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
  nextHeader: number;
  hopLimit: number;
  /** Views into the buffer (no copy). */
  src: Uint8Array;
  dst: Uint8Array;
  /** offset + 40 */
  payloadOffset: number;
  /** Why the header cannot be used, in RFC 8200 order: version, then payload length vs frame. */
  problem?: 'version' | 'truncated-payload';
}

/**
 * Reads the IPv6 header at buf[off]; undefined when fewer than 40 bytes remain. A wrong version
 * or a Payload Length running past the buffer is reported in `problem` (bytes after the payload,
 * Ethernet padding, are allowed).
 */
export function readIpv6Header(buf: Uint8Array, off: number): Ipv6Header | undefined {
  if (off < 0 || off + IPV6_HEADER_LEN > buf.length) return undefined;
  const w0 = ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
  const payloadLength = (buf[off + 4] << 8) | buf[off + 5];
  const h: Ipv6Header = {
    offset: off,
    version: w0 >>> 28,
    trafficClass: (w0 >>> 20) & 0xff,
    flowLabel: w0 & 0xfffff,
    payloadLength,
    nextHeader: buf[off + 6],
    hopLimit: buf[off + 7],
    src: buf.subarray(off + 8, off + 24),
    dst: buf.subarray(off + 24, off + 40),
    payloadOffset: off + IPV6_HEADER_LEN,
  };
  if (h.version !== 6) h.problem = 'version';
  else if (off + IPV6_HEADER_LEN + payloadLength > buf.length) h.problem = 'truncated-payload';
  return h;
}

/** The extension headers the walk steps over (RFC 8200 4.1, plus AH, RFC 4302). ESP ends the walk: its contents are encrypted. */
export function isIpv6ExtensionHeader(nh: number): boolean {
  return nh === IPPROTO_HOPOPTS || nh === IPPROTO_ROUTING || nh === IPPROTO_FRAGMENT || nh === IPPROTO_DSTOPTS || nh === IPPROTO_AH;
}

export interface Ipv6Fragment {
  /** Offset of the fragment header in the buffer. */
  headerOffset: number;
  /** Fragment offset in bytes. */
  offset: number;
  more: boolean;
  id: number;
}

export type Ipv6ChainResult =
  | {
      ok: true;
      /** The first header that is not an extension header (59: no next header). */
      protocol: number;
      /** Where it starts in the buffer. */
      offset: number;
      /** Bytes of it inside the packet (to the end of the Payload Length). */
      length: number;
      /** Extension headers stepped over. */
      headers: number;
      /** Set when a fragment header was met; a non-first fragment ends the walk (its upper header is elsewhere). */
      fragment?: Ipv6Fragment;
    }
  | {
      ok: false;
      why: 'truncated' | 'too-many-headers' | 'hop-by-hop-not-first';
      /**
       * Offset from the start of the IPv6 header of the offending field (the ICMPv6 parameter
       * problem pointer, RFC 4443 3.4: code 1 at a misplaced hop-by-hop header's Next Header field).
       */
      pointer: number;
    };

/**
 * Walks the extension-header chain of the IPv6 packet whose header is `ip` inside `buf`, never
 * reading past the Payload Length (nor the buffer): hop-by-hop (only first, RFC 8200 4.1),
 * routing, destination options and fragment headers in 8-byte units, AH in 4-byte units
 * (RFC 4302 2.2). Stops at the first other header, at No Next Header, or at a non-first fragment.
 */
export function walkIpv6Chain(buf: Uint8Array, ip: Ipv6Header, maxHeaders = IPV6_MAX_EXT_HEADERS): Ipv6ChainResult {
  const base = ip.offset;
  const end = Math.min(buf.length, ip.payloadOffset + ip.payloadLength);
  let nh = ip.nextHeader;
  let nhField = base + 6; // where the current Next Header value was read from
  let off = ip.payloadOffset;
  let headers = 0;
  let fragment: Ipv6Fragment | undefined;
  while (isIpv6ExtensionHeader(nh)) {
    if (nh === IPPROTO_HOPOPTS && headers > 0) return { ok: false, why: 'hop-by-hop-not-first', pointer: nhField - base };
    if (headers >= maxHeaders) return { ok: false, why: 'too-many-headers', pointer: nhField - base };
    if (off + 8 > end) return { ok: false, why: 'truncated', pointer: nhField - base };
    let len: number;
    if (nh === IPPROTO_FRAGMENT) {
      len = 8;
      const fo = (buf[off + 2] << 8) | buf[off + 3];
      fragment = {
        headerOffset: off,
        offset: fo & 0xfff8,
        more: (fo & 1) !== 0,
        id: ((buf[off + 4] << 24) | (buf[off + 5] << 16) | (buf[off + 6] << 8) | buf[off + 7]) >>> 0,
      };
    } else if (nh === IPPROTO_AH) {
      len = (buf[off + 1] + 2) * 4;
    } else {
      len = (buf[off + 1] + 1) * 8;
    }
    if (off + len > end) return { ok: false, why: 'truncated', pointer: off + 1 - base };
    headers++;
    nhField = off;
    nh = buf[off];
    off += len;
    if (fragment && fragment.offset !== 0) break;
  }
  return { ok: true, protocol: nh, offset: off, length: end - off, headers, fragment };
}

/**
 * One's-complement sum (folded to 16 bits, not complemented) of the upper-layer pseudo-header
 * (RFC 8200 8.1): source, destination, upper-layer length, next header.
 */
export function ipv6PseudoHeaderSum(src: Uint8Array, dst: Uint8Array, upperLength: number, nextHeader: number): number {
  let sum = 0;
  for (let i = 0; i < 16; i += 2) sum += ((src[i] << 8) | src[i + 1]) + ((dst[i] << 8) | dst[i + 1]);
  sum += Math.floor(upperLength / 0x10000) + (upperLength & 0xffff) + (nextHeader & 0xff);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** Throws EPACKET: the one error of the IPv6 builders that take a received frame. */
export function badPacket(message: string): never {
  throw new DpfwdError('EPACKET', message);
}
