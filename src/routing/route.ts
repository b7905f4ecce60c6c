/**
 * The one route: what the config's `routes:`, a route file, `route add` (CLI words or the
 * socket's fields), the RIB and the route sync all mean by a route, as numbers. Parsed once where
 * it enters (src/routing/routes.ts: words, fields, file lines; src/routing/sync.ts: netlink) and
 * written back as text only here: `routeFields` (the config's and the socket's fields, what
 * `config show`/`config save` write) and `routeWords` (iproute2's words, what `config diff` and
 * the reload report print, and what the route parser reads back).
 */
import { formatIPv4, formatPrefix } from '../net/ipv4';

/**
 * Where a route came from. `linux`: synced from the kernel's routing table (src/routing/sync.ts);
 * it loses to every other origin for the same prefix (dpfwd's own static routes win, like a lower
 * administrative distance) and comes back when the route that shadowed it goes.
 */
export const ORIGINS = ['static', 'connected', 'local', 'neighbor', 'linux'] as const;
export type Origin = (typeof ORIGINS)[number];

/** One path of a multipath (ECMP) route: a gateway and/or an interface, and its weight (1..256, default 1). */
export interface RoutePath {
  /** next-hop address, uint32 host order */
  via?: number;
  /** egress interface by name (a port's, or a VLAN sub-interface's like `west.100`) */
  port?: string;
  weight: number;
}

/**
 * A route. Exactly one of the next-hop forms applies: `blackhole`; `paths` (two or more: a
 * multipath route, via/port unset then); `via` and/or `port`; `portId` (l3fwd's `R<prefix>
 * <port id>` lines only). Where it stands in the RIB, `origin` (and a synced route's `protocol`).
 */
export interface Route {
  /** network address, uint32 host order */
  addr: number;
  len: number;
  /** next-hop address, uint32 host order */
  via?: number;
  /** egress interface by name */
  port?: string;
  /** egress port by DPDK port id (l3fwd `R<prefix> <portid>` lines) */
  portId?: number;
  blackhole: boolean;
  /** a multipath route's paths (length >= 2): via/port unset then */
  paths?: RoutePath[];
  /** set on routes read from the RIB */
  origin?: Origin;
  /** a synced route's protocol, iproute2's name (`bgp`, `ospf`, or the number) */
  protocol?: string;
}

/** A path in the config's and the socket's words. */
export type PathFields = {
  via?: string;
  port?: string;
  weight?: number;
};

/**
 * A route in the config's and the socket's words: `{prefix, via?, port?, blackhole?, nexthops?}`
 * (what `routes:` holds, what route.add takes, what `config save` writes). routeFromFields
 * (src/routing/routes.ts) reads it; routeFields writes it. A type, not an interface, so it is
 * also the socket's plain `Record<string, unknown>` arguments.
 */
export type RouteFields = {
  prefix: string;
  via?: string;
  port?: string;
  blackhole?: boolean;
  nexthops?: PathFields[];
};

/** A route in the config's and the socket's words; a multipath route's paths keep their weights. */
export function routeFields(r: Route): RouteFields {
  const f: RouteFields = { prefix: formatPrefix(r) };
  if (r.paths) {
    f.nexthops = r.paths.map((p) => {
      const o: PathFields = {};
      if (p.via !== undefined) o.via = formatIPv4(p.via);
      if (p.port !== undefined) o.port = p.port;
      o.weight = p.weight;
      return o;
    });
    return f;
  }
  if (r.via !== undefined) f.via = formatIPv4(r.via);
  if (r.port !== undefined) f.port = r.port;
  if (r.blackhole) f.blackhole = true;
  return f;
}

/** The paths in one order (interface, then gateway, then weight): the same set whatever order they were given in. */
function sortedPaths(paths: readonly RoutePath[]): RoutePath[] {
  return [...paths].sort(
    (a, b) => ((a.port ?? '') < (b.port ?? '') ? -1 : (a.port ?? '') > (b.port ?? '') ? 1 : 0) || (a.via ?? -1) - (b.via ?? -1) || a.weight - b.weight,
  );
}

/**
 * A route in iproute2's words, the prefix first (`10.20.0.0/16 via 10.2.0.2 port east`,
 * `blackhole 10.99.0.0/16`, `10.50.0.0/16 nexthop via 10.1.0.3 port west weight 3 nexthop …`),
 * a multipath route's paths in one order. Without `blackhole` first it is what parseRouteWords reads.
 */
export function routeWords(r: Route): string {
  const prefix = formatPrefix(r);
  if (r.blackhole) return `blackhole ${prefix}`;
  if (r.paths) {
    return `${prefix}${sortedPaths(r.paths)
      .map((p) => ` nexthop${p.via !== undefined ? ` via ${formatIPv4(p.via)}` : ''}${p.port !== undefined ? ` port ${p.port}` : ''} weight ${p.weight}`)
      .join('')}`;
  }
  return `${prefix}${r.via !== undefined ? ` via ${formatIPv4(r.via)}` : ''}${r.port !== undefined ? ` port ${r.port}` : ''}${r.portId !== undefined ? ` port id ${r.portId}` : ''}`;
}

/** The same route (prefix and next hops, a multipath route's paths in any order); origin and protocol aside. */
export function sameRoute(a: Route, b: Route): boolean {
  return routeWords(a) === routeWords(b);
}
