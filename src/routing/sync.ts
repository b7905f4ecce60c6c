/**
 * Route sync: dpfwd follows one routing table of the kernel (the mirror namespace's, where FRR's
 * zebra, BIRD, `ip route` or a CNI agent put routes) over netlink, and installs its routes in the
 * RIB with origin `linux`.
 *
 * - Start: dump links (ifindex → name), then routes; then follow changes. Changes that arrive
 *   while a route dump runs are queued and replayed after it, so the newest state wins.
 * - Overflow (ENOBUFS: the socket's buffer, linux.sync.socketBuffer, was full and the kernel
 *   dropped notifications): counted, and everything is dumped again and the difference applied;
 *   the RIB never silently drifts from the kernel. A link going down or away also re-dumps
 *   (the kernel flushes routes of a downed link without telling anyone; once per batch).
 * - Per prefix only the lowest metric (RTA_PRIORITY) counts. unicast routes resolve their
 *   output interface (RTA_OIF) by name to a dpfwd interface (the mirror of port P is named P);
 *   a route through any other interface is `unusable`: kept and shown in the status, not
 *   installed. A multipath route (RTA_MULTIPATH, weight = rtnh_hops + 1) becomes a route with
 *   `paths` of its usable next hops. blackhole, unreachable and prohibit routes are dpfwd blackholes.
 * - dpfwd's own routes (static, connected, local, neighbour) win over synced ones for the same
 *   prefix (Rib.addRoute): a shadowed route is kept here and installed when the other one goes.
 * - Synced routes meet the rules `route add` enforces (src/routing/rules.ts syncedRouteProblem):
 *   a martian destination or a gateway that is no unicast host is `refused`, counted by reason.
 * - In bulk: a batch of records (a dump, or the changes the socket held) updates the model and
 *   marks the prefixes it touched; then the RIB gets them in one batch (Rib.syncRoutes, one
 *   FIB call), so a prefix changed twice in a batch is applied once.
 * - linux.sync.maxRoutes: kernel entries beyond it are counted (`excess`) and the state is
 *   `over limit` while any is missing; when the kernel table shrinks so they would fit, the
 *   table is dumped again and the sync catches up by itself.
 */
import { formatPrefix } from '../net/ipv4';
import { netlinkConstants, NetlinkConstants, NetlinkRoute, openNetlinkRoute } from '../dataplane/netlink';
import { SYNC_FAILED, SYNC_INSTALLED, type Rib, type SyncRows } from './rib';
import { ROUTE_BLACKHOLE, ROUTE_MULTIPATH, ROUTE_PORT, ROUTE_VIA } from './routes';
import { Connected, SYNC_REFUSALS, SyncRefusal, syncedRouteProblem } from './rules';

/** iproute2's names of route protocols (/etc/iproute2/rt_protos and rtnetlink.h's RTPROT_*). */
export const RT_PROTOCOLS: Readonly<Record<number, string>> = {
  0: 'unspec',
  1: 'redirect',
  2: 'kernel',
  3: 'boot',
  4: 'static',
  8: 'gated',
  9: 'ra',
  10: 'mrt',
  11: 'zebra',
  12: 'bird',
  13: 'dnrouted',
  14: 'xorp',
  15: 'ntk',
  16: 'dhcp',
  17: 'mrouted',
  18: 'keepalived',
  42: 'babel',
  99: 'openr',
  186: 'bgp',
  187: 'isis',
  188: 'ospf',
  189: 'rip',
  192: 'eigrp',
};
/** iproute2's names of the tables (/etc/iproute2/rt_tables). */
export const RT_TABLES: Readonly<Record<string, number>> = { default: 253, main: 254, local: 255 };

const RTPROT_KERNEL = 2;
const RTN_UNICAST = 1;
/** route types taken: unicast, and blackhole/unreachable/prohibit (dpfwd blackholes) */
const RTN_BLACKHOLE = 6;
const RTN_PROHIBIT = 8;
const IFF_UP = 1;

/** A protocol number by iproute2 name or as a number, or undefined. */
export function protocolNumber(name: string | number): number | undefined {
  if (typeof name === 'number') return Number.isInteger(name) && name >= 0 && name <= 255 ? name : undefined;
  if (/^\d+$/.test(name)) return protocolNumber(Number(name));
  for (const [n, v] of Object.entries(RT_PROTOCOLS)) if (v === name) return Number(n);
  return undefined;
}

export function protocolName(n: number): string {
  return RT_PROTOCOLS[n] ?? String(n);
}

export interface SyncOptions {
  /** the namespace (a name under /run/netns or a path); undefined: dpfwd's own */
  netns?: string;
  /** the kernel table followed (254: main) */
  table: number;
  /** protocol numbers taken, or 'all' (all but kernel routes of dpfwd's interfaces' mirrors) */
  protocols: 'all' | readonly number[];
  /** the netlink socket's receive buffer, bytes */
  socketBuffer: number;
  /** prefixes kept at most (the model's memory bound); more are counted in `overLimit`, not kept */
  maxRoutes: number;
  /** kernel interface name → dpfwd interface name, for mirrors not named like their port */
  aliases?: Record<string, string>;
}

