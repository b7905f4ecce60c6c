/**
 * Instructions per packet, counted by callgrind: deterministic where cycle counts on a shared VM
 * move ±10% between runs and perf has no hardware counters. Each contender runs the same replay
 * (net_pcap infinite_rx → net_null sink) under `valgrind --tool=callgrind --separate-threads=yes`
 * with --no-huge (valgrind cannot map DPDK's hugepage VA reservation). After a warm-up the counters
 * are dumped (`callgrind_control -d`, which also resets them), after the window dumped again; the
 * forwarding thread is the one with the most instructions in that second dump.
 *
 * Packets in the window = calls of net_pcap's receive function from that thread × 32: with
 * infinite_rx the PMD fills every burst (its ring holds the whole capture; an mbuf shortage would
 * return 0 and show up as a lower net_pcap cost per packet, which is reported so it can be compared
 * across contenders). `dpfwd-ecmp` (asked for by name) is dpfwd with its routes as 4-way
 * multipath routes. Self cost is split by object: net_pcap RX, net_null TX, the forwarder's own
 * code, __tls_get_addr and the rest.
 */
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { start, sleep, waitOutput, Child } from './proc';
import { dpfwdConfig, SINK_NEIGHBOR, sixteenRoutes } from './dpfwd';
import { buildL3fwd } from './peers';
import { round } from './stats';
import { Session } from '../../src/api/client';

export interface CallgrindTrial {
  instructionsPerPacket: number;
  packets: number;
  /** self instructions per packet by where they run */
  split: Record<string, number>;
}

export interface CallgrindResult {
  windowSeconds: number;
  contenders: Record<string, CallgrindTrial | { error: string }>;
  notes: string[];
}

const BURST = 32;

function haveValgrind(): boolean {
  return spawnSync('valgrind', ['--version'], { encoding: 'utf8' }).status === 0;
}

/**
 * Parses one callgrind dump: self Ir per (object, function), their sum, and calls into net_pcap.
 * Format: "ob=", "fn=" set the current object and function ("(id) name" defines a compressed
 * name, "(id)" uses it); "cob=", "cfn=", "calls=N" announce a call, and the cost line after
 * "calls=" is the call's inclusive cost, not self cost; other "<position> <Ir>" lines are self cost.
 */
export function parseDump(text: string): { total: number; self: Map<string, number>; pcapCalls: number } {
  const names = { ob: new Map<string, string>(), fn: new Map<string, string>() };
  const resolve = (kind: 'ob' | 'fn', v: string): string => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(v);
    if (!m) return v;
    if (m[2] !== undefined) names[kind].set(m[1], m[2]);
    return names[kind].get(m[1]) ?? v;
  };
  const self = new Map<string, number>();
  let ob = '';
  let fn = '';
  let cob = '';
  let callCount = -1; // >= 0: the next cost line belongs to a call
  let pcapCalls = 0;
  for (const line of text.split('\n')) {
    let m = /^(c?)(ob|fn)=(.*)$/.exec(line);
    if (m) {
      const name = resolve(m[2] as 'ob' | 'fn', m[3]); // resolve also records compressed names
      if (m[2] === 'ob') {
        if (m[1]) cob = name;
        else ob = cob = name;
      } else if (!m[1]) {
        fn = name;
        cob = ob;
      }
      continue;
    }
    m = /^calls=(\d+)/.exec(line);
    if (m) {
      callCount = Number(m[1]);
      continue;
    }
    m = /^(?:[+-]?\d+|\*) (\d+)/.exec(line);
    if (!m) continue;
    if (callCount >= 0) {
      if (cob.includes('librte_net_pcap')) pcapCalls += callCount;
      callCount = -1;
      cob = ob;
      continue;
    }
    const key = `${ob}\t${fn}`;
    self.set(key, (self.get(key) ?? 0) + Number(m[1]));
  }
  let total = 0;
  for (const v of self.values()) total += v;
  return { total, self, pcapCalls };
}

function classify(ob: string, fn: string): string {
  if (ob.includes('librte_net_pcap')) return 'net_pcap rx';
  if (ob.includes('librte_net_null')) return 'net_null tx';
  if (fn.includes('__tls_get_addr')) return '__tls_get_addr';
  if (ob.includes('dpfwd.node') || ob.includes('l3fwd') || ob.includes('testpmd')) return 'forwarder';
  return 'other (EAL, libc, mempool)';
}

