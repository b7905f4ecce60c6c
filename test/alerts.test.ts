/**
 * deploy/prometheus/dpfwd-alerts.yml: valid rules (`promtool check rules`), each alert firing on the
 * series it is about and silent otherwise (`promtool test rules` with test/fixtures/dpfwd-alerts.test.yml),
 * and referenced by prometheus.yml. test/metrics.test.ts loads them into a real Prometheus.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { ROOT } from './helpers/forwarder';

const RULES = path.join(ROOT, 'deploy', 'prometheus', 'dpfwd-alerts.yml');

function promtool(...args: string[]) {
  if (spawnSync('promtool', ['--version']).status !== 0) throw new Error('promtool missing: apt-get install -y prometheus (scripts/setup.sh does)');
  return spawnSync('promtool', args, { encoding: 'utf8', cwd: ROOT });
}

describe('deploy/prometheus alert rules', () => {
  const alerts = parseYaml(fs.readFileSync(RULES, 'utf8')).groups.flatMap((g: any) => g.rules.map((r: any) => r.alert)) as string[];

  it('promtool check rules accepts them; they cover worker down, drops by reason, punt limited, missed', () => {
    const r = promtool('check', 'rules', RULES);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`SUCCESS: ${alerts.length} rules found`));
    for (const a of ['DpfwdWorkerDown', 'DpfwdDropsRising', 'DpfwdPuntLimited', 'DpfwdMissed']) assert.ok(alerts.includes(a), a);
  });

  it('promtool test rules: every alert fires on its case and is silent before (each one has a case)', () => {
    const fixture = path.join(ROOT, 'test', 'fixtures', 'dpfwd-alerts.test.yml');
    const r = promtool('test', 'rules', fixture);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const tested = new Set(
      parseYaml(fs.readFileSync(fixture, 'utf8')).tests.flatMap((t: any) =>
        t.alert_rule_test.filter((x: any) => x.exp_alerts.length).map((x: any) => x.alertname),
      ),
    );
    assert.deepEqual([...tested].sort(), [...alerts].sort());
  });

  it('a rule that cannot fire is caught: the same cases fail against a raised threshold', () => {
    const dir = fs.mkdtempSync(path.join(ROOT, 'test', 'fixtures', 'tmp-'));
    try {
      fs.mkdirSync(path.join(dir, 'a'));
      fs.writeFileSync(path.join(dir, 'rules.yml'), fs.readFileSync(RULES, 'utf8').replace('[5m])) > 100', '[5m])) > 1000'));
      fs.writeFileSync(
        path.join(dir, 'a', 't.yml'),
        fs
          .readFileSync(path.join(ROOT, 'test', 'fixtures', 'dpfwd-alerts.test.yml'), 'utf8')
          .replace('../../deploy/prometheus/dpfwd-alerts.yml', '../rules.yml'),
      );
      const r = promtool('test', 'rules', path.join(dir, 'a', 't.yml'));
      assert.notEqual(r.status, 0);
      assert.match(r.stdout + r.stderr, /DpfwdDropsRising/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prometheus.yml loads them (promtool check config)', () => {
    const r = promtool('check', 'config', path.join(ROOT, 'deploy', 'prometheus', 'prometheus.yml'));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS: 1 rule files found/);
  });
});
