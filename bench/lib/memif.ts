/**
 * Two processes over memif (issue item 2): dpdk-testpmd generates 64-byte UDP on a memif server
 * port, the forwarder (dpfwd, then l3fwd) is the memif client and routes every packet back out of
 * the same port (one-armed), and the generator counts what comes back.
 *
 * Why flowgen and not txonly: testpmd's txonly engine never polls its RX queue, so the packets the
 * forwarder sends back fill the memif ring and the forwarder's TX fails (measured: dpfwd's tx_full
 * drop counter took every packet). flowgen is txonly that also receives and frees a burst per loop
 * (the "received back" count), over 1024 flows to 10.253.0.0 + flow (testpmd's built-in
 * addresses; --tx-ip applies to txonly only), source 10.254.0.0.
 *
 * Cores (2 CPUs): the generator's forwarding lcore and its main lcore both run on CPU 0
 * (`--lcores 0@0,1@0`; testpmd needs a main lcore besides the forwarding one, and the main one
 * only prints stats once a second); the forwarder's worker owns CPU 1 and its main thread (Node
 * for dpfwd, l3fwd's stats control thread) shares CPU 0 with the generator.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { startForwarder, Running as Fwd } from '../../test/helpers/forwarder';
import { Child, onLines, start, waitOutput, nowSec, sleep } from './proc';
import { summarize, Summary, round } from './stats';
import { Window } from './forwarding';

const GEN_MAC = '02:00:00:00:50:02';
const FWD_MAC = '02:00:00:00:50:01';
/** testpmd flowgen's destination base (10.253.0.0 + flow index, 1024 flows by default) */
const FLOWGEN_DST = '10.253.0.0/16';

interface Counts {
  t: number;
  tx: number;
  rx: number;
}

interface Generator {
  child: Child;
  /** the generator's port counters at its next stats print (once a second) */
  next(): Promise<Counts>;
  latest(): Counts | undefined;
  stop(): Promise<void>;
}

function removePrefixFiles(prefix: string) {
  // hugepage files and the runtime dir of an EAL run with this (unique, our own) file prefix
  try {
    for (const f of fs.readdirSync('/dev/hugepages')) if (f.startsWith(`${prefix}map_`)) fs.rmSync(path.join('/dev/hugepages', f), { force: true });
  } catch {
    /* none */
  }
  fs.rmSync(path.join('/var/run/dpdk', prefix), { recursive: true, force: true });
}

async function startGenerator(sock: string, prefix: string): Promise<Generator> {
  const args = [
    '-o0',
    'dpdk-testpmd',
    '--lcores',
    '0@0,1@0',
    '--no-pci',
    '--file-prefix',
    prefix,
    '--log-level',
    'lib.eal:warning',
    '--vdev',
    `net_memif0,role=server,socket=${sock},mac=${GEN_MAC}`,
    '--',
    '--forward-mode=flowgen',
    `--eth-peer=0,${FWD_MAC}`,
    '--nb-cores=1',
    '--total-num-mbufs=32768',
    '--stats-period',
    '1',
  ];
  const child = start('stdbuf', args);
  let last: Counts | undefined;
  let text = '';
  const re = /NIC statistics for port 0 [\s\S]*?RX-packets:\s+(\d+)[\s\S]*?TX-packets:\s+(\d+)/g;
  child.onData((d) => {
    text += d;
    re.lastIndex = 0;
    let m;
    let end = -1;
    while ((m = re.exec(text))) {
      last = { t: nowSec(), rx: Number(m[1]), tx: Number(m[2]) };
      end = re.lastIndex;
    }
    if (end > 0) text = text.slice(end);
    else if (text.length > 65536) text = text.slice(-8192);
  });
  await waitOutput(child, 'testpmd flowgen (memif server)', () => last !== undefined, 60000);
  return {
    child,
    latest: () => last,
    next: async () => {
      const prev = last;
      const deadline = Date.now() + 3000;
      while (last === prev && Date.now() < deadline) await sleep(5);
      return { ...last! };
    },
    stop: async () => {
      await child.stop('SIGINT');
      removePrefixFiles(prefix);
    },
  };
}

interface Forwarder {
  /** packets the forwarder received and sent on its memif port */
  sample(): Promise<Counts>;
  stop(): Promise<void>;
}

