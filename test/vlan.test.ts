/**
 * 802.1Q sub-interfaces in the dataplane, golden: a capture of tagged and untagged frames goes
 * through net_pcap into the real worker loop (in a child process, test/helpers/dp-child.ts) and
 * out of tx_pcap files; every output byte, every counter of every interface and every punted
 * frame (with its ingress interface) is asserted. Tags are stripped on ingress and pushed on
 * egress; unknown VLANs, priority tags, sub-interface MTUs, tagged ARP and inject are covered.
 */
import { strict as assert } from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { buildUdp4, buildArpRequest, buildIpv4Frame, writePcap, readPcap } from '../src/packet';
import { tmpDir } from './helpers/forwarder';
import { Topology, spawnIn } from './helpers/netns';
import type { ChildSpec } from './helpers/dp-child';
import type { CounterSnapshot } from '../src/dataplane';

const HOST_MAC = '02:00:00:00:01:02';
const WEST_MAC = '02:70:63:61:70:00'; // net_pcap's MACs: 02:70:63:61:70:<port id>
const EAST_MAC = '02:70:63:61:70:01';
const GW_EAST = '02:00:00:00:02:02';
const GW_300 = '02:00:00:00:03:00';
const HOST_200 = '02:00:00:00:02:00';

const MAX_PORTS = 16;
const WEST_100 = MAX_PORTS; // west.100
const WEST_200 = MAX_PORTS + 1; // west.200
const EAST_300 = MAX_PORTS + 2; // east.300, MTU 1000
const GONE = MAX_PORTS + 3; // created, then deleted

/** The frame with an 802.1Q tag (TPID `tpid`, TCI `tci`) after the MAC addresses. */
function tag(frame: Buffer, tci: number, tpid = 0x8100): Buffer {
  const t = Buffer.from([tpid >> 8, tpid & 0xff, tci >> 8, tci & 0xff]);
  return Buffer.concat([frame.subarray(0, 12), t, frame.subarray(12)]);
}

function udp(o: Partial<Parameters<typeof buildUdp4>[0]> & { dst: string }): Buffer {
  return buildUdp4({ srcMac: HOST_MAC, dstMac: WEST_MAC, src: '10.1.0.2', sport: 1000, dport: 2000, ttl: 64, ...o });
}

function ip(s: string): number {
  return s.split('.').reduce((a, b) => a * 256 + Number(b), 0);
}

interface Case {
  desc: string;
  frame: Buffer;
  /** forwarded: on which capture, the exact bytes, and the interface it counts on */
  out?: { file: 'east' | 'west'; bytes: Buffer | Buffer[]; in: number };
  drop?: { reason: string; iface: number };
  punt?: { kind: string; iface: number; bytes?: Buffer };
}

/** The fragments (MTU `mtu`, TTL − 1) a datagram without DF leaves as, each tagged `vid`. */
function fragsTagged(o: { dst: string; size: number; id: number }, mtu: number, vid: number, srcMac: string, dstMac: string): Buffer[] {
  const f = udp(o);
  const payload = f.subarray(34, 14 + f.readUInt16BE(16));
  const chunk = (mtu - 20) & ~7;
  const out: Buffer[] = [];
  for (let off = 0; off < payload.length; off += chunk) {
    out.push(
      tag(
        buildIpv4Frame({
          srcMac,
          dstMac,
          src: '10.1.0.2',
          dst: o.dst,
          protocol: 17,
          ttl: 63,
          id: o.id,
          mf: off + chunk < payload.length,
          fragmentOffset: off / 8,
          payload: payload.subarray(off, off + chunk),
          minSize: 0,
        }),
        vid,
      ),
    );
  }
  return out;
}

