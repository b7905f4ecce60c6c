/** UDP over IPv4: frame builder with a total-size option, checksum with pseudo-header, parser. */
import { DpfwdError } from '../errors';
import { internetChecksum, onesComplementSum } from './checksum';
import { ETH_MIN_FRAME, EthernetOptions, ethernetHeaderLength } from './ethernet';
import { IPPROTO_UDP, Ipv4Options, buildIpv4Frame, ipToBuffer, ipv4HeaderLength } from './ipv4';

export const UDP_HEADER_LEN = 8;

/** One's-complement sum of the IPv4 pseudo-header (src, dst, zero, protocol, length). */
export function pseudoHeaderSum(src: string | number, dst: string | number, protocol: number, length: number): number {
  const ph = Buffer.alloc(12);
  ipToBuffer(src).copy(ph, 0);
  ipToBuffer(dst).copy(ph, 4);
  ph[9] = protocol;
  ph.writeUInt16BE(length, 10);
  return onesComplementSum(ph);
}

/**
 * UDP checksum of `segment` (header + data, with its checksum field as given: zero it first when
 * computing). A computed 0 is sent as 0xFFFF (RFC 768).
 */
export function udpChecksum(src: string | number, dst: string | number, segment: Buffer): number {
  const c = internetChecksum(segment, 0, segment.length, pseudoHeaderSum(src, dst, IPPROTO_UDP, segment.length));
  return c === 0 ? 0xffff : c;
}

export type Udp4Options = Omit<EthernetOptions, 'etherType'> &
  Omit<Ipv4Options, 'protocol'> & {
    sport: number;
    dport: number;
    /** UDP data. Default: zeros filling `size`, or empty. */
    payload?: Buffer;
    /** Total frame length without FCS (≥ 60); the payload is zero-filled or cut to fit. */
    size?: number;
    /** Explicit UDP checksum (0 = none) instead of the computed one. */
    udpChecksum?: number;
  };

function port(p: number, name: string): number {
  if (!Number.isInteger(p) || p < 0 || p > 0xffff) throw new DpfwdError('EINVAL', `${name} ${p} is not in 0..65535`);
  return p;
}

/**
 * Builds Ethernet [+ VLAN] + IPv4 + UDP. With `size`, the frame is exactly `size` bytes and the
 * UDP payload takes what is left after the headers; otherwise frames are padded to 60 bytes (the
 * padding is outside the IP total length, as on the wire).
 */
export function buildUdp4(opts: Udp4Options): Buffer {
  const hdrs = ethernetHeaderLength(opts.vlan) + ipv4HeaderLength(opts) + UDP_HEADER_LEN;
  let data = opts.payload ?? Buffer.alloc(0);
  if (opts.size !== undefined) {
    if (!Number.isInteger(opts.size) || opts.size < Math.max(ETH_MIN_FRAME, hdrs)) {
      throw new DpfwdError('EINVAL', `frame size ${opts.size} is below the minimum ${Math.max(ETH_MIN_FRAME, hdrs)} (60 without FCS, or the headers)`);
    }
    const want = opts.size - hdrs;
    const d = Buffer.alloc(want);
    data.copy(d, 0, 0, Math.min(want, data.length));
    data = d;
  }
  const seg = Buffer.alloc(UDP_HEADER_LEN + data.length);
  seg.writeUInt16BE(port(opts.sport, 'sport'), 0);
  seg.writeUInt16BE(port(opts.dport, 'dport'), 2);
  seg.writeUInt16BE(seg.length & 0xffff, 4);
  data.copy(seg, UDP_HEADER_LEN);
  seg.writeUInt16BE(opts.udpChecksum ?? udpChecksum(opts.src, opts.dst, seg), 6);
  return buildIpv4Frame({ ...opts, protocol: IPPROTO_UDP, payload: seg, minSize: opts.size ?? ETH_MIN_FRAME });
}

export interface UdpHeader {
  kind: 'udp';
  offset: number;
  sport: number;
  dport: number;
  /** The length field. */
  length: number;
  checksum: number;
  payloadOffset: number;
  /** Data bytes present: min(length field, bytes available) − 8, ≥ 0. */
  payloadLength: number;
  problems: string[];
}

/**
 * Tolerant parse of a UDP header at `off` with `avail` bytes of IP payload (default: to the end
 * of `buf`). Undefined if fewer than 8 bytes. Checksums are not verified (see verifyUdpChecksum).
 */
export function parseUdp(buf: Buffer, off: number, avail = buf.length - off, strict = false): UdpHeader | undefined {
  if (avail < UDP_HEADER_LEN || off + UDP_HEADER_LEN > buf.length) {
    if (strict) throw new DpfwdError('EPACKET', `UDP header truncated at offset ${off}`);
    return undefined;
  }
  const length = buf.readUInt16BE(off + 4);
  const problems: string[] = [];
  if (length < UDP_HEADER_LEN) problems.push(`UDP length ${length} is below 8`);
  else if (length > avail) problems.push(`UDP length ${length} exceeds the ${avail} bytes of IP payload`);
  if (strict && problems.length) throw new DpfwdError('EPACKET', `malformed UDP header at offset ${off}: ${problems.join('; ')}`);
  return {
    kind: 'udp',
    offset: off,
    sport: buf.readUInt16BE(off),
    dport: buf.readUInt16BE(off + 2),
    length,
    checksum: buf.readUInt16BE(off + 6),
    payloadOffset: off + UDP_HEADER_LEN,
    payloadLength: Math.max(0, Math.min(length, avail) - UDP_HEADER_LEN),
    problems,
  };
}

/** True if the UDP segment at `off` (length from its header) verifies, or carries no checksum (0). */
export function verifyUdpChecksum(src: string, dst: string, buf: Buffer, off: number): boolean {
  const length = buf.readUInt16BE(off + 4);
  if (buf.readUInt16BE(off + 6) === 0) return true;
  if (length < UDP_HEADER_LEN || off + length > buf.length) return false;
  return onesComplementSum(buf, off, length, pseudoHeaderSum(src, dst, IPPROTO_UDP, length)) === 0xffff;
}
