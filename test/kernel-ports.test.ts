/**
 * Kernel-facing ports with Linux hosts at their DEFAULT offloads (checksum offload, TSO, GSO on;
 * no ethtool anywhere): two hosts in namespaces on veth pairs into dpfwd, opened once with
 * net_af_packet and once with net_af_xdp. Real traffic from ping, traceroute, tracepath and
 * iperf3 in both directions; the hosts' own kernels judge the checksums (nstat's
 * UdpInCsumErrors / TcpInCsumErrors inside each namespace must stay 0).
 */
import { strict as assert } from 'assert';
import { startForwarder, Running, totals } from './helpers/forwarder';
import { Host, Topology, ping, sh, spawnIn } from './helpers/netns';
import { rxCutLen, withKernelPortDefaults } from '../src/forwarder';
import { CAPS, kernelPortProblems, Privileges } from '../src/forwarder/privileges';

describe('kernel-facing port defaults (pure)', () => {
  it('af_packet gets framesz=4096 unless it sets one; frames of framesz - 66 bytes may be cut', () => {
    assert.equal(withKernelPortDefaults('net_af_packet0,iface=v0'), 'net_af_packet0,iface=v0,framesz=4096');
    assert.equal(withKernelPortDefaults('net_af_packet0,iface=v0,framesz=2048'), 'net_af_packet0,iface=v0,framesz=2048');
    assert.equal(withKernelPortDefaults('net_af_xdp0,iface=v0'), 'net_af_xdp0,iface=v0');
    assert.equal(withKernelPortDefaults('0000:3b:01.0'), '0000:3b:01.0');
    assert.equal(rxCutLen('net_af_packet0,iface=v0,framesz=4096'), 4030);
    assert.equal(rxCutLen('net_af_packet0,iface=v0'), 1982);
    assert.equal(rxCutLen('net_af_xdp0,iface=v0'), 0);
    assert.equal(rxCutLen('net_pcap0,rx_pcap=x'), 0);
  });
});

