/**
 * The one route on real forwarders (net_null ports): 2000 random routes given as CLI words
 * (`dpfwd -b`: ECMP with weights, blackholes, VLAN interfaces, static neighbours), then
 * `route show -j` → `config save` → restart → `route show -j` is identical, and a weight changed
 * in the saved file is what `config diff` prints and what `reload` applies.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { dpfwdCli, dpfwdJson, Running, startForwarder, tmpDir } from './helpers/forwarder';

describe('route show -j → config save → restart → route show -j', function () {
  this.timeout(240000);
  const ports = [
    { name: 'west', device: 'net_null0,no-rx=1', address: '10.1.0.1/24' },
    { name: 'east', device: 'net_null1,no-rx=1', address: '10.2.0.1/24' },
  ];

  it('2000 random routes come back the same; a changed weight is a diff and reload applies it', async () => {
    const dir = tmpDir('route-save');
    let first: Running | undefined = await startForwarder({ eal: { lcores: '0-1' }, ports, fib: { maxNexthops: 8192, maxGroups: 4096 } }, { dir });
    let second: Running | undefined;
    try {
      let seed = 1919;
      const rnd = (n: number) => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return (seed >>> 8) % n;
      };
      const lines = [
        'interface add west.100 vlan 100',
        'interface add east.200 vlan 200 mtu 1400',
        'address add 10.100.0.1/24 port west.100',
        'address add 10.200.0.1/24 port east.200',
      ];
      const subnets = [
        ['west', '10.1.0'],
        ['east', '10.2.0'],
        ['west.100', '10.100.0'],
        ['east.200', '10.200.0'],
      ];
      const gw = () => {
        const [port, net] = subnets[rnd(subnets.length)];
        return { port, via: `${net}.${2 + rnd(40)}` };
      };
      for (let k = 0; k < 20; k++) {
        const g = gw();
        lines.push(`neighbor add ${g.via} lladdr 02:00:00:00:${(k + 16).toString(16)}:01 dev ${g.port}`);
      }
      const seen = new Set<string>();
      while (seen.size < 2000) {
        const len = 8 + rnd(25);
        const top = 20 + rnd(180);
        if (top === 127) continue;
        const addr = ((top * 2 ** 24 + rnd(2 ** 24)) & ~(2 ** (32 - len) - 1)) >>> 0;
        const prefix = `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}/${len}`;
        if (seen.has(prefix)) continue;
        seen.add(prefix);
        const kind = rnd(10);
        if (kind === 0) lines.push(`route add ${prefix} blackhole`);
        else if (kind === 1) lines.push(`route add ${prefix} dev ${subnets[rnd(4)][0]}`);
        else if (kind < 5) {
          const g = gw();
          lines.push(`route add ${prefix} via ${g.via}${rnd(2) ? ` dev ${g.port}` : ''}`);
        } else {
          const paths = new Map<string, string>();
          for (let n = 2 + rnd(4); paths.size < n;) {
            const g = gw();
            const key = rnd(6) === 0 ? `dev ${g.port}` : g.via;
            paths.set(key, `nexthop ${key === g.via ? `via ${g.via}${rnd(2) ? ` dev ${g.port}` : ''}` : key}${rnd(3) ? ` weight ${1 + rnd(256)}` : ''}`);
          }
          lines.push(`route add ${prefix} ${[...paths.values()].join(' ')}`);
        }
      }
      fs.writeFileSync(path.join(dir, 'batch'), `${lines.join('\n')}\n`);
      const b = dpfwdCli(first, ['-b', path.join(dir, 'batch')], 120000);
      assert.equal(b.status, 0, b.stderr);
      const show = (fwd: Running) => {
        const r = dpfwdCli(fwd, ['route', 'show', '-j'], 60000);
        assert.equal(r.status, 0, r.stderr);
        return JSON.parse(r.stdout) as { dst: string; nexthops?: { weight: number }[] }[];
      };
      const before = show(first);
      assert.ok(before.length > 2000 && before.filter((r) => r.nexthops).length > 900);
      assert.equal(dpfwdJson(first, ['config', 'save']).file, path.join(dir, 'dpfwd.yaml'));
      assert.equal((await first.stop()).code, 0);
      first = undefined;
      const saved = fs.readFileSync(path.join(dir, 'dpfwd.yaml'), 'utf8');
      second = await startForwarder(parse(saved), { dir });
      assert.deepEqual(show(second), before);
      // one weight changed in the file: config diff says which route, reload applies it
      const r = before.find((x) => x.nexthops)!;
      const at = saved.indexOf(`prefix: ${r.dst}`);
      const m = /weight: (\d+)/.exec(saved.slice(at))!;
      const to = m[1] === '7' ? 8 : 7;
      fs.writeFileSync(path.join(dir, 'dpfwd.yaml'), `${saved.slice(0, at + m.index)}weight: ${to}${saved.slice(at + m.index + m[0].length)}`);
      const diff = dpfwdCli(second, ['config', 'diff']);
      const changed = diff.stdout.split('\n').filter((l) => /^[-+] route /.test(l));
      assert.equal(changed.length, 2, diff.stdout);
      assert.ok(
        changed[0].startsWith(`- route ${r.dst} nexthop`) && changed[1].startsWith(`+ route ${r.dst} nexthop`) && changed[1].includes(`weight ${to}`),
        diff.stdout,
      );
      const reload = dpfwdCli(second, ['reload']);
      assert.equal(reload.status, 0, reload.stderr);
      const after = show(second);
      assert.ok(after.find((x) => x.dst === r.dst)!.nexthops!.some((p) => p.weight === to));
      assert.deepEqual(
        after.filter((x) => x.dst !== r.dst),
        before.filter((x) => x.dst !== r.dst),
        'every other route as it was',
      );
      assert.equal(after.length, before.length);
      assert.equal(dpfwdCli(second, ['config', 'diff']).stdout, `running configuration and ${path.join(dir, 'dpfwd.yaml')} are the same\n`);
    } finally {
      if (first) await first.stop();
      if (second) assert.equal((await second.stop()).code, 0, second.stderr());
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
