/**
 * IPv4 header builder (with fields that tests can corrupt) and a tolerant parser that
 * reports problems in the RFC 1812 order the fast path checks them.
 */
import { DpfwdError } from '../errors';
import { addressClass, formatIPv4, parseIPv4, readIPv4, writeIPv4 } from '../net/ipv4';
import { internetChecksum, verifyIpv4HeaderChecksum } from './checksum';
import { ETH_MIN_FRAME, ETHERTYPE_IPV4, EthernetOptions, ethernetHeaderLength, writeEthernetHeader } from './ethernet';

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPV4_HEADER_LEN = 20;

/** An address as 4 bytes in network order: a uint32 (host order) as it is, a dotted quad parsed. */
export function ipToBuffer(ip: string | number): Buffer {
  const b = Buffer.alloc(4);
  writeIPv4(b, 0, typeof ip === 'number' ? ip : parseIPv4(ip));
  return b;
}

/** The address at buf[off, off + 4) as a dotted quad. */
export function ipFromBuffer(buf: Buffer, off = 0): string {
  return formatIPv4(readIPv4(buf, off));
}

/**
 * Why `ip` is not a unique host address (RFC 1812 4.3.2.7 / 5.3.7), or undefined if it is one,
 * in the words of an ICMP error decision (src/net/ipv4.ts's addressClass decides).
 */
export function notUniqueHostReason(ip: string): string | undefined {
  switch (addressClass(parseIPv4(ip))) {
    case 'unicast':
      return undefined;
    case 'limited-broadcast':
      return 'limited broadcast 255.255.255.255';
    case 'this-network':
      return `${ip} is in 0.0.0.0/8`;
    case 'loopback':
      return `${ip} is loopback (127.0.0.0/8)`;
    case 'multicast':
      return `${ip} is multicast (224.0.0.0/4)`;
    default:
      return `${ip} is class E (240.0.0.0/4)`;
  }
}

export interface Ipv4Options {
  /** dotted text (tests, tools) or a uint32 in host order (the router's own: nothing to parse) */
  src: string | number;
  dst: string | number;
  protocol: number;
  ttl?: number;
  id?: number;
  tos?: number;
  /** Don't Fragment. */
  df?: boolean;
  /** More Fragments. */
  mf?: boolean;
  /** Fragment offset in 8-byte units (0..8191). */
  fragmentOffset?: number;
  /** IP options, padded with zeros (EOL) to a multiple of 4; raises IHL above 5. */
  options?: Buffer;
  // Overrides to build malformed headers in tests; the checksum is computed after them.
  version?: number;
  ihl?: number;
  totalLength?: number;
  /** Explicit header checksum instead of the computed one. */
  checksum?: number;
}

function u(n: number | undefined, def: number, max: number, name: string): number {
  const v = n ?? def;
  if (!Number.isInteger(v) || v < 0 || v > max) throw new DpfwdError('EINVAL', `${name} ${v} is not an integer in 0..${max}`);
  return v;
}

/** Header length in bytes that `opts` produces (20 + padded options). */
export function ipv4HeaderLength(opts: Pick<Ipv4Options, 'options'>): number {
  const ol = opts.options ? (opts.options.length + 3) & ~3 : 0;
  if (IPV4_HEADER_LEN + ol > 60) throw new DpfwdError('EINVAL', `IP options of ${opts.options!.length} bytes exceed the 40 allowed`);
  return IPV4_HEADER_LEN + ol;
}

/**
 * Writes an IPv4 header at `off` for a datagram carrying `payloadLength` bytes; returns the
 * header length. The payload must be written by the caller (after the header).
 */
export function writeIpv4Header(buf: Buffer, off: number, opts: Ipv4Options, payloadLength: number): number {
  const hl = ipv4HeaderLength(opts);
  const version = u(opts.version, 4, 15, 'version');
  const ihl = u(opts.ihl, hl / 4, 15, 'ihl');
  const total = u(opts.totalLength, hl + payloadLength, 0xffff, 'totalLength');
  buf[off] = (version << 4) | ihl;
  buf[off + 1] = u(opts.tos, 0, 255, 'tos');
  buf.writeUInt16BE(total, off + 2);
  buf.writeUInt16BE(u(opts.id, 0, 0xffff, 'id'), off + 4);
  const frag = u(opts.fragmentOffset, 0, 0x1fff, 'fragmentOffset');
  buf.writeUInt16BE((opts.df ? 0x4000 : 0) | (opts.mf ? 0x2000 : 0) | frag, off + 6);
  buf[off + 8] = u(opts.ttl, 64, 255, 'ttl');
  buf[off + 9] = u(opts.protocol, 0, 255, 'protocol');
  buf.writeUInt16BE(0, off + 10);
  ipToBuffer(opts.src).copy(buf, off + 12);
  ipToBuffer(opts.dst).copy(buf, off + 16);
  if (opts.options) {
    buf.fill(0, off + 20, off + hl);
    opts.options.copy(buf, off + 20);
  }
  // Checksum over the real header bytes (hl), whatever IHL claims, so corrupt-IHL tests isolate IHL.
  const sum = opts.checksum !== undefined ? u(opts.checksum, 0, 0xffff, 'checksum') : checksumOver(buf, off, hl);
  buf.writeUInt16BE(sum, off + 10);
  return hl;
}

