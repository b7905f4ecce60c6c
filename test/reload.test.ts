/**
 * Reload and saved state on real forwarders. With Linux hosts in namespaces and pings running
 * (and an iperf3 TCP stream) through dpfwd: `dpfwd reload` adds a route, an address, a static neighbour and a VLAN
 * sub-interface, the new ones answer and forward, and a route the file kept loses no packet
 * across the reload; a restart-only key and a broken file are refused whole with the running
 * state unchanged; SIGHUP does what `dpfwd reload` does. On net_null ports: `config save` then
 * a restart gives the same forwarder; the JSON log parses, carrying who changed what.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parse, stringify } from 'yaml';
import { dpfwdCli, dpfwdJson, Running, startForwarder, tmpDir, waitFor } from './helpers/forwarder';
import { ping, pingAsync, sh, spawnIn, Topology } from './helpers/netns';

const VLAN_HOST = path.join(__dirname, '..', '..', 'test', 'helpers', 'vlan-host.py');

/** Rewrites the forwarder's config file as startForwarder wrote it (same socket, no metrics). */
function writeConfig(fwd: Running, config: Record<string, unknown>): void {
  fs.writeFileSync(path.join(fwd.dir, 'dpfwd.yaml'), stringify({ metrics: { listen: false }, ...config, control: { socket: fwd.socket } }));
}

/** What the config describes, from a running forwarder: comparable across forwarders. */
async function stateOf(fwd: Running) {
  const routes = (await fwd.call('route.show', { limit: 1e6 })).map((r: Record<string, unknown>) => ({ ...r, lladdr: undefined }));
  const neigh = (await fwd.call('neighbor.show')).filter((n: { state: string[] }) => n.state.includes('PERMANENT'));
  const ifaces = (await fwd.call('interface.show')).map((i: Record<string, unknown>) => ({
    ifname: i.ifname,
    link: i.link,
    vlan: i.vlan,
    mtu: i.mtu,
    addr_info: i.addr_info,
  }));
  return { routes, neigh, ifaces };
}

