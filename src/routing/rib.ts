/**
 * The routing information base: what the operator asked for (static routes, interface addresses,
 * neighbours) turned into FIB entries and next-hop words, with next hops shared and ref-counted.
 *
 * - A gateway next hop is keyed by (port, gateway address): every route via the same gateway
 *   shares it, so a neighbour update is one atomic store that moves all of them.
 * - An interface address adds a local /32 (punted to the control plane) and a connected route
 *   (glean: the destination itself must be resolved). A neighbour learned inside a connected
 *   subnet gets a /32 host route to its own next hop (VPP's adjacency FIB entry).
 * - Per route the model keeps one number (next hop + origin·2^24) in the family's route table
 *   (./table4.ts for IPv4: a Map per prefix length keyed by the address), not an object, so a
 *   million routes fit in tens of MiB of Node heap; views and `route show`'s pages sort
 *   addr·64+len keys (routeKeys).
 */
import { DpfwdError } from '../errors';
import { formatIPv4, formatPrefix, maskOf, networkOf, prefixContains } from '../net/ipv4';
import { RouteBatch, ROUTE_BLACKHOLE, ROUTE_MULTIPATH, ROUTE_PORT_ID, ROUTE_VIA } from './routes';
import { ORIGINS, routeWords, type Origin, type Route, type RoutePath } from './route';
import { gatewaySubnetProblem, originProblem } from './rules';
import { Interfaces } from './interfaces';
import { newNextHop, NextHop, nexthopKey, NhKind } from './nexthop';
import { Ipv4RouteTable } from './table4';
import { formatMac, Mac } from '../net/mac';

export type { NextHop, NhKind } from './nexthop';

import {
  ADDR_BROADCAST,
  ADDR_NETWORK,
  ADDR_OWN,
  GROUP_MAX_MEMBERS,
  GROUP_MAX_WEIGHT,
  NH_DROP,
  NH_GLEAN,
  NH_GROUP,
  NH_LOCAL,
  NH_UNRESOLVED,
} from '../dataplane/actions';

/** What the RIB needs from the dataplane (the real Dataplane satisfies it). */
export interface FibWriter {
  fibAdd(addr: number, len: number, nexthop: number): void;
  fibDel(addr: number, len: number): void;
  fibAddBulk(addrs: Uint32Array, lens: Uint8Array, nexthops: Uint32Array): number;
  nexthopSet(id: number, portOrAction: number, mac?: Mac): void;
  nexthopActionWithPort(id: number, action: number, port: number): void;
  /** the router's addresses and its subnets' broadcast/network addresses (source and broadcast rules) */
  addrFilterSet?(addrs: Uint32Array, kinds: Uint8Array): void;
  /** ECMP groups (dp_group_set / dp_group_del): without them multipath routes are refused */
  groupSet?(gid: number, nexthops: Uint32Array, weights: Uint16Array, live: Uint8Array): void;
  groupDel?(gid: number): void;
}

export { ORIGINS, type Origin } from './route';

/** A port by name and index (tests build a RIB from these; the forwarder passes its Interfaces). */
export interface PortRef {
  name: string;
  index: number;
}

export interface RouteView {
  prefix: string;
  addr: number;
  len: number;
  origin: Origin;
  kind: NhKind;
  port?: string;
  via?: string;
  mac?: string | null;
  /** a multipath route (kind 'group'): its paths; `dead` when the path takes no traffic now */
  paths?: { via?: string; port?: string; weight: number; mac?: string | null; dead?: boolean }[];
  /** a synced route's protocol, iproute2's name (`bgp`, `ospf`, or the number) */
  protocol?: string;
  /** the next hop's id (`nexthop show`) */
  nexthop: number;
}

const NH_SHIFT = 2 ** 24;

/** Rib.syncRoutes' outcome of a row. */
export const SYNC_INSTALLED = 1;
export const SYNC_SHADOWED = 2;
export const SYNC_FAILED = 3;

/**
 * Synced routes for Rib.syncRoutes as columns: per row the prefix, a RouteBatch kind (ROUTE_VIA,
 * ROUTE_PORT, ROUTE_BLACKHOLE, ROUTE_MULTIPATH), the gateway and the interface index; multipath
 * rows' paths (interface indexes) by row.
 */
export interface SyncRows {
  n: number;
  addrs: Uint32Array;
  lens: Uint8Array;
  kinds: Uint8Array;
  vias: Uint32Array;
  ifaces: Int32Array;
  paths: Map<number, { via?: number; port: number; weight: number }[]>;
}
const DROP_NH = 0;

export class Rib {
  /** the interfaces, shared with the forwarder and the control plane */
  readonly ifaces: Interfaces;
  /** by C word id: the records that own a word */
  private readonly nexthops: (NextHop | undefined)[] = [];
  private readonly freeIds: number[] = [];
  /** every record, by nexthopKey: those with a word and the neighbours no route uses yet */
  private readonly byKey = new Map<string, NextHop>();
  /** the IPv4 route table (./table4.ts); IPv6's will sit beside it */
  private readonly routes = new Ipv4RouteTable();
  /** routeKeys' sorted keys, of the table as it was at sortedVersion */
  private sortedKeys: Float64Array | null = null;
  private sortedVersion = -1;
  /** an index, not a second owner: the record that is each address's neighbour (state not NONE) */
  private readonly neighbors = new Map<number, NextHop>();
  /** C words in use */
  private usedIds = 0;
  /**
   * Called with a multipath route's gateway whose MAC is unknown when the route takes it: its
   * buckets go to the other paths, so no packet would ask for it (the control plane resolves it).
   */
  gatewayWanted: ((addr: number, iface: number) => void) | null = null;
  /** ports whose link is down (setPortLink) */
  private readonly portsDown = new Set<number>();
  /** ECMP group indexes: given back ones, the next never used, how many in use */
  private readonly freeGids: number[] = [];
  private nextGid = 0;
  private groupsUsed = 0;
  /** interface addresses per port index */
  private readonly addresses: { port: number; addr: number; len: number }[] = [];
  readonly counts: Record<Origin, number> = { static: 0, connected: 0, local: 0, neighbor: 0, linux: 0 };
  /** called after a non-linux route left a prefix: the route sync installs its route there again */
  onVacated?: (addr: number, len: number) => void;
  /** the protocol of a synced route, for views (the route sync owns that fact) */
  protocolOf?: (addr: number, len: number) => string | undefined;
  /** next hops held only by learned neighbours (see learnedMax) */
  private learnedCount = 0;
  readonly updates = { add: { ok: 0, error: 0 }, del: { ok: 0, error: 0 } };

