/**
 * Golden forwarding through real DPDK ports: a capture replayed by net_pcap goes through the
 * worker loop and out of tx_pcap files; every output byte and every counter delta is asserted.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  buildUdp4,
  buildArpRequest,
  buildIpv4Frame,
  parseArp,
  ArpPacket,
  writePcap,
  readPcap,
  verifyIpv4HeaderChecksum,
  ipv4HeaderChecksum,
} from '../src/packet';
import { startForwarder, tmpDir, totals, waitFor, Running } from './helpers/forwarder';

const HOST_MAC = '02:00:00:00:01:02';
// net_pcap's own MACs (02:70:63:61:70:<port id>, "pcap"); checked against `show ports` below
const WEST_MAC = '02:70:63:61:70:00';
const EAST_MAC = '02:70:63:61:70:01';
const SOUTH_MAC = '02:70:63:61:70:02';
const GW_EAST = '02:00:00:00:02:02';
const GW_SOUTH = '02:00:00:00:03:02';
// fragments leave by a port of their own (MTU 1000): the exact path sends them as it makes them,
// ahead of the fast-path packets of the same burst still in the burst's list
const FRAG_MAC = '02:70:63:61:70:03';
const GW_FRAG = '02:00:00:00:06:02';

type Egress = 'east' | 'south' | 'frag';
interface Case {
  desc: string;
  frame: Buffer;
  /** forwarded: the egress port and the exact bytes expected there (fragments: each, in order) */
  out?: { port: Egress; bytes: Buffer | Buffer[] };
  /** dropped: the one reason counted on the ingress port */
  drop?: string;
  punt?: string;
}

function udp(o: Partial<Parameters<typeof buildUdp4>[0]> & { dst: string }): Buffer {
  return buildUdp4({ srcMac: HOST_MAC, dstMac: WEST_MAC, src: '10.1.0.2', sport: 1000, dport: 2000, ttl: 64, ...o });
}

/** What the router must emit for a forwarded packet: TTL−1, full checksum, new MACs. */
function fwd(o: Parameters<typeof udp>[0], port: Egress): Buffer {
  const mac = port === 'east' ? { srcMac: EAST_MAC, dstMac: GW_EAST } : { srcMac: SOUTH_MAC, dstMac: GW_SOUTH };
  return udp({ ...o, ttl: (o.ttl ?? 64) - 1, ...mac });
}

function fwdCase(desc: string, o: Parameters<typeof udp>[0], port: Egress): Case {
  return { desc, frame: udp(o), out: { port, bytes: fwd(o, port) } };
}

/**
 * What leaves `port` for a datagram without DF longer than its MTU (RFC 791 3.2): fragments of
 * (mtu − header) rounded down to 8 bytes, TTL − 1; the first with every option, the others with
 * options whose copy flag is clear turned into NOPs (what Linux's ip_options_fragment does).
 * `later` is the options of the later fragments (same length as o.options).
 */
/** A fragment of a fragment: offsets from the input's own (8-byte units), MF on the last too. */
function shiftFrag(offset8: number, mf: boolean): (f: Buffer) => Buffer {
  return (f) => {
    const b = Buffer.from(f);
    const fo = b.readUInt16BE(20);
    b.writeUInt16BE((fo & 0x2000) | (mf ? 0x2000 : 0) | ((fo & 0x1fff) + offset8), 20);
    b.writeUInt16BE(0, 24);
    b.writeUInt16BE(ipv4HeaderChecksum(b, 14), 24);
    return b;
  };
}

