/**
 * One action function per operation. The control socket, the CLI (through the socket) and the
 * tests all call these; front ends only parse and print.
 */
import type { EventLog } from '../forwarder/events';
import type { Peer } from './peer-access';
import type { RouteSync } from '../routing/sync';
import type { ControlPlane } from '../controlplane';
import type { Mirrors } from '../controlplane/mirrors';
import type { Config } from '../config/types';
import type { Dataplane } from '../dataplane';
import type { PortState } from '../forwarder';
import type { Interfaces } from '../routing/interfaces';
import { ORIGINS, type Origin, type Rib, type RouteView } from '../routing/rib';
import { protocolNumber } from '../routing/sync';
import type { CaptureRequest, Observer } from '../forwarder/capture';
import { DpfwdError } from '../errors';
import { CounterSnapshot } from '../dataplane';
import { formatIPv4, formatPrefix, maskOf, parseIPv4, parseInterfaceAddress, findAddressConflict } from '../net/ipv4';
import { formatMac, parseMac } from '../net/mac';
import { parsePrefixWord, parseRouteFile, ROUTE_MULTIPATH, routeFromFields, routeLineNumbers, RoutePath } from '../routing/routes';
import { ecmpBucket, flowHash } from '../routing/flowhash';
import {
  blackholeProblem,
  Connected,
  connectedPrefixProblem,
  gatewayPortProblem,
  gatewaySubnetProblem,
  hostAddressProblem,
  originProblem,
  routePrefixProblem,
} from '../routing/rules';
import { puntHealth, unhealthy } from '../metrics/health';

/** Counter offsets taken by `stats clear`: the CLI shows deltas, Prometheus keeps raw totals. */
export class CounterBaseline {
  private base: CounterSnapshot | null = null;
  clear(now: CounterSnapshot): void {
    this.base = now;
  }
  /** now − baseline, per worker and per port. */
  since(now: CounterSnapshot): CounterSnapshot {
    const b = this.base;
    if (!b) return now;
    return {
      tscHz: now.tscHz,
      workers: now.workers.map((w, i) => {
        const bw = b.workers[i];
        const counters: Record<string, number> = {};
        for (const k of Object.keys(w.counters)) counters[k] = w.counters[k] - (bw?.counters[k] ?? 0);
        return {
          index: w.index,
          counters,
          ports: w.ports.map((p, j) => ({
            forwarded: p.forwarded - (bw?.ports[j]?.forwarded ?? 0),
            drops: p.drops.map((d, r) => d - (bw?.ports[j]?.drops[r] ?? 0)),
            counters: p.counters.map((c, k) => c - (bw?.ports[j]?.counters[k] ?? 0)),
          })),
          subifs: w.subifs?.map(
            (p, j) =>
              p && {
                forwarded: p.forwarded - (bw?.subifs?.[j]?.forwarded ?? 0),
                drops: p.drops.map((d, r) => d - (bw?.subifs?.[j]?.drops[r] ?? 0)),
                counters: p.counters.map((c, k) => c - (bw?.subifs?.[j]?.counters[k] ?? 0)),
              },
          ),
          punts: w.punts.map((p, k) => ({ punted: p.punted - (bw?.punts[k]?.punted ?? 0), limited: p.limited - (bw?.punts[k]?.limited ?? 0) })),
        };
      }),
    };
  }
}

/**
 * What the actions use of a running router (the Forwarder satisfies it): counters and port
 * facts from the dataplane, the RIB, the interfaces, the neighbour table and a few settings.
 */
export interface Router {
  /** what changed, for `dpfwd monitor` */
  monitor: Pick<EventLog, 'since'>;
  dp: Pick<
    Dataplane,
    'snapshot' | 'names' | 'fibInfo' | 'portInfo' | 'portStats' | 'puntStatus' | 'workersAlive' | 'constants' | 'ifaceSet' | 'ifaceDel' | 'groupBuckets'
  >;
  rib: Rib;
  ifaces: Interfaces;
  ports: readonly PortState[];
  config: Pick<Config, 'punt' | 'workers'>;
  cp: Pick<ControlPlane, 'counters' | 'neighbors' | 'neighborRows'>;
  /** Linux mirror interfaces, when linux.mirror is on */
  mirrors?: Pick<Mirrors, 'rows' | 'dropsByInterface'>;
  observe: Observer;
  /** the route sync from the kernel (linux.sync), when on */
  sync?: Pick<RouteSync, 'status'> | null;
  startedAt: number;
}

export interface Ctx {
  fwd: Router;
  baseline: CounterBaseline;
}

/** The connection a request came on: what must end when it closes (a capture, a trace). */
export interface Conn {
  onClose(fn: () => void): void;
  /** who is at the other end (SO_PEERCRED); null when the kernel could not say */
  peer?: Peer | null;
}

type Args = Record<string, unknown>;

function str(a: Args, k: string, required = true): string | undefined {
  const v = a[k];
  if (v === undefined || v === null) {
    if (required) throw new DpfwdError('EINVAL', `missing argument: ${k}`);
    return undefined;
  }
  if (typeof v !== 'string') throw new DpfwdError('EINVAL', `argument ${k} must be a string`);
  return v;
}

function portNames(ctx: Ctx): string {
  return ctx.fwd.ifaces.names().join(', ');
}