  constructor(
    private readonly fib: FibWriter,
    ports: Interfaces | readonly PortRef[],
    private readonly maxNexthops: number,
    /**
     * Next hops that learned (ARP) neighbours may hold: the rest is kept for routes, interface
     * addresses and static neighbours (arp.maxEntries, at most half of fib.maxNexthops).
     */
    readonly learnedMax: number = Math.floor(maxNexthops / 2),
    /** ECMP groups: distinct sets of paths of multipath routes (fib.maxGroups) */
    readonly maxGroups: number = 1024,
  ) {
    this.ifaces = ports instanceof Interfaces ? ports : new Interfaces(ports.map((p) => ({ ...p, port: p.index, vlan: 0, mac: 0, mtu: 1500 })));
    // id 0: the shared drop next hop (blackhole routes)
    const drop = newNextHop('drop', -1, 0);
    drop.id = DROP_NH;
    drop.refs = 1;
    this.nexthops[DROP_NH] = drop;
    this.byKey.set('drop', drop);
    this.usedIds = 1;
    this.fib.nexthopSet(DROP_NH, NH_DROP);
  }

  get routeCount(): number {
    return this.routes.size;
  }

  portIndex(name: string): number {
    return this.ifaces.index(name);
  }

  portName(index: number): string {
    return this.ifaces.name(index);
  }

  // ---- next hops ----

  /**
   * A reference to the next hop (kind, iface, addr), its word taken if it has none yet (the
   * record may exist already: a neighbour no route used). `learned`: for a learned neighbour's
   * host route (its budget).
   */
  private allocNexthop(kind: NhKind, iface: number, addr: number, learned = false): NextHop {
    const key = nexthopKey(kind, iface, addr);
    const have = this.byKey.get(key);
    if (have && have.id >= 0) {
      have.refs++;
      if (have.learned && !learned) {
        have.learned = false; // a route uses it now: it counts as the route's
        this.learnedCount--;
      }
      return have;
    }
    if (learned && this.learnedCount >= this.learnedMax) {
      throw new DpfwdError('ENOSPC', `learned neighbours hold all ${this.learnedMax} next hops of their budget (arp.maxEntries); routes keep the rest`);
    }
    const id = this.takeId();
    if (learned) this.learnedCount++;
    const nh = have ?? newNextHop(kind, iface, addr);
    nh.id = id;
    nh.refs = 1;
    nh.learned = learned;
    this.nexthops[id] = nh;
    this.usedIds++;
    this.byKey.set(key, nh);
    this.writeNexthop(nh);
    return nh;
  }

  /** A free C word id, taken. */
  private takeId(): number {
    const id = this.freeIds.length ? this.freeIds[this.freeIds.length - 1] : this.nexthops.length;
    if (id >= this.maxNexthops) {
      throw new DpfwdError('ENOSPC', `no free next-hop entry (fib.maxNexthops = ${this.maxNexthops}); raise it and restart`);
    }
    if (this.freeIds.length) this.freeIds.pop();
    return id;
  }

  /**
   * The next hop of a multipath route: a group of its paths' next hops (gateway or glean, one
   * reference each, as single routes take them) shared by every route with the same paths and
   * weights, in any order. `port` is an interface index or -1 (the gateway's connected subnet).
   */
  private groupNexthop(paths: readonly { via?: number; port: number; weight: number }[], reuse?: NextHop): NextHop {
    if (paths.length > GROUP_MAX_MEMBERS) {
      throw new DpfwdError('EINVAL', `a multipath route has at most ${GROUP_MAX_MEMBERS} paths; ${paths.length} given`);
    }
    if (!this.fib.groupSet) throw new DpfwdError('EINVAL', 'this FIB takes no multipath routes');
    const taken: NextHop[] = [];
    let order: number[];
    try {
      for (const p of paths) {
        if (!Number.isInteger(p.weight) || p.weight < 1 || p.weight > GROUP_MAX_WEIGHT) {
          throw new DpfwdError('EINVAL', `weight ${p.weight}: use a whole number 1-${GROUP_MAX_WEIGHT}`);
        }
        if (p.via !== undefined) taken.push(this.gatewayNexthop(p.via, p.port));
        else if (p.port >= 0) taken.push(this.allocNexthop('glean', p.port, 0));
        else throw new DpfwdError('EINVAL', 'a path needs a gateway (via) or a port');
      }
      // members in (interface, gateway) order: the same paths make the same buckets whatever
      // their order and whatever ids their next hops got (a route removed and added again)
      order = taken.map((_nh, i) => i).sort((a, b) => taken[a].iface - taken[b].iface || taken[a].addr - taken[b].addr);
      for (let k = 1; k < order.length; k++) {
        if (taken[order[k]].id === taken[order[k - 1]].id) {
          throw new DpfwdError(
            'EINVAL',
            `paths ${Math.min(order[k], order[k - 1]) + 1} and ${Math.max(order[k], order[k - 1]) + 1} are the same next hop; give one path a weight instead`,
          );
        }
      }
    } catch (e) {
      for (const m of taken) this.releaseNexthop(m.id);
      throw e;
    }
    let key = `group:${order.map((i) => `${taken[i].id}*${paths[i].weight}`).join(',')}`;
    const have = this.byKey.get(key);
    if (have && have.id >= 0 && (!reuse || have === reuse)) {
      have.refs++;
      for (const m of taken) this.releaseNexthop(m.id); // the group holds its own
      return have;
    }
    if (reuse) {
      // the route's own group, used by no other route: changed in place, so C moves only the
      // buckets the new paths and weights need (flows of the paths that stay do not move) —
      // even when another group has these paths (then this one is not shared: its key is its own)
      const g = reuse.group!;
      if (have) key = `${key}#${g.gid}`;
      const old = g.members;
      reuse.refs++; // the caller's install gives the route's old reference back
      this.byKey.delete(g.key);
      for (const m of old) m.groups!.delete(reuse);
      g.members = order.map((i) => taken[i]);
      g.weights = order.map((i) => paths[i].weight);
      g.live = new Uint8Array(taken.length);
      g.key = key;
      for (const m of g.members) (m.groups ??= new Set()).add(reuse);
      this.byKey.set(key, reuse);
      this.writeNexthop(reuse);
      for (const m of old) this.releaseNexthop(m.id);
      this.wantGateways(reuse);
      return reuse;
    }
    let id: number;
    try {
      if (this.freeGids.length === 0 && this.nextGid >= this.maxGroups) {
        throw new DpfwdError(
          'ENOSPC',
          `no free next-hop group (fib.maxGroups = ${this.maxGroups}): each distinct set of paths takes one; raise it and restart`,
        );
      }
      id = this.takeId();
    } catch (e) {
      for (const m of taken) this.releaseNexthop(m.id);
      throw e;
    }
    const gid = this.freeGids.length ? this.freeGids.pop()! : this.nextGid++;
    const nh = newNextHop('group', -1, 0);
    nh.id = id;
    nh.refs = 1;
    nh.group = { gid, members: order.map((i) => taken[i]), weights: order.map((i) => paths[i].weight), live: new Uint8Array(taken.length), key };
    for (const m of nh.group.members) (m.groups ??= new Set()).add(nh);
    this.nexthops[id] = nh;
    this.usedIds++;
    this.groupsUsed++;
    this.byKey.set(key, nh);
    this.writeNexthop(nh);
    this.wantGateways(nh);
    return nh;
  }

