/**
 * `config save` across the privilege boundary: the forwarder runs as root, a member of the
 * control socket's group does not. Such a client (the real CLI run with another uid and gid)
 * must not make the forwarder write a file it could not write itself; root may. Found by the
 * hostile re-test of issue 22: a group member replaced a 0600 root file next to the config.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { DPFWD, dpfwdCli, Running, startForwarder, tmpDir } from './helpers/forwarder';

// ids no account on a test machine has; the kernel needs no /etc/passwd entry for them
const UID = 40000 + (process.pid % 10000);
const GID = UID;
const OTHER_GID = UID + 1;

/** The real CLI as uid UID, primary group `gid`, supplementary groups `groups`. */
function cliAs(fwd: Running, gid: number, groups: number[], args: string[]) {
  const ids = ['--reuid', String(UID), '--regid', String(gid), ...(groups.length ? ['--groups', groups.join(',')] : ['--clear-groups'])];
  return spawnSync('setpriv', [...ids, process.execPath, DPFWD, '--socket', fwd.socket, ...args], {
    encoding: 'utf8',
    timeout: 30000,
    env: { ...process.env, HOME: '/tmp' },
  });
}

const stat = (f: string) => {
  const s = fs.statSync(f);
  return { uid: s.uid, gid: s.gid, mode: (s.mode & 0o7777).toString(8), text: fs.readFileSync(f, 'utf8') };
};

describe('config save: a client that is not root writes only what it could write itself', function () {
  this.timeout(120000);
  let dir: string;
  let fwd: Running;
  let own: string;
  let secret: string;
  let tool: string;

  before(async () => {
    dir = tmpDir('savepriv');
    fwd = await startForwarder({ eal: { lcores: '0-1' }, ports: [{ name: 'west', device: 'net_null0,no-rx=1', address: '10.1.0.1/24' }] }, { dir });
    own = path.join(dir, 'dpfwd.yaml');
    // as /etc/dpfwd would be: root's directory, the socket for the operators' group
    fs.chmodSync(dir, 0o755);
    fs.chownSync(fwd.socket, 0, GID);
    fs.chmodSync(fwd.socket, 0o660);
    secret = path.join(dir, 'secret');
    fs.writeFileSync(secret, 'root only\n', { mode: 0o600 });
    tool = path.join(dir, 'tool');
    fs.writeFileSync(tool, '#!/bin/sh\necho tool\n', { mode: 0o755 });
    await fwd.call('route.add', { prefix: '10.20.0.0/16', via: '10.1.0.9' });
  });

  after(async () => {
    if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the group member reaches the socket (reads work)', () => {
    const r = cliAs(fwd, GID, [], ['route', 'show']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /10\.20\.0\.0\/16 via 10\.1\.0\.9/);
  });

  it('refuses a root file, the config file and a new file in a directory the member cannot write; nothing changes', () => {
    const before = [secret, tool, own].map(stat);
    for (const target of [secret, tool, own, path.join(dir, 'new.yaml')]) {
      const r = cliAs(fwd, GID, [], ['config', 'save', target]);
      assert.equal(r.status, 1, `${target}: ${r.stdout}${r.stderr}`);
      assert.match(
        r.stderr,
        new RegExp(`config save: uid ${UID} cannot write to the directory ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} .*could write itself`),
      );
      assert.ok(!/at .*\.js:\d+/.test(r.stderr), `no stack trace: ${r.stderr}`);
    }
    const r = cliAs(fwd, GID, [], ['config', 'save']);
    assert.equal(r.status, 1, r.stderr);
    assert.deepEqual([secret, tool, own].map(stat), before);
    assert.ok(!fs.existsSync(path.join(dir, 'new.yaml')));
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.includes('.tmp')),
      [],
    );
  });

  it('with a group-writable directory and config file: the member saves the config file and new files, never the 0600 or 0755 root files', () => {
    fs.chownSync(dir, 0, GID);
    fs.chmodSync(dir, 0o775);
    fs.chownSync(own, 0, GID);
    fs.chmodSync(own, 0o664);
    for (const target of [secret, tool]) {
      const before = stat(target);
      const r = cliAs(fwd, GID, [], ['config', 'save', target]);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`uid ${UID} cannot write .*${path.basename(target)} \\(owner 0, group 0, mode ${before.mode}\\)`));
      assert.deepEqual(stat(target), before, `${target} untouched`);
    }
    let r = cliAs(fwd, GID, [], ['config', 'save']);
    assert.equal(r.status, 0, r.stderr);
    const saved = stat(own);
    assert.deepEqual([saved.uid, saved.gid, saved.mode], [0, GID, '664'], 'the file keeps its owner, group and mode');
    assert.match(saved.text, /10\.20\.0\.0\/16/);
    r = cliAs(fwd, GID, [], ['config', 'save', path.join(dir, 'new.yaml')]);
    assert.equal(r.status, 0, r.stderr);
    const made = stat(path.join(dir, 'new.yaml'));
    assert.deepEqual([made.uid, made.gid, made.mode], [UID, GID, '640'], 'a new file belongs to the client, as if it had written it');
  });

  it('supplementary groups count (read from /proc/PID/status), and root may write anything in the directory', () => {
    // the directory's group is now OTHER_GID: as a supplementary group it gives write, without it no
    fs.chownSync(dir, 0, OTHER_GID);
    let r = cliAs(fwd, GID, [GID, OTHER_GID], ['config', 'save', path.join(dir, 'supp.yaml')]);
    assert.equal(r.status, 0, r.stderr);
    r = cliAs(fwd, GID, [], ['config', 'save', path.join(dir, 'nogroup.yaml')]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /cannot write to the directory/);
    assert.ok(!fs.existsSync(path.join(dir, 'nogroup.yaml')));
    const rr = dpfwdCli(fwd, ['config', 'save', tool]);
    assert.equal(rr.status, 0, rr.stderr);
    assert.deepEqual([stat(tool).uid, stat(tool).mode], [0, '755']);
  });
});
