/**
 * RFC 1812 5.3.7 source rules and RFC 2644 directed broadcasts with real Linux hosts (issue 11,
 * item 6): a host sending with a source that is one of the router's addresses or a connected
 * subnet's broadcast is not forwarded (the far host receives nothing) and the counters name the
 * reason; pings to the far subnet's broadcast or network address trigger no ARP and no ICMP
 * host unreachable.
 */
import { strict as assert } from 'assert';
import { startForwarder, Running, totals } from './helpers/forwarder';
import { Topology, ping, sh } from './helpers/netns';

/** A host kernel's SNMP counter, e.g. snmp(ns, 'Icmp', 'InEchos'). */
function snmp(ns: string, group: string, field: string): number {
  const lines = sh('cat', ['/proc/net/snmp'], { ns })
    .split('\n')
    .filter((l) => l.startsWith(`${group}:`));
  return Number(lines[1].split(/\s+/)[lines[0].split(/\s+/).indexOf(field)]);
}

describe('source and broadcast rules with Linux hosts', function () {
  this.timeout(120000);
  const topo = new Topology();
  let fwd: Running;

  before(async () => {
    const west = topo.addHost('west', 1);
    const east = topo.addHost('east', 2);
    fwd = await startForwarder({
      eal: { lcores: '0-1' },
      ports: [topo.port(west, 0), topo.port(east, 1)],
      arp: { reachableMs: 30000, staleMs: 60000, retransmitMs: 200, probes: 2 },
    });
    assert.equal(ping(west.ns, east.ip, 2), 2, 'forwarding works');
  });

  after(async () => {
    if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
    topo.destroy();
  });

  /** Pings from west with a given source address (held on west's loopback for the test). */
  function pingFrom(src: string, dst: string, n: number): number {
    const west = topo.host('west');
    sh('ip', ['-n', west.ns, 'addr', 'add', `${src}/32`, 'dev', 'lo']);
    try {
      return ping(west.ns, dst, n, { interval: 0.2, source: src });
    } finally {
      sh('ip', ['-n', west.ns, 'addr', 'del', `${src}/32`, 'dev', 'lo'], { allowFail: true });
    }
  }

  for (const [what, src, reason] of [
    ["one of the router's addresses (east's)", '10.2.0.1', 'source_own'],
    ["the router's address on the ingress port", '10.1.0.1', 'source_own'],
    ["the far subnet's broadcast", '10.2.0.255', 'source_broadcast'],
  ] as const) {
    it(`drops packets whose source is ${what}, counted as ${reason}; the far host receives none`, async () => {
      const east = topo.host('east');
      const echos0 = snmp(east.ns, 'Icmp', 'InEchos');
      const t0 = await totals(fwd);
      pingFrom(src, east.ip, 3);
      const t1 = await totals(fwd);
      assert.equal(snmp(east.ns, 'Icmp', 'InEchos') - echos0, 0, 'east received none of them');
      assert.equal(t1.drops.west[reason] - t0.drops.west[reason], 3, `${reason} counted`);
    });
  }

  it('forwards from a source that only ends like a router address (10.7.0.1, 10.8.0.255)', async () => {
    const east = topo.host('east');
    const echos0 = snmp(east.ns, 'Icmp', 'InEchos');
    const t0 = await totals(fwd);
    pingFrom('10.7.0.1', east.ip, 2);
    pingFrom('10.8.0.255', east.ip, 2);
    const t1 = await totals(fwd);
    // the replies have no route back through dpfwd; the requests got there
    assert.equal(snmp(east.ns, 'Icmp', 'InEchos') - echos0, 4, 'east received all 4 requests');
    assert.equal(t1.drops.west.source_own - t0.drops.west.source_own, 0);
    assert.equal(t1.drops.west.source_broadcast - t0.drops.west.source_broadcast, 0);
  });

  for (const dst of ['10.2.0.255', '10.2.0.0']) {
    it(`does not forward a ping to ${dst}: no ARP for it, no ICMP host unreachable, counted`, async () => {
      const west = topo.host('west');
      const east = topo.host('east');
      const cp0 = (await fwd.call('show.controlplane')).counters;
      const t0 = await totals(fwd);
      const echos0 = snmp(east.ns, 'Icmp', 'InEchos');
      const unreach0 = snmp(west.ns, 'Icmp', 'InDestUnreachs');
      const out = sh('ping', ['-n', '-c', '3', '-i', '0.2', '-W', '1', dst], { ns: west.ns, allowFail: true });
      const cp1 = (await fwd.call('show.controlplane')).counters;
      const t1 = await totals(fwd);
      assert.match(out, /3 packets transmitted, 0 received/, out);
      assert.doesNotMatch(out, /Unreachable/, out);
      assert.equal(snmp(west.ns, 'Icmp', 'InDestUnreachs') - unreach0, 0, 'no ICMP unreachable came back');
      assert.equal(cp1.arpRequestsSent - cp0.arpRequestsSent, 0, 'dpfwd sent no ARP request');
      assert.equal(t1.punted.unresolved - t0.punted.unresolved, 0, 'nothing punted to resolve');
      assert.equal(snmp(east.ns, 'Icmp', 'InEchos') - echos0, 0, 'east received nothing');
      assert.equal(t1.drops.west.directed_broadcast - t0.drops.west.directed_broadcast, 3);
      assert.equal((await fwd.call('neighbor.show')).filter((n: { dst: string }) => n.dst === dst).length, 0, 'no neighbour entry');
    });
  }

  it('still forwards between the hosts afterwards', () => {
    assert.equal(ping(topo.host('west').ns, topo.host('east').ip, 3), 3);
  });
});