function cases(): Case[] {
  const arp = buildArpRequest({ senderMac: HOST_MAC, senderIp: '10.100.0.2', targetIp: '10.100.0.1' });
  const east = (o: { dst: string; ttl?: number }) => udp({ ...o, ttl: (o.ttl ?? 64) - 1, srcMac: EAST_MAC, dstMac: GW_EAST });
  return [
    { desc: 'untagged to east: the fast path, untouched', frame: udp({ dst: '10.20.4.4' }), out: { file: 'east', bytes: east({ dst: '10.20.4.4' }), in: 0 } },
    {
      desc: 'VLAN 100 in, untagged out: tag stripped',
      frame: tag(udp({ dst: '10.20.1.1' }), 100),
      out: { file: 'east', bytes: east({ dst: '10.20.1.1' }), in: WEST_100 },
    },
    {
      desc: 'VLAN 100 with priority 5 and DEI: same interface, tag stripped',
      frame: tag(udp({ dst: '10.20.2.2' }), 0xb064),
      out: { file: 'east', bytes: east({ dst: '10.20.2.2' }), in: WEST_100 },
    },
    {
      desc: "priority tag (VID 0): the port's untagged interface",
      frame: tag(udp({ dst: '10.20.3.3' }), 0x6000),
      out: { file: 'east', bytes: east({ dst: '10.20.3.3' }), in: 0 },
    },
    {
      desc: 'untagged in, east.300 out: tag 300 pushed',
      frame: udp({ dst: '10.30.1.1' }),
      out: { file: 'east', bytes: tag(udp({ dst: '10.30.1.1', ttl: 63, srcMac: EAST_MAC, dstMac: GW_300 }), 300), in: 0 },
    },
    {
      desc: 'VLAN 100 in, VLAN 200 out of the same port (two VLANs reach each other)',
      frame: tag(udp({ dst: '10.200.1.1' }), 100),
      out: { file: 'west', bytes: tag(udp({ dst: '10.200.1.1', ttl: 63, srcMac: WEST_MAC, dstMac: HOST_200 }), 200), in: WEST_100 },
    },
    { desc: 'a VLAN the port has no sub-interface for', frame: tag(udp({ dst: '10.20.1.1' }), 999), drop: { reason: 'unknown_vlan', iface: 0 } },
    {
      desc: 'a VLAN of the other port only (east.300) arriving on west',
      frame: tag(udp({ dst: '10.20.1.1' }), 300),
      drop: { reason: 'unknown_vlan', iface: 0 },
    },
    { desc: '802.1ad (0x88a8) outer tag', frame: tag(udp({ dst: '10.20.1.1' }), 100, 0x88a8), drop: { reason: 'not_ipv4', iface: 0 } },
    { desc: 'a tag and nothing after it', frame: tag(udp({ dst: '10.20.1.1' }), 100).subarray(0, 16), drop: { reason: 'truncated', iface: 0 } },
    {
      desc: 'VLAN 100 in, 1200 bytes for east.300 (MTU 1000)',
      frame: tag(udp({ dst: '10.30.2.2', size: 1200, df: true }), 100),
      drop: { reason: 'mtu_exceeded', iface: WEST_100 },
      punt: { kind: 'mtu_exceeded', iface: WEST_100, bytes: udp({ dst: '10.30.2.2', size: 1200, df: true }) },
    },
    {
      desc: "untagged, 1200 bytes for east.300: the sub-interface's MTU, not the port's (1500)",
      frame: udp({ dst: '10.30.3.3', size: 1200, df: true }),
      drop: { reason: 'mtu_exceeded', iface: 0 },
      punt: { kind: 'mtu_exceeded', iface: 0 },
    },
    {
      desc: 'VLAN 100 in, 1200 bytes without DF for east.300 (MTU 1000): fragments of 1000, each tagged 300',
      frame: tag(udp({ dst: '10.30.4.4', size: 1200, id: 0x4444 }), 100),
      out: { file: 'east', bytes: fragsTagged({ dst: '10.30.4.4', size: 1200, id: 0x4444 }, 1000, 300, EAST_MAC, GW_300), in: WEST_100 },
    },
    { desc: 'tagged ARP: punted untagged, with its interface', frame: tag(arp, 100), punt: { kind: 'arp', iface: WEST_100, bytes: arp } },
    { desc: "VLAN 100 to the router's address there: punted as local", frame: tag(udp({ dst: '10.100.0.1' }), 100), punt: { kind: 'local', iface: WEST_100 } },
    {
      desc: 'VLAN 100 with TTL 1',
      frame: tag(udp({ dst: '10.20.1.1', ttl: 1 }), 100),
      drop: { reason: 'ttl_expired', iface: WEST_100 },
      punt: { kind: 'ttl_expired', iface: WEST_100 },
    },
    { desc: 'to a next hop on a deleted sub-interface: blackhole', frame: tag(udp({ dst: '10.40.1.1' }), 100), drop: { reason: 'blackhole', iface: WEST_100 } },
  ];
}

