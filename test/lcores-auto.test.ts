/**
 * `eal.lcores: auto` takes the CPUs the process may run on (its affinity mask, as taskset, systemd's
 * CPUAffinity= or a pod's cpuset set it), and `dpfwd doctor` checks configured lcores against them.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cpuListString, cpusAllowed, lcoresOutside } from '../src/host/cpus';
import { runDoctor } from '../src/sriov/doctor';
import { FakeHost } from './helpers/fakesysfs';
import { DPFWD, ROOT, startForwarder } from './helpers/forwarder';

const STATUS = (list: string) => `Name:\tnode\nCpus_allowed:\tff\nCpus_allowed_list:\t${list}\nCapEff:\t000001ffffffffff\n`;

/** Validates a config in a child process pinned to `cpus`: its lcores, or its error. */
function validateUnder(cpus: string, lcores: unknown): { lcores?: string; workers?: number[]; error?: string } {
  const cfg = JSON.stringify({
    eal: { lcores },
    ports: [
      { name: 'a', device: 'net_null0' },
      { name: 'b', device: 'net_null1' },
    ],
    metrics: { listen: false },
  });
  const js = `const { parseConfig } = require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'config'))});
    try { const c = parseConfig(${JSON.stringify(cfg)}, 't.yaml'); console.log(JSON.stringify({ lcores: c.eal.lcores, workers: c.eal.workerLcores })); }
    catch (e) { console.log(JSON.stringify({ error: e.message })); }`;
  const r = spawnSync('taskset', ['-c', cpus, process.execPath, '-e', js], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('eal.lcores: auto', () => {
  it('parses Cpus_allowed_list and prints CPU lists as taskset does', () => {
    assert.deepEqual(cpusAllowed(STATUS('0-3,8,10-11')), [0, 1, 2, 3, 8, 10, 11]);
    assert.equal(cpusAllowed('Name:\tx\n'), null);
    assert.equal(cpuListString([0, 1, 2, 3, 8, 10, 11]), '0-3,8,10-11');
    assert.equal(lcoresOutside([0, 1], [0, 1, 2]), null);
    assert.match(lcoresOutside([2, 3], [0, 1])!, /^lcores 2-3 are outside the CPUs this process may run on \(0-1\)/);
  });

  it('takes the affinity mask: the first CPU is the main lcore, the rest are workers', function () {
    if (os.cpus().length < 2) this.skip(); // the test machines have 2 or more; say so if not
    assert.deepEqual(validateUnder('0-1', 'auto'), { lcores: '0-1', workers: [1] });
  });

  it('refuses a single CPU, naming how to widen the set', () => {
    const r = validateUnder('1', 'auto');
    assert.match(r.error!, /eal\.lcores: auto: this process may run on CPU 1 only; dpfwd needs at least 2 .*taskset, CPUAffinity=, the pod's CPU request/);
  });

  it('dpfwd run with lcores: auto passes the CPUs it may run on to EAL, the second one polls', async function () {
    this.timeout(60000);
    const fwd = await startForwarder({ eal: { lcores: 'auto' }, ports: [{ name: 'west', device: 'net_null0,no-rx=1' }] });
    try {
      const mine = cpusAllowed(fs.readFileSync('/proc/self/status', 'utf8'))!;
      assert.match(fwd.stderr(), new RegExp(`EAL arguments: -l ${cpuListString(mine)} --main-lcore ${mine[0]} `), fwd.stderr());
      const w = await fwd.call('show.workers');
      assert.equal(w[0].lcore, mine[1]);
    } finally {
      assert.equal((await fwd.stop()).code, 0);
    }
  });
});

describe('doctor: lcores against the CPUs the process may run on', () => {
  let h: FakeHost;
  before(() => {
    h = new FakeHost();
  });
  after(() => h.cleanup());
  const cfg = (lcores?: string) => ({ ports: [{ name: 'a', device: 'net_null0' }], hugepagesMiB: 64, ...(lcores ? { lcores } : {}) });
  const check = (lcores: string | undefined, allowed: string) =>
    runDoctor({ root: h.root, env: {}, config: cfg(lcores), procStatus: STATUS(allowed) }).checks.filter((c) => c.name === 'lcores');

  it('OK inside the mask, FAIL outside it with the fix, auto shown as what it takes', () => {
    assert.deepEqual(
      check('2-3', '2-5').map((c) => c.status),
      ['OK'],
    );
    const bad = check('2-3', '0-1')[0];
    assert.equal(bad.status, 'FAIL');
    assert.match(bad.message, /eal\.lcores "2-3": lcores 2-3 are outside the CPUs this process may run on \(0-1\)/);
    assert.match(bad.fix!, /lcores: auto/);
    assert.equal(check(undefined, '4-7')[0].status, 'FAIL', 'the default 0-1 is checked too');
    assert.match(check('auto', '4-7')[0].message, /auto: main lcore 4, workers 5-7/);
    assert.equal(check('auto', '4')[0].status, 'FAIL');
  });

  it('no config or no Cpus_allowed_list: no lcores check', () => {
    assert.equal(runDoctor({ root: h.root, env: {}, procStatus: STATUS('0-1') }).checks.filter((c) => c.name === 'lcores').length, 0);
    assert.equal(runDoctor({ root: h.root, env: {}, config: cfg('0-1'), procStatus: 'CapEff:\t0\n' }).checks.filter((c) => c.name === 'lcores').length, 0);
  });

  it('CLI: dpfwd doctor --config under taskset fails on lcores outside the mask', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpfwd-lcores-'));
    try {
      const file = path.join(dir, 'dpfwd.yaml');
      fs.writeFileSync(file, 'eal:\n  lcores: "0-1"\nports:\n  - { name: a, device: net_null0 }\n');
      const r = spawnSync('taskset', ['-c', '1', process.execPath, DPFWD, 'doctor', '--config', file], { encoding: 'utf8' });
      assert.match(r.stdout, /^FAIL\s+lcores\s+eal\.lcores "0-1": lcore 0 is outside the CPUs this process may run on \(1\)/m, r.stdout);
      assert.equal(r.status, 1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
