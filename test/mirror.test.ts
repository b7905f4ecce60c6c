/**
 * Linux mirror interfaces (linux.mirror, docs/linux.md) with real Linux hosts in namespaces: dpfwd
 * creates a TAP per port in a namespace it creates itself; local TCP (also with TTL 1, as eBGP
 * sends it) reaches a listener there, Linux there resolves the hosts and is resolved through
 * dpfwd, with exactly one ARP reply on the wire per request; link-local multicast reaches the
 * mirror and is not forwarded.
 */
import { strict as assert } from 'assert';
import { ChildProcess } from 'child_process';
import { startForwarder, Running, waitFor, dpfwdCli, dpfwdJson, freePort } from './helpers/forwarder';
import { Topology, Host, sh, spawnIn, ping } from './helpers/netns';

/** A TCP server in `ns` on addr:port that answers each connection with "hello <peer>" and closes. */
function tcpServer(ns: string, port: number): ChildProcess {
  const code = `import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", ${port})); s.listen(8); print("listening", flush=True)
while True:
    c, a = s.accept(); c.sendall(("hello " + a[0]).encode()); c.close()
`;
  return spawnIn(ns, 'python3', ['-c', code]);
}

/** Connects from `ns` to addr:port with the given IP TTL; returns what the server said. */
function tcpClient(ns: string, addr: string, port: number, ttl: number): string {
  const code = `import socket
s = socket.socket(); s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ${ttl}); s.settimeout(5)
s.connect(("${addr}", ${port})); print(s.recv(100).decode())
`;
  return sh('python3', ['-c', code], { ns, allowFail: true, timeout: 15000 }).trim();
}

