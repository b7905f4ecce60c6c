import * as fs from 'fs';

/** Summaries of repeated trials: median and spread. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function summarize(xs: number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const median = n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { median, min: s[0] ?? NaN, max: s[n - 1] ?? NaN, runs: xs };
}

export const round = (x: number, d = 2) => (Number.isFinite(x) ? +x.toFixed(d) : x);

/** Context switches of dpfwd's worker thread (rte-worker-N): anything that took its core from it. */
export function workerSwitches(pid: number): { voluntary: number; involuntary: number } {
  let voluntary = 0;
  let involuntary = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').startsWith('rte-worker')) continue;
      const st = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      voluntary += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0);
      involuntary += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0);
    } catch {
      /* thread gone */
    }
  }
  return { voluntary, involuntary };
}

/** Mean and a 95% confidence interval (Student's t) of a sample. */
export function meanCI(xs: number[]): { mean: number; halfWidth: number; n: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, halfWidth: Infinity, n };
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  // two-sided 95% t quantiles for n-1 degrees of freedom (beyond 30: the normal's 1.96 plus a little)
  const T = [
    12.71, 4.3, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23, 2.2, 2.18, 2.16, 2.14, 2.13, 2.12, 2.11, 2.1, 2.09, 2.09, 2.08, 2.07, 2.07, 2.06, 2.06, 2.06,
    2.05, 2.05, 2.05, 2.04,
  ];
  const t = n - 1 <= T.length ? T[n - 2] : 2.0;
  return { mean, halfWidth: (t * sd) / Math.sqrt(n), n };
}