/** One kernel route of a prefix (one metric). */
interface KRoute {
  prio: number;
  proto: number;
  type: number;
  oif: number;
  gw: number;
  paths?: { gw: number; oif: number; weight: number }[];
}

const enum St {
  None,
  Installed,
  Shadowed,
  Unusable,
  Failed,
  Refused,
}

export interface SyncStatus {
  netns: string;
  table: number;
  protocols: string;
  /**
   * starting (first dump running), synced (following changes: every route taken is installed,
   * shadowed, unusable or refused), over limit (the kernel table has entries beyond
   * linux.sync.maxRoutes: dpfwd lacks them), partial (routes the RIB refused: `failed`),
   * resyncing (dumping again), failed (socket dead)
   */
  state: 'starting' | 'synced' | 'over limit' | 'partial' | 'resyncing' | 'failed';
  /** prefixes of the followed table the sync takes (after the table and protocol filters) */
  kernelRoutes: number;
  /** of those, installed in dpfwd's FIB */
  installed: number;
  /** not installed: a dpfwd route of another origin has the prefix */
  shadowed: number;
  /** not installed: the output interface is not a dpfwd interface */
  unusable: number;
  /** not installed: the RIB refused (full FIB, no next hop left); counted in errors too */
  failed: number;
  /** not installed: the rules of `route add` refuse it (martian destination, gateway no unicast host) */
  refused: number;
  /** refused, by reason (src/routing/rules.ts SYNC_REFUSALS); reasons with none are left out */
  refusedBy: Partial<Record<SyncRefusal, number>>;
  /** the last refusal, with the prefix */
  lastRefusal: string | null;
  /** kernel entries (prefix and metric) the sync does not hold because of linux.sync.maxRoutes, now */
  missing: number;
  /** route additions not kept because the sync already held linux.sync.maxRoutes prefixes (cumulative) */
  overLimit: number;
  byProtocol: Record<string, number>;
  dumps: number;
  lastDump: string | null;
  lastDumpMs: number | null;
  overflows: number;
  errors: number;
  lastError: string | null;
}

/** What a prefix last gave the RIB (KTable.aIf): an interface index (>= 0), or one of these. */
const A_NONE = -1; // nothing yet, or forced to apply again
const A_UNUSABLE = -2;
const A_BLACKHOLE = -3;
const A_MULTIPATH = -4; // compare KTable.msig
const A_REFUSED = -5;

/** KTable.meta: proto | type << 8 | state << 16 | refusal << 20 | dirty */
const META_STATE = 16;
const META_REFUSAL = 20;
const META_DIRTY = 1 << 24;

/**
 * The kernel routes the sync keeps, per prefix: a slot per prefix (maps per length keyed by the
 * address as an int32, as the RIB keeps its routes), the best entry's fields and the sync's state
 * in typed columns, and only the rare rest (more metrics, multipath) as objects beside them, so a
 * million prefixes cost tens of MiB of heap rather than hundreds.
 */
class KTable {
  readonly byLen: Map<number, number>[] = Array.from({ length: 33 }, () => new Map());
  size = 0;
  private cap = 0;
  private used = 0;
  private readonly free: number[] = [];
  addr = new Uint32Array(0);
  len = new Uint8Array(0);
  prio = new Uint32Array(0);
  gw = new Uint32Array(0);
  oif = new Uint32Array(0);
  /** proto | type << 8 | state << 16 | refusal reason + 1 << 20 | META_DIRTY */
  meta = new Uint32Array(0);
  /** what was given to the RIB: an A_* value or the interface index, and the gateway */
  aIf = new Int32Array(0);
  aGw = new Uint32Array(0);
  /** all entries (sorted by metric) of prefixes with more than one, or a multipath best */
  private readonly more = new Map<number, KRoute[]>();
  /** multipath prefixes: the paths given to the RIB */
  readonly msig = new Map<number, string>();

