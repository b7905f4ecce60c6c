/**
 * ICMP for the control plane: echo request/reply and the error messages a router sends
 * (destination unreachable, time exceeded, parameter problem, redirect), with RFC 1812's rules
 * on when an error must not be sent.
 */
import { DpfwdError } from '../errors';
import { addressClass, parseIPv4 } from '../net/ipv4';
import type { Mac } from '../net/mac';
import { internetChecksum, verifyChecksum } from './checksum';
import { ETHERTYPE_IPV4, EthernetOptions, isMulticastMac, parseEthernet } from './ethernet';
import { IPPROTO_ICMP, Ipv4Options, buildIpv4Frame, notUniqueHostReason, readIpv4Header } from './ipv4';

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_SOURCE_QUENCH = 4;
export const ICMP_REDIRECT = 5;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAM_PROBLEM = 12;
export const ICMP_HEADER_LEN = 8;

/** Codes of type 3. */
export const ICMP_UNREACH = {
  NET: 0,
  HOST: 1,
  PROTOCOL: 2,
  PORT: 3,
  FRAG_NEEDED: 4,
  SRC_ROUTE_FAILED: 5,
  NET_PROHIBITED: 9,
  HOST_PROHIBITED: 10,
  ADMIN_PROHIBITED: 13,
} as const;
/** Codes of type 11. */
export const ICMP_TIMXCEED = { TTL: 0, REASSEMBLY: 1 } as const;

/** ICMP error types (RFC 792 / 1812). */
const ERROR_TYPES = new Set([ICMP_DEST_UNREACH, ICMP_SOURCE_QUENCH, ICMP_REDIRECT, ICMP_TIME_EXCEEDED, ICMP_PARAM_PROBLEM]);
/** Types above this are unknown; like Linux, we never answer them with an error. */
const MAX_KNOWN_TYPE = 18;

/** True for ICMP types that are error messages (3, 4, 5, 11, 12). */
export function isIcmpErrorType(type: number): boolean {
  return ERROR_TYPES.has(type);
}

function icmpMessage(type: number, code: number, rest: Buffer, body: Buffer): Buffer {
  const m = Buffer.alloc(ICMP_HEADER_LEN + body.length);
  m[0] = type;
  m[1] = code;
  rest.copy(m, 4, 0, 4);
  body.copy(m, ICMP_HEADER_LEN);
  m.writeUInt16BE(internetChecksum(m), 2);
  return m;
}

export type IcmpEchoRequestOptions = Omit<EthernetOptions, 'etherType'> &
  Omit<Ipv4Options, 'protocol'> & { identifier?: number; sequence?: number; payload?: Buffer };

/** Builds an ICMP echo request frame (padded to 60 bytes). */
export function buildIcmpEchoRequest(opts: IcmpEchoRequestOptions): Buffer {
  const rest = Buffer.alloc(4);
  rest.writeUInt16BE((opts.identifier ?? 0) & 0xffff, 0);
  rest.writeUInt16BE((opts.sequence ?? 0) & 0xffff, 2);
  return buildIpv4Frame({ ...opts, protocol: IPPROTO_ICMP, payload: icmpMessage(ICMP_ECHO_REQUEST, 0, rest, opts.payload ?? Buffer.alloc(0)) });
}

export interface IcmpEchoReplyOptions {
  /** Source address of the reply; default the request's destination (required if that was multicast/broadcast). */
  srcIp?: string;
  /** Default the request's source MAC. */
  dstMac?: string | Mac;
  ttl?: number;
  /** IP identification of the reply (default 0). */
  ipId?: number;
}

/**
 * Builds the echo reply to an echo request frame: addresses swapped, same identifier, sequence and
 * data, same VLAN tags and TOS, fresh TTL, no IP options (RFC 1122's SHOULD on echoing record-route
 * is not implemented). Throws EPACKET if `request` is not a well-formed, unfragmented echo request.
 */