function fragsOut(o: Parameters<typeof udp>[0], port: Egress, mtu: number, later?: Buffer): Buffer[] {
  const frame = udp(o);
  const hl = (frame[14] & 0xf) * 4;
  const payload = frame.subarray(14 + hl, 14 + frame.readUInt16BE(16));
  const chunk = (mtu - hl) & ~7;
  const mac =
    port === 'east'
      ? { srcMac: EAST_MAC, dstMac: GW_EAST }
      : port === 'south'
        ? { srcMac: SOUTH_MAC, dstMac: GW_SOUTH }
        : { srcMac: FRAG_MAC, dstMac: GW_FRAG };
  const out: Buffer[] = [];
  for (let off = 0; off < payload.length; off += chunk) {
    out.push(
      buildIpv4Frame({
        ...mac,
        src: o.src ?? '10.1.0.2',
        dst: o.dst,
        protocol: 17,
        ttl: (o.ttl ?? 64) - 1,
        id: o.id ?? 0,
        options: off === 0 ? o.options : later,
        mf: off + chunk < payload.length,
        fragmentOffset: off / 8,
        payload: payload.subarray(off, off + chunk),
        minSize: 0,
      }),
    );
  }
  return out;
}

/** The frame with an 802.1Q tag (TPID 0x8100, VID `vid`) after the MAC addresses. */
function tag(frame: Buffer, vid: number): Buffer {
  const t = Buffer.from([0x81, 0x00, vid >> 8, vid & 0xff]);
  return Buffer.concat([frame.subarray(0, 12), t, frame.subarray(12)]);
}

/** An IPv4 id that makes the header checksum take a given value (before or after the TTL step). */
function idFor(o: Parameters<typeof udp>[0], want: number, after: boolean): number {
  for (let id = 0; id < 65536; id++) {
    const f = udp({ ...o, id, ttl: (o.ttl ?? 64) - (after ? 1 : 0) });
    if (ipv4HeaderChecksum(f, 14) === want || f.readUInt16BE(24) === want) return id;
  }
  throw new Error('no id found');
}