/** Runs `cmd` under callgrind, waits for `ready` in its output, warms up, counts over the window. */
async function countOne(
  dir: string,
  cmd: string,
  args: string[],
  ready: (out: string) => boolean,
  readyTimeoutMs: number,
  warmS: number,
  windowS: number,
  during?: () => Promise<() => Promise<unknown>>,
): Promise<CallgrindTrial> {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const out = path.join(dir, 'cg');
  // a client talking to it through the window needs the main thread scheduled next to the polling worker
  const fair = during ? ['--fair-sched=yes'] : [];
  const c: Child = start('valgrind', ['--tool=callgrind', '--separate-threads=yes', ...fair, `--callgrind-out-file=${out}.%p`, cmd, ...args]);
  let end: (() => Promise<unknown>) | undefined;
  try {
    await waitOutput(c, `${cmd} under callgrind`, ready, readyTimeoutMs);
    if (during) end = await during(); // e.g. a capture running through the window
    await sleep(warmS * 1000);
    const pid = String(c.proc.pid);
    // a dump also resets the counters: the second dump holds exactly the window
    if (spawnSync('callgrind_control', ['-d', pid], { encoding: 'utf8', timeout: 60000 }).status !== 0) throw new Error('callgrind_control -d failed');
    await sleep(windowS * 1000);
    if (spawnSync('callgrind_control', ['-d', pid], { encoding: 'utf8', timeout: 60000 }).status !== 0) throw new Error('callgrind_control -d failed');
    if (end) await end();
  } finally {
    await c.stop('SIGKILL', 5000);
  }
  // dumps of the window: cg.<pid>.2-<thread>
  const dumps = fs
    .readdirSync(dir)
    .filter((f) => /^cg\.\d+\.2-\d+$/.test(f))
    .map((f) => parseDump(fs.readFileSync(path.join(dir, f), 'utf8')));
  if (!dumps.length) throw new Error(`no callgrind dump in ${dir}:\n${c.out().slice(-2000)}`);
  const busiest = dumps.reduce((a, b) => (b.total > a.total ? b : a));
  const packets = busiest.pcapCalls * BURST;
  if (packets === 0) throw new Error(`the busiest thread made no net_pcap receive calls:\n${c.out().slice(-2000)}`);
  const split: Record<string, number> = {};
  for (const [key, ir] of busiest.self) {
    const [ob, fn] = key.split('\t');
    const k = classify(ob, fn);
    split[k] = (split[k] ?? 0) + ir;
  }
  for (const k of Object.keys(split)) split[k] = round(split[k] / packets, 1);
  return { instructionsPerPacket: round(busiest.total / packets, 1), packets, split };
}

