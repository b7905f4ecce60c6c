/** ARP for IPv4 over Ethernet (RFC 826), with gratuitous ARP (RFC 5227 announcements). */
import { DpfwdError } from '../errors';
import { BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV4, EthernetOptions, ZERO_MAC, buildEthernet, macFromBuffer, macToBuffer, parseEthernet } from './ethernet';
import { ipFromBuffer, ipToBuffer } from './ipv4';
import { readIPv4, writeIPv4 } from '../net/ipv4';
import { BROADCAST_MAC as BROADCAST, Mac, readMac, writeMac } from '../net/mac';

export const ARP_OP_REQUEST = 1;
export const ARP_OP_REPLY = 2;
export const ARP_PACKET_LEN = 28;

export interface ArpFields {
  op: number;
  senderMac: string | Mac;
  senderIp: string | number;
  targetMac: string | Mac;
  targetIp: string | number;
}

/** The 28-byte ARP body (htype 1, ptype 0x0800, hlen 6, plen 4). */
export function encodeArp(f: ArpFields): Buffer {
  const b = Buffer.alloc(ARP_PACKET_LEN);
  b.writeUInt16BE(1, 0);
  b.writeUInt16BE(ETHERTYPE_IPV4, 2);
  b[4] = 6;
  b[5] = 4;
  b.writeUInt16BE(f.op, 6);
  macToBuffer(f.senderMac).copy(b, 8);
  ipToBuffer(f.senderIp).copy(b, 14);
  macToBuffer(f.targetMac).copy(b, 18);
  ipToBuffer(f.targetIp).copy(b, 24);
  return b;
}

type Link = Pick<EthernetOptions, 'vlan'>;

/** Builds an ARP frame: Ethernet source = sender MAC unless `srcMac` says otherwise; padded to 60. */
export function buildArp(f: ArpFields & Link & { dstMac: string | Mac; srcMac?: string | Mac }): Buffer {
  return buildEthernet({ dstMac: f.dstMac, srcMac: f.srcMac ?? f.senderMac, etherType: ETHERTYPE_ARP, vlan: f.vlan, payload: encodeArp(f) });
}

/** "Who has targetIp? Tell senderIp": broadcast (or unicast to `dstMac`, for re-validation), target MAC zero. */
export function buildArpRequest(o: { senderMac: string; senderIp: string; targetIp: string; dstMac?: string } & Link): Buffer {
  return buildArp({
    op: ARP_OP_REQUEST,
    senderMac: o.senderMac,
    senderIp: o.senderIp,
    targetMac: ZERO_MAC,
    targetIp: o.targetIp,
    dstMac: o.dstMac ?? BROADCAST_MAC,
    vlan: o.vlan,
  });
}

/**
 * The control plane's request, from numbers (no text on the way): "who has targetIp? tell
 * senderIp", broadcast or unicast to dstMac, untagged (the dataplane tags it for a VLAN).
 */
export function arpRequestFrame(senderMac: Mac, senderIp: number, targetIp: number, dstMac: Mac | null): Buffer {
  const f = Buffer.alloc(60);
  writeMac(f, 0, dstMac ?? BROADCAST);
  writeMac(f, 6, senderMac);
  f.writeUInt16BE(ETHERTYPE_ARP, 12);
  f.writeUInt16BE(1, 14);
  f.writeUInt16BE(ETHERTYPE_IPV4, 16);
  f[18] = 6;
  f[19] = 4;
  f.writeUInt16BE(ARP_OP_REQUEST, 20);
  writeMac(f, 22, senderMac);
  writeIPv4(f, 28, senderIp);
  writeIPv4(f, 38, targetIp);
  return f;
}

/** "senderIp is at senderMac", unicast to targetMac (or `dstMac`). */
export function buildArpReply(
  o: { senderMac: string | Mac; senderIp: string | number; targetMac: string | Mac; targetIp: string | number; dstMac?: string | Mac } & Link,
): Buffer {
  return buildArp({
    op: ARP_OP_REPLY,
    senderMac: o.senderMac,
    senderIp: o.senderIp,
    targetMac: o.targetMac,
    targetIp: o.targetIp,
    dstMac: o.dstMac ?? o.targetMac,
    vlan: o.vlan,
  });
}

/**
 * Gratuitous ARP announcing `ip` at `senderMac`: broadcast, sender IP = target IP. As a request
 * (default; RFC 5227 announcement, target MAC zero) or as a reply (target MAC = sender MAC).
 */
export function buildGratuitousArp(o: { senderMac: string; ip: string; op?: 'request' | 'reply' } & Link): Buffer {
  const reply = o.op === 'reply';
  return buildArp({
    op: reply ? ARP_OP_REPLY : ARP_OP_REQUEST,
    senderMac: o.senderMac,
    senderIp: o.ip,
    targetMac: reply ? o.senderMac : ZERO_MAC,
    targetIp: o.ip,
    dstMac: BROADCAST_MAC,
    vlan: o.vlan,
  });
}

export interface ArpPacket extends ArpFields {
  offset: number;
  htype: number;
  ptype: number;
  hlen: number;
  plen: number;
  /** Empty when htype 1, ptype 0x0800, hlen 6, plen 4 and op 1 or 2. */
  problems: string[];
}

