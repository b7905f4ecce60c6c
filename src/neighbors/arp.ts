/**
 * The IPv4 resolver (./resolver.ts): ARP requests out, punted ARP frames in. A frame is read
 * once into numbers (readArp) and the interface stays an index throughout: its addresses are
 * asked of the RIB by index, never by name.
 */
import { networkOf, prefixContains } from '../net/ipv4';
import type { Mac } from '../net/mac';
import { ARP_OP_REPLY, ARP_OP_REQUEST, arpReplyFrame, arpRequestFrame, readArp } from '../packet/arp';
import type { Rib } from '../routing/rib';
import type { Neighbors } from './index';
import type { Resolver } from './resolver';

/** What the ARP resolver uses of the control plane. */
export interface ArpDeps {
  rib: Rib;
  neighbors: () => Neighbors;
  /** sends a frame out of an interface; false when refused (counted by the sender) */
  send(iface: number, frame: Buffer): boolean;
  portMac(iface: number): Mac;
  counters: { arpRequestsSent: number; arpRepliesSent: number; arpInvalid: number };
  /** Linux's mirror of the interface, when mirrors run: it sees the ARP as on a NIC */
  mirror?(iface: number, frame: Buffer): void;
}

/** The router's IPv4 address on `iface` in the subnet of `peer`, else its first address there. */
export function addressOn(rib: Rib, iface: number, peer?: number): number | undefined {
  const addrs = rib.addressesOn(iface);
  if (peer !== undefined) {
    const inSubnet = addrs.find((a) => prefixContains({ addr: networkOf(a.addr, a.len), len: a.len }, peer));
    if (inSubnet) return inSubnet.addr;
  }
  return addrs[0]?.addr;
}

export class ArpResolver implements Resolver {
  readonly family = 4 as const;

  constructor(private readonly d: ArpDeps) {}

  solicit(iface: number, addr: number, mac: Mac | null): void {
    const src = addressOn(this.d.rib, iface, addr);
    if (src === undefined) return; // no address on that link: nothing to ask with
    if (this.d.send(iface, arpRequestFrame(this.d.portMac(iface), src, addr, mac))) this.d.counters.arpRequestsSent++;
  }

  input(iface: number, frame: Buffer): void {
    // read once, into numbers (punted frames are untagged: the VLAN is the interface index)
    const a = readArp(frame, 14);
    if (!a) {
      this.d.counters.arpInvalid++;
      return;
    }
    const rib = this.d.rib;
    const forUs = rib.isLocalOn(iface, a.targetIp);
    // Learn only what Linux would (arp_process): a reply to our request, or a request for our
    // address; anything else only refreshes an entry we have (Neighbors.learn)
    const onLink = rib.connectedPort(a.senderIp) === iface;
    if (a.senderIp !== 0 && onLink && !rib.isLocalOn(iface, a.senderIp)) {
      // (a reply counts as solicited only while we resolve or probe the sender: Neighbors.learn)
      const how = !forUs ? 'unsolicited' : a.op === ARP_OP_REQUEST ? 'request' : a.op === ARP_OP_REPLY ? 'solicited' : 'unsolicited';
      this.d.neighbors().learn(a.senderIp, iface, a.senderMac, how);
    }
    if (a.op === ARP_OP_REQUEST && forUs) {
      if (this.d.send(iface, arpReplyFrame(a, this.d.portMac(iface)))) this.d.counters.arpRepliesSent++;
    }
    // Linux on the mirror sees the port's ARP as on a NIC, to resolve its own neighbours (its
    // replies for our addresses are held back in src/controlplane/mirrors.ts: we answered already)
    this.d.mirror?.(iface, frame);
  }
}
