/**
 * The next hop, which is also the neighbour (grout's gr_nexthop): one record per (interface,
 * address) holding everything dpfwd knows about it — the C next-hop word it owns (if a route
 * or a host route uses it), the MAC, the ARP state, probes, held packets and the timer. The RIB
 * owns the records (src/routing/rib.ts); the ARP state machine (src/neighbors) acts on them and
 * keeps no table of its own. One write per change: a record's MAC goes straight to its word.
 */
import type { Mac } from '../net/mac';

/** The states a neighbour is shown in, as iproute2 names them. */
export const NEIGH_STATES = ['INCOMPLETE', 'REACHABLE', 'STALE', 'FAILED', 'PERMANENT'] as const;
export type NeighState = (typeof NEIGH_STATES)[number];
/** A next-hop record's state: a neighbour's, or NONE for a next hop that is nobody's neighbour (yet). */
export type NhState = NeighState | 'NONE';

export type NhKind = 'gateway' | 'glean' | 'local' | 'drop' | 'group';

/** An ECMP group's part of its next hop (kind 'group'): see Rib.groupNexthop. */
export interface NhGroup {
  /** the C group index (dp_group_set) */
  gid: number;
  /** member next hops, in (interface, gateway) order, each holding one reference for the group */
  members: NextHop[];
  weights: number[];
  /** 1 where the member takes traffic (see Rib.memberLive), as last written to C */
  live: Uint8Array;
  /** its key in the RIB's table: the members' ids and weights */
  key: string;
}

export interface NextHop {
  /** the C next-hop word it owns, or -1 while no route uses it (a neighbour being resolved) */
  id: number;
  kind: NhKind;
  /** egress interface index; -1 for local and drop */
  iface: number;
  /** gateway/neighbour address (uint32), 0 for glean/local/drop */
  addr: number;
  /** routes (and a neighbour's host route) holding the word */
  refs: number;
  /** held only by a learned neighbour's host route (counts in the learned budget, arp.maxEntries) */
  learned: boolean;

  // ---- the neighbour (kind 'gateway'), driven by src/neighbors ----
  mac: Mac | null;
  state: NhState;
  probes: number;
  /** last change of state or MAC (ms) */
  updated: number;
  timer: NodeJS.Timeout | null;
  /** when the timer fires (ms), or 0 without a timer */
  due: number;
  /** packets waiting for the MAC */
  queue: Buffer[];
  /** resolved for a route's gateway: outside the learned budgets, never evicted */
  gateway: boolean;

  // ---- ECMP ----
  /** kind 'group': the group */
  group?: NhGroup;
  /** the groups this next hop is a member of */
  groups?: Set<NextHop>;
}

export function newNextHop(kind: NhKind, iface: number, addr: number): NextHop {
  return {
    id: -1,
    kind,
    iface,
    addr,
    refs: 0,
    learned: false,
    mac: null,
    state: 'NONE',
    probes: 0,
    updated: 0,
    timer: null,
    due: 0,
    queue: [],
    gateway: false,
  };
}

/** The key of a next hop in the RIB's table. */
export function nexthopKey(kind: NhKind, iface: number, addr: number): string {
  switch (kind) {
    case 'gateway':
      return `gw:${iface}:${addr}`;
    case 'glean':
      return `glean:${iface}`;
    default:
      return kind;
  }
}
