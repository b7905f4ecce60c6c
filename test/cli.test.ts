/**
 * The CLI against a running forwarder (net_pcap replay into net_null): every operation through
 * the real `dpfwd` command, its output and exit status.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { buildUdp4, writePcap } from '../src/packet';
import { DPFWD, startForwarder, Running, tmpDir, totals, waitFor, dpfwdCli, dpfwdJson } from './helpers/forwarder';

describe('dpfwd CLI against a running forwarder', function () {
  this.timeout(60000);
  let fwd: Running;
  let dir: string;

  const cli = (...args: string[]) => dpfwdCli(fwd, args);
  const json = (...args: string[]) => dpfwdJson(fwd, args);

  before(async () => {
    dir = tmpDir('cli');
    // 10 frames with a bad checksum so there is something to count and to clear
    const bad = buildUdp4({ srcMac: '02:00:00:00:01:02', dstMac: '02:70:63:61:70:00', src: '10.1.0.2', dst: '10.2.0.9', sport: 1, dport: 2, checksum: 0x1111 });
    writePcap(
      path.join(dir, 'in.pcap'),
      Array.from({ length: 10 }, () => bad),
    );
    fwd = await startForwarder(
      {
        eal: { lcores: '0-1' },
        ports: [
          { name: 'west', device: `net_pcap0,rx_pcap=${dir}/in.pcap`, address: '10.1.0.1/24' },
          { name: 'east', device: 'net_null0,no-rx=1', address: '10.2.0.1/24', mac: '02:aa:00:00:00:02' },
        ],
      },
      { dir },
    );
    await waitFor('capture read', async () => (await totals(fwd)).rx >= 10);
  });

  after(async () => {
    assert.equal((await fwd.stop()).code, 0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('route load takes route-file and l3fwd lines in one call', () => {
    const f = path.join(dir, 'routes.txt');
    fs.writeFileSync(f, '# comment\n10.50.0.0/16 via 10.2.0.2\nR10.60.0.0/16 1\n10.70.0.0/16 port east\n10.80.0.0/16 blackhole # trailing comment\n\n');
    const r = cli('route', 'load', f);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^loaded 4 routes in [\d.]+ ms\n$/);
    const routes = json('route', 'show').filter((x: { protocol: string }) => x.protocol === 'static');
    assert.deepEqual(routes, [
      { dst: '10.50.0.0/16', gateway: '10.2.0.2', dev: 'east', protocol: 'static', type: 'unicast', lladdr: null },
      { dst: '10.60.0.0/16', dev: 'east', protocol: 'static', type: 'unicast' },
      { dst: '10.70.0.0/16', dev: 'east', protocol: 'static', type: 'unicast' },
      { dst: '10.80.0.0/16', protocol: 'static', type: 'blackhole' },
    ]);
  });

  it('route load with a bad line loads nothing and names the line', () => {
    const f = path.join(dir, 'bad.txt');
    fs.writeFileSync(f, '10.90.0.0/16 via 10.2.0.2\n10.91.0.0/33 via 10.2.0.2\n');
    const r = cli('route', 'load', f);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^dpfwd: route file has 1 bad line\(s\), nothing loaded:\n  line 2: /);
    assert.ok(!json('route', 'show').some((x: { dst: string }) => x.dst === '10.90.0.0/16'), 'all or nothing');
    const missing = cli('route', 'load', path.join(dir, 'nope.txt'));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^dpfwd: cannot read .*nope\.txt: /);
  });

  it('neighbor add makes the gateway resolved; del makes it unresolved again', () => {
    assert.equal(cli('neighbor', 'add', '10.2.0.2', '02:00:00:00:02:02', 'port', 'east').status, 0);
    assert.deepEqual(
      json('neighbor', 'show').find((n: { dst: string }) => n.dst === '10.2.0.2'),
      { dst: '10.2.0.2', dev: 'east', lladdr: '02:00:00:00:02:02', state: ['PERMANENT'] },
    );
    assert.equal(json('route', 'show').find((x: { dst: string }) => x.dst === '10.50.0.0/16').lladdr, '02:00:00:00:02:02');
    assert.equal(cli('neighbor', 'del', '10.2.0.2').status, 0);
    assert.equal(json('route', 'show').find((x: { dst: string }) => x.dst === '10.50.0.0/16').lladdr, null);
    const bad = cli('neighbor', 'add', '10.2.0.3', '02:00:00:00:02:03');
    assert.equal(bad.status, 1);
    assert.equal(bad.stderr, 'dpfwd: usage: dpfwd neighbor add 10.2.0.9 02:00:00:00:00:09 port east\n');
  });

  it('address add/del adds and removes the local and connected routes', () => {
    assert.equal(cli('address', 'add', '10.3.0.1/24', 'port', 'east').status, 0);
    let routes = json('route', 'show').map((r: { dst: string; protocol: string }) => `${r.dst} ${r.protocol}`);
    assert.ok(routes.includes('10.3.0.0/24 connected') && routes.includes('10.3.0.1/32 local'));
    assert.deepEqual(
      json('address', 'show')
        .find((p: { ifname: string }) => p.ifname === 'east')
        .addr_info.map((a: { local: string }) => a.local),
      ['10.2.0.1', '10.3.0.1'],
    );
    assert.equal(cli('address', 'del', '10.3.0.1/24', 'port', 'east').status, 0);
    routes = json('route', 'show').map((r: { dst: string }) => r.dst);
    assert.ok(!routes.includes('10.3.0.0/24') && !routes.includes('10.3.0.1/32'));
    const gone = cli('address', 'del', '10.3.0.1/24', 'port', 'east');
    assert.equal(gone.stderr, 'dpfwd: port east has no address 10.3.0.1/24\n');
  });

  it('show drops lists counted reasons; stats clear zeroes the view but not the raw counters', async () => {
    const r = cli('show', 'drops');
    assert.equal(r.status, 0);
    assert.equal(r.stdout, 'port  reason        packets\nwest  bad_checksum  10\n');
    const all = json('show', 'drops');
    assert.equal(all.length, 2 * (await totals(fwd)).names.drops.length, 'every reason for every port in JSON');
    assert.equal(cli('stats', 'clear').stdout, 'statistics cleared\n');
    assert.equal(cli('show', 'drops').stdout, 'no drops\n');
    assert.equal((await totals(fwd)).drops.west.bad_checksum, 10, 'raw counters keep their value');
  });

  it('show workers and show ports print their columns', () => {
    const w = cli('show', 'workers');
    assert.match(w.stdout, /^worker\s+lcore\s+rx\s+rx_packets\s+tx_packets\s+packets_per_burst\s+busy_percent\s+cycles_per_packet/);
    const ports = json('show', 'ports');
    assert.deepEqual(
      ports.map((p: { ifname: string; driver: string }) => [p.ifname, p.driver]),
      [
        ['west', 'net_pcap'],
        ['east', 'net_null'],
      ],
    );
  });

  it('a port MAC set in the config crosses the addon both ways as a number and shows as text', () => {
    const east = json('show', 'ports').find((p: { ifname: string }) => p.ifname === 'east');
    assert.equal(east.address, '02:aa:00:00:00:02');
    assert.equal(json('show', 'interfaces').find((i: { ifname: string }) => i.ifname === 'east').address, '02:aa:00:00:00:02');
  });

  it('rejects unknown actions and options with usage, exit 2', () => {
    const r = cli('route', 'frobnicate');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^dpfwd: Invalid values:/);
  });
});

describe('FIB capacity', function () {
  this.timeout(60000);
  it('a route past fib.maxRoutes fails with ENOSPC and leaves the table as it was', async () => {
    const fwd = await startForwarder({
      eal: { lcores: '0-1' },
      ports: [
        { name: 'west', device: 'net_null0,no-rx=1', address: '10.1.0.1/24' },
        { name: 'east', device: 'net_null1,no-rx=1', address: '10.2.0.1/24' },
      ],
      fib: { maxRoutes: 16 },
    });
    try {
      // 4 routes come from the two addresses (local /32 + connected /24 each)
      for (let i = 0; i < 12; i++) await fwd.call('route.add', { prefix: `10.${100 + i}.0.0/16`, via: '10.2.0.2' });
      const before = await fwd.call('route.show');
      assert.equal(before.length, 16);
      await assert.rejects(fwd.call('route.add', { prefix: '10.200.0.0/16', via: '10.2.0.2' }), (e: Error & { code: string }) => {
        assert.equal(e.code, 'ENOSPC');
        assert.match(e.message, /^route add failed: the FIB is full .*; raise fib\.maxRoutes or fib\.tbl8Groups and restart$/);
        return true;
      });
      const file = path.join(tmpDir('fibfull'), 'r.txt');
      fs.writeFileSync(file, '10.201.0.0/16 via 10.2.0.2\n10.202.0.0/16 via 10.2.0.2\n');
      const load = spawnSync(process.execPath, [DPFWD, '--socket', fwd.socket, 'route', 'load', file], { encoding: 'utf8' });
      assert.equal(load.status, 1);
      assert.match(load.stderr, /FIB/);
      assert.deepEqual(await fwd.call('route.show'), before, 'nothing changed');
      // the table still works: replacing and deleting existing routes is fine
      await fwd.call('route.del', { prefix: '10.100.0.0/16' });
      await fwd.call('route.add', { prefix: '10.200.0.0/16', via: '10.2.0.2' });
      assert.equal((await fwd.call('health')).alive, 1);
    } finally {
      assert.equal((await fwd.stop()).code, 0);
    }
  });
});

describe('dpfwd CLI: pipes and --socket mistakes', function () {
  this.timeout(60000);
  let fwd: Running;
  let dir: string;

  before(async () => {
    dir = tmpDir('clipipe');
    fwd = await startForwarder(
      {
        eal: { lcores: '0-1' },
        ports: [
          { name: 'west', device: 'net_null0,no-rx=1', address: '10.1.0.1/24' },
          { name: 'east', device: 'net_null1,no-rx=1', address: '10.2.0.1/24' },
        ],
      },
      { dir },
    );
  });
  after(async () => {
    assert.equal((await fwd.stop()).code, 0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('`dpfwd route show | head -2` ends quietly, exit 0 (EPIPE on stdout is not an error)', () => {
    // 20000 routes: far more output than a pipe buffer holds, so dpfwd is still writing when head exits
    const f = path.join(dir, 'many.txt');
    fs.writeFileSync(f, Array.from({ length: 20000 }, (_, i) => `10.${100 + (i >> 8)}.${i & 255}.0/24 via 10.2.0.2\n`).join(''));
    const load = spawnSync(process.execPath, [DPFWD, '--socket', fwd.socket, 'route', 'load', f], { encoding: 'utf8', timeout: 30000 });
    assert.equal(load.status, 0, load.stderr);
    const piped = spawnSync(
      'sh',
      ['-c', `{ "${process.execPath}" "${DPFWD}" --socket "${fwd.socket}" route show 2>"${dir}/err"; echo $? >"${dir}/rc"; } | head -2`],
      { encoding: 'utf8', timeout: 30000 },
    );
    assert.equal(piped.stdout.split('\n').length, 3, piped.stdout);
    assert.equal(fs.readFileSync(`${dir}/err`, 'utf8'), '', 'nothing on stderr');
    assert.equal(fs.readFileSync(`${dir}/rc`, 'utf8').trim(), '0');
  });

  it('show control prints the clients and every refusal reason', () => {
    const r = spawnSync(process.execPath, [DPFWD, '--socket', fwd.socket, 'show', 'control'], { encoding: 'utf8', timeout: 30000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^clients 1 \(max 64\), request bytes buffered 0, paused for unread replies 0\nrefused\s+clients\nrequest_too_large\s+0\n/);
    assert.match(r.stdout, /\nidle_timeout\s+\d+\n$/);
  });

  const mistakes: [string, () => string, string][] = [
    ['a directory', () => dir, "that is a directory, not a socket (give the socket's path, e.g. /run/dpfwd/dpfwd.sock)"],
    ['a regular file', () => path.join(dir, 'dpfwd.yaml'), "that is a regular file, not dpfwd's control socket (is --socket right?)"],
    ['a /proc file', () => '/proc/self/status', "that is a regular file, not dpfwd's control socket (is --socket right?)"],
    ['a path through a file', () => path.join(dir, 'dpfwd.yaml', 'x.sock'), 'a component of the path is not a directory (is --socket right?)'],
  ];
  for (const [what, sock, hint] of mistakes) {
    it(`--socket naming ${what}: one clear line, exit 1`, () => {
      const r = spawnSync(process.execPath, [DPFWD, 'show', 'ports', '--socket', sock()], { encoding: 'utf8', timeout: 30000 });
      assert.equal(r.status, 1);
      assert.equal(r.stderr, `dpfwd: cannot reach dpfwd at ${sock()}: ${hint}\n`);
    });
  }
});

describe('dpfwd CLI: shell completion', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [DPFWD, ...args], { encoding: 'utf8', timeout: 30000 });

  it('`dpfwd completion` prints a bash script that asks dpfwd for its words', () => {
    const r = run('completion');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /complete -o bashdefault -o default -F _dpfwd_yargs_completions dpfwd/);
    assert.match(r.stdout, /--get-yargs-completions/);
  });

  it('completes commands and subcommands from the command modules', () => {
    const top = run('--get-yargs-completions', 'dpfwd', '').stdout.split('\n');
    for (const c of ['route', 'neighbor', 'address', 'interface', 'show', 'top', 'run', 'doctor']) assert.ok(top.includes(c), `${c} in ${top.join(' ')}`);
    const route = run('--get-yargs-completions', 'dpfwd', 'route', '').stdout.split('\n');
    for (const c of ['add', 'del', 'show', 'load']) assert.ok(route.includes(c), `${c} in ${route.join(' ')}`);
  });
});