async function startDpfwdMemif(sock: string, dir: string, prefix: string): Promise<Forwarder> {
  fs.mkdirSync(dir, { recursive: true });
  const fwd: Fwd = await startForwarder(
    {
      eal: { lcores: '0-1', filePrefix: prefix },
      ports: [{ name: 'gen', device: `net_memif0,role=client,socket=${sock},mac=${FWD_MAC}`, address: '10.50.0.1/24' }],
      workers: [{ lcore: 1, rx: [{ port: 'gen', queue: 0 }] }],
      neighbors: [{ address: '10.50.0.2', mac: GEN_MAC, port: 'gen' }],
      routes: [{ prefix: FLOWGEN_DST, via: '10.50.0.2' }],
    },
    { dir, timeoutMs: 60000 },
  );
  return {
    sample: async () => {
      const t0 = nowSec();
      const ports = await fwd.call('show.ports');
      const t1 = nowSec();
      return { t: (t0 + t1) / 2, rx: ports[0].stats64.rx.packets, tx: ports[0].stats64.tx.packets };
    },
    stop: async () => {
      const r = await fwd.stop('SIGTERM');
      if (r.code !== 0) process.stderr.write(`bench: dpfwd (memif) exited with ${r.code ?? r.signal}\n${fwd.stderr().slice(-2000)}\n`);
      removePrefixFiles(prefix);
    },
  };
}

/** l3fwd (the bench's patched build) on lcore 1 with one memif client port and a rule file for flowgen's destinations. */
async function startL3fwdMemif(bin: string, sock: string, dir: string, prefix: string): Promise<Forwarder> {
  fs.mkdirSync(dir, { recursive: true });
  const v4 = path.join(dir, 'rules-v4.cfg');
  const v6 = path.join(dir, 'rules-v6.cfg');
  // l3fwd reads rule files only when both are given; the v6 one is its default table (unused)
  fs.writeFileSync(v4, `R${FLOWGEN_DST} 0\n`);
  fs.copyFileSync('/usr/share/dpdk/examples/l3fwd/lpm_default_v6.cfg', v6);
  const c = start(bin, [
    '-l',
    '1',
    '--no-pci',
    '--file-prefix',
    prefix,
    '--log-level',
    'lib.eal:warning',
    '--vdev',
    `net_memif0,role=client,socket=${sock},mac=${FWD_MAC}`,
    '--',
    '-p',
    '0x1',
    '--config=(0,0,1)',
    '--parse-ptype',
    '--lookup=lpm',
    `--eth-dest=0,${GEN_MAC}`,
    `--rule_ipv4=${v4}`,
    `--rule_ipv6=${v6}`,
  ]);
  let last: Counts | undefined;
  onLines(c, (line) => {
    const m = /^BENCHSTATS tsc=(\d+) hz=(\d+) p0=(\d+),(\d+),\d+,\d+/.exec(line);
    if (m) last = { t: Number(m[1]) / Number(m[2]), rx: Number(m[3]), tx: Number(m[4]) };
  });
  await waitOutput(c, 'l3fwd (memif)', () => last !== undefined, 60000);
  return {
    sample: async () => {
      const prev = last;
      const deadline = Date.now() + 1000;
      while (last === prev && Date.now() < deadline) await sleep(2);
      return { ...last! };
    },
    stop: async () => {
      await c.stop('SIGINT');
      removePrefixFiles(prefix);
    },
  };
}

export interface MemifTrial {
  generatorTxMpps: number;
  forwarderRxMpps: number;
  forwarderTxMpps: number;
  receivedBackMpps: number;
  /** (generator TX − received back) / generator TX over the window, percent */
  lossPercent: number;
}

export interface MemifResult {
  window: Window;
  repetitions: number;
  contenders: Record<
    string,
    {
      generatorTxMpps: Summary;
      forwardedMpps: Summary;
      receivedBackMpps: Summary;
      lossPercent: Summary;
      trials: MemifTrial[];
    }
  >;
  ratios: { dpfwdOverL3fwd: number };
  notes: string[];
  error?: string;
}

