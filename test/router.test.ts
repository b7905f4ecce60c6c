/**
 * dpfwd as the gateway of Linux hosts, with no static ARP anywhere: hosts in network namespaces
 * on veth pairs into af_packet ports, and one net_tap port whose kernel side lives in a namespace.
 * Real traffic from ping, tracepath, traceroute and iperf3.
 */
import { strict as assert } from 'assert';
import * as path from 'path';
import { ROOT, startForwarder, Running, totals, dpfwdCli } from './helpers/forwarder';
import { Topology, ping, pingAsync, sh, spawnIn } from './helpers/netns';

const ARP = { reachableMs: 1500, staleMs: 5000, retransmitMs: 200, probes: 2 };

function cli(fwd: Running, args: string[]) {
  return dpfwdCli(fwd, args, 20000);
}

function hostMac(ns: string, dev: string): string {
  return JSON.parse(sh('ip', ['-j', 'link', 'show', dev], { ns }))[0].address;
}

/** A host kernel's SNMP counter, e.g. snmp(ns, 'Icmp', 'InEchos'). */
function snmp(ns: string, group: string, field: string): number {
  const lines = sh('cat', ['/proc/net/snmp'], { ns })
    .split('\n')
    .filter((l) => l.startsWith(`${group}:`));
  const names = lines[0].split(/\s+/);
  const values = lines[1].split(/\s+/);
  return Number(values[names.indexOf(field)]);
}

