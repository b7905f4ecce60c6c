/**
 * ECMP against single next hops in one forwarder and one run: the same capture (1024 flows,
 * destinations random in 198.18.0.0/20), its 16 routes switched through the control socket
 * between one next hop (the sink's neighbour) and multipath routes over MEMBERS neighbours (all
 * on the sink port, distinct MACs), measured alternately so drift on the machine falls on both.
 */
import * as path from 'path';
import { runDpfwd, SINK_NEIGHBOR, sixteenRoutes } from './dpfwd';
import { measure, TrialResult, Window, writeFlows } from './forwarding';
import { round, summarize, Summary } from './stats';

const MEMBERS = 4;

export interface EcmpResult {
  window: Window;
  repetitions: number;
  members: number;
  flows: number;
  single: { mpps: Summary; cyclesPerPacket: Summary; trials: TrialResult[] };
  ecmp: { mpps: Summary; cyclesPerPacket: Summary; trials: TrialResult[] };
  /** median ECMP Mpps / median single-next-hop Mpps */
  ratio: number;
}

export async function ecmpCost(tmp: string, reps: number, w: Window, log: (m: string) => void): Promise<EcmpResult> {
  const pcap = path.join(tmp, 'flows-ecmp.pcap');
  writeFlows(pcap, 1024, { dstBase: '198.18.0.0', dstSpan: 4096 });
  const neighbors = Array.from({ length: MEMBERS }, (_, i) => ({ ...SINK_NEIGHBOR, address: `10.9.0.${2 + i}`, mac: `02:00:00:00:09:0${2 + i}` }));
  const r = await runDpfwd({ rxPcap: pcap, dir: path.join(tmp, 'dpfwd-ecmp'), extra: { neighbors } });
  const routes = sixteenRoutes();
  const setSingle = async () => {
    for (const rt of routes) await r.fwd.call('route.add', { prefix: rt.prefix, via: SINK_NEIGHBOR.address });
  };
  const setEcmp = async () => {
    for (const rt of routes) await r.fwd.call('route.add', { prefix: rt.prefix, nexthops: neighbors.map((n) => ({ via: n.address })) });
  };
  const single: TrialResult[] = [];
  const ecmp: TrialResult[] = [];
  try {
    for (let i = 0; i < reps; i++) {
      await setSingle();
      single.push(await measure(r, { warmupMs: i === 0 ? w.warmupMs : 500, durationMs: w.durationMs }));
      await setEcmp();
      const groups = (await r.fwd.call('route.show')).filter((x: { nexthops?: unknown[] }) => x.nexthops?.length === MEMBERS).length;
      if (groups !== routes.length) throw new Error(`ecmp: ${groups} of ${routes.length} routes are multipath`);
      ecmp.push(await measure(r, { warmupMs: 500, durationMs: w.durationMs }));
      log(`ecmp: single ${single[i].mpps} Mpps, ${MEMBERS}-way ECMP ${ecmp[i].mpps} Mpps`);
    }
  } finally {
    await r.stop();
  }
  const part = (t: TrialResult[]) => ({ mpps: summarize(t.map((x) => x.mpps)), cyclesPerPacket: summarize(t.map((x) => x.cyclesPerPacket)), trials: t });
  const s = part(single);
  const e = part(ecmp);
  return { window: w, repetitions: reps, members: MEMBERS, flows: 1024, single: s, ecmp: e, ratio: round(e.mpps.median / s.mpps.median, 3) };
}