  /** gatewayWanted for each of a group's gateways whose MAC is unknown. */
  private wantGateways(g: NextHop): void {
    for (const m of g.group!.members) if (m.kind === 'gateway' && m.mac === null) this.gatewayWanted?.(m.addr, m.iface);
  }

  /**
   * Whether a group member takes traffic: a gateway whose MAC is known (one not yet resolved,
   * or FAILED, leaves the buckets to the others until ARP finds it), a port's subnet always;
   * neither while its port's link is down (setPortLink).
   * With no member live, every member keeps its buckets: packets find unresolved words and
   * ask for resolution, as a single unresolved next hop does.
   */
  private memberLive(m: NextHop): boolean {
    return (m.kind !== 'gateway' || m.mac !== null) && !this.portsDown.has(this.ifaces.get(m.iface)?.port ?? m.iface);
  }

  /**
   * A port's link went down or came back: group members on it (and on its VLAN sub-interfaces)
   * leave the buckets while it is down, as a member whose MAC is unknown does.
   */
  setPortLink(port: number, up: boolean): void {
    if (up ? !this.portsDown.delete(port) : this.portsDown.has(port)) return;
    if (!up) this.portsDown.add(port);
    for (const nh of this.nexthops) if (nh?.group) this.syncGroup(nh);
  }

  /** Writes a group's buckets to C when a member's liveness changed (or `force`). */
  private syncGroup(g: NextHop, force = false): void {
    const grp = g.group!;
    let changed = force;
    grp.members.forEach((m, i) => {
      const l = this.memberLive(m) ? 1 : 0;
      if (grp.live[i] !== l) changed = true;
      grp.live[i] = l;
    });
    if (!changed) return;
    this.fib.groupSet!(
      grp.gid,
      Uint32Array.from(grp.members, (m) => m.id),
      Uint16Array.from(grp.weights),
      grp.live,
    );
  }

  private releaseNexthop(id: number): void {
    const nh = this.nexthops[id];
    if (!nh) return;
    if (--nh.refs > 0 || id === DROP_NH) return; // the drop next hop holds one for itself and stays
    if (nh.kind === 'group') {
      // the word first: no packet reaches the buckets once it drops; then the members go
      const g = nh.group!;
      this.nexthops[id] = undefined;
      this.usedIds--;
      this.fib.nexthopSet(id, NH_DROP);
      this.fib.groupDel?.(g.gid);
      this.freeIds.push(id);
      this.freeGids.push(g.gid);
      this.groupsUsed--;
      this.byKey.delete(g.key);
      nh.id = -1;
      for (const m of g.members) {
        m.groups!.delete(nh);
        this.releaseNexthop(m.id);
      }
      return;
    }
    if (nh.learned) this.learnedCount--;
    this.nexthops[id] = undefined;
    this.usedIds--;
    this.fib.nexthopSet(id, NH_DROP);
    this.freeIds.push(id);
    nh.id = -1;
    nh.learned = false;
    // a neighbour's record outlives its last route: the ARP state machine still drives it
    if (nh.state === 'NONE') this.byKey.delete(nexthopKey(nh.kind, nh.iface, nh.addr));
  }

  /** The one write of a record to its C word (if it owns one). */
  private writeNexthop(nh: NextHop): void {
    if (nh.id < 0) return;
    switch (nh.kind) {
      case 'gateway':
        if (nh.mac !== null) this.fib.nexthopSet(nh.id, nh.iface, nh.mac);
        else this.fib.nexthopActionWithPort(nh.id, NH_UNRESOLVED, nh.iface);
        break;
      case 'glean':
        this.fib.nexthopActionWithPort(nh.id, NH_GLEAN, nh.iface);
        break;
      case 'local':
        this.fib.nexthopSet(nh.id, NH_LOCAL);
        break;
      case 'group':
        // the buckets before the word that leads to them
        this.syncGroup(nh, true);
        this.fib.nexthopActionWithPort(nh.id, NH_GROUP, nh.group!.gid);
        break;
      default:
        this.fib.nexthopSet(nh.id, NH_DROP);
    }
    if (nh.groups) for (const g of nh.groups) this.syncGroup(g);
  }

  /** The port whose connected subnet holds addr, or -1. */
  connectedPort(addr: number): number {
    let best = -1;
    let bestLen = -1;
    for (const a of this.addresses) {
      if (a.len > bestLen && prefixContains(a, addr)) {
        best = a.port;
        bestLen = a.len;
      }
    }
    return best;
  }

  // ---- routes ----

  private install(addr: number, len: number, nh: NextHop, origin: Origin): void {
    const old = this.routes.get(addr, len);
    try {
      this.fib.fibAdd(addr, len, nh.id);
    } catch (e) {
      this.updates.add.error++;
      this.releaseNexthop(nh.id);
      throw e;
    }
    this.updates.add.ok++;
    this.routes.set(addr, len, nh.id + ORIGINS.indexOf(origin) * NH_SHIFT);
    this.counts[origin]++;
    if (old !== undefined) {
      this.counts[ORIGINS[Math.floor(old / NH_SHIFT)]]--;
      this.releaseNexthop(old % NH_SHIFT);
    }
  }

  /** The next hop via a gateway out of port (an index), or with port -1 the port whose subnet holds it. */
  private gatewayNexthop(via: number, port: number): NextHop {
    if (port < 0) {
      port = this.connectedPort(via);
      const problem = gatewaySubnetProblem(via, port);
      if (problem) throw new DpfwdError('EINVAL', problem);
    }
    return this.allocNexthop('gateway', port, via);
  }

