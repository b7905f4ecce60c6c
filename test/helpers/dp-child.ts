/**
 * Runs the real dataplane (src/dataplane's wrapper around the addon, worker on lcore 1) in a
 * child process from a JSON spec, without the control plane: ports, VLAN sub-interfaces, next
 * hops and routes as given, then waits for the capture to be read and prints one JSON line with
 * the counters, every punted frame (with port and interface) and the outcome of each call the
 * spec asks for. For tests of the native half that need no config or control plane
 * (test/vlan.test.ts). One EAL per process, hence a child.
 */
import * as fs from 'fs';
import { Dataplane, Punted } from '../../src/dataplane';
import { parseMac } from '../../src/net/mac';

export interface ChildSpec {
  eal: string[];
  ports: { name: string; devname: string; mtu: number; rxCutLen?: number }[];
  /** sub-interfaces to create, in order; `del: true` deletes the index instead */
  subifs: { index: number; port: number; vlan: number; mtu: number; del?: boolean }[];
  /** calls expected to throw: their error codes are reported */
  badSubifs?: { index: number; port: number; vlan: number; mtu: number }[];
  nexthops: { id: number; iface: number; mac: string }[];
  routes: { addr: number; len: number; nh: number }[];
  /** wait until the workers received this many packets, and this many were punted */
  expectRx: number;
  expectPunts: number;
  /**
   * and until sub-interface `index` forwarded this many packets: on a kernel-facing port rx also
   * counts the kernel's own chatter (IPv6 router solicitations, MLD reports on dpfwd's veth end),
   * so a count of rx can be reached before the test's frames arrive
   */
  expectSubifForwarded?: { index: number; count: number };
  inject?: { iface: number; hex: string }[];
  /** how long to wait for expectRx and expectPunts (default 20 s) */
  waitMs?: number;
}

async function main(): Promise<void> {
  const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as ChildSpec;
  const dp = new Dataplane();
  dp.ealInit(spec.eal);
  dp.start({
    ports: spec.ports.map((p) => ({ ...p, rxQueues: 1, rxDescriptors: 1024, txDescriptors: 1024 })),
    workers: [{ lcore: 1, rx: spec.ports.map((_p, i) => ({ port: i, queue: 0 })) }],
    maxRoutes: 1024,
    tbl8Groups: 64,
    maxNexthops: 64,
    mbufs: 4095,
    mbufCache: 64,
    puntRate: 10000,
    puntBurst: 256,
    puntRingSize: 1024,
  });
  const out: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const s of spec.subifs) {
    if (s.del) dp.ifaceDel(s.index);
    else dp.ifaceSet(s.index, s);
  }
  for (const b of spec.badSubifs ?? []) {
    try {
      dp.ifaceSet(b.index, b);
      errors.push('none');
    } catch (e) {
      errors.push((e as { code: string }).code);
    }
  }
  out.badSubifs = errors;
  for (const n of spec.nexthops) dp.nexthopSet(n.id, n.iface, parseMac(n.mac));
  for (const r of spec.routes) dp.fibAdd(r.addr, r.len, r.nh);
  const punts: { port: number; iface: number; kind: string; hex: string }[] = [];
  const kinds = dp.names().punts;
  dp.puntListen((frames: Punted[]) => {
    for (const f of frames) punts.push({ port: f.port, iface: f.iface, kind: kinds[f.kind], hex: f.data.toString('hex') });
  });
  dp.launch();
  process.stderr.write('dp-child: ready\n'); // a test may start its traffic now
  const deadline = Date.now() + (spec.waitMs ?? 20000);
  const rx = () => dp.snapshot().workers.reduce((a, w) => a + w.counters.rx_packets, 0);
  const maxPorts = dp.constants().maxPorts;
  const want = spec.expectSubifForwarded;
  const subifForwarded = () => (want ? dp.snapshot().workers.reduce((a, w) => a + (w.subifs?.[want.index - maxPorts]?.forwarded ?? 0), 0) : 0);
  while ((rx() < spec.expectRx || punts.length < spec.expectPunts || subifForwarded() < (want?.count ?? 0)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const injected: string[] = [];
  for (const i of spec.inject ?? []) {
    try {
      injected.push(dp.inject(i.iface, Buffer.from(i.hex, 'hex')) ? 'sent' : 'full');
    } catch (e) {
      injected.push((e as { code: string }).code);
    }
  }
  const sent = injected.filter((x) => x === 'sent').length;
  while (dp.snapshot().workers.reduce((a, w) => a + w.counters.injected, 0) < sent && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 100)); // the worker's TX flush after the inject ring
  out.injected = injected;
  out.snapshot = dp.snapshot();
  out.names = dp.names();
  out.punts = punts;
  out.ports = spec.ports.map((_p, i) => dp.portInfo(i));
  dp.stop();
  dp.cleanup();
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((e) => {
  process.stderr.write(`dp-child: ${(e as Error).stack}\n`);
  process.exit(1);
});