export async function callgrindCounts(
  tmp: string,
  pcap: string,
  windowS: number,
  log: (m: string) => void,
  only: string[] = ['dpfwd', 'l3fwd', 'testpmd'],
): Promise<CallgrindResult> {
  const res: CallgrindResult = {
    windowSeconds: windowS,
    contenders: {},
    notes: [
      'valgrind --tool=callgrind --separate-threads=yes, EAL --no-huge -m 512/1024 (valgrind cannot map the hugepage VA reservation); same capture and vdevs as the forwarding trial',
      `counters dumped (and so reset) after warm-up, dumped again after ${windowS} s; the forwarding thread is the one with the most instructions`,
      `packets = net_pcap receive calls x ${BURST} (infinite_rx fills every burst; equal net_pcap cost per packet across contenders confirms it)`,
      'split = self instructions per packet: net_pcap rx and net_null tx are the same code for every contender; "forwarder" is dpfwd.node, l3fwd or testpmd itself',
    ],
  };
  if (!haveValgrind()) {
    res.contenders.dpfwd = { error: 'valgrind is not installed (apt-get install valgrind)' };
    return res;
  }
  const vdevs = ['--vdev', `net_pcap0,rx_pcap=${pcap},infinite_rx=1`, '--vdev', 'net_null0,no-rx=1'];
  const root = path.resolve(__dirname, '..', '..', '..');
  // dpfwd-ecmp (on request: --callgrind-contenders dpfwd,dpfwd-ecmp): the same 16 routes as
  // 4-way multipath routes over 4 neighbours on the sink port, for the cost of a group per packet
  const ecmpNeighbors = Array.from({ length: 4 }, (_, i) => ({ ...SINK_NEIGHBOR, address: `10.9.0.${2 + i}`, mac: `02:00:00:00:09:0${2 + i}` }));
  /** dpfwd, optionally with a capture (args of capture.start) read by this process through the window */
  const dpfwdRun = (name: string, capture?: Record<string, unknown>, ecmp = false) => {
    const dir = path.join(tmp, `callgrind-${name}`);
    const cfg = dpfwdConfig({ rxPcap: pcap, dir }) as Record<string, any>;
    if (ecmp) {
      cfg.neighbors = ecmpNeighbors;
      cfg.routes = sixteenRoutes().map((r) => ({ prefix: r.prefix, nexthops: ecmpNeighbors.map((n) => ({ via: n.address })) }));
    }
    cfg.eal = { lcores: '0-1', inMemory: false, filePrefix: `bench-cg-${process.pid}`, args: ['--no-huge', '-m', '512'] };
    cfg.control = { socket: path.join(dir, 'dpfwd.sock') };
    cfg.metrics = { listen: false };
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(tmp, `callgrind-${name}.json`);
    fs.writeFileSync(file, JSON.stringify(cfg));
    // Node under callgrind is far too slow to drain a capture at the worker's rate, so nothing
    // reads: the session stays open (its lease an hour) and the ring is big enough for the
    // one-flow capture's copies; capturing everything fills it at once, which is the steady
    // state of a capture at full rate (copies beyond the ring are capture_dropped)
    if (capture) cfg.capture = { ringSize: 65536, mbufs: 65600, leaseMs: 3600000 };
    const during = capture
      ? async () => {
          const s = await Session.open(cfg.control.socket, 600000);
          await s.request('capture.start', capture, 600000);
          return async () => {
            log(`callgrind ${name}: ${JSON.stringify(((await s.request('capture.show', {}, 600000)) as { capture: unknown }).capture)}`);
            s.close();
          };
        }
      : undefined;
    // Node under callgrind takes a minute or two to start
    return countOne(
      dir,
      process.execPath,
      [path.join(root, 'bin', 'dpfwd'), 'run', '--config', file],
      (o) => o.includes('control socket '),
      600000,
      5,
      windowS,
      during,
    );
  };
  const runs: { name: string; go: () => Promise<CallgrindTrial> }[] = [
    { name: 'dpfwd', go: () => dpfwdRun('dpfwd') },
    // not in the default list either: `--callgrind-contenders dpfwd,dpfwd-ecmp`
    { name: 'dpfwd-ecmp', go: () => dpfwdRun('dpfwd-ecmp', undefined, true) },
    // not in the default list: `--callgrind-contenders dpfwd,dpfwd-capture-flow,dpfwd-capture-all`
    { name: 'dpfwd-capture-flow', go: () => dpfwdRun('dpfwd-capture-flow', { filter: 'src host 10.1.1.7' }) },
    { name: 'dpfwd-capture-all', go: () => dpfwdRun('dpfwd-capture-all', {}) },
    {
      name: 'l3fwd',
      go: () =>
        countOne(
          path.join(tmp, 'callgrind-l3fwd'),
          buildL3fwd(tmp, log),
          [
            '--no-huge',
            '-m',
            '512',
            '--no-pci',
            '-l',
            '1',
            '--file-prefix',
            `bench-cgl3-${process.pid}`,
            '--log-level',
            'lib.eal:warning',
            ...vdevs,
            '--',
            '-p',
            '0x3',
            '--config=(0,0,1)',
            '--parse-ptype',
            '--lookup=lpm',
            '--eth-dest=1,02:00:00:00:09:02',
          ],
          (o) => /BENCHSTATS .* p1=\d+,[1-9]/.test(o),
          300000,
          5,
          windowS,
        ),
    },
    {
      name: 'testpmd',
      go: () =>
        countOne(
          path.join(tmp, 'callgrind-testpmd'),
          'dpdk-testpmd',
          [
            '--no-huge',
            '-m',
            '1024',
            '--no-pci',
            '-l',
            '0-1',
            '--file-prefix',
            `bench-cgtp-${process.pid}`,
            '--log-level',
            'lib.eal:warning',
            ...vdevs,
            '--',
            '--forward-mode=io',
            '--nb-cores=1',
            '--total-num-mbufs=8192',
            '--stats-period',
            '1',
            '-a',
          ],
          (o) => o.includes('packets/burst='),
          300000,
          10,
          windowS,
        ),
    },
  ];
  for (const r of runs.filter((x) => only.includes(x.name))) {
    try {
      const t = await r.go();
      res.contenders[r.name] = t;
      log(
        `callgrind ${r.name}: ${t.instructionsPerPacket} instructions/packet over ${t.packets} packets (${Object.entries(t.split)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')})`,
      );
    } catch (e) {
      res.contenders[r.name] = { error: (e as Error).message.slice(0, 2000) };
      log(`callgrind ${r.name} FAILED: ${(e as Error).message.slice(0, 500)}`);
    }
  }
  return res;
}