  slot(addr: number, len: number): number | undefined {
    return this.byLen[len].get(addr | 0);
  }
  proto(s: number): number {
    return this.meta[s] & 255;
  }
  type(s: number): number {
    return (this.meta[s] >>> 8) & 255;
  }
  state(s: number): St {
    return (this.meta[s] >>> META_STATE) & 7;
  }
  /** the refusal reason's index in SYNC_REFUSALS, or -1 */
  refusal(s: number): number {
    return ((this.meta[s] >>> META_REFUSAL) & 7) - 1;
  }
  setState(s: number, st: St, refusal = -1): void {
    this.meta[s] = (this.meta[s] & ~(0xff << META_STATE)) | (st << META_STATE) | ((refusal + 1) << META_REFUSAL);
  }
  /** Marks s to apply; true when it was not marked yet. */
  mark(s: number): boolean {
    if (this.meta[s] & META_DIRTY) return false;
    this.meta[s] |= META_DIRTY;
    return true;
  }
  /** Clears s's mark; true when it was marked (a slot freed and taken again keeps no mark). */
  unmark(s: number): boolean {
    if (!(this.meta[s] & META_DIRTY)) return false;
    this.meta[s] &= ~META_DIRTY;
    return true;
  }
  /** the best entry's paths (a multipath route), or undefined */
  paths(s: number): KRoute['paths'] {
    return this.more.get(s)?.[0].paths;
  }
  /** The entries, lowest metric first (a new array for a single entry: the caller may keep it). */
  entries(s: number): KRoute[] {
    return this.more.get(s) ?? [{ prio: this.prio[s], proto: this.meta[s] & 255, type: (this.meta[s] >>> 8) & 255, oif: this.oif[s], gw: this.gw[s] }];
  }
  private take(addr: number, len: number): number {
    let s = this.slot(addr, len);
    if (s === undefined) {
      s = this.free.length ? this.free.pop()! : this.used++;
      if (s >= this.cap) this.grow();
      this.byLen[len].set(addr | 0, s);
      this.size++;
      this.addr[s] = addr;
      this.len[s] = len;
      this.meta[s] = 0;
      this.aIf[s] = A_NONE;
      this.aGw[s] = 0;
    }
    return s;
  }
  /** Sets a prefix's entries (sorted, not empty); its state and what it gave the RIB stay. */
  put(addr: number, len: number, entries: KRoute[]): number {
    const s = this.take(addr, len);
    const b = entries[0];
    this.prio[s] = b.prio;
    this.gw[s] = b.gw;
    this.oif[s] = b.oif;
    this.meta[s] = (this.meta[s] & 0xffff0000) | b.proto | (b.type << 8);
    if (entries.length > 1 || b.paths) this.more.set(s, entries);
    else this.more.delete(s);
    return s;
  }
  /** put() of one single-path entry of a prefix this table does not have, without objects (a dump's common case). */
  putOne(addr: number, len: number, prio: number, proto: number, type: number, oif: number, gw: number): void {
    const s = this.take(addr, len);
    this.prio[s] = prio;
    this.gw[s] = gw;
    this.oif[s] = oif;
    this.meta[s] = (this.meta[s] & 0xffff0000) | proto | (type << 8);
  }
  /** put() of another table's entries of slot o. */
  copy(addr: number, len: number, other: KTable, o: number): number {
    const m = other.more.get(o);
    if (m) return this.put(addr, len, m);
    const s = this.take(addr, len);
    this.prio[s] = other.prio[o];
    this.gw[s] = other.gw[o];
    this.oif[s] = other.oif[o];
    this.meta[s] = (this.meta[s] & 0xffff0000) | (other.meta[o] & 0xffff);
    this.more.delete(s);
    return s;
  }
  delete(addr: number, len: number): void {
    const s = this.slot(addr, len);
    if (s === undefined) return;
    this.byLen[len].delete(addr | 0);
    this.size--;
    this.more.delete(s);
    this.msig.delete(s);
    this.meta[s] = 0;
    this.free.push(s);
  }
  /** Whether slot s here and slot o of another table hold the same entries. */
  same(s: number, other: KTable, o: number): boolean {
    if (!this.more.has(s) && !other.more.has(o)) {
      return (
        this.prio[s] === other.prio[o] && this.gw[s] === other.gw[o] && this.oif[s] === other.oif[o] && (this.meta[s] & 0xffff) === (other.meta[o] & 0xffff)
      );
    }
    return sameEntries(this.entries(s), other.entries(o));
  }
  private grow(): void {
    const cap = Math.max(1024, this.cap * 2);
    const g = <T extends Uint32Array | Int32Array | Uint8Array>(a: T): T => {
      const n = new (a.constructor as new (n: number) => T)(cap);
      n.set(a);
      return n;
    };
    this.addr = g(this.addr);
    this.len = g(this.len);
    this.prio = g(this.prio);
    this.gw = g(this.gw);
    this.oif = g(this.oif);
    this.meta = g(this.meta);
    this.aIf = g(this.aIf);
    this.aGw = g(this.aGw);
    this.cap = cap;
  }
}

function sameEntries(a: KRoute[], b: KRoute[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.prio !== y.prio || x.proto !== y.proto || x.type !== y.type || x.oif !== y.oif || x.gw !== y.gw) return false;
    if (JSON.stringify(x.paths) !== JSON.stringify(y.paths)) return false;
  }
  return true;
}

function insertEntry(entries: KRoute[], r: KRoute): void {
  const at = entries.findIndex((e) => e.prio >= r.prio);
  if (at < 0) entries.push(r);
  else if (entries[at].prio === r.prio) entries[at] = r;
  else entries.splice(at, 0, r);
}

