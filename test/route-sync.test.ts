/**
 * Route sync from a kernel routing table (linux.sync, src/routing/sync.ts), with real kernel
 * tables and no mocks: a control namespace holds interfaces named like dpfwd's ports (as the
 * mirror interfaces will be), routes are added there with `ip route … proto bgp` or by BIRD, and
 * dpfwd shows them with their protocol and forwards real traffic from Linux hosts over them.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { startForwarder, Running, dpfwdCli, dpfwdJson, waitFor, totals } from './helpers/forwarder';
import { Topology, ping, sh, spawnIn } from './helpers/netns';

const ARP = { reachableMs: 1500, staleMs: 5000, retransmitMs: 200, probes: 2 };

/** The control namespace: veth ends west/east (up) with dpfwd's addresses, and `other`, not a dpfwd interface. */
function controlNamespace(topo: Topology): string {
  const ns = topo.addNamespace('ctl');
  for (const [name, addr] of [['west', '10.1.0.1/24'], ['east', '10.2.0.1/24'], ['other', '10.9.0.1/24']]) {
    sh('ip', ['-n', ns, 'link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}-p`]);
    sh('ip', ['-n', ns, 'addr', 'add', addr, 'dev', name]);
    sh('ip', ['-n', ns, 'link', 'set', `${name}-p`, 'up']);
    sh('ip', ['-n', ns, 'link', 'set', name, 'up']);
  }
  return ns;
}

function routeRow(fwd: Running, dst: string): Record<string, unknown> | undefined {
  return (dpfwdJson(fwd, ['route', 'show']) as Record<string, unknown>[]).find((r) => r.dst === dst);
}

async function syncStatus(fwd: Running) {
  return fwd.call('sync.show');
}

describe('route sync: routes from the kernel table of a namespace', function () {
  this.timeout(120000);
  const topo = new Topology();
  let fwd: Running;
  let ctl: string;

  before(async () => {
    const west = topo.addHost('west', 1);
    const east = topo.addHost('east', 2);
    ctl = controlNamespace(topo);
    // a destination behind east: east answers for 10.50.0.5
    sh('ip', ['-n', east.ns, 'addr', 'add', '10.50.0.5/32', 'dev', 'lo']);
    fwd = await startForwarder({
      eal: { lcores: '0-1' },
      ports: [topo.port(west, 0), topo.port(east, 1)],
      arp: ARP,
      linux: { netns: ctl, sync: { enabled: true } },
    });
    await waitFor('the first dump', async () => (await syncStatus(fwd)).state === 'synced');
  });

  after(async () => {
    if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
    topo.destroy();
  });

  it('leaves out the control namespace\'s own connected routes and counts routes it cannot use', async () => {
    const s = await syncStatus(fwd);
    assert.equal(s.table, 254);
    // 10.1.0.0/24 dev west and 10.2.0.0/24 dev east proto kernel are the mirrors' own: not taken;
    // 10.9.0.0/24 dev other proto kernel is taken but unusable (other is no dpfwd interface)
    assert.equal(s.kernelRoutes, 1, JSON.stringify(s));
    assert.equal(s.unusable, 1);
    assert.equal(s.installed, 0);
    assert.equal(routeRow(fwd, '10.9.0.0/24'), undefined);
    assert.equal((routeRow(fwd, '10.1.0.0/24') as { protocol: string }).protocol, 'connected');
  });

  it('installs a route added with proto bgp, shows it as bgp, and forwards hosts\' traffic over it', async () => {
    assert.equal(ping(topo.host('west').ns, '10.50.0.5', 2, { deadline: 3 }), 0, 'no route yet');
    sh('ip', ['-n', ctl, 'route', 'add', '10.50.0.0/16', 'via', '10.2.0.2', 'proto', 'bgp']);
    const row = await waitFor('the synced route', async () => routeRow(fwd, '10.50.0.0/16'));
    assert.equal(row.protocol, 'bgp');
    assert.equal(row.origin, 'linux');
    assert.equal(row.gateway, '10.2.0.2');
    assert.equal(row.dev, 'east');
    const text = dpfwdCli(fwd, ['route', 'show']).stdout;
    assert.match(text, /^10\.50\.0\.0\/16 via 10\.2\.0\.2 port east proto bgp/m);
    const before = await totals(fwd);
    assert.ok(ping(topo.host('west').ns, '10.50.0.5', 5) >= 4, 'pings through the synced route');
    const after = await totals(fwd);
    assert.ok(after.forwarded.west - before.forwarded.west >= 4, 'forwarded by dpfwd');
    const s = await syncStatus(fwd);
    assert.equal(s.installed, 1);
    assert.equal(s.byProtocol.bgp, 1);
  });

  it('follows a replace (new gateway and protocol) and a delete', async () => {
    sh('ip', ['-n', ctl, 'route', 'replace', '10.50.0.0/16', 'via', '10.1.0.2', 'proto', 'ospf']);
    const row = await waitFor('the replaced route', async () => {
      const r = routeRow(fwd, '10.50.0.0/16');
      return r && r.gateway === '10.1.0.2' ? r : undefined;
    });
    assert.equal(row.protocol, 'ospf');
    assert.equal(row.dev, 'west');
    sh('ip', ['-n', ctl, 'route', 'del', '10.50.0.0/16']);
    await waitFor('the route to go', async () => routeRow(fwd, '10.50.0.0/16') === undefined);
    const s = await syncStatus(fwd);
    assert.equal(s.installed, 0);
    assert.equal(ping(topo.host('west').ns, '10.50.0.5', 2, { deadline: 3 }), 0, 'no route again');
  });

  it('takes only the best metric of a prefix', async () => {
    sh('ip', ['-n', ctl, 'route', 'add', '10.51.0.0/16', 'via', '10.1.0.2', 'proto', 'static', 'metric', '20']);
    sh('ip', ['-n', ctl, 'route', 'add', '10.51.0.0/16', 'via', '10.2.0.2', 'proto', 'bgp', 'metric', '10']);
    await waitFor('the metric-10 route', async () => routeRow(fwd, '10.51.0.0/16')?.gateway === '10.2.0.2');
    sh('ip', ['-n', ctl, 'route', 'del', '10.51.0.0/16', 'metric', '10']);
    const row = await waitFor('the metric-20 route', async () => {
      const r = routeRow(fwd, '10.51.0.0/16');
      return r && r.gateway === '10.1.0.2' ? r : undefined;
    });
    assert.equal(row.protocol, 'static');
    sh('ip', ['-n', ctl, 'route', 'del', '10.51.0.0/16', 'metric', '20']);
    await waitFor('the route to go', async () => routeRow(fwd, '10.51.0.0/16') === undefined);
  });

  it('lets a static dpfwd route win, and installs the synced one when the static goes', async () => {
    const add = dpfwdCli(fwd, ['route', 'add', '10.60.0.0/16', 'blackhole']);
    assert.equal(add.status, 0, add.stderr);
    sh('ip', ['-n', ctl, 'route', 'add', '10.60.0.0/16', 'via', '10.2.0.2', 'proto', 'bgp']);
    await waitFor('the kernel route to be seen', async () => (await syncStatus(fwd)).shadowed === 1);
    const row = routeRow(fwd, '10.60.0.0/16')!;
    assert.equal(row.type, 'blackhole');
    assert.equal(row.protocol, 'static');
    const del = dpfwdCli(fwd, ['route', 'del', '10.60.0.0/16']);
    assert.equal(del.status, 0, del.stderr);
    const synced = routeRow(fwd, '10.60.0.0/16')!;
    assert.equal(synced.protocol, 'bgp');
    assert.equal(synced.gateway, '10.2.0.2');
    // and a static route added over a synced one replaces it
    assert.equal(dpfwdCli(fwd, ['route', 'add', '10.60.0.0/16', 'via', '10.1.0.2']).status, 0);
    assert.equal(routeRow(fwd, '10.60.0.0/16')!.protocol, 'static');
    assert.equal((await syncStatus(fwd)).shadowed, 1);
    // a synced route is the kernel's: `route del` removes dpfwd's static route only
    assert.equal(dpfwdCli(fwd, ['route', 'del', '10.60.0.0/16']).status, 0);
    assert.equal(routeRow(fwd, '10.60.0.0/16')!.protocol, 'bgp');
    const again = dpfwdCli(fwd, ['route', 'del', '10.60.0.0/16']);
    assert.notEqual(again.status, 0);
    assert.match(again.stderr, /no static route 10\.60\.0\.0\/16/);
    sh('ip', ['-n', ctl, 'route', 'del', '10.60.0.0/16']);
    await waitFor('the route to go', async () => routeRow(fwd, '10.60.0.0/16') === undefined);
  });

  it('makes blackhole, unreachable and prohibit routes dpfwd blackholes', async () => {
    sh('ip', ['-n', ctl, 'route', 'add', 'blackhole', '10.61.0.0/16', 'proto', 'bgp']);
    sh('ip', ['-n', ctl, 'route', 'add', 'unreachable', '10.62.0.0/16']);
    sh('ip', ['-n', ctl, 'route', 'add', 'prohibit', '10.63.0.0/16']);
    for (const p of ['10.61.0.0/16', '10.62.0.0/16', '10.63.0.0/16']) {
      const r = await waitFor(p, async () => routeRow(fwd, p));
      assert.equal(r.type, 'blackhole', p);
      assert.equal(r.origin, 'linux');
    }
    assert.equal(routeRow(fwd, '10.61.0.0/16')!.protocol, 'bgp');
    assert.equal(routeRow(fwd, '10.62.0.0/16')!.protocol, 'boot');
    for (const p of ['10.61.0.0/16', '10.62.0.0/16', '10.63.0.0/16']) sh('ip', ['-n', ctl, 'route', 'del', p]);
    await waitFor('them to go', async () => (await syncStatus(fwd)).installed === 0);
  });

  it('sync show prints the status, -j as JSON, and /healthz-equivalent health stays ok', async () => {
    const r = dpfwdCli(fwd, ['sync', 'show']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /table 254 namespace dpt\w+ctl protocols all state synced/);
    assert.match(r.stdout, /kernel routes 1 {2}installed 0 {2}shadowed 0 {2}unusable 1/);
    const j = dpfwdJson(fwd, ['sync', 'show']);
    assert.equal(j.dumps, 1);
    assert.equal(j.overflows, 0);
    assert.equal(j.errors, 0);
    assert.ok(Date.parse(j.lastDump) > 0);
    assert.equal((await fwd.call('health')).ok, true);
  });
});

describe('route sync: netlink overflow', function () {
  this.timeout(180000);
  const topo = new Topology();
  let fwd: Running;
  let ctl: string;
  const TABLE = 100;

  before(async () => {
    const west = topo.addHost('west', 1);
    const east = topo.addHost('east', 2);
    ctl = controlNamespace(topo);
    fwd = await startForwarder({
      eal: { lcores: '0-1' },
      ports: [topo.port(west, 0), topo.port(east, 1)],
      arp: ARP,
      // the smallest buffer: a burst of changes overflows it for sure
      linux: { netns: ctl, sync: { enabled: true, table: TABLE, socketBuffer: 4096 } },
    });
    await waitFor('the first dump', async () => (await fwd.call('sync.show')).state === 'synced');
  });

  after(async () => {
    if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
    topo.destroy();
  });

  it('thousands of changes in one burst end with dpfwd\'s synced routes equal to the kernel table, after counted overflows', async () => {
    const lines: string[] = [];
    const pfx = (i: number) => `10.${100 + (i >> 8)}.${i & 255}.0/24`;
    for (let i = 0; i < 6000; i++) lines.push(`route add ${pfx(i)} via ${i % 2 ? '10.1.0.2' : '10.2.0.2'} table ${TABLE} proto bgp`);
    for (let i = 0; i < 6000; i += 3) lines.push(`route del ${pfx(i)} table ${TABLE}`);
    for (let i = 1; i < 6000; i += 3) lines.push(`route replace ${pfx(i)} via 10.2.0.2 table ${TABLE} proto ospf`);
    const file = path.join(fwd.dir, 'burst.batch');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    // dpfwd stopped while the burst runs (a busy control plane): the kernel cannot deliver most
    // of it into a 4 KiB buffer, drops the rest and tells the socket ENOBUFS
    fwd.proc.kill('SIGSTOP');
    try {
      sh('ip', ['-n', ctl, '-batch', file], { timeout: 60000 });
    } finally {
      fwd.proc.kill('SIGCONT');
    }
    const kernel = (JSON.parse(sh('ip', ['-n', ctl, '-j', 'route', 'show', 'table', String(TABLE)])) as { dst: string; gateway?: string; protocol: string }[])
      .map((r) => `${r.dst} ${r.gateway} ${r.protocol}`).sort();
    assert.equal(kernel.length, 4000);
    const synced = () => (dpfwdJson(fwd, ['route', 'show']) as Record<string, unknown>[])
      .filter((r) => r.origin === 'linux').map((r) => `${r.dst} ${r.gateway} ${r.protocol}`).sort();
    let last: unknown;
    await waitFor('dpfwd to hold the kernel table', async () => {
      const s = await fwd.call('sync.show');
      last = s;
      return s.state === 'synced' && s.installed === 4000;
    }, 60000).catch((e) => {
      throw new Error(`${(e as Error).message}: ${JSON.stringify(last)}\n${fwd.stderr()}`);
    });
    assert.deepEqual(synced(), kernel);
    const s = await fwd.call('sync.show');
    assert.ok(s.overflows > 0, `overflows: ${JSON.stringify(s)}`);
    assert.ok(s.dumps >= 2, 'dumped again after the overflow');
    assert.match(fwd.stderr(), /netlink overflow \(ENOBUFS/);
    assert.equal(s.kernelRoutes, 4000);
  });
});

describe('route sync: BIRD exports an ECMP route through its kernel protocol', function () {
  this.timeout(120000);
  const topo = new Topology();
  let fwd: Running;
  let ctl: string;
  let bird: ReturnType<typeof spawnIn> | undefined;
  let dir: string;

  before(async function () {
    if (!fs.existsSync('/usr/sbin/bird')) this.skip(); // setup.sh installs bird2
    const west = topo.addHost('west', 1);
    const east = topo.addHost('east', 2);
    ctl = controlNamespace(topo);
    fwd = await startForwarder({
      eal: { lcores: '0-1' },
      ports: [topo.port(west, 0), topo.port(east, 1)],
      arp: ARP,
      linux: { netns: ctl, sync: { enabled: true, protocols: ['bird'] } },
    });
    dir = fwd.dir;
    fs.writeFileSync(path.join(dir, 'bird.conf'), [
      'router id 10.2.0.1;',
      'protocol device {}',
      'protocol kernel { ipv4 { export all; }; merge paths on; }',
      'protocol static { ipv4; route 10.70.0.0/16 via 10.1.0.2 via 10.2.0.2; }',
      '',
    ].join('\n'));
    bird = spawnIn(ctl, 'bird', ['-f', '-c', path.join(dir, 'bird.conf'), '-s', path.join(dir, 'bird.ctl'), '-P', path.join(dir, 'bird.pid')]);
  });

  after(async () => {
    if (bird && bird.exitCode === null) {
      bird.kill('SIGTERM');
      await new Promise((r) => bird!.once('exit', r));
    }
    if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
    topo.destroy();
  });

  it('the kernel gets a 2-path route from BIRD, and dpfwd installs it as proto bird', async () => {
    const kernel = await waitFor('BIRD\'s route in the kernel', async () => {
      const rows = JSON.parse(sh('ip', ['-n', ctl, '-j', 'route', 'show', '10.70.0.0/16'])) as { protocol: string; nexthops?: { gateway: string; dev: string }[] }[];
      return rows.length ? rows[0] : undefined;
    }, 30000);
    assert.equal(kernel.protocol, 'bird');
    assert.deepEqual(kernel.nexthops!.map((n) => n.gateway).sort(), ['10.1.0.2', '10.2.0.2']);
    const row = await waitFor('the synced route', async () => routeRow(fwd, '10.70.0.0/16'));
    assert.equal(row.protocol, 'bird');
    // multipath in the RIB (an ECMP group): both paths, as `ip -j route` lists them
    assert.ok(Array.isArray(row.nexthops), JSON.stringify(row));
    assert.deepEqual((row.nexthops as { gateway?: string }[]).map((p) => p.gateway).sort(), ['10.1.0.2', '10.2.0.2']);
    const s = await fwd.call('sync.show');
    assert.equal(s.protocols, 'bird');
    assert.equal(s.byProtocol.bird, 1);
  });
});
