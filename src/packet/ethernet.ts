/**
 * Ethernet II framing with an optional 802.1Q / 802.1ad tag. MAC addresses are strings
 * 'aa:bb:cc:dd:ee:ff' in the API; frames are built without FCS and padded to 60 bytes.
 */
import { DpfwdError } from '../errors';
import { formatMac, isMulticastMac as isGroupMac, Mac, macBytes, parseMac, readMac } from '../net/mac';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;
export const ETH_HEADER_LEN = 14;
export const VLAN_TAG_LEN = 4;
/** Minimum Ethernet frame without FCS (64 on the wire). */
export const ETH_MIN_FRAME = 60;
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
export const ZERO_MAC = '00:00:00:00:00:00';

export interface VlanTag {
  /** VLAN id, 0..4095. */
  id: number;
  /** Priority code point, 0..7 (default 0). */
  pcp?: number;
  /** Drop eligible indicator (default false). */
  dei?: boolean;
  /** Tag protocol id (default 0x8100). */
  tpid?: number;
}

export interface EthernetHeader {
  dstMac: string;
  srcMac: string;
  /** Tags outermost first; empty when untagged. */
  vlans: Required<VlanTag>[];
  /** The EtherType after any tags. */
  etherType: number;
  /** Offset of the payload (14, 18 or 22). */
  payloadOffset: number;
}

// MACs are text in the builders' options (test tools); src/net/mac.ts parses and formats them.

/** Parses 'aa:bb:cc:dd:ee:ff' (or with '-') into 6 bytes; throws EINVAL otherwise. */
export function macToBuffer(mac: string | Mac): Buffer {
  // a number (src/net/mac.ts) as it is; text through the one MAC parser
  return macBytes(typeof mac === 'number' ? mac : parseMac(mac, { dashes: true }));
}

/** Formats 6 bytes at `off` as a lower-case 'aa:bb:cc:dd:ee:ff'. */
export function macFromBuffer(buf: Buffer, off = 0): string {
  return formatMac(readMac(buf, off));
}

/** Normalises a MAC string to lower case with colons; throws EINVAL if it is not one. */
export function normalizeMac(mac: string): string {
  return formatMac(parseMac(mac, { dashes: true }));
}

export function isBroadcastMac(mac: string): boolean {
  return parseMac(mac, { dashes: true }) === 0xffffffffffff;
}

/** Group bit set: multicast or broadcast. */
export function isMulticastMac(mac: string): boolean {
  return isGroupMac(parseMac(mac, { dashes: true }));
}

function checkVlan(tag: VlanTag): Required<VlanTag> {
  const t = { id: tag.id, pcp: tag.pcp ?? 0, dei: tag.dei ?? false, tpid: tag.tpid ?? ETHERTYPE_VLAN };
  if (!Number.isInteger(t.id) || t.id < 0 || t.id > 4095) throw new DpfwdError('EINVAL', `VLAN id ${t.id} is not in 0..4095`);
  if (!Number.isInteger(t.pcp) || t.pcp < 0 || t.pcp > 7) throw new DpfwdError('EINVAL', `VLAN PCP ${t.pcp} is not in 0..7`);
  return t;
}

export interface EthernetOptions {
  /** text (tests, tools) or the number from src/net/mac.ts (the router's own: nothing to parse) */
  dstMac: string | Mac;
  srcMac: string | Mac;
  etherType: number;
  /** One tag (a number is a VLAN id) or a stack, outermost first. */
  vlan?: number | VlanTag | VlanTag[];
}

/** Normalises the `vlan` option to a list of tags. */
export function vlanList(vlan: EthernetOptions['vlan']): Required<VlanTag>[] {
  if (vlan === undefined) return [];
  const list = Array.isArray(vlan) ? vlan : [typeof vlan === 'number' ? { id: vlan } : vlan];
  return list.map(checkVlan);
}

/** Length of the Ethernet header (with tags) that `opts` will produce. */
export function ethernetHeaderLength(vlan?: EthernetOptions['vlan']): number {
  return ETH_HEADER_LEN + VLAN_TAG_LEN * vlanList(vlan).length;
}

/** Writes the Ethernet header into `buf` at 0; returns the payload offset. */
export function writeEthernetHeader(buf: Buffer, opts: EthernetOptions): number {
  macToBuffer(opts.dstMac).copy(buf, 0);
  macToBuffer(opts.srcMac).copy(buf, 6);
  let off = 12;
  for (const t of vlanList(opts.vlan)) {
    buf.writeUInt16BE(t.tpid, off);
    buf.writeUInt16BE((t.pcp << 13) | (t.dei ? 0x1000 : 0) | t.id, off + 2);
    off += 4;
  }
  buf.writeUInt16BE(opts.etherType & 0xffff, off);
  return off + 2;
}

/**
 * Builds an Ethernet frame around `payload`, zero-padded to `minSize` (default 60, no FCS).
 */
export function buildEthernet(opts: EthernetOptions & { payload: Buffer; minSize?: number }): Buffer {
  const hl = ethernetHeaderLength(opts.vlan);
  const buf = Buffer.alloc(Math.max(hl + opts.payload.length, opts.minSize ?? ETH_MIN_FRAME));
  writeEthernetHeader(buf, opts);
  opts.payload.copy(buf, hl);
  return buf;
}

/**
 * Tolerant parse of the Ethernet header: undefined when the frame is too short to hold it
 * (including its tags). Up to two tags (0x8100 / 0x88a8) are read.
 */
export function parseEthernet(buf: Buffer): EthernetHeader | undefined {
  if (buf.length < ETH_HEADER_LEN) return undefined;
  const vlans: Required<VlanTag>[] = [];
  let off = 12;
  let type = buf.readUInt16BE(off);
  while ((type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ) && vlans.length < 2) {
    if (buf.length < off + 6) return undefined;
    const tci = buf.readUInt16BE(off + 2);
    vlans.push({ tpid: type, pcp: tci >> 13, dei: (tci & 0x1000) !== 0, id: tci & 0x0fff });
    off += 4;
    type = buf.readUInt16BE(off);
  }
  return { dstMac: macFromBuffer(buf, 0), srcMac: macFromBuffer(buf, 6), vlans, etherType: type, payloadOffset: off + 2 };
}
