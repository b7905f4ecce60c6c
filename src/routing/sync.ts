/**
 * Route sync: dpfwd follows one routing table of the kernel (the mirror namespace's, where FRR's
 * zebra, BIRD, `ip route` or a CNI agent put routes) over netlink, and installs its routes in the
 * RIB with origin `linux`.
 *
 * - Start: dump links (ifindex → name), then routes; then follow changes. Changes that arrive
 *   while a route dump runs are queued and replayed after it, so the newest state wins.
 * - Overflow (ENOBUFS: the socket's buffer, linux.sync.socketBuffer, was full and the kernel
 *   dropped notifications): counted, and everything is dumped again and the difference applied;
 *   the RIB never silently drifts from the kernel. A link going up/down or away also re-dumps
 *   (the kernel flushes routes of a downed link without telling anyone).
 * - Per prefix only the lowest metric (RTA_PRIORITY) counts. unicast routes resolve their
 *   output interface (RTA_OIF) by name to a dpfwd interface (the mirror of port P is named P);
 *   a route through any other interface is `unusable`: kept and shown in the status, not
 *   installed. blackhole, unreachable and prohibit routes are dpfwd blackholes.
 * - dpfwd's own routes (static, connected, local, neighbour) win over synced ones for the same
 *   prefix (Rib.addRoute): a shadowed route is kept here and installed when the other one goes.
 */
import { DpfwdError } from '../errors';
import { formatPrefix } from '../net/ipv4';
import { netlinkConstants, NetlinkConstants, NetlinkRoute, openNetlinkRoute } from '../dataplane/netlink';
import type { Rib } from './rib';
import type { RoutePath } from './routes';

