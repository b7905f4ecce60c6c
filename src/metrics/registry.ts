/**
 * Prometheus metrics: a dedicated prom-client Registry whose collectors read one sample of the
 * forwarder per scrape (native counter block, port stats, mempool, FIB, RIB and control-plane
 * counters). No timers: values are computed in collect(), when Prometheus asks.
 *
 * Counters are the RAW native totals: `dpfwd stats clear` only moves the CLI's baseline
 * (src/api/actions.ts CounterBaseline), so Prometheus never sees a counter go backwards.
 * Every metric is documented in docs/metrics.md.
 */
import { REASSEMBLY_RESULTS } from '../packet/reassembly';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { CounterSnapshot, FibInfo, MempoolInfo, PortInfo, PortStats } from '../dataplane';
import type { Config } from '../config/types';
import type { NativePuntStatus } from '../dataplane/native';
import type { Origin } from '../routing/rib';
import { formatMac } from '../net/mac';
import type { SyncStatus } from '../routing/sync';
import { SYNC_REFUSALS } from '../routing/rules';
import { ORIGINS } from '../routing/rib';
import type { ControlPlaneCounters } from '../controlplane';
import { MIRROR_DROPS, MirrorDrop } from '../controlplane/mirrors';
import { ICMP_TYPE_NAMES } from '../icmp';
import { IGNORE_REASONS, IgnoreReason, LIMIT_REASONS, LimitReason, NEIGH_STATES } from '../neighbors';
import { deviceName } from '../net/device';

import { CONTROL_REFUSALS, METRICS_REFUSALS } from './refusals';

/** What the collectors read: the Forwarder satisfies it; unit tests pass a fake. */
export interface MetricsSource {
  dp: {
    snapshot(): CounterSnapshot;
    names(): { drops: string[]; punts: string[]; worker: string[]; port: string[]; portHelp: string[] };
    portInfo(i: number): PortInfo;
    portStats(i: number): PortStats;
    mempoolInfo(): MempoolInfo;
    fibInfo(): FibInfo;
    workersAlive(): number;
    puntStatus(): NativePuntStatus[];
  };
  rib: {
    counts: Record<Origin, number>;
    updates: { add: { ok: number; error: number }; del: { ok: number; error: number } };
    nexthopUsage(): { used: number; max: number; learned: number; learnedMax: number };
    /** ECMP groups in use and fib.maxGroups */
    groupUsage?(): { used: number; max: number };
  };
  /** the control plane (src/controlplane): its counters and the ARP table */
  cp: {
    counters: ControlPlaneCounters;
    neighbors: {
      countByState(): Record<string, number>;
      limitsByPort: Record<LimitReason, number>[];
      ignored: Record<IgnoreReason, number>;
    };
  };
  ports: { index: number; name: string; device: string; driver: string }[];
  /** VLAN sub-interfaces: their fast-path counters are series with port="<name>" (west.100) */
  ifaces?: { list(): { index: number; name: string; vlan: number }[] };
  /** Linux mirror interfaces (linux.mirror), when on */
  mirrors?: {
    rows(): { port: string; mirror: string; to_linux: number; from_linux: number }[];
    dropsByInterface(): { port: string; drops: Record<MirrorDrop, number> }[];
  };
  /** the dataplane's MAX_PORTS: sub-interface index − maxPorts is its slot in a snapshot's subifs */
  maxPorts?: number;
  config: Pick<Config, 'workers' | 'punt'> & Partial<Pick<Config, 'linux'>>;
  /** the route sync from the kernel (linux.sync), when on (created after the metrics: read per scrape) */
  sync?: { status(): SyncStatus } | null;
}

/** ICMP types the router sends; each is exported from the start (zeros included). */
export const ICMP_TYPES = [...new Set(Object.values(ICMP_TYPE_NAMES))];

/** Everything one scrape reads, taken once. Sums over workers are done here. */
export interface Sample {
  snap: CounterSnapshot;
  dropNames: string[];
  puntNames: string[];
  ports: { info: PortInfo; stats: PortStats; forwarded: number; drops: number[]; counters: number[] }[];
  /** the VLAN sub-interfaces' fast-path counters, summed over workers */
  subifs: { name: string; forwarded: number; drops: number[]; counters: number[] }[];
  punted: number[];
  puntLimited: number[];
  mempool: MempoolInfo;
  fib: FibInfo;
}

