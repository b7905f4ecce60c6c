/**
 * deploy/systemd/dpfwd.service: accepted by systemd (`systemd-analyze verify`), hardened (`systemd-
 * analyze security --offline`, against the same unit without its hardening block), and holding what
 * a DPDK process needs. systemd is not PID 1 on the test machines, so the unit is checked, not started.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DEFAULTS } from '../src/config/keys';
import { DPFWD, ROOT } from './helpers/forwarder';

const UNIT = path.join(ROOT, 'deploy', 'systemd', 'dpfwd.service');
const text = fs.readFileSync(UNIT, 'utf8');
const values = (key: string) => [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1].trim());

/** The unit with ExecStart on this checkout's bin/dpfwd (verify wants an executable), in a temp dir. */
function localUnit(transform: (t: string) => string = (t) => t): { file: string; done: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpfwd-unit-'));
  const file = path.join(dir, 'dpfwd.service');
  fs.writeFileSync(file, transform(text.replace(/\/usr\/local\/bin\/dpfwd/g, DPFWD)));
  return { file, done: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

function exposure(file: string): number {
  const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', file], { encoding: 'utf8', cwd: os.tmpdir() });
  const m = /Overall exposure level for dpfwd\.service: ([\d.]+)/.exec(r.stdout + r.stderr);
  assert.ok(m, r.stdout + r.stderr);
  return Number(m[1]);
}

describe('deploy/systemd/dpfwd.service', () => {
  before(function () {
    if (spawnSync('systemd-analyze', ['--version']).status !== 0) throw new Error('systemd-analyze missing: apt-get install -y systemd');
  });

  it('systemd-analyze verify accepts it', () => {
    const u = localUnit();
    try {
      const r = spawnSync('systemd-analyze', ['verify', '--man=no', u.file], { encoding: 'utf8', cwd: os.tmpdir() });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.equal((r.stdout + r.stderr).trim(), '', 'no warnings');
    } finally {
      u.done();
    }
  });

  it('runs the config the image runs, reloads with SIGHUP, unlimited memlock, the socket directory as RuntimeDirectory', () => {
    assert.deepEqual(values('ExecStart'), ['/usr/local/bin/dpfwd run --config /etc/dpfwd/dpfwd.yaml']);
    assert.deepEqual(values('ExecReload'), ['/bin/kill -HUP $MAINPID']);
    assert.deepEqual(values('LimitMEMLOCK'), ['infinity']);
    assert.ok(
      values('RuntimeDirectory')[0]
        .split(/\s+/)
        .includes(path.basename(path.dirname(DEFAULTS.control.socket))),
    );
    assert.deepEqual(values('KillSignal'), ['SIGTERM']);
    assert.ok(values('RequiresMountsFor').includes('/dev/hugepages'));
  });

  it('says what reload does (SIGHUP reloads the file live; restart-only keys refused)', () => {
    const comment = /((?:^#.*\n)+)ExecReload=/m.exec(text)?.[1] ?? '';
    assert.match(comment, /SIGHUP = `dpfwd reload`.*applies the\n# difference live/, comment);
    assert.doesNotMatch(text, /has none|nothing changed and/, 'no word of a reload that does nothing');
  });

  it('lets linux.netns mirrors work: setns allowed (net, mnt), the namespace created outside the sandbox', () => {
    const allowed = values('RestrictNamespaces')[0].split(/\s+/);
    assert.deepEqual(allowed.sort(), ['mnt', 'net'], 'only the namespaces dpfwd enters');
    assert.deepEqual(values('ProtectSystem'), ['strict']);
    // the drop-in the unit gives for creating the namespace runs before dpfwd, unsandboxed
    const dropIn = /^#\s+ExecStartPre=(\+.*)$/m.exec(text);
    assert.ok(dropIn, 'the ExecStartPre= line for the namespace is given');
    assert.match(dropIn[1], /^\+\/bin\/sh -c '\[ -e \/run\/netns\/dpfwd \] \|\| ip netns add dpfwd'$/);
    // the line as a drop-in passes systemd-analyze verify, and runs here as written
    const u = localUnit((t) => t.replace(/^ExecReload=/m, `ExecStartPre=${dropIn[1]}\nExecReload=`));
    const ns = `dpfwd-unit-${process.pid}`;
    try {
      const r = spawnSync('systemd-analyze', ['verify', '--man=no', u.file], { encoding: 'utf8', cwd: os.tmpdir() });
      assert.equal((r.stdout + r.stderr).trim(), '', 'no warnings');
      const cmd = dropIn[1]
        .slice(1)
        .replace(/dpfwd/g, ns)
        .replace(/^\/bin\/sh -c '(.*)'$/, '$1');
      for (let i = 0; i < 2; i++) assert.equal(spawnSync('/bin/sh', ['-c', cmd]).status, 0, `run ${i + 1}: creates it, then finds it`);
      assert.ok(fs.existsSync(`/run/netns/${ns}`));
    } finally {
      u.done();
      spawnSync('ip', ['netns', 'del', ns]);
    }
  });

  it('leaves out the hardening that breaks DPDK or Node.js, and says why', () => {
    for (const k of ['PrivateDevices', 'MemoryDenyWriteExecute', 'SystemCallFilter', 'PrivateNetwork']) {
      assert.deepEqual(values(k), [], `${k} is not set`);
      assert.match(text, new RegExp(`^#\\s+${k}=\\S*\\s+\\S.*`, 'm'), `${k} is explained`);
    }
    assert.ok(values('DeviceAllow').includes('char-vfio rw'), 'VFIO groups reachable under DevicePolicy=closed');
    assert.ok(values('RestrictAddressFamilies')[0].split(/\s+/).includes('AF_XDP'));
  });

  it('is hardened: exposure well below the same unit without its hardening block', () => {
    const u = localUnit();
    const bare = localUnit((t) => t.replace(/# ---- hardening[\s\S]*?\n\[Install\]/, '[Install]').replace(/^UMask=.*\n/m, ''));
    try {
      const hardened = exposure(u.file);
      const without = exposure(bare.file);
      assert.ok(hardened <= 6.5, `exposure ${hardened}`);
      assert.ok(without - hardened >= 2.5, `hardened ${hardened} vs bare ${without}`);
    } finally {
      u.done();
      bare.done();
    }
  });
});
