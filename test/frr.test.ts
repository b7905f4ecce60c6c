/**
 * FRR next to dpfwd (docs/linux.md): zebra, bgpd and ospfd run in dpfwd's mirror namespace, a
 * peer namespace on the other side of dpfwd's port `west` runs its own; both sessions run over
 * dpfwd's port. eBGP (TTL 1, TCP to the router's address) reaches Established; OSPF on a
 * point-to-point link (multicast 224.0.0.5, TTL 1) reaches Full; the routes the peer advertises
 * arrive in the mirror namespace's kernel table and, through linux.sync, in dpfwd's FIB, and a host
 * behind dpfwd reaches them; a withdrawal removes them; a peer restart and a dpfwd restart
 * converge again.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { startForwarder, Running, tmpDir, waitFor, dpfwdJson } from './helpers/forwarder';
import { Topology, Host, sh, ping } from './helpers/netns';
import { Frr, assertFrrInstalled } from './helpers/frr';

const BGP_TIMERS = ' timers bgp 1 3\n';

function routerConf(id: string, asn: number, peer: string, peerAs: number, networks: string[]): string {
  return `hostname r${asn}
log stdout
!
router bgp ${asn}
 bgp router-id ${id}
 no bgp ebgp-requires-policy
 no bgp network import-check
${BGP_TIMERS} neighbor ${peer} remote-as ${peerAs}
 neighbor ${peer} timers connect 1
 address-family ipv4 unicast
${networks.map((n) => `  network ${n}\n`).join('')} exit-address-family
!
`;
}

function ospfConf(id: string, iface: string, networks: string[]): string {
  return `hostname o${id}
log stdout
!
interface ${iface}
 ip ospf network point-to-point
 ip ospf hello-interval 1
 ip ospf dead-interval 4
!
router ospf
 ospf router-id ${id}
${networks.map((n) => ` network ${n} area 0\n`).join('')}!
`;
}

const zebraConf = 'hostname z\nlog stdout\n!\n';

/** dpfwd's route for `prefix` (route show -j), if any. */
function dpfwdRoute(fwd: Running, prefix: string): { dst: string; gateway?: string; dev?: string; protocol?: string } | undefined {
  return (dpfwdJson(fwd, ['route', 'show']) as { dst: string }[]).find((r) => r.dst === prefix);
}

/** The kernel routes of `ns` for `prefix` with their protocol, e.g. "10.99.1.0/24 via 10.1.0.2 dev west proto bgp …". */
function kernelRoute(ns: string, prefix: string): string {
  return sh('ip', ['-n', ns, 'route', 'show', prefix]).trim();
}