describe('router: Linux hosts use dpfwd as their gateway', function () {
  this.timeout(120000);
  const topo = new Topology();
  let fwd: Running;
  let tapNs: string;
  const tapIf = `tp${topo.id}`.slice(0, 15);

  before(async () => {
    const west = topo.addHost('west', 1);
    const east = topo.addHost('east', 2);
    const south = topo.addHost('south', 3);
    tapNs = topo.addNamespace('tap');
    fwd = await startForwarder({
      eal: { lcores: '0-1' },
      ports: [topo.port(west, 0), topo.port(east, 1), topo.port(south, 2), { name: 'tap', device: `net_tap0,iface=${tapIf}`, address: '10.4.0.1/24' }],
      arp: ARP,
    });
    // the tap's kernel side becomes a host: the way Linux applications reach a dataplane that owns the NIC
    sh('ip', ['link', 'set', tapIf, 'netns', tapNs]);
    sh('ip', ['-n', tapNs, 'addr', 'add', '10.4.0.2/24', 'dev', tapIf]);
    sh('ip', ['-n', tapNs, 'link', 'set', tapIf, 'up']);
    sh('ip', ['-n', tapNs, 'route', 'add', 'default', 'via', '10.4.0.1']);
  });

  after(async () => {
    if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
    topo.destroy();
  });

  it('forwards pings between hosts, resolving them by ARP', async () => {
    assert.equal(ping(topo.host('west').ns, '10.2.0.2', 3), 3);
    assert.equal(ping(topo.host('west').ns, '10.3.0.2', 3), 3);
    assert.equal(ping(topo.host('south').ns, '10.2.0.2', 3), 3);
    const neigh = await fwd.call('neighbor.show');
    const west = neigh.find((n: { dst: string }) => n.dst === '10.1.0.2');
    assert.deepEqual(west, { dst: '10.1.0.2', dev: 'west', lladdr: hostMac(topo.host('west').ns, topo.host('west').hostIf), state: ['REACHABLE'] });
  });

  it('answers pings to its own addresses, on the near and the far port', () => {
    assert.equal(ping(topo.host('west').ns, '10.1.0.1', 3), 3);
    assert.equal(ping(topo.host('west').ns, '10.2.0.1', 3), 3);
  });

  it('shows up as a hop in tracepath and traceroute', () => {
    const tp = sh('tracepath', ['-n', '-m', '4', '10.2.0.2'], { ns: topo.host('west').ns, allowFail: true, timeout: 30000 });
    assert.match(tp, /^\s*1:\s+10\.1\.0\.1\s/m, tp);
    assert.match(tp, /10\.2\.0\.2\s.*reached/, tp);
    const tr = sh('traceroute', ['-n', '-q', '1', '-w', '1', '-m', '4', '10.2.0.2'], { ns: topo.host('west').ns, allowFail: true, timeout: 30000 });
    assert.match(tr, /^\s*1\s+10\.1\.0\.1\s/m, tr);
    assert.match(tr, /^\s*2\s+10\.2\.0\.2\s/m, tr);
  });

  it('answers host unreachable when a host on a connected subnet never answers ARP', async () => {
    const out = sh('ping', ['-n', '-c', '1', '-W', '3', '10.2.0.77'], { ns: topo.host('west').ns, allowFail: true });
    assert.match(out, /From 10\.1\.0\.1 icmp_seq=1 Destination Host Unreachable/, out);
    const n = (await fwd.call('neighbor.show')).find((x: { dst: string }) => x.dst === '10.2.0.77');
    assert.deepEqual(n?.state, ['FAILED']);
  });

  it('reaches the hosts from a namespace behind a net_tap port', () => {
    assert.equal(ping(tapNs, '10.1.0.2', 3), 3);
    assert.equal(ping(tapNs, '10.4.0.1', 2), 2);
  });

  it("recovers when a host's MAC changes, within the ARP probe time", async () => {
    const east = topo.host('east');
    assert.equal(ping(topo.host('west').ns, east.ip, 1), 1);
    sh('ip', ['-n', east.ns, 'link', 'set', east.hostIf, 'address', '02:00:00:00:ee:99']);
    const t0 = Date.now();
    let ok = false;
    while (Date.now() - t0 < 15000) {
      if (ping(topo.host('west').ns, east.ip, 1, { interval: 0.2 }) === 1) {
        ok = true;
        break;
      }
    }
    const took = Date.now() - t0;
    assert.ok(ok, 'traffic recovered');
    // worst case: reachable time, then every unicast probe unanswered, then a broadcast round
    assert.ok(took < ARP.reachableMs + 2 * ARP.probes * ARP.retransmitMs + 3000, `recovered in ${took} ms`);
    const n = (await fwd.call('neighbor.show')).find((x: { dst: string }) => x.dst === east.ip);
    assert.equal(n.lladdr, '02:00:00:00:ee:99');
  });

  it('moves traffic with route add/del while iperf3 runs, losing nothing on untouched routes', async () => {
    const west = topo.host('west');
    const east = topo.host('east');
    const south = topo.host('south');
    sh('ip', ['-n', south.ns, 'addr', 'add', '10.20.0.2/32', 'dev', 'lo']);
    const server = spawnIn(east.ns, 'iperf3', ['-s', '-1', '-B', east.ip]);
    await new Promise((r) => setTimeout(r, 500));
    // where a loss could happen without dpfwd deciding it: the receiver's socket buffer (iperf3
    // descheduled on a loaded machine) and dpfwd's rx ring while its worker is descheduled
    const rcvbuf0 = snmp(east.ns, 'Udp', 'RcvbufErrors');
    const missed = async () => (await fwd.call('show.ports')).reduce((n: number, p: { stats64: { rx: { missed: number } } }) => n + p.stats64.rx.missed, 0);
    const missed0 = await missed();
    const t0 = await totals(fwd);
    const client = spawnIn(west.ns, 'iperf3', ['-c', east.ip, '-u', '-b', '20M', '-l', '1200', '-t', '5', '-J']);
    let out = '';
    client.stdout!.on('data', (d) => {
      out += d;
    });
    const done = new Promise((r) => client.on('exit', r));
    try {
      await new Promise((r) => setTimeout(r, 500));
      // no route yet: dpfwd answers with ICMP net unreachable
      const unreach = sh('ping', ['-n', '-c', '1', '-W', '1', '10.20.0.2'], { ns: west.ns, allowFail: true });
      assert.match(unreach, /From 10\.1\.0\.1 .*Destination Net Unreachable/, unreach);
      // via east: east is not 10.20.0.2 and does not forward, so nothing answers, but the packets
      // reach east's kernel (counted as InAddrErrors) and not south's
      await fwd.call('route.add', { prefix: '10.20.0.0/16', via: east.ip });
      const eastErr0 = snmp(east.ns, 'Ip', 'InAddrErrors');
      const southEcho0 = snmp(south.ns, 'Icmp', 'InEchos');
      assert.equal(ping(west.ns, '10.20.0.2', 3), 0);
      assert.equal(snmp(east.ns, 'Ip', 'InAddrErrors') - eastErr0, 3, 'the pings went east');
      assert.equal(snmp(south.ns, 'Icmp', 'InEchos') - southEcho0, 0, 'nothing went south');
      // replace the route: via south, which holds 10.20.0.2
      await fwd.call('route.add', { prefix: '10.20.0.0/16', via: south.ip });
      assert.equal(ping(west.ns, '10.20.0.2', 3), 3);
      assert.equal(snmp(south.ns, 'Icmp', 'InEchos') - southEcho0, 3, 'now they go south');
      await fwd.call('route.del', { prefix: '10.20.0.0/16' });
      assert.equal(ping(west.ns, '10.20.0.2', 2), 0);
    } finally {
      await done;
      server.kill();
      sh('ip', ['-n', south.ns, 'addr', 'del', '10.20.0.2/32', 'dev', 'lo'], { allowFail: true });
    }
    const res = JSON.parse(out);
    const sum = res.end.sum;
    const t1 = await totals(fwd);
    const rcvbuf = snmp(east.ns, 'Udp', 'RcvbufErrors') - rcvbuf0;
    const ringMissed = (await missed()) - missed0;
    console.log(
      `      iperf3 UDP 20 Mbit/s during route changes: ${sum.packets} packets, ${sum.lost_packets} lost (receiver buffer ${rcvbuf}, rx ring ${ringMissed})`,
    );
    assert.ok(sum.packets > 5000, `iperf3 sent ${sum.packets} packets`);
    // dpfwd dropped nothing but the pings to 10.20.0.2 while it had no route (1 + 2, no_route)
    const dropped = Object.fromEntries(
      Object.entries(t1.drops.west)
        .map(([r, n]) => [r, n - (t0.drops.west[r] ?? 0)])
        .filter(([, n]) => n),
    );
    // (tx_full: east's veth did not take a frame, the machine's load like the two below;
    // not_ipv4: the host's own IPv6 chatter, router solicitations and MLD)
    assert.deepEqual(
      Object.keys(dropped).filter((r) => !['no_route', 'tx_full', 'not_ipv4'].includes(r)),
      [],
      JSON.stringify(dropped),
    );
    assert.ok((dropped.no_route ?? 0) <= 3, JSON.stringify(dropped));
    // and every packet iperf3 missed is one the machine lost around dpfwd, counted where it was lost
    const txFull = dropped.tx_full ?? 0;
    assert.ok(
      sum.lost_packets <= rcvbuf + ringMissed + txFull,
      `iperf3 lost ${sum.lost_packets} of ${sum.packets}; receiver buffer ${rcvbuf}, rx ring ${ringMissed}, tx_full ${txFull}`,
    );
  });

  it('rate-limits a flood of TTL=1 packets without starving the control socket or other traffic', async () => {
    const west = topo.host('west');
    const before = await fwd.call('show.controlplane');
    const t0 = await totals(fwd);
    // a bounded UDP flood with TTL 1 from the west host: at most 400k packets or 3 s
    const flood = spawnIn(west.ns, process.execPath, [path.join(ROOT, 'test', 'helpers', 'ttl1-flood.js'), '10.2.0.2', '3000', '400000']);
    let sent = '';
    flood.stdout!.on('data', (d) => {
      sent += d;
    });
    const floodDone = new Promise((r) => flood.on('exit', r));
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 300));
    const latencies: number[] = [];
    // other traffic on other ports keeps flowing
    const pinged = pingAsync(topo.host('east').ns, '10.3.0.2', 10, 0.2);
    while (Date.now() - started < 2500) {
      const t = process.hrtime.bigint();
      await fwd.call('health');
      latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      await new Promise((r) => setTimeout(r, 50));
    }
    await floodDone;
    const received = await pinged;
    const seconds = (Date.now() - started) / 1000 + 0.5;
    const after = await fwd.call('show.controlplane');
    const t1 = await totals(fwd);
    const ttlDrops = t1.drops.west.ttl_expired - t0.drops.west.ttl_expired;
    const icmpOut = (after.counters.icmpSent.time_exceeded ?? 0) - (before.counters.icmpSent.time_exceeded ?? 0);
    latencies.sort((a, b) => a - b);
    const median = latencies[Math.floor(latencies.length / 2)];
    const p90 = latencies[Math.floor(latencies.length * 0.9)];
    console.log(
      `      flood: ${sent} sent, ${ttlDrops} TTL-expired in dpfwd, ${icmpOut} ICMP out in ${seconds.toFixed(1)} s, control socket median ${median.toFixed(1)} ms / p90 ${p90.toFixed(1)} ms / max ${latencies[latencies.length - 1].toFixed(1)} ms, other ping ${received}/10`,
    );
    assert.ok(Number(sent) > 20000, `flood sent ${sent} packets`);
    assert.ok(ttlDrops > 20000, `dataplane saw ${ttlDrops} TTL-expired packets`);
    assert.ok(icmpOut <= 1000 * seconds + 50, `ICMP time exceeded sent ${icmpOut} in ${seconds.toFixed(1)} s (limit 1000/s, burst 50)`);
    assert.ok(icmpOut > 0, 'some ICMP still goes out');
    assert.ok(
      t1.puntLimited.ttl_expired - t0.puntLimited.ttl_expired > 0 || after.counters.icmpRateLimited > before.counters.icmpRateLimited,
      'the excess was limited and counted',
    );
    // the flood sender shares this 2-core machine's other core with Node: judge the 90th percentile
    assert.ok(p90 < 100, `control socket p90 latency ${p90.toFixed(1)} ms during the flood (all: ${latencies.map((x) => x.toFixed(0)).join(' ')})`);
    assert.ok(received >= 9, `east -> south ping during the flood: ${received}/10`);
  });

  it('rejects bad requests with one clear line and a non-zero exit', () => {
    const cases: [string[], string][] = [
      [['address', 'add', '10.2.0.5/24', 'port', 'west'], 'dpfwd: address 10.2.0.5/24 on port west conflicts with 10.2.0.1/24 on port east\n'],
      [['route', 'add', '10.30.0.0/16', 'via', '10.2.0.2', 'port', 'nosuch'], 'dpfwd: unknown port nosuch; ports are: west, east, south, tap\n'],
      [['route', 'add', '10.30.0.1/16', 'via', '10.2.0.2'], 'dpfwd: 10.30.0.1/16 has host bits set; did you mean 10.30.0.0/16?\n'],
      [['route', 'add', '10.30.0.0/16', 'via'], "dpfwd: 'via' needs a value\n"],
      [['route', 'add', '10.30.0.0/16', 'dev'], "dpfwd: 'dev' needs a value\n"],
      [['route', 'del', '10.31.0.0/16'], 'dpfwd: no static route 10.31.0.0/16\n'],
      [['neighbor', 'add', '10.2.0.9', 'zz:00:00:00:00:09', 'port', 'east'], ''],
    ];
    for (const [args, want] of cases) {
      const r = cli(fwd, args);
      assert.notEqual(r.status, 0, `${args.join(' ')} exits non-zero`);
      if (want) assert.equal(r.stderr, want, args.join(' '));
      else assert.match(r.stderr, /^dpfwd: .*zz:00:00:00:00:09.*\n$/, args.join(' '));
      assert.equal(r.stderr.split('\n').length, 2, `one line for ${args.join(' ')}: ${r.stderr}`);
    }
  });
});
