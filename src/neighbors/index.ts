/**
 * The ARP state machine with iproute2's states. It keeps no table: a neighbour is the RIB's
 * next-hop record for (interface, address) (src/routing/nexthop.ts), whose MAC goes straight to
 * its C word (one atomic store per change); this module decides when it changes.
 *
 *   INCOMPLETE  resolving: broadcast requests every retransmitMs, up to `probes`, then FAILED
 *   REACHABLE   confirmed by ARP within reachableMs
 *   STALE       not confirmed for reachableMs, or learned without confirmation (a request to us,
 *               an unsolicited change): still forwarded to, re-probed by unicast requests;
 *               no answer after `probes` → FAILED (so a host whose MAC changed is found again by
 *               broadcast instead of being black-holed)
 *   FAILED      next hop unresolved (its MAC is gone from the RIB); forgotten after staleMs
 *   PERMANENT   static (config or CLI): never aged, no timer
 *
 * Every state change goes through `enter()`, which sets the state and arms the timer that ends
 * it, together: an entry is never in a dynamic state without its timer. The RIB is written
 * before the state changes, so a refused write (no next hop left) leaves the entry as it was.
 * PERMANENT is a state like the others (config or CLI), not a separate table.
 *
 * Bounded (all limits under `arp:` in the config, docs/config.md):
 * - at most arp.maxEntries dynamic entries; when full, a new one replaces the oldest FAILED,
 *   then STALE, then INCOMPLETE entry (never a REACHABLE one, a route's gateway or a static one);
 * - at most arp.maxIncomplete INCOMPLETE entries; beyond that the oldest is given up;
 * - at most arp.newPerSecond new entries per port per second (token bucket, burst the same);
 * - the RIB gives learned neighbours at most arp.maxEntries next hops (Rib's learned budget),
 *   so what routes need is never taken.
 * Gateways of routes are resolved outside these budgets: routes bound their number.
 * Refusals are counted (show controlplane, dpfwd_neighbor_limited_total) and logged as one
 * summary line per SUMMARY_MS at most.
 *
 * The packets that triggered resolution are held (up to arp.queueLen per neighbour) and sent
 * once the MAC is known; beyond that they stay dropped (counted as neighbor_unresolved).
 */
import { rootLogger } from '../log';
import { ArpConfig } from '../config/types';
import { DpfwdError } from '../errors';
import { formatIPv4 } from '../net/ipv4';
import type { Mac } from '../net/mac';
import type { NextHop } from '../routing/nexthop';
import { Rib } from '../routing/rib';

export { NEIGH_STATES } from '../routing/nexthop';
/** The states a neighbour is in (a next hop's NONE is not one). */
export type { NeighState } from '../routing/nexthop';
import type { NeighState } from '../routing/nexthop';

/** Why a new entry was refused or an old one given up for it (dpfwd_neighbor_limited_total). */
export const LIMIT_REASONS = ['rate', 'incomplete', 'table_full', 'nexthops'] as const;
export type LimitReason = (typeof LIMIT_REASONS)[number];
/** ARP frames that taught nothing (dpfwd_arp_ignored_total). */
export const IGNORE_REASONS = ['unsolicited', 'locktime'] as const;
export type IgnoreReason = (typeof IGNORE_REASONS)[number];

/** At most one summary line about refusals per this many ms. */
export const SUMMARY_MS = 10000;

/** How ARP evidence reached us, which decides what it may change (as Linux's arp_process). */
export type Evidence =
  /** an ARP reply addressed to us while we are resolving or probing the sender */
  | 'solicited'
  /** an ARP request for one of our addresses: may create an entry (STALE until confirmed) */
  | 'request'
  /** anything else (gratuitous ARP, replies nobody asked for, requests for other hosts):
   * refreshes an existing entry only, and a changed MAC waits arp.lockMs */
  | 'unsolicited';

/** A neighbour: the RIB's next-hop record of its interface and address. */
export type NeighEntry = NextHop;

export interface NeighIo {
  /** Sends an ARP request for addr out of interface iface (unicast to mac when given, else broadcast). */
  sendRequest(iface: number, addr: number, mac: Mac | null): void;
  /** A neighbour resolved: send its held packets. */
  flush(entry: NeighEntry, packets: Buffer[]): void;
  /** Resolution failed: the held packets are dropped (ICMP host unreachable is the caller's choice). */
  failed(entry: NeighEntry, packets: Buffer[]): void;
  /**
   * An entry changed state (`to` 'NONE': it went). For the log; the caller rate-limits, since a
   * hostile host can make entries change as fast as ARP arrives.
   */
  state?(entry: NeighEntry, from: NextHop['state'], to: NextHop['state']): void;
}

type Counts<K extends string> = Record<K, number>;

function zero<K extends string>(keys: readonly K[]): Counts<K> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Counts<K>;
}

