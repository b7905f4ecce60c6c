/**
 * Forwarding while capturing: the pcap → null forwarder measured in the same run without a
 * capture, while capturing everything (RX, TX and drop on every port, a client reading the
 * copies as fast as it can), and while capturing one flow of the 1024 (a filter that matches
 * about 1 packet in 1000; the BPF filter still runs on every packet). Modes alternate inside each
 * round, so drift spreads over all three.
 */
import * as path from 'path';
import { Session } from '../../src/api/client';
import { runDpfwd } from './dpfwd';
import { measure, TrialResult, Window, writeFlows } from './forwarding';
import { summarize, Summary, round } from './stats';

export const CAPTURE_MODES = ['off', 'all', 'one-in-1000'] as const;
type Mode = (typeof CAPTURE_MODES)[number];

export interface CaptureBenchResult {
  window: Window;
  repetitions: number;
  modes: Record<Mode, { mpps: Summary; trials: (TrialResult & { written?: number; captured?: number; captureDropped?: number })[] }>;
  /** median Mpps of the mode / median Mpps without a capture */
  ratios: { all: number; oneIn1000: number };
  notes: string[];
}

/** A client that reads the capture as fast as the control socket answers, discarding the bytes. */
export async function capturing(socket: string, args: Record<string, unknown>, timeoutMs = 10000) {
  const s = await Session.open(socket, timeoutMs);
  const { id } = (await s.request('capture.start', args, timeoutMs)) as { id: number };
  let stop = false;
  let written = 0;
  const loop = (async () => {
    while (!stop) {
      const r = (await s.request('capture.read', { id }, timeoutMs)) as { packets: number };
      written += r.packets;
      if (r.packets === 0) await new Promise((res) => setTimeout(res, 5));
    }
  })();
  return {
    end: async () => {
      stop = true;
      await loop;
      const r = (await s.request('capture.stop', { id }, timeoutMs)) as {
        packets: number;
        summary: { workers: { captured: number; captureDropped: number }[] };
      };
      s.close();
      written += r.packets;
      const w = r.summary.workers;
      return { written, captured: w.reduce((a, x) => a + x.captured, 0), captureDropped: w.reduce((a, x) => a + x.captureDropped, 0) };
    },
  };
}

export async function captureCost(tmp: string, reps: number, w: Window, log: (m: string) => void): Promise<CaptureBenchResult> {
  const pcap = path.join(tmp, 'flows-1024.pcap');
  writeFlows(pcap, 1024);
  const trials: CaptureBenchResult['modes'] = {
    off: { mpps: summarize([]), trials: [] },
    all: { mpps: summarize([]), trials: [] },
    'one-in-1000': { mpps: summarize([]), trials: [] },
  };
  for (let i = 0; i < reps; i++) {
    const r = await runDpfwd({ rxPcap: pcap, dir: path.join(tmp, `dpfwd-capture-${i}`) });
    try {
      // rotate the order per round
      const order = CAPTURE_MODES.map((_, k) => CAPTURE_MODES[(k + i) % CAPTURE_MODES.length]);
      for (const mode of order) {
        // 10.1.1.0 + k is flow k's source (writeFlows): one of 1024
        const c = mode === 'off' ? null : await capturing(r.fwd.socket, mode === 'all' ? {} : { filter: 'src host 10.1.1.7' });
        const t = await measure(r, w);
        const extra = c ? await c.end() : {};
        trials[mode].trials.push({ ...t, ...extra });
        log(`capture ${mode} round ${i + 1}/${reps}: ${t.mpps} Mpps${c ? `, ${JSON.stringify(extra)}` : ''}`);
      }
    } finally {
      await r.stop();
    }
  }
  for (const m of CAPTURE_MODES) trials[m].mpps = summarize(trials[m].trials.map((t) => t.mpps));
  const med = (m: Mode) => trials[m].mpps.median;
  return {
    window: w,
    repetitions: reps,
    modes: trials,
    ratios: { all: round(med('all') / med('off'), 3), oneIn1000: round(med('one-in-1000') / med('off'), 3) },
    notes: [
      'one dpfwd per round (net_pcap infinite_rx → net_null, 1024 flows, lcore 1), the three modes in rotating order, each after the warm-up',
      'all: RX, TX and drop on both ports, no filter: two copies per forwarded packet (west-rx, east-tx); the reading client (this process, on the main CPU) drains as fast as the control socket answers, copies beyond the rings are capture_dropped',
      'one-in-1000: filter "src host 10.1.1.7" matches 1 flow of 1024; the BPF filter runs on every packet at RX and TX',
    ],
  };
}