export function takeSample(src: MetricsSource): Sample {
  const snap = src.dp.snapshot();
  const names = src.dp.names();
  const ports = src.ports.map((p) => {
    const drops = new Array<number>(names.drops.length).fill(0);
    const counters = new Array<number>(names.port.length).fill(0);
    let forwarded = 0;
    for (const w of snap.workers) {
      const wp = w.ports[p.index];
      forwarded += wp.forwarded;
      for (let r = 0; r < drops.length; r++) drops[r] += wp.drops[r];
      for (let k = 0; k < counters.length; k++) counters[k] += wp.counters[k];
    }
    return { info: src.dp.portInfo(p.index), stats: src.dp.portStats(p.index), forwarded, drops, counters };
  });
  const subifs = (src.ifaces?.list() ?? [])
    .filter((i) => i.vlan !== 0)
    .map((i) => {
      const drops = new Array<number>(names.drops.length).fill(0);
      const counters = new Array<number>(names.port.length).fill(0);
      let forwarded = 0;
      for (const w of snap.workers) {
        // subifs[k] is interface maxPorts + k; the untagged interfaces are numbered from 0
        const c = w.subifs?.[i.index - (src.maxPorts ?? 0)];
        if (!c) continue;
        forwarded += c.forwarded;
        for (let r = 0; r < drops.length; r++) drops[r] += c.drops[r];
        for (let k = 0; k < counters.length; k++) counters[k] += c.counters[k];
      }
      return { name: i.name, forwarded, drops, counters };
    });
  const punted = new Array<number>(names.punts.length).fill(0);
  const puntLimited = new Array<number>(names.punts.length).fill(0);
  for (const w of snap.workers) {
    w.punts.forEach((k, i) => {
      punted[i] += k.punted;
      puntLimited[i] += k.limited;
    });
  }
  return {
    snap,
    dropNames: names.drops,
    puntNames: names.punts,
    ports,
    subifs,
    punted,
    puntLimited,
    mempool: src.dp.mempoolInfo(),
    fib: src.dp.fibInfo(),
  };
}

let dpdkVersionCache: string | undefined;

/**
 * The DPDK version the addon was built against: `pkg-config --modversion libdpdk`, else the
 * libdpdk.pc file, else "unknown". Read once per process.
 */