describe('VLAN sub-interfaces in the dataplane (net_pcap in, tx_pcap out)', function () {
  this.timeout(60000);
  const table = cases();
  let dir: string;
  let res: {
    snapshot: CounterSnapshot;
    names: { drops: string[]; port: string[] };
    badSubifs: string[];
    injected: string[];
    punts: { port: number; iface: number; kind: string; hex: string }[];
  };
  let outEast: string[];
  let outWest: string[];
  const injArp = buildArpRequest({ senderMac: EAST_MAC, senderIp: '10.30.0.1', targetIp: '10.30.0.2' });

  before(() => {
    dir = tmpDir('vlan');
    writePcap(
      path.join(dir, 'in.pcap'),
      table.map((c) => c.frame),
    );
    const spec: ChildSpec = {
      eal: [
        'dpfwd',
        '-l',
        '0-1',
        '--main-lcore',
        '0',
        '--in-memory',
        '--log-level=notice',
        '--no-pci',
        '--no-telemetry',
        '--vdev',
        `net_pcap0,rx_pcap=${dir}/in.pcap,tx_pcap=${dir}/west.pcap`,
        '--vdev',
        `net_pcap1,tx_pcap=${dir}/east.pcap`,
      ],
      ports: [
        { name: 'west', devname: 'net_pcap0', mtu: 1500 },
        { name: 'east', devname: 'net_pcap1', mtu: 1500 },
      ],
      subifs: [
        { index: WEST_100, port: 0, vlan: 100, mtu: 1500 },
        { index: WEST_200, port: 0, vlan: 999, mtu: 1500 }, // then moved to VLAN 200: 999 must be free again
        { index: WEST_200, port: 0, vlan: 200, mtu: 1500 },
        { index: EAST_300, port: 1, vlan: 300, mtu: 1000 },
        { index: GONE, port: 1, vlan: 400, mtu: 1500 },
        { index: GONE, port: 1, vlan: 400, mtu: 1500, del: true },
      ],
      badSubifs: [
        { index: MAX_PORTS + 9, port: 0, vlan: 100, mtu: 1500 }, // west's VLAN 100 is taken
        { index: MAX_PORTS + 9, port: 0, vlan: 4095, mtu: 1500 },
        { index: MAX_PORTS + 9, port: 0, vlan: 0, mtu: 1500 },
        { index: MAX_PORTS + 9, port: 0, vlan: 101, mtu: 1501 }, // above the port's MTU
        { index: 1, port: 0, vlan: 101, mtu: 1500 }, // a port's untagged interface
        { index: MAX_PORTS + 1024, port: 0, vlan: 101, mtu: 1500 }, // past DP_MAX_SUBIFS
        { index: MAX_PORTS + 9, port: 2, vlan: 101, mtu: 1500 }, // no port 2
      ],
      nexthops: [
        { id: 1, iface: 1, mac: GW_EAST },
        { id: 2, iface: EAST_300, mac: GW_300 },
        { id: 3, iface: WEST_200, mac: HOST_200 },
        { id: 4, iface: 0xfffe, mac: '00:00:00:00:00:00' }, // local
        { id: 5, iface: GONE, mac: GW_EAST },
      ],
      routes: [
        { addr: ip('10.20.0.0'), len: 16, nh: 1 },
        { addr: ip('10.30.0.0'), len: 16, nh: 2 },
        { addr: ip('10.200.0.0'), len: 16, nh: 3 },
        { addr: ip('10.100.0.1'), len: 32, nh: 4 },
        { addr: ip('10.40.0.0'), len: 16, nh: 5 },
      ],
      expectRx: table.length,
      expectPunts: table.filter((c) => c.punt).length,
      inject: [
        { iface: EAST_300, hex: injArp.toString('hex') },
        { iface: 1, hex: injArp.toString('hex') },
        { iface: GONE, hex: injArp.toString('hex') },
        { iface: EAST_300, hex: Buffer.alloc(1015).toString('hex') }, // 1001 bytes of payload: above east.300's MTU
      ],
    };
    fs.writeFileSync(path.join(dir, 'spec.json'), JSON.stringify(spec));
    const r = spawnSync(process.execPath, [path.join(__dirname, 'helpers', 'dp-child.js'), path.join(dir, 'spec.json')], { encoding: 'utf8', timeout: 45000 });
    assert.equal(r.status, 0, `dp-child failed:\n${r.stderr}`);
    res = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const hex = (f: string) => readPcap(path.join(dir, f)).map((x) => x.data.toString('hex'));
    outEast = hex('east.pcap');
    outWest = hex('west.pcap');
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses bad sub-interfaces with the right error', () => {
    assert.deepEqual(res.badSubifs, ['EEXIST', 'EINVAL', 'EINVAL', 'EINVAL', 'EINVAL', 'EINVAL', 'ENODEV']);
  });

  it('emits exactly the expected bytes on each port (tags stripped and pushed), and the injected frames', () => {
    const want = (f: 'east' | 'west') => table.filter((c) => c.out?.file === f).flatMap((c) => [c.out!.bytes].flat().map((b) => b.toString('hex')));
    // injected: an ARP on east.300 leaves tagged 300, on east untagged
    const eastWant = [...want('east'), tag(injArp, 300).toString('hex'), injArp.toString('hex')];
    // frames from different ingress interfaces may leave in either order within a burst
    assert.deepEqual([...outEast].sort(), eastWant.sort());
    assert.deepEqual(outWest, want('west'));
  });

  it('inject: sent on a sub-interface and a port, EINJECT for a deleted one and beyond the MTU', () => {
    assert.deepEqual(res.injected, ['sent', 'sent', 'EINJECT', 'EINJECT']);
  });

  it('counts forwarded packets and each drop on the ingress interface (unknown VLANs on the port)', () => {
    const w = res.snapshot.workers[0];
    const counters = (i: number) => (i < MAX_PORTS ? w.ports[i] : w.subifs![i - MAX_PORTS])!;
    for (const i of [0, 1, WEST_100, WEST_200, EAST_300]) {
      assert.equal(counters(i).forwarded, table.filter((c) => c.out?.in === i).length, `forwarded on ${i}`);
      const drops: Record<string, number> = {};
      res.names.drops.forEach((n, r) => {
        if (counters(i).drops[r]) drops[n] = counters(i).drops[r];
      });
      const want: Record<string, number> = {};
      for (const c of table) if (c.drop?.iface === i) want[c.drop.reason] = (want[c.drop.reason] ?? 0) + 1;
      assert.deepEqual(drops, want, `drops on ${i}`);
    }
    assert.equal(w.subifs![GONE - MAX_PORTS], undefined, 'a deleted sub-interface is not in the snapshot');
    assert.equal(w.counters.rx_packets, table.length);
    // fragmenting counts on the egress sub-interface, the datagram as forwarded on its ingress
    const frag = res.names.port.indexOf('fragmented');
    assert.equal(counters(EAST_300).counters[frag], table.filter((c) => Array.isArray(c.out?.bytes)).length);
    assert.equal(counters(WEST_100).counters[frag], 0);
  });

  it('punts with the physical port and the ingress interface, tag stripped', () => {
    const want = table.filter((c) => c.punt).map((c) => ({ kind: c.punt!.kind, iface: c.punt!.iface, port: 0 }));
    assert.deepEqual(
      res.punts.map((p) => ({ kind: p.kind, iface: p.iface, port: p.port })),
      want,
    );
    for (const c of table) {
      if (!c.punt?.bytes) continue;
      const got = res.punts.find((p) => p.kind === c.punt!.kind && p.iface === c.punt!.iface)!;
      assert.equal(got.hex, c.punt.bytes.toString('hex'), c.desc);
    }
  });
});

