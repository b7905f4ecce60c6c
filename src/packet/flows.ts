/** Deterministic UDP flow sets for benchmarks and replay tests. */
import { DpfwdError } from '../errors';
import { EthernetOptions } from './ethernet';
import { formatIPv4, parseIPv4 } from '../net/ipv4';
import { buildUdp4 } from './udp';

/** mulberry32: a small seeded PRNG returning uint32s; the same seed gives the same sequence. */
export function makePrng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

export interface UdpFlowOptions {
  count: number;
  srcMac: string;
  dstMac: string;
  /** Flow i has source srcBase + i. */
  srcBase: string;
  /** Sequential: flow i has destination dstBase + i. Random: dstBase + a PRNG draw in [0, dstSpan). */
  dstBase: string;
  /** Frame size on the wire including the 4-byte FCS (default 64 → 60-byte buffers). */
  frameSize?: number;
  dstSpread?: 'sequential' | 'random';
  /** Range of random destinations (default 65536, a /16 from dstBase). */
  dstSpan?: number;
  /** PRNG seed (default 1). */
  seed?: number;
  /** Default 1024 / 1024 for every flow. */
  sport?: number;
  dport?: number;
  ttl?: number;
  vlan?: EthernetOptions['vlan'];
}

/**
 * One frame per flow, flow i: src = srcBase + i, dst per `dstSpread`, IP id = i mod 65536,
 * UDP ports fixed, zero payload, size = frameSize − 4. Same options → same bytes.
 */
export function makeUdpFlows(opts: UdpFlowOptions): Buffer[] {
  const frameSize = opts.frameSize ?? 64;
  if (!Number.isInteger(opts.count) || opts.count < 1) throw new DpfwdError('EINVAL', `flow count ${opts.count} must be a positive integer`);
  if (!Number.isInteger(frameSize) || frameSize < 64) throw new DpfwdError('EINVAL', `frame size ${frameSize} (with FCS) must be at least 64`);
  const spread = opts.dstSpread ?? 'sequential';
  if (spread !== 'sequential' && spread !== 'random') throw new DpfwdError('EINVAL', `dstSpread '${String(spread)}' is not 'sequential' or 'random'`);
  const span = opts.dstSpan ?? 65536;
  if (!Number.isInteger(span) || span < 1) throw new DpfwdError('EINVAL', `dstSpan ${span} must be a positive integer`);
  const src0 = parseIPv4(opts.srcBase);
  const dst0 = parseIPv4(opts.dstBase);
  const rand = makePrng(opts.seed ?? 1);
  const out: Buffer[] = [];
  for (let i = 0; i < opts.count; i++) {
    const d = spread === 'sequential' ? i : rand() % span;
    out.push(
      buildUdp4({
        srcMac: opts.srcMac,
        dstMac: opts.dstMac,
        vlan: opts.vlan,
        src: formatIPv4(src0 + i),
        dst: formatIPv4(dst0 + d),
        sport: opts.sport ?? 1024,
        dport: opts.dport ?? 1024,
        ttl: opts.ttl ?? 64,
        id: i & 0xffff,
        size: frameSize - 4,
      }),
    );
  }
  return out;
}