  /** A multipath route's paths with their ports as interface indexes (-1: none given). */
  private pathsOf(paths: readonly RoutePath[]): { via?: number; port: number; weight: number }[] {
    return paths.map((p) => ({ via: p.via, port: p.port === undefined ? -1 : this.portIndex(p.port), weight: p.weight }));
  }

  /**
   * Adds or replaces a static route, or with origin `linux` a synced one: that one is not
   * installed over a route of another origin (returns false: shadowed), and a static route
   * replaces it. `paths` (two or more) makes it multipath (ECMP).
   */
  addRoute(r: Omit<Route, 'blackhole' | 'origin'> & { blackhole?: boolean }, origin: 'static' | 'linux' = 'static'): boolean {
    if (networkOf(r.addr, r.len) !== r.addr >>> 0) {
      throw new DpfwdError(
        'EINVAL',
        `${formatIPv4(r.addr)}/${r.len} has host bits set; did you mean ${formatPrefix({ addr: networkOf(r.addr, r.len), len: r.len })}?`,
      );
    }
    const existing = this.routes.get(r.addr, r.len);
    const had = existing === undefined ? -1 : Math.floor(existing / NH_SHIFT);
    if (origin === 'linux' && had >= 0 && had !== ORIGINS.indexOf('linux')) return false;
    if (had >= 0 && had !== ORIGINS.indexOf(origin)) {
      const problem = originProblem(r, ORIGINS[had]);
      if (problem) throw new DpfwdError('EEXIST', problem);
    }
    let nh: NextHop;
    if (r.paths && r.paths.length > 1) {
      // a multipath route given other paths keeps its group when no other route shares it
      const cur = existing === undefined ? undefined : this.nexthops[existing % NH_SHIFT];
      nh = this.groupNexthop(this.pathsOf(r.paths), cur?.kind === 'group' && cur.refs === 1 ? cur : undefined);
    } else if (r.paths && r.paths.length === 1) {
      const p = r.paths[0];
      nh =
        p.via !== undefined
          ? this.gatewayNexthop(p.via, p.port === undefined ? -1 : this.portIndex(p.port))
          : this.allocNexthop('glean', this.portIndex(p.port!), 0);
    } else if (r.blackhole) nh = this.allocNexthop('drop', -1, 0);
    else if (r.via !== undefined) nh = this.gatewayNexthop(r.via, r.port === undefined ? -1 : this.portIndex(r.port));
    else if (r.port !== undefined) {
      const port = this.portIndex(r.port);
      nh = this.allocNexthop('glean', port, 0);
    } else throw new DpfwdError('EINVAL', `route ${formatPrefix(r)} needs via, port or blackhole`);
    this.install(r.addr, r.len, nh, origin);
    if (origin !== 'linux')
      this.onEvent?.('route', `route ${had >= 0 ? 'replace' : 'add'} ${routeWords({ ...r, blackhole: r.blackhole ?? false, origin })} proto ${origin}`);
    return true;
  }

