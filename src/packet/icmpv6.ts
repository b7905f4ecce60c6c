/**
 * ICMPv6 (RFC 4443) for the control plane: the checksum over the pseudo-header, echo reply, the
 * error messages a router sends (destination unreachable, packet too big, time exceeded,
 * parameter problem) and RFC 4443 2.4(e)'s rule on when an error must not be sent.
 * Neighbour discovery (types 133-137) is in ndp.ts.
 */
import { DpfwdError } from '../errors';
import { isIpv6Multicast, isIpv6Unspecified } from '../net/ipv6';
import type { Mac } from '../net/mac';
import { onesComplementSum } from './checksum';
import { ETH_MIN_FRAME, EthernetOptions, ethernetHeaderLength, macFromBuffer, parseEthernet, writeEthernetHeader } from './ethernet';
import {
  ETHERTYPE_IPV6,
  IPPROTO_ICMPV6,
  IPV6_HEADER_LEN,
  IPV6_MIN_MTU,
  Ipv6Header,
  Ipv6Input,
  badPacket,
  ipv6PseudoHeaderSum,
  readIpv6Header,
  walkIpv6Chain,
  writeIpv6Header,
} from './ipv6';

export const ICMPV6_DEST_UNREACH = 1;
export const ICMPV6_PACKET_TOO_BIG = 2;
export const ICMPV6_TIME_EXCEEDED = 3;
export const ICMPV6_PARAM_PROBLEM = 4;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;
export const ICMPV6_HEADER_LEN = 8;

/** Codes of type 1 (RFC 4443 3.1). */
export const ICMPV6_UNREACH = { NO_ROUTE: 0, ADMIN_PROHIBITED: 1, BEYOND_SCOPE: 2, ADDRESS: 3, PORT: 4, SOURCE_POLICY: 5, REJECT_ROUTE: 6 } as const;
/** Codes of type 3 (RFC 4443 3.3). */
export const ICMPV6_TIMXCEED = { HOP_LIMIT: 0, REASSEMBLY: 1 } as const;
/** Codes of type 4 (RFC 4443 3.4). */
export const ICMPV6_PARAMPROB = { HEADER_FIELD: 0, NEXT_HEADER: 1, OPTION: 2 } as const;

/** Types 0-127 are errors (RFC 4443 2.1). */
export function isIcmpv6ErrorType(type: number): boolean {
  return type < 128;
}

/** The ICMPv6 checksum of buf[off, off + len) with the checksum field (off + 2) taken as zero. */
export function icmpv6Checksum(buf: Buffer, src: Uint8Array, dst: Uint8Array, off: number, len: number): number {
  let sum = onesComplementSum(buf, off, 2, ipv6PseudoHeaderSum(src, dst, len, IPPROTO_ICMPV6));
  sum = onesComplementSum(buf, off + 4, len - 4, sum);
  return ~sum & 0xffff;
}

/** True when the ICMPv6 message at buf[off, off + len) verifies against its pseudo-header. */
export function verifyIcmpv6Checksum(buf: Buffer, src: Uint8Array, dst: Uint8Array, off: number, len: number): boolean {
  if (len < 4 || off + len > buf.length) return false;
  return onesComplementSum(buf, off, len, ipv6PseudoHeaderSum(src, dst, len, IPPROTO_ICMPV6)) === 0xffff;
}

/** Where the ICMPv6 message of an IPv6 frame is, once its header and extension chain are read. */
export interface Icmpv6Located {
  ip: Ipv6Header;
  /** Offset and length of the ICMPv6 message (type byte first). */
  offset: number;
  length: number;
}

/** Finds the ICMPv6 message in an Ethernet frame; undefined when it is not one (or malformed, or a non-first fragment). */
export function locateIcmpv6(frame: Buffer): Icmpv6Located | undefined {
  const eth = parseEthernet(frame);
  if (!eth || eth.etherType !== ETHERTYPE_IPV6) return undefined;
  const ip = readIpv6Header(frame, eth.payloadOffset);
  if (!ip || ip.problem) return undefined;
  const c = walkIpv6Chain(frame, ip);
  if (!c.ok || c.protocol !== IPPROTO_ICMPV6 || (c.fragment && (c.fragment.offset !== 0 || c.fragment.more))) return undefined;
  return { ip, offset: c.offset, length: c.length };
}

/**
 * Whether RFC 4443 2.4(e) lets a node send an ICMPv6 error of `type`/`code` about `frame`. Never
 * about: a frame that is not well-formed IPv6; an ICMPv6 error message or a redirect (e.1, e.2);
 * a multicast destination, link-layer multicast or broadcast (e.3-e.5) — except a packet too big,
 * or a parameter problem code 2 (unrecognized option whose high bits say "report even if
 * multicast"); a source that does not name one node, :: or multicast (e.6).
 */
