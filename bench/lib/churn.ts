/**
 * Route churn: 10,000 route updates per second on prefixes outside the traffic while dpfwd
 * forwards; the rate change, and packets lost (drops) or misforwarded (out of the port the
 * churned routes point to) — both must be 0.
 */
import * as net from 'net';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { runDpfwd, sixteenRoutes, DpfwdRunning } from './dpfwd';
import { measure, TrialResult, Window, writeFlows } from './forwarding';
import { sleep, nowSec } from './proc';
import { summarize, Summary, round, meanCI, workerSwitches } from './stats';

/** One persistent control connection with pipelined requests (the server answers in order). */
class Pipe {
  private s: net.Socket;
  private buf = '';
  private waiting: ((ok: boolean) => void)[] = [];
  ok = 0;
  errors = 0;
  firstError = '';
  constructor(socket: string) {
    this.s = net.connect(socket);
    this.s.setEncoding('utf8');
    this.s.on('data', (d: string) => {
      this.buf += d;
      let nl;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        const r = JSON.parse(line);
        if (r.ok) this.ok++;
        else {
          this.errors++;
          if (!this.firstError) this.firstError = r.error?.message ?? 'error';
        }
        this.waiting.shift()?.(r.ok);
      }
    });
  }
  get inflight() {
    return this.waiting.length;
  }
  send(op: string, args: Record<string, unknown>): Promise<boolean> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.s.write(JSON.stringify({ id: 0, op, args }) + '\n');
    });
  }
  close() {
    this.s.end();
  }
}

/** Prefixes no flow touches: /24s in 172.16.0.0/12 and /25s inside 198.18.200–255 (these take and give back tbl8 groups). */
function churnPrefixes(): string[] {
  const out: string[] = [];
  for (let i = 0; i < 2000; i++) out.push(`172.${16 + (i >> 8)}.${i & 255}.0/24`);
  for (let i = 200; i < 256; i++) out.push(`198.18.${i}.128/25`);
  return out;
}

export interface ChurnResult {
  targetRate: number;
  durationMs: number;
  achievedRate: number;
  updates: number;
  errors: number;
  firstError?: string;
  baselineMpps: Summary;
  churnMpps: Summary;
  changePercent: number;
  /** per round: churn window vs the baseline window just before it */
  pairChangePercent: number[];
  meanChangePercent: number;
  ci95Percent: [number, number];
  workerInvoluntarySwitches: { withChurn: number; without: number };
  dropped: number;
  rxMinusForwarded: number;
  misforwarded: number;
  notes: string[];
}

async function portTx(r: DpfwdRunning, i: number): Promise<number> {
  return (await r.fwd.call('show.ports'))[i].stats64.tx.packets;
}

