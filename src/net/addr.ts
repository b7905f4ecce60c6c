/**
 * The address-family seam: an address and a prefix tagged with their family, for the layers that
 * hold either (next hops, interfaces' addresses, views, the socket). A family's own code (the
 * IPv4 route table, ARP; IPv6's later) takes the untagged value out once and works on it: IPv4
 * as a uint32 number, so the 1M-route paths keep their numeric keys; IPv6 as 16 bytes.
 */
import { fail, formatIPv4, formatPrefix, parsePrefix, scanIPv4, show } from './ipv4';
import { formatIpv6, formatIpv6Prefix, parseIpv6, parseIpv6Prefix } from './ipv6';

export type Family = 4 | 6;

export type Addr = { readonly family: 4; readonly v: number } | { readonly family: 6; readonly b: Uint8Array };
export type Addr4 = Extract<Addr, { family: 4 }>;
export type Addr6 = Extract<Addr, { family: 6 }>;

/** A network prefix of either family: `addr` has no host bits set. */
export type Prefix =
  { readonly family: 4; readonly addr: number; readonly len: number } | { readonly family: 6; readonly addr: Uint8Array; readonly len: number };

/** Longest prefix length per family. */
export const MAX_LEN: Record<Family, number> = { 4: 32, 6: 128 };

export function addr4(v: number): Addr4 {
  return { family: 4, v: v >>> 0 };
}

export function addr6(b: Uint8Array): Addr6 {
  if (b.length !== 16) throw new RangeError(`an IPv6 address is 16 bytes, not ${b.length}`);
  return { family: 6, b };
}

/** The family a text address is written in ('.' and no ':' is IPv4), undefined for neither. */
export function familyOf(s: string): Family | undefined {
  if (s.includes(':')) return 6;
  if (s.includes('.')) return 4;
  return undefined;
}

/** Parses an address of either family; undefined when it is neither. */
export function parseAddr(s: string): Addr | undefined {
  if (familyOf(s) === 6) {
    const b = parseIpv6(s);
    return b ? { family: 6, b } : undefined;
  }
  const v = scanIPv4(s, 0, s.length);
  return v < 0 ? undefined : { family: 4, v };
}

/** Parses an address of either family; throws EINVAL naming the text otherwise. */
export function requireAddr(s: string): Addr {
  return parseAddr(s) ?? fail(`${show(s)} is not an IPv4 or IPv6 address`);
}

export function formatAddr(a: Addr): string {
  return a.family === 4 ? formatIPv4(a.v) : formatIpv6(a.b);
}

/** Parses a network prefix of either family (host bits set is an error, as each family's parser says). */
export function parsePrefixAny(s: string): Prefix {
  if (familyOf(s) === 6) {
    const p = parseIpv6Prefix(s);
    return { family: 6, addr: p.addr, len: p.len };
  }
  const { addr, len } = parsePrefix(s);
  return { family: 4, addr, len };
}

export function formatPrefixAny(p: Prefix): string {
  return p.family === 4 ? formatPrefix(p) : formatIpv6Prefix(p);
}

export function addrEqual(a: Addr, b: Addr): boolean {
  if (a.family === 4) return b.family === 4 && a.v === b.v;
  if (b.family !== 6) return false;
  for (let i = 0; i < 16; i++) if (a.b[i] !== b.b[i]) return false;
  return true;
}
