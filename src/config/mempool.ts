/** Mempool sizing: how many mbufs a config needs (l3fwd's formula). */
import type { Config } from './types';

/** l3fwd's per-worker RX burst, counted in the mempool size. */
export const BURST_SIZE = 32;
export const MEMPOOL_FLOOR = 8192;

/**
 * Number of mbufs for the one packet pool: mempool.mbufs when set, else l3fwd's formula
 * Σports(rxQueues·rxDescriptors) + Σports(workers·txDescriptors) + workers·32 + workers·cacheSize,
 * at least 8192, rounded up to 2^n − 1 (the size rte_mempool handles best).
 */
export function mempoolSize(config: Pick<Config, 'ports' | 'workers' | 'mempool'>): number {
  if (config.mempool.mbufs > 0) return config.mempool.mbufs;
  const w = config.workers.length;
  let n = 0;
  for (const p of config.ports) n += p.rxQueues * p.rxDescriptors + w * p.txDescriptors;
  n += w * BURST_SIZE + w * config.mempool.cacheSize;
  n = Math.max(n, MEMPOOL_FLOOR);
  let r = 1;
  while (r - 1 < n) r *= 2;
  return r - 1;
}
