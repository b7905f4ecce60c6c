/**
 * Neighbour discovery (RFC 4861): the validating parser of router and neighbour solicitations
 * and advertisements and redirects (sections 6.1 and 7.1, 8.1), the builders of NS, NA and RA,
 * and RA timing (6.2.1, 6.2.4, 6.2.6). Link-layer address options are Ethernet's (RFC 2464).
 */
import { DpfwdError } from '../errors';
import {
  ipv6Equal,
  ipv6MulticastMac,
  ipv6NetworkOf,
  ipv6PrefixMatch,
  isIpv6LinkLocal,
  isIpv6Multicast,
  isIpv6Unspecified,
  parseIpv6,
  solicitedNodeMulticast,
} from '../net/ipv6';
import { Mac, readMac, writeMac } from '../net/mac';
import { EthernetOptions } from './ethernet';
import { icmpv6Frame, locateIcmpv6, setIcmpv6Checksum, verifyIcmpv6Checksum } from './icmpv6';
import { IPV6_MIN_MTU, Ipv6Header, Ipv6Input, requireAddr } from './ipv6';

export const ND_ROUTER_SOLICIT = 133;
export const ND_ROUTER_ADVERT = 134;
export const ND_NEIGHBOR_SOLICIT = 135;
export const ND_NEIGHBOR_ADVERT = 136;
export const ND_REDIRECT = 137;

/** Option types (RFC 4861 4.6). */
export const ND_OPT = { SOURCE_LLADDR: 1, TARGET_LLADDR: 2, PREFIX_INFO: 3, REDIRECTED_HEADER: 4, MTU: 5 } as const;

/** NA flags in the first byte after the checksum (RFC 4861 4.4: R, S, O are its three top bits). */
export const NA_FLAG_ROUTER = 0x80;
export const NA_FLAG_SOLICITED = 0x40;
export const NA_FLAG_OVERRIDE = 0x20;
/** RA flags (RFC 4861 4.2): managed and other configuration. */
export const RA_FLAG_MANAGED = 0x80;
export const RA_FLAG_OTHER = 0x40;
/** Prefix information flags (RFC 4861 4.6.2): on-link and autonomous. */
export const PI_FLAG_ONLINK = 0x80;
export const PI_FLAG_AUTONOMOUS = 0x40;

/** The hop limit every ND message is sent with and must arrive with (it proves it was not forwarded). */
export const ND_HOP_LIMIT = 255;

/** ff02::1:ff00:0/104 (RFC 4291 2.7.1). */
const SOLICITED_NODE_PREFIX = parseIpv6('ff02::1:ff00:0')!;

/** Minimum ICMP length of each type (RFC 4861 6.1.1, 6.1.2, 7.1.1, 7.1.2, 8.1). */
const MIN_LENGTH: Record<number, number> = { 133: 8, 134: 16, 135: 24, 136: 24, 137: 40 };

export function isNdpType(type: number): boolean {
  return type >= ND_ROUTER_SOLICIT && type <= ND_REDIRECT;
}

export interface NdpPrefixInfo {
  /** The prefix as sent (host bits are not the receiver's business). */
  prefix: Uint8Array;
  len: number;
  onLink: boolean;
  autonomous: boolean;
  /** Seconds; 0xffffffff is infinity. */
  validLifetime: number;
  preferredLifetime: number;
}

export interface NdpMessage {
  type: number;
  ip: Ipv6Header;
  /** Offset and length of the ICMPv6 message in the frame. */
  offset: number;
  length: number;
  /** NS, NA, redirect: the target address (a view into the frame). */
  target?: Uint8Array;
  /** Redirect: the destination address. */
  destination?: Uint8Array;
  /** NA flags. */
  router?: boolean;
  solicited?: boolean;
  override?: boolean;
  /** RA fields (4.2). */
  curHopLimit?: number;
  managed?: boolean;
  other?: boolean;
  routerLifetime?: number;
  reachableTime?: number;
  retransTimer?: number;
  /** Options read (the last of each kind wins, as Linux does). */
  sourceMac?: Mac;
  targetMac?: Mac;
  mtu?: number;
  prefixes: NdpPrefixInfo[];
}

export type NdpParseResult = { ok: true; msg: NdpMessage } | { ok: false; why: string };

