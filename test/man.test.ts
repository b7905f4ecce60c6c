/**
 * docs/man/dpfwd.1 is generated from the CLI's own yargs help (scripts/man.js), so the manual and
 * `dpfwd --help` are one source: the committed page must be what the script makes now, and groff
 * must read it without a warning.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from './helpers/forwarder';

describe("man page: dpfwd(1) from the CLI's help", function () {
  this.timeout(120000);
  const PAGE = path.join(ROOT, 'docs', 'man', 'dpfwd.1');

  it('is current (node scripts/man.js writes it)', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'man.js'), '--print'], { encoding: 'utf8', timeout: 110000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.readFileSync(PAGE, 'utf8'), r.stdout, 'docs/man/dpfwd.1 is stale: run node scripts/man.js');
  });

  it('has a section per command with its options, and groff reads it without warnings', () => {
    const text = fs.readFileSync(PAGE, 'utf8');
    for (const c of ['run', 'route', 'neighbor', 'config', 'capture', 'top', 'doctor']) assert.match(text, new RegExp(`^\\.SS dpfwd ${c}$`, 'm'), c);
    assert.match(text, /--dry-run/);
    const g = spawnSync('groff', ['-k', '-man', '-Tutf8', '-ww', '-z', PAGE], { encoding: 'utf8' });
    assert.equal(g.status, 0);
    assert.equal(g.stderr, '', 'no groff warnings');
  });

  it('is installed where man finds it by both install paths: the image and the systemd steps in docs/deploy.md', () => {
    const image = fs.readFileSync(path.join(ROOT, 'deploy', 'Containerfile'), 'utf8');
    assert.match(image, /^COPY docs\/man\/dpfwd\.1 \/usr\/local\/share\/man\/man1\/dpfwd\.1$/m);
    const deploy = fs.readFileSync(path.join(ROOT, 'docs', 'deploy.md'), 'utf8');
    assert.match(deploy, /^install -D -m 0644 docs\/man\/dpfwd\.1 \/usr\/local\/share\/man\/man1\/dpfwd\.1/m);
  });
});
