/**
 * The per-family route table behind the RIB: one number per route (next hop + origin·2^24, see
 * rib.ts) keyed by prefix. The RIB's family-neutral parts (next hops, ECMP groups, interfaces,
 * addresses) hold one table per family; IPv4's is ./table4.ts (numeric keys, for 1M-route
 * loads), IPv6's will be its sibling with the same shape over 16-byte addresses.
 */
import type { Family } from '../net/addr';

export interface RouteTable<A> {
  readonly family: Family;
  /** routes in the table */
  readonly size: number;
  /** bumped by every change (sorted views are rebuilt after one) */
  readonly version: number;
  get(addr: A, len: number): number | undefined;
  has(addr: A, len: number): boolean;
  set(addr: A, len: number, v: number): void;
  delete(addr: A, len: number): void;
  /** the longest prefix holding addr: its network, length and value */
  lookup(addr: A): { addr: A; len: number; v: number } | undefined;
  /** every route as [network, length, value], shortest prefixes first */
  entries(): IterableIterator<[A, number, number]>;
}