/**
 * Parses and validates an NDP message in an Ethernet frame. Undefined when the frame is not an
 * unfragmented ICMPv6 message of types 133-137; otherwise the message, or why RFC 4861 says to
 * discard it silently: hop limit not 255, bad checksum, code not 0, too short, an option of
 * length 0 or running past the message, and the per-type rules (an unspecified source with a
 * source link-layer option, an NS from :: not to a solicited-node group, a multicast target, a
 * solicited NA to multicast, an RA or redirect from a non-link-local source, a redirect to a
 * multicast destination or with a target neither link-local nor the destination).
 */
export function parseNdp(frame: Buffer): NdpParseResult | undefined {
  const at = locateIcmpv6(frame);
  if (!at || at.length < 1 || !isNdpType(frame[at.offset])) return undefined;
  const { ip, offset: o, length } = at;
  const type = frame[o];
  const no = (why: string): NdpParseResult => ({ ok: false, why });
  if (ip.hopLimit !== ND_HOP_LIMIT) return no(`hop limit ${ip.hopLimit}, not 255`);
  if (!verifyIcmpv6Checksum(frame, ip.src, ip.dst, o, length)) return no('ICMPv6 checksum does not verify');
  if (frame[o + 1] !== 0) return no(`code ${frame[o + 1]}, not 0`);
  if (length < MIN_LENGTH[type]) return no(`ICMP length ${length} is below ${MIN_LENGTH[type]} for type ${type}`);
  const msg: NdpMessage = { type, ip, offset: o, length, prefixes: [] };
  // Options: each a type, a length in 8-byte units (never 0), inside the message.
  let p = o + MIN_LENGTH[type];
  const end = o + length;
  while (p < end) {
    if (p + 2 > end) return no('an option header runs past the message');
    const olen = frame[p + 1] * 8;
    if (olen === 0) return no(`option type ${frame[p]} has length 0`);
    if (p + olen > end) return no(`option type ${frame[p]} runs past the message`);
    const ot = frame[p];
    if (ot === ND_OPT.SOURCE_LLADDR) msg.sourceMac = readMac(frame, p + 2);
    else if (ot === ND_OPT.TARGET_LLADDR) msg.targetMac = readMac(frame, p + 2);
    else if (ot === ND_OPT.MTU && olen === 8) msg.mtu = frame.readUInt32BE(p + 4);
    else if (ot === ND_OPT.PREFIX_INFO && olen === 32 && frame[p + 2] <= 128) {
      msg.prefixes.push({
        len: frame[p + 2],
        onLink: (frame[p + 3] & PI_FLAG_ONLINK) !== 0,
        autonomous: (frame[p + 3] & PI_FLAG_AUTONOMOUS) !== 0,
        validLifetime: frame.readUInt32BE(p + 4),
        preferredLifetime: frame.readUInt32BE(p + 8),
        prefix: frame.subarray(p + 16, p + 32),
      });
    }
    p += olen;
  }
  const unspecSrc = isIpv6Unspecified(ip.src);
  switch (type) {
    case ND_ROUTER_SOLICIT:
      if (unspecSrc && msg.sourceMac !== undefined) return no('RS from :: carries a source link-layer address option');
      break;
    case ND_ROUTER_ADVERT:
      if (!isIpv6LinkLocal(ip.src)) return no('RA source is not link-local');
      msg.curHopLimit = frame[o + 4];
      msg.managed = (frame[o + 5] & RA_FLAG_MANAGED) !== 0;
      msg.other = (frame[o + 5] & RA_FLAG_OTHER) !== 0;
      msg.routerLifetime = frame.readUInt16BE(o + 6);
      msg.reachableTime = frame.readUInt32BE(o + 8);
      msg.retransTimer = frame.readUInt32BE(o + 12);
      break;
    case ND_NEIGHBOR_SOLICIT:
      msg.target = frame.subarray(o + 8, o + 24);
      if (isIpv6Multicast(msg.target)) return no('NS target is multicast');
      if (unspecSrc) {
        if (!ipv6PrefixMatch(ip.dst, SOLICITED_NODE_PREFIX, 104)) return no('NS from :: (DAD) is not sent to a solicited-node group');
        if (msg.sourceMac !== undefined) return no('NS from :: carries a source link-layer address option');
      }
      break;
    case ND_NEIGHBOR_ADVERT:
      msg.target = frame.subarray(o + 8, o + 24);
      msg.router = (frame[o + 4] & NA_FLAG_ROUTER) !== 0;
      msg.solicited = (frame[o + 4] & NA_FLAG_SOLICITED) !== 0;
      msg.override = (frame[o + 4] & NA_FLAG_OVERRIDE) !== 0;
      if (isIpv6Multicast(msg.target)) return no('NA target is multicast');
      if (isIpv6Multicast(ip.dst) && msg.solicited) return no('NA to a multicast group has the solicited flag set');
      break;
    default: // redirect
      msg.target = frame.subarray(o + 8, o + 24);
      msg.destination = frame.subarray(o + 24, o + 40);
      if (!isIpv6LinkLocal(ip.src)) return no('redirect source is not link-local');
      if (isIpv6Multicast(msg.destination)) return no('redirect destination is multicast');
      if (!isIpv6LinkLocal(msg.target) && !ipv6Equal(msg.target, msg.destination)) return no('redirect target is neither link-local nor the destination');
  }
  return { ok: true, msg };
}