async function trial(kind: 'dpfwd' | 'l3fwd', l3fwdBin: string, tmp: string, i: number, w: Window): Promise<MemifTrial> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `dpfwd-bench-memif-${kind}-`));
  const sock = path.join(dir, 'memif.sock');
  const tag = `${process.pid}-${i}`;
  let gen: Generator | undefined;
  let fwd: Forwarder | undefined;
  try {
    gen = await startGenerator(sock, `bench-gen-${tag}`);
    fwd =
      kind === 'dpfwd'
        ? await startDpfwdMemif(sock, path.join(tmp, `dpfwd-memif-${i}`), `bench-fm-${tag}`)
        : await startL3fwdMemif(l3fwdBin, sock, path.join(tmp, `l3fwd-memif-${i}`), `bench-lm-${tag}`);
    const g = gen;
    const deadline = Date.now() + 30000;
    while (!((g.latest()?.rx ?? 0) > 0)) {
      if (Date.now() > deadline) throw new Error(`memif ${kind}: nothing came back to the generator within 30 s:\n${g.child.out().slice(-1500)}`);
      await sleep(100);
    }
    await sleep(w.warmupMs);
    const [ga, fa] = await Promise.all([gen.next(), fwd.sample()]);
    await sleep(w.durationMs);
    const [gb, fb] = await Promise.all([gen.next(), fwd.sample()]);
    if (gb.tx < ga.tx) throw new Error(`memif ${kind}: generator counters went back (link reset during the window)`);
    const gdt = gb.t - ga.t;
    const fdt = fb.t - fa.t;
    const sent = gb.tx - ga.tx;
    const back = gb.rx - ga.rx;
    return {
      generatorTxMpps: round(sent / gdt / 1e6, 3),
      forwarderRxMpps: round((fb.rx - fa.rx) / fdt / 1e6, 3),
      forwarderTxMpps: round((fb.tx - fa.tx) / fdt / 1e6, 3),
      receivedBackMpps: round(back / gdt / 1e6, 3),
      lossPercent: round((100 * (sent - back)) / sent, 4),
    };
  } finally {
    if (fwd) await fwd.stop();
    if (gen) await gen.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function memifBench(tmp: string, l3fwdBin: string, reps: number, w: Window, log: (m: string) => void): Promise<MemifResult> {
  const trials: Record<string, MemifTrial[]> = { dpfwd: [], l3fwd: [] };
  for (let i = 0; i < reps; i++) {
    for (const kind of ['dpfwd', 'l3fwd'] as const) {
      const t = await trial(kind, l3fwdBin, tmp, i, w);
      trials[kind].push(t);
      log(
        `memif ${kind} round ${i + 1}/${reps}: generator TX ${t.generatorTxMpps} Mpps, forwarder TX ${t.forwarderTxMpps} Mpps, back at generator ${t.receivedBackMpps} Mpps, loss ${t.lossPercent}%`,
      );
    }
  }
  const contenders: MemifResult['contenders'] = {};
  for (const [k, ts] of Object.entries(trials)) {
    contenders[k] = {
      generatorTxMpps: summarize(ts.map((t) => t.generatorTxMpps)),
      forwardedMpps: summarize(ts.map((t) => t.forwarderTxMpps)),
      receivedBackMpps: summarize(ts.map((t) => t.receivedBackMpps)),
      lossPercent: summarize(ts.map((t) => t.lossPercent)),
      trials: ts,
    };
  }
  return {
    window: w,
    repetitions: reps,
    contenders,
    ratios: { dpfwdOverL3fwd: round(contenders.dpfwd.receivedBackMpps.median / contenders.l3fwd.receivedBackMpps.median, 3) },
    notes: [
      "generator: dpdk-testpmd --forward-mode=flowgen (64-byte UDP, 1024 flows to 10.253.0.0+n from 10.254.0.0) on a memif server port, --eth-peer = the forwarder's memif MAC; its own --file-prefix (memif needs the EAL multi-process channel, so no --in-memory for anyone here)",
      "txonly was tried first: it never polls RX, so the forwarded packets filled the ring back to the generator and the forwarder's TX failed (dpfwd counted every packet as tx_full); flowgen = txonly that also receives and frees, which gives the received-back count",
      "forwarder: memif client, one-armed: route 10.253.0.0/16 back out of the same port to the generator (dpfwd: static neighbour 10.50.0.2 = the generator's MAC; l3fwd: --rule_ipv4 file with that route, --eth-dest = the generator's MAC)",
      "cores: generator forwarding lcore and main lcore both on CPU 0 (--lcores 0@0,1@0); forwarder worker on CPU 1; the forwarder's main thread (dpfwd: Node; l3fwd: its stats control thread) shares CPU 0 with the generator",
      "rates: generator TX and received back from testpmd's port counters (printed once a second), forwarder TX from its own port counters; loss = (generator TX − received back) / generator TX over the window (packets in flight in the rings, ≤ 2 × 1024, count as lost)",
      'ratio = dpfwd / l3fwd received-back Mpps; the generator shares its core, so this is a generator-limited rate',
    ],
  };
}