export function buildIcmpEchoReply(request: Buffer, routerMac: string | Mac, opts: IcmpEchoReplyOptions = {}): Buffer {
  const eth = parseEthernet(request);
  if (!eth || eth.etherType !== ETHERTYPE_IPV4) throw new DpfwdError('EPACKET', 'echo request is not an IPv4 Ethernet frame');
  const ip = readIpv4Header(request, eth.payloadOffset, true)!;
  if (ip.protocol !== IPPROTO_ICMP) throw new DpfwdError('EPACKET', `echo request carries IP protocol ${ip.protocol}, not ICMP`);
  if (ip.mf || ip.fragmentOffset !== 0) throw new DpfwdError('EPACKET', 'echo request is a fragment; reassemble it first');
  const icmp = parseIcmp(request, ip.payloadOffset, ip.payloadLength, true)!;
  if (icmp.type !== ICMP_ECHO_REQUEST || icmp.code !== 0) {
    throw new DpfwdError('EPACKET', `ICMP type ${icmp.type} code ${icmp.code} is not an echo request`);
  }
  if (!icmp.checksumValid) throw new DpfwdError('EPACKET', 'echo request ICMP checksum does not verify');
  let src = opts.srcIp;
  if (src === undefined) {
    if (isMulticastOrBroadcast(ip.dst)) {
      throw new DpfwdError('EPACKET', `echo request was sent to ${ip.dst}; pass srcIp (the router's own address) for the reply`);
    }
    src = ip.dst;
  }
  const msg = Buffer.from(request.subarray(ip.payloadOffset, ip.payloadOffset + ip.payloadLength));
  msg[0] = ICMP_ECHO_REPLY;
  msg.writeUInt16BE(0, 2);
  msg.writeUInt16BE(internetChecksum(msg), 2);
  return buildIpv4Frame({
    dstMac: opts.dstMac ?? eth.srcMac,
    srcMac: routerMac,
    vlan: eth.vlans,
    src,
    dst: ip.src,
    protocol: IPPROTO_ICMP,
    tos: ip.tos,
    ttl: opts.ttl ?? 64,
    id: opts.ipId ?? 0,
    payload: msg,
  });
}

export interface MayGenerateOptions {
  /** Directed-broadcast addresses of the router's subnets, also never answered (RFC 1812 4.3.2.7). */
  directedBroadcasts?: Iterable<string>;
}

/**
 * Whether RFC 1812 (4.3.2.7) lets a router send an ICMP error about `frame`. Not allowed for: a frame
 * that is not well-formed IPv4 (those are silently discarded, 5.2.2), a link-layer broadcast or
 * multicast, an IP multicast or broadcast destination, a source that is not a unique host
 * (0/8, 127/8, 224/4, 240/4, a directed broadcast), a non-first fragment, an ICMP error message
 * (or an ICMP message whose type cannot be read or is unknown, > 18).
 */
export function mayGenerateIcmpError(frame: Buffer, opts: MayGenerateOptions = {}): { ok: boolean; why?: string } {
  const no = (why: string) => ({ ok: false, why });
  const eth = parseEthernet(frame);
  if (!eth) return no('frame is shorter than an Ethernet header');
  if (eth.etherType !== ETHERTYPE_IPV4) return no(`EtherType 0x${eth.etherType.toString(16).padStart(4, '0')} is not IPv4`);
  if (isMulticastMac(eth.dstMac)) return no(`link-layer destination ${eth.dstMac} is broadcast or multicast`);
  const ip = readIpv4Header(frame, eth.payloadOffset);
  if (!ip) return no('IPv4 header is truncated');
  if (ip.problems.length) return no(`IPv4 header is malformed: ${ip.problems[0]}`);
  const bcasts = new Set([...(opts.directedBroadcasts ?? [])].map((a) => parseIPv4(a)));
  if (addressClass(parseIPv4(ip.dst)) === 'multicast') return no(`destination ${ip.dst} is multicast`);
  if (addressClass(parseIPv4(ip.dst)) === 'limited-broadcast' || bcasts.has(parseIPv4(ip.dst))) return no(`destination ${ip.dst} is a broadcast`);
  const srcWhy = notUniqueHostReason(ip.src) ?? (bcasts.has(parseIPv4(ip.src)) ? `${ip.src} is a directed broadcast` : undefined);
  if (srcWhy) return no(`source is not a unique host: ${srcWhy}`);
  if (ip.fragmentOffset !== 0) return no(`non-first fragment (offset ${ip.fragmentOffset * 8})`);
  if (ip.protocol === IPPROTO_ICMP) {
    if (ip.payloadLength < 1) return no('ICMP type cannot be read');
    const type = frame[ip.payloadOffset];
    if (isIcmpErrorType(type)) return no(`packet is an ICMP error (type ${type})`);
    if (type > MAX_KNOWN_TYPE) return no(`ICMP type ${type} is unknown`);
  }
  return { ok: true };
}

