/**
 * ECMP in the dataplane, byte for byte (net_pcap in, tx_pcap out, static neighbours): a
 * multipath route over east and south; per flow, the plain packet (fast path) and its twin with
 * IP options (exact path) leave by the same port with the same rewrite; both fragments of a
 * datagram (ports read only from a whole datagram) leave together; flows spread over both.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { buildUdp4, readPcap, verifyIpv4HeaderChecksum, writePcap } from '../src/packet';
import { dpfwdCli, startForwarder, tmpDir, totals, waitFor } from './helpers/forwarder';

const HOST_MAC = '02:00:00:00:01:02';
const WEST_MAC = '02:70:63:61:70:00'; // net_pcap's MACs (02:70:63:61:70:<port id>)
const GW = { east: '02:00:00:00:02:02', south: '02:00:00:00:03:02' };
const FLOWS = 64;

const mac = (b: Buffer, at: number) => [...b.subarray(at, at + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');

describe('ECMP in the dataplane: fast and exact path agree, fragments stay together', function () {
  this.timeout(60000);
  let dir: string;
  const out: Record<'east' | 'south', Buffer[]> = { east: [], south: [] };
  const portMac: Record<string, string> = {};
  /** flow → the port `route get … sport … dport …` named */
  const predicted = new Map<number, string>();

  before(async () => {
    dir = tmpDir('ecmp-dp');
    const frames: Buffer[] = [];
    const base = { srcMac: HOST_MAC, dstMac: WEST_MAC, src: '10.1.0.2', dst: '10.60.0.1', dport: 2000, ttl: 64 };
    for (let f = 0; f < FLOWS; f++) {
      frames.push(buildUdp4({ ...base, sport: 1000 + f, id: f }));
      frames.push(buildUdp4({ ...base, sport: 1000 + f, id: 1000 + f, options: Buffer.from([1, 1, 1, 0]) }));
      // a datagram's two fragments; the second's "ports" are other bytes: they must not count
      frames.push(buildUdp4({ ...base, src: `10.1.0.${10 + f}`, sport: 3000 + f, id: 2000 + f, mf: true }));
      frames.push(buildUdp4({ ...base, src: `10.1.0.${10 + f}`, sport: 5000 + f, id: 2000 + f, fragmentOffset: 3 }));
    }
    writePcap(path.join(dir, 'in.pcap'), frames);
    const fwd = await startForwarder(
      {
        eal: { lcores: '0-1', inMemory: false, filePrefix: `dpfwd-ecmp-dp-${process.pid}` },
        ports: [
          { name: 'west', device: `net_pcap0,rx_pcap=${dir}/in.pcap`, address: '10.1.0.1/24' },
          { name: 'east', device: `net_pcap1,tx_pcap=${dir}/east.pcap`, address: '10.2.0.1/24' },
          { name: 'south', device: `net_pcap2,tx_pcap=${dir}/south.pcap`, address: '10.3.0.1/24' },
        ],
        neighbors: [
          { address: '10.2.0.2', mac: GW.east, port: 'east' },
          { address: '10.3.0.2', mac: GW.south, port: 'south' },
        ],
        routes: [{ prefix: '10.60.0.0/16', nexthops: [{ via: '10.2.0.2' }, { via: '10.3.0.2' }] }],
      },
      { dir },
    );
    await waitFor('the capture to be read', async () => (await totals(fwd)).rx >= frames.length);
    // what `route get` says each flow takes (the dataplane's hash, ported): the socket's route.get, then the CLI's words once
    for (let f = 0; f < FLOWS; f++) {
      const r = await fwd.call('route.get', { address: base.dst, from: base.src, ipproto: 'udp', sport: 1000 + f, dport: base.dport });
      predicted.set(f, r.path.dev);
    }
    const text = dpfwdCli(fwd, ['route', 'get', base.dst, 'from', base.src, 'ipproto', 'udp', 'sport', '1000', 'dport', String(base.dport)]);
    assert.match(
      text.stdout,
      new RegExp(
        `^10\\.60\\.0\\.1 from 10\\.1\\.0\\.2 ipproto 17 sport 1000 dport 2000 via 10\\.[23]\\.0\\.2 port ${predicted.get(0)} proto static lladdr .*\\n    route 10\\.60\\.0\\.0/16 nexthop \\d+ path nexthop \\d+ \\(bucket \\d+ of the flow hash\\)\\n$`,
      ),
    );
    const ports = await fwd.call('show.ports'); // in config order, as iproute2 rows
    portMac.east = ports[1].address;
    portMac.south = ports[2].address;
    assert.equal((await fwd.stop()).code, 0, fwd.stderr());
    for (const p of ['east', 'south'] as const)
      out[p] = readPcap(path.join(dir, `${p}.pcap`))
        .map((x) => x.data)
        .filter((b) => b.readUInt16BE(12) === 0x0800);
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** IP id → the port it left by. */
  const byId = () => {
    const m = new Map<number, 'east' | 'south'>();
    for (const p of ['east', 'south'] as const) for (const b of out[p]) m.set(b.readUInt16BE(18) + (b.readUInt16BE(20) & 0x1fff ? 0x10000 : 0), p);
    return m;
  };

  it('forwards every packet once, rewritten for the member it took', () => {
    assert.equal(out.east.length + out.south.length, 4 * FLOWS);
    for (const p of ['east', 'south'] as const) {
      for (const b of out[p]) {
        assert.equal(mac(b, 0), GW[p], "destination MAC: the member's gateway");
        assert.equal(mac(b, 6), portMac[p], "source MAC: the egress port's");
        assert.equal(b[22], 63, 'TTL 64 → 63');
        assert.ok(verifyIpv4HeaderChecksum(b, 14));
      }
    }
  });

  it('spreads flows over both members (each 20-80% of 64)', () => {
    const m = byId();
    const east = Array.from({ length: FLOWS }, (_, f) => m.get(f)).filter((p) => p === 'east').length;
    assert.ok(east >= 0.2 * FLOWS && east <= 0.8 * FLOWS, `east took ${east} of ${FLOWS} flows`);
  });

  it('route get ADDR from S ipproto udp sport N dport N names the member each flow left by', () => {
    const m = byId();
    for (let f = 0; f < FLOWS; f++) assert.equal(predicted.get(f), m.get(f), `flow ${f}: route get said ${predicted.get(f)}`);
  });

  it("a packet with IP options (exact path) leaves by its flow's member", () => {
    const m = byId();
    for (let f = 0; f < FLOWS; f++) assert.equal(m.get(1000 + f), m.get(f), `flow ${f}`);
  });

  it('both fragments of a datagram leave by the same member', () => {
    const m = byId();
    for (let f = 0; f < FLOWS; f++) {
      assert.ok(m.get(2000 + f), `first fragment ${f}`);
      assert.equal(m.get(0x10000 + 2000 + f), m.get(2000 + f), `datagram ${f}`);
    }
  });
});
