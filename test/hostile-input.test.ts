/**
 * Hostile input at the edges (issue 22, point 9): paths a user gives the CLI and `dpfwd run` end
 * in one clear message naming cause and fix, never an internal error with a stack trace or a
 * file left behind; the socket directory gets an explicit mode whatever the umask.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { stringify } from 'yaml';
import { prepareSocketPath } from '../src/api/server';
import { DPFWD, dpfwdCli, Running, startForwarder, tmpDir, waitFor } from './helpers/forwarder';
import { Host, ping, sh, spawnIn, Topology } from './helpers/netns';

const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) => spawnSync(process.execPath, [DPFWD, ...args], { encoding: 'utf8', timeout: 30000, env });
const noStack = (s: string) => assert.ok(!/internal error|\n\s+at .*:\d+/.test(s), `one message, no stack trace:\n${s}`);

describe('hostile input: socket paths', function () {
  this.timeout(60000);
  let dir: string;
  before(() => {
    dir = tmpDir('hostile');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates a missing socket directory 0755 even under umask 000', async () => {
    const old = process.umask(0);
    try {
      await prepareSocketPath(path.join(dir, 'a', 'b', 'dpfwd.sock'));
    } finally {
      process.umask(old);
    }
    assert.equal((fs.statSync(path.join(dir, 'a')).mode & 0o777).toString(8), '755');
    assert.equal((fs.statSync(path.join(dir, 'a', 'b')).mode & 0o777).toString(8), '755');
  });

  it('refuses a socket path over 107 bytes up front: dpfwd run leaves no cut socket file', () => {
    const long = path.join(dir, `${'s'.repeat(120 - dir.length)}.sock`);
    assert.ok(Buffer.byteLength(long) > 107);
    const cfg = path.join(dir, 'dpfwd.yaml');
    fs.writeFileSync(
      cfg,
      stringify({ eal: { lcores: '0-1' }, metrics: { listen: false }, ports: [{ name: 'west', device: 'net_null0,no-rx=1', address: '10.1.0.1/24' }] }),
    );
    const before = fs.readdirSync(dir).sort();
    const r = cli(['run', '--config', cfg, '--socket', long]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /control socket path .* is \d+ bytes; a UNIX socket path holds at most 107: choose a shorter path/);
    noStack(r.stderr);
    assert.deepEqual(fs.readdirSync(dir).sort(), before, 'no socket file, cut or not');
    const c = cli(['--socket', long, 'route', 'show']);
    assert.equal(c.status, 1);
    assert.match(c.stderr, /holds at most 107/);
    noStack(c.stderr);
  });

  it('--socket "" and DPFWD_SOCKET="" name the problem and the fix', () => {
    for (const r of [
      cli(['--socket', '', 'route', 'show']),
      cli(['--socket', '', 'capture', '-c', '1']),
      cli(['run', '--config', path.join(dir, 'dpfwd.yaml'), '--socket', '']),
      cli(['route', 'show'], { ...process.env, DPFWD_SOCKET: '' }),
    ]) {
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /the control socket path is empty: give a path like \/run\/dpfwd\/dpfwd\.sock/);
      noStack(r.stderr);
    }
  });
});

describe('hostile input: capture -w', function () {
  this.timeout(120000);
  let fwd: Running;
  before(async () => {
    fwd = await startForwarder({ eal: { lcores: '0-1' }, ports: [{ name: 'west', device: 'net_null0,no-rx=1', address: '10.1.0.1/24' }] });
  });
  after(async () => {
    if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
  });

  it('a directory, /proc/version and /dev/full end in one message naming the cause and the fix; the capture ends', async () => {
    const cases: [string, RegExp][] = [
      [fwd.dir, /capture: cannot write .*: it is a directory: give a file name inside it/],
      ['/proc/version', /capture: cannot write \/proc\/version: the file refuses writes/],
      ['/dev/full', /capture: cannot write \/dev\/full: no space left on the device/],
      [path.join(fwd.dir, 'none', 'x.pcapng'), /directory .*none does not exist/],
    ];
    for (const [file, want] of cases) {
      const r = dpfwdCli(fwd, ['capture', '-w', file, '-c', '1', '--duration', '2']);
      assert.equal(r.status, 1, `${file}: ${r.stderr}`);
      assert.match(r.stderr, want);
      assert.match(r.stderr, /-w - to pipe into tcpdump -r -/);
      noStack(r.stderr);
    }
    // nothing left running: a new capture starts
    const ok = dpfwdCli(fwd, ['capture', '-w', path.join(fwd.dir, 'ok.pcapng'), '--duration', '1']);
    assert.equal(ok.status, 0, ok.stderr);
  });
});

describe('an af_packet port: pings to the router larger than the MTU, ring drops', function () {
  this.timeout(120000);
  const topo = new Topology();
  let fwd: Running;
  let west: Host;
  before(async () => {
    west = topo.addHost('west', 1);
    fwd = await startForwarder({ eal: { lcores: '0-1' }, ports: [topo.port(west, 0)] });
  });
  after(async () => {
    if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
    topo.destroy();
  });

  it('answers as Linux does: the echo reply leaves in fragments that fit the MTU, and the host reassembles it', async () => {
    assert.equal(ping(west.ns, west.gw, 2), 2);
    const cap = spawnIn(west.ns, 'tcpdump', ['-i', west.hostIf, '-nn', '-l', '-v', 'icmp and src', west.gw]);
    let out = '';
    cap.stdout!.on('data', (d) => {
      out += d;
    });
    cap.stderr!.on('data', (d) => {
      out += d;
    });
    await waitFor('tcpdump to listen', async () => out.includes('listening'), 10000);
    // 3000 bytes of ICMP data: a 3028-byte datagram, twice the port's 1500
    assert.equal(ping(west.ns, west.gw, 3, { size: 3000 }), 3, `replies to -s 3000:\n${fwd.stderr().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 300));
    cap.kill();
    // each reply in three fragments: offsets 0, 1480, 2960 (8-byte units 0, 185, 370), MF on all but the last
    assert.match(out, /flags \[\+\], proto ICMP \(1\), length 1500/);
    assert.match(out, /offset 2960, flags \[none\], proto ICMP \(1\), length 68/);
    const c = await fwd.call('show.controlplane');
    assert.equal(c.counters.injectFailed, 0, JSON.stringify(c.counters));
  });

  it('frames the af_packet ring lost while the worker could not read show as missed (PACKET_STATISTICS), not 0', async () => {
    const missed = async () => (await fwd.call('show.ports')).find((p: { ifname: string }) => p.ifname === 'west').stats64.rx.missed as number;
    const before = await missed();
    const mac = (await fwd.call('show.ports')).find((p: { ifname: string }) => p.ifname === 'west').address as string;
    // the whole forwarder stopped: its worker reads nothing, the kernel fills the ring (512 frames) and drops the rest
    fwd.proc.kill('SIGSTOP');
    try {
      const code = `import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(("${west.hostIf}", 0))
f = bytes.fromhex("${mac.replace(/:/g, '')}" + "020000000999" + "0800" + "45000020000000004011" + "0000" + "0a010063" + "0a010001" + "00" * 12)
for i in range(3000): s.send(f)
`;
      sh('python3', ['-c', code], { ns: west.ns });
    } finally {
      fwd.proc.kill('SIGCONT');
    }
    const lost = await waitFor(
      'the drops counted',
      async () => {
        const n = (await missed()) - before;
        return n > 0 ? n : undefined;
      },
      10000,
    );
    assert.ok(lost >= 1000 && lost <= 3000, `missed grew by ${lost} of 3000 frames sent into a 512-frame ring`);
  });
});
