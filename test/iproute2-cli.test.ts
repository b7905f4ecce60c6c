/**
 * iproute2's habits against a running forwarder (two net_null ports): the words (default, a bare
 * address, add/replace/del/delete/list/ls/get/flush, neigh … lladdr … dev, nexthop show), -j and
 * -p anywhere, route show's selectors and its explicit limit, batch mode, and the same JSON from
 * add as from show. Every command goes through the real `dpfwd` binary.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { DPFWD, dpfwdCli, Running, startForwarder, tmpDir, waitFor } from './helpers/forwarder';
import { keywordsAfter } from '../src/cli/index';

describe('dpfwd CLI: iproute2 habits', function () {
  this.timeout(120000);
  let fwd: Running;
  let dir: string;
  const cli = (...args: string[]) => dpfwdCli(fwd, args);
  const ok = (...args: string[]) => {
    const r = cli(...args);
    assert.equal(r.status, 0, `dpfwd ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const json = (...args: string[]) => JSON.parse(ok(...args, '-j'));
  const statics = () => json('route', 'show', 'proto', 'static').map((r: { dst: string }) => r.dst);

  before(async () => {
    dir = tmpDir('ip2');
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
    if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('-j and -p anywhere on the line; -p indents', () => {
    const a = ok('-j', 'route', 'show');
    const b = ok('route', '-j', 'show');
    assert.equal(a, b);
    assert.ok(Array.isArray(JSON.parse(a)) && !a.includes('\n '), 'compact JSON');
    const p = ok('route', 'show', '-p');
    assert.deepEqual(JSON.parse(p), JSON.parse(a));
    assert.match(p, /^\[\n  \{\n    "dst": "10\.1\.0\.0\/24",/);
    assert.deepEqual(JSON.parse(ok('-json', 'route', 'list')), JSON.parse(a), "iproute2's one-dash -json");
  });

  it('route add default; a bare address is a host route; add and replace change an existing prefix; del/delete', () => {
    ok('route', 'add', 'default', 'via', '10.1.0.254');
    ok('route', 'add', '10.9.9.9', 'dev', 'east');
    assert.deepEqual(statics(), ['0.0.0.0/0', '10.9.9.9/32']);
    ok('route', 'add', 'default', 'via', '10.2.0.254');
    assert.equal(json('route', 'show', 'default')[0].gateway, '10.2.0.254');
    ok('route', 'replace', 'default', 'via', '10.1.0.254');
    assert.equal(json('route', 'show', 'default')[0].gateway, '10.1.0.254');
    ok('route', 'replace', '10.8.0.0/16', 'blackhole');
    ok('route', 'delete', 'default');
    ok('route', 'del', '10.9.9.9');
    ok('route', 'del', '10.8.0.0/16');
    assert.deepEqual(statics(), []);
  });

  it('route add -j and neigh add -j answer with the object show -j lists for that entry', () => {
    const added = json('route', 'add', '10.20.0.0/16', 'via', '10.2.0.2');
    assert.deepEqual(added, { dst: '10.20.0.0/16', gateway: '10.2.0.2', dev: 'east', protocol: 'static', type: 'unicast', lladdr: null });
    assert.deepEqual(json('route', 'show', '10.20.0.0/16'), [added]);
    const n = json('neigh', 'add', '10.2.0.2', 'lladdr', '02:00:00:00:02:02', 'dev', 'east');
    assert.deepEqual(
      json('neighbor', 'show').filter((x: { dst: string }) => x.dst === '10.2.0.2'),
      [n],
    );
    assert.deepEqual(n, { dst: '10.2.0.2', dev: 'east', lladdr: '02:00:00:00:02:02', state: ['PERMANENT'] });
    ok('n', 'del', '10.2.0.2', 'dev', 'east');
    assert.deepEqual(json('neighbour', 'ls'), []);
    ok('neigh', 'replace', '10.2.0.2', 'lladdr', '02:00:00:00:02:02', 'dev', 'east', 'nud', 'permanent');
    const bad = cli('neigh', 'add', '10.2.0.3', 'lladdr', '02:00:00:00:02:03', 'dev', 'east', 'junk');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^dpfwd: neighbor add: unexpected 'junk'/);
  });

  it('route show selectors: PREFIX (exact), match ADDR, root PREFIX, dev, via, proto; junk is an error', () => {
    ok('route', 'add', '10.20.1.0/24', 'via', '10.2.0.2');
    ok('route', 'add', '10.30.0.0/16', 'dev', 'west');
    ok('route', 'add', '10.99.0.0/16', 'blackhole');
    const dsts = (...w: string[]) => json('route', 'show', ...w).map((r: { dst: string }) => r.dst);
    assert.deepEqual(dsts('10.20.0.0/16'), ['10.20.0.0/16']);
    assert.deepEqual(dsts('match', '10.20.1.7'), ['10.20.0.0/16', '10.20.1.0/24']);
    assert.deepEqual(dsts('root', '10.20.0.0/16'), ['10.20.0.0/16', '10.20.1.0/24']);
    assert.deepEqual(dsts('dev', 'west'), ['10.1.0.0/24', '10.30.0.0/16']);
    assert.deepEqual(dsts('via', '10.2.0.2', 'proto', 'static'), ['10.20.0.0/16', '10.20.1.0/24']);
    assert.deepEqual(dsts('proto', 'local'), ['10.1.0.1/32', '10.2.0.1/32']);
    assert.equal(
      ok('route', 'show', 'root', '10.20.0.0/16', 'dev', 'east'),
      '10.20.0.0/16 via 10.2.0.2 port east proto static lladdr 02:00:00:00:02:02\n10.20.1.0/24 via 10.2.0.2 port east proto static lladdr 02:00:00:00:02:02\n',
    );
    const junk = cli('route', 'show', '10.20.0.0/16', 'junk');
    assert.equal(junk.status, 1);
    assert.match(junk.stderr, /^dpfwd: route show: unexpected 'junk'; selectors are PREFIX, match ADDR, root PREFIX, dev PORT, via ADDR, proto ORIGIN\n$/);
    assert.deepEqual(dsts('proto', 'bgp'), [], 'a protocol synced routes may show: none here');
    assert.match(
      cli('route', 'show', 'proto', 'nonsense').stderr,
      /^dpfwd: proto nonsense: routes come from static, connected, local, neighbor, linux, or \(synced from Linux\) a protocol iproute2 names/,
    );
    assert.match(cli('route', 'show', 'dev', 'north').stderr, /^dpfwd: unknown port north; ports are: west, east\n$/);
  });

  it('route get: the matching route, next hop and neighbour state; no route is an error naming the drop', () => {
    assert.equal(
      ok('route', 'get', '10.20.1.7'),
      '10.20.1.7 via 10.2.0.2 port east proto static lladdr 02:00:00:00:02:02 PERMANENT\n    route 10.20.1.0/24 nexthop ' +
        `${json('route', 'get', '10.20.1.7')[0].nexthop}\n`,
    );
    const [g] = json('route', 'get', '10.20.200.1');
    assert.deepEqual(
      { ...g, nexthop: 0 },
      {
        dst: '10.20.200.1',
        prefix: '10.20.0.0/16',
        gateway: '10.2.0.2',
        dev: 'east',
        protocol: 'static',
        type: 'unicast',
        lladdr: '02:00:00:00:02:02',
        state: ['PERMANENT'],
        nexthop: 0,
      },
    );
    const [c] = json('route', 'get', '10.1.0.77');
    assert.deepEqual([c.prefix, c.type, c.dev, c.lladdr, c.state], ['10.1.0.0/24', 'unicast', 'west', null, ['NONE']]);
    assert.equal(json('route', 'get', '10.99.3.3')[0].type, 'blackhole');
    assert.equal(json('route', 'get', '10.1.0.1')[0].type, 'local');
    const none = cli('route', 'get', '192.0.2.1');
    assert.equal(none.status, 1);
    assert.match(none.stderr, /^dpfwd: no route to 192\.0\.2\.1: it is dropped as no_route/);
  });

  it('nexthop show [id N]: ids, kind, port, gateway, refs, neighbour state', () => {
    const rows = json('nexthop', 'show');
    const gw = rows.find((h: { kind: string; gateway?: string }) => h.kind === 'gateway' && h.gateway === '10.2.0.2');
    // 10.20.0.0/16, 10.20.1.0/24 and the neighbour's host route 10.2.0.2/32
    assert.deepEqual(gw, { id: gw.id, kind: 'gateway', dev: 'east', gateway: '10.2.0.2', refs: 3, lladdr: '02:00:00:00:02:02', state: ['PERMANENT'] });
    assert.deepEqual(json('nh', 'show', 'id', String(gw.id)), [gw]);
    assert.equal(ok('nexthop', 'show', 'id', String(gw.id)), `id ${gw.id} via 10.2.0.2 port east refs 3 lladdr 02:00:00:00:02:02 PERMANENT\n`);
    assert.equal(rows.find((h: { kind: string }) => h.kind === 'drop').id, 0);
    // a multipath route's group: its members by id, with their weights
    ok('route', 'add', '10.40.0.0/16', 'nexthop', 'via', '10.2.0.2', 'nexthop', 'via', '10.2.0.3', 'weight', '3');
    const after = json('nexthop', 'show');
    const g = after.find((h: { kind: string }) => h.kind === 'group');
    const other = after.find((h: { kind: string; gateway?: string }) => h.kind === 'gateway' && h.gateway === '10.2.0.3');
    assert.deepEqual(g.group, [
      { id: gw.id, weight: 1 },
      { id: other.id, weight: 3 },
    ]);
    assert.equal(ok('nexthop', 'show', 'id', String(g.id)), `id ${g.id} group ${gw.id}/${other.id},3 refs 1\n`);
    assert.equal(json('route', 'get', '10.40.1.1')[0].nexthop, g.id);
    ok('route', 'del', '10.40.0.0/16');
    const none = cli('nexthop', 'show', 'id', '4000');
    assert.equal(none.status, 1);
    assert.equal(none.stderr, 'dpfwd: no next hop 4000 in use (dpfwd nexthop show lists them)\n');
  });

  it('neigh flush dev PORT | all: learned entries go, static ones stay unless nud permanent|all (as ip neigh flush)', async () => {
    const neigh = () =>
      (JSON.parse(ok('neigh', 'show', '-j')) as { dst: string; dev: string; state: string[] }[]).map((n) => `${n.dst} ${n.dev} ${n.state.join(',')}`).sort();
    const learned = (dev: string) => neigh().filter((n) => n.split(' ')[1] === dev && !n.endsWith('PERMANENT')).length;
    ok('neigh', 'add', '10.1.0.80', 'lladdr', '02:00:00:00:08:80', 'dev', 'west');
    ok('neigh', 'add', '10.2.0.80', 'lladdr', '02:00:00:00:08:81', 'dev', 'east');
    // multipath routes through gateways nobody answers for: dpfwd asks ARP for each member, so learned entries exist
    ok('route', 'add', '10.81.0.0/16', 'nexthop', 'via', '10.1.0.81', 'nexthop', 'via', '10.1.0.82');
    try {
      const west = await waitFor('learned entries on west', async () => learned('west') || undefined, 5000);
      const none = cli('neigh', 'flush');
      assert.equal(none.status, 1);
      assert.match(none.stderr, /missing argument: dev \(a port\), or all: true \(neighbor flush needs a selector/);
      const eastBefore = neigh().filter((n) => n.split(' ')[1] === 'east');
      const r = JSON.parse(ok('neigh', 'flush', 'dev', 'west', '-j'));
      assert.ok(r.flushed >= 1 && r.flushed <= west + 2, `flushed ${r.flushed} (west had ${west} learned)`);
      let now = neigh();
      assert.ok(now.includes('10.1.0.80 west PERMANENT'), `the static entry stays: ${now.join('\n')}`);
      assert.deepEqual(
        now.filter((n) => n.split(' ')[1] === 'east'),
        eastBefore,
        'another port is not touched',
      );
      ok('neigh', 'flush', 'all');
      now = neigh();
      assert.ok(now.includes('10.1.0.80 west PERMANENT') && now.includes('10.2.0.80 east PERMANENT'), now.join('\n'));
      const westStatic = neigh().filter((n) => n.split(' ')[1] === 'west' && n.endsWith('PERMANENT')).length;
      assert.equal(ok('neigh', 'flush', 'dev', 'west', 'nud', 'permanent'), `flushed ${westStatic} neighbour${westStatic === 1 ? '' : 's'}\n`);
      now = neigh();
      assert.ok(!now.includes('10.1.0.80 west PERMANENT') && now.includes('10.2.0.80 east PERMANENT'), now.join('\n'));
      assert.match(cli('neigh', 'flush', 'dev', 'north').stderr, /unknown port north; ports are: west, east/);
    } finally {
      ok('route', 'del', '10.81.0.0/16');
      cli('neigh', 'del', '10.1.0.80');
      cli('neigh', 'del', '10.2.0.80');
    }
  });

  it('route flush: needs a selector or all; deletes only the static routes it selects', () => {
    const r = cli('route', 'flush');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^dpfwd: missing argument: a selector/);
    assert.equal(ok('route', 'flush', 'root', '10.20.0.0/16'), 'flushed 2 static routes\n');
    assert.deepEqual(statics(), ['10.30.0.0/16', '10.99.0.0/16']);
    assert.match(cli('route', 'flush', 'proto', 'connected').stderr, /only static routes are flushed/);
    assert.deepEqual(json('route', 'flush', 'all'), { flushed: 2 });
    assert.deepEqual(statics(), []);
    assert.equal(json('route', 'show').length, 5, 'connected, local and the neighbour route stay');
  });

  it('route show: no silent cap (--limit N says how many more; -j streams every route)', () => {
    const n = 12000;
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(`10.${64 + (i >> 8)}.${i & 255}.0/24 via 10.2.0.2`);
    fs.writeFileSync(path.join(dir, 'many.txt'), lines.join('\n') + '\n');
    ok('route', 'load', path.join(dir, 'many.txt'));
    const total = n + 5;
    const text = ok('route', 'show').split('\n');
    assert.equal(text.length, 10000 + 2, '10000 rows, the "more" line, the final newline');
    assert.equal(text[10000], `… ${total - 10000} more routes not shown (--limit N, --limit 0 for all, or a selector: dpfwd route show root 10.0.0.0/8)`);
    assert.equal(ok('route', 'show', '--limit', '0').split('\n').length, total + 1);
    assert.equal(
      ok('route', 'show', '--limit', '3', 'root', '10.64.0.0/16').split('\n').slice(3, 4)[0],
      '… 253 more routes not shown (--limit N, --limit 0 for all, or a selector: dpfwd route show root 10.0.0.0/8)',
    );
    // past spawnSync's default 1 MiB of output
    const big = spawnSync(process.execPath, [DPFWD, '--socket', fwd.socket, 'route', 'show', '-j'], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60000 });
    assert.equal(big.status, 0, big.stderr);
    const all = JSON.parse(big.stdout);
    assert.equal(all.length, total, 'every route, in pages');
    assert.equal(new Set(all.map((r: { dst: string }) => r.dst)).size, total, 'no row twice across pages');
    assert.deepEqual(
      json('route', 'show', '--limit', '2').map((r: { dst: string }) => r.dst),
      ['10.1.0.0/24', '10.1.0.1/32'],
    );
    ok('route', 'flush', 'all');
  });

  it('one route.show reply carries at most 100,000 rows: more is refused (EMSGSIZE), the CLI pages past it', async () => {
    const n = 100001;
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(`11.${i >> 16}.${(i >> 8) & 255}.${i & 255}/32 blackhole`);
    fs.writeFileSync(path.join(dir, 'more.txt'), lines.join('\n') + '\n');
    ok('route', 'load', path.join(dir, 'more.txt'));
    await assert.rejects(fwd.call('route.show', { proto: 'static' }), (e: Error & { code: string }) => {
      assert.equal(e.code, 'EMSGSIZE');
      assert.match(e.message, /^more than 100000 routes would go in this reply, more than one carries; read in pages/);
      return true;
    });
    assert.equal((await fwd.call('route.show', { proto: 'static', limit: 100000 })).length, 100000);
    assert.deepEqual(await fwd.call('route.count', { root: '11.0.0.0/8' }), { routes: n });
    const big = spawnSync(process.execPath, [DPFWD, '--socket', fwd.socket, 'route', 'show', 'proto', 'static', '-j'], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      timeout: 60000,
    });
    assert.equal(big.status, 0, big.stderr);
    assert.equal(JSON.parse(big.stdout).length, n);
    ok('route', 'flush', 'root', '11.0.0.0/8');
  });

  it('-b FILE: one command per line over one connection; stops at the first error naming its line; -force goes on', () => {
    const f = path.join(dir, 'cmds.batch');
    fs.writeFileSync(
      f,
      [
        '# set up the east side',
        'route add 10.60.0.0/16 via 10.2.0.2',
        '',
        'dpfwd route add 10.61.0.0/16 via 10.2.0.2 -j',
        'show control -j',
        'route add 10.62.0.0/33 via 10.2.0.2',
        'route add 10.63.0.0/16 via 10.2.0.2',
      ].join('\n') + '\n',
    );
    const r = cli('-b', f);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'dpfwd: line 6: 10.62.0.0/33 is not an IPv4 prefix\n');
    const [added, control] = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(added.dst, '10.61.0.0/16');
    assert.equal(control.clients, 1, 'every line of the batch went over one connection');
    assert.deepEqual(statics(), ['10.60.0.0/16', '10.61.0.0/16']);
    const forced = cli('-batch', f, '-force');
    assert.equal(forced.status, 1, 'a line failed');
    assert.equal(forced.stderr, 'dpfwd: line 6: 10.62.0.0/33 is not an IPv4 prefix\n');
    assert.deepEqual(statics(), ['10.60.0.0/16', '10.61.0.0/16', '10.63.0.0/16'], 'the lines after the failure ran');
    const stdin = spawnSync(process.execPath, [DPFWD, '--socket', fwd.socket, '-b', '-'], {
      input: 'route flush all\nroute ls proto static -j\n',
      encoding: 'utf8',
    });
    assert.equal(stdin.status, 0, stdin.stderr);
    assert.equal(stdin.stdout, 'flushed 3 static routes\n[]\n');
    const missing = cli('-b', path.join(dir, 'nope.batch'));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^dpfwd: cannot read the batch file .*nope\.batch: /);
  });

  it('shell completion knows the words after a command', () => {
    const words = (...w: string[]) => spawnSync(process.execPath, [DPFWD, '--get-yargs-completions', 'dpfwd', ...w], { encoding: 'utf8' }).stdout.split('\n');
    assert.ok(['add', 'replace', 'get', 'flush', 'list'].every((w) => words('route', '').includes(w)));
    assert.ok(['match', 'root', 'dev', 'via', 'proto'].every((w) => words('route', 'show', '').includes(w)));
    assert.ok(words('').includes('nexthop'));
    assert.deepEqual(keywordsAfter(['neigh', 'add', '10.2.0.2'], ''), ['lladdr', 'dev', 'nud']);
  });
});