/** Rows for Rib.syncRoutes, grown as needed and reused batch after batch. */
class Rows implements SyncRows {
  n = 0;
  addrs = new Uint32Array(1024);
  lens = new Uint8Array(1024);
  kinds = new Uint8Array(1024);
  vias = new Uint32Array(1024);
  ifaces = new Int32Array(1024);
  slots = new Uint32Array(1024);
  paths = new Map<number, { via?: number; port: number; weight: number }[]>();
  push(slot: number, addr: number, len: number, kind: number, via: number, iface: number): number {
    if (this.n === this.addrs.length) this.grow();
    const i = this.n++;
    this.slots[i] = slot;
    this.addrs[i] = addr;
    this.lens[i] = len;
    this.kinds[i] = kind;
    this.vias[i] = via;
    this.ifaces[i] = iface;
    return i;
  }
  /** The first n rows as a SyncRows (views, no copies). */
  view(): SyncRows {
    const n = this.n;
    return {
      n,
      addrs: this.addrs.subarray(0, n),
      lens: this.lens.subarray(0, n),
      kinds: this.kinds.subarray(0, n),
      vias: this.vias.subarray(0, n),
      ifaces: this.ifaces.subarray(0, n),
      paths: this.paths,
    };
  }
  clear(): void {
    this.n = 0;
    this.paths = new Map();
  }
  private grow(): void {
    const cap = this.addrs.length * 2;
    const g = <T extends Uint32Array | Int32Array | Uint8Array>(a: T): T => {
      const n = new (a.constructor as new (n: number) => T)(cap);
      n.set(a);
      return n;
    };
    this.addrs = g(this.addrs);
    this.lens = g(this.lens);
    this.kinds = g(this.kinds);
    this.vias = g(this.vias);
    this.ifaces = g(this.ifaces);
    this.slots = g(this.slots);
  }
}

export class RouteSync {
  private sock: NetlinkRoute | null = null;
  private readonly C: NetlinkConstants;
  private links = new Map<number, string>();
  private linkFlags = new Map<number, number>();
  private pendingLinks: Map<number, string> | null = null;
  private prefixes = new KTable();
  /** the route dump being received, and the changes that arrived meanwhile */
  private pending: KTable | null = null;
  private queued: { del: boolean; replace: boolean; addr: number; len: number; r: KRoute }[] = [];
  private dumping = false;
  private redumpWanted = false;
  private dumpStarted = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly counts = { [St.Installed]: 0, [St.Shadowed]: 0, [St.Unusable]: 0, [St.Failed]: 0, [St.Refused]: 0 } as Record<number, number>;
  private readonly refusedBy = new Array<number>(SYNC_REFUSALS.length).fill(0);
  private lastRefusal: string | null = null;
  private readonly byProto = new Map<number, number>();
  private readonly protoSet: Set<number> | null;
  private st: SyncStatus['state'] = 'starting';
  /** a link went down or away in this batch: dump again after it */
  private resyncWanted = false;
  /** set when a batch installed routes; onInstalled runs after the batch */
  private installedSome = false;
  /** slots whose prefix changed since the last flush (KTable.mark), and prefixes that left the model (addr, len pairs) */
  private dirty: number[] = [];
  private gone: number[] = [];
  private readonly rows = new Rows();
  /** slots the RIB refused (Failed): tried again after routes went */
  private readonly failedSlots = new Set<number>();
  /**
   * Kernel entries (prefix and metric) not held because of linux.sync.maxRoutes: counted by the
   * dump, then up with additions of new prefixes and down with deletions of unknown ones. While
   * non-zero the FIB lacks kernel routes (`over limit`); once they would fit, a re-dump takes them.
   */
  private excess = 0;
  private dumpExcess = 0;
  /** replaying changes queued during a dump: what the dump saw of them is unknown, so they never add to excess */
  private replaying = false;
  /** after a batch that installed routes (the forwarder starts ARP for their new gateways) */
  onInstalled?: () => void;
  private stats = {
    overLimit: 0,
    dumps: 0,
    lastDump: null as string | null,
    lastDumpMs: null as number | null,
    overflows: 0,
    errors: 0,
    lastError: null as string | null,
  };

  constructor(
    private readonly rib: Rib,
    readonly opts: SyncOptions,
    private readonly log: (m: string) => void = () => undefined,
  ) {
    this.C = netlinkConstants();
    this.protoSet = opts.protocols === 'all' ? null : new Set(opts.protocols);
  }

  /** Opens the socket and starts the first dump; routes arrive asynchronously. */
  start(): void {
    this.sock = openNetlinkRoute(this.opts.netns, this.opts.socketBuffer, (recs, paths, names) => this.onBatch(recs, paths, names));
    this.rib.onVacated = (addr, len) => this.vacated(addr, len);
    this.rib.protocolOf = (addr, len) => {
      const p = this.prefixes.slot(addr, len);
      return p === undefined ? undefined : protocolName(this.prefixes.proto(p));
    };
    this.startDump();
  }