describe('reload with traffic from Linux hosts', function () {
  this.timeout(240000);
  const topo = new Topology();
  let fwd: Running;
  let base: Record<string, unknown>;

  before(async () => {
    const west = topo.addHost('west', 1);
    const east = topo.addHost('east', 2);
    // east answers for 10.20.0.5 and 10.30.0.5 (behind it, as a router would); this kernel has no
    // 802.1Q devices, so west's VLAN 100 host is test/helpers/vlan-host.py on a raw socket
    sh('ip', ['-n', east.ns, 'addr', 'add', '10.20.0.5/32', 'dev', 'lo']);
    sh('ip', ['-n', east.ns, 'addr', 'add', '10.30.0.5/32', 'dev', 'lo']);
    sh('ip', ['-n', west.ns, 'addr', 'add', '10.1.1.2/24', 'dev', west.hostIf]);
    base = {
      eal: { lcores: '0-1' },
      ports: [topo.port(west, 0), topo.port(east, 1)],
      routes: [{ prefix: '10.20.0.0/16', via: east.ip }],
    };
    fwd = await startForwarder(base);
    assert.equal(ping(west.ns, '10.20.0.5', 3), 3, 'the route from the start forwards');
  });

  after(async () => {
    if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
    topo.destroy();
  });

  it('applies a route, an address, a static neighbour and a VLAN sub-interface; the unchanged route loses nothing', async () => {
    const west = topo.host('west');
    const east = topo.host('east');
    const eastMac = JSON.parse(sh('ip', ['-j', '-n', east.ns, 'link', 'show', east.hostIf]))[0].address;
    assert.equal(ping(west.ns, '10.30.0.5', 1, { deadline: 2 }), 0, 'no route to 10.30/16 yet');
    writeConfig(fwd, {
      ...base,
      ports: [{ ...topo.port(west, 0), address: ['10.1.0.1/24', '10.1.1.1/24'] }, topo.port(east, 1)],
      interfaces: [{ port: 'west', vlan: 100, address: '10.100.0.1/24' }],
      routes: [...(base.routes as object[]), { prefix: '10.30.0.0/16', via: east.ip }],
      neighbors: [{ address: east.ip, mac: eastMac, port: 'east' }],
    });
    // 80 pings over ~4 s on the route the file keeps, with the reload in the middle, and an
    // iperf3 TCP stream (capped at 50 Mbit/s so the pings are not queued behind it) on east's
    // connected route through the same window: it must move data in every 0.5 s interval
    const srv = spawnIn(east.ns, 'iperf3', ['-s', '-1', '-B', east.ip]);
    await new Promise((r) => setTimeout(r, 300));
    const iperf = new Promise<string>((resolve) => {
      const p = spawnIn(west.ns, 'timeout', ['30', 'iperf3', '-c', east.ip, '-t', '4', '-i', '0.5', '-b', '50M', '-J']);
      let out = '';
      p.stdout!.on('data', (d) => {
        out += d;
      });
      p.on('exit', () => resolve(out));
    });
    const COUNT = 80;
    const pings = pingAsync(west.ns, '10.20.0.5', COUNT, 0.05);
    await new Promise((r) => setTimeout(r, 1500));
    const report = dpfwdJson(fwd, ['reload']);
    const received = await pings;
    const tcp = JSON.parse(await iperf) as { error?: string; intervals: { sum: { bytes: number } }[]; end: { sum_received: { bytes: number } } };
    srv.kill();
    assert.equal(tcp.error, undefined, `iperf3: ${tcp.error}`);
    const stalled = tcp.intervals.filter((i) => i.sum.bytes === 0).length;
    assert.equal(stalled, 0, `iperf3 TCP moved nothing in ${stalled} of ${tcp.intervals.length} half-second intervals across the reload`);
    assert.ok(tcp.end.sum_received.bytes > 1e6, `iperf3 TCP received only ${tcp.end.sum_received.bytes} bytes in 4 s`);
    assert.deepEqual(report.changed, {
      routes: { added: 1, removed: 0, changed: 0 },
      addresses: { added: 2, removed: 0, changed: 0 },
      neighbors: { added: 1, removed: 0, changed: 0 },
      interfaces: { added: 1, removed: 0, changed: 0 },
    });
    assert.deepEqual(report.cliChangesDropped, []);
    assert.equal(received, COUNT, `the unchanged route lost ${COUNT - received} of ${COUNT} pings across the reload`);
    assert.equal(ping(west.ns, '10.30.0.5', 3), 3, 'the new route forwards');
    // five datagrams tagged 100 from 10.100.0.2 to 10.20.0.5: they arrive on west.100 and leave by east
    const routerMac = (await fwd.call('show.ports')).find((p: { ifname: string }) => p.ifname === 'west').address;
    const host = await new Promise<string>((resolve) => {
      const p = spawnIn(west.ns, 'python3', [VLAN_HOST, west.hostIf, routerMac, '100', '10.100.0.2', '10.20.0.5', '5', '1']);
      let out = '';
      p.stdout!.on('data', (d) => {
        out += d;
      });
      p.on('exit', () => resolve(out));
    });
    assert.equal(JSON.parse(host.trim()).sent, 5);
    await waitFor(
      '5 forwarded from west.100',
      async () => (await fwd.call('interface.show')).find((i: { ifname: string }) => i.ifname === 'west.100')?.forwarded >= 5,
    );
    assert.equal(ping(west.ns, '10.1.1.1', 3), 3, 'the new port address answers');
    const n = (await fwd.call('neighbor.show')).find((x: { dst: string }) => x.dst === east.ip);
    assert.deepEqual([n.lladdr, n.state], [eastMac, ['PERMANENT']]);
    assert.match(fwd.stderr(), /reload: reloaded .*dpfwd\.yaml: routes \+1 -0 ~0, addresses \+2 -0 ~0, neighbors \+1 -0 ~0, interfaces \+1 -0 ~0/);
  });

  it('the file is the truth: a CLI-made route goes on reload and the report names it', async () => {
    const r = dpfwdCli(fwd, ['route', 'add', '10.40.0.0/16', 'via', topo.host('east').ip]);
    assert.equal(r.status, 0, r.stderr);
    const diff = dpfwdCli(fwd, ['config', 'diff']);
    assert.equal(diff.status, 1, `differences: exit 1, as diff(1) ${diff.stderr}`);
    assert.equal(diff.stderr, '', 'an exit status, not an error');
    assert.equal(diff.stdout, `- route 10.40.0.0/16 via ${topo.host('east').ip} port east\n`);
    const text = dpfwdCli(fwd, ['reload']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(
      text.stdout,
      /removed 1 run-time change\(s\) the file does not have \(the file is the truth on reload; dpfwd config save keeps them\):\n  route 10\.40\.0\.0\/16 via/,
    );
    assert.equal(
      (await fwd.call('route.show')).find((x: { dst: string }) => x.dst === '10.40.0.0/16'),
      undefined,
    );
  });

  it('refuses a restart-only key by name and a broken file whole; nothing changes', async () => {
    const before = await stateOf(fwd);
    const good = parse(fs.readFileSync(path.join(fwd.dir, 'dpfwd.yaml'), 'utf8'));
    // a live change (a new route) next to a restart-only one (a port's MTU): refused together
    writeConfig(fwd, {
      ...good,
      ports: [{ ...good.ports[0], mtu: 1400 }, good.ports[1]],
      routes: [...good.routes, { prefix: '10.50.0.0/16', via: topo.host('east').ip }],
    });
    let r = dpfwdCli(fwd, ['reload']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /reload refused, nothing changed: 1 key\(s\) need a restart:\nports\[0\]\.mtu: 1500 → 1400 needs a restart \(restart to apply\)/);
    assert.deepEqual(await stateOf(fwd), before);
    // mirrors and capture sizes are set up at start: `config diff` names them, reload refuses them
    writeConfig(fwd, { ...good, linux: { netns: `dpt${topo.id}nx`, mirror: true }, capture: { ringSize: 4096 } });
    const d = dpfwdCli(fwd, ['config', 'diff']);
    assert.match(d.stdout, /^! capture\.ringSize: 2048 → 4096 needs a restart/m);
    assert.match(d.stdout, /^! linux\.netns: unset → "dpt\w+nx" needs a restart/m);
    assert.match(d.stdout, /^! linux\.mirror: false → true needs a restart/m);
    r = dpfwdCli(fwd, ['reload']);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /reload refused, nothing changed: 4 key\(s\) need a restart:\ncapture\.ringSize: .*\nlinux\.netns: .*\nlinux\.mirror: .*\nlinux\.sync: /,
    );
    assert.equal(sh('ip', ['netns', 'list']).includes(`dpt${topo.id}nx`), false, 'no namespace made');
    // valid YAML with one bad entry among good ones
    writeConfig(fwd, { ...good, routes: [...good.routes, { prefix: '10.50.0.0/16', via: topo.host('east').ip }, { prefix: '10.60.0.0/33', via: '10.2.0.2' }] });
    r = dpfwdCli(fwd, ['reload']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /reload refused, nothing changed: .*1 configuration error:\n.*routes\[\d\]\.prefix: /);
    // not YAML at all
    fs.writeFileSync(path.join(fwd.dir, 'dpfwd.yaml'), 'routes: [[\n');
    r = dpfwdCli(fwd, ['reload']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /YAML syntax error/);
    assert.deepEqual(await stateOf(fwd), before);
    assert.equal(ping(topo.host('west').ns, '10.30.0.5', 2), 2, 'still forwarding');
    writeConfig(fwd, good);
  });

  it('SIGHUP does what dpfwd reload does, and a refused one leaves it running', async () => {
    const good = parse(fs.readFileSync(path.join(fwd.dir, 'dpfwd.yaml'), 'utf8'));
    writeConfig(fwd, { ...good, routes: good.routes.filter((x: { prefix: string }) => x.prefix !== '10.30.0.0/16') });
    fwd.proc.kill('SIGHUP');
    await waitFor('the route removed by SIGHUP', async () => !(await fwd.call('route.show')).some((x: { dst: string }) => x.dst === '10.30.0.0/16'));
    // the reply on the socket can reach this process before the log line on the stderr pipe
    await waitFor('the SIGHUP log lines', async () => /run: SIGHUP: reloading .*\n.*reload: reloaded .*routes \+0 -1 ~0/.test(fwd.stderr()));
    assert.equal(ping(topo.host('west').ns, '10.30.0.5', 1, { deadline: 2 }), 0, 'the removed route no longer forwards');
    assert.equal(ping(topo.host('west').ns, '10.20.0.5', 2), 2);
    fs.writeFileSync(path.join(fwd.dir, 'dpfwd.yaml'), 'ports: 3\n');
    const at = fwd.stderr().length;
    fwd.proc.kill('SIGHUP');
    await waitFor('the refusal logged', async () => /error reload: reload refused, nothing changed: .*configuration error/.test(fwd.stderr().slice(at)));
    assert.equal((await fwd.call('health')).ok, true);
    writeConfig(fwd, good);
  });
});