function checkPort(ctx: Ctx, name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  if (!ctx.fwd.ifaces.find(name)) throw new DpfwdError('ENODEV', `unknown port ${name}; ports are: ${portNames(ctx)}`);
  return name;
}

export function showDrops(ctx: Ctx): { port: string; reason: string; packets: number }[] & object {
  const names = ctx.fwd.dp.names().drops;
  const s = ctx.baseline.since(ctx.fwd.dp.snapshot());
  const out: { port: string; reason: string; packets: number }[] = [];
  const maxPorts = ctx.fwd.dp.constants().maxPorts;
  // every port's untagged interface, then the VLAN sub-interfaces (their own counters)
  for (const i of ctx.fwd.ifaces.list()) {
    names.forEach((reason, r) => {
      let n = 0;
      for (const w of s.workers) n += (i.index < maxPorts ? w.ports[i.index] : w.subifs?.[i.index - maxPorts])?.drops[r] ?? 0;
      out.push({ port: i.name, reason, packets: n });
    });
  }
  return out;
}

export function showPorts(ctx: Ctx) {
  const s = ctx.baseline.since(ctx.fwd.dp.snapshot());
  return ctx.fwd.ports.map((p) => {
    const info = ctx.fwd.dp.portInfo(p.index);
    const st = ctx.fwd.dp.portStats(p.index);
    let forwarded = 0;
    let dropped = 0;
    let csumCompleted = 0;
    const ci = ctx.fwd.dp.names().port.indexOf('csum_completed');
    for (const w of s.workers) {
      forwarded += w.ports[p.index].forwarded;
      for (const d of w.ports[p.index].drops) dropped += d;
      csumCompleted += w.ports[p.index].counters[ci] ?? 0;
    }
    return {
      ifname: p.name,
      device: p.device,
      driver: info.driver,
      address: formatMac(info.mac),
      mtu: p.mtu,
      operstate: info.linkUp ? 'UP' : 'DOWN',
      speed: info.speedMbps,
      addr_info: ctx.fwd.rib
        .listAddresses()
        .filter((a) => a.port === p.name)
        .map((a) => ({ family: 'inet', local: formatIPv4(a.addr), prefixlen: a.len })),
      stats64: {
        rx: { packets: st.ipackets, bytes: st.ibytes, errors: st.ierrors, missed: st.imissed, nombuf: st.rxNombuf },
        tx: { packets: st.opackets, bytes: st.obytes, errors: st.oerrors },
      },
      forwarded,
      dropped,
      csum_completed: csumCompleted,
    };
  });
}

export function showWorkers(ctx: Ctx) {
  const s = ctx.baseline.since(ctx.fwd.dp.snapshot());
  // one pass per packet, or checks / lookups / rewrites in separate passes once the FIB is too big for the cache
  const lookup = ctx.fwd.dp.fibInfo().lookupStaged ? 'staged' : 'one-pass';
  const punt = puntHealth(ctx.fwd.dp.puntStatus(), ctx.fwd.config.punt.maxWaitMs);
  return s.workers.map((w) => {
    const c = w.counters;
    const busy = c.busy_cycles;
    const total = busy + c.idle_cycles;
    return {
      worker: w.index,
      lcore: ctx.fwd.config.workers[w.index].lcore,
      rx: ctx.fwd.config.workers[w.index].rx.map((r) => `${r.port}/${r.queue}`),
      rx_packets: c.rx_packets,
      tx_packets: c.tx_packets,
      packets_per_burst: c.rx_bursts ? +(c.rx_packets / c.rx_bursts).toFixed(2) : 0,
      busy_percent: total ? +((100 * busy) / total).toFixed(2) : 0,
      cycles_per_packet: c.rx_packets ? Math.round(busy / c.rx_packets) : 0,
      punted: w.punts.reduce((a, p) => a + p.punted, 0),
      punt_limited: w.punts.reduce((a, p) => a + p.limited, 0),
      punt_waiting: punt[w.index].waiting,
      punt_wait_ms: punt[w.index].waitMs,
      control_plane: punt[w.index].ok ? 'ok' : 'stuck',
      lookup,
      // idle back-off (idle.mode, workers[].idle): time asleep, a part of the idle time
      idle: ctx.fwd.config.workers[w.index].idleSleepUs ? 'sleep' : 'poll',
      sleep_percent: total ? +((100 * c.sleep_cycles) / total).toFixed(2) : 0,
    };
  });
}

/** Raw (never cleared) counters, for scripts and tests that want exact totals. */
export function showCounters(ctx: Ctx) {
  const names = ctx.fwd.dp.names();
  return { names, snapshot: ctx.fwd.dp.snapshot(), ports: ctx.fwd.ports.map((p) => p.name) };
}

export function statsClear(ctx: Ctx) {
  ctx.baseline.clear(ctx.fwd.dp.snapshot());
  return { cleared: true as const };
}

/** The router's interface addresses, as the rules in src/routing/rules.ts take them. */
function connected(ctx: Ctx): Connected[] {
  return ctx.fwd.rib.listAddresses();
}

function invalid(problem: string | null): void {
  if (problem) throw new DpfwdError('EINVAL', problem);
}

/**
 * The checks the config makes of a route's prefix (src/routing/rules.ts), with its messages, and
 * the RIB's (a prefix that is a neighbour's host route): the problem, or null.
 */