/**
 * Parses the ARP body at `off`. Tolerant: undefined if fewer than 28 bytes remain, otherwise the
 * fields (addresses read at the Ethernet/IPv4 positions) with `problems`. Strict: throws EPACKET.
 */
export function parseArp(buf: Buffer, off = 0, strict = false): ArpPacket | undefined {
  if (buf.length - off < ARP_PACKET_LEN) {
    if (strict) throw new DpfwdError('EPACKET', `ARP packet truncated: ${Math.max(0, buf.length - off)} of 28 bytes at offset ${off}`);
    return undefined;
  }
  const p: ArpPacket = {
    offset: off,
    htype: buf.readUInt16BE(off),
    ptype: buf.readUInt16BE(off + 2),
    hlen: buf[off + 4],
    plen: buf[off + 5],
    op: buf.readUInt16BE(off + 6),
    senderMac: macFromBuffer(buf, off + 8),
    senderIp: ipFromBuffer(buf, off + 14),
    targetMac: macFromBuffer(buf, off + 18),
    targetIp: ipFromBuffer(buf, off + 24),
    problems: [],
  };
  if (p.htype !== 1) p.problems.push(`hardware type ${p.htype} is not 1 (Ethernet)`);
  if (p.ptype !== ETHERTYPE_IPV4) p.problems.push(`protocol type 0x${p.ptype.toString(16)} is not 0x0800 (IPv4)`);
  if (p.hlen !== 6) p.problems.push(`hardware length ${p.hlen} is not 6`);
  if (p.plen !== 4) p.problems.push(`protocol length ${p.plen} is not 4`);
  if (p.op !== ARP_OP_REQUEST && p.op !== ARP_OP_REPLY) p.problems.push(`operation ${p.op} is not 1 (request) or 2 (reply)`);
  if (strict && p.problems.length) throw new DpfwdError('EPACKET', `malformed ARP packet at offset ${off}: ${p.problems.join('; ')}`);
  return p;
}

/** An ARP body read once into numbers (what the control plane acts on): addresses as numbers, MACs as 48-bit numbers. */
export interface ArpNumbers {
  op: number;
  senderMac: Mac;
  senderIp: number;
  targetMac: Mac;
  targetIp: number;
}

/**
 * Reads the ARP body at `off` into numbers, once: undefined when fewer than 28 bytes remain or
 * it is not Ethernet/IPv4 (htype 1, ptype 0x0800, hlen 6, plen 4) with op 1 or 2 (the checks
 * parseArp's `problems` name). No text on the way.
 */
export function readArp(buf: Buffer, off: number): ArpNumbers | undefined {
  if (buf.length - off < ARP_PACKET_LEN) return undefined;
  if (buf.readUInt16BE(off) !== 1 || buf.readUInt16BE(off + 2) !== ETHERTYPE_IPV4 || buf[off + 4] !== 6 || buf[off + 5] !== 4) return undefined;
  const op = buf.readUInt16BE(off + 6);
  if (op !== ARP_OP_REQUEST && op !== ARP_OP_REPLY) return undefined;
  return { op, senderMac: readMac(buf, off + 8), senderIp: readIPv4(buf, off + 14), targetMac: readMac(buf, off + 18), targetIp: readIPv4(buf, off + 24) };
}

/**
 * The reply to a request already read (readArp), from numbers: "targetIp is at routerMac",
 * unicast to the requester, untagged (the dataplane tags it for a VLAN, as for arpRequestFrame).
 */
export function arpReplyFrame(req: ArpNumbers, routerMac: Mac): Buffer {
  const f = Buffer.alloc(60);
  writeMac(f, 0, req.senderMac);
  writeMac(f, 6, routerMac);
  f.writeUInt16BE(ETHERTYPE_ARP, 12);
  f.writeUInt16BE(1, 14);
  f.writeUInt16BE(ETHERTYPE_IPV4, 16);
  f[18] = 6;
  f[19] = 4;
  f.writeUInt16BE(ARP_OP_REPLY, 20);
  writeMac(f, 22, routerMac);
  writeIPv4(f, 28, req.targetIp);
  writeMac(f, 32, req.senderMac);
  writeIPv4(f, 38, req.senderIp);
  return f;
}

/** True for a gratuitous ARP (sender IP = target IP), request or reply. */
export function isGratuitousArp(p: ArpFields): boolean {
  return p.senderIp === p.targetIp;
}

/**
 * The reply a router owning the requested address sends to an ARP request frame: sender =
 * (routerMac, requested IP), unicast to the requester, same VLAN tags. Throws EPACKET if
 * `request` is not a valid ARP request.
 */
export function buildArpReplyTo(request: Buffer, routerMac: string | Mac): Buffer {
  const eth = parseEthernet(request);
  if (!eth || eth.etherType !== ETHERTYPE_ARP) throw new DpfwdError('EPACKET', 'frame is not an ARP frame');
  const req = parseArp(request, eth.payloadOffset, true)!;
  if (req.op !== ARP_OP_REQUEST) throw new DpfwdError('EPACKET', `ARP operation ${req.op} is not a request`);
  return buildArpReply({ senderMac: routerMac, senderIp: req.targetIp, targetMac: req.senderMac, targetIp: req.senderIp, vlan: eth.vlans });
}
