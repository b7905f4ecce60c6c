/**
 * The semantic rules for routes, neighbours and next hops, one function per rule, used by the
 * config (src/config/validate.ts, which adds the path) and by the runtime API
 * (src/api/actions.ts: route add/load, neighbor add) and the RIB (src/routing/rib.ts, for
 * reload and the route sync), so all refuse the same things with the
 * same words. Each returns the problem as a message without a path, or null.
 */
import { formatIPv4, formatPrefix, maskOf, networkOf, prefixContains, unicastProblem } from '../net/ipv4';

/** An interface address of the router: its port, address and connected subnet length. */
export interface Connected {
  port: string;
  addr: number;
  len: number;
}

/** The connected subnet as written ("10.1.0.1/24"). */
function text(c: Connected): string {
  return `${formatIPv4(c.addr)}/${c.len}`;
}

/** `a` is one of the router's own addresses. */
export function ownAddressProblem(conn: readonly Connected[], a: number): string | null {
  const own = conn.find((x) => x.addr === a);
  return own ? `${formatIPv4(a)} is this router's own address on port ${own.port}` : null;
}

/** `a` is the network or broadcast address of a connected subnet (up to /30; /31 and /32 have none). */
export function subnetEdgeProblem(conn: readonly Connected[], a: number): string | null {
  for (const c of conn) {
    if (c.len > 30 || !prefixContains(c, a)) continue;
    const net = networkOf(c.addr, c.len);
    const bcast = (net | ~maskOf(c.len)) >>> 0;
    if (a === net) return `${formatIPv4(a)} is the network address of port ${c.port}'s subnet ${formatIPv4(net)}/${c.len}, not a host`;
    if (a === bcast) return `${formatIPv4(a)} is the broadcast address of port ${c.port}'s subnet ${formatIPv4(net)}/${c.len}, not a host`;
  }
  return null;
}

/**
 * A next hop (`via`) or a neighbour's address: a unicast host address (not 0.0.0.0/8, loopback,
 * multicast, reserved or broadcast), not the router's own, not a connected subnet's network or
 * broadcast address.
 */
export function hostAddressProblem(conn: readonly Connected[], a: number): string | null {
  const u = unicastProblem(a);
  if (u) return `${u}, not a unicast host address`;
  return ownAddressProblem(conn, a) ?? subnetEdgeProblem(conn, a);
}

/**
 * A route's destination: not inside multicast 224.0.0.0/4, reserved 240.0.0.0/4 (with the
 * limited broadcast address), loopback 127.0.0.0/8 or "this network" 0.0.0.0/8. Shorter
 * prefixes that only cover them (0.0.0.0/0, 192.0.0.0/2) are fine.
 */
export function routePrefixProblem(p: { addr: number; len: number }): string | null {
  const a = p.addr >>> 0;
  const top = a >>> 24;
  if (top !== 0 && top !== 127 && top < 224) return null; // the common case, without formatting
  const s = formatPrefix(p);
  if (a >= 0xe0000000 && p.len >= 3) {
    if (a < 0xf0000000 && p.len >= 4) return `${s} is multicast (224.0.0.0/4); dpfwd routes unicast destinations only`;
    if (a >= 0xf0000000 && p.len >= 4) return `${s} is in the reserved range 240.0.0.0/4; dpfwd routes unicast destinations only`;
    return `${s} covers only multicast and reserved addresses (224.0.0.0/3); dpfwd routes unicast destinations only`;
  }
  if (a >>> 24 === 127 && p.len >= 8) return `${s} is loopback (127.0.0.0/8), never routed`;
  if (a >>> 24 === 0 && p.len >= 8) return `${s} is in 0.0.0.0/8 ("this network"), never routed`;
  return null;
}

/** A route whose prefix is a connected subnet or one of the router's own /32s: routed already. */
export function connectedPrefixProblem(conn: readonly Connected[], p: { addr: number; len: number }): string | null {
  const same = conn.find((x) => x.len === p.len && prefixContains(p, x.addr));
  if (same) return `${formatPrefix(p)} is the connected subnet of port ${same.port} (${text(same)}); it is routed there already`;
  if (p.len === 32) {
    const own = conn.find((x) => x.addr === p.addr);
    if (own) return `${formatPrefix(p)} is this router's own address on port ${own.port}`;
  }
  return null;
}

/**
 * A gateway given with a port (`via 10.2.0.2 dev west`) that lies in another port's connected
 * subnet and in none of the given port's: it would never resolve there (ARP asks on the wrong
 * link). A gateway in no connected subnet at all is left to the caller (it may be reached on-link).
 */
export function gatewayPortProblem(conn: readonly Connected[], via: number, port: string): string | null {
  const on = conn.filter((c) => prefixContains(c, via));
  if (!on.length || on.some((c) => c.port === port)) return null;
  const mine = conn.filter((c) => c.port === port);
  const other = on[0];
  return (
    `gateway ${formatIPv4(via)} is in port ${other.port}'s subnet ${formatIPv4(networkOf(other.addr, other.len))}/${other.len}, not in port ${port}'s ` +
    `(${mine.length ? mine.map(text).join(', ') : 'it has no address'}): use port ${other.port} (dev ${other.port}), or a gateway on ${port}'s link`
  );
}

/** `blackhole` together with `via` or `port`. */
export function blackholeProblem(blackhole: boolean, hasVia: boolean, hasPort: boolean): string | null {
  return blackhole && (hasVia || hasPort) ? 'a blackhole route takes no via or port' : null;
}

/**
 * A prefix that holds a route of `origin` (connected, local, neighbour) that a static or synced
 * route may not replace: it goes with its address or neighbour. The RIB refuses it; route.load
 * asks first, to name every line at once.
 */
export function originProblem(p: { addr: number; len: number }, origin: string | undefined): string | null {
  if (origin === undefined || origin === 'static' || origin === 'linux') return null;
  return `${formatPrefix(p)} is a ${origin} route (from an interface address or neighbour); remove that first`;
}

/** A gateway given without a port that no connected subnet holds (`connectedPort` < 0). */
export function gatewaySubnetProblem(via: number, connectedPort: number): string | null {
  if (connectedPort >= 0) return null;
  return `gateway ${formatIPv4(via)} is not in any port's connected subnet; name the port (… via ${formatIPv4(via)} port <name>) or add an address on that link`;
}

/** Why a route of the kernel table is not installed by the route sync (`dpfwd sync show` counts each). */
export const SYNC_REFUSALS = ['destination', 'gateway'] as const;
export type SyncRefusal = (typeof SYNC_REFUSALS)[number];

/**
 * A route synced from the kernel table (src/routing/sync.ts) meets the rules `route add` enforces:
 * its destination (routePrefixProblem: `destination`) and each gateway (hostAddressProblem:
 * `gateway`; 0 is none). The reason and the message, or null.
 */
export function syncedRouteProblem(
  conn: readonly Connected[],
  p: { addr: number; len: number },
  gateways: readonly number[],
): { reason: SyncRefusal; message: string } | null {
  const d = routePrefixProblem(p);
  if (d) return { reason: 'destination', message: d };
  for (let i = 0; i < gateways.length; i++) {
    if (gateways[i] === 0) continue;
    const g = hostAddressProblem(conn, gateways[i]);
    if (g) return { reason: 'gateway', message: gateways.length > 1 ? `nexthop ${i + 1}: ${g}` : g };
  }
  return null;
}
