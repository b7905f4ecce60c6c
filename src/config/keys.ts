/**
 * Which settings can change while the forwarder runs and which need a restart. A reload
 * applies the live ones as a diff (Snabb-style) and refuses, naming the keys, when a restart
 * key changed.
 */
import type { Config, TopLevelKey } from './types';

export type ChangeMode = 'live' | 'restart';

/**
 * Per top-level key. `ports` is restart except `ports[].address`, which is live
 * (`dpfwd address add/del`); see PORT_LIVE_KEYS.
 */
export const KEY_CHANGE: Readonly<Record<TopLevelKey, ChangeMode>> = {
  eal: 'restart',
  ports: 'restart',
  workers: 'restart',
  fib: 'restart',
  routes: 'live',
  neighbors: 'live',
  metrics: 'restart',
  control: 'restart',
  punt: 'restart',
  icmp: 'live',
  arp: 'live',
  mempool: 'restart',
};

/** Keys inside a port that change live. */
export const PORT_LIVE_KEYS: readonly string[] = ['address'];

export const LIVE_KEYS: readonly string[] = ['routes', 'neighbors', 'ports[].address', 'icmp', 'arp'];
export const RESTART_KEYS: readonly string[] = (Object.keys(KEY_CHANGE) as TopLevelKey[]).filter((k) => KEY_CHANGE[k] === 'restart');

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Compares two resolved configs. `live`: keys whose change can be applied while running;
 * `restart`: keys that changed and need a restart (empty means a reload can proceed).
 */
export function diffConfig(oldC: Config, newC: Config): { live: string[]; restart: string[] } {
  const live: string[] = [];
  const restart: string[] = [];
  for (const k of Object.keys(KEY_CHANGE) as TopLevelKey[]) {
    if (k === 'ports') {
      const strip = (c: Config) => c.ports.map(({ addresses: _a, ...rest }) => rest);
      if (!same(strip(oldC), strip(newC))) restart.push('ports');
      if (!same(oldC.ports.map((p) => p.addresses), newC.ports.map((p) => p.addresses))) live.push('ports[].address');
      continue;
    }
    if (k === 'workers') {
      if (!same(oldC.workers, newC.workers)) restart.push('workers');
      continue;
    }
    if (!same(oldC[k], newC[k])) (KEY_CHANGE[k] === 'live' ? live : restart).push(k);
  }
  return { live, restart };
}