describe("FRR over dpfwd's ports: BGP and OSPF through the Linux mirrors", function () {
  this.timeout(180000);
  const topo = new Topology();
  const mirrorNs = `dpt${topo.id}fr`;
  let peer: Host;
  let east: Host;
  let fwd: Running;
  let dir: string;
  let mine: Frr;
  let theirs: Frr;
  let config: Record<string, unknown>;

  const bgpState = (f: Frr, neighbor: string) => {
    try {
      return f.json(`show bgp neighbors ${neighbor} json`)[neighbor]?.bgpState as string | undefined;
    } catch {
      return undefined;
    }
  };
  const established = (f: Frr, neighbor: string, timeoutMs = 60000) =>
    waitFor(`BGP session to ${neighbor} Established (dpfwd side)`, async () => bgpState(f, neighbor) === 'Established', timeoutMs).catch((e) => {
      throw new Error(`${(e as Error).message}\nbgpd log:\n${f.log('bgpd').slice(-3000)}`);
    });

  before(async function () {
    assertFrrInstalled();
    peer = topo.addHost('peer', 1);
    east = topo.addHost('east', 2);
    // prefixes the peer advertises, reachable behind it
    // (a veth pair inside the namespace: this kernel may lack the dummy module)
    sh('ip', ['-n', peer.ns, 'link', 'add', 'stub', 'type', 'veth', 'peer', 'name', 'stubpeer']);
    sh('ip', ['-n', peer.ns, 'link', 'set', 'stubpeer', 'up']);
    sh('ip', ['-n', peer.ns, 'addr', 'add', '10.99.1.1/24', 'dev', 'stub']);
    sh('ip', ['-n', peer.ns, 'addr', 'add', '10.99.2.1/24', 'dev', 'stub']);
    sh('ip', ['-n', peer.ns, 'addr', 'add', '10.98.0.1/24', 'dev', 'stub']);
    sh('ip', ['-n', peer.ns, 'link', 'set', 'stub', 'up']);
    sh('ip', ['netns', 'del', mirrorNs], { allowFail: true });
    dir = tmpDir('frr');
    config = {
      eal: { lcores: '0-1' },
      ports: [{ ...topo.port(peer, 0), name: 'west' }, topo.port(east, 1)],
      linux: { netns: mirrorNs, mirror: true },
    };
    fs.mkdirSync(path.join(dir, 'dpfwd'));
    fwd = await startForwarder(config, { dir: path.join(dir, 'dpfwd') });
    mine = new Frr(mirrorNs, path.join(dir, 'mine'));
    theirs = new Frr(peer.ns, path.join(dir, 'theirs'));
    for (const f of [mine, theirs]) f.start('zebra', zebraConf);
    await waitFor('zebra sockets', async () => fs.existsSync(mine.zserv) && fs.existsSync(theirs.zserv), 15000);
    mine.start('bgpd', routerConf('10.1.0.1', 65001, peer.ip, 65002, []));
    theirs.start('bgpd', routerConf(peer.ip, 65002, '10.1.0.1', 65001, ['10.99.1.0/24', '10.99.2.0/24']));
    mine.start('ospfd', ospfConf('10.1.0.1', 'west', ['10.1.0.0/24']));
    theirs.start('ospfd', ospfConf(peer.ip, peer.hostIf, ['10.1.0.0/24', '10.98.0.0/24']));
  });

  after(async () => {
    await mine?.stopAll();
    await theirs?.stopAll();
    if (fwd) await fwd.stop();
    sh('ip', ['netns', 'del', mirrorNs], { allowFail: true });
    topo.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the eBGP session (TTL 1, TCP to the router's address) reaches Established over dpfwd's port", async () => {
    await established(mine, peer.ip);
    assert.equal(bgpState(theirs, '10.1.0.1'), 'Established', 'the peer agrees');
  });

  it("the peer's prefixes arrive in the mirror namespace's kernel table as proto bgp via the peer", async () => {
    for (const p of ['10.99.1.0/24', '10.99.2.0/24']) {
      const r = await waitFor(`${p} in ${mirrorNs}'s table`, async () => kernelRoute(mirrorNs, p) || undefined, 30000);
      assert.match(r, new RegExp(`via ${peer.ip.replace(/\./g, '\\.')} dev west proto bgp`));
    }
  });

  it("the learned routes reach dpfwd's FIB (proto bgp via the peer) and a host behind dpfwd reaches addresses in them", async () => {
    for (const p of ['10.99.1.0/24', '10.99.2.0/24']) {
      const r = await waitFor(`${p} in dpfwd's FIB`, async () => dpfwdRoute(fwd, p), 30000);
      assert.deepEqual([r.gateway, r.dev, r.protocol], [peer.ip, 'west', 'bgp']);
    }
    assert.equal(ping(east.ns, '10.99.1.1', 3), 3, 'east reaches 10.99.1.1 behind the BGP peer through dpfwd');
    assert.equal(ping(east.ns, '10.99.2.1', 3), 3);
  });

  it('OSPF reaches Full with the peer (hellos to 224.0.0.5 reach the mirror), and its route is learned', async () => {
    await waitFor(
      'OSPF neighbour Full',
      async () => {
        const n = mine.json('show ip ospf neighbor json').neighbors?.[peer.ip];
        const st = Array.isArray(n) ? (n[0]?.state ?? n[0]?.nbrState) : undefined;
        return typeof st === 'string' && st.startsWith('Full');
      },
      60000,
    ).catch((e) => {
      throw new Error(`${(e as Error).message}\n${mine.vtysh(['show ip ospf neighbor'])}\nospfd log:\n${mine.log('ospfd').slice(-3000)}`);
    });
    const r = await waitFor('10.98.0.0/24 from OSPF', async () => kernelRoute(mirrorNs, '10.98.0.0/24') || undefined, 30000);
    assert.match(r, /via 10\.1\.0\.2 dev west proto ospf/);
    const d = await waitFor("10.98.0.0/24 in dpfwd's FIB", async () => dpfwdRoute(fwd, '10.98.0.0/24'), 30000);
    assert.equal(d.protocol, 'ospf');
    const c = await fwd.call('show.counters');
    const k = c.names.punts.indexOf('link_multicast');
    assert.ok(c.snapshot.workers.reduce((a: number, w: { punts: { punted: number }[] }) => a + w.punts[k].punted, 0) > 0, 'OSPF multicast was punted up');
  });

  it("a withdrawal removes the prefix from the mirror namespace's table and from dpfwd's FIB", async () => {
    theirs.vtysh(['configure terminal', 'router bgp 65002', 'address-family ipv4 unicast', 'no network 10.99.2.0/24']);
    await waitFor('10.99.2.0/24 withdrawn', async () => kernelRoute(mirrorNs, '10.99.2.0/24') === '', 30000);
    assert.notEqual(kernelRoute(mirrorNs, '10.99.1.0/24'), '', 'the other prefix stays');
    await waitFor('10.99.2.0/24 gone from dpfwd', async () => dpfwdRoute(fwd, '10.99.2.0/24') === undefined, 30000);
    assert.ok(dpfwdRoute(fwd, '10.99.1.0/24'), 'dpfwd keeps the other');
    assert.equal(ping(east.ns, '10.99.2.1', 2, { deadline: 3 }), 0, 'no route for the withdrawn prefix');
  });

  it("converges again after the peer's bgpd restarts", async () => {
    await theirs.stopAsync('bgpd');
    await waitFor('the session to go down', async () => bgpState(mine, peer.ip) !== 'Established', 30000);
    theirs.start('bgpd', routerConf(peer.ip, 65002, '10.1.0.1', 65001, ['10.99.1.0/24', '10.99.2.0/24']));
    await established(mine, peer.ip);
    await waitFor('10.99.2.0/24 back', async () => kernelRoute(mirrorNs, '10.99.2.0/24') !== '', 30000);
    await waitFor('10.99.2.0/24 back in dpfwd', async () => dpfwdRoute(fwd, '10.99.2.0/24'), 30000);
    assert.equal(ping(east.ns, '10.99.2.1', 3), 3);
  });

  it('converges again after dpfwd restarts (the mirrors go and come back)', async () => {
    const sessions = () => Number(mine.json(`show bgp neighbors ${peer.ip} json`)[peer.ip]?.connectionsEstablished ?? 0);
    const before = sessions();
    const r = await fwd.stop();
    assert.equal(r.code, 0, fwd.stderr());
    await waitFor('the mirror to be gone', async () => !sh('ip', ['-n', mirrorNs, '-br', 'link']).includes('west'), 10000);
    assert.equal(kernelRoute(mirrorNs, '10.99.1.0/24'), '', 'the learned route went with the mirror');
    fs.mkdirSync(path.join(dir, 'dpfwd2'));
    fwd = await startForwarder(config, { dir: path.join(dir, 'dpfwd2') });
    await waitFor('a new BGP session', async () => sessions() > before && bgpState(mine, peer.ip) === 'Established', 90000);
    await waitFor('10.99.1.0/24 back', async () => kernelRoute(mirrorNs, '10.99.1.0/24') !== '', 30000);
    await waitFor("10.99.1.0/24 in the new dpfwd's FIB", async () => dpfwdRoute(fwd, '10.99.1.0/24'), 30000);
    assert.equal(ping(east.ns, '10.99.1.1', 3), 3, 'forwarding again after the restart');
    await waitFor(
      'OSPF Full again',
      async () => {
        const n = mine.json('show ip ospf neighbor json').neighbors?.[peer.ip];
        const st = Array.isArray(n) ? (n[0]?.state ?? n[0]?.nbrState) : undefined;
        return typeof st === 'string' && st.startsWith('Full');
      },
      60000,
    );
  });
});