export class Neighbors {
  readonly stats = { queued: 0, queueSent: 0, queueDropped: 0 };
  /** cap hits, summed over ports */
  readonly limits: Counts<LimitReason> = zero(LIMIT_REASONS);
  /** cap hits per port index */
  readonly limitsByPort: Counts<LimitReason>[] = [];
  readonly ignored: Counts<IgnoreReason> = zero(IGNORE_REASONS);
  private incomplete = 0;
  /** non-permanent, non-gateway entries */
  private dynamic = 0;
  private readonly buckets: { tokens: number; at: number }[] = [];
  private summary: { timer: NodeJS.Timeout; limits: Counts<LimitReason>; ignored: Counts<IgnoreReason> } | null = null;

  constructor(
    private readonly rib: Rib,
    private readonly cfg: ArpConfig,
    private readonly io: NeighIo,
    private readonly now = () => Date.now(),
    private readonly log: (msg: string) => void = rootLogger.child('neighbor').fn('warn'),
    private readonly summaryMs = SUMMARY_MS,
  ) {}

  get(addr: number): NeighEntry | undefined {
    return this.rib.getNeighbor(addr);
  }

  list(): NeighEntry[] {
    return this.rib.listNeighbors().sort((a, b) => a.addr - b.addr);
  }

  countByState(): Record<NeighState, number> {
    const c = { INCOMPLETE: 0, REACHABLE: 0, STALE: 0, FAILED: 0, PERMANENT: 0 } as Record<NeighState, number>;
    for (const e of this.rib.listNeighbors()) if (e.state !== 'NONE') c[e.state]++;
    return c;
  }

  /** ms until the entry's timer fires, or null when it has none (PERMANENT). */
  timerMs(e: NeighEntry): number | null {
    return e.timer ? Math.max(0, e.due - this.now()) : null;
  }

  // ---- the one place where state and timer change ----

  /**
   * Puts e in `state` with the timer that state needs. Counts INCOMPLETE entries. Callers have
   * written the RIB first (MAC known or cleared).
   */
  private enter(e: NeighEntry, state: NeighState): void {
    if (e.timer) clearTimeout(e.timer);
    e.timer = null;
    e.due = 0;
    if (e.state === 'INCOMPLETE' && state !== 'INCOMPLETE') this.incomplete--;
    if (e.state !== 'INCOMPLETE' && state === 'INCOMPLETE') this.incomplete++;
    const from = e.state;
    if (state !== e.state) e.updated = this.now();
    e.state = state;
    if (from !== state) this.io.state?.(e, from, state);
    switch (state) {
      case 'INCOMPLETE':
      case 'STALE':
        e.probes = 0;
        this.probe(e);
        return;
      case 'REACHABLE':
        e.probes = 0;
        this.arm(e, this.cfg.reachableMs, () => this.enter(e, 'STALE'));
        return;
      case 'FAILED':
        this.arm(e, this.cfg.staleMs, () => this.drop(e));
        return;
      case 'PERMANENT':
        return;
    }
  }

  private arm(e: NeighEntry, ms: number, fn: () => void): void {
    if (e.timer) clearTimeout(e.timer);
    e.due = this.now() + ms;
    e.timer = setTimeout(() => {
      if (this.rib.getNeighbor(e.addr) !== e) return;
      fn();
    }, ms);
    e.timer.unref();
  }

  /** One probe of INCOMPLETE (broadcast) or STALE (unicast) and the timer for the next, or FAILED. */
  private probe(e: NeighEntry): void {
    if (e.probes >= this.cfg.probes) {
      this.fail(e);
      return;
    }
    e.probes++;
    this.io.sendRequest(e.iface, e.addr, e.state === 'STALE' ? e.mac : null);
    this.arm(e, this.cfg.retransmitMs, () => this.probe(e));
  }

  private fail(e: NeighEntry): void {
    const held = e.queue;
    e.queue = [];
    this.stats.queueDropped += held.length;
    if (e.mac !== null) this.forgetInRib(e.addr);
    this.enter(e, 'FAILED');
    this.io.failed(e, held);
  }

  /** The neighbour's MAC goes: its host route and learned next hop go, its word becomes unresolved. */
  private forgetInRib(addr: number): void {
    try {
      this.rib.clearNeighborMac(addr);
    } catch (err) {
      this.log(`neighbour ${formatIPv4(addr)}: ${(err as Error).message}`);
    }
  }