  /**
   * Adds a batch of static routes (a parsed route file, the config's routes) as if its lines were
   * applied in order: a prefix already in the table is replaced, and a prefix given twice ends
   * with its last line. All or nothing: an unknown port or port id, host bits, a gateway outside
   * every connected subnet, a prefix that is a connected/local/neighbour route, no free next hop
   * or a full FIB leaves the RIB, the next-hop references and the FIB as they were.
   *
   * Every row is checked and its next hop taken before the FIB is written. The FIB then gets the
   * new prefixes (the write that can run out of room, undone with fibDel) before the
   * replacements, so a load that fails moves no existing route. Returns the number of prefixes
   * added or replaced.
   */
  addRoutesBulk(b: RouteBatch): number {
    const n = b.length;
    const { addrs, lens, kinds, vias, ports } = b;
    // ports as indexes, checked first and in row order so the first bad row is the one named;
    // one lookup per distinct name
    const byRef = new Int32Array(b.portNames.length + 1).fill(-1);
    for (let i = 0; i < n; i++) {
      const p = ports[i];
      if (kinds[i] === ROUTE_PORT_ID) {
        const nPorts = this.ifaces.ports().length;
        if (p >= nPorts) {
          throw new DpfwdError(
            'ENODEV',
            `route ${formatPrefix({ addr: addrs[i], len: lens[i] })}: port id ${p} does not exist (ports 0-${nPorts - 1}: ${this.ifaces
              .ports()
              .map((x) => x.name)
              .join(', ')})`,
          );
        }
      } else if (p > 0 && byRef[p] < 0) byRef[p] = this.portIndex(b.portNames[p - 1]);
    }
    // Per row: the next hop it holds a reference to, and 1 + the value its prefix had before the
    // call (0: none). A row that a later row overrides is checked and takes a reference like any
    // other (applied in order, a bad line fails the load wherever it is), and is not written.
    const skip = b.overridden();
    const nhs = new Uint32Array(n);
    const prev = new Uint32Array(n);
    const staticOrigin = ORIGINS.indexOf('static');
    const linuxOrigin = ORIGINS.indexOf('linux'); // synced routes give way to static ones
    let live = 0; // rows that end up in the table
    let fresh = 0; // of those, prefixes that were not in it
    let last: NextHop | undefined;
    let lastKind = -1;
    let lastVia = 0;
    let lastPort = -1;
    let i = 0;
    try {
      for (; i < n; i++) {
        const addr = addrs[i];
        const len = lens[i];
        if (networkOf(addr, len) !== addr) {
          throw new DpfwdError('EINVAL', `${formatIPv4(addr)}/${len} has host bits set`);
        }
        const v = this.routes.get(addr, len);
        if (v !== undefined && Math.floor(v / NH_SHIFT) !== staticOrigin && Math.floor(v / NH_SHIFT) !== linuxOrigin) {
          throw new DpfwdError('EEXIST', originProblem({ addr, len }, ORIGINS[Math.floor(v / NH_SHIFT)])!);
        }
        const kind = kinds[i];
        const via = vias[i];
        const port = kind === ROUTE_PORT_ID ? ports[i] : ports[i] > 0 ? byRef[ports[i]] : -1;
        let nh: NextHop;
        if (kind === ROUTE_MULTIPATH) {
          nh = this.groupNexthop(this.pathsOf(b.paths.get(i)!));
          last = undefined;
        } else if (last && kind === lastKind && via === lastVia && port === lastPort) {
          nh = last; // route files list many routes via one gateway: skip the key lookup
          nh.refs++;
        } else {
          if (kind === ROUTE_BLACKHOLE) nh = this.allocNexthop('drop', -1, 0);
          else if (kind === ROUTE_VIA) nh = this.gatewayNexthop(via, port);
          else if (port >= 0) nh = this.allocNexthop('glean', port, 0);
          else throw new DpfwdError('EINVAL', `route ${formatPrefix({ addr, len })} needs via, port or blackhole`);
          last = nh;
          lastKind = kind;
          lastVia = via;
          lastPort = port;
        }
        nhs[i] = nh.id;
        if (skip && skip[i]) continue;
        live++;
        if (v === undefined) fresh++;
        else prev[i] = v + 1;
      }
    } catch (e) {
      this.releaseAll(nhs, i);
      throw e;
    }

    // the FIB's rows: new prefixes in [0, fresh), replacements in [fresh, live); rowOf[k] is the
    // batch row. A batch of distinct new prefixes (a first load) goes as it is.
    let fa = addrs;
    let fl = lens;
    let fn = nhs;
    let rowOf: Uint32Array | null = null;
    if (fresh < n) {
      fa = new Uint32Array(live);
      fl = new Uint8Array(live);
      fn = new Uint32Array(live);
      rowOf = new Uint32Array(live);
      let k = 0;
      let r = fresh;
      for (let j = 0; j < n; j++) {
        if (skip && skip[j]) continue;
        const at = prev[j] === 0 ? k++ : r++;
        fa[at] = addrs[j];
        fl[at] = lens[j];
        fn[at] = nhs[j];
        rowOf[at] = j;
      }
    }
    let added = 0;
    let replaced = 0;
    const undo = () => {
      this.updates.add.error += live;
      try {
        // the FIB first, so no route points at a next hop by the time it is given back
        for (let k = fresh; k < fresh + replaced; k++) this.fib.fibAdd(fa[k], fl[k], (prev[rowOf![k]] - 1) % NH_SHIFT);
        for (let k = 0; k < added; k++) this.fib.fibDel(fa[k], fl[k]);
      } finally {
        this.releaseAll(nhs, n);
      }
    };
    try {
      if (fresh > 0) added = this.fibAddRows(fa, fl, fn, 0, fresh);
      if (added === fresh && live > fresh) replaced = this.fibAddRows(fa, fl, fn, fresh, live);
    } catch (e) {
      undo();
      throw e;
    }
    if (added < fresh) {
      undo();
      throw new DpfwdError(
        'ENOSPC',
        `the FIB took ${added} of ${fresh} routes and is full; nothing was added. Raise fib.maxRoutes or fib.tbl8Groups and restart`,
      );
    }
    if (replaced < live - fresh) {
      // dp_fib never refuses a replacement (the rule and its tbl8 group exist); another FibWriter might
      undo();
      throw new DpfwdError('ENOSPC', `the FIB took ${replaced} of ${live - fresh} replacements; nothing was changed`);
    }

    // committed: the table gets the new values; replaced and overridden next hops are given back
    const origin = staticOrigin * NH_SHIFT;
    for (let j = 0; j < n; j++) {
      if (skip && skip[j]) {
        this.releaseNexthop(nhs[j]);
        continue;
      }
      this.routes.set(addrs[j], lens[j], nhs[j] + origin);
      if (prev[j] > 0) {
        if (Math.floor((prev[j] - 1) / NH_SHIFT) === linuxOrigin) {
          this.counts.linux--;
          this.counts.static++;
        }
        this.releaseNexthop((prev[j] - 1) % NH_SHIFT);
      }
    }
    this.counts.static += fresh;
    this.updates.add.ok += live;
    // one line for the batch, not a million
    if (live) this.onEvent?.('route', `route load ${live} prefixes added or replaced proto static`);
    return live;
  }

  /**
   * Installs synced routes (origin `linux`, src/routing/sync.ts) in one FIB batch, as
   * addRoutesBulk does for a route file, but row by row in outcome: a row whose prefix holds a
   * route of another origin is shadowed (SYNC_SHADOWED), a row the RIB or the FIB refuses (no
   * next hop left, a full FIB) fails alone (SYNC_FAILED, its message in `errors`) and the others
   * go in. Rows are distinct prefixes (the caller's model has one entry per prefix). Returns the
   * outcome per row.
   */
  syncRoutes(b: SyncRows, errors: Map<number, string>): Uint8Array {
    const n = b.n;
    const out = new Uint8Array(n);
    const linux = ORIGINS.indexOf('linux');
    const fa = new Uint32Array(n);
    const fl = new Uint8Array(n);
    const fn = new Uint32Array(n);
    const rowOf = new Uint32Array(n);
    const prev = new Float64Array(n);
    let m = 0;
    let last: NextHop | undefined;
    let lastKind = -1;
    let lastVia = 0;
    let lastIf = -1;
    for (let i = 0; i < n; i++) {
      const addr = b.addrs[i];
      const len = b.lens[i];
      const v = this.routes.get(addr, len);
      if (v !== undefined && Math.floor(v / NH_SHIFT) !== linux) {
        out[i] = SYNC_SHADOWED;
        continue;
      }
      const kind = b.kinds[i];
      const via = b.vias[i];
      const iface = b.ifaces[i];
      let nh: NextHop;
      try {
        if (kind === ROUTE_MULTIPATH) {
          const cur = v === undefined ? undefined : this.nexthops[v % NH_SHIFT];
          nh = this.groupNexthop(b.paths.get(i)!, cur?.kind === 'group' && cur.refs === 1 ? cur : undefined);
        } else if (last && last.id >= 0 && kind === lastKind && via === lastVia && iface === lastIf) {
          nh = last; // a table's routes share few gateways: skip the key lookup
          nh.refs++;
        } else {
          if (kind === ROUTE_BLACKHOLE) nh = this.allocNexthop('drop', -1, 0);
          else if (kind === ROUTE_VIA) nh = this.allocNexthop('gateway', iface, via);
          else nh = this.allocNexthop('glean', iface, 0);
          last = nh;
          lastKind = kind;
          lastVia = via;
          lastIf = iface;
        }
      } catch (e) {
        out[i] = SYNC_FAILED;
        errors.set(i, (e as Error).message);
        this.updates.add.error++;
        continue;
      }
      fa[m] = addr;
      fl[m] = len;
      fn[m] = nh.id;
      rowOf[m] = i;
      prev[m] = v === undefined ? -1 : v;
      m++;
    }
    // one native call for the batch; a row the FIB refuses (full) fails alone and the rest go on
    let k = 0;
    while (k < m) {
      let took = 0;
      let refused: string | null = null;
      try {
        took = this.fibAddRows(fa, fl, fn, k, m);
        if (took === 0) refused = 'the FIB is full';
      } catch (e) {
        refused = (e as Error).message;
      }
      if (refused !== null) {
        const i = rowOf[k];
        out[i] = SYNC_FAILED;
        errors.set(i, refused);
        this.updates.add.error++;
        this.releaseNexthop(fn[k]);
        // the prefix's old route is in the FIB still: it goes, so no stale kernel route stays
        if (prev[k] >= 0) {
          try {
            this.fib.fibDel(fa[k], fl[k]);
          } catch {
            // dp_fib never refuses deleting a rule it has
          }
          this.routes.delete(fa[k], fl[k]);
          this.counts.linux--;
          this.releaseNexthop(prev[k] % NH_SHIFT);
        }
        k++;
        continue;
      }
      const origin = linux * NH_SHIFT;
      for (let j = k; j < k + took; j++) {
        out[rowOf[j]] = SYNC_INSTALLED;
        this.routes.set(fa[j], fl[j], fn[j] + origin);
        if (prev[j] >= 0) this.releaseNexthop(prev[j] % NH_SHIFT);
        else this.counts.linux++;
      }
      this.updates.add.ok += took;
      k += took;
    }
    return out;
  }

