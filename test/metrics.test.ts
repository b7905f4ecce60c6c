/**
 * Prometheus metrics. Unit: the exposition of a fake forwarder parsed back (every metric, every
 * drop reason, one snapshot per scrape, HTTP endpoints). Live: a real `dpfwd run` forwarding a
 * capture, its scrape checked by `promtool check metrics`, scraped by a real Prometheus server
 * whose HTTP API must agree with dpfwd's own `show drops`, run every Grafana panel query, and
 * see no counter reset across `stats clear`.
 */
import { health as apiHealth } from '../src/api/actions';
import { strict as assert } from 'assert';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import { parse as parseYaml, stringify } from 'yaml';
import { Dataplane, CounterSnapshot } from '../src/dataplane';
import { createMetrics, startMetricsServer, MetricsSource, ICMP_TYPES } from '../src/metrics';
import { newControlPlaneCounters } from '../src/controlplane';
import { NEIGH_STATES } from '../src/neighbors';
import { buildUdp4, makeUdpFlows, writePcap } from '../src/packet';
import { freePort, ROOT, startForwarder, tmpDir, waitFor, Running } from './helpers/forwarder';

// ---- the text exposition, parsed back ----

interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  series: Series[];
}

function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const series: Series[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    let m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (m) {
      (m[1] === 'HELP' ? help : types).set(m[2], m[3]);
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `exposition line parses: ${line}`);
    const labels: Record<string, string> = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
    let l;
    while ((l = re.exec(m[2] ?? ''))) labels[l[1]] = l[2].replace(/\\(.)/g, (_x, c) => (c === 'n' ? '\n' : c));
    series.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { types, help, series };
}

function pick(e: Exposition, name: string, labels: Record<string, string> = {}): Series[] {
  return e.series.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

function one(e: Exposition, name: string, labels: Record<string, string> = {}): number {
  const s = pick(e, name, labels);
  assert.equal(s.length, 1, `one series ${name}${JSON.stringify(labels)} (got ${s.length})`);
  return s[0].value;
}

/** Every metric the issue names, with its type. */
const EXPECTED: Record<string, string> = {
  dpfwd_build_info: 'gauge',
  dpfwd_port_info: 'gauge',
  dpfwd_csum_completed_total: 'counter',
  dpfwd_port_up: 'gauge',
  dpfwd_port_speed_bytes: 'gauge',
  dpfwd_port_mtu_bytes: 'gauge',
  dpfwd_port_receive_packets_total: 'counter',
  dpfwd_port_receive_bytes_total: 'counter',
  dpfwd_port_transmit_packets_total: 'counter',
  dpfwd_port_transmit_bytes_total: 'counter',
  dpfwd_port_receive_errors_total: 'counter',
  dpfwd_port_transmit_errors_total: 'counter',
  dpfwd_port_receive_missed_total: 'counter',
  dpfwd_port_receive_nombuf_total: 'counter',
  dpfwd_forwarded_packets_total: 'counter',
  dpfwd_drops_total: 'counter',
  dpfwd_worker_busy_seconds_total: 'counter',
  dpfwd_worker_idle_seconds_total: 'counter',
  dpfwd_worker_packets_total: 'counter',
  dpfwd_worker_rx_bursts_total: 'counter',
  dpfwd_capture_packets_total: 'counter',
  dpfwd_capture_dropped_total: 'counter',
  dpfwd_routes: 'gauge',
  dpfwd_routes_max: 'gauge',
  dpfwd_fib_tbl8_groups_used: 'gauge',
  dpfwd_fib_tbl8_groups_max: 'gauge',
  dpfwd_route_updates_total: 'counter',
  dpfwd_neighbors: 'gauge',
  dpfwd_neighbor_limited_total: 'counter',
  dpfwd_arp_ignored_total: 'counter',
  dpfwd_nexthops: 'gauge',
  dpfwd_nexthops_max: 'gauge',
  dpfwd_mempool_available: 'gauge',
  dpfwd_mempool_in_use: 'gauge',
  dpfwd_icmp_sent_total: 'counter',
  dpfwd_icmp_ratelimited_total: 'counter',
  dpfwd_arp_requests_sent_total: 'counter',
  dpfwd_arp_replies_sent_total: 'counter',
  dpfwd_punts_total: 'counter',
};

function get(url: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
      })
      .on('error', reject);
  });
}

function request(url: string, method: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const r = http.request(url, { method }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    r.on('error', reject);
    r.end();
  });
}

// ---- a fake forwarder: two ports, two workers, known counter values ----

