/**
 * Fragmentation with real hosts (RFC 791, RFC 1812 4.2.2.7 and 5.2.6; issue 21): two Linux hosts
 * in namespaces, dpfwd between them with a 1280-byte MTU on the east port. A UDP datagram
 * without DF, longer than that, leaves dpfwd as fragments and the far host's kernel
 * reassembles it byte for byte; with DF set the sender gets ICMP fragmentation needed with
 * MTU 1280 (RFC 1191), which ping and tracepath report. af_xdp delivers the datagram as the
 * host sent it; af_packet's socket would reassemble fragments first (docs/kernel-ports.md):
 * both take the same fragment() in the worker. Packets held while ARP resolves the far host
 * leave through the control plane (its flush()), which follows the same rules.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { buildUdp4, readIpv4Header, readPcap, writePcap } from '../src/packet';
import { dpfwdCli, startForwarder, Running, tmpDir, totals, waitFor } from './helpers/forwarder';
import { Host, Topology, ping, sh, spawnIn } from './helpers/netns';

const EGRESS_MTU = 1280;

/**
 * Receives one UDP datagram on `h` (port 9999, 10 s at most): `ready` once the socket is bound
 * (python's start can take a while on a loaded machine), `got` its payload in hex.
 */
function receiver(h: Host): { ready: Promise<void>; got: Promise<string> } {
  const p = spawnIn(h.ns, 'python3', [
    '-c',
    [
      'import socket, sys',
      's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
      `s.bind(("${h.ip}", 9999))`,
      's.settimeout(10)',
      'print("ready", flush=True)',
      'print(s.recv(65535).hex(), flush=True)',
    ].join('\n'),
  ]);
  let out = '';
  let bound: () => void;
  const ready = new Promise<void>((r) => (bound = r));
  p.stdout!.on('data', (d) => {
    out += d;
    if (out.includes('ready')) bound();
  });
  const got = new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error('receiver hung'));
    }, 20000);
    p.on('exit', () => {
      clearTimeout(t);
      bound();
      resolve(out.split('\n')[1] ?? '');
    });
  });
  return { ready, got };
}

/** Sends `payload` as one UDP datagram from `from` to `to`:9999, DF clear (IP_PMTUDISC_DONT). */
function sendUdp(from: Host, to: Host, payload: Buffer): void {
  sh(
    'python3',
    [
      '-c',
      [
        'import socket',
        's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
        's.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER = IP_PMTUDISC_DONT: DF clear',
        `s.sendto(bytes.fromhex("${payload.toString('hex')}"), ("${to.ip}", 9999))`,
      ].join('\n'),
    ],
    { ns: from.ns },
  );
}

function nstat(ns: string, name: string): number {
  const m = new RegExp(`^${name}\\s+(\\d+)`, 'm').exec(sh('nstat', ['-az', name], { ns }));
  return m ? Number(m[1]) : 0;
}