function prefixProblem(ctx: Ctx, conn: Connected[], addr: number, len: number): string | null {
  const p = routePrefixProblem({ addr, len }) ?? connectedPrefixProblem(conn, { addr, len });
  if (p) return p;
  const origin = ctx.fwd.rib.originOf(addr, len);
  return origin === undefined ? null : originProblem({ addr, len }, origin);
}

/** The same for a route's next hop: blackhole alone, a known port or port id, a host address as gateway. */
function nextHopProblem(ctx: Ctx, conn: Connected[], r: { via?: number; port?: string; portId?: number; blackhole: boolean }): string | null {
  const bh = blackholeProblem(r.blackhole, r.via !== undefined, r.port !== undefined || r.portId !== undefined);
  if (bh) return bh;
  if (r.port !== undefined && !ctx.fwd.ifaces.find(r.port)) return `unknown port ${r.port}; ports are: ${portNames(ctx)}`;
  if (r.portId !== undefined && r.portId >= ctx.fwd.ports.length)
    return `port id ${r.portId} does not exist (ports 0-${ctx.fwd.ports.length - 1}: ${ctx.fwd.ports.map((p) => p.name).join(', ')})`;
  if (r.via !== undefined) {
    const v = hostAddressProblem(conn, r.via) ?? (r.port !== undefined ? gatewayPortProblem(conn, r.via, r.port) : null);
    if (v) return v;
    if (r.port === undefined) return gatewaySubnetProblem(r.via, ctx.fwd.rib.connectedPort(r.via));
  }
  return null;
}

/** route.add's fields through the one route parser (src/routing/routes.ts), then the RIB's checks. */
function parseRouteArgs(ctx: Ctx, a: Args) {
  const e = routeFromFields({
    prefix: str(a, 'prefix')!,
    via: str(a, 'via', false),
    port: str(a, 'port', false),
    blackhole: a.blackhole === true,
    nexthops: pathFields(a.nexthops),
  });
  checkPort(ctx, e.port);
  const r = { addr: e.addr, len: e.len, via: e.via, port: e.port, blackhole: e.blackhole, paths: e.paths };
  const conn = connected(ctx);
  r.paths?.forEach((p) => checkPort(ctx, p.port));
  invalid(prefixProblem(ctx, conn, r.addr, r.len) ?? routeNextHopProblem(ctx, conn, r));
  return r;
}

/** nextHopProblem of a route's next hop, or of each path of a multipath route (`nexthop N: …`). */
function routeNextHopProblem(
  ctx: Ctx,
  conn: Connected[],
  r: { via?: number; port?: string; portId?: number; blackhole: boolean; paths?: RoutePath[] },
): string | null {
  if (!r.paths) return nextHopProblem(ctx, conn, r);
  for (let i = 0; i < r.paths.length; i++) {
    const problem = nextHopProblem(ctx, conn, { via: r.paths[i].via, port: r.paths[i].port, blackhole: false });
    if (problem) return `nexthop ${i + 1}: ${problem}`;
  }
  return null;
}

/** route.add's `nexthops`: a list of {via?: string, port?: string, weight?: number}, checked for shape only. */
function pathFields(v: unknown): { via?: string; port?: string; weight?: number }[] | undefined {
  if (v === undefined || v === null) return undefined;
  const bad = () => new DpfwdError('EINVAL', 'argument nexthops must be a list of {via?: string, port?: string, weight?: number}');
  if (!Array.isArray(v)) throw bad();
  return v.map((p) => {
    if (typeof p !== 'object' || p === null) throw bad();
    const o = p as Record<string, unknown>;
    for (const k of Object.keys(o))
      if (k !== 'via' && k !== 'port' && k !== 'weight') throw new DpfwdError('EINVAL', `nexthops: unknown field ${k} (via, port, weight)`);
    if (
      (o.via !== undefined && typeof o.via !== 'string') ||
      (o.port !== undefined && typeof o.port !== 'string') ||
      (o.weight !== undefined && typeof o.weight !== 'number')
    )
      throw bad();
    return { via: o.via as string | undefined, port: o.port as string | undefined, weight: o.weight as number | undefined };
  });
}

/**
 * The one view of a route (iproute2's `ip -j route` keys): what `route show` lists and what
 * `route add`/`replace` answer with, so a script reads the same object either way.
 */
export function routeRow(r: RouteView) {
  return {
    dst: r.prefix,
    gateway: r.via,
    dev: r.port,
    protocol: r.protocol ?? r.origin,
    type: r.kind === 'drop' ? 'blackhole' : r.kind === 'local' ? 'local' : 'unicast',
    ...(r.kind === 'gateway' ? { lladdr: r.mac ?? null } : {}),
    // a multipath route as `ip -j route` shows one: nexthops [{gateway, dev, weight, flags}]
    ...(r.paths
      ? {
          nexthops: r.paths.map((p) => ({
            gateway: p.via,
            dev: p.port,
            weight: p.weight,
            ...(p.via !== undefined ? { lladdr: p.mac ?? null } : {}),
            flags: p.dead ? ['dead'] : [],
          })),
        }
      : {}),
    ...(r.origin === 'linux' ? { origin: 'linux' } : {}),
  };
}

/** `route add` and `route replace`: adds the route or changes the prefix's. Result: the route's show row. */
export function routeAdd(ctx: Ctx, a: Args) {
  const r = parseRouteArgs(ctx, a);
  ctx.fwd.rib.addRoute(r);
  return routeRow(ctx.fwd.rib.routeAt(r.addr * 64 + r.len)!);
}

