/**
 * docs/linux.md's FRR recipe, verbatim: its /etc/frr/frr.conf (read from the page) runs in dpfwd's
 * mirror namespace (zebra and bgpd, as Debian's frrinit.sh starts them with that integrated file)
 * against an eBGP peer behind dpfwd's port `west`, and the peer's prefixes must reach dpfwd's FIB.
 * FRR 8.4 accepts no eBGP route without a policy (RFC 8212): a recipe without one is Established
 * with 0 routes, which this test fails on. The page's `sed` line for Debian's daemons file is run
 * on a copy of the installed one.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { startForwarder, Running, tmpDir, waitFor, dpfwdJson, ROOT } from './helpers/forwarder';
import { Topology, Host, sh } from './helpers/netns';
import { Frr, assertFrrInstalled } from './helpers/frr';

const DOC = fs.readFileSync(path.join(ROOT, 'docs', 'linux.md'), 'utf8');

/** The page's code block whose first line is `first`. */
function block(first: string): string {
  const m = new RegExp('```[a-z]*\\n(' + first.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&') + '[\\s\\S]*?)```').exec(DOC);
  assert.ok(m, `docs/linux.md has a block starting ${first}`);
  return m[1];
}

describe('docs/linux.md: the FRR recipe as written exchanges routes', function () {
  this.timeout(180000);
  const topo = new Topology();
  const mirrorNs = `dpt${topo.id}fd`;
  let peer: Host;
  let fwd: Running;
  let dir: string;
  let mine: Frr;
  let theirs: Frr;

  before(function () {
    assertFrrInstalled();
    dir = tmpDir('frrdoc');
  });

  after(async () => {
    await mine?.stopAll();
    await theirs?.stopAll();
    if (fwd) await fwd.stop();
    sh('ip', ['netns', 'del', mirrorNs], { allowFail: true });
    topo.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the page's sed line turns on bgpd and ospfd in Debian's daemons file", () => {
    const sed = /^ {2}(sed -i .*) \/etc\/frr\/daemons$/m.exec(DOC);
    assert.ok(sed, 'the sed line');
    const copy = path.join(dir, 'daemons');
    fs.copyFileSync(fs.existsSync('/usr/share/frr/daemons') ? '/usr/share/frr/daemons' : '/etc/frr/daemons', copy); // the package's pristine copy, if shipped
    assert.match(fs.readFileSync(copy, 'utf8'), /^bgpd=no$/m, "Debian's file has bgpd off");
    const r = spawnSync('/bin/sh', ['-c', `${sed[1]} ${copy}`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const after = fs.readFileSync(copy, 'utf8');
    assert.match(after, /^bgpd=yes$/m);
    assert.match(after, /^ospfd=yes$/m);
  });

  it("its frr.conf brings the session up and the peer's prefixes into dpfwd's FIB", async () => {
    const conf = block('! /etc/frr/frr.conf');
    // the page's peer: 10.1.0.2, AS 65002, on port west (10.1.0.1/24)
    peer = topo.addHost('peer', 1);
    assert.match(conf, new RegExp(`neighbor ${peer.ip} remote-as 65002`));
    sh('ip', ['-n', peer.ns, 'link', 'add', 'stub', 'type', 'veth', 'peer', 'name', 'stubpeer']);
    sh('ip', ['-n', peer.ns, 'link', 'set', 'stubpeer', 'up']);
    sh('ip', ['-n', peer.ns, 'addr', 'add', '10.99.1.1/24', 'dev', 'stub']);
    sh('ip', ['-n', peer.ns, 'link', 'set', 'stub', 'up']);
    sh('ip', ['netns', 'del', mirrorNs], { allowFail: true });
    fs.mkdirSync(path.join(dir, 'dpfwd'));
    fwd = await startForwarder(
      { eal: { lcores: '0-1' }, ports: [{ ...topo.port(peer, 0), name: 'west' }], linux: { netns: mirrorNs, mirror: true } },
      { dir: path.join(dir, 'dpfwd') },
    );
    mine = new Frr(mirrorNs, path.join(dir, 'mine'));
    theirs = new Frr(peer.ns, path.join(dir, 'theirs'));
    for (const f of [mine, theirs]) f.start('zebra', 'hostname z\nlog stdout\n!\n');
    await waitFor('zebra sockets', async () => fs.existsSync(mine.zserv) && fs.existsSync(theirs.zserv), 15000);
    // the peer: an ordinary eBGP speaker announcing 10.99.1.0/24 (it connects every second)
    theirs.start(
      'bgpd',
      `hostname peer\nlog stdout\n!\nrouter bgp 65002\n bgp router-id ${peer.ip}\n no bgp ebgp-requires-policy\n no bgp network import-check\n` +
        ` timers bgp 1 3\n neighbor 10.1.0.1 remote-as 65001\n neighbor 10.1.0.1 timers connect 1\n address-family ipv4 unicast\n  network 10.99.1.0/24\n exit-address-family\n!\n`,
    );
    // dpfwd's side: the page's file, whole (each daemon reads the integrated file and takes its part)
    mine.start('bgpd', conf);
    const summary = () => {
      try {
        return mine.json('show bgp ipv4 unicast summary json').peers?.[peer.ip] as { state?: string; pfxRcd?: number } | undefined;
      } catch {
        return undefined;
      }
    };
    await waitFor('the session Established', async () => summary()?.state === 'Established', 90000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${mine.log('bgpd').slice(-3000)}`);
    });
    await waitFor('routes received from the peer (not "(Policy)")', async () => (summary()?.pfxRcd ?? 0) > 0, 30000).catch((e) => {
      throw new Error(`${(e as Error).message}: ${JSON.stringify(summary())}\n${mine.vtysh(['show bgp summary'])}`);
    });
    const route = await waitFor(
      '10.99.1.0/24 in dpfwd',
      async () =>
        (dpfwdJson(fwd, ['route', 'show', 'proto', 'bgp']) as { dst: string; gateway?: string; dev?: string }[]).find((r) => r.dst === '10.99.1.0/24'),
      30000,
    );
    assert.deepEqual([route.gateway, route.dev], [peer.ip, 'west']);
    // and the peer learns what dpfwd's side announces: the outbound policy lets it through
    assert.ok(!/\(Policy\)/.test(mine.vtysh(['show bgp summary'])), 'no (Policy) state');
  });
});