/** iproute2's names of route protocols (/etc/iproute2/rt_protos and rtnetlink.h's RTPROT_*). */
export const RT_PROTOCOLS: Readonly<Record<number, string>> = {
  0: 'unspec', 1: 'redirect', 2: 'kernel', 3: 'boot', 4: 'static', 8: 'gated', 9: 'ra', 10: 'mrt', 11: 'zebra', 12: 'bird',
  13: 'dnrouted', 14: 'xorp', 15: 'ntk', 16: 'dhcp', 17: 'mrouted', 18: 'keepalived', 42: 'babel', 99: 'openr', 186: 'bgp',
  187: 'isis', 188: 'ospf', 189: 'rip', 192: 'eigrp',
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

const enum St { None, Installed, Shadowed, Unusable, Failed }

interface Prefix {
  /** by metric, lowest first */
  entries: KRoute[];
  state: St;
  /** what was last given to the RIB (or why not) */
  sig: string;
  /** the protocol counted in byProtocol (the best entry's) */
  proto: number;
}

export interface SyncStatus {
  netns: string;
  table: number;
  protocols: string;
  /** starting (first dump running), synced (following changes), resyncing, failed (socket dead) */
  state: 'starting' | 'synced' | 'resyncing' | 'failed';
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
  byProtocol: Record<string, number>;
  dumps: number;
  lastDump: string | null;
  lastDumpMs: number | null;
  overflows: number;
  errors: number;
  lastError: string | null;
}

/** Routes per prefix length, keyed by the address as an int32 (as the RIB keeps them). */
class PrefixMaps<T> {
  readonly byLen: Map<number, T>[] = Array.from({ length: 33 }, () => new Map());
  size = 0;
  get(addr: number, len: number): T | undefined {
    return this.byLen[len].get(addr | 0);
  }
  set(addr: number, len: number, v: T): void {
    const m = this.byLen[len];
    const before = m.size;
    m.set(addr | 0, v);
    this.size += m.size - before;
  }
  delete(addr: number, len: number): void {
    if (this.byLen[len].delete(addr | 0)) this.size--;
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

export class RouteSync {
  private sock: NetlinkRoute | null = null;
  private readonly C: NetlinkConstants;
  private links = new Map<number, string>();
  private linkFlags = new Map<number, number>();
  private pendingLinks: Map<number, string> | null = null;
  private readonly prefixes = new PrefixMaps<Prefix>();
  /** the route dump being received, and the changes that arrived meanwhile */
  private pending: PrefixMaps<KRoute[]> | null = null;
  private queued: { del: boolean; addr: number; len: number; r: KRoute }[] = [];
  private dumping = false;
  private redumpWanted = false;
  private dumpStarted = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly counts = { [St.Installed]: 0, [St.Shadowed]: 0, [St.Unusable]: 0, [St.Failed]: 0 } as Record<number, number>;
  private readonly byProto = new Map<number, number>();
  private readonly protoSet: Set<number> | null;
  private st: SyncStatus['state'] = 'starting';
  private stats = { dumps: 0, lastDump: null as string | null, lastDumpMs: null as number | null, overflows: 0, errors: 0, lastError: null as string | null };

  constructor(private readonly rib: Rib, readonly opts: SyncOptions, private readonly log: (m: string) => void = () => undefined) {
    this.C = netlinkConstants();
    this.protoSet = opts.protocols === 'all' ? null : new Set(opts.protocols);
  }

  /** Opens the socket and starts the first dump; routes arrive asynchronously. */
  start(): void {
    this.sock = openNetlinkRoute(this.opts.netns, this.opts.socketBuffer, (recs, paths, names) => this.onBatch(recs, paths, names));
    this.rib.onVacated = (addr, len) => this.vacated(addr, len);
    this.rib.protocolOf = (addr, len) => {
      const p = this.prefixes.get(addr, len);
      return p ? protocolName(p.entries[0].proto) : undefined;
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
    return {
      netns: this.opts.netns ?? '',
      table: this.opts.table,
      protocols: this.opts.protocols === 'all' ? 'all' : this.opts.protocols.map(protocolName).join(','),
      state: this.st,
      kernelRoutes: this.prefixes.size,
      installed,
      shadowed: Math.max(0, this.prefixes.size - installed - unusable - failed),
      unusable,
      failed,
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
      const fromDump = ((recs[i] >>> 8) & C.fromDump) !== 0;
      if (((recs[i] >>> 8) & C.interrupted) !== 0) this.redumpWanted = true; // the table changed under the dump
      if (kind === C.newRoute || kind === C.delRoute) {
        if (recs[i + 3] !== this.opts.table) continue;
        const t = (recs[i + 2] >>> 16) & 255;
        if (t !== RTN_UNICAST && (t < RTN_BLACKHOLE || t > RTN_PROHIBIT)) continue;
        const addr = recs[i + 1];
        const len = recs[i + 2] & 255;
        const r: KRoute = { prio: recs[i + 4], proto: (recs[i + 2] >>> 8) & 255, type: t, oif: recs[i + 5], gw: recs[i + 6] };
        const np = recs[i + 7] >>> 24;
        if (np > 0) {
          const first = recs[i + 7] & 0xffffff;
          r.paths = [];
          for (let k = first; k < first + np; k++) r.paths.push({ gw: paths[k * 3], oif: paths[k * 3 + 1], weight: paths[k * 3 + 2] });
          r.oif = r.paths[0].oif;
        }
        if (!this.selected(r)) continue;
        const del = kind === C.delRoute;
        if (fromDump && this.pending) {
          const have = this.pending.get(addr, len);
          if (have) insertEntry(have, r);
          else this.pending.set(addr, len, [r]);
        } else if (this.pending) this.queued.push({ del, addr, len, r });
        else this.change(del, addr, len, r);
      } else if (kind === C.newLink || kind === C.delLink) {
        const idx = recs[i + 1];
        const flags = recs[i + 2];
        // a mirror named differently from its port (linux.mirror: {west: wmirror}) stands for the port
        const name = this.opts.aliases?.[names[recs[i + 3]]] ?? names[recs[i + 3]];
        if (fromDump) {
          this.pendingLinks?.set(idx, name);
          this.linkFlags.set(idx, flags);
          continue;
        }
        this.linkChange(kind === C.delLink, idx, flags, name);
      } else if (kind === C.done) {
        if (recs[i + 1] === C.dumpLinks) this.linksDone();
        else this.routesDone();
      } else if (kind === C.overflow) {
        this.stats.overflows++;
        this.log(`route sync: netlink overflow (ENOBUFS, ${this.stats.overflows} so far): changes were lost; dumping the table again (a bigger linux.sync.socketBuffer makes this rarer)`);
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
  }

  /** Routes the sync takes: the table was checked; protocols, and never the mirrors' own kernel routes. */
  private selected(r: KRoute): boolean {
    if (this.protoSet) return this.protoSet.has(r.proto);
    if (r.proto !== RTPROT_KERNEL) return true;
    const name = this.links.get(r.oif) ?? this.pendingLinks?.get(r.oif);
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
    // the kernel removes a downed or deleted link's routes without a notification: dump again
    if (del || (oldFlags !== undefined && (oldFlags & IFF_UP) !== (flags & IFF_UP))) {
      if (this.dumping) this.redumpWanted = true;
      else this.startDump();
    }
  }

  /** Routes through interface idx resolve again (it appeared or was renamed). */
  private relink(idx: number): void {
    for (let len = 0; len <= 32; len++) {
      for (const [a, p] of this.prefixes.byLen[len]) {
        const b = p.entries[0];
        if (b.oif === idx || b.paths?.some((x) => x.oif === idx)) this.apply(a >>> 0, len, p);
      }
    }
  }

  private linksDone(): void {
    if (this.pendingLinks) this.links = this.pendingLinks;
    this.pendingLinks = null;
    this.pending = new PrefixMaps();
    this.queued = [];
    const rc = this.sock ? this.sock.dump(this.C.dumpRoutes) : 0;
    if (rc < 0) this.dumpFailed(-rc);
  }

  /** The dump is the table as it was: apply the difference, then the changes queued meanwhile. */
  private routesDone(): void {
    const dump = this.pending;
    if (!dump) return;
    this.pending = null;
    for (let len = 0; len <= 32; len++) {
      for (const [a, p] of [...this.prefixes.byLen[len]]) {
        if (!dump.byLen[len].has(a)) this.remove(a >>> 0, len, p);
      }
      for (const [a, entries] of dump.byLen[len]) {
        const p = this.prefixes.get(a, len);
        if (p && sameEntries(p.entries, entries)) continue;
        this.set(a >>> 0, len, entries);
      }
    }
    const queued = this.queued;
    this.queued = [];
    for (const q of queued) this.change(q.del, q.addr, q.len, q.r);
    this.dumping = false;
    this.stats.dumps++;
    this.stats.lastDump = new Date().toISOString();
    this.stats.lastDumpMs = Date.now() - this.dumpStarted;
    if (this.st !== 'failed') this.st = 'synced';
    const s = this.status();
    this.log(`route sync: table ${this.opts.table} dumped in ${s.lastDumpMs} ms: ${s.kernelRoutes} routes, ${s.installed} installed, ${s.shadowed} shadowed, ${s.unusable} unusable, ${s.failed} failed`);
    if (this.redumpWanted) this.startDump();
  }

  // ---- the model ----

  private change(del: boolean, addr: number, len: number, r: KRoute): void {
    const p = this.prefixes.get(addr, len);
    if (del) {
      if (!p) return;
      const at = p.entries.findIndex((e) => e.prio === r.prio);
      if (at < 0) return;
      if (p.entries.length === 1) this.remove(addr, len, p);
      else {
        const entries = p.entries.slice();
        entries.splice(at, 1);
        this.set(addr, len, entries);
      }
      return;
    }
    const entries = p ? p.entries.slice() : [];
    insertEntry(entries, r);
    this.set(addr, len, entries);
  }

  private set(addr: number, len: number, entries: KRoute[]): void {
    let p = this.prefixes.get(addr, len);
    if (!p) {
      p = { entries, state: St.None, sig: '', proto: entries[0].proto };
      this.prefixes.set(addr, len, p);
      this.byProto.set(p.proto, (this.byProto.get(p.proto) ?? 0) + 1);
    } else {
      p.entries = entries;
      if (p.proto !== entries[0].proto) {
        this.byProto.set(p.proto, this.byProto.get(p.proto)! - 1);
        p.proto = entries[0].proto;
        this.byProto.set(p.proto, (this.byProto.get(p.proto) ?? 0) + 1);
      }
    }
    this.apply(addr, len, p);
  }

  private remove(addr: number, len: number, p: Prefix): void {
    if (this.rib.originOf(addr, len) === 'linux') this.rib.delRoute(addr, len, 'linux');
    this.setState(p, St.None);
    this.byProto.set(p.proto, this.byProto.get(p.proto)! - 1);
    this.prefixes.delete(addr, len);
  }

  private setState(p: Prefix, s: St): void {
    if (p.state !== St.None && p.state !== St.Installed) this.counts[p.state]--;
    p.state = s;
    if (s !== St.None && s !== St.Installed) this.counts[s]++;
  }

  /** A dpfwd route left the prefix: a synced route waiting there goes in. */
  private vacated(addr: number, len: number): void {
    const p = this.prefixes.get(addr, len);
    // Installed too: a static route that replaced it (Rib.addRoute) left no trace here
    if (p && p.state !== St.Unusable && p.state !== St.None) {
      p.sig = '';
      this.apply(addr, len, p);
    }
  }

  /** The best entry of a prefix into the RIB (or out, when it cannot be used). */
  private apply(addr: number, len: number, p: Prefix): void {
    const best = p.entries[0];
    let route: { addr: number; len: number; via?: number; port?: string; blackhole?: boolean; paths?: RoutePath[] } | null = null;
    if (best.type !== RTN_UNICAST) route = { addr, len, blackhole: true };
    else {
      const paths = (best.paths ?? [{ gw: best.gw, oif: best.oif, weight: 1 }])
        .map((x) => ({ via: x.gw || undefined, port: this.links.get(x.oif), weight: x.weight }))
        .filter((x) => x.port !== undefined && this.rib.ifaces.find(x.port) !== undefined);
      // every usable path: a multipath route (ECMP group) when there are two or more
      if (paths.length > 1) route = { addr, len, paths: paths.map((x) => ({ via: x.via, port: x.port, weight: x.weight })) };
      else if (paths.length) route = { addr, len, via: paths[0].via, port: paths[0].port };
    }
    const sig = !route ? 'unusable'
      : route.paths ? route.paths.map((x) => `${x.via ?? ''}/${x.port ?? ''}*${x.weight}`).join(',')
      : `${route.blackhole ? 'b' : ''}${route.via ?? ''}/${route.port ?? ''}`;
    if (sig === p.sig && p.state !== St.Failed) return;
    p.sig = sig;
    if (!route) {
      if (this.rib.originOf(addr, len) === 'linux') this.rib.delRoute(addr, len, 'linux');
      this.setState(p, St.Unusable);
      return;
    }
    try {
      this.setState(p, this.rib.addRoute(route, 'linux') ? St.Installed : St.Shadowed);
    } catch (e) {
      // the old route must not stay as if it were the kernel's
      if (this.rib.originOf(addr, len) === 'linux') this.rib.delRoute(addr, len, 'linux');
      this.setState(p, St.Failed);
      this.error(`${formatPrefix({ addr, len })}: not installed: ${(e as DpfwdError).message}`);
    }
  }
}