export function routeDel(ctx: Ctx, a: Args) {
  const p = parsePrefixWord(str(a, 'prefix')!);
  ctx.fwd.rib.delRoute(p.addr, p.len, 'static');
  return { deleted: formatPrefix(p) };
}

/** `route show|flush|count` selectors, iproute2's: a prefix (exact), match ADDR, root PREFIX, dev, via, proto. */
interface RouteSelector {
  /** address range to scan (root and exact prefixes narrow it) */
  lo: number;
  hi: number;
  exactLen?: number;
  rootLen?: number;
  /** routes covering this address */
  match?: number;
  dev?: string;
  via?: string;
  /** an origin, or the protocol a synced route shows */
  proto?: string;
  /** flush: static routes only */
  origin?: Origin;
  /** any selector given (flush refuses none without `all`) */
  any: boolean;
}

function routeSelector(ctx: Ctx, a: Args): RouteSelector {
  const f: RouteSelector = { lo: 0, hi: 0xffffffff, any: false };
  const range = (p: { addr: number; len: number }) => {
    f.lo = Math.max(f.lo, p.addr);
    f.hi = Math.min(f.hi, (p.addr | ~maskOf(p.len)) >>> 0);
  };
  const prefix = str(a, 'prefix', false);
  if (prefix !== undefined) {
    const p = parsePrefixWord(prefix);
    f.exactLen = p.len;
    range(p);
  }
  const root = str(a, 'root', false);
  if (root !== undefined) {
    const p = parsePrefixWord(root);
    f.rootLen = p.len;
    range(p);
  }
  const match = str(a, 'match', false);
  if (match !== undefined) f.match = parseIPv4(match);
  f.dev = checkPort(ctx, str(a, 'dev', false));
  const via = str(a, 'via', false);
  if (via !== undefined) f.via = formatIPv4(parseIPv4(via));
  const proto = str(a, 'proto', false);
  if (proto !== undefined) {
    if (!(ORIGINS as readonly string[]).includes(proto) && protocolNumber(proto) === undefined) {
      throw new DpfwdError(
        'EINVAL',
        `proto ${proto}: routes come from ${ORIGINS.join(', ')}, or (synced from Linux) a protocol iproute2 names (kernel, bird, bgp, ospf, … or 0-255)`,
      );
    }
    f.proto = proto;
  }
  f.any = prefix !== undefined || root !== undefined || match !== undefined || f.dev !== undefined || via !== undefined || proto !== undefined;
  return f;
}

/** The routes a selector picks, in address order (then length), past the row `after` ("a.b.c.d/len"). */
function* selected(ctx: Ctx, f: RouteSelector, after?: string): Generator<RouteView> {
  const rib = ctx.fwd.rib;
  const cursor = after === undefined ? -1 : ((p) => p.addr * 64 + p.len)(parsePrefixWord(after));
  const keep = (r: RouteView) =>
    (f.dev === undefined || r.port === f.dev) &&
    (f.via === undefined || r.via === f.via) &&
    (f.proto === undefined || r.origin === f.proto || r.protocol === f.proto) &&
    (f.origin === undefined || r.origin === f.origin);
  if (f.match !== undefined) {
    // the at most 33 prefixes that cover the address, shortest first (that is key order)
    for (let len = 0; len <= 32; len++) {
      const addr = len === 0 ? 0 : (f.match & maskOf(len)) >>> 0;
      const key = addr * 64 + len;
      const r = key > cursor && addr >= f.lo && addr <= f.hi && lenOk(f, len) ? rib.routeAt(key) : undefined;
      if (r && keep(r)) yield r;
    }
    return;
  }
  for (const key of rib.routeKeys(f.lo, f.hi, cursor)) {
    if (!lenOk(f, key % 64)) continue;
    const r = rib.routeAt(key)!;
    if (keep(r)) yield r;
  }
}

/** The prefix-length conditions of `exact` and `root`. */
function lenOk(f: RouteSelector, len: number): boolean {
  return (f.exactLen === undefined || len === f.exactLen) && (f.rootLen === undefined || len >= f.rootLen);
}

/** Rows one `route.show` reply may carry (~11 MB of JSON); bigger tables are read in pages. */
export const ROUTE_SHOW_MAX_ROWS = 100000;

/**
 * Args: the selectors, `limit` (rows; all when absent) and `after` (the dst of the last row
 * already read): a client pages through a big table without one huge reply. More than
 * ROUTE_SHOW_MAX_ROWS in one reply is refused (EMSGSIZE), never cut silently.
 */
export function routeShow(ctx: Ctx, a: Args) {
  const limit = a.limit === undefined ? Infinity : a.limit;
  if (typeof limit !== 'number' || !(limit >= 0)) throw new DpfwdError('EINVAL', `limit must be a number of rows (0 or more), got ${JSON.stringify(a.limit)}`);
  const out: ReturnType<typeof routeRow>[] = [];
  if (limit === 0) return out;
  for (const r of selected(ctx, routeSelector(ctx, a), str(a, 'after', false))) {
    if (out.length === ROUTE_SHOW_MAX_ROWS) {
      throw new DpfwdError(
        'EMSGSIZE',
        `more than ${ROUTE_SHOW_MAX_ROWS} routes would go in this reply, more than one carries; read in pages (limit ${ROUTE_SHOW_MAX_ROWS} or less, and after = the last dst read), as dpfwd route show -j does`,
      );
    }
    out.push(routeRow(r));
    if (out.length >= limit) break;
  }
  return out;
}

