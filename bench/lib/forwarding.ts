/**
 * Forwarding cost on one worker core: capture replay → forward → null sink, each contender in turn
 * on lcore 1 for the same warm-up and measured window, repeated (contenders interleaved per round
 * so drift on the machine spreads over all of them).
 */
import * as path from 'path';
import { makeUdpFlows, writePcap } from '../../src/packet';
import { runDpfwd, PCAP_PORT0_MAC } from './dpfwd';
import { buildL3fwd, runL3fwd, runTestpmd, Running, L3FWD_PATCHES } from './peers';
import { sleep } from './proc';
import { summarize, Summary, round } from './stats';

export interface Window {
  warmupMs: number;
  durationMs: number;
}

export interface TrialResult {
  mpps: number;
  /** TSC cycles of the core per forwarded packet (the core polls 100%: tscHz / pps) */
  cyclesPerPacket: number;
  /** dpfwd only: busy cycles / received packets from its own counters */
  busyCyclesPerPacket?: number;
  drops?: number;
}

/** Samples a running contender over the window. */
export async function measure(r: Running, w: Window, tscHzFallback = 0): Promise<TrialResult> {
  await sleep(w.warmupMs);
  const a = await r.sample();
  await sleep(w.durationMs);
  const b = await r.sample();
  const pps = (b.tx - a.tx) / (b.t - a.t);
  const hz = r.tscHz || tscHzFallback;
  const out: TrialResult = { mpps: round(pps / 1e6, 3), cyclesPerPacket: round(hz / pps, 1) };
  if (a.busyCycles !== undefined && b.busyCycles !== undefined && b.rx! > a.rx!) {
    out.busyCyclesPerPacket = round((b.busyCycles - a.busyCycles) / (b.rx! - a.rx!), 1);
    out.drops = (b.drops ?? 0) - (a.drops ?? 0);
  }
  return out;
}

/**
 * 64-byte UDP over `count` flows: sources from 10.1.1.0 (none is dpfwd's 10.1.0.1 or the
 * 10.1.0.255 broadcast, which RFC 1812 5.3.7 drops), destinations random inside 198.18.1.0/24,
 * which l3fwd's built-in LPM table sends to port 1 (its default rules are 198.18.N.0/24 → port N)
 * and dpfwd's 16-route table sends to the sink's neighbour.
 */
export function writeFlows(file: string, count = 1024, opts: { dstBase?: string; dstSpan?: number; seed?: number } = {}): void {
  writePcap(
    file,
    makeUdpFlows({
      count,
      srcMac: '02:00:00:00:01:02',
      dstMac: PCAP_PORT0_MAC,
      srcBase: '10.1.1.0',
      dstBase: opts.dstBase ?? '198.18.1.0',
      dstSpread: 'random',
      dstSpan: opts.dstSpan ?? 256,
      seed: opts.seed ?? 1,
    }),
  );
}

export interface ForwardingResult {
  window: Window;
  repetitions: number;
  flows: number;
  frameBytes: number;
  contenders: Record<string, { mpps: Summary; cyclesPerPacket: Summary; busyCyclesPerPacket?: Summary; trials: TrialResult[] }>;
  ratios: { dpfwdOverL3fwd: number; dpfwdOverTestpmd: number; l3fwdOverTestpmd: number };
  notes: string[];
}

export async function forwardingCost(tmp: string, reps: number, w: Window, log: (m: string) => void): Promise<ForwardingResult> {
  const pcap = path.join(tmp, 'flows-1024.pcap');
  writeFlows(pcap, 1024);
  const l3fwd = buildL3fwd(tmp, log);
  const v = { rxPcap: pcap };
  let hz = 0;
  const contenders: { name: string; run: (i: number) => Promise<Running> }[] = [
    { name: 'dpfwd', run: (i) => runDpfwd({ rxPcap: pcap, dir: path.join(tmp, `dpfwd-fwd-${i}`) }) },
    { name: 'l3fwd', run: (i) => runL3fwd(l3fwd, v, `bench-l3fwd-${process.pid}-${i}`) },
    { name: 'testpmd', run: (i) => runTestpmd(v, `bench-tp-${process.pid}-${i}`) },
  ];
  const trials: Record<string, TrialResult[]> = { dpfwd: [], l3fwd: [], testpmd: [] };
  for (let i = 0; i < reps; i++) {
    for (const c of contenders) {
      const r = await c.run(i);
      try {
        const t = await measure(r, w, hz);
        if (r.tscHz) hz = r.tscHz;
        trials[c.name].push(t);
        log(
          `forwarding ${c.name} round ${i + 1}/${reps}: ${t.mpps} Mpps, ${t.cyclesPerPacket} cycles/packet${t.busyCyclesPerPacket !== undefined ? ` (busy ${t.busyCyclesPerPacket}, drops ${t.drops})` : ''}`,
        );
      } finally {
        await r.stop();
      }
    }
  }
  // testpmd reports no TSC rate: fill in its cycles/packet from the rate the others reported
  for (const t of trials.testpmd) if (!Number.isFinite(t.cyclesPerPacket)) t.cyclesPerPacket = round(hz / (t.mpps * 1e6), 1);
  const out: ForwardingResult['contenders'] = {};
  for (const [name, ts] of Object.entries(trials)) {
    out[name] = {
      mpps: summarize(ts.map((t) => t.mpps)),
      cyclesPerPacket: summarize(ts.map((t) => t.cyclesPerPacket)),
      ...(name === 'dpfwd' ? { busyCyclesPerPacket: summarize(ts.map((t) => t.busyCyclesPerPacket ?? NaN)) } : {}),
      trials: ts,
    };
  }
  const m = (n: string) => out[n].mpps.median;
  return {
    window: w,
    repetitions: reps,
    flows: 1024,
    frameBytes: 64,
    contenders: out,
    ratios: {
      dpfwdOverL3fwd: round(m('dpfwd') / m('l3fwd'), 3),
      dpfwdOverTestpmd: round(m('dpfwd') / m('testpmd'), 3),
      l3fwdOverTestpmd: round(m('l3fwd') / m('testpmd'), 3),
    },
    notes: [
      'each contender alone on lcore 1 (lcore 0: main/Node), --in-memory --no-pci, same vdevs: net_pcap rx_pcap infinite_rx=1 → net_null no-rx=1',
      "Mpps = the sink port's TX packets over the measured window",
      'cycles/packet = TSC Hz / packets per second (the forwarding core polls all the time); dpfwd also reports busy cycles / received packet from its counters',
      'dpfwd polls both ports (config requires every rx queue to be polled; the null port returns nothing), l3fwd polls port 0 only, testpmd io polls both',
      ...L3FWD_PATCHES.map((p) => `l3fwd build copy: ${p.why}`),
      'l3fwd runs with --parse-ptype (net_pcap reports no packet types) and its built-in LPM table (198.18.N.0/24 → port N); flows go to 198.18.1.0/24 → port 1',
    ],
  };
}