for (const kind of ['af_xdp', 'af_packet'] as const) {
  describe(`fragmentation with real hosts (${kind}, east MTU ${EGRESS_MTU})`, function () {
    this.timeout(120000);
    const topo = new Topology();
    let fwd: Running;
    let west: Host;
    let east: Host;

    before(async () => {
      west = topo.addHost('west', 1);
      east = topo.addHost('east', 2);
      // a 1280-byte link: the host's end says so too (the PMD sets dpfwd's end to the port's MTU)
      sh('ip', ['-n', east.ns, 'link', 'set', east.hostIf, 'mtu', String(EGRESS_MTU)]);
      const port = (h: Host, i: number) => (kind === 'af_xdp' ? topo.xdpPort(h, i) : topo.port(h, i));
      fwd = await startForwarder({
        eal: { lcores: '0-1' },
        ports: [port(west, 0), { ...port(east, 1), mtu: EGRESS_MTU }],
        workers: [
          {
            lcore: 1,
            rx: [
              { port: 'west', queue: 0 },
              { port: 'east', queue: 0 },
            ],
          },
        ],
      });
      assert.equal(ping(west.ns, east.ip, 2), 2, 'the path works for small packets');
    });

    after(async () => {
      try {
        if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
      } finally {
        topo.destroy();
      }
    });

    it('a 1400-byte UDP datagram without DF crosses the 1280-byte egress in fragments and arrives byte for byte', async () => {
      const payload = Buffer.alloc(1400);
      for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + 7) & 0xff;
      const before = await totals(fwd);
      const reasmBefore = nstat(east.ns, 'IpReasmOKs');
      const rx = receiver(east);
      await rx.ready;
      sendUdp(west, east, payload);
      assert.equal(await rx.got, payload.toString('hex'));
      const after = await totals(fwd);
      assert.equal(after.counters.east.fragmented - before.counters.east.fragmented, 1, 'fragmented once, on the egress');
      assert.equal(after.drops.west.mtu_exceeded - before.drops.west.mtu_exceeded, 0);
      assert.equal(nstat(east.ns, 'IpReasmOKs') - reasmBefore, 1, 'the far host reassembled it');
    });

    // (before the DF test, which leaves the sender a cached path MTU of 1280)
    it('ping without DF (-M dont -s 1400) gets its replies through the MTU step', () => {
      const out = sh('ping', ['-n', '-c', '2', '-i', '0.2', '-W', '2', '-M', 'dont', '-s', '1400', east.ip], { ns: west.ns, allowFail: true });
      assert.match(out, /2 received/, out);
    });

    // Packets held while ARP resolves are sent by the control plane (src/controlplane flush()),
    // not the worker: the same rules apply there, as in Linux (ip_forward's MTU check, then
    // ip_fragment before the neighbour's queue)
    const forgetEast = () => {
      // east knows the router for good: its own ARP probe of the router would teach dpfwd east's
      // MAC (a request for our address is learned) before the datagram, and nothing would be held
      const mac = JSON.parse(sh('ip', ['-j', 'link', 'show', east.routerIf]))[0].address;
      sh('ip', ['-n', east.ns, 'neigh', 'replace', east.gw, 'lladdr', mac, 'dev', east.hostIf, 'nud', 'permanent']);
      const r = dpfwdCli(fwd, ['neigh', 'flush', 'dev', 'east']);
      assert.equal(r.status, 0, r.stderr);
    };

    it('a datagram held while ARP resolves the far host leaves in fragments too, byte for byte', async () => {
      forgetEast();
      const payload = Buffer.alloc(1400);
      for (let i = 0; i < payload.length; i++) payload[i] = (i * 13 + 5) & 0xff;
      const before = await totals(fwd);
      const held0 = (await fwd.call('show.controlplane')).counters.heldFragmented;
      const rx = receiver(east);
      await rx.ready;
      sendUdp(west, east, payload);
      const hex = await rx.got;
      assert.ok(hex === payload.toString('hex'), `received ${hex.length / 2} bytes, not the 1400 sent`);
      const after = await totals(fwd);
      assert.ok(after.drops.west.neighbor_unresolved > before.drops.west.neighbor_unresolved, 'it was held');
      assert.equal((await fwd.call('show.controlplane')).counters.heldFragmented - held0, 1, 'counted as fragmented on release');
    });

    it('ping -s 3000 (-M dont) toward an unresolved far host: every fragment reaches it and it replies', () => {
      forgetEast();
      const out = sh('ping', ['-n', '-c', '1', '-W', '3', '-M', 'dont', '-s', '3000', east.ip], { ns: west.ns, allowFail: true });
      assert.match(out, /1 received/, out);
    });

    it('with DF set the sender gets fragmentation needed, MTU 1280 (ping -M do, tracepath)', async () => {
      sh('ip', ['route', 'flush', 'cache'], { ns: west.ns, allowFail: true });
      const out = sh('ping', ['-n', '-c', '2', '-i', '0.3', '-W', '2', '-M', 'do', '-s', '1400', east.ip], { ns: west.ns, allowFail: true });
      assert.match(out, /Frag needed and DF set \(mtu = 1280\)|mtu=1280/, out);
      assert.match(out, /From 10\.1\.0\.1 .*Frag needed and DF set \(mtu = 1280\)/, out);
      const t = await totals(fwd);
      assert.ok(t.drops.west.mtu_exceeded >= 1);
      sh('ip', ['route', 'flush', 'cache'], { ns: west.ns, allowFail: true });
      const tp = sh('tracepath', ['-n', '-m', '4', east.ip], { ns: west.ns, allowFail: true, timeout: 30000 });
      assert.match(tp, /pmtu 1280/, tp);
      assert.match(tp, /reached/, tp);
    });

    it('with DF set and the far host unresolved the sender gets fragmentation needed, MTU 1280', () => {
      forgetEast();
      sh('ip', ['route', 'flush', 'cache'], { ns: west.ns, allowFail: true });
      const out = sh('ping', ['-n', '-c', '1', '-W', '3', '-M', 'do', '-s', '1400', east.ip], { ns: west.ns, allowFail: true });
      assert.match(out, /From 10\.1\.0\.1 .*Frag needed and DF set \(mtu = 1280\)/, out);
    });

    it('leaves its ports out of promiscuous mode (frames for other MACs are not_for_us anyway)', () => {
      for (const h of [west, east]) {
        const link = JSON.parse(sh('ip', ['-j', 'link', 'show', h.routerIf]))[0];
        assert.ok(!link.flags.includes('PROMISC'), `${h.routerIf}: ${link.flags.join(',')}`);
      }
    });
  });
}