/** How many routes the selectors pick (`route show`'s "N more routes not shown"). */
export function routeCount(ctx: Ctx, a: Args) {
  const f = routeSelector(ctx, a);
  let n = 0;
  if (f.match === undefined && f.dev === undefined && f.via === undefined && f.proto === undefined) {
    // prefixes alone: counted from the sorted keys, no view built
    for (const key of ctx.fwd.rib.routeKeys(f.lo, f.hi)) if (lenOk(f, key % 64)) n++;
  } else for (const _r of selected(ctx, f)) n++;
  return { routes: n };
}

/**
 * Deletes the static routes the selectors pick; refused without a selector unless `all: true`.
 * Connected, local and neighbour routes go with their address or neighbour, never here.
 */
export function routeFlush(ctx: Ctx, a: Args) {
  const f = routeSelector(ctx, a);
  if (!f.any && a.all !== true)
    throw new DpfwdError('EINVAL', 'missing argument: a selector (prefix, root, match, dev, via, proto), or all: true to delete every static route');
  if (f.proto !== undefined && f.proto !== 'static')
    throw new DpfwdError(
      'EINVAL',
      'only static routes are flushed: connected, local and neighbour routes go with their address or neighbour, linux routes with the kernel table they come from',
    );
  const gone = [...selected(ctx, { ...f, origin: 'static' })];
  for (const r of gone) ctx.fwd.rib.delRoute(r.addr, r.len, 'static');
  return { flushed: gone.length };
}

/**
 * `route get ADDR`: the FIB's decision for one destination, from the RIB the FIB mirrors: the
 * route that matches (longest prefix), its next hop and the neighbour state of the host the
 * packet goes to (the gateway, or on a connected subnet the destination itself).
 */
export function routeGet(ctx: Ctx, a: Args) {
  const addr = parseIPv4(str(a, 'address')!);
  const r = ctx.fwd.rib.lookup(addr);
  if (!r)
    throw new DpfwdError(
      'ENETUNREACH',
      `no route to ${formatIPv4(addr)}: it is dropped as no_route (add one, or a default route: dpfwd route add default via ADDR)`,
    );
  const nh = ctx.fwd.rib.nexthopRecord(r.nexthop);
  const row: Record<string, unknown> = { ...routeRow(r), dst: formatIPv4(addr), prefix: r.prefix, nexthop: r.nexthop };
  // whose MAC the packet needs: the gateway's record, or for a connected subnet the destination's
  const host = r.kind === 'gateway' ? nh : r.kind === 'glean' ? ctx.fwd.rib.getNeighbor(addr) : undefined;
  if (r.kind === 'gateway' || r.kind === 'glean') {
    row.lladdr = host?.mac != null ? formatMac(host.mac) : null;
    row.state = [host && host.state !== 'NONE' ? host.state : 'NONE'];
  }
  const flow = flowOf(a);
  if (flow && nh?.group) Object.assign(row, flowPath(ctx, nh.group.gid, addr, flow));
  return row;
}

/** route.get's optional flow (iproute2's from, ipproto, sport, dport): the packet a multipath route hashes. */
function flowOf(a: Args): { src: number; proto: number; sport: number; dport: number } | undefined {
  if (a.from === undefined && a.ipproto === undefined && a.sport === undefined && a.dport === undefined) return undefined;
  const src = a.from === undefined ? 0 : parseIPv4(str(a, 'from')!);
  const names: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, sctp: 132, udplite: 136 };
  const p = a.ipproto;
  const proto = p === undefined ? 0 : typeof p === 'number' ? p : (names[String(p).toLowerCase()] ?? Number(p));
  if (!Number.isInteger(proto) || proto < 0 || proto > 255)
    throw new DpfwdError('EINVAL', `ipproto ${String(p)}: a protocol name (tcp, udp, icmp, sctp, udplite) or number 0-255`);
  const port = (k: 'sport' | 'dport') => {
    const v = a[k];
    if (v === undefined) return 0;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) throw new DpfwdError('EINVAL', `${k} ${String(v)}: a port number 0-65535`);
    return v;
  };
  return { src, proto, sport: port('sport'), dport: port('dport') };
}

/** The member of group `gid` the workers pick for this flow: its bucket, read from the dataplane's own table. */
function flowPath(ctx: Ctx, gid: number, dst: number, f: { src: number; proto: number; sport: number; dport: number }) {
  const bucket = ecmpBucket(flowHash(f.src, dst, f.proto, f.sport, f.dport));
  const id = ctx.fwd.dp.groupBuckets(gid)[bucket];
  const m = ctx.fwd.rib.nexthopRecord(id);
  return {
    from: formatIPv4(f.src),
    ipproto: f.proto,
    sport: f.sport,
    dport: f.dport,
    bucket,
    path: {
      nexthop: id,
      gateway: m?.addr ? formatIPv4(m.addr) : undefined,
      dev: m !== undefined ? ctx.fwd.ifaces.get(m.iface)?.name : undefined,
      lladdr: m?.mac != null ? formatMac(m.mac) : null,
      state: [m?.state ?? 'NONE'],
    },
  };
}