export interface IcmpErrorOptions {
  /** 3 (unreachable), 4 (source quench), 5 (redirect), 11 (time exceeded) or 12 (parameter problem). */
  type: number;
  code: number;
  /** The offending frame, as received (Ethernet and all). */
  original: Buffer;
  /** The router's address on the interface the error leaves by (a number: uint32 host order). */
  srcIp: string | number;
  /** text, or the number from src/net/mac.ts */
  srcMac: string | Mac;
  /** Default the original's source MAC. */
  dstMac?: string | Mac;
  vlan?: EthernetOptions['vlan'];
  ttl?: number;
  /** Default 0xC0: precedence 6, internetwork control (RFC 1812 4.3.2.5). */
  tos?: number;
  ipId?: number;
  /** Next-hop MTU; required for type 3 code 4 and only allowed there. */
  mtu?: number;
  /** Parameter problem pointer (type 12), default 0. */
  pointer?: number;
  /** Gateway address for a redirect (type 5), required there. */
  gateway?: string | number;
  /** Passed to mayGenerateIcmpError. */
  directedBroadcasts?: Iterable<string>;
  /** Build even when mayGenerateIcmpError says no (tests of the suppression path only). */
  force?: boolean;
}

/**
 * Builds an ICMP error about `original`, quoting its IP header (with options) and the first 8
 * bytes of its payload (fewer if it has fewer; RFC 792 / 1812 4.3.2.3). Throws EPACKET with the
 * reason if RFC 1812 forbids an error about this frame (see mayGenerateIcmpError), EINVAL for
 * inconsistent options.
 */
export function buildIcmpError(opts: IcmpErrorOptions): Buffer {
  const { type, code } = opts;
  if (!isIcmpErrorType(type)) throw new DpfwdError('EINVAL', `ICMP type ${type} is not an error type (3, 4, 5, 11, 12)`);
  if (!Number.isInteger(code) || code < 0 || code > 255) throw new DpfwdError('EINVAL', `ICMP code ${code} is not in 0..255`);
  const fragNeeded = type === ICMP_DEST_UNREACH && code === ICMP_UNREACH.FRAG_NEEDED;
  if (fragNeeded && opts.mtu === undefined) throw new DpfwdError('EINVAL', 'type 3 code 4 (fragmentation needed) requires mtu');
  if (!fragNeeded && opts.mtu !== undefined) throw new DpfwdError('EINVAL', 'mtu is only meaningful for type 3 code 4');
  if (opts.mtu !== undefined && (!Number.isInteger(opts.mtu) || opts.mtu < 68 || opts.mtu > 0xffff)) {
    throw new DpfwdError('EINVAL', `next-hop MTU ${opts.mtu} is not in 68..65535`);
  }
  if (type === ICMP_REDIRECT && opts.gateway === undefined) throw new DpfwdError('EINVAL', 'a redirect (type 5) requires gateway');
  if (!opts.force) {
    const v = mayGenerateIcmpError(opts.original, { directedBroadcasts: opts.directedBroadcasts });
    if (!v.ok) throw new DpfwdError('EPACKET', `no ICMP error may be sent about this packet: ${v.why}`);
  }
  const eth = parseEthernet(opts.original);
  const ip = eth && eth.etherType === ETHERTYPE_IPV4 ? readIpv4Header(opts.original, eth.payloadOffset) : undefined;
  if (!eth || !ip || ip.ihl < 5 || ip.offset + ip.headerLength > opts.original.length) {
    throw new DpfwdError('EPACKET', 'original frame has no usable IPv4 header to quote');
  }
  const quote = opts.original.subarray(ip.offset, ip.payloadOffset + Math.min(8, ip.payloadLength));
  const rest = Buffer.alloc(4);
  if (fragNeeded) rest.writeUInt16BE(opts.mtu!, 2);
  if (type === ICMP_PARAM_PROBLEM) rest[0] = opts.pointer ?? 0;
  if (type === ICMP_REDIRECT) rest.writeUInt32BE(typeof opts.gateway === 'number' ? opts.gateway : parseIPv4(opts.gateway!), 0);
  return buildIpv4Frame({
    dstMac: opts.dstMac ?? eth.srcMac,
    srcMac: opts.srcMac,
    vlan: opts.vlan,
    src: opts.srcIp,
    dst: ip.src,
    protocol: IPPROTO_ICMP,
    ttl: opts.ttl ?? 64,
    tos: opts.tos ?? 0xc0,
    id: opts.ipId ?? 0,
    payload: icmpMessage(type, code, rest, quote),
  });
}