function einval(message: string): never {
  throw new DpfwdError('EINVAL', message);
}

type L2 = Omit<EthernetOptions, 'etherType' | 'dstMac' | 'srcMac'> & { srcMac: Mac };

export interface NeighborSolicitationOptions extends L2 {
  /** The router's address on the link, or :: for duplicate address detection (then no source link-layer option). */
  srcIp: Ipv6Input;
  target: Ipv6Input;
  /** Unicast NS (reachability confirmation, RFC 4861 7.3.3): the neighbour's address and MAC. Default: the target's solicited-node group and its 33:33 MAC. */
  dstIp?: Ipv6Input;
  dstMac?: Mac;
}

/** Builds an NS (RFC 4861 4.3, 7.2.2): hop limit 255, a source link-layer option unless the source is ::. */
export function buildNeighborSolicitation(opts: NeighborSolicitationOptions): Buffer {
  const src = requireAddr(opts.srcIp);
  const target = requireAddr(opts.target);
  if (isIpv6Multicast(target)) einval('an NS target must not be multicast');
  if ((opts.dstIp === undefined) !== (opts.dstMac === undefined)) einval('a unicast NS needs both dstIp and dstMac');
  const dst = opts.dstIp !== undefined ? requireAddr(opts.dstIp) : solicitedNodeMulticast(target);
  const slla = !isIpv6Unspecified(src);
  const f = icmpv6Frame(24 + (slla ? 8 : 0), {
    vlan: opts.vlan,
    srcMac: opts.srcMac,
    dstMac: opts.dstMac ?? ipv6MulticastMac(dst),
    src,
    dst,
    hopLimit: ND_HOP_LIMIT,
  });
  const b = f.frame;
  b[f.offset] = ND_NEIGHBOR_SOLICIT;
  b.set(target, f.offset + 8);
  if (slla) writeLinkLayerOption(b, f.offset + 24, ND_OPT.SOURCE_LLADDR, opts.srcMac);
  return setIcmpv6Checksum(f);
}

export interface NeighborAdvertisementOptions extends L2 {
  srcIp: Ipv6Input;
  /** The solicitation's source, or ff02::1 for an unsolicited NA (RFC 4861 7.2.4, 7.2.6). */
  dstIp: Ipv6Input;
  /** Default the 33:33 MAC of a multicast dstIp; required for a unicast one. */
  dstMac?: Mac;
  target: Ipv6Input;
  router: boolean;
  solicited: boolean;
  override: boolean;
  /** Include the target link-layer address option (default true; RFC 4861 7.2.4 requires it in reply to a multicast NS). */
  targetLinkLayer?: boolean;
}

/** Builds an NA (RFC 4861 4.4): R, S, O in the top three bits of the word after the checksum, hop limit 255. */
export function buildNeighborAdvertisement(opts: NeighborAdvertisementOptions): Buffer {
  const dst = requireAddr(opts.dstIp);
  const target = requireAddr(opts.target);
  if (isIpv6Multicast(target)) einval('an NA target must not be multicast');
  if (isIpv6Multicast(dst) && opts.solicited) einval('an NA to a multicast group must not have the solicited flag (RFC 4861 7.2.4)');
  if (opts.dstMac === undefined && !isIpv6Multicast(dst)) einval('a unicast NA needs dstMac');
  const tlla = opts.targetLinkLayer ?? true;
  const f = icmpv6Frame(24 + (tlla ? 8 : 0), {
    vlan: opts.vlan,
    srcMac: opts.srcMac,
    dstMac: opts.dstMac ?? ipv6MulticastMac(dst),
    src: opts.srcIp,
    dst,
    hopLimit: ND_HOP_LIMIT,
  });
  const b = f.frame;
  b[f.offset] = ND_NEIGHBOR_ADVERT;
  b[f.offset + 4] = (opts.router ? NA_FLAG_ROUTER : 0) | (opts.solicited ? NA_FLAG_SOLICITED : 0) | (opts.override ? NA_FLAG_OVERRIDE : 0);
  b.set(target, f.offset + 8);
  if (tlla) writeLinkLayerOption(b, f.offset + 24, ND_OPT.TARGET_LLADDR, opts.srcMac);
  return setIcmpv6Checksum(f);
}