/** The next hops in use: id, kind, port, gateway, references, the neighbour's MAC and state, a group's members. */
export function nexthopShow(ctx: Ctx, a: Args) {
  const rows = ctx.fwd.rib.listNexthops().map((h) => {
    const rec = ctx.fwd.rib.nexthopRecord(h.id);
    const row: Record<string, unknown> = { id: h.id, kind: h.kind, dev: h.port, gateway: h.via, refs: h.refs };
    if (h.group) row.group = h.group; // a multipath route's members: [{id, weight}]
    if (h.kind === 'gateway') {
      row.lladdr = rec?.mac != null ? formatMac(rec.mac) : null;
      row.state = [rec?.state ?? 'NONE'];
    }
    return row;
  });
  if (a.id === undefined) return rows;
  if (typeof a.id !== 'number') throw new DpfwdError('EINVAL', `id must be a next-hop number, got ${JSON.stringify(a.id)}`);
  const one = rows.filter((r) => r.id === a.id);
  if (!one.length) throw new DpfwdError('ENOENT', `no next hop ${a.id} in use (dpfwd nexthop show lists them)`);
  return one;
}

/**
 * Many routes in one call: all or nothing (see Rib.addRoutesBulk, which also resolves port names
 * and l3fwd port ids). Lines: route-file syntax, l3fwd's R lines too.
 */
export function routeLoad(ctx: Ctx, a: Args) {
  const text = str(a, 'text')!;
  const { routes, errors } = parseRouteFile(text);
  if (!errors.length) {
    // the semantic checks of `route add`, each error naming its line
    const conn = connected(ctx);
    let bad: { row: number; problem: string }[] = [];
    const { addrs, lens, kinds, vias, ports } = routes;
    let lastNh: string | null = null;
    for (let i = 0; i < routes.length; i++) {
      // route files list many routes via one next hop: check it again only when it changes
      if (i === 0 || kinds[i] !== kinds[i - 1] || vias[i] !== vias[i - 1] || ports[i] !== ports[i - 1] || kinds[i] === ROUTE_MULTIPATH)
        lastNh = routeNextHopProblem(ctx, conn, routes.entry(i));
      const problem = prefixProblem(ctx, conn, addrs[i], lens[i]) ?? lastNh;
      if (problem) bad.push({ row: i, problem });
    }
    if (bad.length) {
      const lines = routeLineNumbers(
        text,
        bad.map((b) => b.row),
      );
      bad = bad.map((b, k) => ({ row: b.row, problem: `line ${lines[k]}: ${b.problem}` }));
      errors.push(...bad.map((b) => b.problem));
    }
  }
  if (errors.length) throw new DpfwdError('EINVAL', `route file has ${errors.length} bad line(s), nothing loaded:\n  ${errors.slice(0, 10).join('\n  ')}`);
  const t0 = process.hrtime.bigint();
  const n = ctx.fwd.rib.addRoutesBulk(routes);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { loaded: n, milliseconds: +ms.toFixed(1) };
}

export function neighborAdd(ctx: Ctx, a: Args) {
  const addr = parseIPv4(str(a, 'address')!);
  invalid(hostAddressProblem(connected(ctx), addr));
  const mac = parseMac(str(a, 'mac')!, { unicast: true });
  const port = checkPort(ctx, str(a, 'port'))!;
  ctx.fwd.cp.neighbors.setPermanent(addr, ctx.fwd.rib.portIndex(port), mac);
  // the row `neighbor show` lists for it: one view of a neighbour
  return ctx.fwd.cp.neighborRows().find((r) => r.dst === formatIPv4(addr));
}

export function neighborDel(ctx: Ctx, a: Args) {
  const addr = parseIPv4(str(a, 'address')!);
  ctx.fwd.cp.neighbors.remove(addr);
  return { deleted: formatIPv4(addr) };
}

/**
 * `ip neigh flush`: deletes the neighbours on one port (`dev`) or on all (`all: true`); learned
 * entries only unless `nud` says `permanent` (only static ones) or `all` (both), as iproute2 keeps
 * PERMANENT entries unless asked. Routes through a flushed gateway stay and resolve it again.
 */
export function neighborFlush(ctx: Ctx, a: Args) {
  const dev = str(a, 'dev', false);
  if (dev === undefined && a.all !== true)
    throw new DpfwdError('EINVAL', 'missing argument: dev (a port), or all: true (neighbor flush needs a selector, as ip neigh flush)');
  if (dev !== undefined && !ctx.fwd.ifaces.find(dev)) throw new DpfwdError('ENODEV', `unknown port ${dev}; ports are: ${portNames(ctx)}`);
  const nud = str(a, 'nud', false) ?? 'dynamic';
  if (!['dynamic', 'permanent', 'all'].includes(nud))
    throw new DpfwdError(
      'EINVAL',
      `nud ${nud}: flush takes nud permanent (static entries only) or nud all (learned and static); learned entries alone without nud`,
    );
  const rows = ctx.fwd.cp.neighborRows(false) as { dst: string; dev: string; state: string[] }[];
  const gone = rows.filter((r) => (dev === undefined || r.dev === dev) && (nud === 'all' || (nud === 'permanent') === r.state.includes('PERMANENT')));
  for (const r of gone) ctx.fwd.cp.neighbors.remove(parseIPv4(r.dst));
  return { flushed: gone.length };
}

