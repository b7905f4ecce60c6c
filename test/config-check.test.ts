/**
 * `dpfwd config check FILE`, `dpfwd run --dry-run` and `dpfwd doctor --config`: every problem
 * `run` refuses a file for, found without starting (no EAL init), from one computation; the
 * hugepage need is what DPDK then really takes. And the JSON Schema for editors, generated from
 * the key table: current, and the example configs valid against it (python3-jsonschema, an
 * independent validator).
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments, stringify } from 'yaml';
import { CONFIG_KEYS } from '../src/config/keys';
import { configSchema, configSchemaText } from '../src/config/schema';
import { DPFWD, ROOT, startForwarder, tmpDir } from './helpers/forwarder';

function dpfwd(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [DPFWD, ...args], { encoding: 'utf8', timeout: 60000, env: { ...process.env, ...env } });
}

const PORTS = (dir: string) => ({
  eal: { lcores: '0-1' },
  ports: [
    { name: 'west', device: 'net_null0', address: '10.1.0.1/24' },
    { name: 'east', device: 'net_null1,no-rx=1', address: '10.2.0.1/24' },
  ],
  metrics: false,
  control: { socket: path.join(dir, 'dpfwd.sock') },
});

describe('dpfwd config check / run --dry-run / doctor --config', function () {
  this.timeout(120000);
  let dir: string;
  const file = (name: string, cfg: unknown) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, typeof cfg === 'string' ? cfg : stringify(cfg));
    return f;
  };
  before(() => {
    dir = tmpDir('check');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("README's file with three key errors: config check lists all three (exit 1); doctor --config FAILs each", () => {
    const bad = file(
      'bad.yaml',
      'eal: { lcores: "0-1" }\nports:\n  - { name: west, device: net_null0, address: 10.1.0.1/33 }\n  - { name: West, device: net_null1, address: 10.2.0.1/24 }\nrouts: []\n',
    );
    const r = dpfwd(['config', 'check', bad]);
    assert.equal(r.status, 1, r.stderr);
    for (const e of [
      /^routs: unknown key; did you mean routes\?/m,
      /^ports\[0\]\.address: 10\.1\.0\.1\/33 is not an IPv4 prefix$/m,
      /^ports\[1\]\.name: "West" is not a valid port name/m,
    ])
      assert.match(r.stderr, e);
    assert.match(r.stderr, /bad\.yaml: 3 errors \(dpfwd run would refuse this file\)/);
    const doc = dpfwd(['doctor', '--config', bad, '-j']);
    assert.equal(doc.status, 1, doc.stderr);
    const report = JSON.parse(doc.stdout);
    assert.equal(report.checks.filter((c: { name: string; status: string }) => c.name === 'config' && c.status === 'FAIL').length, 3, doc.stdout);
    assert.ok(report.summary.fail >= 3);
  });

  it('hugepages: the real need of the config (FIB and mbuf pool), refused by check, --dry-run and run alike; doctor says the same need', () => {
    // 16M tbl8 groups: 16 GiB of FIB, more than any test machine reserves
    const f = file('huge.yaml', { ...PORTS(dir), fib: { maxRoutes: 4000000, tbl8Groups: 16000000 } });
    const check = dpfwd(['config', 'check', f]);
    assert.equal(check.status, 1);
    const m = /^hugepages: \d+ MiB free of \d+ MiB reserved, this config needs (\d+) MiB \(.*FIB tbl8 \(fib\.tbl8Groups 16000000\) 15\d\d\d MiB/m.exec(
      check.stderr,
    );
    assert.ok(m, check.stderr);
    const need = Number(m[1]);
    assert.ok(need > 16000 && need < 16500, `need ${need} MiB`);
    const dry = dpfwd(['run', '--dry-run', '--config', f]);
    assert.equal(dry.status, 1);
    assert.match(dry.stderr, new RegExp(`this config needs ${need} MiB`));
    const run = dpfwd(['run', '--config', f]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, new RegExp(`dpfwd: hugepages: .*this config needs ${need} MiB`));
    assert.doesNotMatch(run.stderr, /EAL arguments/, 'refused before EAL init');
    const doc = JSON.parse(dpfwd(['doctor', '--config', f, '-j']).stdout);
    const hp = doc.checks.find((c: { name: string }) => c.name === 'hugepages');
    assert.equal(hp.status, 'FAIL');
    assert.match(hp.message, new RegExp(` ${need} MiB needed \\(by this config: .*FIB tbl8`));
    // eal.hugepagesMiB below the need: DPDK would run out half-way
    const capped = dpfwd(['config', 'check', file('capped.yaml', { ...PORTS(dir), eal: { lcores: '0-1', hugepagesMiB: 64 } })]);
    assert.equal(capped.status, 1);
    assert.match(capped.stderr, /^eal\.hugepagesMiB: 64 MiB caps DPDK below the \d+ MiB this config needs .*raise it to \d+ or remove it$/m);
  });

  it('the need is what DPDK takes: at least the hugepages a running forwarder holds, and not much more', async () => {
    for (const extra of [
      {},
      {
        ports: [
          { name: 'west', device: 'net_null0', address: '10.1.0.1/24', mtu: 9000, rxDescriptors: 4096 },
          { name: 'east', device: 'net_null1,no-rx=1', address: '10.2.0.1/24' },
        ],
        fib: { maxRoutes: 4000000, tbl8Groups: 200000 },
      },
    ]) {
      const cfg = { ...PORTS(dir), ...extra };
      const j = dpfwd(['config', 'check', '-j', file('need.yaml', cfg)]);
      assert.equal(j.status, 0, j.stderr);
      const need = JSON.parse(j.stdout).hugepages.needMiB;
      const fwd = await startForwarder(cfg);
      try {
        const held = Number(/^HugetlbPages:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${fwd.proc.pid}/status`, 'utf8'))![1]) / 1024;
        assert.ok(need >= held, `estimated ${need} MiB, DPDK holds ${held} MiB`);
        assert.ok(need <= held * 1.05 + 16, `estimated ${need} MiB, DPDK holds ${held} MiB: too generous`);
      } finally {
        assert.equal((await fwd.stop()).code, 0);
      }
    }
  });

  it('devices: an unknown vdev driver and a PCI address not on this host are named with the fix, before EAL init', () => {
    const f = file('dev.yaml', {
      ...PORTS(dir),
      ports: [
        { name: 'west', device: 'net_afpacket0,iface=lo' },
        { name: 'east', device: '0000:3b:02.7' },
      ],
    });
    for (const args of [
      ['config', 'check', f],
      ['run', '--config', f],
    ]) {
      const r = dpfwd(args);
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        /ports\[0\]\.device: net_afpacket0: DPDK has no virtual device driver net_afpacket; did you mean net_af_packet0\? \(installed here: .*net_af_packet.*\)/,
      );
      assert.match(r.stderr, /ports\[1\]\.device: PCI device 0000:3b:02\.7 does not exist on this host: 'dpfwd sriov show' lists the functions that exist/);
      assert.doesNotMatch(r.stderr, /EAL arguments|failed to parse device|see the log above/);
    }
  });

  it('run as a non-root user: the socket directory and a port it cannot open are said to be for want of root, with the ways out', () => {
    fs.chmodSync(dir, 0o777);
    const asNobody = (f: string) =>
      spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, DPFWD, 'run', '--config', f], { encoding: 'utf8', timeout: 60000 });
    const { control: _c, ...noSocket } = PORTS(dir);
    const f1 = file('nobody1.yaml', noSocket);
    fs.chmodSync(f1, 0o644);
    const r1 = asNobody(f1);
    assert.equal(r1.status, 1, r1.stderr);
    assert.match(
      r1.stderr,
      /cannot create its directory \/run\/dpfwd \(EACCES\).*\n  dpfwd runs as uid 65534, not root: .*af_packet: CAP_NET_RAW.*Run it with sudo, as the systemd service/,
    );
    const f2 = file('nobody2.yaml', {
      ...PORTS(dir),
      ports: [
        { name: 'west', device: 'net_af_packet0,iface=lo' },
        { name: 'east', device: 'net_null1,no-rx=1' },
      ],
    });
    fs.chmodSync(f2, 0o644);
    const r2 = asNobody(f2);
    assert.equal(r2.status, 1, r2.stderr);
    assert.match(r2.stderr, /\n  dpfwd runs as uid 65534, not root: .*af_packet: CAP_NET_RAW/);
  });

  it('a good file: OK with its need by part, exit 0; run --dry-run starts nothing', () => {
    const f = file('good.yaml', { ...PORTS(dir), routes: [{ prefix: '10.20.0.0/16', via: '10.2.0.2' }] });
    const r = dpfwd(['config', 'check', f]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /good\.yaml: OK: 2 ports, 1 workers, 1 routes; hugepages: needs \d+ MiB, \d+ MiB free of \d+ MiB reserved\n/);
    assert.match(r.stdout, /^\s+64 MiB  FIB tbl24 \(fixed\)$/m);
    const dry = dpfwd(['run', '--dry-run', '-c', f]);
    assert.equal(dry.status, 0, dry.stderr);
    assert.equal(dry.stdout, r.stdout);
    assert.doesNotMatch(dry.stderr, /EAL|control socket/);
    assert.ok(!fs.existsSync(path.join(dir, 'dpfwd.sock')), 'no control socket: nothing started');
  });
});

describe('docs/dpfwd.schema.json (JSON Schema from the key table)', () => {
  const SCHEMA = path.join(ROOT, 'docs', 'dpfwd.schema.json');

  it('is current: what `dpfwd config schema` prints (npm run schema writes it)', () => {
    assert.equal(fs.readFileSync(SCHEMA, 'utf8'), configSchemaText(), 'run npm run schema');
    const r = dpfwd(['config', 'schema']);
    assert.equal(r.stdout, configSchemaText());
  });

  it('has every key of the table, typed, with its default', () => {
    const s = configSchema() as { properties: Record<string, any> };
    for (const [section, { keys }] of Object.entries(CONFIG_KEYS)) {
      let sec = s.properties[section];
      sec = sec.anyOf?.find((x: any) => x.type) ?? sec;
      const props = (sec.items ?? sec).properties;
      for (const [k, row] of Object.entries(keys as Record<string, { def: unknown }>)) {
        const p = props[k];
        assert.ok(p && (p.type || p.anyOf || p.enum), `${section}.${k} has a type`);
        if (row.def !== undefined) assert.deepEqual(p.default, row.def, `${section}.${k} default`);
      }
    }
  });

  /** Validates YAML documents against the schema with python3-jsonschema; returns the errors per document. */
  function validate(docs: { name: string; value: unknown }[]): Record<string, string[]> {
    const py = `import json,sys,jsonschema
s=json.load(open(sys.argv[1])); v=jsonschema.Draft202012Validator(s); jsonschema.Draft202012Validator.check_schema(s)
print(json.dumps({d['name']:[e.message for e in v.iter_errors(d['value'])] for d in json.load(sys.stdin)}))`;
    const r = spawnSync('/usr/bin/python3', ['-c', py, SCHEMA], { input: JSON.stringify(docs), encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stderr} (apt-get install python3-jsonschema; scripts/setup.sh does)`);
    return JSON.parse(r.stdout);
  }

  it("the example configs, the K8s ConfigMap and README's config validate; misspelt keys and wrong types do not", () => {
    const docs: { name: string; value: unknown }[] = [];
    for (const f of fs.readdirSync(path.join(ROOT, 'examples')).filter((x) => x.endsWith('.yaml'))) {
      docs.push({ name: `examples/${f}`, value: parseAllDocuments(fs.readFileSync(path.join(ROOT, 'examples', f), 'utf8'))[0].toJS() });
    }
    const cm = parseAllDocuments(fs.readFileSync(path.join(ROOT, 'deploy', 'k8s', 'configmap.yaml'), 'utf8'))
      .map((d) => d.toJS())
      .find((d) => d?.kind === 'ConfigMap');
    docs.push({ name: 'configmap', value: parseAllDocuments(cm.data['dpfwd.yaml'])[0].toJS() });
    const readme = /```yaml\n(eal:[\s\S]*?)```/.exec(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    assert.ok(readme, "README's configuration");
    docs.push({ name: 'README', value: parseAllDocuments(readme[1])[0].toJS() });
    docs.push({ name: 'metrics-off', value: { ports: [{ name: 'a', device: 'net_null0' }], metrics: false, workers: 'auto' } });
    docs.push({ name: 'typo', value: { ports: [{ name: 'a', device: 'net_null0' }], routs: [] } });
    docs.push({ name: 'type', value: { ports: [{ name: 'a', device: 'net_null0', mtu: '1500' }], arp: { probez: 3 } } });
    const errs = validate(docs);
    for (const d of docs.slice(0, -2)) assert.deepEqual(errs[d.name], [], d.name);
    assert.ok(
      errs.typo.some((e) => /'routs' was unexpected/.test(e)),
      errs.typo.join('\n'),
    );
    assert.ok(
      errs.type.some((e) => /'1500' is not of type 'integer'/.test(e)),
      errs.type.join('\n'),
    );
    assert.ok(
      errs.type.some((e) => /'probez' was unexpected/.test(e)),
      errs.type.join('\n'),
    );
  });
});