export interface RaPrefixOptions {
  prefix: Ipv6Input;
  len: number;
  /** Default true. */
  onLink?: boolean;
  /** Default true (SLAAC; meaningful for /64 on Ethernet). */
  autonomous?: boolean;
  /** Seconds, default 2592000 (30 days, RFC 4861 6.2.1 AdvValidLifetime). */
  validLifetime?: number;
  /** Seconds, default 604800 (7 days, AdvPreferredLifetime). */
  preferredLifetime?: number;
}

export interface RouterAdvertisementOptions extends L2 {
  /** The router's link-local address on the interface (RFC 4861 6.1.2 requires link-local). */
  srcIp: Ipv6Input;
  /** Default ff02::1 (unsolicited, or the RFC's multicast reply to an RS). */
  dstIp?: Ipv6Input;
  dstMac?: Mac;
  /** Cur Hop Limit to advertise, default 64 (0: unspecified). */
  curHopLimit?: number;
  managed?: boolean;
  other?: boolean;
  /** Seconds, 0 (not a default router: what is sent when RAs are turned off) or up to 9000. */
  routerLifetime: number;
  /** Milliseconds, default 0 (unspecified). */
  reachableTime?: number;
  retransTimer?: number;
  /** The MTU option (RFC 4861 4.6.4), omitted when undefined. */
  mtu?: number;
  prefixes?: RaPrefixOptions[];
  /** Include the source link-layer option (default true). */
  sourceLinkLayer?: boolean;
}

const u32 = (v: number, what: string): number => (Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : einval(`${what} ${v} is not in 0..4294967295`));

/** Builds an RA (RFC 4861 4.2) with its source link-layer, MTU and prefix information options. */
export function buildRouterAdvertisement(opts: RouterAdvertisementOptions): Buffer {
  const src = requireAddr(opts.srcIp);
  if (!isIpv6LinkLocal(src)) einval('an RA is sent from a link-local address (RFC 4861 6.1.2)');
  const dst = opts.dstIp !== undefined ? requireAddr(opts.dstIp) : parseIpv6('ff02::1')!;
  if (opts.dstMac === undefined && !isIpv6Multicast(dst)) einval('a unicast RA needs dstMac');
  const lifetime = opts.routerLifetime;
  if (!Number.isInteger(lifetime) || lifetime < 0 || lifetime > 9000) einval(`router lifetime ${lifetime} is not in 0..9000 seconds (RFC 4861 6.2.1)`);
  const hl = opts.curHopLimit ?? 64;
  if (!Number.isInteger(hl) || hl < 0 || hl > 255) einval(`cur hop limit ${hl} is not in 0..255`);
  if (opts.mtu !== undefined && u32(opts.mtu, 'MTU') < IPV6_MIN_MTU) einval(`MTU ${opts.mtu} is below the IPv6 minimum 1280`);
  const prefixes = opts.prefixes ?? [];
  for (const p of prefixes) {
    if (!Number.isInteger(p.len) || p.len < 0 || p.len > 128) einval(`prefix length ${p.len} is not in 0..128`);
    const v = u32(p.validLifetime ?? 2592000, 'valid lifetime');
    if (u32(p.preferredLifetime ?? 604800, 'preferred lifetime') > v) einval('a preferred lifetime must not exceed the valid lifetime (RFC 4861 4.6.2)');
  }
  const slla = opts.sourceLinkLayer ?? true;
  const len = 16 + (slla ? 8 : 0) + (opts.mtu !== undefined ? 8 : 0) + 32 * prefixes.length;
  const f = icmpv6Frame(len, { vlan: opts.vlan, srcMac: opts.srcMac, dstMac: opts.dstMac ?? ipv6MulticastMac(dst), src, dst, hopLimit: ND_HOP_LIMIT });
  const b = f.frame;
  const o = f.offset;
  b[o] = ND_ROUTER_ADVERT;
  b[o + 4] = hl;
  b[o + 5] = (opts.managed ? RA_FLAG_MANAGED : 0) | (opts.other ? RA_FLAG_OTHER : 0);
  b.writeUInt16BE(lifetime, o + 6);
  b.writeUInt32BE(u32(opts.reachableTime ?? 0, 'reachable time'), o + 8);
  b.writeUInt32BE(u32(opts.retransTimer ?? 0, 'retrans timer'), o + 12);
  let p = o + 16;
  if (slla) p = writeLinkLayerOption(b, p, ND_OPT.SOURCE_LLADDR, opts.srcMac);
  if (opts.mtu !== undefined) {
    b[p] = ND_OPT.MTU;
    b[p + 1] = 1;
    b.writeUInt32BE(opts.mtu, p + 4);
    p += 8;
  }
  for (const pi of prefixes) {
    b[p] = ND_OPT.PREFIX_INFO;
    b[p + 1] = 4;
    b[p + 2] = pi.len;
    b[p + 3] = ((pi.onLink ?? true) ? PI_FLAG_ONLINK : 0) | ((pi.autonomous ?? true) ? PI_FLAG_AUTONOMOUS : 0);
    b.writeUInt32BE(pi.validLifetime ?? 2592000, p + 4);
    b.writeUInt32BE(pi.preferredLifetime ?? 604800, p + 8);
    b.set(ipv6NetworkOf(requireAddr(pi.prefix), pi.len), p + 16);
    p += 32;
  }
  return setIcmpv6Checksum(f);
}