function cases(): Case[] {
  const zeroIn = { dst: '10.20.7.7', ttl: 64 };
  const zeroOut = { dst: '10.20.8.8', ttl: 64 };
  const ipv6 = Buffer.alloc(60);
  // addressed to west's MAC (these two once went to 02:00:00:00:00:01, which no port has: now
  // that dpfwd drops other hosts' frames as not_for_us they must be sent to the router)
  Buffer.from('027063617000' + '02000000010286dd', 'hex').copy(ipv6);
  const shortIp = Buffer.concat([Buffer.from('027063617000' + '020000000102' + '0800', 'hex'), Buffer.alloc(10, 0x45)]);
  const big = { dst: '10.60.1.1', size: 1200, id: 0x1234 };
  const big2 = { dst: '10.60.1.2', size: 2000, id: 0x1235 };
  const fragIn = { dst: '10.60.1.3', size: 1200, id: 0x1236, mf: true, fragmentOffset: 100 };
  const withOpts = { dst: '10.60.1.4', size: 1200, id: 0x1237, options: Buffer.from([7, 7, 4, 0, 0, 0, 0, 0x94, 4, 0, 0, 0]) };
  return [
    fwdCase('UDP via a gateway on east: TTL 64→63, MACs rewritten', { dst: '10.20.1.1' }, 'east'),
    fwdCase('UDP via a gateway on south, TTL 2 → 1 still forwarded', { dst: '10.30.5.5', ttl: 2 }, 'south'),
    fwdCase('host route to a neighbour in a connected subnet', { dst: '10.2.0.2' }, 'east'),
    fwdCase('header checksum 0x0000 on arrival (RFC 1624 edge)', { ...zeroIn, id: idFor(zeroIn, 0x0000, false) }, 'east'),
    fwdCase('header checksum 0x0000 after the TTL step (RFC 1624 edge)', { ...zeroOut, id: idFor(zeroOut, 0x0000, true) }, 'east'),
    fwdCase('IP options (IHL 6) are carried through', { dst: '10.20.2.2', options: Buffer.from([1, 1, 1, 0]) }, 'east'),
    fwdCase('DF set, 1000-byte frame within the MTU', { dst: '10.20.3.3', df: true, size: 1000 }, 'east'),
    { desc: 'IPv6 frame', frame: ipv6, drop: 'not_ipv4' },
    { desc: '802.1Q-tagged (VLAN 100) on a port without sub-interfaces', frame: tag(udp({ dst: '10.20.1.1' }), 100), drop: 'unknown_vlan' },
    { desc: 'IPv4 EtherType with 10 bytes of header', frame: shortIp, drop: 'truncated' },
    { desc: 'version 6 in an IPv4 frame', frame: udp({ dst: '10.20.1.1', version: 6 }), drop: 'bad_version' },
    { desc: 'IHL 4', frame: udp({ dst: '10.20.1.1', ihl: 4 }), drop: 'bad_header_length' },
    { desc: 'IHL 15 beyond a 60-byte frame', frame: udp({ dst: '10.20.1.1', ihl: 15 }), drop: 'bad_header_length' },
    { desc: 'total length below the header', frame: udp({ dst: '10.20.1.1', totalLength: 19 }), drop: 'bad_total_length' },
    { desc: 'total length beyond the frame', frame: udp({ dst: '10.20.1.1', totalLength: 1400 }), drop: 'bad_total_length' },
    { desc: 'bad header checksum', frame: udp({ dst: '10.20.1.1', checksum: 0x1234 }), drop: 'bad_checksum' },
    { desc: 'multicast destination', frame: udp({ dst: '224.0.0.5' }), drop: 'martian_address' },
    { desc: 'loopback source', frame: udp({ dst: '10.20.1.1', src: '127.0.0.1' }), drop: 'martian_address' },
    { desc: 'TTL 1', frame: udp({ dst: '10.20.1.1', ttl: 1 }), drop: 'ttl_expired', punt: 'ttl_expired' },
    { desc: 'TTL 0', frame: udp({ dst: '10.20.1.1', ttl: 0 }), drop: 'ttl_expired', punt: 'ttl_expired' },
    { desc: 'no route (no default route configured)', frame: udp({ dst: '192.0.2.1' }), drop: 'no_route', punt: 'no_route' },
    { desc: 'blackhole route', frame: udp({ dst: '10.99.1.1' }), drop: 'blackhole' },
    { desc: 'gateway without a known MAC', frame: udp({ dst: '10.40.1.1' }), drop: 'neighbor_unresolved', punt: 'unresolved' },
    { desc: 'unknown host in a connected subnet (glean)', frame: udp({ dst: '10.3.0.77' }), drop: 'neighbor_unresolved', punt: 'unresolved' },
    {
      desc: 'DF set and longer than the egress MTU (south: 1000)',
      frame: udp({ dst: '10.30.1.1', size: 1200, df: true }),
      drop: 'mtu_exceeded',
      punt: 'mtu_exceeded',
    },
    // RFC 791, RFC 1812 4.2.2.7: without DF, fragments of the egress MTU
    { desc: 'DF clear, 1200 bytes for south (MTU 1000): two fragments', frame: udp(big), out: { port: 'frag', bytes: fragsOut(big, 'frag', 1000) } },
    { desc: 'DF clear, 2000 bytes: three fragments', frame: udp(big2), out: { port: 'frag', bytes: fragsOut(big2, 'frag', 1000) } },
    {
      desc: 'a fragment (offset 100, MF) fragmented again: offsets from its own, MF kept on the last',
      frame: udp(fragIn),
      out: { port: 'frag', bytes: fragsOut(fragIn, 'frag', 1000).map(shiftFrag(100, true)) },
    },
    {
      desc: 'options: record route (not copied) only in the first fragment, router alert (copied) in all',
      frame: udp(withOpts),
      out: { port: 'frag', bytes: fragsOut(withOpts, 'frag', 1000, Buffer.from([1, 1, 1, 1, 1, 1, 1, 0x94, 4, 0, 0, 0])) },
    },
    // the link layer (Linux's PACKET_OTHERHOST; RFC 1812 5.3.4)
    { desc: "another host's unicast MAC: not for the router", frame: udp({ dst: '10.20.1.1', dstMac: '02:00:00:00:09:99' }), drop: 'not_for_us' },
    {
      desc: "ARP request to another host's unicast MAC",
      frame: buildArpRequest({ senderMac: HOST_MAC, senderIp: '10.1.0.2', targetIp: '10.1.0.1', dstMac: '02:00:00:00:09:99' }),
      drop: 'not_for_us',
    },
    {
      desc: 'link-layer broadcast to a unicast destination: not forwarded',
      frame: udp({ dst: '10.20.1.1', dstMac: 'ff:ff:ff:ff:ff:ff' }),
      drop: 'link_broadcast',
    },
    {
      desc: 'link-layer multicast to a unicast destination: not forwarded',
      frame: udp({ dst: '10.20.1.1', dstMac: '01:00:5e:00:00:05' }),
      drop: 'link_broadcast',
    },
    {
      desc: 'link-layer broadcast, TTL 1: no ICMP error either',
      frame: udp({ dst: '10.20.1.1', dstMac: 'ff:ff:ff:ff:ff:ff', ttl: 1 }),
      drop: 'link_broadcast',
    },
    { desc: "link-layer broadcast to the router's own address is delivered", frame: udp({ dst: '10.1.0.1', dstMac: 'ff:ff:ff:ff:ff:ff' }), punt: 'local' },
    {
      desc: 'link-layer multicast to a multicast destination: martian as before',
      frame: udp({ dst: '224.0.0.5', dstMac: '01:00:5e:00:00:05' }),
      drop: 'martian_address',
    },
    { desc: 'route out of a port whose TX queue takes nothing', frame: udp({ dst: '10.50.1.1' }), drop: 'tx_full' },
    // RFC 1812 5.3.7 source rules and RFC 2644 directed broadcasts (native/dataplane/packet.h)
    { desc: "source is one of the router's own addresses (east's)", frame: udp({ dst: '10.20.1.1', src: '10.2.0.1' }), drop: 'source_own' },
    { desc: 'own source with TTL 1: dropped, no ICMP error to ourselves', frame: udp({ dst: '10.20.1.1', src: '10.1.0.1', ttl: 1 }), drop: 'source_own' },
    { desc: 'source is the broadcast of a connected subnet (south)', frame: udp({ dst: '10.20.1.1', src: '10.3.0.255' }), drop: 'source_broadcast' },
    fwdCase("source ending in .1 like the router's addresses is forwarded (flagged, then the exact test)", { dst: '10.20.4.4', src: '10.7.0.1' }, 'east'),
    fwdCase('source ending in .255 outside any connected subnet is forwarded', { dst: '10.20.4.5', src: '10.8.0.255' }, 'east'),
    { desc: 'to the broadcast of a connected subnet: not forwarded, no ARP', frame: udp({ dst: '10.3.0.255' }), drop: 'directed_broadcast' },
    { desc: 'to the network address of a connected subnet: not forwarded, no ARP', frame: udp({ dst: '10.3.0.0' }), drop: 'directed_broadcast' },
    {
      desc: 'TTL 1 to a subnet broadcast: dropped without an ICMP error (RFC 1812 4.3.2.7)',
      frame: udp({ dst: '10.2.0.255', ttl: 1 }),
      drop: 'directed_broadcast',
    },
    {
      desc: 'ARP request for the router is punted, not dropped',
      frame: buildArpRequest({ senderMac: HOST_MAC, senderIp: '10.1.0.2', targetIp: '10.1.0.1' }),
      punt: 'arp',
    },
    { desc: "packet to the router's own address is punted", frame: udp({ dst: '10.1.0.1' }), punt: 'local' },
    // RFC 1812 5.2.1/5.3.1: TTL limits forwarding only (eBGP and OSPF send TTL 1 to the router)
    { desc: "TTL 1 to the router's own address is delivered, not expired", frame: udp({ dst: '10.1.0.1', ttl: 1 }), punt: 'local' },
    { desc: "TTL 0 to the router's address on another port is delivered, not expired", frame: udp({ dst: '10.2.0.1', ttl: 0 }), punt: 'local' },
  ];
}

