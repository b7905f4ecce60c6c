/**
 * CPU lists (eal.lcores, taskset, Cpus_allowed_list) and the CPUs this process may run on (its affinity mask, which a cgroup cpuset, `taskset`,
 * systemd's CPUAffinity= or the kubelet's CPU manager narrow): what `eal.lcores: auto` takes, and
 * what `dpfwd doctor` checks configured lcores against.
 */
import * as fs from 'fs';

/** DPDK's RTE_MAX_LCORE as Debian 12 builds DPDK 22.11. */
export const MAX_LCORE = 128;

/** eal.lcores when the config does not set it: main lcore 0, one worker on 1. */
export const DEFAULT_LCORES = '0-1';

/** Parses an lcore list ("0-3", "0,2,4", "1", "0,2-3"): the lcores in written order, or a problem. */
export function parseLcoreList(s: string): number[] | string {
  const items = s.split(',');
  const out: number[] = [];
  const seen = new Set<number>();
  for (const raw of items) {
    const it = raw.trim();
    const m = /^(\d+)(?:-(\d+))?$/.exec(it);
    if (!m) return `${JSON.stringify(s)} is not an lcore list (use forms like "0-3", "0,2,4" or "1")`;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) return `range ${it} runs backwards; write ${b}-${a}`;
    if (b >= MAX_LCORE) return `lcore ${b} is above ${MAX_LCORE - 1}, the highest lcore this DPDK build supports (RTE_MAX_LCORE=${MAX_LCORE})`;
    for (let i = a; i <= b; i++) {
      if (seen.has(i)) return `lcore ${i} is listed twice`;
      seen.add(i);
      out.push(i);
    }
  }
  return out;
}

/** CPUs from a /proc/<pid>/status text (its Cpus_allowed_list line), or null when it has none. */
export function cpusAllowed(status: string): number[] | null {
  const m = /^Cpus_allowed_list:\s*(\S+)\s*$/m.exec(status);
  if (!m) return null;
  const l = parseLcoreList(m[1]);
  if (typeof l === 'string') return null;
  return l.sort((a, b) => a - b);
}

/** This process's CPUs (read from /proc/self/status), or null when the kernel does not say. */
export function allowedCpus(): number[] | null {
  try {
    return cpusAllowed(fs.readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return null;
  }
}

/** [0,1,2,3,5] → "0-3,5" (the form eal.lcores and taskset use). */
export function cpuListString(cpus: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < cpus.length;) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j] + 1) j++;
    out.push(j === i ? String(cpus[i]) : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** Configured lcores outside the allowed CPUs: the problem in one sentence, or null. */
export function lcoresOutside(lcores: number[], allowed: number[]): string | null {
  const bad = lcores.filter((l) => !allowed.includes(l));
  if (!bad.length) return null;
  return `lcore${bad.length === 1 ? '' : 's'} ${cpuListString(bad)} ${bad.length === 1 ? 'is' : 'are'} outside the CPUs this process may run on (${cpuListString(allowed)}): DPDK cannot pin ${bad.length === 1 ? 'its thread' : 'their threads'} there`;
}