export function mayGenerateIcmpv6Error(frame: Buffer, type: number, code: number): { ok: boolean; why?: string } {
  const no = (why: string) => ({ ok: false, why });
  const eth = parseEthernet(frame);
  if (!eth) return no('frame is shorter than an Ethernet header');
  if (eth.etherType !== ETHERTYPE_IPV6) return no(`EtherType 0x${eth.etherType.toString(16).padStart(4, '0')} is not IPv6`);
  const ip = readIpv6Header(frame, eth.payloadOffset);
  if (!ip) return no('IPv6 header is truncated');
  if (ip.problem) return no(`IPv6 header is malformed: ${ip.problem}`);
  if (isIpv6Unspecified(ip.src)) return no('source is the unspecified address ::');
  if (isIpv6Multicast(ip.src)) return no('source is multicast');
  const multicastAllowed = type === ICMPV6_PACKET_TOO_BIG || (type === ICMPV6_PARAM_PROBLEM && code === ICMPV6_PARAMPROB.OPTION);
  if (!multicastAllowed) {
    if (isIpv6Multicast(ip.dst)) return no('destination is multicast');
    if (frame[0] & 1) return no(`link-layer destination ${macFromBuffer(frame, 0)} is broadcast or multicast`);
  }
  const c = walkIpv6Chain(frame, ip);
  if (c.ok && c.protocol === IPPROTO_ICMPV6 && !(c.fragment && c.fragment.offset !== 0)) {
    if (c.length < 1) return no('ICMPv6 type cannot be read');
    const t = frame[c.offset];
    if (isIcmpv6ErrorType(t)) return no(`packet is an ICMPv6 error (type ${t})`);
    if (t === 137) return no('packet is an ICMPv6 redirect');
  }
  return { ok: true };
}

export interface Icmpv6ErrorOptions {
  /** 1 (destination unreachable), 2 (packet too big), 3 (time exceeded) or 4 (parameter problem). */
  type: number;
  code: number;
  /** The offending frame, as received (Ethernet and all). */
  original: Buffer;
  /** The router's address the error is sent from. */
  srcIp: Ipv6Input;
  srcMac: string | Mac;
  /** Default the original's source MAC. */
  dstMac?: string | Mac;
  vlan?: EthernetOptions['vlan'];
  /** Default 64. */
  hopLimit?: number;
  /** Packet too big (type 2): the MTU of the next-hop link, required there and only there. */
  mtu?: number;
  /** Parameter problem (type 4): offset of the offending octet from the start of the invoking IPv6 header. */
  pointer?: number;
  /** Build even when mayGenerateIcmpv6Error says no (tests of the suppression path only). */
  force?: boolean;
}

/**
 * Builds an ICMPv6 error about `original`: 8 bytes of header (type, code, checksum, MTU or
 * pointer or zero) and as much of the invoking packet, from its IPv6 header on, as fits in a
 * 1280-byte IPv6 packet (RFC 4443 2.4(c)). Throws EPACKET with the reason when 2.4(e) forbids
 * it, EINVAL for inconsistent options.
 */
export function buildIcmpv6Error(opts: Icmpv6ErrorOptions): Buffer {
  const { type, code } = opts;
  if (type < ICMPV6_DEST_UNREACH || type > ICMPV6_PARAM_PROBLEM) throw new DpfwdError('EINVAL', `ICMPv6 type ${type} is not an error a router sends (1-4)`);
  if (!Number.isInteger(code) || code < 0 || code > 255) throw new DpfwdError('EINVAL', `ICMPv6 code ${code} is not in 0..255`);
  if ((type === ICMPV6_PACKET_TOO_BIG) !== (opts.mtu !== undefined))
    throw new DpfwdError('EINVAL', 'mtu is required for packet too big (type 2) and only there');
  if (opts.mtu !== undefined && (!Number.isInteger(opts.mtu) || opts.mtu < IPV6_MIN_MTU || opts.mtu > 0xffffffff)) {
    throw new DpfwdError('EINVAL', `MTU ${opts.mtu} is not in 1280..4294967295 (RFC 8200 5)`);
  }
  if (opts.pointer !== undefined && (type !== ICMPV6_PARAM_PROBLEM || !Number.isInteger(opts.pointer) || opts.pointer < 0)) {
    throw new DpfwdError('EINVAL', 'pointer is a non-negative integer for parameter problem (type 4) only');
  }
  if (!opts.force) {
    const may = mayGenerateIcmpv6Error(opts.original, type, code);
    if (!may.ok) badPacket(`no ICMPv6 error about this packet: ${may.why}`);
  }
  const orig = opts.original;
  const eth = parseEthernet(orig);
  const ip = eth && readIpv6Header(orig, eth.payloadOffset);
  if (!eth || !ip) badPacket('original is not an IPv6 Ethernet frame');
  const invokingEnd = Math.min(orig.length, ip.payloadOffset + ip.payloadLength);
  const quoted = Math.min(invokingEnd - ip.offset, IPV6_MIN_MTU - IPV6_HEADER_LEN - ICMPV6_HEADER_LEN);
  const f = icmpv6Frame(ICMPV6_HEADER_LEN + quoted, {
    dstMac: opts.dstMac ?? eth.srcMac,
    srcMac: opts.srcMac,
    vlan: opts.vlan,
    src: opts.srcIp,
    dst: ip.src,
    hopLimit: opts.hopLimit,
  });
  const m = f.offset;
  f.frame[m] = type;
  f.frame[m + 1] = code;
  f.frame.writeUInt32BE((opts.mtu ?? opts.pointer ?? 0) >>> 0, m + 4);
  orig.copy(f.frame, m + ICMPV6_HEADER_LEN, ip.offset, ip.offset + quoted);
  return setIcmpv6Checksum(f);
}

