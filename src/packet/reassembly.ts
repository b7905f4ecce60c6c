/**
 * Reassembly of datagrams addressed to the router, for either family: the fragments of one
 * datagram (one key) are held until they cover it, then joined. What Linux does
 * (net/ipv4/inet_fragment.c, ip_fragment.c), with its bounds:
 *   - a fragment that overlaps one already held (other than an exact duplicate, which is
 *     dropped alone) drops the whole datagram (RFC 5722 for IPv6; Linux does the same for IPv4);
 *   - a datagram is held at most `timeoutMs` (Linux's ipfrag_time, 30 s); when it expires and its
 *     first fragment was seen, `onTimeout` is told (ICMP time exceeded, fragment reassembly);
 *   - fragments held across all datagrams are bounded in bytes (Linux's ipfrag_high_thresh,
 *     4 MiB) and in datagrams: past either, new fragments are dropped, so a flood of fragments
 *     that never complete costs a bounded amount of memory and nothing else.
 * The family's code (ipv4-reassembly.ts) reads the header and builds the whole datagram.
 */

export interface ReassemblyLimits {
  /** bytes of fragments held across all datagrams */
  maxBytes: number;
  /** datagrams being reassembled at once */
  maxDatagrams: number;
  /** how long a datagram may take to complete */
  timeoutMs: number;
  /** largest payload a datagram may reach (IPv4: 65535 - the header) */
  maxPayload: number;
}

export const REASSEMBLY_DEFAULTS: ReassemblyLimits = { maxBytes: 4 * 1048576, maxDatagrams: 1024, timeoutMs: 30000, maxPayload: 65515 };

/** Why a fragment or a datagram was dropped; `ok` counts datagrams completed. */
export const REASSEMBLY_RESULTS = ['ok', 'timeout', 'overlap', 'too_big', 'no_room', 'duplicate', 'invalid'] as const;
export type ReassemblyResult = (typeof REASSEMBLY_RESULTS)[number];

export function newReassemblyCounts(): Record<ReassemblyResult, number> {
  return Object.fromEntries(REASSEMBLY_RESULTS.map((r) => [r, 0])) as Record<ReassemblyResult, number>;
}

interface Piece {
  offset: number;
  data: Buffer;
}

interface Datagram<H> {
  pieces: Piece[];
  /** payload bytes held */
  bytes: number;
  /** the payload's length, once the last fragment (more = false) was seen */
  total: number;
  /** what the family kept of the first fragment (offset 0): its headers */
  first?: H;
  timer: NodeJS.Timeout;
}

export class Reassembler<H> {
  private readonly held = new Map<string, Datagram<H>>();
  private bytes = 0;

  constructor(
    private readonly limits: ReassemblyLimits,
    /** a datagram expired; `first` is set when its first fragment had come */
    private readonly onTimeout: (first: H | undefined) => void = () => undefined,
    /** datagrams completed (ok) and drops by reason; the owner's counters when given */
    readonly counts: Record<ReassemblyResult, number> = newReassemblyCounts(),
  ) {}

  /** Datagrams and bytes held now. */
  get size(): { datagrams: number; bytes: number } {
    return { datagrams: this.held.size, bytes: this.bytes };
  }

  /**
   * One fragment: payload `data` at byte `offset` of the datagram's payload, `more` as its MF
   * flag, `first` the headers kept when offset is 0. The whole payload and the first fragment's
   * headers when this one completes the datagram, else undefined.
   */
  add(key: string, offset: number, more: boolean, data: Buffer, first?: H): { payload: Buffer; first: H } | undefined {
    // a fragment other than the last carries a multiple of 8 bytes: Linux trims the rest
    if (more) data = data.subarray(0, data.length & ~7);
    const end = offset + data.length;
    let d = this.held.get(key);
    if (end > this.limits.maxPayload || data.length === 0) {
      this.count(data.length === 0 ? 'invalid' : 'too_big');
      if (d) this.forget(key, d);
      return undefined;
    }
    if (!d) {
      if (this.held.size >= this.limits.maxDatagrams || this.bytes + data.length > this.limits.maxBytes) {
        this.count('no_room');
        return undefined;
      }
      const timer = setTimeout(() => this.expire(key), this.limits.timeoutMs);
      timer.unref();
      d = { pieces: [], bytes: 0, total: -1, timer };
      this.held.set(key, d);
    } else if (this.bytes + data.length > this.limits.maxBytes) {
      this.count('no_room');
      return undefined;
    }
    // the last fragment fixes the length: another last one, or data past it, is an overlap
    if (!more) {
      if ((d.total >= 0 && d.total !== end) || d.pieces.some((p) => p.offset + p.data.length > end)) return this.overlap(key, d);
      d.total = end;
    } else if (d.total >= 0 && end > d.total) {
      return this.overlap(key, d);
    }
    for (const p of d.pieces) {
      const pEnd = p.offset + p.data.length;
      if (p.offset === offset && pEnd === end) {
        this.count('duplicate');
        return undefined;
      }
      if (offset < pEnd && p.offset < end) return this.overlap(key, d);
    }
    d.pieces.push({ offset, data: Buffer.from(data) });
    d.bytes += data.length;
    this.bytes += data.length;
    if (offset === 0 && first !== undefined) d.first = first;
    if (d.total < 0 || d.bytes !== d.total || d.first === undefined) return undefined;
    // no overlaps and the bytes add up to the length: the pieces cover it exactly
    const payload = Buffer.allocUnsafe(d.total);
    for (const p of d.pieces) p.data.copy(payload, p.offset);
    const head = d.first;
    this.forget(key, d);
    this.count('ok');
    return { payload, first: head };
  }

  /** Drops everything held (the forwarder stops). */
  clear(): void {
    for (const [k, d] of this.held) this.forget(k, d);
  }

  private overlap(key: string, d: Datagram<H>): undefined {
    this.count('overlap');
    this.forget(key, d);
    return undefined;
  }

  private expire(key: string): void {
    const d = this.held.get(key);
    if (!d) return;
    this.forget(key, d);
    this.count('timeout');
    this.onTimeout(d.first);
  }

  private forget(key: string, d: Datagram<H>): void {
    clearTimeout(d.timer);
    this.bytes -= d.bytes;
    this.held.delete(key);
  }

  private count(r: ReassemblyResult): void {
    this.counts[r]++;
  }
}