  /** fib.fibAddBulk of rows [from, to): how many went in. */
  private fibAddRows(fa: Uint32Array, fl: Uint8Array, fn: Uint32Array, from: number, to: number): number {
    return this.fib.fibAddBulk(fa.subarray(from, to), fl.subarray(from, to), fn.subarray(from, to));
  }

  /** Gives back one reference per entry of ids[0, m). */
  private releaseAll(ids: Uint32Array, m: number): void {
    for (let i = 0; i < m; i++) this.releaseNexthop(ids[i]);
  }

  delRoute(addr: number, len: number, origin: Origin = 'static'): void {
    const v = this.routes.get(addr, len);
    if (v === undefined || ORIGINS[Math.floor(v / NH_SHIFT)] !== origin) {
      this.updates.del.error++;
      throw new DpfwdError('ENOENT', `no ${origin} route ${formatPrefix({ addr, len })}`);
    }
    try {
      this.fib.fibDel(addr, len);
    } catch (e) {
      this.updates.del.error++;
      throw e;
    }
    this.updates.del.ok++;
    this.routes.delete(addr, len);
    this.counts[origin]--;
    this.releaseNexthop(v % NH_SHIFT);
    // the sync's routes are the kernel's changes (ip monitor in its namespace shows them); monitor says the sync's state
    if (origin !== 'linux') this.onEvent?.('route', `route del ${formatPrefix({ addr, len })} proto ${origin}`);
    if (origin !== 'linux') this.onVacated?.(addr, len);
  }

  // ---- interface addresses ----

  /** Called after an interface address was added or deleted (the Linux mirrors follow them). */
  onAddressChange?: () => void;

  /** Every route and address change, as one line in ip monitor's words (`dpfwd monitor`, src/forwarder/events.ts). */
  onEvent?: (kind: 'route' | 'address', text: string) => void;

  addAddress(portName: string, addr: number, len: number): void {
    const port = this.portIndex(portName);
    const net = networkOf(addr, len);
    // its local and connected routes would replace a static route of the same prefix, and
    // address del would not bring it back: refused, as route add over a connected route is
    for (const [a, l] of len < 32
      ? [
          [addr, 32],
          [net, len],
        ]
      : [[addr, 32]]) {
      if (this.originOf(a, l) === 'static') {
        throw new DpfwdError(
          'EEXIST',
          `address ${formatIPv4(addr)}/${len} on ${portName}: static route ${formatIPv4(a)}/${l} would be replaced by its ${l === 32 ? 'local' : 'connected'} route; delete that route first (dpfwd route del ${formatIPv4(a)}/${l})`,
        );
      }
    }
    // the dataplane's address set first: a full set (ENOSPC) leaves nothing changed
    this.addresses.push({ port, addr, len });
    try {
      this.syncAddrFilter();
    } catch (e) {
      this.addresses.pop();
      throw e;
    }
    try {
      const local = this.allocNexthop('local', -1, 0);
      this.install(addr, 32, local, 'local');
      if (len < 32) {
        const glean = this.allocNexthop('glean', port, 0);
        this.install(net, len, glean, 'connected');
      }
    } catch (e) {
      this.addresses.pop();
      this.syncAddrFilter();
      throw e;
    }
    this.onEvent?.('address', `address add ${formatIPv4(addr)}/${len} dev ${portName}`);
    this.onAddressChange?.();
  }

  /**
   * RFC 1812 5.3.7 / RFC 2644 in the dataplane: every interface address (never a source), and
   * for subnets of length <= 30 their broadcast (never a source nor a destination) and network
   * address (never a destination). An address that is also our own stays OWN.
   */
  private syncAddrFilter(): void {
    if (!this.fib.addrFilterSet) return;
    const kinds = new Map<number, number>();
    for (const a of this.addresses) {
      if (a.len > 30) continue;
      const net = networkOf(a.addr, a.len);
      kinds.set(net, ADDR_NETWORK);
      kinds.set((net | ~maskOf(a.len)) >>> 0, ADDR_BROADCAST);
    }
    for (const a of this.addresses) kinds.set(a.addr, ADDR_OWN);
    kinds.delete(0);
    this.fib.addrFilterSet(Uint32Array.from(kinds.keys()), Uint8Array.from(kinds.values()));
  }

  delAddress(portName: string, addr: number, len: number): void {
    const port = this.portIndex(portName);
    const i = this.addresses.findIndex((a) => a.port === port && a.addr === addr && a.len === len);
    if (i < 0) throw new DpfwdError('ENOENT', `port ${portName} has no address ${formatIPv4(addr)}/${len}`);
    this.addresses.splice(i, 1);
    this.onEvent?.('address', `address del ${formatIPv4(addr)}/${len} dev ${portName}`);
    this.syncAddrFilter();
    this.delRoute(addr, 32, 'local');
    if (len < 32) this.delRoute(networkOf(addr, len), len, 'connected');
    // host routes of neighbours that are no longer on a connected subnet go too
    for (const n of [...this.neighbors.values()]) {
      if (n.iface === port && this.connectedPort(n.addr) !== port && this.originOf(n.addr, 32) === 'neighbor') {
        this.delRoute(n.addr, 32, 'neighbor');
      }
    }
    this.onAddressChange?.();
  }