// The same golden capture through both worker loops: one pass per packet (small tables), and the
// staged loop (checks, lookups, rewrites in separate passes) that 16384+ routes switch on.
const LOOPS = [
  { loop: 'one-pass', extraRoutes: [] as { prefix: string; via: string }[] },
  // 16384 /24s in 100.64.0.0/10, which no case of the capture touches
  { loop: 'staged', extraRoutes: Array.from({ length: 16384 }, (_x, i) => ({ prefix: `100.${64 + (i >> 8)}.${i & 255}.0/24`, via: '10.2.0.2' })) },
];

for (const { loop, extraRoutes } of LOOPS)
  describe(`forwarding through DPDK (net_pcap in, tx_pcap out), ${loop} loop`, function () {
    this.timeout(60000);
    let lookup: string;
    let dir: string;
    let fwd: Running;
    const table = cases();
    let seen: Awaited<ReturnType<typeof totals>>;
    let outEast: Buffer[];
    let outSouth: Buffer[];
    let outFrag: Buffer[];
    let macs: string[];
    let arpSouth: ArpPacket[];
    let otherEast: Buffer[];

    before(async () => {
      dir = tmpDir('golden');
      writePcap(
        path.join(dir, 'in.pcap'),
        table.map((c) => c.frame),
      );
      fwd = await startForwarder(
        {
          // memif needs DPDK's multi-process channel, which --in-memory turns off
          eal: { lcores: '0-1', inMemory: false, filePrefix: `dpfwd-golden-${process.pid}` },
          ports: [
            { name: 'west', device: `net_pcap0,rx_pcap=${dir}/in.pcap`, address: '10.1.0.1/24' },
            { name: 'east', device: `net_pcap1,tx_pcap=${dir}/east.pcap`, address: '10.2.0.1/24' },
            { name: 'south', device: `net_pcap2,tx_pcap=${dir}/south.pcap`, address: '10.3.0.1/24', mtu: 1000 },
            // a memif server nobody connects to: its TX takes nothing, which is how tx_full is provoked
            { name: 'dead', device: `net_memif0,role=server,socket=${dir}/memif.sock`, address: '10.5.0.1/24' },
            { name: 'frag', device: `net_pcap3,tx_pcap=${dir}/frag.pcap`, address: '10.6.0.1/24', mtu: 1000 },
          ],
          neighbors: [
            { address: '10.2.0.2', mac: GW_EAST, port: 'east' },
            { address: '10.3.0.2', mac: GW_SOUTH, port: 'south' },
            { address: '10.5.0.2', mac: '02:00:00:00:05:02', port: 'dead' },
            { address: '10.6.0.2', mac: GW_FRAG, port: 'frag' },
          ],
          routes: [
            { prefix: '10.20.0.0/16', via: '10.2.0.2' },
            { prefix: '10.30.0.0/16', via: '10.3.0.2' },
            { prefix: '10.40.0.0/16', via: '10.3.0.9' },
            { prefix: '10.50.0.0/16', via: '10.5.0.2' },
            { prefix: '10.99.0.0/16', blackhole: true },
            { prefix: '10.60.0.0/16', via: '10.6.0.2' },
            ...extraRoutes,
          ],
        },
        { dir },
      );
      await waitFor('the capture to be read', async () => (await totals(fwd)).rx >= table.length);
      // the ARP requests for the unresolved next hops: asked by the control plane after the
      // punts, sent by a worker from its inject ring (a stop before that loses them)
      await waitFor('the ARP requests to be sent', async () => {
        const sentArp = (await fwd.call('show.controlplane')).counters.arpRequestsSent;
        const c = await fwd.call('show.counters');
        const injected = c.snapshot.workers.reduce((a: number, w: { counters: { injected: number } }) => a + w.counters.injected, 0);
        return sentArp >= 2 && injected >= sentArp;
      });
      seen = await totals(fwd);
      lookup = (await fwd.call('show.workers'))[0].lookup;
      macs = (await fwd.call('show.ports')).map((p: { address: string }) => p.address);
      const r = await fwd.stop();
      assert.equal(r.code, 0, `exit code, stderr:\n${fwd.stderr()}`);
      const all = (f: string) => readPcap(path.join(dir, f)).map((x) => x.data);
      const isIpv4 = (b: Buffer) => b.readUInt16BE(12) === 0x0800;
      outEast = all('east.pcap').filter(isIpv4);
      outSouth = all('south.pcap').filter(isIpv4);
      outFrag = all('frag.pcap').filter(isIpv4);
      arpSouth = all('south.pcap')
        .filter((b) => b.readUInt16BE(12) === 0x0806)
        .map((b) => parseArp(b, 14)!);
      otherEast = all('east.pcap').filter((b) => !isIpv4(b));
    });

    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it(`runs the ${loop} loop`, () => {
      assert.equal(lookup, loop);
    });

    it('uses the port MACs the expected bytes assume', () => {
      assert.deepEqual(macs.slice(0, 3), [WEST_MAC, EAST_MAC, SOUTH_MAC]);
      assert.equal(macs[4], FRAG_MAC);
    });

    it('emits exactly the expected bytes on each egress port, in order', () => {
      const want = (p: Egress) => table.filter((c) => c.out?.port === p).flatMap((c) => [c.out!.bytes].flat().map((b) => b.toString('hex')));
      assert.deepEqual(
        outEast.map((b) => b.toString('hex')),
        want('east'),
      );
      assert.deepEqual(
        outSouth.map((b) => b.toString('hex')),
        want('south'),
      );
      assert.deepEqual(
        outFrag.map((b) => b.toString('hex')),
        want('frag'),
      );
      for (const b of [...outEast, ...outSouth, ...outFrag]) assert.ok(verifyIpv4HeaderChecksum(b, 14), 'checksum verifies');
    });

    it('asks for the unresolved gateway and the glean target with ARP on their port, and nothing else', () => {
      assert.ok(arpSouth.length >= 2);
      assert.deepEqual([...new Set(arpSouth.map((a) => a.targetIp))].sort(), ['10.3.0.77', '10.3.0.9']);
      for (const a of arpSouth) {
        assert.equal(a.op, 1);
        assert.equal(a.senderIp, '10.3.0.1');
        assert.equal(a.senderMac, SOUTH_MAC);
      }
      assert.equal(otherEast.length, 0, 'east has static neighbours only');
    });

    it('counts each drop under exactly one reason, on the ingress port', () => {
      const want: Record<string, number> = {};
      for (const r of seen.names.drops) want[r] = 0;
      for (const c of table) if (c.drop) want[c.drop]++;
      // tx_full is counted against the egress port (the ingress is gone once the burst is flushed)
      const got = { ...seen.drops.west, tx_full: seen.drops.dead.tx_full };
      assert.deepEqual(got, want);
      for (const p of ['east', 'south', 'frag'])
        assert.ok(
          Object.values(seen.drops[p]).every((n) => n === 0),
          `no drops on ${p}`,
        );
    });

    it('has a case for every drop reason the dataplane defines', () => {
      const covered = new Set(table.map((c) => c.drop).filter(Boolean));
      // rx_truncated needs an af_packet ingress port, frag_failed more than 64 fragments (a datagram
      // net_pcap cannot deliver whole): test/kernel-ports.test.ts
      const missing = seen.names.drops.filter((r: string) => !covered.has(r) && r !== 'punt_ratelimited' && r !== 'rx_truncated' && r !== 'frag_failed');
      assert.deepEqual(missing, [], 'punt_ratelimited has its own test below');
    });

    it('counts fragmented datagrams on the egress interface', () => {
      const n = table.filter((c) => Array.isArray(c.out?.bytes)).length;
      assert.equal(seen.counters.frag.fragmented, n);
      assert.equal(seen.counters.south.fragmented, 0);
      assert.equal(seen.counters.west.fragmented, 0);
      assert.equal(seen.counters.west.refragmented, 0, 'net_pcap: no kernel reassembly');
    });

    it('counts forwarded packets on the ingress port and punts by kind', () => {
      assert.equal(seen.forwarded.west, table.filter((c) => c.out).length + 1 /* tx_full case was forwarded, then not taken */);
      const want: Record<string, number> = {};
      for (const k of seen.names.punts) want[k] = 0;
      for (const c of table) if (c.punt) want[c.punt]++;
      assert.deepEqual(seen.punted, want);
    });

    it('accounts for every received packet: rx = forwarded + drops + punts that are not drops', () => {
      const drops = Object.values(seen.drops.west).reduce((a, b) => a + b, 0);
      assert.equal(seen.rx, table.length);
      assert.equal(seen.rx, seen.forwarded.west + drops + seen.punted.arp + seen.punted.local);
    });
  });