describe('what kernel-facing ports need of the process (pure)', () => {
  const capsOf = (...names: (keyof typeof CAPS)[]) => names.reduce((a, n) => a | (1n << BigInt(CAPS[n])), 0n);
  const ports = [
    { name: 'west', device: 'net_af_xdp0,iface=v0' },
    { name: 'east', device: 'net_af_packet1,iface=v1,framesz=4096' },
    { name: 'tap', device: 'net_tap0,iface=dtap0' },
  ];
  const veth = { ifaceDriver: (n: string) => (n.startsWith('v') ? 'veth' : ''), bpf: () => 0 };
  const priv = (p: Partial<Privileges>): Privileges => ({ caps: capsOf('NET_RAW', 'NET_ADMIN', 'SYS_ADMIN', 'IPC_LOCK'), seccomp: 2, memlock: 8 << 20, ...p });

  it('nothing with the documented capabilities and bpf() allowed; nothing for root', () => {
    assert.deepEqual(kernelPortProblems(ports, priv({}), veth, 64 << 20), []);
    assert.deepEqual(kernelPortProblems(ports, priv({ caps: (1n << 41n) - 1n, seccomp: 0 }), veth, 64 << 20), []);
  });

  it("podman's default capabilities: CAP_NET_RAW (and the rest) named with the flag that gives it", () => {
    const p = kernelPortProblems(ports, priv({ caps: 0n }), veth, 64 << 20);
    assert.match(
      p[0],
      /^ports\[0\] west \(net_af_xdp on v0\): its AF_XDP socket needs CAP_NET_RAW, which this process lacks \(podman\/docker: --cap-add NET_RAW; Kubernetes: securityContext\.capabilities\.add: \[NET_RAW\]\)/,
    );
    assert.ok(
      p.some((x) => /west .*libxdp, which loads and attaches its XDP program, needs CAP_NET_ADMIN and CAP_SYS_ADMIN/.test(x)),
      p.join('\n'),
    );
    assert.ok(
      p.some((x) => /west .*UMEM pins 64 MiB, above the locked-memory limit \(ulimit -l: 8192 KiB\).*CAP_IPC_LOCK/.test(x)),
      p.join('\n'),
    );
    assert.ok(
      p.some((x) => /^ports\[1\] east \(net_af_packet on v1\): its AF_PACKET socket needs CAP_NET_RAW/.test(x)),
      p.join('\n'),
    );
    assert.ok(
      p.some((x) => /^ports\[1\] east .*the XDP step on its veth .* needs CAP_NET_ADMIN and CAP_BPF/.test(x)),
      p.join('\n'),
    );
    assert.ok(
      p.some((x) => /^ports\[2\] tap .*needs CAP_NET_ADMIN/.test(x)),
      p.join('\n'),
    );
  });

  it("podman's default seccomp profile (bpf() refused with EPERM): the profile to use is named, per port that needs bpf()", () => {
    // with CAP_BPF rather than CAP_SYS_ADMIN, as for af_packet (podman's profile allows bpf() with CAP_SYS_ADMIN)
    const p = kernelPortProblems(ports, priv({}), { ...veth, bpf: () => 1 }, 64 << 20);
    assert.equal(p.length, 2, p.join('\n'));
    assert.match(
      p[0],
      /^ports\[0\] west .*needs the bpf\(\) system call, which a seccomp filter refuses \(EPERM\);.*--security-opt seccomp=deploy\/seccomp-dpfwd\.json/,
    );
    assert.match(p[1], /^ports\[1\] east .*the XDP step on its veth/);
    assert.deepEqual(kernelPortProblems([ports[1]], priv({ caps: capsOf('NET_RAW', 'NET_ADMIN', 'BPF') }), veth, 1), [], 'af_packet: CAP_BPF is enough');
  });

  it('af_packet on an interface that is not a veth needs no XDP step, so no bpf()', () => {
    assert.deepEqual(kernelPortProblems([ports[1]], priv({ caps: capsOf('NET_RAW') }), { ifaceDriver: () => 'ixgbe', bpf: () => 1 }, 1), []);
  });
});

/** A host kernel's counter as nstat reports it (absolute, -a; -z keeps zeros). */
function nstat(ns: string, name: string): number {
  const out = sh('nstat', ['-az', name], { ns });
  const m = new RegExp(`^${name}\\s+(\\d+)`, 'm').exec(out);
  assert.ok(m, `nstat has no ${name}: ${out}`);
  return Number(m[1]);
}

const CSUM_ERRORS = ['UdpInCsumErrors', 'TcpInCsumErrors'];

/** iperf3 -t 2 from `client` to `server` (bounded: -t 2 and a 30 s timeout); returns its JSON end section. */
async function iperf(server: Host, client: Host, args: string[]): Promise<any> {
  const srv = spawnIn(server.ns, 'iperf3', ['-s', '-1', '-B', server.ip]);
  const srvExit = new Promise((r) => srv.on('exit', r));
  try {
    await new Promise((r) => setTimeout(r, 400));
    const out = sh('iperf3', ['-c', server.ip, '-t', '2', '-J', ...args], { ns: client.ns, allowFail: true, timeout: 30000 });
    let j: any;
    try {
      j = JSON.parse(out);
    } catch {
      assert.fail(`iperf3 gave no JSON: ${out.slice(0, 400)}`);
    }
    assert.equal(j.error, undefined, `iperf3 ${args.join(' ')}: ${j.error}`);
    return j.end;
  } finally {
    if (srv.exitCode === null) srv.kill('SIGKILL');
    await srvExit;
  }
}