  /** The interface addresses on one interface, by index (the control plane's per-packet question: no names). */
  addressesOn(port: number): readonly { readonly port: number; readonly addr: number; readonly len: number }[] {
    return this.addresses.filter((a) => a.port === port);
  }

  /** Whether addr is one of the router's addresses on that interface. */
  isLocalOn(port: number, addr: number): boolean {
    for (const a of this.addresses) if (a.port === port && a.addr === addr) return true;
    return false;
  }

  listAddresses(): { port: string; addr: number; len: number }[] {
    return this.addresses.map((a) => ({ port: this.portName(a.port), addr: a.addr, len: a.len }));
  }

  // ---- neighbours: gateway records with a state ----

  /** addr's neighbour: the record of the interface it was last seen or configured on. */
  getNeighbor(addr: number): NextHop | undefined {
    return this.neighbors.get(addr);
  }

  listNeighbors(): NextHop[] {
    return [...this.neighbors.values()];
  }

  /**
   * The record for addr on iface, made addr's neighbour. A new neighbour starts FAILED (no
   * state yet: the caller enters its first one). If addr's neighbour was the record of another
   * interface, that one stops being it: its MAC goes (host route out, its word unresolved) and
   * the neighbour's state, probes, timer and held packets move to this record.
   */
  neighborRecord(addr: number, iface: number): NextHop {
    const key = nexthopKey('gateway', iface, addr);
    const cur = this.neighbors.get(addr);
    let rec = this.byKey.get(key);
    if (cur && cur === rec) return rec;
    if (!rec) {
      rec = newNextHop('gateway', iface, addr);
      this.byKey.set(key, rec);
    }
    if (cur) {
      this.clearNeighborMac(addr);
      rec.state = cur.state;
      rec.probes = cur.probes;
      rec.updated = cur.updated;
      rec.timer = cur.timer;
      rec.due = cur.due;
      rec.queue = cur.queue;
      rec.gateway = cur.gateway;
      this.retire(cur);
    } else rec.state = 'FAILED';
    this.neighbors.set(addr, rec);
    return rec;
  }

  /** A record stops being a neighbour (its MAC already cleared); without a word it goes. */
  private retire(n: NextHop): void {
    n.state = 'NONE';
    n.probes = 0;
    n.timer = null;
    n.due = 0;
    n.queue = [];
    n.gateway = false;
    if (n.id < 0) this.byKey.delete(nexthopKey(n.kind, n.iface, n.addr));
  }

  /**
   * Sets a neighbour's MAC: one store to its record's word, which every route via it shares;
   * inside a connected subnet a /32 host route points at it. A new neighbour is PERMANENT with
   * `permanent`; an existing one keeps its state (src/neighbors changes states).
   */
  setNeighbor(addr: number, ifaceOrName: string | number, mac: Mac, permanent = false): void {
    const iface = typeof ifaceOrName === 'number' ? ifaceOrName : this.portIndex(ifaceOrName);
    const had = this.neighbors.has(addr);
    // the host route's word first: when none is left (ENOSPC) nothing has changed
    let hostNh: NextHop | undefined;
    if (this.connectedPort(addr) === iface && !this.routes.has(addr, 32)) {
      hostNh = this.allocNexthop('gateway', iface, addr, !permanent);
    }
    const rec = this.neighborRecord(addr, iface);
    if (!had && permanent) rec.state = 'PERMANENT';
    const prevMac = rec.mac;
    rec.mac = mac;
    if (permanent && rec.learned) {
      rec.learned = false; // a static neighbour's next hop counts as the routes'
      this.learnedCount--;
    }
    this.writeNexthop(rec);
    if (hostNh) {
      try {
        this.install(addr, 32, hostNh, 'neighbor');
      } catch (e) {
        // install gave the reference back
        rec.mac = prevMac;
        this.writeNexthop(rec);
        if (!had) {
          this.neighbors.delete(addr);
          this.retire(rec);
        }
        throw e;
      }
    }
  }

  /** The neighbour's MAC goes (FAILED, or moving): its host route out, its word unresolved. */
  clearNeighborMac(addr: number): void {
    const n = this.neighbors.get(addr);
    if (!n || n.mac === null) return;
    n.mac = null;
    if (this.originOf(addr, 32) === 'neighbor') this.delRoute(addr, 32, 'neighbor');
    this.writeNexthop(n);
  }

  /** A route or a static neighbour holds the next hop of gateway addr on port (not only its learned host route). */
  routesUse(addr: number, port: number): boolean {
    const nh = this.byKey.get(nexthopKey('gateway', port, addr));
    return nh !== undefined && nh.id >= 0 && !nh.learned;
  }

  /** The gateway addr on port is a member of a multipath route's group. */
  isGroupMember(addr: number, port: number): boolean {
    const nh = this.byKey.get(nexthopKey('gateway', port, addr));
    return nh !== undefined && nh.id >= 0 && (nh.groups?.size ?? 0) > 0;
  }

  /** ECMP groups in use and the most there may be (fib.maxGroups). */
  groupUsage(): { used: number; max: number } {
    return { used: this.groupsUsed, max: this.maxGroups };
  }

  /** Next hops in use, the table's size, and the learned neighbours' share and budget. */
  nexthopUsage(): { used: number; max: number; learned: number; learnedMax: number } {
    return { used: this.usedIds, max: this.maxNexthops, learned: this.learnedCount, learnedMax: this.learnedMax };
  }

  /** Removes a neighbour: its MAC, host route and state (its timer is the caller's, src/neighbors). */
  delNeighbor(addr: number): void {
    const n = this.neighbors.get(addr);
    if (!n) throw new DpfwdError('ENOENT', `no neighbour ${formatIPv4(addr)}`);
    this.clearNeighborMac(addr);
    this.neighbors.delete(addr);
    this.retire(n);
  }

  /** Gateways that routes point at whose MAC is unknown (to resolve with ARP). */
  unresolvedGateways(): { addr: number; port: number }[] {
    const out: { addr: number; port: number }[] = [];
    for (const nh of this.byKey.values()) {
      if (nh.kind === 'gateway' && nh.id >= 0 && nh.mac === null) out.push({ addr: nh.addr, port: nh.iface });
    }
    return out;
  }