export function neighborShow(ctx: Ctx, a: Args = {}) {
  return ctx.fwd.cp.neighborRows(a.details === true);
}

export function addressAdd(ctx: Ctx, a: Args) {
  const addrStr = str(a, 'address')!;
  const port = checkPort(ctx, str(a, 'port'))!;
  const ia = parseInterfaceAddress(addrStr);
  const existing = ctx.fwd.rib.listAddresses().map((x) => ({ port: x.port, addr: `${formatIPv4(x.addr)}/${x.len}` }));
  const conflict = findAddressConflict(existing, port, addrStr);
  if (conflict) throw new DpfwdError('EEXIST', conflict);
  ctx.fwd.rib.addAddress(port, ia.addr, ia.len);
  return { ifname: port, local: formatIPv4(ia.addr), prefixlen: ia.len };
}

export function addressDel(ctx: Ctx, a: Args) {
  const ia = parseInterfaceAddress(str(a, 'address')!);
  const port = checkPort(ctx, str(a, 'port'))!;
  ctx.fwd.rib.delAddress(port, ia.addr, ia.len);
  return { deleted: `${formatIPv4(ia.addr)}/${ia.len}`, ifname: port };
}

/** The counters of one interface summed over workers: ports[i] for a port, subifs[k] for sub-interface maxPorts + k. */
function ifaceCounters(ctx: Ctx, s: CounterSnapshot, index: number): { forwarded: number; dropped: number } {
  const maxPorts = ctx.fwd.dp.constants().maxPorts;
  let forwarded = 0;
  let dropped = 0;
  for (const w of s.workers) {
    const c = index < maxPorts ? w.ports[index] : w.subifs?.[index - maxPorts];
    if (!c) continue;
    forwarded += c.forwarded;
    for (const d of c.drops) dropped += d;
  }
  return { forwarded, dropped };
}

/** `interface add NAME vlan N [port P] [mtu M]`: a VLAN sub-interface, live. */
export function interfaceAdd(ctx: Ctx, a: Args) {
  const name = str(a, 'name', false);
  const vlan = a.vlan;
  if (vlan === undefined || vlan === null) throw new DpfwdError('EINVAL', 'missing argument: vlan (1-4094), e.g. dpfwd interface add west.100 vlan 100');
  if (typeof vlan !== 'number') throw new DpfwdError('EINVAL', `vlan must be a number from 1 to 4094, got ${JSON.stringify(vlan)}`);
  const port = str(a, 'port', false) ?? (name?.includes('.') ? name.slice(0, name.lastIndexOf('.')) : undefined);
  if (port === undefined) throw new DpfwdError('EINVAL', `interface add needs the port: name the interface <port>.<vlan> (west.100) or add port <name>`);
  const mtu = a.mtu === undefined ? undefined : Number(a.mtu);
  const i = ctx.fwd.ifaces.addSubif(ctx.fwd.dp, ctx.fwd.dp.constants(), { name, port, vlan, mtu });
  return interfaceRow(ctx, i.index);
}

/**
 * `interface del NAME`: its neighbours go with it; refused while it has addresses or routes
 * (delete those first: a route must not silently lose its way out).
 */
export function interfaceDel(ctx: Ctx, a: Args) {
  const name = str(a, 'name')!;
  const i = ctx.fwd.ifaces.find(name);
  if (!i) throw new DpfwdError('ENODEV', `unknown interface ${name}; interfaces are: ${portNames(ctx)}`);
  if (i.vlan === 0) throw new DpfwdError('EINVAL', `${name} is a port's untagged interface, not a sub-interface; ports are set in the config`);
  const addrs = ctx.fwd.rib.listAddresses().filter((x) => x.port === name);
  if (addrs.length) {
    throw new DpfwdError(
      'EBUSY',
      `interface ${name} still has addresses (${addrs.map((x) => `${formatIPv4(x.addr)}/${x.len}`).join(', ')}); delete them first (dpfwd address del ADDR port ${name})`,
    );
  }
  for (const n of ctx.fwd.cp.neighbors.list()) if (n.iface === i.index) ctx.fwd.cp.neighbors.remove(n.addr);
  const used = ctx.fwd.rib.listNexthops().filter((h) => h.port === name);
  if (used.length) {
    throw new DpfwdError('EBUSY', `interface ${name} is the way out of ${used.reduce((n, h) => n + h.refs, 0)} route(s); delete them first (dpfwd route show)`);
  }
  ctx.fwd.ifaces.delSubif(ctx.fwd.dp, name);
  return { deleted: name };
}

function interfaceRow(ctx: Ctx, index: number, s?: CounterSnapshot) {
  const i = ctx.fwd.ifaces.get(index)!;
  const c = ifaceCounters(ctx, s ?? ctx.baseline.since(ctx.fwd.dp.snapshot()), index);
  return {
    ifname: i.name,
    ifindex: i.index,
    link: ctx.fwd.ifaces.name(i.port),
    vlan: i.vlan || null,
    mtu: i.mtu,
    address: formatMac(i.mac),
    addr_info: ctx.fwd.rib
      .listAddresses()
      .filter((x) => x.port === i.name)
      .map((x) => ({ family: 'inet', local: formatIPv4(x.addr), prefixlen: x.len })),
    forwarded: c.forwarded,
    dropped: c.dropped,
  };
}