export function dpdkVersion(): string {
  if (dpdkVersionCache !== undefined) return dpdkVersionCache;
  let v = '';
  try {
    v = execFileSync('pkg-config', ['--modversion', 'libdpdk'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    for (const dir of [
      '/usr/lib/x86_64-linux-gnu/pkgconfig',
      '/usr/lib/aarch64-linux-gnu/pkgconfig',
      '/usr/lib/pkgconfig',
      '/usr/local/lib/pkgconfig',
      '/usr/local/lib64/pkgconfig',
    ]) {
      try {
        const m = /^Version:\s*(\S+)/m.exec(fs.readFileSync(path.join(dir, 'libdpdk.pc'), 'utf8'));
        if (m) {
          v = m[1];
          break;
        }
      } catch {
        /* next */
      }
    }
  }
  dpdkVersionCache = v || 'unknown';
  return dpdkVersionCache;
}

function packageVersion(): string {
  try {
    return JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

export interface Metrics {
  registry: Registry;
  /** The text exposition of one scrape. */
  scrape(): Promise<string>;
  contentType: string;
  /** set by startMetricsServer: connections the HTTP server refused or closed, by reason */
  httpRefused?: () => Record<string, number>;
}

/** The control socket's numbers (src/api/server.ts ControlServer.stats). */
export interface ControlSource {
  stats(): { clients: number; refused: Record<string, number> };
}

type Put = (labels: Record<string, string>, value: number) => void;

/**
 * Builds the registry for one forwarder. `defaults: false` leaves out prom-client's process
 * metrics (unit tests compare exact series).
 */
export function createMetrics(src: MetricsSource, opts: { defaults?: boolean; control?: ControlSource } = {}): Metrics {
  const registry = new Registry();
  const out: Metrics = { registry, contentType: registry.contentType, scrape: () => registry.metrics() };
  if (opts.defaults !== false) {
    collectDefaultMetrics({ register: registry });
    // gauges named like counters (promtool rejects them); nodejs_active_{handles,requests,resources}
    // by type carry the same numbers
    for (const n of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(n);
  }

  // One sample per scrape: the first collect() of a scrape takes it, the others in the same
  // turn of the event loop reuse it (prom-client calls every collect() synchronously).
  let cached: Sample | null = null;
  const sample = (): Sample => {
    if (!cached) {
      cached = takeSample(src);
      setImmediate(() => {
        cached = null;
      });
    }
    return cached;
  };

  const counter = (name: string, help: string, labelNames: string[], fill: (s: Sample, put: Put) => void) => {
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        fill(sample(), (l, v) => this.inc(l, v));
      },
    });
  };
  const gauge = (name: string, help: string, labelNames: string[], fill: (s: Sample, put: Put) => void) => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        fill(sample(), (l, v) => this.set(l, v));
      },
    });
  };
  const perPort = (f: (p: Sample['ports'][number]) => number) => (s: Sample, put: Put) => {
    src.ports.forEach((p, i) => put({ port: p.name }, f(s.ports[i])));
  };

  // ---- build ----
  const build = { version: packageVersion(), dpdk_version: dpdkVersion(), node_version: process.version };
  new Gauge({
    name: 'dpfwd_build_info',
    help: 'Constant 1, labelled with the versions of dpfwd, DPDK and Node.js',
    labelNames: ['version', 'dpdk_version', 'node_version'],
    registers: [registry],
  }).set(build, 1);

  // ---- ports ----
  gauge('dpfwd_port_info', 'Constant 1 per port, labelled with its DPDK device, driver and MAC address', ['port', 'device', 'driver', 'mac'], (s, put) => {
    src.ports.forEach((p, i) => put({ port: p.name, device: deviceName(p.device), driver: s.ports[i].info.driver, mac: formatMac(s.ports[i].info.mac) }, 1));
  });
  gauge(
    'dpfwd_port_up',
    'Link status: 1 up, 0 down',
    ['port'],
    perPort((p) => (p.info.linkUp ? 1 : 0)),
  );
  gauge(
    'dpfwd_port_speed_bytes',
    'Link speed in bytes per second (0 when unknown)',
    ['port'],
    perPort((p) => (p.info.speedMbps * 1e6) / 8),
  );
  gauge(
    'dpfwd_port_mtu_bytes',
    'MTU: largest IPv4 packet (without Ethernet header) the port sends',
    ['port'],
    perPort((p) => p.info.mtu),
  );
  counter(
    'dpfwd_port_receive_packets_total',
    'Packets received by the port (rte_eth_stats ipackets)',
    ['port'],
    perPort((p) => p.stats.ipackets),
  );
  counter(
    'dpfwd_port_receive_bytes_total',
    'Bytes received by the port (rte_eth_stats ibytes)',
    ['port'],
    perPort((p) => p.stats.ibytes),
  );
  counter(
    'dpfwd_port_transmit_packets_total',
    'Packets sent by the port (rte_eth_stats opackets)',
    ['port'],
    perPort((p) => p.stats.opackets),
  );
  counter(
    'dpfwd_port_transmit_bytes_total',
    'Bytes sent by the port (rte_eth_stats obytes)',
    ['port'],
    perPort((p) => p.stats.obytes),
  );
  counter(
    'dpfwd_port_receive_errors_total',
    'Erroneous packets received (rte_eth_stats ierrors)',
    ['port'],
    perPort((p) => p.stats.ierrors),
  );
  counter(
    'dpfwd_port_transmit_errors_total',
    'Packets the port failed to send (rte_eth_stats oerrors)',
    ['port'],
    perPort((p) => p.stats.oerrors),
  );
  counter(
    'dpfwd_port_receive_missed_total',
    'Packets the NIC dropped because the RX queue was full (rte_eth_stats imissed)',
    ['port'],
    perPort((p) => p.stats.imissed),
  );
  counter(
    'dpfwd_port_receive_nombuf_total',
    'RX mbuf allocation failures (rte_eth_stats rx_nombuf)',
    ['port'],
    perPort((p) => p.stats.rxNombuf),
  );

  // ---- fast path ----
  // per ingress interface: a port's untagged one (port="west"), then its VLAN sub-interfaces (port="west.100")
  const perIface = (f: (p: { forwarded: number; drops: number[]; counters: number[] }) => number) => (s: Sample, put: Put) => {
    src.ports.forEach((p, i) => put({ port: p.name }, f(s.ports[i])));
    for (const v of s.subifs) put({ port: v.name }, f(v));
  };
  counter(
    'dpfwd_forwarded_packets_total',
    'Packets received on this port or VLAN sub-interface and handed to an egress TX buffer',
    ['port'],
    perIface((p) => p.forwarded),
  );
  counter(
    'dpfwd_drops_total',
    'Packets the fast path dropped, by ingress port or VLAN sub-interface (egress for tx_full) and reason',
    ['port', 'reason'],
    (s, put) => {
      src.ports.forEach((p, i) => s.dropNames.forEach((reason, r) => put({ port: p.name, reason }, s.ports[i].drops[r])));
      for (const v of s.subifs) s.dropNames.forEach((reason, r) => put({ port: v.name, reason }, v.drops[r]));
    },
  );
  // the C list DP_PORT_COUNTERS: dpfwd_<name>_total per ingress interface (csum_completed)
  const pn = src.dp.names();
  pn.port.forEach((name, k) =>
    counter(
      `dpfwd_${name}_total`,
      pn.portHelp[k],
      ['port'],
      perIface((p) => p.counters[k]),
    ),
  );
  counter('dpfwd_punts_total', 'Packets handed to the control plane through a punt ring, by reason', ['reason'], (s, put) => {
    s.puntNames.forEach((reason, k) => put({ reason }, s.punted[k]));
  });
  counter('dpfwd_punt_ratelimited_total', 'Punt candidates refused by the per-worker rate limit or a full punt ring, by reason', ['reason'], (s, put) => {
    s.puntNames.forEach((reason, k) => put({ reason }, s.puntLimited[k]));
  });

  // ---- workers ----
  const perWorker = (f: (c: Record<string, number>, hz: number) => number) => (s: Sample, put: Put) => {
    for (const w of s.snap.workers) put({ worker: String(w.index) }, f(w.counters, s.snap.tscHz));
  };
  gauge('dpfwd_worker_info', 'Constant 1 per worker, labelled with the lcore it runs on', ['worker', 'lcore'], (s, put) => {
    for (const w of s.snap.workers) put({ worker: String(w.index), lcore: String(src.config.workers[w.index]?.lcore ?? '') }, 1);
  });
  counter(
    'dpfwd_worker_busy_seconds_total',
    'Time in loop iterations that received packets (TSC cycles / TSC Hz)',
    ['worker'],
    perWorker((c, hz) => c.busy_cycles / hz),
  );
  counter(
    'dpfwd_worker_idle_seconds_total',
    'Time in loop iterations that received nothing (TSC cycles / TSC Hz)',
    ['worker'],
    perWorker((c, hz) => c.idle_cycles / hz),
  );
  counter(
    'dpfwd_worker_sleep_seconds_total',
    'Time an idle worker slept between polls (workers[].idle: sleep), a part of its idle seconds',
    ['worker'],
    perWorker((c, hz) => c.sleep_cycles / hz),
  );
  counter(
    'dpfwd_worker_packets_total',
    'Packets received by the worker from all its RX queues',
    ['worker'],
    perWorker((c) => c.rx_packets),
  );
  counter(
    'dpfwd_worker_rx_bursts_total',
    'RX bursts that returned at least one packet',
    ['worker'],
    perWorker((c) => c.rx_bursts),
  );
  counter(
    'dpfwd_capture_packets_total',
    'Copies of packets the worker put in its capture ring (dpfwd capture)',
    ['worker'],
    perWorker((c) => c.captured),
  );
  counter(
    'dpfwd_capture_dropped_total',
    "Copies a capture lost: the worker's capture ring full or the capture pool empty (the packets went on)",
    ['worker'],
    perWorker((c) => c.capture_dropped),
  );

  // ---- tables ----
  gauge('dpfwd_routes', 'Routes in the FIB by origin', ['origin'], (_s, put) => {
    for (const o of ORIGINS) put({ origin: o }, src.rib.counts[o]);
  });
  // the route sync (linux.sync): the kernel's table as selected vs what is in the FIB; registered
  // only when the sync is configured, so no family (and no 0) exists while it is off
  if (src.config.linux?.sync.enabled || src.sync) {
    const sync = (f: (st: SyncStatus, put: Put) => void) => (_s: Sample, put: Put) => {
      if (src.sync) f(src.sync.status(), put);
    };
    gauge(
      'dpfwd_sync_kernel_routes',
      "Routes (prefixes) of the followed kernel table that the sync takes, by state: installed in the FIB, shadowed (a dpfwd route has the prefix), unusable (output interface not a dpfwd interface), refused (route add's rules: martian destination, gateway no unicast host), failed (the RIB refused)",
      ['state'],
      sync((st, put) => {
        put({ state: 'installed' }, st.installed);
        put({ state: 'shadowed' }, st.shadowed);
        put({ state: 'unusable' }, st.unusable);
        put({ state: 'refused' }, st.refused);
        put({ state: 'failed' }, st.failed);
      }),
    );
    gauge(
      'dpfwd_sync_refused_routes',
      "Routes of the followed kernel table not installed because route add's rules refuse them, by reason: destination (multicast, reserved, loopback, 0.0.0.0/8), gateway (not a unicast host: the router's own address, a subnet's network or broadcast address, a martian)",
      ['reason'],
      sync((st, put) => {
        for (const reason of SYNC_REFUSALS) put({ reason }, st.refusedBy[reason] ?? 0);
      }),
    );
    gauge(
      'dpfwd_sync_missing_routes',
      'Entries of the followed kernel table dpfwd does not hold because of linux.sync.maxRoutes (state over limit while non-zero; the sync takes them by itself once they fit)',
      ['table'],
      sync((st, put) => put({ table: String(st.table) }, st.missing)),
    );
    gauge(
      'dpfwd_sync_routes',
      'Routes of the followed kernel table by route protocol (iproute2 names: bgp, ospf, static, …)',
      ['protocol'],
      sync((st, put) => {
        for (const [protocol, n] of Object.entries(st.byProtocol)) put({ protocol }, n);
      }),
    );
    counter(
      'dpfwd_sync_overflows_total',
      'Netlink overflows (ENOBUFS: changes lost, the table dumped again); raise linux.sync.socketBuffer if it grows',
      ['table'],
      sync((st, put) => put({ table: String(st.table) }, st.overflows)),
    );
    counter(
      'dpfwd_sync_over_limit_total',
      'Route additions from the kernel table not followed because the sync held linux.sync.maxRoutes prefixes',
      ['table'],
      sync((st, put) => put({ table: String(st.table) }, st.overLimit)),
    );
    counter(
      'dpfwd_sync_dumps_total',
      'Dumps of the kernel table (the first, and one after each overflow or link change)',
      ['table'],
      sync((st, put) => put({ table: String(st.table) }, st.dumps)),
    );
    counter(
      'dpfwd_sync_errors_total',
      'Route sync errors: routes the RIB refused, dump requests refused, a failed socket',
      ['table'],
      sync((st, put) => put({ table: String(st.table) }, st.errors)),
    );
    gauge(
      'dpfwd_sync_last_dump_timestamp_seconds',
      'When the last dump of the kernel table completed (Unix time)',
      ['table'],
      sync((st, put) => {
        if (st.lastDump) put({ table: String(st.table) }, Date.parse(st.lastDump) / 1000);
      }),
    );
    gauge(
      'dpfwd_sync_up',
      '1 while the route sync follows the kernel table, 0 when its netlink socket failed',
      ['table'],
      sync((st, put) => put({ table: String(st.table) }, st.state === 'failed' ? 0 : 1)),
    );
  }
  gauge('dpfwd_routes_max', 'FIB capacity in routes (fib.maxRoutes)', [], (s, put) => put({}, s.fib.maxRoutes));
  gauge('dpfwd_fib_tbl8_groups_used', 'LPM tbl8 groups in use (one per /24 holding routes longer than /24)', [], (s, put) => put({}, s.fib.tbl8Used));
  gauge('dpfwd_fib_tbl8_groups_max', 'LPM tbl8 groups available (fib.tbl8Groups)', [], (s, put) => put({}, s.fib.tbl8Groups));
  counter('dpfwd_route_updates_total', 'FIB updates by operation and result', ['op', 'result'], (_s, put) => {
    const u = src.rib.updates;
    put({ op: 'add', result: 'ok' }, u.add.ok);
    put({ op: 'add', result: 'error' }, u.add.error);
    put({ op: 'del', result: 'ok' }, u.del.ok);
    put({ op: 'del', result: 'error' }, u.del.error);
  });
  gauge('dpfwd_neighbors', 'Neighbour (ARP) entries by state', ['state'], (_s, put) => {
    const n = src.cp.neighbors.countByState();
    for (const st of NEIGH_STATES) put({ state: st.toLowerCase() }, n[st] ?? 0);
  });
  counter(
    'dpfwd_neighbor_limited_total',
    'New neighbour entries refused, or old ones given up for them, by interface (port="west.100" for a VLAN sub-interface) and limit (rate: arp.newPerSecond, incomplete: arp.maxIncomplete, table_full: arp.maxEntries, nexthops: the learned next-hop budget)',
    ['port', 'reason'],
    (_s, put) => {
      // counted by interface index (src/neighbors): the ports' untagged interfaces and the VLAN sub-interfaces
      const by = src.cp.neighbors.limitsByPort;
      const ifaces = src.ifaces?.list() ?? src.ports;
      ifaces.forEach((i) => LIMIT_REASONS.forEach((reason) => put({ port: i.name, reason }, by[i.index]?.[reason] ?? 0)));
    },
  );
  counter(
    'dpfwd_arp_ignored_total',
    "ARP frames that changed nothing: unsolicited (about an address we have no entry for, not a request to us), locktime (a REACHABLE entry's MAC changed within arp.lockMs)",
    ['reason'],
    (_s, put) => {
      const ig = src.cp.neighbors.ignored;
      for (const reason of IGNORE_REASONS) put({ reason }, ig[reason]);
    },
  );
  gauge(
    'dpfwd_nexthops',
    'Next-hop entries in use, by holder (learned: held only by ARP-learned neighbours; other: routes, addresses, static neighbours)',
    ['holder'],
    (_s, put) => {
      const u = src.rib.nexthopUsage();
      put({ holder: 'learned' }, u.learned);
      put({ holder: 'other' }, u.used - u.learned);
    },
  );
  gauge(
    'dpfwd_nexthop_groups',
    'ECMP next-hop groups in use (distinct path sets of multipath routes), and the most there may be (fib.maxGroups)',
    ['kind'],
    (_s, put) => {
      const g = src.rib.groupUsage?.();
      if (!g) return;
      put({ kind: 'used' }, g.used);
      put({ kind: 'max' }, g.max);
    },
  );
  gauge('dpfwd_nexthops_max', "Next-hop table size (fib.maxNexthops), and the learned neighbours' budget (arp.maxEntries)", ['holder'], (_s, put) => {
    const u = src.rib.nexthopUsage();
    put({ holder: 'all' }, u.max);
    put({ holder: 'learned' }, u.learnedMax);
  });
  gauge('dpfwd_mempool_available', 'Free mbufs in the packet pool', ['pool'], (s, put) => put({ pool: 'mbufs' }, s.mempool.available));
  gauge('dpfwd_mempool_in_use', 'Mbufs taken from the packet pool (in RX rings, TX rings, punt rings and in flight)', ['pool'], (s, put) =>
    put({ pool: 'mbufs' }, s.mempool.inUse),
  );

  // ---- control plane ----
  const cpc = () => src.cp.counters;
  counter('dpfwd_icmp_sent_total', 'ICMP messages the router sent, by type', ['type'], (_s, put) => {
    const sent = cpc().icmpSent;
    for (const t of ICMP_TYPES) put({ type: t }, sent[t] ?? 0);
    for (const t of Object.keys(sent)) if (!ICMP_TYPES.includes(t)) put({ type: t }, sent[t]);
  });
  counter('dpfwd_icmp_ratelimited_total', 'ICMP errors not sent because of the icmp.rateLimit token bucket', [], (_s, put) => put({}, cpc().icmpRateLimited));
  counter(
    'dpfwd_icmp_suppressed_total',
    'ICMP messages not sent because RFC 1812 forbids them (about an ICMP error, a fragment, a broadcast, a bad header) or no router address fits',
    [],
    (_s, put) => put({}, cpc().icmpSuppressed),
  );
  counter(
    'dpfwd_held_fragmented_total',
    'Packets held while ARP resolved that were longer than the egress MTU (DF clear), fragmented by the control plane when released',
    [],
    (_s, put) => put({}, cpc().heldFragmented),
  );
  counter(
    'dpfwd_reassembly_total',
    'Datagrams to the router reassembled from fragments (result ok), and fragments or datagrams dropped by reason',
    ['result'],
    (_s, put) => {
      for (const r of REASSEMBLY_RESULTS) put({ result: r }, cpc().reassembly[r]);
    },
  );
  counter('dpfwd_arp_requests_sent_total', 'ARP requests the router sent', [], (_s, put) => put({}, cpc().arpRequestsSent));
  counter('dpfwd_arp_replies_sent_total', 'ARP replies the router sent', [], (_s, put) => put({}, cpc().arpRepliesSent));
  counter('dpfwd_arp_invalid_total', 'Punted ARP frames the control plane ignored as malformed', [], (_s, put) => put({}, cpc().arpInvalid));
  counter('dpfwd_inject_failed_total', 'Control-plane frames not sent because the inject ring or the mbuf pool was full', [], (_s, put) =>
    put({}, cpc().injectFailed),
  );

  // ---- Linux mirror interfaces (src/controlplane/mirrors.ts): only when linux.mirror is on ----
  // (registered before the forwarder starts, so the config says whether mirrors will exist)
  const mirrorsOn = Object.keys(src.config.linux?.mirrors ?? {}).length > 0;
  if (mirrorsOn)
    counter(
      'dpfwd_mirror_frames_total',
      'Frames between dpfwd and its Linux mirror interfaces, by port and direction (to_linux: written to the mirror; from_linux: read from it and sent out of the port)',
      ['port', 'direction'],
      (_s, put) => {
        for (const r of src.mirrors?.rows() ?? []) {
          put({ port: r.port, direction: 'to_linux' }, r.to_linux);
          put({ port: r.port, direction: 'from_linux' }, r.from_linux);
        }
      },
    );
  if (mirrorsOn)
    counter(
      'dpfwd_mirror_drops_total',
      'Frames that did not cross between dpfwd and a Linux mirror, by interface and reason (docs/linux.md)',
      ['port', 'reason'],
      (_s, put) => {
        for (const d of src.mirrors?.dropsByInterface() ?? []) for (const k of MIRROR_DROPS) put({ port: d.port, reason: k }, d.drops[k]);
      },
    );

  // ---- clients of the control socket and of this HTTP server (src/api/server.ts, ./server.ts) ----
  counter('dpfwd_control_refused_total', 'Control socket clients refused or disconnected, by reason (see docs/config.md control)', ['reason'], (_s, put) => {
    const r = opts.control?.stats().refused;
    for (const k of CONTROL_REFUSALS) put({ reason: k }, r?.[k] ?? 0);
  });
  gauge('dpfwd_control_clients', 'Clients connected to the control socket', [], (_s, put) => put({}, opts.control?.stats().clients ?? 0));
  counter(
    'dpfwd_metrics_refused_total',
    'Connections to this metrics server refused or closed, by reason (see docs/config.md metrics)',
    ['reason'],
    (_s, put) => {
      const r = out.httpRefused?.();
      for (const k of METRICS_REFUSALS) put({ reason: k }, r?.[k] ?? 0);
    },
  );

  return out;
}