  /** Removes a dynamic entry (aged out or evicted): timer, counts, held packets, and from the RIB. */
  private drop(e: NeighEntry): void {
    if (e.timer) clearTimeout(e.timer);
    e.timer = null;
    if (this.rib.getNeighbor(e.addr) !== e) return;
    if (e.state === 'INCOMPLETE') this.incomplete--;
    if (e.state !== 'PERMANENT' && !e.gateway) this.dynamic--;
    // given up for room, not found unreachable: its held packets go without an ICMP error
    this.stats.queueDropped += e.queue.length;
    e.queue = [];
    const from = e.state;
    try {
      this.rib.delNeighbor(e.addr);
    } catch (err) {
      this.log(`neighbour ${formatIPv4(e.addr)}: ${(err as Error).message}`);
    }
    this.io.state?.(e, from, 'NONE');
  }

  // ---- budgets ----

  private hit(port: number, reason: LimitReason): void {
    this.noteForSummary();
    this.limits[reason]++;
    (this.limitsByPort[port] ??= zero(LIMIT_REASONS))[reason]++;
  }

  private ignore(reason: IgnoreReason): void {
    this.noteForSummary();
    this.ignored[reason]++;
  }

  /** Starts an interval whose counts are logged as one line at its end (before counting its first). */
  private noteForSummary(): void {
    if (this.summary) return;
    const timer = setTimeout(() => this.writeSummary(), this.summaryMs);
    timer.unref();
    this.summary = { timer, limits: { ...this.limits }, ignored: { ...this.ignored } };
  }

  private writeSummary(): void {
    const s = this.summary;
    this.summary = null;
    if (!s) return;
    const part = <K extends string>(now: Counts<K>, then: Counts<K>) =>
      (Object.keys(now) as K[])
        .filter((k) => now[k] > then[k])
        .map((k) => `${k} ${now[k] - then[k]}`)
        .join(', ') || 'none';
    this.log(
      `neighbours: in the last ${this.summaryMs / 1000} s, limits hit: ${part(this.limits, s.limits)}; ARP ignored: ${part(this.ignored, s.ignored)} (see arp: in docs/config.md)`,
    );
  }