/** `show interfaces`: every port's untagged interface and every VLAN sub-interface, with their counters. */
export function interfaceShow(ctx: Ctx) {
  const s = ctx.baseline.since(ctx.fwd.dp.snapshot());
  return ctx.fwd.ifaces.list().map((i) => interfaceRow(ctx, i.index, s));
}

export function showControlPlane(ctx: Ctx) {
  const n = ctx.fwd.cp.neighbors;
  return {
    counters: ctx.fwd.cp.counters,
    neighbors: n.countByState(),
    queue: n.stats,
    // neighbour budgets: cap hits (in total and per port), ARP that taught nothing, next hops
    limits: n.limits,
    limitsByPort: Object.fromEntries(
      ctx.fwd.ifaces.list().map((p) => [p.name, n.limitsByPort[p.index] ?? Object.fromEntries(Object.keys(n.limits).map((k) => [k, 0]))]),
    ),
    arpIgnored: n.ignored,
    nexthops: ctx.fwd.rib.nexthopUsage(),
  };
}

/** `show mirrors`: each Linux mirror with frames both ways and drops by reason ([] when linux.mirror is off). */
export function showMirrors(ctx: Ctx) {
  return ctx.fwd.mirrors?.rows() ?? [];
}

/** The route sync's status (docs/api.md#sync.show): the kernel table vs dpfwd's FIB. */
export function syncShow(ctx: Ctx) {
  const s = ctx.fwd.sync;
  return s ? s.status() : { state: 'off' as const, hint: 'set linux.sync.enabled (or linux.mirror) in the config and restart' };
}

/** The same check as GET /healthz (src/metrics/health.ts): one health, two ways to ask. */
export function health(ctx: Ctx) {
  const alive = ctx.fwd.dp.workersAlive();
  const problem = unhealthy(ctx.fwd);
  return { ok: problem === null, problem, workers: ctx.fwd.config.workers.length, alive, uptimeSeconds: Math.round((Date.now() - ctx.fwd.startedAt) / 1000) };
}

/** `dpfwd monitor`: the changes after sequence number `after` (src/forwarder/events.ts); -1 for where the log is now. */
export function events(ctx: Ctx, a: Args) {
  const after = num(a, 'after') ?? -1;
  const max = num(a, 'max') ?? 1000;
  return ctx.fwd.monitor.since(after, Math.min(Math.max(1, max), 10000));
}

// ---- capture and trace (src/forwarder/capture.ts): sessions end when their connection closes ----

function num(a: Args, k: string): number | undefined {
  const v = a[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new DpfwdError('EINVAL', `argument ${k} must be a number`);
  return v;
}

/** A session id (capture, trace). */
function sessionId(a: Args): number {
  const v = num(a, 'id');
  if (v === undefined) throw new DpfwdError('EINVAL', 'missing argument: id (from capture.start or trace.start)');
  return v;
}

export function captureStart(ctx: Ctx, a: Args, conn?: Conn) {
  const req: CaptureRequest = {
    ports: a.ports as string[] | undefined,
    points: a.points as CaptureRequest['points'],
    reason: str(a, 'reason', false),
    filter: str(a, 'filter', false),
    snaplen: num(a, 'snaplen'),
    count: num(a, 'count'),
    durationMs: num(a, 'durationMs'),
  };
  return ctx.fwd.observe.captureStart(req, conn ? (f) => conn.onClose(f) : undefined);
}

export function traceStart(ctx: Ctx, a: Args, conn?: Conn) {
  return ctx.fwd.observe.traceStart({ count: num(a, 'count'), filter: str(a, 'filter', false) }, conn ? (f) => conn.onClose(f) : undefined);
}

/** The router's operations (src/api/ops.ts declares each one's request and reply; server.ts checks this table against it: one missing or one too many does not compile). */
export const ACTIONS = {
  'show.drops': showDrops,
  'show.ports': showPorts,
  'show.workers': showWorkers,
  'show.counters': showCounters,
  'show.controlplane': showControlPlane,
  'show.mirrors': showMirrors,
  'stats.clear': statsClear,
  'route.add': routeAdd,
  'route.del': routeDel,
  'route.show': routeShow,
  'route.count': routeCount,
  'route.get': routeGet,
  'route.flush': routeFlush,
  'route.load': routeLoad,
  'nexthop.show': nexthopShow,
  'neighbor.add': neighborAdd,
  'neighbor.del': neighborDel,
  'neighbor.flush': neighborFlush,
  'neighbor.show': neighborShow,
  'address.add': addressAdd,
  'address.del': addressDel,
  'interface.add': interfaceAdd,
  'interface.del': interfaceDel,
  'interface.show': interfaceShow,
  'capture.start': captureStart,
  'capture.read': (ctx: Ctx, a: Args) => ctx.fwd.observe.captureRead(sessionId(a)),
  'capture.stop': (ctx: Ctx, a: Args) => ctx.fwd.observe.captureStop(sessionId(a)),
  'capture.show': (ctx: Ctx) => ctx.fwd.observe.captureShow(),
  'trace.start': traceStart,
  'trace.show': (ctx: Ctx, a: Args) => ctx.fwd.observe.traceShow(sessionId(a)),
  'trace.stop': (ctx: Ctx, a: Args) => ctx.fwd.observe.traceStop(sessionId(a)),
  'sync.show': syncShow,
  health,
  events,
};