  stop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.sock?.close();
    this.sock = null;
  }

  status(): SyncStatus {
    const byProtocol: Record<string, number> = {};
    for (const [p, n] of this.byProto) if (n > 0) byProtocol[protocolName(p)] = n;
    const installed = this.rib.counts.linux;
    const unusable = this.counts[St.Unusable];
    const failed = this.counts[St.Failed];
    const refused = this.counts[St.Refused];
    const refusedBy: Partial<Record<SyncRefusal, number>> = {};
    SYNC_REFUSALS.forEach((r, i) => {
      if (this.refusedBy[i] > 0) refusedBy[r] = this.refusedBy[i];
    });
    let state = this.st;
    if (state === 'synced' && this.excess > 0) state = 'over limit';
    else if (state === 'synced' && failed > 0) state = 'partial';
    return {
      netns: this.opts.netns ?? '',
      table: this.opts.table,
      protocols: this.opts.protocols === 'all' ? 'all' : this.opts.protocols.map(protocolName).join(','),
      state,
      kernelRoutes: this.prefixes.size,
      installed,
      shadowed: Math.max(0, this.prefixes.size - installed - unusable - failed - refused),
      unusable,
      failed,
      refused,
      refusedBy,
      lastRefusal: this.lastRefusal,
      missing: this.excess,
      byProtocol,
      ...this.stats,
    };
  }

  // ---- the socket's records ----

  private startDump(): void {
    if (!this.sock) return;
    this.redumpWanted = false;
    this.dumping = true;
    this.dumpStarted = Date.now();
    if (this.st !== 'starting' && this.st !== 'failed') this.st = 'resyncing';
    this.pendingLinks = new Map();
    const rc = this.sock.dump(this.C.dumpLinks);
    if (rc < 0) this.dumpFailed(-rc);
  }

  private dumpFailed(errno: number): void {
    this.error(`dump request refused (errno ${errno}); retrying in 1 s`);
    this.dumping = false;
    this.pending = null;
    this.pendingLinks = null;
    this.retryTimer ??= setTimeout(() => {
      this.retryTimer = null;
      this.startDump();
    }, 1000);
    this.retryTimer.unref?.();
  }

  /** A kernel entry the model has no room for (linux.sync.maxRoutes): counted, logged now and then. */
  private overLimit(): void {
    if (this.stats.overLimit++ % 100000 === 0) {
      this.log(
        `route sync: the kernel table has more than linux.sync.maxRoutes (${this.opts.maxRoutes}) prefixes; the rest are not followed (${this.stats.overLimit} so far) until the table shrinks: raise it and restart`,
      );
    }
  }

  /** Counted always; logged for the first ten and then every 10000th (a full FIB refuses many). */
  private error(msg: string): void {
    this.stats.errors++;
    this.stats.lastError = msg;
    if (this.stats.errors <= 10 || this.stats.errors % 10000 === 0) this.log(`route sync: ${msg} (${this.stats.errors} errors so far)`);
  }

  private onBatch(recs: Uint32Array, paths: Uint32Array, names: string[]): void {
    const C = this.C;
    const W = C.words;
    for (let i = 0; i < recs.length; i += W) {
      const kind = recs[i] & 255;
      const flags = recs[i] >>> 8;
      const fromDump = (flags & C.fromDump) !== 0;
      if ((flags & C.interrupted) !== 0) this.redumpWanted = true; // the table changed under the dump
      if (kind === C.newRoute || kind === C.delRoute) {
        if (recs[i + 3] !== this.opts.table) continue;
        const t = (recs[i + 2] >>> 16) & 255;
        if (t !== RTN_UNICAST && (t < RTN_BLACKHOLE || t > RTN_PROHIBIT)) continue;
        const addr = recs[i + 1];
        const len = recs[i + 2] & 255;
        const proto = (recs[i + 2] >>> 8) & 255;
        const np = recs[i + 7] >>> 24;
        if (np === 0 && !this.selectedProto(proto, recs[i + 5])) continue;
        if (fromDump && this.pending && np === 0) {
          // the dump's common case, without objects
          const have = this.pending.slot(addr, len);
          if (have === undefined) {
            if (this.pending.size >= this.opts.maxRoutes) {
              this.dumpExcess++;
              this.overLimit();
            } else this.pending.putOne(addr, len, recs[i + 4], proto, t, recs[i + 5], recs[i + 6]);
            continue;
          }
        }
        const r: KRoute = { prio: recs[i + 4], proto, type: t, oif: recs[i + 5], gw: recs[i + 6] };
        if (np > 0) {
          const first = recs[i + 7] & 0xffffff;
          r.paths = [];
          for (let k = first; k < first + np; k++) r.paths.push({ gw: paths[k * 3], oif: paths[k * 3 + 1], weight: paths[k * 3 + 2] });
          r.oif = r.paths[0].oif;
          if (!this.selectedProto(proto, r.oif)) continue;
        }
        const del = kind === C.delRoute;
        const replace = (flags & C.replaced) !== 0;
        if (fromDump && this.pending) {
          const have = this.pending.slot(addr, len);
          if (have === undefined) {
            if (this.pending.size >= this.opts.maxRoutes) {
              this.dumpExcess++;
              this.overLimit();
            } else this.pending.put(addr, len, [r]);
          } else {
            const entries = this.pending.entries(have).slice();
            insertEntry(entries, r);
            this.pending.put(addr, len, entries);
          }
        } else if (this.pending) this.queued.push({ del, replace, addr, len, r });
        else this.change(del, replace, addr, len, r);
      } else if (kind === C.newLink || kind === C.delLink) {
        const idx = recs[i + 1];
        const lflags = recs[i + 2];
        // a mirror named differently from its port (linux.mirror: {west: wmirror}) stands for the port
        const name = this.opts.aliases?.[names[recs[i + 3]]] ?? names[recs[i + 3]];
        if (fromDump) {
          this.pendingLinks?.set(idx, name);
          this.linkFlags.set(idx, lflags);
          continue;
        }
        this.linkChange(kind === C.delLink, idx, lflags, name);
      } else if (kind === C.done) {
        if (recs[i + 1] === C.dumpLinks) this.linksDone();
        else this.routesDone();
      } else if (kind === C.overflow) {
        this.stats.overflows++;
        this.log(
          `route sync: netlink overflow (ENOBUFS, ${this.stats.overflows} so far): changes were lost; dumping the table again (a bigger linux.sync.socketBuffer makes this rarer)`,
        );
        if (this.dumping) this.redumpWanted = true;
        else this.startDump();
      } else if (kind === C.error) {
        if (fromDump) this.dumpFailed(recs[i + 1]);
        else {
          this.st = 'failed';
          this.error(`the netlink socket failed (errno ${recs[i + 1]}); routes are no longer followed: restart dpfwd`);
        }
      }
    }
    this.flush();
    // entries left out for the limit would fit now: dump again to take them
    if (this.excess > 0 && this.prefixes.size + this.excess <= this.opts.maxRoutes) this.resyncWanted = true;
    if (this.resyncWanted) {
      this.resyncWanted = false;
      if (this.dumping) this.redumpWanted = true;
      else this.startDump();
    }
    if (this.installedSome) {
      this.installedSome = false;
      this.onInstalled?.();
    }
  }

  /** Routes the sync takes: the table was checked; protocols, and never the mirrors' own kernel routes. */
  private selectedProto(proto: number, oif: number): boolean {
    if (this.protoSet) return this.protoSet.has(proto);
    if (proto !== RTPROT_KERNEL) return true;
    const name = this.links.get(oif) ?? this.pendingLinks?.get(oif);
    return name === undefined || !this.rib.ifaces.find(name);
  }

  private linkChange(del: boolean, idx: number, flags: number, name: string): void {
    if (this.pendingLinks) this.pendingLinks.set(idx, name);
    const old = this.links.get(idx);
    const oldFlags = this.linkFlags.get(idx);
    if (del) {
      this.links.delete(idx);
      this.linkFlags.delete(idx);
      this.pendingLinks?.delete(idx);
    } else {
      this.links.set(idx, name);
      this.linkFlags.set(idx, flags);
    }
    if (!del && old !== name) this.relink(idx);
    // the kernel removes a downed or deleted link's routes without a notification: dump again,
    // once for all such changes of a batch (deleting a veth deletes both ends)
    if (del || (oldFlags !== undefined && (oldFlags & IFF_UP) !== 0 && (flags & IFF_UP) === 0)) this.resyncWanted = true;
  }

  /** Routes through interface idx resolve again (it appeared or was renamed): marked, applied with the batch. */
  private relink(idx: number): void {
    const t = this.prefixes;
    for (let len = 0; len <= 32; len++) {
      for (const s of t.byLen[len].values()) {
        if (t.oif[s] === idx || t.paths(s)?.some((x) => x.oif === idx)) this.mark(s);
      }
    }
  }

  private linksDone(): void {
    if (this.pendingLinks) this.links = this.pendingLinks;
    this.pendingLinks = null;
    this.pending = new KTable();
    this.dumpExcess = 0;
    this.queued = [];
    const rc = this.sock ? this.sock.dump(this.C.dumpRoutes) : 0;
    if (rc < 0) this.dumpFailed(-rc);
  }

  /** The dump is the table as it was: the difference is marked, the changes queued meanwhile replayed, all applied in one batch. */
  private routesDone(): void {
    const dump = this.pending;
    if (!dump) return;
    this.pending = null;
    if (this.prefixes.size === 0) {
      // nothing to compare with (the first dump): the dump is the model, every prefix marked
      this.prefixes = dump;
      for (let len = 0; len <= 32; len++) {
        for (const s of dump.byLen[len].values()) {
          this.protoMoved(-1, dump.proto(s));
          this.mark(s);
        }
      }
    }
    const t = this.prefixes;
    for (let len = 0; len <= 32 && t !== dump; len++) {
      const gone: number[] = [];
      for (const a of t.byLen[len].keys()) if (!dump.byLen[len].has(a)) gone.push(a);
      for (const a of gone) this.remove(a >>> 0, len, t.slot(a, len)!);
      for (const [a, d] of dump.byLen[len]) {
        const s = t.slot(a, len);
        if (s !== undefined && t.same(s, dump, d)) continue;
        const had = s === undefined ? -1 : t.proto(s);
        const n = t.copy(a >>> 0, len, dump, d);
        this.protoMoved(had, t.proto(n));
        this.mark(n);
      }
    }
    this.excess = this.dumpExcess;
    const queued = this.queued;
    this.queued = [];
    this.replaying = true;
    for (const q of queued) this.change(q.del, q.replace, q.addr, q.len, q.r);
    this.replaying = false;
    this.flush();
    this.dumping = false;
    this.stats.dumps++;
    this.stats.lastDump = new Date().toISOString();
    this.stats.lastDumpMs = Date.now() - this.dumpStarted;
    if (this.st !== 'failed') this.st = 'synced';
    const s = this.status();
    this.log(
      `route sync: table ${this.opts.table} dumped in ${s.lastDumpMs} ms: ${s.kernelRoutes} routes, ${s.installed} installed, ${s.shadowed} shadowed, ${s.unusable} unusable, ${s.refused} refused, ${s.failed} failed${this.excess ? `, ${this.excess} over linux.sync.maxRoutes` : ''}`,
    );
    if (this.redumpWanted) this.startDump();
  }

  // ---- the model ----

  private change(del: boolean, replace: boolean, addr: number, len: number, r: KRoute): void {
    const t = this.prefixes;
    const s = t.slot(addr, len);
    if (s === undefined) {
      if (del) {
        // an entry left out for the limit went
        if (this.excess > 0) this.excess--;
        return;
      }
      if (t.size >= this.opts.maxRoutes) {
        if (!replace && !this.replaying) this.excess++;
        this.overLimit();
        return;
      }
    }
    const entries = s === undefined ? [] : t.entries(s).slice();
    if (del) {
      const at = entries.findIndex((e) => e.prio === r.prio);
      if (at < 0) return;
      if (entries.length === 1) this.remove(addr, len, s!);
      else {
        entries.splice(at, 1);
        this.set(addr, len, entries);
      }
      return;
    }
    insertEntry(entries, r);
    this.set(addr, len, entries);
  }

  private set(addr: number, len: number, entries: KRoute[]): void {
    const t = this.prefixes;
    const had = t.slot(addr, len);
    const s = t.put(addr, len, entries);
    this.protoMoved(had === undefined ? -1 : t.proto(had), entries[0].proto);
    this.mark(s);
  }

  /** byProto: a prefix's protocol went from `from` (-1: new) to `to`. */
  private protoMoved(from: number, to: number): void {
    if (from === to) return;
    if (from >= 0) this.byProto.set(from, this.byProto.get(from)! - 1);
    this.byProto.set(to, (this.byProto.get(to) ?? 0) + 1);
  }

  private mark(s: number): void {
    if (this.prefixes.mark(s)) this.dirty.push(s);
  }

  /** The prefix leaves the model now, and the RIB with the next flush. */
  private remove(addr: number, len: number, s: number): void {
    this.setState(s, St.None);
    const proto = this.prefixes.proto(s);
    this.byProto.set(proto, this.byProto.get(proto)! - 1);
    this.prefixes.delete(addr, len);
    this.gone.push(addr, len);
  }

  private setState(s: number, st: St, refusal = -1): void {
    const t = this.prefixes;
    const was = t.state(s);
    if (was !== St.None && was !== St.Installed) this.counts[was]--;
    if (was === St.Refused) this.refusedBy[t.refusal(s)]--;
    if (was === St.Failed) this.failedSlots.delete(s);
    t.setState(s, st, refusal);
    if (st !== St.None && st !== St.Installed) this.counts[st]++;
    if (st === St.Refused) this.refusedBy[refusal]++;
    if (st === St.Failed) this.failedSlots.add(s);
  }

  /** A dpfwd route left the prefix: a synced route waiting there goes in. */
  private vacated(addr: number, len: number): void {
    const t = this.prefixes;
    const s = t.slot(addr, len);
    // Installed too: a static route that replaced it (Rib.addRoute) left no trace here
    if (s !== undefined && t.state(s) !== St.Unusable && t.state(s) !== St.Refused && t.state(s) !== St.None) {
      t.aIf[s] = A_NONE;
      this.mark(s);
      this.flush();
    }
  }

  /**
   * The marked prefixes into the RIB: removals first (room in the FIB), then one Rib.syncRoutes
   * batch of what is installed or replaced; unusable and refused ones leave the RIB. After
   * removals, routes the RIB refused before are tried again.
   */
  private flush(): void {
    const t = this.prefixes;
    const rib = this.rib;
    let removed = false;
    for (let i = 0; i < this.gone.length; i += 2) {
      const addr = this.gone[i];
      const len = this.gone[i + 1];
      if (t.slot(addr, len) === undefined && rib.originOf(addr, len) === 'linux') {
        rib.delRoute(addr, len, 'linux');
        removed = true;
      }
    }
    this.gone = [];
    if (removed && this.failedSlots.size) {
      for (const s of this.failedSlots) {
        t.aIf[s] = A_NONE;
        this.mark(s);
      }
    }
    if (this.dirty.length === 0) return;
    const conn: Connected[] = rib.listAddresses();
    const rows = this.rows;
    rows.clear();
    const dirty = this.dirty;
    this.dirty = [];
    for (const s of dirty) if (t.unmark(s)) this.prepare(s, conn, rows);
    if (rows.n === 0) return;
    const errors = new Map<number, string>();
    const out = rib.syncRoutes(rows.view(), errors);
    for (let i = 0; i < rows.n; i++) {
      const s = rows.slots[i];
      if (out[i] === SYNC_INSTALLED) {
        this.setState(s, St.Installed);
        this.installedSome = true;
      } else if (out[i] === SYNC_FAILED) {
        this.setState(s, St.Failed);
        this.error(`${formatPrefix({ addr: rows.addrs[i], len: rows.lens[i] })}: not installed: ${errors.get(i)}`);
      } else this.setState(s, St.Shadowed);
    }
    rows.clear();
  }

  /** A marked prefix's best entry: a row for the RIB, or out of it (unusable, refused), or nothing when unchanged. */
  private prepare(s: number, conn: readonly Connected[], rows: Rows): void {
    const t = this.prefixes;
    const rib = this.rib;
    const addr = t.addr[s];
    const len = t.len[s];
    const type = t.type(s);
    const kpaths = t.paths(s);
    // what it would give the RIB: kind and interface, gateway, multipath paths
    let aIf: number;
    let aGw = 0;
    let msig: string | undefined;
    let kind = ROUTE_BLACKHOLE;
    let paths: { via?: number; port: number; weight: number }[] | undefined;
    let problem: { reason: SyncRefusal; message: string } | null = null;
    if (type !== RTN_UNICAST) {
      aIf = A_BLACKHOLE;
      problem = syncedRouteProblem(conn, { addr, len }, []);
    } else {
      // every next hop whose interface is a dpfwd interface (the others are left out of the group)
      paths = [];
      if (kpaths) {
        for (const x of kpaths) {
          const name = this.links.get(x.oif);
          const iface = name === undefined ? undefined : rib.ifaces.find(name);
          if (iface) paths.push({ via: x.gw || undefined, port: iface.index, weight: x.weight });
        }
      } else {
        const name = this.links.get(t.oif[s]);
        const iface = name === undefined ? undefined : rib.ifaces.find(name);
        if (iface) paths.push({ via: t.gw[s] || undefined, port: iface.index, weight: 1 });
      }
      if (paths.length === 0) aIf = A_UNUSABLE;
      else {
        problem = syncedRouteProblem(
          conn,
          { addr, len },
          paths.map((x) => x.via ?? 0),
        );
        if (paths.length === 1) {
          aIf = paths[0].port;
          aGw = paths[0].via ?? 0;
          kind = paths[0].via === undefined ? ROUTE_PORT : ROUTE_VIA;
        } else {
          aIf = A_MULTIPATH;
          kind = ROUTE_MULTIPATH;
          msig = paths.map((x) => `${x.via ?? ''}/${x.port}*${x.weight}`).join(',');
        }
      }
    }
    if (problem) {
      aIf = A_REFUSED;
      aGw = problem.reason === 'gateway' ? t.gw[s] : 0;
    }
    if (t.state(s) !== St.Failed && aIf === t.aIf[s] && aGw === t.aGw[s] && (aIf !== A_MULTIPATH || msig === t.msig.get(s))) return;
    t.aIf[s] = aIf;
    t.aGw[s] = aGw;
    if (msig !== undefined) t.msig.set(s, msig);
    else t.msig.delete(s);
    if (aIf === A_UNUSABLE || problem) {
      if (rib.originOf(addr, len) === 'linux') rib.delRoute(addr, len, 'linux');
      if (problem) {
        this.lastRefusal = `${formatPrefix({ addr, len })}: ${problem.message}`;
        this.setState(s, St.Refused, SYNC_REFUSALS.indexOf(problem.reason));
      } else this.setState(s, St.Unusable);
      return;
    }
    const i = rows.push(s, addr, len, kind, aGw, aIf >= 0 ? aIf : -1);
    if (kind === ROUTE_MULTIPATH) rows.paths.set(i, paths!);
  }
}