function fakeSource() {
  const names = Dataplane.names(); // the real C list
  const calls = { snapshot: 0 };
  const R = names.drops.length;
  const worker = (w: number) => {
    const counters: Record<string, number> = {};
    names.worker.forEach((n, i) => {
      counters[n] = 1000 * (w + 1) + i;
    });
    counters.busy_cycles = 3e9 * (w + 1);
    counters.idle_cycles = 1e9;
    return {
      index: w,
      counters,
      ports: [0, 1].map((p) => ({
        forwarded: 100 * (p + 1) + w,
        drops: Array.from({ length: R }, (_x, r) => (p === 1 && r === 2 ? 7 + w : 0)),
        counters: names.port.map((_n, k) => (p === 0 ? 50 + k + w : 0)),
      })),
      punts: names.punts.map((_n, k) => ({ punted: k + w, limited: w })),
    };
  };
  let alive = 2;
  let punt = [
    { waiting: 0, capacity: 1023, sinceDrainMs: 5000 },
    { waiting: 3, capacity: 1023, sinceDrainMs: 2 },
  ];
  const cp = {
    counters: newControlPlaneCounters(),
    neighbors: {
      countByState: () => ({ INCOMPLETE: 1, REACHABLE: 2, STALE: 0, FAILED: 0, PERMANENT: 3 }),
      limitsByPort: [
        { rate: 0, incomplete: 0, table_full: 0, nexthops: 0 },
        { rate: 11, incomplete: 2, table_full: 0, nexthops: 1 },
      ],
      ignored: { unsolicited: 6, locktime: 1 },
    },
  };
  cp.counters.icmpSent.time_exceeded = 4;
  cp.counters.arpRequestsSent = 5;
  const src: MetricsSource = {
    dp: {
      snapshot: (): CounterSnapshot => {
        calls.snapshot++;
        return { tscHz: 1e9, workers: [worker(0), worker(1)] };
      },
      names: () => names,
      portInfo: (i) => ({
        portId: i,
        mac: 0x020000000000 + i,
        driver: 'net_null',
        mtu: 1500,
        linkUp: i === 0,
        speedMbps: 10000,
        rxQueues: 1,
        txQueues: 2,
        numaNode: 0,
      }),
      portStats: (i) => ({ ipackets: 10 + i, opackets: 20 + i, ibytes: 30 + i, obytes: 40 + i, ierrors: 1, oerrors: 2, imissed: 3, rxNombuf: 4 }),
      mempoolInfo: () => ({ size: 8192, available: 8000, inUse: 192, dataRoom: 2176 }),
      fibInfo: () => ({ maxRoutes: 1024, tbl8Groups: 256, tbl8Used: 3, maxNexthops: 4096, routes: 7, lookupStaged: false }),
      workersAlive: () => alive,
      puntStatus: () => punt,
    },
    rib: {
      counts: { static: 4, connected: 2, local: 2, neighbor: 1, linux: 0 },
      updates: { add: { ok: 9, error: 1 }, del: { ok: 2, error: 0 } },
      nexthopUsage: () => ({ used: 12, max: 64, learned: 5, learnedMax: 16 }),
    },
    cp,
    ports: [
      { index: 0, name: 'west', device: 'net_null0,no-rx=1', driver: 'net_null' },
      { index: 1, name: 'east', device: '0000:01:00.0', driver: 'net_ice' },
    ],
    config: {
      workers: [
        { lcore: 1, rx: [], idleSleepUs: 0 },
        { lcore: 2, rx: [], idleSleepUs: 0 },
      ],
      punt: { rate: 10000, burst: 256, maxWaitMs: 1000 },
    },
  };
  return {
    src,
    names,
    calls,
    setAlive: (n: number) => {
      alive = n;
    },
    setPunt: (p: typeof punt) => {
      punt = p;
    },
  };
}