/**
 * Linux forwards a flow's packets one at a time, so they leave in the order they came, fragments
 * and all. dpfwd handles a burst at once: the fast path's packets wait in a list for one TX
 * call, while a fragmented datagram (and a frame that came tagged, here a priority tag, VID 0,
 * which is the port's untagged interface) is sent from the exact path. One burst from a pcap
 * file (net_pcap reads it at once) of one UDP flow: what leaves must keep the input's order.
 */
describe('fragmentation keeps a burst in order (net_pcap)', function () {
  this.timeout(60000);
  const ROUTER_MAC = '02:70:63:61:70:00'; // net_pcap's first port
  let dir: string;

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('small, fragmented and priority-tagged datagrams of one flow leave in the order they came', async () => {
    dir = tmpDir('frag-order');
    // ids 1..12: every third needs fragments (DF clear), every fourth comes priority-tagged
    const sizes = Array.from({ length: 12 }, (_, i) => (i % 3 === 1 ? 1400 : 100));
    const frames = sizes.map((size, i) =>
      buildUdp4({
        srcMac: '02:00:00:00:01:02',
        dstMac: ROUTER_MAC,
        ...(i % 4 === 3 ? { vlan: 0 } : {}),
        src: '10.1.0.2',
        dst: '10.2.0.2',
        sport: 5000,
        dport: 9999,
        id: i + 1,
        size,
      }),
    );
    writePcap(path.join(dir, 'in.pcap'), frames);
    const fwd = await startForwarder(
      {
        eal: { lcores: '0-1' },
        ports: [
          { name: 'west', device: `net_pcap0,rx_pcap=${dir}/in.pcap,tx_pcap=${dir}/west.pcap`, address: '10.1.0.1/24' },
          { name: 'east', device: `net_pcap1,tx_pcap=${dir}/east.pcap`, address: '10.2.0.1/24', mtu: EGRESS_MTU },
        ],
        neighbors: [{ address: '10.2.0.2', mac: '02:00:00:00:02:02', port: 'east' }],
      },
      { dir },
    );
    try {
      await waitFor('the pcap to be read', async () => (await totals(fwd)).rx >= frames.length, 30000);
      const t = await totals(fwd);
      assert.equal(t.forwarded.west, frames.length, JSON.stringify(t.drops.west));
      assert.equal(t.counters.east.fragmented, 4);
    } finally {
      assert.equal((await fwd.stop()).code, 0, fwd.stderr());
    }
    const out = readPcap(path.join(dir, 'east.pcap')).map((r) => {
      const h = readIpv4Header(r.data, 14, true)!;
      return `${h.id}${h.mf || h.fragmentOffset ? `@${h.fragmentOffset * 8}` : ''}`;
    });
    const expected = sizes.flatMap((s, i) => (s > EGRESS_MTU ? [`${i + 1}@0`, `${i + 1}@1256`] : [`${i + 1}`]));
    assert.deepEqual(out, expected);
  });
});