/** An Ethernet + IPv6 frame with room for an ICMPv6 message of `length` bytes at `offset` (zeroed). */
export interface Icmpv6Frame {
  frame: Buffer;
  /** Offset of the IPv6 header. */
  ipOffset: number;
  offset: number;
  length: number;
}

/** Allocates the frame of an ICMPv6 message (the only allocation of a builder) with its Ethernet and IPv6 headers written. */
export function icmpv6Frame(
  length: number,
  o: Omit<EthernetOptions, 'etherType'> & { src: Ipv6Input; dst: Ipv6Input; hopLimit?: number; trafficClass?: number },
): Icmpv6Frame {
  const ipOffset = ethernetHeaderLength(o.vlan);
  const frame = Buffer.alloc(Math.max(ipOffset + IPV6_HEADER_LEN + length, ETH_MIN_FRAME));
  writeEthernetHeader(frame, { ...o, etherType: ETHERTYPE_IPV6 });
  writeIpv6Header(frame, ipOffset, { ...o, nextHeader: IPPROTO_ICMPV6 }, length);
  return { frame, ipOffset, offset: ipOffset + IPV6_HEADER_LEN, length };
}

/** Computes and stores the checksum of the message of an icmpv6Frame; returns the frame. */
export function setIcmpv6Checksum(f: Icmpv6Frame): Buffer {
  const src = f.frame.subarray(f.ipOffset + 8, f.ipOffset + 24);
  const dst = f.frame.subarray(f.ipOffset + 24, f.ipOffset + 40);
  f.frame.writeUInt16BE(icmpv6Checksum(f.frame, src, dst, f.offset, f.length), f.offset + 2);
  return f.frame;
}

export interface Icmpv6EchoReplyOptions {
  /** Source of the reply; default the request's destination (required when that was multicast). */
  srcIp?: Ipv6Input;
  /** Default the request's source MAC. */
  dstMac?: string | Mac;
  /** Default 64. */
  hopLimit?: number;
}

/**
 * Builds the echo reply (RFC 4443 4.2) to an echo request frame: addresses swapped, identifier,
 * sequence and data as received, the same VLAN tags and traffic class, no extension headers.
 * Throws EPACKET if `request` is not a well-formed, unfragmented echo request with a valid checksum.
 */
export function buildIcmpv6EchoReply(request: Buffer, routerMac: string | Mac, opts: Icmpv6EchoReplyOptions = {}): Buffer {
  const at = locateIcmpv6(request);
  if (!at) badPacket('echo request is not a well-formed, unfragmented ICMPv6 packet');
  if (at.length < ICMPV6_HEADER_LEN || request[at.offset] !== ICMPV6_ECHO_REQUEST || request[at.offset + 1] !== 0) {
    badPacket('ICMPv6 message is not an echo request (type 128 code 0)');
  }
  if (!verifyIcmpv6Checksum(request, at.ip.src, at.ip.dst, at.offset, at.length)) badPacket('echo request ICMPv6 checksum does not verify');
  let src = opts.srcIp;
  if (src === undefined) {
    if (isIpv6Multicast(at.ip.dst)) badPacket("echo request was sent to a multicast group; pass srcIp (the router's own address) for the reply");
    src = at.ip.dst;
  }
  const eth = parseEthernet(request)!;
  const f = icmpv6Frame(at.length, {
    dstMac: opts.dstMac ?? eth.srcMac,
    srcMac: routerMac,
    vlan: eth.vlans,
    src,
    dst: at.ip.src,
    hopLimit: opts.hopLimit,
    trafficClass: at.ip.trafficClass,
  });
  request.copy(f.frame, f.offset, at.offset, at.offset + at.length);
  f.frame[f.offset] = ICMPV6_ECHO_REPLY;
  f.frame.writeUInt16BE(0, f.offset + 2);
  return setIcmpv6Checksum(f);
}
