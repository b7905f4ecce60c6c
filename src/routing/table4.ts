/**
 * The IPv4 route table (./table.ts's RouteTable over uint32 addresses): one Map per prefix length
 * keyed by the address as an int32 (`addr | 0`), so keys are small integers V8 stores inline
 * rather than boxed doubles; value = next hop + origin·2^24. No object per route: a million
 * routes fit in tens of MiB of Node heap.
 */
import { maskOf } from '../net/ipv4';
import type { RouteTable } from './table';

export class Ipv4RouteTable implements RouteTable<number> {
  readonly family = 4 as const;
  private readonly byLen: Map<number, number>[] = Array.from({ length: 33 }, () => new Map());
  size = 0;
  version = 0;
  get(addr: number, len: number): number | undefined {
    return this.byLen[len].get(addr | 0);
  }
  has(addr: number, len: number): boolean {
    return this.byLen[len].has(addr | 0);
  }
  set(addr: number, len: number, v: number): void {
    const m = this.byLen[len];
    const before = m.size;
    m.set(addr | 0, v);
    this.size += m.size - before;
    this.version++;
  }
  delete(addr: number, len: number): void {
    if (this.byLen[len].delete(addr | 0)) {
      this.size--;
      this.version++;
    }
  }
  lookup(addr: number): { addr: number; len: number; v: number } | undefined {
    for (let len = 32; len >= 0; len--) {
      const net = len === 0 ? 0 : (addr & maskOf(len)) >>> 0;
      const v = this.byLen[len].get(net | 0);
      if (v !== undefined) return { addr: net, len, v };
    }
    return undefined;
  }
  *entries(): IterableIterator<[number, number, number]> {
    for (let len = 0; len <= 32; len++) for (const [k, v] of this.byLen[len]) yield [k >>> 0, len, v];
  }
}