  private takeToken(port: number): boolean {
    const rate = this.cfg.newPerSecond;
    const t = this.now();
    const b = (this.buckets[port] ??= { tokens: rate, at: t });
    b.tokens = Math.min(rate, b.tokens + ((t - b.at) * rate) / 1000);
    b.at = t;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** The oldest entry of the first class that has one: FAILED, STALE, INCOMPLETE (if allowed). */
  private victim(classes: NeighState[]): NeighEntry | undefined {
    const first: Partial<Record<NeighState, NeighEntry>> = {};
    for (const e of this.rib.listNeighbors()) {
      if (e.gateway || e.state === 'PERMANENT' || e.state === 'REACHABLE' || e.state === 'NONE' || first[e.state]) continue;
      if (this.rib.routesUse(e.addr, e.iface)) {
        // learned first, a route's gateway since: out of the dynamic budget, never given up
        e.gateway = true;
        this.dynamic--;
        continue;
      }
      first[e.state as NeighState] = e;
      if (e.state === classes[0]) break;
    }
    for (const c of classes) if (first[c]) return first[c];
    return undefined;
  }

  /**
   * Room for a new dynamic entry on port (INCOMPLETE when `incomplete`; `exists` when a FAILED
   * entry starts resolving again, which takes no new room in the table): false when the port's
   * rate is spent or nothing may be given up for it. Counts what it refuses or gives up.
   */
  private admit(port: number, incomplete: boolean, exists = false): boolean {
    if (!this.takeToken(port)) {
      this.hit(port, 'rate');
      return false;
    }
    if (incomplete && this.incomplete >= this.cfg.maxIncomplete) {
      const v = this.victim(['INCOMPLETE']);
      if (!v) {
        this.hit(port, 'incomplete');
        return false;
      }
      this.hit(port, 'incomplete');
      this.drop(v);
    }
    if (!exists && this.dynamic >= this.cfg.maxEntries) {
      const v = this.victim(['FAILED', 'STALE', 'INCOMPLETE']);
      this.hit(port, 'table_full');
      if (!v) return false;
      this.drop(v);
    }
    return true;
  }

  /** A new dynamic entry: the RIB's record for (port, addr), FAILED until the caller enters its first state. */
  private add(addr: number, port: number, gateway: boolean): NeighEntry {
    const e = this.rib.neighborRecord(addr, port);
    e.gateway = gateway;
    e.probes = 0;
    e.updated = this.now();
    if (!gateway) this.dynamic++;
    return e;
  }

  // ---- events ----

  /**
   * A packet needs addr on port resolved (punted as unresolved). `gateway`: addr is a route's
   * gateway (resolved outside the learned budgets).
   */
  resolve(addr: number, port: number, packet?: Buffer, gateway = false): void {
    let e = this.rib.getNeighbor(addr);
    if (e?.state === 'PERMANENT') return;
    if (e && gateway && !e.gateway) {
      // a learned or gleaned entry becomes a gateway's: out of the dynamic budget
      e.gateway = true;
      this.dynamic--;
    }
    if (e && (e.state === 'FAILED' || e.iface !== port)) {
      if (!e.gateway && !this.admit(port, true, true)) return;
      // on another interface now: the record of that one (the MAC of the old one goes)
      if (e.iface !== port) e = this.rib.neighborRecord(addr, port);
      this.enter(e, 'INCOMPLETE');
    } else if (!e) {
      if (!gateway && !this.admit(port, true)) return;
      e = this.add(addr, port, gateway);
      this.enter(e, 'INCOMPLETE');
    }
    if (packet && e.state === 'INCOMPLETE') {
      if (e.queue.length < this.cfg.queueLen) {
        e.queue.push(packet);
        this.stats.queued++;
      } else this.stats.queueDropped++;
    }
  }

  /**
   * ARP evidence that addr is at mac on port. What it may change follows Linux: a reply to our
   * request confirms (REACHABLE); a request for our address may create an entry (STALE until a
   * unicast probe confirms it); anything else only refreshes an entry we have. A changed MAC on
   * a REACHABLE entry updated less than arp.lockMs ago is ignored unless solicited.
   * Returns true when the table changed.
   */
  learn(addr: number, port: number, mac: Mac, how: Evidence): boolean {
    let e = this.rib.getNeighbor(addr);
    if (e?.state === 'PERMANENT') return false;
    if (!e) {
      if (how === 'unsolicited' || how === 'solicited') {
        this.ignore('unsolicited');
        return false;
      }
      if (!this.admit(port, false)) return false;
      if (!this.writeRib(addr, port, mac)) return false;
      e = this.add(addr, port, false);
      this.enter(e, 'STALE');
      return true;
    }
    const solicited = how === 'solicited' && (e.state === 'INCOMPLETE' || e.probes > 0);
    const changed = e.mac !== mac || e.iface !== port;
    if (changed && e.mac !== null && !solicited && e.state === 'REACHABLE' && this.now() - e.updated < this.cfg.lockMs) {
      this.ignore('locktime');
      return false;
    }
    if (changed && !this.writeRib(addr, port, mac)) return false;
    e = this.rib.getNeighbor(addr)!; // the record of `port` (the write moved it if it was elsewhere)
    if (changed) e.updated = this.now();
    // the same MAC, or an answer to our request, confirms; a new MAC nobody confirmed is probed
    const next: NeighState = solicited || !changed ? 'REACHABLE' : 'STALE';
    if (next === 'STALE' && e.state === 'STALE' && !changed) return false;
    this.enter(e, next);
    const held = e.queue;
    e.queue = [];
    if (held.length) {
      this.stats.queueSent += held.length;
      this.io.flush(e, held);
    }
    return true;
  }

  /** rib.setNeighbor, counting a refusal (no next hop left) instead of throwing. */
  private writeRib(addr: number, port: number, mac: Mac): boolean {
    try {
      this.rib.setNeighbor(addr, port, mac);
      return true;
    } catch (err) {
      if (!(err instanceof DpfwdError) || err.code !== 'ENOSPC') throw err;
      this.hit(port, 'nexthops');
      return false;
    }
  }

  /**
   * A static entry (config or CLI): PERMANENT, never aged. One RIB write (its MAC to its word);
   * packets it held go now. Throws ENOSPC (no next hop left) with nothing changed.
   */
  setPermanent(addr: number, port: number, mac: Mac): void {
    this.rib.setNeighbor(addr, port, mac, true);
    const e = this.rib.getNeighbor(addr)!;
    this.release(e);
    const from = e.state;
    e.state = 'PERMANENT';
    if (from !== 'PERMANENT') this.io.state?.(e, from, 'PERMANENT');
    e.probes = 0;
    e.updated = this.now();
    const held = e.queue;
    e.queue = [];
    if (held.length) this.io.flush(e, held);
  }

  /** Stops the entry's timer and takes it out of the counts (it becomes PERMANENT or goes). */
  private release(e: NeighEntry): void {
    if (e.timer) clearTimeout(e.timer);
    e.timer = null;
    e.due = 0;
    if (e.state === 'INCOMPLETE') this.incomplete--;
    if (e.state !== 'PERMANENT' && !e.gateway) this.dynamic--;
  }

  /** `neighbor del`: the entry goes, whatever its state (ENOENT when there is none). */
  remove(addr: number): void {
    const e = this.rib.getNeighbor(addr);
    if (!e) throw new DpfwdError('ENOENT', `no neighbour ${formatIPv4(addr)}`);
    this.release(e);
    this.stats.queueDropped += e.queue.length;
    e.queue = [];
    const from = e.state;
    this.rib.delNeighbor(addr);
    this.io.state?.(e, from, 'NONE');
  }

  stop(): void {
    for (const e of this.rib.listNeighbors()) if (e.timer) clearTimeout(e.timer);
    if (this.summary) clearTimeout(this.summary.timer);
  }
}