  // ---- views ----

  /**
   * The routes in address order (then length), the first `limit` of them: sorted as numbers
   * (addr·64 + len in a Float64Array) before any view object is made, so a small limit on a big
   * table builds few objects.
   */
  listRoutes(limit = Infinity): RouteView[] {
    const keys = new Float64Array(this.routes.size);
    let k = 0;
    for (const [addr, len] of this.routes.entries()) keys[k++] = addr * 64 + len;
    keys.sort();
    const n = Math.min(k, limit);
    const out: RouteView[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const addr = Math.floor(keys[i] / 64);
      const len = keys[i] % 64;
      out[i] = this.viewOf(addr, len, this.routes.get(addr, len)!);
    }
    return out;
  }

  /**
   * The keys (addr·64 + len) of the routes whose address is in [lo, hi] and whose key is past
   * `after`, sorted: `route show`'s pages and range filters build views only for rows they keep.
   * A view into every key sorted once after each change of the table (8 bytes a route), so a
   * client paging through a million routes costs one sort, not one per page. Read it before
   * the table changes again.
   */
  routeKeys(lo = 0, hi = 0xffffffff, after = -1): Float64Array {
    if (!this.sortedKeys || this.sortedVersion !== this.routes.version) {
      const keys = new Float64Array(this.routes.size);
      let k = 0;
      for (const [addr, len] of this.routes.entries()) keys[k++] = addr * 64 + len;
      this.sortedKeys = keys.sort();
      this.sortedVersion = this.routes.version;
    }
    const keys = this.sortedKeys;
    return keys.subarray(lowerBound(keys, Math.max(lo * 64, after + 1)), lowerBound(keys, (hi + 1) * 64));
  }

  /** The route of exactly this prefix (a routeKeys key), as `route show` prints it. */
  routeAt(key: number): RouteView | undefined {
    const addr = Math.floor(key / 64);
    const len = key % 64;
    const v = this.routes.get(addr, len);
    return v === undefined ? undefined : this.viewOf(addr, len, v);
  }

  /** A next hop's record by its word id (`nexthop show`): its neighbour state and MAC. */
  nexthopRecord(id: number): Readonly<NextHop> | undefined {
    return this.nexthops[id];
  }

  /** The next hops in use and how many routes hold each (the drop next hop always holds one for itself). */
  listNexthops(): { id: number; kind: NhKind; port?: string; via?: string; refs: number; group?: { id: number; weight: number }[] }[] {
    const out: { id: number; kind: NhKind; port?: string; via?: string; refs: number; group?: { id: number; weight: number }[] }[] = [];
    for (const nh of this.nexthops) {
      if (!nh) continue;
      const v: (typeof out)[number] = { id: nh.id, kind: nh.kind, refs: nh.refs };
      if (nh.group) v.group = nh.group.members.map((m, i) => ({ id: m.id, weight: nh.group!.weights[i] }));
      if (nh.iface >= 0) v.port = this.portName(nh.iface);
      if (nh.kind === 'gateway') v.via = formatIPv4(nh.addr);
      out.push(v);
    }
    return out;
  }

  /** Where the route for exactly this prefix came from, or undefined when there is none. */
  originOf(addr: number, len: number): Origin | undefined {
    const v = this.routes.get(addr, len);
    return v === undefined ? undefined : ORIGINS[Math.floor(v / NH_SHIFT)];
  }

  /** The route a lookup would pick (longest prefix), from the model: for `route get` and tests. */
  lookup(addr: number): RouteView | undefined {
    const r = this.routes.lookup(addr);
    return r && this.viewOf(r.addr, r.len, r.v);
  }

  /**
   * The next-hop record of the route a lookup would pick, with the route's origin: numbers, for
   * the control plane's per-packet questions (no view, no names, no text).
   */
  lookupNexthop(addr: number): { nh: Readonly<NextHop>; origin: Origin } | undefined {
    const r = this.routes.lookup(addr);
    return r && { nh: this.nexthops[r.v % NH_SHIFT]!, origin: ORIGINS[Math.floor(r.v / NH_SHIFT)] };
  }

  /**
   * The route of exactly this prefix as the one Route (numbers, src/routing/route.ts): what
   * reload compares and `config save` writes. A multipath route's paths in (interface, gateway) order.
   */
  route(addr: number, len: number): Route | undefined {
    const v = this.routes.get(addr, len);
    if (v === undefined) return undefined;
    const nh = this.nexthops[v % NH_SHIFT]!;
    const r: Route = { addr, len, blackhole: nh.kind === 'drop', origin: ORIGINS[Math.floor(v / NH_SHIFT)] };
    if (r.origin === 'linux') {
      const p = this.protocolOf?.(addr, len);
      if (p !== undefined) r.protocol = p;
    }
    const g = nh.group;
    if (g) {
      r.paths = g.members.map((m, i) => {
        const p: RoutePath = { port: this.portName(m.iface), weight: g.weights[i] };
        if (m.kind === 'gateway') p.via = m.addr;
        return p;
      });
      return r;
    }
    if (nh.kind === 'gateway') r.via = nh.addr;
    if (nh.iface >= 0) r.port = this.portName(nh.iface);
    return r;
  }

  private viewOf(addr: number, len: number, v: number): RouteView {
    const nh = this.nexthops[v % NH_SHIFT]!;
    const view: RouteView = { prefix: formatPrefix({ addr, len }), addr, len, origin: ORIGINS[Math.floor(v / NH_SHIFT)], kind: nh.kind, nexthop: nh.id };
    if (view.origin === 'linux') view.protocol = this.protocolOf?.(addr, len);
    if (nh.iface >= 0) view.port = this.portName(nh.iface);
    if (nh.kind === 'gateway') {
      view.via = formatIPv4(nh.addr);
      view.mac = nh.mac !== null ? formatMac(nh.mac) : null;
    }
    if (nh.group) {
      const g = nh.group;
      const any = g.live.some((l) => l === 1);
      view.paths = g.members.map((m, i) => {
        const p: NonNullable<RouteView['paths']>[number] = { port: this.portName(m.iface), weight: g.weights[i] };
        if (m.kind === 'gateway') {
          p.via = formatIPv4(m.addr);
          p.mac = m.mac !== null ? formatMac(m.mac) : null;
        }
        if (any && g.live[i] === 0) p.dead = true;
        return p;
      });
    }
    return view;
  }
}

/** The first index of sorted `a` whose value is >= v (a.length if none). */
function lowerBound(a: Float64Array, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
