/**
 * Neighbour resolution per address family (grout's nexthop_af_ops): the state machine
 * (./index.ts) and the next-hop record (src/routing/nexthop.ts) are shared; what a family adds
 * is how to ask for a link-layer address and how to read the answers. ARP (./arp.ts) today;
 * IPv6's NDP will be a sibling implementing the same interface.
 */
import type { Family } from '../net/addr';
import type { Mac } from '../net/mac';

export interface Resolver {
  readonly family: Family;
  /** Asks for addr's link-layer address on interface iface: broadcast/multicast, or unicast to `mac` to re-validate. */
  solicit(iface: number, addr: number, mac: Mac | null): void;
  /** A punted frame of the family's resolution protocol, read once: learns, and answers for our addresses. */
  input(iface: number, frame: Buffer): void;
}