for (const kind of ['af_packet', 'af_xdp'] as const) {
  describe(`kernel-facing ports on default offloads: ${kind}`, function () {
    this.timeout(120000);
    const topo = new Topology();
    let fwd: Running;
    let west: Host;
    let east: Host;
    const port = (h: Host, i: number) => (kind === 'af_packet' ? topo.port(h, i) : topo.xdpPort(h, i));

    before(async () => {
      west = topo.addHost('west', 1);
      east = topo.addHost('east', 2);
      // the point of this file: the hosts' veth ends offload checksums and segmentation
      const feat = sh('ethtool', ['-k', west.hostIf], { ns: west.ns });
      assert.match(feat, /^tx-checksumming: on/m, feat);
      assert.match(feat, /^tcp-segmentation-offload: on/m, feat);
      fwd = await startForwarder({
        eal: { lcores: '0-1' },
        ports: [port(west, 0), port(east, 1)],
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
    });

    after(async () => {
      try {
        if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
        if (kind === 'af_packet') {
          // what dpfwd changed on its own veth ends is undone at stop
          for (const h of [west, east]) {
            assert.equal(JSON.parse(sh('ip', ['-j', 'link', 'show', h.routerIf]))[0].xdp, undefined, `${h.routerIf} still has XDP`);
            assert.match(sh('ethtool', ['-k', h.routerIf]), /^generic-receive-offload: off/m);
          }
        }
      } finally {
        topo.destroy();
      }
    });

    if (kind === 'af_packet') {
      it('attached its pass-through XDP program and turned GRO off on its own veth ends (logged), so the hosts lost TSO', () => {
        for (const h of [west, east]) {
          const link = JSON.parse(sh('ip', ['-j', 'link', 'show', h.routerIf]))[0];
          assert.equal(link.xdp?.prog?.name, 'dpfwd_xdp_pass', JSON.stringify(link.xdp));
          assert.match(sh('ethtool', ['-k', h.routerIf]), /^generic-receive-offload: off/m);
          assert.match(sh('ethtool', ['-k', h.hostIf], { ns: h.ns }), /^tcp-segmentation-offload: off/m);
          assert.match(fwd.stderr(), new RegExp(`port ${h.name} \\(af_packet on ${h.routerIf}: attached pass-through XDP program`));
        }
      });
    }

    it('forwards pings both ways', () => {
      assert.equal(ping(west.ns, east.ip, 3), 3);
      assert.equal(ping(east.ns, west.ip, 3), 3);
    });

    it('traceroute (UDP probes) reaches the far host as hop 2; tracepath reaches it', () => {
      const tr = sh('traceroute', ['-n', '-q', '1', '-w', '1', '-m', '4', east.ip], { ns: west.ns, allowFail: true, timeout: 30000 });
      assert.match(tr, /^\s*1\s+10\.1\.0\.1\s/m, tr);
      assert.match(tr, /^\s*2\s+10\.2\.0\.2\s/m, tr);
      const tp = sh('tracepath', ['-n', '-m', '4', east.ip], { ns: west.ns, allowFail: true, timeout: 30000 });
      assert.match(tp, /10\.2\.0\.2\s.*reached/, tp);
    });

    for (const [from, to] of [
      ['west', 'east'],
      ['east', 'west'],
    ] as const) {
      it(`iperf3 TCP ${from} → ${to} (2 s) moves data with checksums the receiver accepts`, async () => {
        const h = { west, east };
        const end = await iperf(h[to], h[from], []);
        const mbps = end.sum_received.bits_per_second / 1e6;
        console.log(`      ${kind} TCP ${from} → ${to}: ${mbps.toFixed(0)} Mbit/s, ${end.sum_sent.retransmits} retransmits`);
        assert.ok(end.sum_received.bytes > 1e6, `received ${end.sum_received.bytes} bytes`);
      });

      it(`iperf3 UDP ${from} → ${to} (2 s, 20 Mbit/s) arrives`, async () => {
        const h = { west, east };
        const end = await iperf(h[to], h[from], ['-u', '-b', '20M', '-l', '1200']);
        const s = end.sum;
        console.log(`      ${kind} UDP ${from} → ${to}: ${s.packets - s.lost_packets}/${s.packets} packets`);
        assert.ok(s.packets > 1000, `sent ${s.packets}`);
        assert.ok(s.packets - s.lost_packets > s.packets * 0.9, `received ${s.packets - s.lost_packets} of ${s.packets}`);
      });
    }

    it('carries a 3000-byte ping (fragments) both ways', () => {
      assert.equal(ping(west.ns, east.ip, 3, { size: 3000 }), 3);
      assert.equal(ping(east.ns, west.ip, 3, { size: 3000 }), 3);
    });

    it('left no checksum errors on either host, completed checksums on both ports, truncated nothing', async () => {
      for (const h of [west, east]) for (const c of CSUM_ERRORS) assert.equal(nstat(h.ns, c), 0, `${c} on ${h.name}`);
      const ports = await fwd.call('show.ports');
      for (const p of ports) assert.ok(p.csum_completed > 0, `${p.ifname}: csum_completed ${p.csum_completed}`);
      const t = await totals(fwd);
      // af_packet's socket reassembles fragments (kernel defrag): dpfwd sent the 3000-byte pings on as fragments
      // each port received 3 requests of one ping and 3 replies of the other
      if (kind === 'af_packet') for (const p of ['west', 'east']) assert.equal(t.counters[p].refragmented, 6, `${p}: refragmented`);
      for (const p of ['west', 'east']) {
        assert.equal(t.drops[p].rx_truncated, 0, `${p}: rx_truncated`);
        assert.equal(t.drops[p].bad_total_length, 0, `${p}: bad_total_length`);
      }
    });
  });
}

describe('af_packet with a 2048-byte ring frame (framesz=2048)', function () {
  this.timeout(60000);
  const topo = new Topology();
  let fwd: Running;
  let west: Host;
  let east: Host;

  before(async () => {
    west = topo.addHost('west', 1);
    east = topo.addHost('east', 2);
    const p = (h: Host, i: number) => ({ ...topo.port(h, i), device: `${topo.port(h, i).device},framesz=2048` });
    fwd = await startForwarder({ eal: { lcores: '0-1' }, ports: [p(west, 0), p(east, 1)] });
  });

  after(async () => {
    try {
      if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
    } finally {
      topo.destroy();
    }
  });

  it('counts a reassembled 3000-byte datagram cut to 1982 bytes as rx_truncated, not bad_total_length', async () => {
    assert.equal(ping(west.ns, east.ip, 1), 1);
    assert.equal(ping(west.ns, east.ip, 3, { size: 3000 }), 0);
    const t = await totals(fwd);
    assert.equal(t.drops.west.rx_truncated, 3);
    assert.equal(t.drops.west.bad_total_length, 0);
  });
});

describe('af_packet refragmenting to a 68-byte egress MTU', function () {
  this.timeout(60000);
  const topo = new Topology();
  let fwd: Running;
  let west: Host;
  let east: Host;

  before(async () => {
    west = topo.addHost('west', 1);
    east = topo.addHost('east', 2);
    fwd = await startForwarder({ eal: { lcores: '0-1' }, ports: [topo.port(west, 0), { ...topo.port(east, 1), mtu: 68 }] });
  });

  after(async () => {
    try {
      if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
    } finally {
      topo.destroy();
    }
  });

  it('sends a 1600-byte datagram (host fragments, kernel reassembles) on as 48-byte fragments; more than 64 is frag_failed', async () => {
    assert.equal(ping(west.ns, east.ip, 1, { size: 16 }), 1);
    const reasm = () => Number(/^IpReasmOKs\s+(\d+)/m.exec(sh('nstat', ['-az', 'IpReasmOKs'], { ns: east.ns }))![1]);
    const before = reasm();
    // 1608 bytes of ICMP in 48-byte pieces: 34 fragments. The east host reassembles them (counted
    // below) but does not answer: its kernel will not fragment the 1628-byte reply (IpFragFails),
    // so the ping itself is not asserted.
    ping(west.ns, east.ip, 2, { size: 1600 });
    assert.equal(reasm() - before, 2, "the east host reassembled both datagrams from dpfwd's fragments");
    // 3208 bytes: 67 fragments, more than dpfwd makes of one datagram
    assert.equal(ping(west.ns, east.ip, 2, { size: 3200 }), 0);
    const t = await totals(fwd);
    assert.equal(t.counters.west.refragmented, 2);
    assert.equal(t.drops.west.frag_failed, 2);
    assert.equal(t.drops.west.mtu_exceeded, 0);
  });
});

describe('af_xdp, af_packet and tap ports in one forwarder', function () {
  this.timeout(120000);
  const topo = new Topology();
  let fwd: Running;
  let west: Host;
  let east: Host;
  let tapNs: string;
  const tapIf = `tq${topo.id}`.slice(0, 15);

  before(async () => {
    west = topo.addHost('west', 1);
    east = topo.addHost('east', 2);
    tapNs = topo.addNamespace('tap');
    fwd = await startForwarder({
      eal: { lcores: '0-1' },
      ports: [topo.xdpPort(west, 0), topo.port(east, 1), { name: 'tap', device: `net_tap0,iface=${tapIf}`, address: '10.4.0.1/24' }],
    });
    sh('ip', ['link', 'set', tapIf, 'netns', tapNs]);
    sh('ip', ['-n', tapNs, 'addr', 'add', '10.4.0.2/24', 'dev', tapIf]);
    sh('ip', ['-n', tapNs, 'link', 'set', tapIf, 'up']);
    sh('ip', ['-n', tapNs, 'route', 'add', 'default', 'via', '10.4.0.1']);
  });

  after(async () => {
    try {
      if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
    } finally {
      topo.destroy();
    }
  });

  it('starts, each port on its own driver', async () => {
    const ports = await fwd.call('show.ports');
    assert.deepEqual(
      ports.map((p: any) => [p.ifname, p.driver]),
      [
        ['west', 'net_af_xdp'],
        ['east', 'net_af_packet'],
        ['tap', 'net_tap'],
      ],
    );
  });

  it('forwards pings between every pair of ports', () => {
    assert.equal(ping(west.ns, east.ip, 3), 3);
    assert.equal(ping(east.ns, '10.4.0.2', 3), 3);
    assert.equal(ping(tapNs, west.ip, 3), 3);
  });

  it('carries UDP (iperf3, 2 s) af_xdp → af_packet and tap → af_xdp', async () => {
    for (const [from, to] of [
      [west, east],
      [{ ...west, ns: tapNs, ip: '10.4.0.2' }, west],
    ] as const) {
      const end = await iperf(to, from, ['-u', '-b', '20M', '-l', '1200']);
      const s = end.sum;
      assert.ok(s.packets > 1000, `sent ${s.packets}`);
      assert.ok(s.packets - s.lost_packets > s.packets * 0.9, `${from.name} → ${to.name}: received ${s.packets - s.lost_packets} of ${s.packets}`);
    }
  });
});

describe('af_xdp with an MTU its UMEM chunks cannot hold', function () {
  this.timeout(60000);
  const topo = new Topology();
  after(() => topo.destroy());

  it('refuses at start naming the port, the page limit and the largest MTU that fits', async () => {
    const west = topo.addHost('west', 1);
    const east = topo.addHost('east', 2);
    const err = await startForwarder({ eal: { lcores: '0-1' }, ports: [{ ...topo.xdpPort(west, 0), mtu: 4000 }, topo.port(east, 1)] }).then(
      (f) => {
        void f.stop();
        return 'started';
      },
      (e: Error) => e.message,
    );
    assert.match(
      err,
      /port west: af_xdp cannot carry MTU 4000 here: the kernel takes UMEM chunks of at most a page \(4096 bytes\).*lower the af_xdp ports' mtu to \d+ or less/,
      err,
    );
  });
});

describe('one forwarder per interface', function () {
  this.timeout(120000);
  const topo = new Topology();
  let first: Running;
  let west: Host;
  let east: Host;
  const xdpProg = (ifname: string) => JSON.parse(sh('ip', ['-j', 'link', 'show', ifname]))[0].xdp?.prog;

  before(async () => {
    west = topo.addHost('west', 1);
    east = topo.addHost('east', 2);
    first = await startForwarder({ eal: { lcores: '0-1' }, ports: [topo.port(west, 0), topo.port(east, 1)] });
    assert.equal(ping(west.ns, east.ip, 2), 2);
  });

  after(async () => {
    try {
      if (first) assert.equal((await first.stop()).code, 0, first.stderr());
    } finally {
      topo.destroy();
    }
  });

  for (const [kind, dev] of [
    ['af_packet', (h: Host) => `net_af_packet0,iface=${h.routerIf}`],
    ['af_xdp', (h: Host) => `net_af_xdp0,iface=${h.routerIf}`],
  ] as const) {
    it(`a second forwarder with an ${kind} port on an interface the first holds is refused, naming the first's pid and socket`, async () => {
      const progBefore = xdpProg(east.routerIf);
      assert.equal(progBefore?.name, 'dpfwd_xdp_pass');
      const err = await startForwarder({ eal: { lcores: '0-1' }, ports: [{ name: 'other', device: dev(east), address: '10.9.0.1/24' }] }).then(
        async (f) => {
          await f.stop();
          return `started:\n${f.stderr()}`;
        },
        (e: Error) => e.message,
      );
      assert.match(
        err,
        new RegExp(
          `ports\\[0\\]\\.device: interface ${east.routerIf} is in use by another dpfwd \\(pid ${first.proc.pid}, control socket ${first.socket.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, its port east\\)`,
        ),
        err,
      );
      assert.doesNotMatch(err, /EAL arguments/, 'refused before EAL init');
      // the first forwarder's set-up is untouched and it still forwards
      assert.equal(xdpProg(east.routerIf)?.id, progBefore.id);
      assert.equal(ping(west.ns, east.ip, 3), 3);
    });
  }

  it('the interface is free again once the first one stopped; its stop removes its own XDP program', async () => {
    assert.equal((await first.stop()).code, 0, first.stderr());
    assert.equal(xdpProg(east.routerIf), undefined);
    first = await startForwarder({ eal: { lcores: '0-1' }, ports: [topo.port(west, 0), topo.port(east, 1)] });
    assert.equal(xdpProg(east.routerIf)?.name, 'dpfwd_xdp_pass');
    assert.equal(ping(west.ns, east.ip, 2), 2);
  });
});

describe('--log-format json with af_xdp ports', function () {
  this.timeout(60000);
  const topo = new Topology();
  after(() => topo.destroy());

  it("every stderr line is a JSON object, libbpf's and libxdp's included", async () => {
    const west = topo.addHost('west', 1);
    const east = topo.addHost('east', 2);
    const fwd = await startForwarder({ eal: { lcores: '0-1' }, ports: [topo.xdpPort(west, 0), topo.xdpPort(east, 1)] }, { runArgs: ['--log-format', 'json'] });
    assert.equal(ping(west.ns, east.ip, 2), 2);
    assert.equal((await fwd.stop()).code, 0, fwd.stderr());
    const lines = fwd
      .stderr()
      .split('\n')
      .filter((l) => l.trim());
    const raw = lines.filter((l) => {
      try {
        return typeof JSON.parse(l) !== 'object';
      } catch {
        return true;
      }
    });
    assert.deepEqual(raw, [], `${raw.length} of ${lines.length} lines are not JSON`);
    const objs = lines.map((l) => JSON.parse(l));
    assert.ok(
      objs.some((o) => /^(libbpf|libxdp)$/.test(o.component)),
      `no line from libbpf/libxdp:\n${lines.join('\n')}`,
    );
  });
});