export interface IcmpHeader {
  kind: 'icmp';
  offset: number;
  type: number;
  code: number;
  checksum: number;
  /** Checksum over the whole message (as bounded by the IP total length). */
  checksumValid: boolean;
  /** Bytes 4..7 as one number (echo: identifier << 16 | sequence; frag-needed: MTU in low 16 bits). */
  rest: number;
  /** Echo request/reply only. */
  identifier?: number;
  sequence?: number;
  /** Type 3 code 4 only. */
  mtu?: number;
  /** Offset of the data after the 8-byte header (the quote for errors). */
  payloadOffset: number;
  payloadLength: number;
  problems: string[];
}

/**
 * Tolerant parse of an ICMP message at `off` of `avail` bytes (default: to the end of `buf`).
 * Undefined if fewer than 8 bytes.
 */
export function parseIcmp(buf: Buffer, off: number, avail = buf.length - off, strict = false): IcmpHeader | undefined {
  avail = Math.min(avail, buf.length - off);
  if (avail < ICMP_HEADER_LEN) {
    if (strict) throw new DpfwdError('EPACKET', `ICMP header truncated at offset ${off}`);
    return undefined;
  }
  const type = buf[off];
  const code = buf[off + 1];
  const checksumValid = verifyChecksum(buf, off, avail);
  const problems = checksumValid ? [] : ['ICMP checksum does not verify'];
  if (strict && problems.length) throw new DpfwdError('EPACKET', `malformed ICMP message at offset ${off}: ${problems.join('; ')}`);
  const h: IcmpHeader = {
    kind: 'icmp',
    offset: off,
    type,
    code,
    checksum: buf.readUInt16BE(off + 2),
    checksumValid,
    rest: buf.readUInt32BE(off + 4),
    payloadOffset: off + ICMP_HEADER_LEN,
    payloadLength: avail - ICMP_HEADER_LEN,
    problems,
  };
  if (type === ICMP_ECHO_REQUEST || type === ICMP_ECHO_REPLY) {
    h.identifier = buf.readUInt16BE(off + 4);
    h.sequence = buf.readUInt16BE(off + 6);
  }
  if (type === ICMP_DEST_UNREACH && code === ICMP_UNREACH.FRAG_NEEDED) h.mtu = buf.readUInt16BE(off + 6);
  return h;
}

function isMulticastOrBroadcast(ip: string): boolean {
  const k = addressClass(parseIPv4(ip));
  return k === 'multicast' || k === 'limited-broadcast';
}