function checksumOver(buf: Buffer, off: number, hl: number): number {
  // The checksum field is zero here (written just before), so a plain sum over hl bytes is right.
  return internetChecksum(buf, off, hl);
}

export type Ipv4FrameOptions = Omit<EthernetOptions, 'etherType'> & Ipv4Options & { payload: Buffer; minSize?: number };

/** Builds Ethernet + IPv4 + payload, zero-padded to `minSize` (default 60, no FCS). */
export function buildIpv4Frame(opts: Ipv4FrameOptions): Buffer {
  const eh = ethernetHeaderLength(opts.vlan);
  const hl = ipv4HeaderLength(opts);
  const buf = Buffer.alloc(Math.max(eh + hl + opts.payload.length, opts.minSize ?? ETH_MIN_FRAME));
  writeEthernetHeader(buf, { ...opts, etherType: ETHERTYPE_IPV4 });
  writeIpv4Header(buf, eh, opts, opts.payload.length);
  opts.payload.copy(buf, eh + hl);
  return buf;
}

export interface Ipv4Header {
  /** Offset of the header in the buffer it was parsed from. */
  offset: number;
  version: number;
  ihl: number;
  /** IHL·4. */
  headerLength: number;
  tos: number;
  totalLength: number;
  id: number;
  df: boolean;
  mf: boolean;
  /** In 8-byte units. */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  checksumValid: boolean;
  src: string;
  dst: string;
  /** Option bytes (IHL·4 − 20), empty when none or unreadable. */
  options: Buffer;
  /** Offset of the payload (offset + headerLength). */
  payloadOffset: number;
  /** Payload bytes actually present: min(totalLength, what the buffer holds) − headerLength, ≥ 0. */
  payloadLength: number;
  /** Problems in RFC 1812 check order; empty when the header is well formed. */
  problems: string[];
}

/**
 * Tolerant parse of the IPv4 header at `off`: undefined if fewer than 20 bytes remain, otherwise
 * the fields plus `problems`. With `strict`, throws EPACKET instead of returning problems.
 */
export function readIpv4Header(buf: Buffer, off = 0, strict = false): Ipv4Header | undefined {
  const avail = buf.length - off;
  if (avail < IPV4_HEADER_LEN) {
    if (strict) throw new DpfwdError('EPACKET', `IPv4 header truncated: ${Math.max(avail, 0)} of 20 bytes at offset ${off}`);
    return undefined;
  }
  const problems: string[] = [];
  const version = buf[off] >> 4;
  const ihl = buf[off] & 0x0f;
  const headerLength = ihl * 4;
  const totalLength = buf.readUInt16BE(off + 2);
  if (version !== 4) problems.push(`version ${version} is not 4`);
  if (ihl < 5) problems.push(`IHL ${ihl} is below 5`);
  else if (headerLength > avail) problems.push(`header of ${headerLength} bytes runs past the ${avail} bytes present`);
  if (totalLength < Math.max(headerLength, IPV4_HEADER_LEN)) problems.push(`total length ${totalLength} is below the header length ${headerLength}`);
  else if (totalLength > avail) problems.push(`total length ${totalLength} exceeds the ${avail} bytes present`);
  const checksumValid = ihl >= 5 && headerLength <= avail && verifyIpv4HeaderChecksum(buf, off);
  if (!checksumValid && ihl >= 5 && headerLength <= avail) problems.push('header checksum does not verify');
  const flags = buf.readUInt16BE(off + 6);
  const hlUsable = ihl >= 5 && headerLength <= avail ? headerLength : IPV4_HEADER_LEN;
  const end = Math.min(avail, Math.max(totalLength, hlUsable));
  const h: Ipv4Header = {
    offset: off,
    version,
    ihl,
    headerLength,
    tos: buf[off + 1],
    totalLength,
    id: buf.readUInt16BE(off + 4),
    df: (flags & 0x4000) !== 0,
    mf: (flags & 0x2000) !== 0,
    fragmentOffset: flags & 0x1fff,
    ttl: buf[off + 8],
    protocol: buf[off + 9],
    checksum: buf.readUInt16BE(off + 10),
    checksumValid,
    src: ipFromBuffer(buf, off + 12),
    dst: ipFromBuffer(buf, off + 16),
    options: Buffer.from(buf.subarray(off + 20, off + hlUsable)),
    payloadOffset: off + hlUsable,
    payloadLength: Math.max(0, end - hlUsable),
    problems,
  };
  if (strict && problems.length) throw new DpfwdError('EPACKET', `malformed IPv4 header at offset ${off}: ${problems.join('; ')}`);
  return h;
}