describe('metrics: exposition', () => {
  it('exports every metric of the issue with its type and help, values summed over workers', async () => {
    const { src, names } = fakeSource();
    const m = createMetrics(src, { defaults: false });
    const e = parseExposition(await m.scrape());
    for (const [name, type] of Object.entries(EXPECTED)) {
      assert.equal(e.types.get(name), type, `${name} is a ${type}`);
      assert.ok((e.help.get(name) ?? '').length > 10, `${name} has help`);
      assert.ok(pick(e, name).length > 0, `${name} has a series`);
    }
    const b = pick(e, 'dpfwd_build_info')[0];
    assert.equal(b.labels.node_version, process.version);
    assert.match(b.labels.dpdk_version, /^\d+\.\d+/);
    assert.equal(b.labels.version, JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
    assert.equal(one(e, 'dpfwd_port_info', { port: 'west', device: 'net_null0', driver: 'net_null', mac: '02:00:00:00:00:00' }), 1);
    assert.equal(one(e, 'dpfwd_port_up', { port: 'west' }), 1);
    assert.equal(one(e, 'dpfwd_port_up', { port: 'east' }), 0);
    assert.equal(one(e, 'dpfwd_port_speed_bytes', { port: 'east' }), 1.25e9);
    assert.equal(one(e, 'dpfwd_port_receive_packets_total', { port: 'east' }), 11);
    assert.equal(one(e, 'dpfwd_port_transmit_bytes_total', { port: 'east' }), 41);
    assert.equal(one(e, 'dpfwd_port_receive_missed_total', { port: 'west' }), 3);
    // forwarded: port 1 = (200 + 0) + (200 + 1)
    assert.equal(one(e, 'dpfwd_forwarded_packets_total', { port: 'east' }), 401);
    assert.equal(one(e, 'dpfwd_drops_total', { port: 'east', reason: names.drops[2] }), 15);
    // csum_completed (DP_PORT_COUNTERS): port 0 = 50 + 51
    assert.equal(one(e, 'dpfwd_csum_completed_total', { port: 'west' }), 101);
    assert.equal(one(e, 'dpfwd_csum_completed_total', { port: 'east' }), 0);
    assert.equal(one(e, 'dpfwd_worker_busy_seconds_total', { worker: '1' }), 6);
    assert.equal(one(e, 'dpfwd_worker_idle_seconds_total', { worker: '0' }), 1);
    assert.equal(one(e, 'dpfwd_worker_info', { worker: '1', lcore: '2' }), 1);
    assert.equal(one(e, 'dpfwd_worker_packets_total', { worker: '0' }), 1000 + names.worker.indexOf('rx_packets'));
    assert.equal(one(e, 'dpfwd_punts_total', { reason: names.punts[3] }), 3 + 4);
    assert.equal(one(e, 'dpfwd_routes', { origin: 'static' }), 4);
    assert.equal(one(e, 'dpfwd_routes_max'), 1024);
    assert.equal(one(e, 'dpfwd_fib_tbl8_groups_used'), 3);
    assert.equal(one(e, 'dpfwd_route_updates_total', { op: 'add', result: 'error' }), 1);
    assert.deepEqual(
      pick(e, 'dpfwd_neighbors').map((s) => s.labels.state),
      NEIGH_STATES.map((s) => s.toLowerCase()),
    );
    assert.equal(one(e, 'dpfwd_neighbors', { state: 'permanent' }), 3);
    assert.equal(one(e, 'dpfwd_neighbor_limited_total', { port: 'east', reason: 'rate' }), 11);
    assert.equal(one(e, 'dpfwd_neighbor_limited_total', { port: 'west', reason: 'rate' }), 0);
    assert.equal(one(e, 'dpfwd_arp_ignored_total', { reason: 'locktime' }), 1);
    assert.equal(one(e, 'dpfwd_nexthops', { holder: 'other' }), 7);
    assert.equal(one(e, 'dpfwd_nexthops_max', { holder: 'learned' }), 16);
    assert.equal(one(e, 'dpfwd_mempool_in_use', { pool: 'mbufs' }), 192);
    assert.deepEqual(
      pick(e, 'dpfwd_icmp_sent_total')
        .map((s) => s.labels.type)
        .sort(),
      [...ICMP_TYPES].sort(),
    );
    assert.equal(one(e, 'dpfwd_icmp_sent_total', { type: 'time_exceeded' }), 4);
    assert.equal(one(e, 'dpfwd_arp_requests_sent_total'), 5);
  });

  it('exports every drop reason of the C list for every port, zeros included, and nothing else', async () => {
    const { src, names } = fakeSource();
    const e = parseExposition(await createMetrics(src, { defaults: false }).scrape());
    const drops = pick(e, 'dpfwd_drops_total');
    assert.equal(drops.length, 2 * names.drops.length);
    for (const port of ['west', 'east']) {
      assert.deepEqual(
        drops.filter((s) => s.labels.port === port).map((s) => s.labels.reason),
        names.drops,
      );
    }
    assert.deepEqual(
      pick(e, 'dpfwd_punts_total').map((s) => s.labels.reason),
      names.punts,
    );
    assert.ok(names.drops.includes('bad_checksum') && names.drops.includes('tx_full'));
  });

  it('VLAN sub-interfaces get their own forwarded, drop and port-counter series (port="west.100"), read from snapshot subifs', async () => {
    const { src, names } = fakeSource();
    const R = names.drops.length;
    const snap = src.dp.snapshot;
    src.maxPorts = 16;
    src.ifaces = {
      list: () => [
        { index: 0, name: 'west', vlan: 0 },
        { index: 1, name: 'east', vlan: 0 },
        { index: 17, name: 'west.100', vlan: 100 },
      ],
    };
    src.dp.snapshot = () => {
      const s = snap();
      // slot 1 = interface 17; slot 0 is a deleted one and must not appear
      for (const w of s.workers)
        w.subifs = [
          undefined,
          {
            forwarded: 30,
            drops: Array.from({ length: R }, (_x, r) => (names.drops[r] === 'unknown_vlan' ? 0 : r === 3 ? 2 : 0)),
            counters: names.port.map(() => 1),
          },
        ];
      return s;
    };
    const e = parseExposition(await createMetrics(src, { defaults: false }).scrape());
    assert.equal(one(e, 'dpfwd_forwarded_packets_total', { port: 'west.100' }), 60, 'summed over both workers');
    assert.equal(one(e, 'dpfwd_drops_total', { port: 'west.100', reason: names.drops[3] }), 4);
    assert.deepEqual(
      pick(e, 'dpfwd_drops_total', { port: 'west.100' }).map((x) => x.labels.reason),
      names.drops,
    );
    assert.equal(one(e, `dpfwd_${names.port[0]}_total`, { port: 'west.100' }), 2);
    assert.deepEqual([...new Set(pick(e, 'dpfwd_forwarded_packets_total').map((x) => x.labels.port))], ['west', 'east', 'west.100']);
  });

  it('dpfwd_neighbor_limited_total has a series per interface, sub-interfaces included (port="west.100")', async () => {
    const { src } = fakeSource();
    src.maxPorts = 16;
    src.ifaces = {
      list: () => [
        { index: 0, name: 'west', vlan: 0 },
        { index: 1, name: 'east', vlan: 0 },
        { index: 17, name: 'west.100', vlan: 100 },
      ],
    };
    src.cp.neighbors.limitsByPort[17] = { rate: 5, incomplete: 0, table_full: 3, nexthops: 0 };
    const e = parseExposition(await createMetrics(src, { defaults: false }).scrape());
    assert.equal(one(e, 'dpfwd_neighbor_limited_total', { port: 'west.100', reason: 'rate' }), 5);
    assert.equal(one(e, 'dpfwd_neighbor_limited_total', { port: 'west.100', reason: 'table_full' }), 3);
    assert.equal(one(e, 'dpfwd_neighbor_limited_total', { port: 'east', reason: 'rate' }), 11, 'the ports keep theirs');
    assert.deepEqual([...new Set(pick(e, 'dpfwd_neighbor_limited_total').map((x) => x.labels.port))], ['west', 'east', 'west.100']);
  });

  it("exports the route sync's state (dpfwd_sync_*) when it runs, and a failed sync socket makes health fail", async () => {
    const { src } = fakeSource();
    const m0 = parseExposition(await createMetrics(src, { defaults: false }).scrape());
    for (const n of ['dpfwd_sync_up', 'dpfwd_sync_kernel_routes', 'dpfwd_sync_overflows_total'])
      assert.equal(pick(m0, n).length, 0, `no ${n} series without a sync`);
    const st = {
      netns: 'dpfwd',
      table: 254,
      protocols: 'all',
      state: 'synced' as 'synced' | 'failed',
      kernelRoutes: 10,
      installed: 4,
      shadowed: 1,
      unusable: 2,
      failed: 0,
      refused: 3,
      refusedBy: { destination: 1, gateway: 2 },
      lastRefusal: null,
      missing: 0,
      overLimit: 0,
      byProtocol: { bgp: 5, ospf: 2 },
      dumps: 3,
      lastDump: '2026-12-02T07:00:00.000Z',
      lastDumpMs: 12,
      overflows: 2,
      errors: 1,
      lastError: null as string | null,
    };
    const withSync: MetricsSource = { ...src, sync: { status: () => st } };
    const e = parseExposition(await createMetrics(withSync, { defaults: false }).scrape());
    assert.equal(one(e, 'dpfwd_sync_kernel_routes', { state: 'installed' }), 4);
    assert.equal(one(e, 'dpfwd_sync_kernel_routes', { state: 'unusable' }), 2);
    assert.equal(one(e, 'dpfwd_sync_kernel_routes', { state: 'refused' }), 3);
    assert.equal(one(e, 'dpfwd_sync_refused_routes', { reason: 'gateway' }), 2);
    assert.equal(one(e, 'dpfwd_sync_refused_routes', { reason: 'destination' }), 1);
    assert.equal(one(e, 'dpfwd_sync_missing_routes', { table: '254' }), 0);
    assert.equal(one(e, 'dpfwd_sync_routes', { protocol: 'bgp' }), 5);
    assert.equal(one(e, 'dpfwd_sync_overflows_total', { table: '254' }), 2);
    assert.equal(one(e, 'dpfwd_sync_dumps_total', { table: '254' }), 3);
    assert.equal(one(e, 'dpfwd_sync_last_dump_timestamp_seconds', { table: '254' }), Date.parse(st.lastDump) / 1000);
    assert.equal(one(e, 'dpfwd_sync_up', { table: '254' }), 1);
    const ctx = { fwd: { ...withSync, startedAt: Date.now() }, baseline: undefined } as unknown as Parameters<typeof apiHealth>[0];
    st.state = 'failed';
    st.lastError = 'the netlink socket failed (errno 9); routes are no longer followed: restart dpfwd';
    const e2 = parseExposition(await createMetrics(withSync, { defaults: false }).scrape());
    assert.equal(one(e2, 'dpfwd_sync_up', { table: '254' }), 0);
    const h = apiHealth(ctx);
    assert.equal(h.ok, false);
    assert.equal(h.problem, `route sync failed: ${st.lastError}`);
  });

  it('reads one snapshot per scrape, none between scrapes (no timers)', async () => {
    const { src, calls } = fakeSource();
    const m = createMetrics(src);
    assert.equal(calls.snapshot, 0);
    await m.scrape();
    assert.equal(calls.snapshot, 1);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(calls.snapshot, 1);
    await m.scrape();
    assert.equal(calls.snapshot, 2);
    const e = parseExposition(await m.scrape());
    assert.ok(pick(e, 'process_cpu_user_seconds_total').length === 1, 'default process metrics on the dedicated registry');
  });

  it('serves /metrics and /healthz; 404 elsewhere; 405 for other methods', async () => {
    const f = fakeSource();
    const m = createMetrics(f.src, { defaults: false });
    const s = await startMetricsServer(f.src, m, { host: '127.0.0.1', port: 0 });
    try {
      const base = `http://127.0.0.1:${s.address.port}`;
      const r = await get(`${base}/metrics`);
      assert.equal(r.status, 200);
      assert.equal(r.type, m.contentType);
      assert.ok(r.body.includes('dpfwd_drops_total{'));
      assert.equal((await get(`${base}/metrics?x=1`)).status, 200);
      assert.deepEqual(await get(`${base}/healthz`), { status: 200, type: 'text/plain; charset=utf-8', body: 'ok\n' });
      f.setAlive(1);
      const h = await get(`${base}/healthz`);
      assert.equal(h.status, 503);
      assert.equal(h.body, 'workers alive: 1 of 2\n');
      f.setAlive(2);
      // punts waiting while the control plane has not drained for longer than punt.maxWaitMs
      f.setPunt([
        { waiting: 0, capacity: 1023, sinceDrainMs: 5000 },
        { waiting: 1023, capacity: 1023, sinceDrainMs: 1500 },
      ]);
      assert.deepEqual(await get(`${base}/healthz`), {
        status: 503,
        type: 'text/plain; charset=utf-8',
        body: 'control plane stuck: 1023 punted packets on worker 1 waited 1500 ms (punt.maxWaitMs 1000)\n',
      });
      // the control socket's health op is the same check
      const op = apiHealth({ fwd: { ...f.src, startedAt: Date.now() }, baseline: undefined } as unknown as Parameters<typeof apiHealth>[0]);
      assert.deepEqual([op.ok, op.problem], [false, 'control plane stuck: 1023 punted packets on worker 1 waited 1500 ms (punt.maxWaitMs 1000)']);
      // the same wait within the bound, or a long idle time with nothing waiting, is healthy
      f.setPunt([
        { waiting: 0, capacity: 1023, sinceDrainMs: 60000 },
        { waiting: 1023, capacity: 1023, sinceDrainMs: 999 },
      ]);
      assert.equal((await get(`${base}/healthz`)).status, 200);
      assert.equal((await get(`${base}/`)).status, 404);
      assert.equal((await get(`${base}/metricsx`)).status, 404);
      assert.equal(await request(`${base}/metrics`, 'POST'), 405);
      assert.equal(await request(`${base}/metrics`, 'HEAD'), 200);
    } finally {
      await s.close();
    }
  });

  it('refuses a port in use with EADDRINUSE naming the address and metrics.listen', async () => {
    const f = fakeSource();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await assert.rejects(
        startMetricsServer(f.src, createMetrics(f.src, { defaults: false }), { host: '127.0.0.1', port }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'EADDRINUSE');
          assert.ok(e.message.includes(`127.0.0.1:${port}`), e.message);
          assert.ok(e.message.includes('metrics.listen'), e.message);
          return true;
        },
      );
    } finally {
      blocker.close();
    }
  });
});

