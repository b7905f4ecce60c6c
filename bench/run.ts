/**
 * `npm run bench`: dpfwd against DPDK l3fwd and testpmd on one worker core, then route-table scale,
 * route churn, route sync from a kernel table (ip -batch → dpfwd's FIB), two processes over memif (testpmd generator → dpfwd / l3fwd) and the kernel (veth
 * namespaces through dpfwd vs Linux forwarding). Prints a table and writes bench/results/<date>.json and .svg.
 *
 * Also instructions per packet of each forwarding contender under callgrind (deterministic, unlike
 * cycles on a shared VM).
 *
 *   npm run bench -- [--only forwarding,callgrind,scale,churn,sync,bgp,memif,kernel,capture,ecmp,idle] [--sync-sizes 100000,1000000] [--bgp-sizes 1000000] [--reps 3] [--churn-reps 9] [--callgrind-seconds 15] [--callgrind-contenders dpfwd,l3fwd,testpmd] [--warmup 1] [--duration 5] [--quick]
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { machine } from './lib/machine';
import { forwardingCost, ForwardingResult } from './lib/forwarding';
import { routeScale, ScaleResult } from './lib/scale';
import { routeChurn, ChurnResult } from './lib/churn';
import { ecmpCost, EcmpResult } from './lib/ecmp';
import { memifBench, MemifResult } from './lib/memif';
import { kernelBench, KernelResult } from './lib/kernel';
import { captureCost, CaptureBenchResult } from './lib/capture';
import { syncScale, SyncResult } from './lib/sync';
import { bgpFullTable, BgpSize } from './lib/bgp';
import { buildL3fwd } from './lib/peers';
import { callgrindCounts, CallgrindResult } from './lib/callgrind';
import { idleBench, IdleResult } from './lib/idle';
import { writeFlows } from './lib/forwarding';
import { barChart, Chart } from './lib/svg';
import { rootDir } from './lib/dpfwd';

const BENCH = path.join(rootDir, 'bench');
const TMP = path.join(BENCH, 'tmp');
const RESULTS = path.join(BENCH, 'results');

const log = (m: string) => process.stderr.write(`bench: ${m}\n`);

function args() {
  const a = process.argv.slice(2);
  const get = (k: string) => {
    const i = a.indexOf(`--${k}`);
    return i >= 0 ? a[i + 1] : undefined;
  };
  const quick = a.includes('--quick');
  return {
    only: new Set((get('only') ?? 'forwarding,callgrind,scale,churn,sync,bgp,memif,kernel,capture,ecmp,idle').split(',')),
    syncSizes: (get('sync-sizes') ?? (quick ? '100000' : '100000,1000000')).split(',').map(Number),
    bgpSizes: (get('bgp-sizes') ?? (quick ? '100000' : '1000000')).split(',').map(Number),
    reps: Number(get('reps') ?? (quick ? 1 : 3)),
    warmupMs: 1000 * Number(get('warmup') ?? 1),
    durationMs: 1000 * Number(get('duration') ?? (quick ? 2 : 5)),
    routes: Number(get('routes') ?? 1048576),
    kernelSeconds: Number(get('kernel-seconds') ?? 3),
    churnReps: Number(get('churn-reps') ?? 3 * Number(get('reps') ?? (quick ? 1 : 3))),
    callgrindContenders: (get('callgrind-contenders') ?? 'dpfwd,l3fwd,testpmd').split(','),
    callgrindSeconds: Number(get('callgrind-seconds') ?? (quick ? 5 : 15)),
    out: get('out'),
  };
}

function pad(s: string | number, n: number, right = false) {
  const t = String(s);
  return right ? t.padStart(n) : t.padEnd(n);
}

function printTable(res: Results) {
  const lines: string[] = [];
  const f = res.forwarding;
  if (f) {
    lines.push(
      '',
      `Forwarding cost, one worker core (64-byte UDP, 1024 flows, ${f.repetitions} × ${f.window.durationMs / 1000} s after ${f.window.warmupMs / 1000} s warm-up)`,
    );
    lines.push(
      `${pad('contender', 10)} ${pad('Mpps median', 12, true)} ${pad('min–max', 17, true)} ${pad('cycles/pkt', 11, true)} ${pad('vs l3fwd', 9, true)} ${pad('vs testpmd', 11, true)}`,
    );
    for (const [name, c] of Object.entries(f.contenders)) {
      lines.push(
        `${pad(name, 10)} ${pad(c.mpps.median.toFixed(2), 12, true)} ${pad(`${c.mpps.min.toFixed(2)}–${c.mpps.max.toFixed(2)}`, 17, true)} ${pad(c.cyclesPerPacket.median.toFixed(1), 11, true)} ${pad((c.mpps.median / f.contenders.l3fwd.mpps.median).toFixed(3), 9, true)} ${pad((c.mpps.median / f.contenders.testpmd.mpps.median).toFixed(3), 11, true)}`,
      );
    }
    if (f.contenders.dpfwd.busyCyclesPerPacket) lines.push(`dpfwd busy cycles/packet (own counters): ${f.contenders.dpfwd.busyCyclesPerPacket.median}`);
  }
  const g = res.callgrind;
  if (g) {
    lines.push('', `Instructions per packet (callgrind, forwarding thread, ${g.windowSeconds} s window): self instructions by where they run`);
    for (const [name, t] of Object.entries(g.contenders)) {
      if ('error' in t) {
        lines.push(`  ${pad(name, 8)} FAILED: ${t.error.split('\n')[0]}`);
        continue;
      }
      lines.push(
        `  ${pad(name, 8)} ${pad(t.instructionsPerPacket.toFixed(1), 7, true)}  = ${Object.entries(t.split)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k} ${v}`)
          .join(' + ')}`,
      );
    }
  }
  const s = res.scale;
  if (s) {
    lines.push('', `Route table scale (${s.routes} prefixes)`);
    for (const l of s.loads)
      lines.push(
        `  load via ${pad(l.path, 22)} ${pad(l.seconds.toFixed(2), 7, true)} s   (dpfwd's own measure: ${l.reportedMs ?? '-'} ms)${l.error ? ` FAILED: ${l.error.split('\n')[0]}` : ''}`,
      );
    lines.push(
      `  FIB memory computed: ${s.memory.fibMiB} MiB (rules ${s.memory.rulesMiB} + tbl24 ${s.memory.tbl24MiB} + tbl8 ${s.memory.tbl8MiB}); VmRSS ${s.memory.vmRssMiB} MiB; hugepages used ${s.memory.hugepagesUsedMiB} MiB; Node heap after load ${s.memory.nodeHeapAfterLoadMiB ?? 'n/a'} MiB, peak ${s.memory.nodeHeapPeakMiB ?? 'n/a'} MiB, retained ${s.memory.nodeHeapRetainedMiB ?? 'n/a'} MiB`,
    );
    for (const fw of s.forwarding)
      lines.push(`  forwarding over ${pad(fw.table, 28)} ${fw.mpps.median.toFixed(2)} Mpps (${fw.mpps.min.toFixed(2)}–${fw.mpps.max.toFixed(2)})`);
    lines.push(`  ratio ${s.routes} / 16 routes: ${s.ratio}`);
  }
  const e = res.ecmp;
  if (e) {
    lines.push(
      '',
      `ECMP vs single next hops, one forwarder (${e.flows} flows, 16 routes, ${e.members}-way groups, ${e.repetitions} × ${e.window.durationMs / 1000} s, alternating)`,
    );
    lines.push(
      `  single next hops ${e.single.mpps.median} Mpps (${e.single.mpps.min}–${e.single.mpps.max}), ${e.single.cyclesPerPacket.median} cycles/pkt; ECMP ${e.ecmp.mpps.median} Mpps (${e.ecmp.mpps.min}–${e.ecmp.mpps.max}), ${e.ecmp.cyclesPerPacket.median} cycles/pkt; ratio ${e.ratio}`,
    );
  }
  const id = res.idle;
  if (id) {
    lines.push('', `Idle back-off (idle.maxSleepUs ${id.maxSleepUs}; ${id.repetitions} repetitions, modes alternating)`);
    for (const [mode, r] of Object.entries(id.modes)) {
      lines.push(
        `  ${pad(mode, 5)} idle worker CPU ${r.idleCpuPercent.median} % (stat ${r.idleCpuPercentStat.median} %); ping through it after 1 s idle: p50 ${r.firstPacketRttMs.p50} ms, p99 ${r.firstPacketRttMs.p99} ms (n ${r.firstPacketRttMs.n}); full rate ${r.fullRate.mpps.median} Mpps (${r.fullRate.mpps.min}–${r.fullRate.mpps.max})`,
      );
    }
    lines.push(`  full rate sleep / poll: ${id.fullRateRatio}`);
  }
  const c = res.churn;
  if (c) {
    lines.push('', `Route churn (${c.targetRate} updates/s outside the traffic, ${c.durationMs / 1000} s)`);
    lines.push(`  achieved ${c.achievedRate} updates/s (${c.updates} ops, ${c.errors} errors)`);
    lines.push(
      `  Mpps without churn ${c.baselineMpps.median} (${c.baselineMpps.min}–${c.baselineMpps.max}), with churn ${c.churnMpps.median} (${c.churnMpps.min}–${c.churnMpps.max}): change of medians ${c.changePercent}%; per pair ${c.pairChangePercent.join(', ')}%, mean ${c.meanChangePercent}% (95% interval ${c.ci95Percent.join(' to ')}%); worker context switches ${c.workerInvoluntarySwitches.withChurn} with churn, ${c.workerInvoluntarySwitches.without} without`,
    );
    lines.push(
      `  lost (drops during churn): ${c.dropped}; rx−forwarded: ${c.rxMinusForwarded}; misforwarded (packets out of the churn port): ${c.misforwarded}`,
    );
  }
  const m = res.memif;
  if (m) {
    lines.push(
      '',
      `Two processes over memif (testpmd flowgen generator on CPU 0 → forwarder worker on CPU 1 → back; ${m.repetitions} × ${m.window.durationMs / 1000} s)`,
    );
    lines.push(
      `${pad('forwarder', 10)} ${pad('gen TX Mpps', 12, true)} ${pad('forwarded', 10, true)} ${pad('back at gen', 12, true)} ${pad('min–max', 13, true)} ${pad('loss %', 8, true)}`,
    );
    for (const [name, c] of Object.entries(m.contenders)) {
      lines.push(
        `${pad(name, 10)} ${pad(c.generatorTxMpps.median.toFixed(2), 12, true)} ${pad(c.forwardedMpps.median.toFixed(2), 10, true)} ${pad(c.receivedBackMpps.median.toFixed(2), 12, true)} ${pad(`${c.receivedBackMpps.min.toFixed(2)}–${c.receivedBackMpps.max.toFixed(2)}`, 13, true)} ${pad(c.lossPercent.median.toFixed(3), 8, true)}`,
      );
    }
    lines.push(`  dpfwd / l3fwd (received back): ${m.ratios.dpfwdOverL3fwd}; the forwarder's main thread shares CPU 0 with the generator`);
  }
  const cb = res.capture;
  if (cb) {
    lines.push('', `Forwarding while capturing (same runs, ${cb.repetitions} × ${cb.window.durationMs / 1000} s per mode): Mpps median (min–max)`);
    for (const [m, r] of Object.entries(cb.modes)) lines.push(`  ${pad(m, 12)} ${pad(r.mpps.median, 8, true)} (${r.mpps.min}–${r.mpps.max})`);
    lines.push(`  ratios to no capture: all ${cb.ratios.all}, one in 1000 ${cb.ratios.oneIn1000}`);
  }
  const y = res.sync;
  if (y) {
    lines.push(
      '',
      `Route sync: ip -batch into kernel table ${y.table} (proto bgp, one gateway) → dpfwd's FIB (netlink buffer ${y.socketBufferBytes / 1048576} MiB)`,
    );
    for (const z of y.sizes) {
      lines.push(
        `  ${pad(z.routes, 8, true)} routes: kernel install ${z.kernelAddSeconds} s, all in dpfwd's FIB after ${z.fibAddSeconds ?? '-'} s; dpfwd restarted: all in its FIB ${z.restartSeconds ?? '-'} s after spawn (first dump ${z.restartDumpMs ?? '-'} ms); flush ${z.kernelFlushSeconds} s, gone from dpfwd after ${z.fibFlushSeconds ?? '-'} s; ${z.overflows} overflows, ${z.dumps} re-dumps; VmRSS ${z.vmRssMiB} MiB, Node heap retained ${z.heapRetainedMiB ?? '-'} MiB; main-thread CPU s: add ${z.addMainCpuSeconds ?? '-'}, restart ${z.restartMainCpuSeconds ?? '-'}, flush ${z.flushMainCpuSeconds ?? '-'}${z.error ? `; ${z.error.slice(0, 200)}` : ''}`,
      );
    }
  }
  const k = res.kernel;
  if (k) {
    lines.push('', `Against the kernel: west ns → router → east ns on veths, iperf3 ${k.seconds} s each`);
    lines.push(`${pad('router', 16)} ${pad('TCP Mbit/s', 11, true)} ${pad('UDP64 sent pps', 15, true)} ${pad('recv pps', 10, true)} ${pad('loss %', 8, true)}`);
    for (const [name, r] of Object.entries(k.routers)) {
      if (r.error) lines.push(`${pad(name, 16)} FAILED: ${r.error.split('\n')[0].slice(0, 160)}`);
      else
        lines.push(
          `${pad(name, 16)} ${pad(r.tcpMbps ?? '-', 11, true)} ${pad(r.udpSentPps ?? '-', 15, true)} ${pad(r.udpReceivedPps ?? '-', 10, true)} ${pad(r.udpLossPercent ?? '-', 8, true)}`,
        );
    }
    lines.push(
      `  ratios vs linux: af_packet TCP ${k.ratios.dpfwdAfPacketOverKernelTcp ?? '-'}, UDP pps ${k.ratios.dpfwdAfPacketOverKernelUdpPps ?? '-'}; af_xdp TCP ${k.ratios.dpfwdAfXdpOverKernelTcp ?? '-'}, UDP pps ${k.ratios.dpfwdAfXdpOverKernelUdpPps ?? '-'}; tap TCP ${k.ratios.dpfwdTapOverKernelTcp ?? '-'}, UDP pps ${k.ratios.dpfwdTapOverKernelUdpPps ?? '-'}`,
    );
    if (k.csumCompletionNs)
      lines.push(
        `  checksum completion (kernel-backed ports), ns/packet: ${Object.entries(k.csumCompletionNs)
          .map(([f, ns]) => `${f} ${ns}`)
          .join(', ')}`,
      );
  }
  process.stdout.write(lines.join('\n') + '\n');
}

export interface Results {
  date: string;
  machine: ReturnType<typeof machine>;
  gitCommit: string;
  forwarding?: ForwardingResult;
  callgrind?: CallgrindResult;
  scale?: ScaleResult;
  churn?: ChurnResult;
  memif?: MemifResult;
  kernel?: KernelResult;
  ecmp?: EcmpResult;
  idle?: IdleResult;
  capture?: CaptureBenchResult;
  sync?: SyncResult;
  bgp?: BgpSize[];
  notDone: string[];
}

function chart(res: Results): string {
  const groups: Chart['groups'] = [];
  const f = res.forwarding;
  if (f) {
    groups.push({
      name: 'Forwarding, one core (64 B UDP, 1024 flows)',
      bars: Object.entries(f.contenders).map(([n, c]) => ({
        label: n,
        value: +c.mpps.median.toFixed(2),
        min: c.mpps.min,
        max: c.mpps.max,
        note: n === 'dpfwd' ? `${f.ratios.dpfwdOverL3fwd}× l3fwd, ${f.ratios.dpfwdOverTestpmd}× testpmd` : '',
      })),
    });
  }
  if (res.scale) {
    groups.push({
      name: `dpfwd, random destinations`,
      bars: res.scale.forwarding.map((x) => ({ label: x.table, value: +x.mpps.median.toFixed(2), min: x.mpps.min, max: x.mpps.max })),
    });
  }
  if (res.churn) {
    groups.push({
      name: `dpfwd under ${res.churn.achievedRate} route updates/s`,
      bars: [
        { label: 'no churn', value: res.churn.baselineMpps.median, min: res.churn.baselineMpps.min, max: res.churn.baselineMpps.max },
        { label: 'churn', value: res.churn.churnMpps.median, min: res.churn.churnMpps.min, max: res.churn.churnMpps.max, note: `lost ${res.churn.dropped}` },
      ],
    });
  }
  const m = res.memif;
  if (m) {
    groups.push({
      name: 'memif: testpmd generator → forwarder → back (received back)',
      bars: Object.entries(m.contenders).map(([n, c]) => ({
        label: n,
        value: +c.receivedBackMpps.median.toFixed(2),
        min: c.receivedBackMpps.min,
        max: c.receivedBackMpps.max,
        note: `gen TX ${c.generatorTxMpps.median.toFixed(2)}, loss ${c.lossPercent.median.toFixed(2)}%${n === 'dpfwd' ? `, ${m.ratios.dpfwdOverL3fwd}× l3fwd` : ''}`,
      })),
    });
  }
  const k = res.kernel;
  if (k) {
    const ok = Object.entries(k.routers).filter(([, r]) => !r.error && r.udpReceivedPps !== undefined);
    if (ok.length)
      groups.push({
        name: 'veth namespaces: UDP 64 B received (iperf3 -b 0)',
        bars: ok.map(([n, r]) => ({ label: n, value: +(r.udpReceivedPps! / 1e6).toFixed(3), note: `TCP ${r.tcpMbps} Mbit/s, loss ${r.udpLossPercent}%` })),
      });
  }
  return barChart({
    title: `dpfwd benchmark ${res.date}`,
    subtitle: `${res.machine.cpu}, ${res.machine.cores} CPUs, DPDK ${res.machine.dpdk}, Node ${res.machine.node}`,
    unit: 'Mpps',
    groups,
  });
}

async function main() {
  const a = args();
  fs.mkdirSync(TMP, { recursive: true });
  fs.mkdirSync(RESULTS, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  const res: Results = {
    date,
    machine: machine(),
    gitCommit: spawnSync('git', ['-C', rootDir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim(),
    notDone: [],
  };
  const w = { warmupMs: a.warmupMs, durationMs: a.durationMs };
  if (a.only.has('forwarding')) res.forwarding = await forwardingCost(TMP, a.reps, w, log);
  if (a.only.has('callgrind')) {
    const pcap = path.join(TMP, 'flows-1024.pcap');
    writeFlows(pcap, 1024);
    res.callgrind = await callgrindCounts(TMP, pcap, a.callgrindSeconds, log, a.callgrindContenders);
  }
  if (a.only.has('scale')) res.scale = await routeScale(TMP, a.routes, a.reps, w, log);
  // churn's effect is a few percent at most, smaller than window-to-window noise here: more pairs
  if (a.only.has('churn')) res.churn = await routeChurn(TMP, a.churnReps, w, log);
  if (a.only.has('sync')) {
    res.sync = await syncScale(TMP, a.syncSizes, log);
    for (const z of res.sync.sizes) if (z.error) res.notDone.push(`route sync, ${z.routes} routes: ${z.error.slice(0, 500)}`);
  }
  if (a.only.has('bgp')) {
    try {
      res.bgp = await bgpFullTable(TMP, a.bgpSizes, log);
      for (const z of res.bgp) if (z.error) res.notDone.push(`BGP full table, ${z.routes} routes: ${z.error.slice(0, 500)}`);
    } catch (e) {
      res.notDone.push(`BGP full table: ${(e as Error).message.slice(0, 500)}`);
    }
  }
  if (a.only.has('memif')) {
    try {
      res.memif = await memifBench(TMP, buildL3fwd(TMP, log), a.reps, w, log);
    } catch (e) {
      log(`memif FAILED: ${(e as Error).message}`);
      res.notDone.push(`memif two-process comparison (issue item 2) failed: ${(e as Error).message.slice(0, 2000)}`);
    }
  }
  if (a.only.has('ecmp')) res.ecmp = await ecmpCost(TMP, a.reps, w, log);
  if (a.only.has('idle')) res.idle = await idleBench(TMP, a.reps, w, log);
  if (a.only.has('capture')) res.capture = await captureCost(TMP, a.reps, w, log);
  if (a.only.has('kernel')) {
    res.kernel = await kernelBench(TMP, a.kernelSeconds, log);
    for (const [name, r] of Object.entries(res.kernel.routers))
      if (r.error) res.notDone.push(`kernel comparison, router ${name}: ${r.error.split('\n')[0].slice(0, 500)}`);
  }
  printTable(res);
  const base = a.out ?? path.join(RESULTS, date);
  fs.writeFileSync(`${base}.json`, JSON.stringify(res, null, 2) + '\n');
  fs.writeFileSync(`${base}.svg`, chart(res));
  log(`wrote ${base}.json and ${base}.svg`);
}

main().catch((e) => {
  process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