describe('config save and restart; the JSON log', function () {
  this.timeout(180000);
  const nullPorts = [
    { name: 'west', device: 'net_null0,no-rx=1', address: '10.1.0.1/24' },
    { name: 'east', device: 'net_null1,no-rx=1', address: '10.2.0.1/24' },
  ];

  it('config save writes the running configuration; a forwarder started from it is the same', async () => {
    const dir = tmpDir('save');
    let first: Running | undefined = await startForwarder(
      { eal: { lcores: '0-1' }, ports: nullPorts, routes: [{ prefix: '10.20.0.0/16', via: '10.2.0.2' }] },
      { dir },
    );
    let second: Running | undefined;
    try {
      for (const args of [
        ['route', 'add', '10.30.0.0/16', 'via', '10.1.0.9'],
        ['route', 'add', '10.99.0.0/16', 'blackhole'],
        ['neighbor', 'add', '10.2.0.2', '02:00:00:00:02:02', 'port', 'east'],
        ['interface', 'add', 'west.100', 'vlan', '100', 'mtu', '1400'],
        ['address', 'add', '10.100.0.1/24', 'port', 'west.100'],
        ['address', 'add', '10.3.0.1/24', 'port', 'east'],
        ['route', 'add', '10.120.0.0/16', 'via', '10.100.0.2'],
      ]) {
        const r = dpfwdCli(first, args);
        assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
      }
      const want = await stateOf(first);
      const shown = dpfwdCli(first, ['config', 'show']);
      assert.equal(shown.status, 0, shown.stderr);
      assert.match(shown.stdout, /- \{ prefix: 10\.120\.0\.0\/16, via: 10\.100\.0\.2, port: west\.100 \}/);
      // the default: over the file it was started with, atomically (no temp file left)
      const saved = dpfwdJson(first, ['config', 'save']);
      assert.equal(saved.file, path.join(dir, 'dpfwd.yaml'));
      assert.deepEqual(
        fs.readdirSync(dir).filter((f) => f.includes('.tmp')),
        [],
      );
      const same = dpfwdCli(first, ['config', 'diff']);
      assert.equal(same.stdout, `running configuration and ${path.join(dir, 'dpfwd.yaml')} are the same\n`);
      assert.equal(same.status, 0, 'no differences: exit 0, as diff(1)');
      // FILE relative to the caller's directory
      const other = dpfwdCli(first, ['config', 'save', path.relative(process.cwd(), path.join(dir, 'copy.yaml'))]);
      assert.equal(other.status, 0, other.stderr);
      assert.equal(fs.readFileSync(path.join(dir, 'copy.yaml'), 'utf8'), fs.readFileSync(path.join(dir, 'dpfwd.yaml'), 'utf8'));
      // dpfwd writes as root: not outside its config file's directory
      const elsewhere = path.join(path.dirname(dir), `dpfwd-elsewhere-${process.pid}.yaml`);
      const refused = dpfwdCli(first, ['config', 'save', elsewhere]);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /config save writes only into /);
      assert.ok(!fs.existsSync(elsewhere));
      assert.equal((await first.stop()).code, 0);
      first = undefined;
      second = await startForwarder(parse(fs.readFileSync(path.join(dir, 'dpfwd.yaml'), 'utf8')), { dir });
      assert.deepEqual(await stateOf(second), want);
      assert.equal(dpfwdCli(second, ['config', 'show']).stdout, shown.stdout);
    } finally {
      if (first) await first.stop();
      if (second) assert.equal((await second.stop()).code, 0, second.stderr());
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--log-format json: every line parses and carries time, level, component and message; changes carry who and what', async () => {
    const fwd = await startForwarder({ eal: { lcores: '0-1' }, ports: nullPorts }, { runArgs: ['--log-format', 'json', '--log-level', 'debug'] });
    try {
      await fwd.call('route.add', { prefix: '10.20.0.0/16', via: '10.2.0.2' });
      await fwd.call('route.del', { prefix: '10.77.0.0/16' }).catch(() => undefined);
      await waitFor('the control lines', async () => (fwd.stderr().match(/"component":"control"/g) ?? []).length >= 2);
    } finally {
      assert.equal((await fwd.stop()).code, 0, fwd.stderr());
    }
    const lines = fwd
      .stderr()
      .split('\n')
      .filter((l) => l.length);
    const objs = lines.map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        assert.fail(`not JSON: ${l}`);
      }
    });
    for (const o of objs) {
      assert.match(o.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, JSON.stringify(o));
      assert.ok(['error', 'warn', 'info', 'debug'].includes(o.level), JSON.stringify(o));
      assert.equal(typeof o.component, 'string');
      assert.equal(typeof o.msg, 'string');
    }
    const comps = new Set(objs.map((o) => o.component));
    for (const c of ['forwarder', 'run', 'link', 'control']) assert.ok(comps.has(c), `component ${c} in ${[...comps].join(', ')}`);
    const add = objs.find((o) => o.op === 'route.add');
    assert.deepEqual(
      { ok: add.ok, uid: add.uid, args: add.args, level: add.level },
      { ok: true, uid: process.getuid!(), args: { prefix: '10.20.0.0/16', via: '10.2.0.2' }, level: 'info' },
    );
    assert.equal(typeof add.pid, 'number');
    const del = objs.find((o) => o.op === 'route.del');
    assert.deepEqual({ ok: del.ok, code: del.code, level: del.level }, { ok: false, code: 'ENOENT', level: 'warn' });
    assert.ok(objs.some((o) => o.component === 'link' && o.link === 'up' && o.port === 'west'));
    assert.ok(objs.some((o) => o.event === 'start') && objs.some((o) => o.event === 'stop'), 'start-up and shut-down summaries');
  });
});
