/** One-call tolerant parse of a whole frame into {eth, ip, arp, l4}. */
import { DpfwdError } from '../errors';
import { ArpPacket, parseArp } from './arp';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, EthernetHeader, parseEthernet } from './ethernet';
import { IcmpHeader, parseIcmp } from './icmp';
import { IPPROTO_ICMP, IPPROTO_UDP, Ipv4Header, readIpv4Header } from './ipv4';
import { UdpHeader, parseUdp } from './udp';

export interface ParsedFrame {
  /** Undefined if the frame is shorter than an Ethernet header. */
  eth?: EthernetHeader;
  /** Present for EtherType 0x0800 when at least 20 bytes follow. */
  ip?: Ipv4Header;
  /** Present for EtherType 0x0806 when at least 28 bytes follow. */
  arp?: ArpPacket;
  /** UDP or ICMP of an unfragmented-or-first-fragment datagram, when its header is present. */
  l4?: UdpHeader | IcmpHeader;
  /** Every problem found, outermost first; empty for a well-formed frame. */
  problems: string[];
}

/**
 * Parses a frame without throwing on junk: missing layers are left undefined and the reasons go to
 * `problems`. With `{strict: true}`, throws DpfwdError('EPACKET') on the first problem instead.
 */
export function parseFrame(buf: Buffer, opts: { strict?: boolean } = {}): ParsedFrame {
  const r: ParsedFrame = { problems: [] };
  r.eth = parseEthernet(buf);
  if (!r.eth) {
    r.problems.push(`frame of ${buf.length} bytes is shorter than its Ethernet header`);
  } else if (r.eth.etherType === ETHERTYPE_IPV4) {
    r.ip = readIpv4Header(buf, r.eth.payloadOffset);
    if (!r.ip) r.problems.push('IPv4 header truncated');
    else {
      r.problems.push(...r.ip.problems.map((p) => `IPv4: ${p}`));
      const ip = r.ip;
      const l4ok = ip.fragmentOffset === 0 && ip.ihl >= 5 && ip.headerLength <= buf.length - ip.offset;
      if (l4ok && ip.protocol === IPPROTO_UDP) {
        r.l4 = parseUdp(buf, ip.payloadOffset, ip.payloadLength);
        if (!r.l4) r.problems.push('UDP header truncated');
        else r.problems.push(...r.l4.problems.map((p) => `UDP: ${p}`));
      } else if (l4ok && ip.protocol === IPPROTO_ICMP) {
        r.l4 = parseIcmp(buf, ip.payloadOffset, ip.payloadLength);
        if (!r.l4) r.problems.push('ICMP header truncated');
        // A first fragment holds only part of the message: its checksum cannot be checked.
        else if (!ip.mf) r.problems.push(...r.l4.problems.map((p) => `ICMP: ${p}`));
      }
    }
  } else if (r.eth.etherType === ETHERTYPE_ARP) {
    r.arp = parseArp(buf, r.eth.payloadOffset);
    if (!r.arp) r.problems.push('ARP packet truncated');
    else r.problems.push(...r.arp.problems.map((p) => `ARP: ${p}`));
  }
  if (opts.strict && r.problems.length) throw new DpfwdError('EPACKET', `malformed frame: ${r.problems[0]}`);
  return r;
}
