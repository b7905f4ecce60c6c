/**
 * ARP neighbour table with iproute2's states. The MAC a route uses lives in the RIB's next hop
 * (one atomic store per change); this table decides when it changes.
 *
 *   INCOMPLETE  resolving: broadcast requests every retransmitMs, up to `probes`, then FAILED
 *   REACHABLE   confirmed by ARP within reachableMs
 *   STALE       not confirmed for reachableMs: still forwarded to, re-probed by unicast requests;
 *               no answer after `probes` → FAILED (so a host whose MAC changed is found again by
 *               broadcast instead of being black-holed)
 *   FAILED      next hop unresolved; forgotten after staleMs
 *   PERMANENT   static (config or CLI): never aged
 *
 * The packets that triggered resolution are held (up to arp.queueLen per neighbour) and sent
 * once the MAC is known; beyond that they stay dropped (counted as neighbor_unresolved).
 */
import { ArpConfig } from '../config/types';
import { formatIPv4 } from '../routing/prefix';
import { Rib } from '../routing/rib';

export type NeighState = 'INCOMPLETE' | 'REACHABLE' | 'STALE' | 'FAILED' | 'PERMANENT';
export const NEIGH_STATES: NeighState[] = ['INCOMPLETE', 'REACHABLE', 'STALE', 'FAILED', 'PERMANENT'];

export interface NeighEntry {
  addr: number;
  port: number;
  mac: string | null;
  state: NeighState;
  probes: number;
  updated: number;
  timer: NodeJS.Timeout | null;
  queue: Buffer[];
}

export interface NeighIo {
  /** Sends an ARP request for addr out of port (unicast to mac when given, else broadcast). */
  sendRequest(port: number, addr: number, mac: string | null): void;
  /** A neighbour resolved: send its held packets. */
  flush(entry: NeighEntry, packets: Buffer[]): void;
  /** Resolution failed: the held packets are dropped (ICMP host unreachable is the caller's choice). */
  failed(entry: NeighEntry, packets: Buffer[]): void;
}

export class Neighbors {
  private readonly table = new Map<number, NeighEntry>();
  readonly stats = { queued: 0, queueSent: 0, queueDropped: 0 };

  constructor(private readonly rib: Rib, private readonly cfg: ArpConfig, private readonly io: NeighIo, private readonly now = () => Date.now()) {
    for (const n of rib.listNeighbors()) {
      if (n.permanent) this.table.set(n.addr, this.entry(n.addr, n.port, n.mac, 'PERMANENT'));
    }
  }

  private entry(addr: number, port: number, mac: string | null, state: NeighState): NeighEntry {
    return { addr, port, mac, state, probes: 0, updated: this.now(), timer: null, queue: [] };
  }

  get(addr: number): NeighEntry | undefined {
    return this.table.get(addr);
  }

  list(): NeighEntry[] {
    return [...this.table.values()].sort((a, b) => a.addr - b.addr);
  }

  countByState(): Record<NeighState, number> {
    const c = { INCOMPLETE: 0, REACHABLE: 0, STALE: 0, FAILED: 0, PERMANENT: 0 } as Record<NeighState, number>;
    for (const e of this.table.values()) c[e.state]++;
    return c;
  }

  private arm(e: NeighEntry, ms: number, fn: () => void): void {
    if (e.timer) clearTimeout(e.timer);
    e.timer = setTimeout(fn, ms);
    e.timer.unref();
  }

  /** A packet needs addr on port resolved (punted as unresolved). */
  resolve(addr: number, port: number, packet?: Buffer): void {
    let e = this.table.get(addr);
    if (e && e.state === 'PERMANENT') return;
    if (!e || e.state === 'FAILED' || e.port !== port) {
      if (e?.timer) clearTimeout(e.timer);
      e = this.entry(addr, port, null, 'INCOMPLETE');
      this.table.set(addr, e);
      this.probe(e);
    }
    if (packet && e.state === 'INCOMPLETE') {
      if (e.queue.length < this.cfg.queueLen) {
        e.queue.push(packet);
        this.stats.queued++;
      } else this.stats.queueDropped++;
    }
  }

  private probe(e: NeighEntry): void {
    if (e.probes >= this.cfg.probes) {
      this.fail(e);
      return;
    }
    e.probes++;
    this.io.sendRequest(e.port, e.addr, e.state === 'STALE' ? e.mac : null);
    this.arm(e, this.cfg.retransmitMs, () => this.probe(e));
  }

  private fail(e: NeighEntry): void {
    const held = e.queue;
    e.queue = [];
    this.stats.queueDropped += held.length;
    if (e.mac !== null) this.rib.setNeighbor(e.addr, e.port, null);
    e.mac = null;
    e.state = 'FAILED';
    e.updated = this.now();
    this.io.failed(e, held);
    this.arm(e, this.cfg.staleMs, () => {
      if (this.table.get(e.addr) === e && e.state === 'FAILED') {
        this.table.delete(e.addr);
        this.rib.forgetNeighbor(e.addr);
      }
    });
  }

  /**
   * ARP evidence that addr is at mac on port. `create`: add an entry if none exists (requests
   * addressed to us, replies to our requests); otherwise only existing entries are refreshed.
   */
  confirm(addr: number, port: number, mac: string, create: boolean): boolean {
    let e = this.table.get(addr);
    if (e?.state === 'PERMANENT') return false;
    if (!e) {
      if (!create) return false;
      e = this.entry(addr, port, null, 'INCOMPLETE');
      this.table.set(addr, e);
    }
    const changed = e.mac !== mac || e.port !== port;
    e.port = port;
    e.mac = mac;
    e.state = 'REACHABLE';
    e.probes = 0;
    e.updated = this.now();
    if (changed) this.rib.setNeighbor(addr, port, mac);
    const held = e.queue;
    e.queue = [];
    if (held.length) {
      this.stats.queueSent += held.length;
      this.io.flush(e, held);
    }
    const entry = e;
    this.arm(e, this.cfg.reachableMs, () => this.stale(entry));
    return true;
  }

  private stale(e: NeighEntry): void {
    if (this.table.get(e.addr) !== e || e.state !== 'REACHABLE') return;
    e.state = 'STALE';
    e.updated = this.now();
    e.probes = 0;
    this.probe(e);
  }

  /** A static entry (config or CLI): permanent, never aged. */
  setPermanent(addr: number, port: number, mac: string): void {
    const old = this.table.get(addr);
    if (old?.timer) clearTimeout(old.timer);
    const e = this.entry(addr, port, mac, 'PERMANENT');
    this.table.set(addr, e);
    if (old?.queue.length) this.io.flush(e, old.queue);
  }

  remove(addr: number): void {
    const e = this.table.get(addr);
    if (e?.timer) clearTimeout(e.timer);
    this.table.delete(addr);
  }

  stop(): void {
    for (const e of this.table.values()) if (e.timer) clearTimeout(e.timer);
  }

  describe(e: NeighEntry): string {
    return `${formatIPv4(e.addr)} port ${this.rib.portName(e.port)} ${e.mac ?? '-'} ${e.state}`;
  }
}