export async function routeChurn(tmp: string, reps: number, w: Window, log: (m: string) => void, rate = 10000): Promise<ChurnResult> {
  const pcap = path.join(tmp, 'flows-1024.pcap');
  writeFlows(pcap, 1024);
  const r = await runDpfwd({
    rxPcap: pcap,
    dir: path.join(tmp, 'dpfwd-churn'),
    routes: sixteenRoutes(),
    extra: {
      ports: [
        { name: 'west', device: `net_pcap0,rx_pcap=${pcap},infinite_rx=1`, address: '10.1.0.1/24' },
        { name: 'east', device: 'net_null0,no-rx=1', address: '10.9.0.1/24' },
        { name: 'south', device: 'net_null1,no-rx=1', address: '10.3.0.1/24' },
      ],
      workers: [
        {
          lcore: 1,
          rx: [
            { port: 'west', queue: 0 },
            { port: 'east', queue: 0 },
            { port: 'south', queue: 0 },
          ],
        },
      ],
      neighbors: [
        { address: '10.9.0.2', mac: '02:00:00:00:09:02', port: 'east' },
        { address: '10.3.0.2', mac: '02:00:00:00:03:02', port: 'south' },
      ],
    },
  });
  // the churn client shares lcore 0 with dpfwd's main thread, never the worker's core
  const pin = (cpus: string) => spawnSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
  pin('0');
  try {
    const base: TrialResult[] = [];
    const churn: TrialResult[] = [];
    let updates = 0;
    let errors = 0;
    let firstError = '';
    let churnSecs = 0;
    let dropped = 0;
    let rxMinusFwd = 0;
    let mis = 0;
    const prefixes = churnPrefixes();
    const pid = r.fwd.proc.pid!;
    const switches = { withChurn: 0, without: 0 };
    for (let i = 0; i < reps; i++) {
      const s0 = workerSwitches(pid);
      base.push(await measure(r, { warmupMs: i === 0 ? w.warmupMs : 200, durationMs: w.durationMs }));
      const s1 = workerSwitches(pid);
      switches.without += s1.involuntary - s0.involuntary;
      const pipe = new Pipe(r.fwd.socket);
      let stop = false;
      const southBefore = await portTx(r, 2);
      const before = await r.sample();
      const t0 = nowSec();
      let sent = 0;
      let k = 0;
      let added = new Set<string>();
      const loop = (async () => {
        // paced: by time t, rate·t requests sent; at most 2000 in flight
        while (!stop) {
          const due = Math.floor((nowSec() - t0) * rate);
          while (sent < due && pipe.inflight < 2000) {
            const p = prefixes[k++ % prefixes.length];
            if (added.has(p)) {
              added.delete(p);
              void pipe.send('route.del', { prefix: p });
            } else {
              added.add(p);
              void pipe.send('route.add', { prefix: p, via: '10.3.0.2' });
            }
            sent++;
          }
          await sleep(2);
        }
      })();
      const s2 = workerSwitches(pid);
      const t = await measure(r, { warmupMs: 300, durationMs: w.durationMs });
      switches.withChurn += workerSwitches(pid).involuntary - s2.involuntary;
      stop = true;
      await loop;
      const deadline = Date.now() + 30000;
      while (pipe.inflight > 0 && Date.now() < deadline) await sleep(10);
      const secs = nowSec() - t0;
      const after = await r.sample();
      const southAfter = await portTx(r, 2);
      // put the table back: delete what is still added
      for (const p of added) await pipe.send('route.del', { prefix: p });
      added = new Set();
      pipe.close();
      churn.push(t);
      updates += pipe.ok + pipe.errors;
      errors += pipe.errors;
      if (!firstError) firstError = pipe.firstError;
      churnSecs += secs;
      dropped += (after.drops ?? 0) - (before.drops ?? 0);
      rxMinusFwd += (after.rx ?? 0) - (before.rx ?? 0) - (after.tx - before.tx);
      mis += southAfter - southBefore;
      log(
        `churn round ${i + 1}/${reps}: baseline ${base[i].mpps} Mpps, churn ${t.mpps} Mpps, ${sent} updates in ${secs.toFixed(1)} s (${pipe.errors} errors), drops ${(after.drops ?? 0) - (before.drops ?? 0)}, south tx ${southAfter - southBefore}`,
      );
    }
    const b = summarize(base.map((x) => x.mpps));
    const c = summarize(churn.map((x) => x.mpps));
    const pairs = churn.map((x, i) => round((100 * (x.mpps - base[i].mpps)) / base[i].mpps, 2));
    const ci = meanCI(pairs);
    return {
      targetRate: rate,
      durationMs: w.durationMs,
      achievedRate: Math.round(updates / churnSecs),
      updates,
      errors,
      ...(firstError ? { firstError } : {}),
      baselineMpps: b,
      churnMpps: c,
      changePercent: round((100 * (c.median - b.median)) / b.median, 2),
      pairChangePercent: pairs,
      meanChangePercent: round(ci.mean, 2),
      ci95Percent: [round(ci.mean - ci.halfWidth, 2), round(ci.mean + ci.halfWidth, 2)],
      workerInvoluntarySwitches: switches,
      dropped,
      rxMinusForwarded: rxMinusFwd,
      misforwarded: mis,
      notes: [
        'alternating route.add / route.del of 2000 /24s in 172.16.0.0/12 and 56 /25s in 198.18.200-255.128 (via a second null port, south), pipelined on one control connection, paced to the target rate',
        "pairChangePercent: each churn window against the baseline window just before it; ci95Percent: Student-t interval of their mean; workerInvoluntarySwitches: times the kernel took the worker's core from it (rte-worker thread, /proc) in each kind of window",
        'baseline and churn windows alternate on the same forwarder; lost = drop counters over the churn window; misforwarded = TX on south; rxMinusForwarded = worker rx − sink tx over the same interval (counters read microseconds apart, so a few dozen either way is sampling skew, not loss)',
      ],
    };
  } finally {
    pin('0-1');
    await r.stop();
  }
}