describe('Linux mirror interfaces (TAP in a namespace)', function () {
  this.timeout(90000);
  const topo = new Topology();
  const mirrorNs = `dpt${topo.id}lx`;
  const tapIf = `d${topo.id}mt`;
  let west: Host;
  let east: Host;
  let fwd: Running;
  let server: ChildProcess | undefined;
  let metricsPort: number;

  before(async () => {
    west = topo.addHost('west', 1);
    east = topo.addHost('east', 2);
    sh('ip', ['netns', 'del', mirrorNs], { allowFail: true });
    metricsPort = await freePort();
    fwd = await startForwarder({
      metrics: { listen: `127.0.0.1:${metricsPort}` },
      eal: { lcores: '0-1' },
      // a net_tap port too: its PMD reports the kernel side's state as the link (af_packet always says up)
      ports: [topo.port(west, 0), { ...topo.port(east, 1), mtu: 1400 }, { name: 'tap', device: `net_tap0,iface=${tapIf}`, address: '10.4.0.1/24' }],
      linux: { netns: mirrorNs, mirror: true, rateLimit: 2000, burst: 200 },
    });
  });

  after(async () => {
    server?.kill();
    if (fwd) await fwd.stop();
    sh('ip', ['netns', 'del', mirrorNs], { allowFail: true });
    topo.destroy();
  });

  it('creates the namespace and one mirror per port: same name, MAC, MTU and addresses, up, IPv6 off', async () => {
    const ports = await fwd.call('show.ports');
    const links = JSON.parse(sh('ip', ['-n', mirrorNs, '-j', 'addr', 'show']));
    for (const [name, mtu, addr] of [
      ['west', 1500, '10.1.0.1'],
      ['east', 1400, '10.2.0.1'],
    ] as const) {
      const l = links.find((x: { ifname: string }) => x.ifname === name);
      assert.ok(l, `mirror ${name} in ${mirrorNs}: ${JSON.stringify(links.map((x: { ifname: string }) => x.ifname))}`);
      assert.equal(l.address, ports.find((p: { ifname: string }) => p.ifname === name).address, 'MAC of the port');
      assert.equal(l.mtu, mtu);
      assert.ok(l.flags.includes('UP') && l.flags.includes('LOWER_UP'), `up with carrier: ${l.flags}`);
      assert.deepEqual(
        l.addr_info.map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`),
        [`${addr}/24`],
      );
    }
    assert.equal(sh('cat', ['/proc/sys/net/ipv6/conf/west/disable_ipv6'], { ns: mirrorNs }).trim(), '1');
  });

  it("gives a mirror the carrier of its port's link", async () => {
    const lowerUp = () => JSON.parse(sh('ip', ['-n', mirrorNs, '-j', 'link', 'show', 'dev', 'tap']))[0].flags.includes('LOWER_UP');
    await waitFor('the tap port link up', async () => lowerUp(), 10000);
    sh('ip', ['link', 'set', tapIf, 'down']);
    await waitFor('carrier down on the mirror', async () => !lowerUp(), 10000);
    sh('ip', ['link', 'set', tapIf, 'up']);
    await waitFor('carrier up again', async () => lowerUp(), 10000);
  });

  it('follows address add/del on a mirrored port', async () => {
    await fwd.call('address.add', { address: '10.9.0.1/24', port: 'east' });
    const has = () => sh('ip', ['-n', mirrorNs, '-br', 'addr', 'show', 'dev', 'east']).includes('10.9.0.1/24');
    assert.ok(has(), 'added');
    await fwd.call('address.del', { address: '10.9.0.1/24', port: 'east' });
    assert.ok(!has(), 'deleted');
  });

  it("delivers TCP for the router's address to a listener in the mirror namespace, also with TTL 1 (eBGP), and back", async () => {
    server = tcpServer(mirrorNs, 1790);
    await waitFor('the server to listen', async () => sh('ss', ['-Hltn', 'sport = :1790'], { ns: mirrorNs }).includes('1790'), 10000);
    assert.equal(tcpClient(west.ns, '10.1.0.1', 1790, 64), `hello ${west.ip}`);
    assert.equal(tcpClient(west.ns, '10.1.0.1', 1790, 1), `hello ${west.ip}`, 'TTL 1 to the router is delivered, not expired');
    // to the address of the other port, arriving on west: Linux has it on the east mirror
    assert.equal(tcpClient(west.ns, '10.2.0.1', 1790, 64), `hello ${west.ip}`);
    const t = (await fwd.call('show.mirrors')) as { port: string; to_linux: number; from_linux: number }[];
    const w = t.find((r) => r.port === 'west')!;
    assert.ok(w.to_linux >= 9 && w.from_linux >= 9, `frames both ways through the west mirror: ${JSON.stringify(w)}`);
  });

  it('lets Linux resolve the hosts and be resolved, with one ARP reply on the wire per request', async () => {
    sh('ip', ['-n', west.ns, 'neigh', 'flush', 'dev', west.hostIf]);
    sh('ip', ['-n', mirrorNs, 'neigh', 'flush', 'dev', 'west']);
    const cap = spawnIn(west.ns, 'tcpdump', ['-i', west.hostIf, '-nn', '-l', '-c', '40', 'arp']);
    let out = '';
    cap.stdout!.on('data', (d) => {
      out += d;
    });
    cap.stderr!.on('data', (d) => {
      out += d;
    });
    await waitFor('tcpdump to listen', async () => out.includes('listening'), 10000);
    // Linux in the mirror namespace pings the host: it must resolve 10.1.0.2 (its request goes
    // out of the port, the reply comes back up), and echo replies (ICMP for us, not echo
    // requests) must reach it
    assert.equal(ping(mirrorNs, west.ip, 3), 3, 'ping from the mirror namespace to the host');
    // the host resolves the router: dpfwd answers, Linux's own reply is held back
    sh('ip', ['-n', west.ns, 'neigh', 'flush', 'dev', west.hostIf]);
    assert.equal(ping(west.ns, '10.1.0.1', 2), 2);
    await new Promise((r) => setTimeout(r, 500));
    cap.kill();
    const lines = out.split('\n');
    const requestsForRouter = lines.filter((l) => /Request who-has 10\.1\.0\.1 /.test(l)).length;
    const replies = lines.filter((l) => /Reply 10\.1\.0\.1 is-at/.test(l)).length;
    assert.ok(requestsForRouter >= 1, `the host asked for the router:\n${out}`);
    assert.equal(replies, requestsForRouter, `one reply per request for 10.1.0.1:\n${out}`);
    assert.ok(
      lines.some((l) => /Request who-has 10\.1\.0\.2 tell 10\.1\.0\.1/.test(l)) || sh('ip', ['-n', mirrorNs, 'neigh', 'show', west.ip]).includes('lladdr'),
      'Linux resolved the host',
    );
    const neigh = sh('ip', ['-n', mirrorNs, 'neigh', 'show', west.ip]);
    assert.match(neigh, /lladdr/, `Linux's neighbour entry for the host: ${neigh}`);
    const t = (await fwd.call('show.mirrors')) as { port: string; drops: Record<string, number> }[];
    assert.ok(t.find((r) => r.port === 'west')!.drops.arp_reply_suppressed >= 1, 'Linux answered too and dpfwd held that back');
  });

  it('sends link-local multicast (224.0.0.0/24) up to the mirror, never out of another port', async () => {
    const before = (await fwd.call('show.mirrors')).find((r: { port: string }) => r.port === 'west').to_linux;
    const eastCap = spawnIn(east.ns, 'tcpdump', ['-i', east.hostIf, '-nn', '-l', 'dst', '224.0.0.9']);
    let eastOut = '';
    eastCap.stdout!.on('data', (d) => {
      eastOut += d;
    });
    eastCap.stderr!.on('data', (d) => {
      eastOut += d;
    });
    await waitFor('tcpdump on east', async () => eastOut.includes('listening'), 10000);
    const code = `import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("${west.ip}"))
for i in range(5): s.sendto(b"rip", ("224.0.0.9", 520))
`;
    sh('python3', ['-c', code], { ns: west.ns });
    const after = await waitFor(
      'multicast at the mirror',
      async () => {
        const n = (await fwd.call('show.mirrors')).find((r: { port: string }) => r.port === 'west').to_linux;
        return n >= before + 5 ? n : undefined;
      },
      10000,
    );
    assert.ok(after >= before + 5);
    await new Promise((r) => setTimeout(r, 300));
    eastCap.kill();
    assert.ok(!/224\.0\.0\.9\.520/.test(eastOut), `nothing forwarded to east:\n${eastOut}`);
    const c = await fwd.call('show.counters');
    const k = c.names.punts.indexOf('link_multicast');
    const punted = c.snapshot.workers.reduce((a: number, w: { punts: { punted: number }[] }) => a + w.punts[k].punted, 0);
    assert.ok(punted >= 5, `counted as link_multicast punts: ${punted}`);
  });

  it('shows the mirrors and their counters in `dpfwd show mirrors -j` and in metrics', async () => {
    const rows = dpfwdJson(fwd, ['show', 'mirrors']);
    assert.deepEqual(
      rows.map((r: { port: string; mirror: string; netns: string }) => [r.port, r.mirror, r.netns]),
      [
        ['west', 'west', mirrorNs],
        ['east', 'east', mirrorNs],
        ['tap', 'tap', mirrorNs],
      ],
    );
    const west = rows.find((r: { port: string }) => r.port === 'west');
    const text = dpfwdCli(fwd, ['show', 'mirrors']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^port +mirror +netns +carrier +to_linux +from_linux +dropped +drops +restored +broken$/m);
    assert.match(text.stdout, new RegExp(`^west +west +${mirrorNs} +UP +\\d+ +\\d+ +\\d+ +\\S*arp_reply_suppressed=\\d+\\S* +\\d+ +-$`, 'm'));
    const exposition = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(exposition)?.[1]);
    assert.ok(value('dpfwd_mirror_frames_total{port="west",direction="to_linux"}') >= west.to_linux, 'to_linux in metrics');
    assert.ok(value('dpfwd_mirror_drops_total{port="west",reason="arp_reply_suppressed"}') >= 1, 'drops by reason in metrics');
    assert.match(exposition, /dpfwd_punts_total\{reason="link_multicast"\} [1-9]/);
  });

  it("refuses to start, naming the cause and the fix, when a mirror's name is taken in the namespace", async () => {
    const err = await startForwarder({
      eal: { lcores: '0-1', filePrefix: `dpfwd-mirror-${process.pid}`, inMemory: false },
      ports: [{ name: 'west', device: 'net_null0,no-rx=1', address: '10.1.0.1/24' }],
      linux: { netns: mirrorNs, mirror: { west: 'lo' } },
    }).then(
      async (f) => {
        await f.stop();
        return '';
      },
      (e: Error) => e.message,
    );
    assert.match(err, /cannot create TAP interface lo: .*an interface of that name already exists in the namespace/);
    assert.ok(!/at .*\.js:\d+/.test(err), `one message, no stack trace: ${err}`);
  });

  it('accounts for every frame Linux sends under a flood: sent on, or dropped under a reason; the control socket keeps answering', async () => {
    const linuxTx = () => JSON.parse(sh('ip', ['-n', mirrorNs, '-s', '-j', 'link', 'show', 'dev', 'east']))[0].stats64.tx.packets as number;
    const counted = async () => {
      const r = ((await fwd.call('show.mirrors')) as { port: string; from_linux: number; drops: Record<string, number> }[]).find((x) => x.port === 'east')!;
      const d = r.drops;
      return (
        r.from_linux +
        d.rate_limited +
        d.malformed +
        d.wrong_source_mac +
        d.arp_spoofed +
        d.bad_checksum +
        d.arp_reply_suppressed +
        d.not_ipv4 +
        d.too_big +
        d.inject_full
      );
    };
    const eastRow = async () =>
      ((await fwd.call('show.mirrors')) as { port: string; from_linux: number; drops: Record<string, number> }[]).find((x) => x.port === 'east')!;
    const sentBefore = (await eastRow()).from_linux;
    const t0 = Date.now();
    // Linux in the mirror namespace floods the east host with UDP (bounded: 30000 datagrams or 5 s)
    const code = `import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.setblocking(False)
end = time.time() + 5; n = 0
while n < 30000 and time.time() < end:
    try:
        s.sendto(b"x" * 64, ("${east.ip}", 9)); n += 1
    except BlockingIOError:
        time.sleep(0.0005)
print(n)
`;
    const flood = spawnIn(mirrorNs, 'python3', ['-c', code]);
    const done = new Promise((r) => flood.on('exit', r));
    let answered = 0;
    let finished = false;
    void done.then(() => {
      finished = true;
    });
    while (!finished) {
      await fwd.call('show.mirrors');
      answered++;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(answered >= 1, 'the control socket answered during the flood');
    // once Linux has nothing left queued for dpfwd, every frame it handed over is accounted for
    const settled = await waitFor(
      'the counts to settle',
      async () => {
        const a = linuxTx();
        const b = await counted();
        await new Promise((r) => setTimeout(r, 300));
        return a === linuxTx() && a === b ? a : undefined;
      },
      15000,
    );
    assert.ok(settled > 1000, `Linux sent ${settled} frames on the east mirror`);
    // linux.rateLimit 2000/s, burst 200: what went out is bounded by the bucket, the rest counted
    const row = await eastRow();
    const seconds = (Date.now() - t0) / 1000;
    assert.ok(row.from_linux - sentBefore <= 200 + 2000 * seconds, `${row.from_linux - sentBefore} frames out in ${seconds} s`);
    assert.ok(row.drops.rate_limited > 0, `rate_limited counted: ${JSON.stringify(row.drops)}`);
  });

  /** Writes raw frames on a mirror from inside the namespace (AF_PACKET), as anything in Linux could. */
  const rawSend = (ifname: string, frames: Buffer[]) => {
    const code = `import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(("${ifname}", 0))
for h in sys.argv[1:]: s.send(bytes.fromhex(h))
`;
    sh('python3', ['-c', code, ...frames.map((f) => f.toString('hex'))], { ns: mirrorNs });
  };
  const macOf = async (port: string) => (await fwd.call('show.ports')).find((p: { ifname: string }) => p.ifname === port).address as string;
  const hex = (s: string) => Buffer.from(s.replace(/[: ]/g, ''), 'hex');

  it("checks frames from Linux as frames from the wire: a gratuitous ARP for the router's address with another MAC, runts, cut IPv4, IHL 15 and bad checksums never reach the wire", async () => {
    const mac = await macOf('west');
    const rogue = '02:66:66:66:66:66';
    const westRow = async () => ((await fwd.call('show.mirrors')) as { port: string; drops: Record<string, number> }[]).find((x) => x.port === 'west')!.drops;
    const before = await westRow();
    const cap = spawnIn(west.ns, 'tcpdump', ['-i', west.hostIf, '-nn', '-l', '-e', `ether src ${mac} and (arp or ip[0] != 0x45 or len < 60)`]);
    let out = '';
    cap.stdout!.on('data', (d) => {
      out += d;
    });
    cap.stderr!.on('data', (d) => {
      out += d;
    });
    await waitFor('tcpdump to listen', async () => out.includes('listening'), 10000);
    sh('ip', ['-n', west.ns, 'neigh', 'replace', '10.1.0.1', 'lladdr', mac, 'dev', west.hostIf, 'nud', 'stale']);
    const eth = (src: string, type: string) => hex(`ff:ff:ff:ff:ff:ff ${src} ${type}`);
    // gratuitous ARP request: who-has 10.1.0.1 tell 10.1.0.1, sender MAC rogue (from the port's MAC and from the rogue one)
    const garp = (src: string) => Buffer.concat([eth(src, '0806'), hex(`0001 0800 06 04 0001 ${rogue} 0a010001 000000000000 0a010001`)]);
    const ipHdr = (b0: string) => hex(`${b0}00 0020 0000 0000 4011 0000 0a010001 0a010002`); // checksum 0: wrong
    const runt = eth(mac, '0800');
    const cutIp = Buffer.concat([eth(mac, '0800'), hex('4500 0054 0000')]);
    const ihl15 = Buffer.concat([eth(mac, '0800'), ipHdr('4f'), Buffer.alloc(40)]);
    const badSum = Buffer.concat([eth(mac, '0800'), ipHdr('45'), Buffer.alloc(12)]);
    rawSend('west', [garp(mac), garp(rogue), runt, cutIp, ihl15, badSum]);
    const after = await waitFor(
      'the drops counted',
      async () => {
        const d = await westRow();
        return d.bad_checksum > before.bad_checksum && d.malformed >= before.malformed + 3 ? d : undefined;
      },
      10000,
    );
    await new Promise((r) => setTimeout(r, 500));
    cap.kill();
    assert.deepEqual(
      [
        after.arp_spoofed - before.arp_spoofed,
        after.wrong_source_mac - before.wrong_source_mac,
        after.malformed - before.malformed,
        after.bad_checksum - before.bad_checksum,
      ],
      [1, 1, 3, 1],
    );
    assert.ok(
      !out.includes(rogue) && !/who-has 10\.1\.0\.1 tell 10\.1\.0\.1/.test(out) && !/length (14|20|46):/.test(out),
      `nothing of it on the wire:\n${out}`,
    );
    assert.match(sh('ip', ['-n', west.ns, 'neigh', 'show', '10.1.0.1']), new RegExp(`lladdr ${mac}`), "the host's gateway entry keeps the router's MAC");
  });

  it('puts back a mirror whose MAC, MTU or state is changed in Linux, with a warning', async () => {
    const mac = await macOf('west');
    const link = () => JSON.parse(sh('ip', ['-n', mirrorNs, '-j', 'link', 'show', 'dev', 'west']))[0];
    const at = fwd.stderr().length;
    sh('ip', ['-n', mirrorNs, 'link', 'set', 'dev', 'west', 'down', 'address', '02:66:66:66:66:66', 'mtu', '1400']);
    await waitFor(
      'the mirror put back',
      async () => {
        const l = link();
        return l.address === mac && l.mtu === 1500 && l.flags.includes('UP');
      },
      10000,
    );
    // the warning is written once the mirror is put back: it may reach this process a moment after
    const warned =
      /warn .*mirror west of port west was changed in Linux \(MAC 02:66:66:66:66:66, the port's is [0-9a-f:]+; MTU 1400, the port's is 1500; set down\); put back/;
    await waitFor('the warning', async () => warned.test(fwd.stderr().slice(at)), 5000).catch(() => undefined);
    assert.match(fwd.stderr().slice(at), warned);
    assert.ok(dpfwdJson(fwd, ['show', 'mirrors']).find((r: { port: string }) => r.port === 'west').restored >= 1);
    assert.equal(ping(west.ns, '10.1.0.1', 2), 2, 'the router still answers');
  });

  // last: it leaves a mirror broken
  it('a deleted mirror is a warning, shows broken and fails /healthz', async () => {
    const health = async () => {
      const r = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
      return `${r.status} ${await r.text()}`;
    };
    assert.match(await health(), /^200 /);
    const at = fwd.stderr().length;
    sh('ip', ['-n', mirrorNs, 'link', 'del', 'dev', 'tap']);
    const h = await waitFor(
      'healthz to fail',
      async () => {
        const x = await health();
        return x.startsWith('503') ? x : undefined;
      },
      10000,
    );
    assert.match(h, /^503 linux mirror tap of port tap broken: /);
    assert.match(fwd.stderr().slice(at), /warn .*mirror tap of port tap is broken \(.*\); nothing crosses it any more: restart dpfwd/);
    assert.ok(dpfwdJson(fwd, ['show', 'mirrors']).find((r: { port: string }) => r.port === 'tap').broken);
  });
});

describe('a mirror named differently from its port (linux.mirror: {west: wmir}) and the route sync', function () {
  this.timeout(60000);
  const topo = new Topology();
  const mirrorNs = `dpt${topo.id}la`;
  let west: Host;
  let fwd: Running;

  before(async () => {
    west = topo.addHost('west', 1);
    sh('ip', ['netns', 'del', mirrorNs], { allowFail: true });
    fwd = await startForwarder({ eal: { lcores: '0-1' }, ports: [topo.port(west, 0)], linux: { netns: mirrorNs, mirror: { west: 'wmir' } } });
  });

  after(async () => {
    if (fwd) await fwd.stop();
    sh('ip', ['netns', 'del', mirrorNs], { allowFail: true });
    topo.destroy();
  });

  it('creates wmir, and a kernel route through wmir becomes a dpfwd route out of port west', async () => {
    assert.match(sh('ip', ['-n', mirrorNs, '-br', 'addr', 'show', 'dev', 'wmir']), /10\.1\.0\.1\/24/);
    sh('ip', ['-n', mirrorNs, 'route', 'add', '10.77.0.0/16', 'via', west.ip, 'dev', 'wmir', 'proto', 'static']);
    const r = await waitFor(
      '10.77.0.0/16 in dpfwd',
      async () =>
        (dpfwdJson(fwd, ['route', 'show']) as { dst: string; dev?: string; gateway?: string; protocol?: string }[]).find((x) => x.dst === '10.77.0.0/16'),
      15000,
    );
    assert.deepEqual([r.dev, r.gateway, r.protocol], ['west', west.ip, 'static']);
  });
});