/*
 * The same through a Linux kernel: a raw-socket host in a namespace (this kernel has no 802.1Q
 * devices) sends VLAN 100 frames over a veth whose other end is an af_packet port. The kernel
 * moves the tag into auxdata and DPDK 22.11's af_packet PMD puts it back into the frame (dpfwd
 * asks for no VLAN stripping), so the sub-interface sees it; a frame injected on the
 * sub-interface reaches the host tagged.
 */
describe('VLAN sub-interface on an af_packet port (raw-socket host in a namespace)', function () {
  this.timeout(60000);
  let topo: Topology;
  let dir: string;
  let res: { snapshot: CounterSnapshot; injected: string[]; ports: { mac: number }[]; names: { drops: string[] } };
  let host: { sent: number; received: { vlan: number | null; src: string; dst: string; payload: string }[] };
  let east: Buffer[];
  const injected = buildUdp4({
    srcMac: '02:00:00:00:00:01',
    dstMac: 'ff:ff:ff:ff:ff:ff',
    src: '10.100.0.1',
    dst: '10.61.0.2',
    sport: 7,
    dport: 7,
    ttl: 64,
    payload: Buffer.from('from west.100'),
  });

  before(async () => {
    topo = new Topology();
    const h = topo.addHost('vh', 61);
    const routerMac = fs.readFileSync(`/sys/class/net/${h.routerIf}/address`, 'utf8').trim();
    dir = tmpDir('vlan-afp');
    const spec: ChildSpec = {
      eal: [
        'dpfwd',
        '-l',
        '0-1',
        '--main-lcore',
        '0',
        '--in-memory',
        '--log-level=notice',
        '--no-pci',
        '--no-telemetry',
        '--vdev',
        `net_af_packet0,iface=${h.routerIf}`,
        '--vdev',
        `net_pcap1,tx_pcap=${dir}/east.pcap`,
      ],
      ports: [
        { name: 'vh', devname: 'net_af_packet0', mtu: 1500 },
        { name: 'east', devname: 'net_pcap1', mtu: 1500 },
      ],
      subifs: [{ index: WEST_100, port: 0, vlan: 100, mtu: 1500 }],
      nexthops: [{ id: 1, iface: 1, mac: GW_EAST }],
      routes: [{ addr: ip('10.20.0.0'), len: 16, nh: 1 }],
      // not a count of rx: the kernel's chatter on dpfwd's veth end is rx too, and five of those
      // before the host's frames ended the child early (0 of 5 forwarded on a loaded machine)
      expectRx: 0,
      expectPunts: 0,
      expectSubifForwarded: { index: WEST_100, count: 5 },
      inject: [{ iface: WEST_100, hex: injected.toString('hex') }],
      waitMs: 15000,
    };
    fs.writeFileSync(path.join(dir, 'spec.json'), JSON.stringify(spec));
    const child = spawn(process.execPath, [path.join(__dirname, 'helpers', 'dp-child.js'), path.join(dir, 'spec.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => {
      out += d;
    });
    child.stderr!.on('data', (d) => {
      err += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const t0 = Date.now();
    while (!err.includes('dp-child: ready') && Date.now() - t0 < 20000 && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    assert.ok(err.includes('dp-child: ready'), `dp-child did not start:\n${err}`);
    const p = spawnIn(h.ns, 'python3', [
      path.join(__dirname, '..', '..', 'test', 'helpers', 'vlan-host.py'),
      h.hostIf,
      routerMac,
      '100',
      '10.61.0.2',
      '10.20.1.1',
      '5',
      '4',
    ]);
    let hostOut = '';
    p.stdout!.on('data', (d) => {
      hostOut += d;
    });
    const hostDone = new Promise<void>((resolve) => p.on('exit', () => resolve()));
    const [code] = await Promise.all([exited, hostDone]);
    assert.equal(code, 0, `dp-child failed:\n${err}`);
    res = JSON.parse(out.trim().split('\n').pop()!);
    host = JSON.parse(hostOut.trim());
    east = readPcap(path.join(dir, 'east.pcap')).map((x) => x.data);
  });

  after(() => {
    topo?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('tagged frames from the kernel arrive on the sub-interface and leave east untagged', () => {
    const w = res.snapshot.workers[0];
    assert.equal(host.sent, 5);
    assert.equal(w.subifs![WEST_100 - MAX_PORTS]!.forwarded, 5, JSON.stringify(w.subifs));
    // the kernel's own chatter on the veth may show up as not_ipv4; a lost or mangled tag would not
    const drops = Object.fromEntries(res.names.drops.map((n, r) => [n, w.ports[0].drops[r]]).filter(([, v]) => v));
    assert.deepEqual(
      Object.keys(drops).filter((r) => r !== 'not_ipv4'),
      [],
      JSON.stringify(drops),
    );
    const udp = east.filter((b) => b.readUInt16BE(12) === 0x0800 && b.readUInt32BE(30) === ip('10.20.1.1'));
    assert.equal(udp.length, 5);
    for (const b of udp) assert.equal(b.subarray(0, 6).toString('hex'), GW_EAST.replace(/:/g, ''));
  });

  it('a frame injected on the sub-interface reaches the host with VLAN 100', () => {
    assert.deepEqual(res.injected, ['sent']);
    const got = host.received.filter((r) => r.src === '10.100.0.1');
    assert.equal(got.length, 1, JSON.stringify(host.received));
    assert.equal(got[0].vlan, 100);
    assert.equal(got[0].payload, injected.subarray(42).toString('hex'));
  });
});