/**
 * RFC 791 3.1: the options of every fragment but the first. An option without the copy flag
 * (0x80) becomes NOPs, as Linux's ip_options_fragment does, so every fragment has the same
 * header length; a malformed option ends the walk (left as it is). Same rule as the worker's
 * options_for_later_fragments (native/dataplane/worker.c).
 */
function optionsForLaterFragments(opt: Buffer): void {
  for (let k = 0; k < opt.length;) {
    if (opt[k] === 0) return; // end of option list
    if (opt[k] === 1) {
      k++; // NOP
      continue;
    }
    const len = k + 1 < opt.length ? opt[k + 1] : 0;
    if (len < 2 || len > opt.length - k) return;
    if (!(opt[k] & 0x80)) opt.fill(1, k, k + len);
    k += len;
  }
}

/**
 * RFC 791 fragmentation of one frame's IPv4 datagram (at `ipOff`, after the Ethernet header and
 * any VLAN tags) into frames whose datagrams fit `mtu`, as the worker's fragment() does: each
 * carries the same link header and the datagram's header; the first keeps every option, the
 * others only those with the copy flag (the rest NOPs); payloads of a multiple of 8 bytes but
 * the last; a fragment is fragmented again (its offset carried on, its MF kept on the last
 * piece); each has its own header checksum. Identification is the datagram's own unless `id`
 * is given (a datagram the router made itself). A datagram that fits is returned as is.
 * Throws EPACKET when DF is set or the MTU leaves no room for 8 bytes of payload.
 */
export function fragmentIpv4Frame(frame: Buffer, ipOff: number, mtu: number, id?: number): Buffer[] {
  const hl = (frame[ipOff] & 15) * 4;
  const total = frame.readUInt16BE(ipOff + 2);
  if (total <= mtu) return [frame];
  const fo = frame.readUInt16BE(ipOff + 6);
  if (fo & 0x4000) throw new DpfwdError('EPACKET', 'the datagram has DF set and is larger than the MTU');
  const step = Math.floor((mtu - hl) / 8) * 8;
  if (hl < IPV4_HEADER_LEN || step < 8) throw new DpfwdError('EPACKET', `MTU ${mtu} leaves no room for a fragment after a ${hl}-byte header`);
  if ((fo & 0x1fff) * 8 + total - hl > 0xffff) throw new DpfwdError('EPACKET', 'the fragment ends past offset 65535');
  const first = Buffer.from(frame.subarray(0, ipOff + hl));
  if (id !== undefined) first.writeUInt16BE(id & 0xffff, ipOff + 4);
  const later = Buffer.from(first);
  optionsForLaterFragments(later.subarray(ipOff + IPV4_HEADER_LEN, ipOff + hl));
  const payload = frame.subarray(ipOff + hl, ipOff + total);
  const out: Buffer[] = [];
  for (let at = 0; at < payload.length; at += step) {
    const part = payload.subarray(at, Math.min(at + step, payload.length));
    const last = at + part.length >= payload.length;
    const f = Buffer.alloc(Math.max(ipOff + hl + part.length, ETH_MIN_FRAME));
    (at === 0 ? first : later).copy(f);
    f.writeUInt16BE(hl + part.length, ipOff + 2);
    f.writeUInt16BE((last ? fo & 0x2000 : 0x2000) | ((fo & 0x1fff) + at / 8), ipOff + 6);
    f.writeUInt16BE(0, ipOff + 10);
    f.writeUInt16BE(internetChecksum(f, ipOff, hl), ipOff + 10);
    part.copy(f, ipOff + hl);
    out.push(f);
  }
  return out;
}