describe('punt rate limit', function () {
  this.timeout(60000);
  it('drops ARP beyond the per-worker token bucket as punt_ratelimited', async () => {
    const dir = tmpDir('punt');
    const arp = buildArpRequest({ senderMac: HOST_MAC, senderIp: '10.1.0.2', targetIp: '10.1.0.1' });
    writePcap(
      path.join(dir, 'in.pcap'),
      Array.from({ length: 10 }, () => arp),
    );
    const fwd = await startForwarder(
      {
        eal: { lcores: '0-1' },
        ports: [
          { name: 'west', device: `net_pcap0,rx_pcap=${dir}/in.pcap`, address: '10.1.0.1/24' },
          { name: 'east', device: 'net_null0,no-rx=1', address: '10.2.0.1/24' },
        ],
        punt: { rate: 1, burst: 3 },
      },
      { dir },
    );
    try {
      await waitFor('ARP frames read', async () => (await totals(fwd)).rx >= 10);
      const t = await totals(fwd);
      assert.equal(t.punted.arp, 3, 'the burst of 3 goes through');
      assert.equal(t.puntLimited.arp, 7);
      assert.equal(t.drops.west.punt_ratelimited, 7);
    } finally {
      assert.equal((await fwd.stop()).code, 0);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('default route', function () {
  this.timeout(60000);
  it('forwards what no more specific route covers via 0.0.0.0/0, and the default can be deleted', async () => {
    const dir = tmpDir('default');
    writePcap(path.join(dir, 'in.pcap'), [udp({ dst: '192.0.2.1' }), udp({ dst: '198.51.100.7' }), udp({ dst: '10.20.1.1' })]);
    const fwd = await startForwarder(
      {
        eal: { lcores: '0-1' },
        ports: [
          { name: 'west', device: `net_pcap0,rx_pcap=${dir}/in.pcap`, address: '10.1.0.1/24' },
          { name: 'east', device: `net_pcap1,tx_pcap=${dir}/east.pcap`, address: '10.2.0.1/24' },
          { name: 'south', device: `net_pcap2,tx_pcap=${dir}/south.pcap`, address: '10.3.0.1/24' },
        ],
        neighbors: [
          { address: '10.2.0.2', mac: GW_EAST, port: 'east' },
          { address: '10.3.0.2', mac: GW_SOUTH, port: 'south' },
        ],
        routes: [
          { prefix: '0.0.0.0/0', via: '10.2.0.2' },
          { prefix: '10.20.0.0/16', via: '10.3.0.2' },
        ],
      },
      { dir },
    );
    try {
      await waitFor('capture read', async () => (await totals(fwd)).rx >= 3);
      const t = await totals(fwd);
      assert.equal(t.forwarded.west, 3);
      assert.equal(t.drops.west.no_route, 0);
      await fwd.call('route.del', { prefix: '0.0.0.0/0' });
      assert.ok(!(await fwd.call('route.show')).some((r: { dst: string }) => r.dst === '0.0.0.0/0'));
    } finally {
      assert.equal((await fwd.stop()).code, 0);
    }
    const east = readPcap(path.join(dir, 'east.pcap'))
      .map((r) => r.data)
      .filter((b) => b.readUInt16BE(12) === 0x0800);
    const south = readPcap(path.join(dir, 'south.pcap'))
      .map((r) => r.data)
      .filter((b) => b.readUInt16BE(12) === 0x0800);
    assert.deepEqual(
      east.map((b) => b.toString('hex')),
      [fwd4('192.0.2.1', 'east'), fwd4('198.51.100.7', 'east')],
    );
    assert.deepEqual(
      south.map((b) => b.toString('hex')),
      [fwd4('10.20.1.1', 'south')],
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

function fwd4(dst: string, port: Egress): string {
  return fwd({ dst }, port).toString('hex');
}