// ---- live: a real forwarder and a real Prometheus ----

const HOST_MAC = '02:00:00:00:01:02';
const BAD_CHECKSUM = 37;
const NO_ROUTE = 5;

function havePrometheus(): boolean {
  return spawnSync('prometheus', ['--version']).status === 0 && spawnSync('promtool', ['--version']).status === 0;
}

async function promQuery(base: string, expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const r = await get(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const j = JSON.parse(r.body);
  assert.equal(j.status, 'success', `${expr}: ${r.body}`);
  return j.data.result;
}

/** Every target expression of the dashboard, rows' nested panels included. */
function dashboardQueries(): { panel: string; expr: string }[] {
  const d = JSON.parse(fs.readFileSync(path.join(ROOT, 'deploy', 'grafana', 'dpfwd.json'), 'utf8'));
  const out: { panel: string; expr: string }[] = [];
  const walk = (ps: any[]) => {
    for (const p of ps ?? []) {
      for (const t of p.targets ?? []) out.push({ panel: p.title, expr: t.expr });
      walk(p.panels);
    }
  };
  walk(d.panels);
  return out;
}

describe('metrics: a live forwarder scraped by Prometheus', function () {
  this.timeout(120000);
  let dir: string;
  let fwd: Running;
  let metricsUrl: string;
  let prom: ChildProcess | undefined;
  let promBase: string;
  let promLog = '';

  before(async function () {
    if (!havePrometheus()) throw new Error('prometheus/promtool missing: apt-get install -y prometheus (scripts/setup.sh does)');
    dir = tmpDir('metrics');
    // west: an endless replay of good flows; north: a finite capture with bad checksums and
    // no-route packets, so those drop counters become non-zero and then stop changing
    // (sources 10.6.0.2-10.6.1.1: none is the router's address or a subnet broadcast, RFC 1812 5.3.7)
    writePcap(
      path.join(dir, 'flows.pcap'),
      makeUdpFlows({ count: 256, srcMac: HOST_MAC, dstMac: '02:70:63:61:70:00', srcBase: '10.6.0.2', dstBase: '10.20.0.0' }),
    );
    const finite: Buffer[] = [];
    for (let i = 0; i < 100; i++)
      finite.push(buildUdp4({ srcMac: HOST_MAC, dstMac: '02:70:63:61:70:01', src: '10.4.0.2', dst: `10.20.1.${i}`, sport: 1, dport: 2, ttl: 64 }));
    for (let i = 0; i < BAD_CHECKSUM; i++)
      finite.push(
        buildUdp4({ srcMac: HOST_MAC, dstMac: '02:70:63:61:70:01', src: '10.4.0.2', dst: '10.20.2.1', sport: 1, dport: 2, ttl: 64, checksum: 0x1234 }),
      );
    for (let i = 0; i < NO_ROUTE; i++)
      finite.push(buildUdp4({ srcMac: HOST_MAC, dstMac: '02:70:63:61:70:01', src: '10.4.0.2', dst: '192.0.2.9', sport: 1, dport: 2, ttl: 64 }));
    writePcap(path.join(dir, 'north.pcap'), finite);
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    fwd = await startForwarder(
      {
        eal: { lcores: '0-1' },
        ports: [
          { name: 'west', device: `net_pcap0,rx_pcap=${dir}/flows.pcap,infinite_rx=1`, address: '10.1.0.1/24' },
          { name: 'north', device: `net_pcap1,rx_pcap=${dir}/north.pcap,tx_pcap=${dir}/north-out.pcap`, address: '10.4.0.1/24' },
          { name: 'east', device: 'net_null0,no-rx=1', address: '10.2.0.1/24' },
        ],
        neighbors: [{ address: '10.2.0.2', mac: '02:00:00:00:02:02', port: 'east' }],
        routes: [{ prefix: '10.20.0.0/16', via: '10.2.0.2' }],
        metrics: { listen: `127.0.0.1:${port}` },
      },
      { dir },
    );
    assert.ok(fwd.stderr().includes(`metrics ${metricsUrl}`), fwd.stderr());

    // Prometheus from the example config, pointed at this forwarder, 1 s scrapes
    const cfg = parseYaml(fs.readFileSync(path.join(ROOT, 'deploy', 'prometheus', 'prometheus.yml'), 'utf8'));
    cfg.global.scrape_interval = '1s';
    cfg.global.evaluation_interval = '1s';
    cfg.scrape_configs[0].scrape_interval = '1s';
    cfg.scrape_configs[0].scrape_timeout = '1s';
    cfg.scrape_configs[0].static_configs[0].targets = [`127.0.0.1:${port}`];
    // the alert rules, relative to deploy/prometheus in the file, absolute here
    cfg.rule_files = cfg.rule_files.map((f: string) => path.join(ROOT, 'deploy', 'prometheus', f));
    const cfgFile = path.join(dir, 'prometheus.yml');
    fs.writeFileSync(cfgFile, stringify(cfg));
    const check = spawnSync('promtool', ['check', 'config', cfgFile], { encoding: 'utf8' });
    assert.equal(check.status, 0, `promtool check config: ${check.stdout}${check.stderr}`);
    const promPort = await freePort();
    promBase = `http://127.0.0.1:${promPort}`;
    prom = spawn(
      'prometheus',
      [
        `--config.file=${cfgFile}`,
        `--storage.tsdb.path=${dir}/tsdb`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
        '--storage.tsdb.retention.time=1h',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prom.stderr!.setEncoding('utf8');
    prom.stderr!.on('data', (d: string) => {
      promLog += d;
    });
    await waitFor('prometheus ready', async () => (await get(`${promBase}/-/ready`)).status === 200, 20000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${promLog}`);
    });
  });

  after(async () => {
    if (prom?.pid && prom.exitCode === null) {
      const exited = new Promise((r) => prom!.once('exit', r));
      process.kill(prom.pid, 'SIGTERM');
      const t = setTimeout(() => prom?.pid && prom.exitCode === null && process.kill(prom.pid, 'SIGKILL'), 10000);
      await exited;
      clearTimeout(t);
    }
    if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves a scrape that promtool accepts, with every drop reason for every port', async () => {
    const r = await get(metricsUrl);
    assert.equal(r.status, 200);
    assert.match(r.type, /^text\/plain; version=0\.0\.4/);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: r.body, encoding: 'utf8' });
    assert.equal(check.status, 0, `promtool check metrics:\n${check.stdout}${check.stderr}`);
    const e = parseExposition(r.body);
    const names = (await fwd.call('show.counters')).names;
    for (const port of ['west', 'north', 'east']) {
      assert.deepEqual(
        pick(e, 'dpfwd_drops_total', { port }).map((s) => s.labels.reason),
        names.drops,
        `every reason on ${port}`,
      );
    }
    for (const name of Object.keys(EXPECTED)) assert.ok(pick(e, name).length > 0, `${name} present`);
    assert.equal(one(e, 'dpfwd_routes', { origin: 'static' }), 1);
    assert.equal(one(e, 'dpfwd_port_info', { port: 'east', device: 'net_null0' }), 1);
    assert.ok(one(e, 'dpfwd_forwarded_packets_total', { port: 'west' }) > 0);
    assert.ok(one(e, 'dpfwd_worker_busy_seconds_total', { worker: '0' }) > 0);
    assert.deepEqual(await get(metricsUrl.replace('/metrics', '/healthz')), { status: 200, type: 'text/plain; charset=utf-8', body: 'ok\n' });
  });

  it('Prometheus sees forwarding (rate > 0) and the same drop counters as `show drops`', async () => {
    const rate = await waitFor(
      'rate(dpfwd_forwarded_packets_total[5s]) > 0',
      async () => {
        const v = await promQuery(promBase, 'rate(dpfwd_forwarded_packets_total{port="west"}[5s]) > 0');
        return v.length === 1 && Number(v[0].value[1]);
      },
      20000,
    );
    assert.ok(rate > 1000, `forwarding rate seen by Prometheus: ${rate}/s`);

    // the finite capture is consumed at once: its drop counters stop changing; wait for a
    // scrape taken after that, then every (port, reason) must agree exactly
    let mismatch = '';
    await waitFor(
      'Prometheus drop counters equal show drops',
      async () => {
        const shown: { port: string; reason: string; packets: number }[] = await fwd.call('show.drops');
        const seen = await promQuery(promBase, 'dpfwd_drops_total');
        const byKey = new Map(seen.map((s) => [`${s.metric.port}/${s.metric.reason}`, Number(s.value[1])]));
        mismatch = '';
        if (seen.length !== shown.length) mismatch = `${seen.length} series in Prometheus, ${shown.length} rows in show drops`;
        for (const d of shown) {
          if (byKey.get(`${d.port}/${d.reason}`) !== d.packets)
            mismatch += ` ${d.port}/${d.reason}: show ${d.packets}, prometheus ${byKey.get(`${d.port}/${d.reason}`)}`;
        }
        return mismatch === '' && shown;
      },
      15000,
    ).catch((e) => {
      throw new Error(`${(e as Error).message}: ${mismatch}`);
    });
    const shown: { port: string; reason: string; packets: number }[] = await fwd.call('show.drops');
    assert.equal(shown.find((d) => d.port === 'north' && d.reason === 'bad_checksum')!.packets, BAD_CHECKSUM);
    assert.equal(shown.find((d) => d.port === 'north' && d.reason === 'no_route')!.packets, NO_ROUTE);
    const bad = await promQuery(promBase, 'dpfwd_drops_total{port="north",reason="bad_checksum"}');
    assert.equal(Number(bad[0].value[1]), BAD_CHECKSUM);
  });

  it('every Grafana panel query returns at least one series', async () => {
    const queries = dashboardQueries();
    assert.ok(queries.length >= 20, `${queries.length} panel queries`);
    const empty: string[] = [];
    for (const q of queries) {
      // the dashboard's variables as Grafana fills them: this forwarder's job and instance
      const expr = q.expr
        .replace(/\$__rate_interval/g, '5s')
        .replace(/\$job\b/g, 'dpfwd')
        .replace(/\$instance\b/g, new URL(metricsUrl).host);
      assert.ok(!expr.includes('$'), `${q.panel}: only $__rate_interval, $job and $instance are substituted (${q.expr})`);
      if ((await promQuery(promBase, expr)).length === 0) empty.push(`${q.panel}: ${q.expr}`);
    }
    assert.deepEqual(empty, [], 'panels without data');
  });

  it('the dashboard variables select this forwarder: another instance shows nothing', async () => {
    const { expr } = dashboardQueries()[0];
    const fill = (instance: string) =>
      expr
        .replace(/\$__rate_interval/g, '5s')
        .replace(/\$job\b/g, 'dpfwd')
        .replace(/\$instance\b/g, instance);
    assert.ok((await promQuery(promBase, fill(new URL(metricsUrl).host))).length > 0);
    assert.deepEqual(await promQuery(promBase, fill('192.0.2.1:9450')), []);
  });

  it('the alert rules are loaded and healthy, and every metric they use is exported', async () => {
    const rules = await waitFor(
      'rules evaluated',
      async () => {
        const j = JSON.parse((await get(`${promBase}/api/v1/rules`)).body);
        const rs = j.data.groups.flatMap((g: any) => g.rules);
        return rs.length > 0 && rs.every((r: any) => r.lastEvaluation && !r.lastEvaluation.startsWith('0001')) ? rs : undefined;
      },
      20000,
    );
    const file = parseYaml(fs.readFileSync(path.join(ROOT, 'deploy', 'prometheus', 'dpfwd-alerts.yml'), 'utf8'));
    const want = file.groups.flatMap((g: any) => g.rules.map((r: any) => r.alert));
    assert.deepEqual(
      rules.map((r: any) => r.name),
      want,
    );
    for (const r of rules) assert.equal(r.health, 'ok', `${r.name}: ${r.lastError}`);
    // a rule on a misspelt metric would be healthy and silent for ever: each metric must have data
    for (const r of rules) {
      for (const m of new Set<string>(r.query.match(/\b(?:dpfwd_[a-z0-9_]+|up)\b(?=[{[\s)])/g) ?? [])) {
        assert.ok((await promQuery(promBase, m === 'up' ? 'up{job="dpfwd"}' : m)).length > 0, `${r.name}: ${m} has series`);
      }
    }
    // a healthy forwarder that started seconds ago: workers poll, so no DpfwdWorkerDown or DpfwdDown
    const alerts = JSON.parse((await get(`${promBase}/api/v1/alerts`)).body).data.alerts;
    assert.deepEqual(
      alerts.filter((a: any) => ['DpfwdWorkerDown', 'DpfwdDown'].includes(a.labels.alertname)),
      [],
      'not even pending',
    );
  });

  it('counters never go backwards across `stats clear`; Prometheus sees no reset', async () => {
    const before = parseExposition((await get(metricsUrl)).body);
    await fwd.call('stats.clear');
    const shown: { port: string; reason: string; packets: number }[] = await fwd.call('show.drops');
    assert.equal(shown.find((d) => d.port === 'north' && d.reason === 'bad_checksum')!.packets, 0, 'the CLI view was cleared');
    const after = parseExposition((await get(metricsUrl)).body);
    let compared = 0;
    for (const s of before.series) {
      if (before.types.get(s.name) !== 'counter') continue;
      const a = pick(after, s.name, s.labels);
      assert.equal(a.length, 1, `${s.name}${JSON.stringify(s.labels)} still exported`);
      assert.ok(a[0].value >= s.value, `${s.name}${JSON.stringify(s.labels)}: ${s.value} → ${a[0].value}`);
      compared++;
    }
    assert.ok(compared > 60, `${compared} counter series compared`);
    assert.equal(one(after, 'dpfwd_drops_total', { port: 'north', reason: 'bad_checksum' }), BAD_CHECKSUM, 'raw totals, not the CLI baseline');
    // a few scrapes after the clear: Prometheus has seen no counter reset
    const t0 = Date.now();
    await waitFor('two scrapes after the clear', async () => Date.now() - t0 > 2500, 5000);
    const counters = [...after.types].filter(([n, t]) => t === 'counter' && n.startsWith('dpfwd_')).map(([n]) => n);
    for (const n of counters) {
      const resets = await promQuery(promBase, `sum(resets(${n}[1m]))`);
      assert.equal(resets.length, 1, `${n} in Prometheus`);
      assert.equal(Number(resets[0].value[1]), 0, `${n}: no counter resets`);
    }
  });
});