/** Writes an 8-byte Ethernet link-layer address option at p; returns p + 8. */
function writeLinkLayerOption(b: Buffer, p: number, type: number, mac: Mac): number {
  b[p] = type;
  b[p + 1] = 1;
  writeMac(b, p + 2, mac);
  return p + 8;
}

// ---------------------------------------------------------------------------------------------
// RA timing (RFC 4861 6.2.1, 6.2.4, 6.2.6, and the constants of section 10)

export const MAX_INITIAL_RTR_ADVERT_INTERVAL = 16;
export const MAX_INITIAL_RTR_ADVERTISEMENTS = 3;
export const MAX_FINAL_RTR_ADVERTISEMENTS = 3;
export const MIN_DELAY_BETWEEN_RAS = 3;
export const MAX_RA_DELAY_TIME = 0.5;

export interface RaTiming {
  /** Seconds. */
  maxInterval: number;
  minInterval: number;
  /** Router lifetime, seconds. */
  lifetime: number;
}

/**
 * Completes and checks RA timing per RFC 4861 6.2.1: MaxRtrAdvInterval 4..1800 (default 600);
 * MinRtrAdvInterval 3..0.75·Max (default 0.33·Max, or Max when Max < 9); AdvDefaultLifetime 0 or
 * Max..9000 (default 3·Max). Returns the completed timing or the list of problems.
 */
export function checkRaTiming(t: Partial<RaTiming>): { ok: true; timing: RaTiming } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const max = t.maxInterval ?? 600;
  if (!(max >= 4 && max <= 1800)) errors.push(`max interval ${max} is not in 4..1800 seconds`);
  const min = t.minInterval ?? (max >= 9 ? 0.33 * max : max);
  if (!(min >= 3 && min <= 0.75 * max) && !(t.minInterval === undefined && max < 9)) {
    errors.push(`min interval ${min} is not in 3..${0.75 * max} seconds (0.75 x max interval)`);
  }
  const lifetime = t.lifetime ?? Math.min(3 * max, 9000);
  if (!(Number.isInteger(lifetime) && (lifetime === 0 || (lifetime >= max && lifetime <= 9000)))) {
    errors.push(`lifetime ${lifetime} is neither 0 nor in ${max}..9000 seconds`);
  }
  return errors.length ? { ok: false, errors } : { ok: true, timing: { maxInterval: max, minInterval: min, lifetime } };
}

/**
 * Seconds until the next unsolicited RA (6.2.4): uniform in [min, max] from `random` in [0, 1),
 * at most 16 s for the first 3 after the interface starts advertising.
 */
export function nextRaDelay(t: RaTiming, sentSoFar: number, random: number): number {
  const d = t.minInterval + random * (t.maxInterval - t.minInterval);
  return sentSoFar < MAX_INITIAL_RTR_ADVERTISEMENTS ? Math.min(d, MAX_INITIAL_RTR_ADVERT_INTERVAL) : d;
}

/**
 * When to send the multicast RA that answers an RS (6.2.6), in seconds on the caller's clock:
 * a random delay of up to 0.5 s, and never sooner than 3 s after the last multicast RA.
 */
export function rsReplyTime(now: number, lastMulticastRa: number | undefined, random: number): number {
  const t = now + random * MAX_RA_DELAY_TIME;
  return lastMulticastRa === undefined ? t : Math.max(t, lastMulticastRa + MIN_DELAY_BETWEEN_RAS);
}
