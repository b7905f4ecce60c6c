/**
 * Process lifecycle of `dpfwd run`: clean stop on signals, restart after kill -9, clear errors
 * for bad input. Each case runs a real forwarder child process on virtual devices.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { DPFWD, startForwarder, tmpDir } from './helpers/forwarder';

const nullPorts = [
  { name: 'west', device: 'net_null0,no-rx=1', address: '10.1.0.1/24' },
  { name: 'east', device: 'net_null1,no-rx=1', address: '10.2.0.1/24' },
];

function run(args: string[]) {
  return spawnSync(process.execPath, [DPFWD, ...args], { encoding: 'utf8', timeout: 30000 });
}

describe('dpfwd run lifecycle', function () {
  this.timeout(90000);

  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    it(`${sig} stops workers, closes ports and exits 0`, async () => {
      const fwd = await startForwarder({ eal: { lcores: '0-1' }, ports: nullPorts });
      const r = await fwd.stop(sig);
      assert.deepEqual(r, { code: 0, signal: null }, fwd.stderr());
      assert.match(fwd.stderr(), /stopped; ports closed and hugepage memory released/);
    });
  }

  for (const eal of [{ lcores: '0-1' }, { lcores: '0-1', inMemory: false, filePrefix: `dpfwd-restart-${process.pid}` }]) {
    it(`starts again right after kill -9 (${eal.inMemory === false ? 'file prefix' : 'in-memory'})`, async () => {
      const dir = tmpDir('restart');
      const first = await startForwarder({ eal, ports: nullPorts }, { dir });
      const k = await first.stop('SIGKILL');
      assert.equal(k.signal, 'SIGKILL');
      assert.ok(fs.existsSync(first.socket), 'the killed process left its socket behind');
      const second = await startForwarder({ eal, ports: nullPorts }, { dir });
      const h = await second.call('health');
      assert.equal(h.alive, 1);
      assert.equal((await second.stop()).code, 0);
      fs.rmSync(dir, { recursive: true, force: true });
    });
  }

  it('refuses to start a second forwarder on a socket that is in use', async () => {
    const dir = tmpDir('twice');
    const first = await startForwarder({ eal: { lcores: '0-1' }, ports: nullPorts }, { dir });
    try {
      await assert.rejects(startForwarder({ eal: { lcores: '0-1' }, ports: nullPorts }, { dir }), /another dpfwd answers on .*dpfwd\.sock; stop it or give this one --socket <path>/);
      assert.equal((await first.call('health')).alive, 1, 'the first one is untouched');
    } finally {
      await first.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports every config error with its path and exits 1', () => {
    const dir = tmpDir('badcfg');
    const f = path.join(dir, 'bad.yaml');
    fs.writeFileSync(f, 'ports:\n  - name: west\n    device: "net_null0"\n    address: 10.1.0.1/33\n  - name: West\n    device: "net_null1"\n');
    const r = run(['run', '--config', f]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /ports\[0\]\.address: 10\.1\.0\.1\/33 is not an IPv4 prefix/);
    assert.match(r.stderr, /ports\[1\]\.name: /);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('names a missing interface before DPDK probes it', () => {
    const dir = tmpDir('noiface');
    const f = path.join(dir, 'c.yaml');
    fs.writeFileSync(f, `ports:\n  - name: west\n    device: "net_af_packet0,iface=dpfwd-nosuch0"\n  - name: east\n    device: "net_null0"\ncontrol: { socket: ${dir}/s.sock }\nmetrics: { listen: false }\n`);
    const r = run(['run', '--config', f]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /ports\[0\]\.device: interface dpfwd-nosuch0 does not exist in this network namespace/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('explains a missing config file', () => {
    const r = run(['run', '--config', '/nonexistent/dpfwd.yaml']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /\/nonexistent\/dpfwd\.yaml/);
  });

  it('says how to reach a forwarder that is not running', () => {
    const r = run(['show', 'drops', '--socket', '/tmp/dpfwd-no-such.sock']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'dpfwd: cannot reach dpfwd at /tmp/dpfwd-no-such.sock: no such socket (is dpfwd running? is --socket right?)\n');
  });
});

describe('dpfwd run: DPDK start-up failures explained', function () {
  this.timeout(60000);
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['a hugepage cap too small for the mempool', { lcores: '0-1', hugepagesMiB: 16 },
      /cannot start the dataplane: cannot create a pool of \d+ mbufs .*reserve more hugepages .*; eal\.hugepagesMiB caps DPDK at 16 MiB: raise or remove it/],
    ['an lcore this machine does not have', { lcores: '0,63' },
      /DPDK EAL initialisation failed: eal\.lcores names a CPU this machine does not have or may not use \(lcore 63 unavailable\)/],
    ['an EAL argument DPDK does not know', { lcores: '0-1', args: ['--bogus-flag'] },
      /DPDK EAL initialisation failed: DPDK rejected its arguments: check eal\.args and eal\.lcores\.[\s\S]*\n  eal\.args adds: --bogus-flag\n/],
  ];
  for (const [what, eal, want] of cases) {
    it(`${what}: one clear message, exit 1, no usage dump on stdout`, () => {
      const dir = tmpDir('ealfail');
      const f = path.join(dir, 'c.yaml');
      fs.writeFileSync(f, JSON.stringify({ eal, ports: nullPorts, control: { socket: `${dir}/s.sock` }, metrics: { listen: false } }));
      const r = run(['run', '--config', f]);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, want);
      assert.equal(r.stdout, '', 'DPDK\'s usage text is kept off stdout');
      fs.rmSync(dir, { recursive: true, force: true });
    });
  }
});
