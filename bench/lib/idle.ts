/**
 * Idle back-off (idle.mode / workers[].idle, issue 23 item 4), each mode in turn, alternating:
 *  - idle CPU: a forwarder whose ports never receive (net_null no-rx); the worker thread's CPU
 *    over the window from /proc/PID/task/TID/schedstat (exact ns; stat's utime+stime are
 *    tick-sampled) and its utime+stime for comparison;
 *  - the first packet after an idle second: two hosts in namespaces on veth pairs (af_packet
 *    ports), one ping a second from west to east (each echo and its reply cross the worker after a
 *    second of nothing), round-trip times p50/p99;
 *  - full rate: capture replay → null sink (the forwarding trial's set-up), Mpps per mode.
 */
import * as fs from 'fs';
import * as path from 'path';
import { startForwarder } from '../../test/helpers/forwarder';
import { sh, Topology } from '../../test/helpers/netns';
import { runDpfwd } from './dpfwd';
import { measure, TrialResult, Window, writeFlows } from './forwarding';
import { sleep } from './proc';
import { round, summarize, Summary } from './stats';

export interface IdleModeResult {
  /** worker thread on a CPU, % of wall, per repetition (schedstat) */
  idleCpuPercent: Summary;
  /** the same from /proc/PID/task/TID/stat utime+stime (tick-sampled) */
  idleCpuPercentStat: Summary;
  /** ping round trips (ms) through the forwarder, one echo per second */
  firstPacketRttMs: { p50: number; p99: number; max: number; n: number };
  fullRate: { mpps: Summary; trials: TrialResult[] };
}

export interface IdleResult {
  maxSleepUs: number;
  repetitions: number;
  pings: number;
  modes: Record<'poll' | 'sleep', IdleModeResult>;
  /** median Mpps sleep / poll */
  fullRateRatio: number;
  notes: string[];
}

const MODES = ['poll', 'sleep'] as const;

function workerThreads(pid: number): { tid: string; ns: number; ticks: number }[] {
  const out = [];
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    const comm = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    if (!comm.startsWith('rte-worker')) continue;
    const st = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    out.push({ tid, ns: Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]), ticks: Number(f[11]) + Number(f[12]) });
  }
  return out;
}

async function idleCpu(tmp: string, mode: string, maxSleepUs: number, seconds: number): Promise<{ sched: number; stat: number }> {
  const fwd = await startForwarder(
    {
      eal: { lcores: '0-1' },
      ports: [
        { name: 'west', device: 'net_null0,no-rx=1' },
        { name: 'east', device: 'net_null1,no-rx=1' },
      ],
      idle: { mode, maxSleepUs },
    },
    { dir: fs.mkdtempSync(path.join(tmp, 'idle-cpu-')) },
  );
  try {
    await sleep(1000);
    const a = workerThreads(fwd.proc.pid!)[0];
    const t0 = process.hrtime.bigint();
    await sleep(seconds * 1000);
    const b = workerThreads(fwd.proc.pid!)[0];
    const wall = Number(process.hrtime.bigint() - t0);
    const hz = 100; // USER_HZ
    return { sched: round((100 * (b.ns - a.ns)) / wall, 2), stat: round((100 * (b.ticks - a.ticks)) / hz / (wall / 1e9), 2) };
  } finally {
    await fwd.stop();
  }
}

async function pingRtts(tmp: string, mode: string, maxSleepUs: number, count: number): Promise<number[]> {
  const topo = new Topology();
  try {
    const west = topo.addHost('iw', 61);
    const east = topo.addHost('ie', 62);
    const fwd = await startForwarder(
      {
        eal: { lcores: '0-1' },
        ports: [topo.port(west, 0), topo.port(east, 1)],
        idle: { mode, maxSleepUs },
      },
      { dir: fs.mkdtempSync(path.join(tmp, 'idle-ping-')) },
    );
    try {
      sh('ping', ['-n', '-q', '-c', '2', '-i', '0.2', '-W', '1', east.ip], { ns: west.ns, allowFail: true }); // ARP both ways
      await sleep(1000);
      const out = sh('ping', ['-n', '-c', String(count), '-i', '1', '-W', '1', east.ip], { ns: west.ns, allowFail: true, timeout: (count + 10) * 1000 });
      return [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
    } finally {
      await fwd.stop();
    }
  } finally {
    topo.destroy();
  }
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
}

export async function idleBench(tmp: string, reps: number, w: Window, log: (m: string) => void, maxSleepUs = 250, pings = 20): Promise<IdleResult> {
  const pcap = path.join(tmp, 'flows-1024.pcap');
  writeFlows(pcap, 1024);
  const cpu: Record<string, { sched: number; stat: number }[]> = { poll: [], sleep: [] };
  const rtts: Record<string, number[]> = { poll: [], sleep: [] };
  const full: Record<string, TrialResult[]> = { poll: [], sleep: [] };
  for (let i = 0; i < reps; i++) {
    for (const mode of MODES) {
      cpu[mode].push(await idleCpu(tmp, mode, maxSleepUs, 3));
      rtts[mode].push(...(await pingRtts(tmp, mode, maxSleepUs, pings)));
      const r = await runDpfwd({ rxPcap: pcap, dir: fs.mkdtempSync(path.join(tmp, 'idle-rate-')), extra: { idle: { mode, maxSleepUs } } });
      try {
        full[mode].push(await measure(r, w));
      } finally {
        await r.stop();
      }
      log(
        `idle ${mode}: idle CPU ${cpu[mode][i].sched} % (stat ${cpu[mode][i].stat} %), full rate ${full[mode][i].mpps} Mpps, ${rtts[mode].length} rtts so far`,
      );
    }
  }
  const modes = Object.fromEntries(
    MODES.map((m) => [
      m,
      {
        idleCpuPercent: summarize(cpu[m].map((x) => x.sched)),
        idleCpuPercentStat: summarize(cpu[m].map((x) => x.stat)),
        firstPacketRttMs: { p50: pct(rtts[m], 50), p99: pct(rtts[m], 99), max: Math.max(...rtts[m]), n: rtts[m].length },
        fullRate: { mpps: summarize(full[m].map((x) => x.mpps)), trials: full[m] },
      },
    ]),
  ) as IdleResult['modes'];
  return {
    maxSleepUs,
    repetitions: reps,
    pings,
    modes,
    fullRateRatio: round(modes.sleep.fullRate.mpps.median / modes.poll.fullRate.mpps.median, 3),
    notes: [
      'idle CPU: net_null no-rx ports, the worker thread over 3 s: schedstat run time (exact) and stat utime+stime (tick-sampled)',
      "first packet: ping -i 1 west → east through af_packet ports; each echo and reply find the worker after ~1 s of nothing; RTT includes both hosts' kernels",
      'full rate: pcap infinite_rx → net_null, 1024 flows; a worker at full rate never sleeps, so this prices the test per loop',
      'modes alternate per repetition (poll, sleep, poll, sleep, ...) so drift on the shared machine falls on both',
    ],
  };
}
