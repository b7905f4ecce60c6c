/**
 * The RIB against a fake FIB (no DPDK): Rib.addRoutesBulk with a RouteBatch — what reaches the
 * FIB, next-hop sharing, port names and l3fwd port ids, a prefix given twice, replacements, and
 * all-or-nothing on every failure (RIB, next-hop references and FIB).
 */
import { strict as assert } from 'assert';
import { NH_DROP } from '../src/dataplane/actions';
import { DpfwdError } from '../src/errors';
import { FibWriter, Rib } from '../src/routing/rib';
import { formatIPv4, formatPrefix, parseIPv4 } from '../src/net/ipv4';
import { formatMac } from '../src/net/mac';
import { parseRouteFile, RouteBatch } from '../src/routing';
import { throwsCode } from './helpers/assert';

/** Keeps the table and the next hops as the dataplane would; `room` limits the routes it takes. */
class FakeFib implements FibWriter {
  readonly table = new Map<string, number>(); // "a.b.c.d/len" → next-hop id
  readonly nexthops = new Map<number, string>(); // id → what was written last
  readonly written: number[] = []; // ids, in the order of writes
  readonly bulk: { prefixes: string[]; nhs: number[] }[] = [];
  /** every route write, in order: "+prefix nh", "-prefix" */
  readonly log: string[] = [];
  /** the most rows each next bulk call takes (not dp_fib: it never refuses a replacement) */
  readonly bulkLimits: number[] = [];
  single = 0;
  constructor(public room = Infinity) {}
  fibAdd(addr: number, len: number, nh: number): void {
    const k = formatPrefix({ addr, len });
    if (!this.table.has(k) && this.table.size >= this.room) throw new DpfwdError('ENOSPC', 'route add failed: the FIB is full');
    this.single++;
    this.table.set(k, nh);
    this.log.push(`+${k} ${nh}`);
  }
  fibDel(addr: number, len: number): void {
    const k = formatPrefix({ addr, len });
    this.table.delete(k);
    this.log.push(`-${k}`);
  }
  fibAddBulk(addrs: Uint32Array, lens: Uint8Array, nhs: Uint32Array): number {
    const prefixes = Array.from(addrs, (a, i) => formatPrefix({ addr: a, len: lens[i] }));
    this.bulk.push({ prefixes, nhs: Array.from(nhs) });
    const limit = this.bulkLimits.shift() ?? Infinity;
    let i = 0;
    // like dp_fib: in order, stops at the first route that finds no room; a replacement needs none
    for (; i < prefixes.length && i < limit && (this.table.has(prefixes[i]) || this.table.size < this.room); i++) {
      this.table.set(prefixes[i], nhs[i]);
      this.log.push(`+${prefixes[i]} ${nhs[i]}`);
    }
    return i;
  }
  nexthopSet(id: number, portOrAction: number, mac?: string | number): void {
    this.nexthops.set(id, portOrAction === NH_DROP ? 'drop' : `port ${portOrAction} ${typeof mac === 'number' ? formatMac(mac) : String(mac)}`);
    this.written.push(id);
  }
  nexthopActionWithPort(id: number, action: number, port: number): void {
    this.nexthops.set(id, `action ${action.toString(16)} port ${port}`);
    this.written.push(id);
  }
}

const ip = parseIPv4;

function setup(room = Infinity, maxNexthops = 64) {
  const fib = new FakeFib(room);
  const rib = new Rib(
    fib,
    [
      { name: 'west', index: 0 },
      { name: 'east', index: 1 },
    ],
    maxNexthops,
  );
  rib.addAddress('west', ip('10.1.0.1'), 24);
  rib.addAddress('east', ip('10.2.0.1'), 24);
  return {
    fib,
    rib,
    load: (text: string) => {
      const { routes, errors } = parseRouteFile(text);
      assert.deepEqual(errors, []);
      return rib.addRoutesBulk(routes);
    },
  };
}

/** Static routes as "prefix kind port via". */
const statics = (rib: Rib) =>
  rib
    .listRoutes()
    .filter((r) => r.origin === 'static')
    .map((r) => `${r.prefix} ${r.kind} ${r.port ?? '-'} ${r.via ?? '-'}`);

/** Next hops in use as "kind port via refs". */
const nexthops = (rib: Rib) => rib.listNexthops().map((h) => `${h.kind} ${h.port ?? '-'} ${h.via ?? '-'} refs ${h.refs}`);

/** The id of the next hop in use via this gateway. */
const gwId = (rib: Rib, via: string) => rib.listNexthops().find((h) => h.via === via)!.id;

/**
 * Everything a failed load must leave as it was: routes, counters, next hops and their
 * references, the FIB's routes and what the FIB holds for each next hop in use (a next hop
 * taken and given back during the load reads 'drop' again).
 */
function state(rib: Rib, fib: FakeFib) {
  const used = new Set(rib.listNexthops().map((h) => h.id));
  return {
    routes: rib.listRoutes().map((r) => `${r.prefix} ${r.origin} ${r.kind} ${r.port ?? '-'} ${r.via ?? '-'}`),
    routeCount: rib.routeCount,
    counts: { ...rib.counts },
    nexthops: nexthops(rib),
    fibRoutes: [...fib.table].sort(),
    fibNexthops: [...fib.nexthops].filter(([id]) => used.has(id)).sort((a, b) => a[0] - b[0]),
    fibUnused: [...fib.nexthops].filter(([id, w]) => !used.has(id) && w !== 'drop'),
  };
}

describe('rib: addRoutesBulk with a RouteBatch', () => {
  it('adds every kind of route in one bulk call; routes via one gateway share its next hop', () => {
    const { fib, rib, load } = setup();
    const n = load(
      '10.50.0.0/16 via 10.2.0.2\n10.51.0.0/16 via 10.2.0.2\n10.52.0.0/16 via 10.1.0.9\nR10.60.0.0/16 1\n10.70.0.0/16 port west\n10.80.0.0/16 blackhole\n10.53.0.0/16 via 10.2.0.2\n10.54.0.0/16 via 10.2.0.2 port west\n',
    );
    assert.equal(n, 8);
    assert.equal(fib.single, 4, 'only the addresses went in one by one');
    assert.equal(fib.bulk.length, 1);
    const { prefixes, nhs } = fib.bulk[0];
    assert.deepEqual(prefixes, [
      '10.50.0.0/16',
      '10.51.0.0/16',
      '10.52.0.0/16',
      '10.60.0.0/16',
      '10.70.0.0/16',
      '10.80.0.0/16',
      '10.53.0.0/16',
      '10.54.0.0/16',
    ]);
    assert.equal(nhs[1], nhs[0]);
    assert.equal(nhs[6], nhs[0], 'the same gateway again after others: same next hop');
    assert.notEqual(nhs[2], nhs[0]);
    assert.notEqual(nhs[7], nhs[6], 'the same gateway named on another port: another next hop');
    assert.equal(nhs[5], 0, 'blackhole: the shared drop next hop');
    assert.deepEqual(statics(rib), [
      '10.50.0.0/16 gateway east 10.2.0.2',
      '10.51.0.0/16 gateway east 10.2.0.2',
      '10.52.0.0/16 gateway west 10.1.0.9',
      '10.53.0.0/16 gateway east 10.2.0.2',
      '10.54.0.0/16 gateway west 10.2.0.2',
      '10.60.0.0/16 glean east -',
      '10.70.0.0/16 glean west -',
      '10.80.0.0/16 drop - -',
    ]);
    assert.equal(rib.counts.static, 8);
    assert.equal(rib.updates.add.ok, 4 + 8);
  });

  it('resolves an l3fwd port id to that port; an unknown id is ENODEV naming the route, and nothing is added', () => {
    const { fib, rib, load } = setup();
    const before = rib.routeCount;
    throwsCode(
      () => load('10.50.0.0/16 via 10.2.0.2\nR10.60.0.0/16 2\nR10.61.0.0/16 3\n'),
      'ENODEV',
      /^route 10\.60\.0\.0\/16: port id 2 does not exist \(ports 0-1: west, east\)$/,
    );
    assert.equal(rib.routeCount, before);
    assert.equal(fib.bulk.length, 0);
  });

  it('an unknown port name is ENODEV, reported before a gateway problem on an earlier line', () => {
    const { rib, load } = setup();
    const before = rib.routeCount;
    throwsCode(() => load('10.50.0.0/16 via 10.9.0.2\n10.51.0.0/16 port south\n'), 'ENODEV', /^unknown port south; ports are: west, east$/);
    assert.equal(rib.routeCount, before);
  });

  it('a gateway outside every connected subnet fails the whole batch and gives back the next hops taken', () => {
    const { fib, rib, load } = setup();
    const mark = fib.written.length;
    throwsCode(
      () => load('10.50.0.0/16 via 10.2.0.2\n10.51.0.0/16 via 10.1.0.7\n10.52.0.0/16 via 10.9.0.2\n'),
      'EINVAL',
      /^gateway 10\.9\.0\.2 is not in any port's connected subnet/,
    );
    const taken = [...new Set(fib.written.slice(mark))];
    assert.equal(taken.length, 2, 'two gateway next hops were set up');
    for (const id of taken) assert.equal(fib.nexthops.get(id), 'drop', `next hop ${id} released`);
    assert.deepEqual(statics(rib), []);
    assert.equal(rib.unresolvedGateways().length, 0, 'no gateway next hop is left behind');
    assert.equal(fib.bulk.length, 0);
    load('10.50.0.0/16 via 10.2.0.2\n');
    assert.ok(taken.includes(fib.bulk[0].nhs[0]), 'a freed id is used again');
  });

  it('ENOSPC when the FIB takes only part of the batch: what went in comes out, counters say error', () => {
    const { fib, rib, load } = setup(4 + 2); // the 4 address routes, then room for 2 more
    const before = rib.routeCount;
    const okBefore = rib.updates.add.ok;
    throwsCode(
      () => load('10.50.0.0/16 via 10.2.0.2\n10.51.0.0/16 via 10.1.0.9\n10.52.0.0/16 port east\n'),
      'ENOSPC',
      /^the FIB took 2 of 3 routes and is full; nothing was added\. Raise fib\.maxRoutes or fib\.tbl8Groups and restart$/,
    );
    assert.equal(fib.table.size, 4, 'the 2 routes the FIB took were deleted again');
    assert.equal(rib.routeCount, before);
    assert.equal(rib.counts.static, 0);
    assert.equal(rib.updates.add.ok, okBefore);
    assert.equal(rib.updates.add.error, 3);
    const [gw1, gw2] = fib.bulk[0].nhs;
    assert.equal(fib.nexthops.get(gw1), 'drop', 'gateway next hop released');
    assert.equal(fib.nexthops.get(gw2), 'drop', 'gateway next hop released');
    assert.equal(rib.unresolvedGateways().length, 0);
  });

  it('a prefix given twice ends with its last line: counted once, one next-hop reference each', () => {
    const { fib, rib, load } = setup();
    const before = nexthops(rib);
    const n = load(
      '10.50.0.0/16 via 10.2.0.2\n10.51.0.0/16 via 10.2.0.2\n10.50.0.0/16 via 10.1.0.9\nR10.51.0.0/16 0\n10.52.0.0/16 blackhole\n10.52.0.0/16 blackhole\n',
    );
    assert.equal(n, 3, 'three prefixes');
    assert.deepEqual(
      fib.bulk.map((x) => x.prefixes),
      [['10.50.0.0/16', '10.51.0.0/16', '10.52.0.0/16']],
      'one write per prefix',
    );
    assert.deepEqual(statics(rib), ['10.50.0.0/16 gateway west 10.1.0.9', '10.51.0.0/16 glean west -', '10.52.0.0/16 drop - -']);
    const west = gwId(rib, '10.1.0.9');
    assert.equal(fib.table.get('10.50.0.0/16'), west, 'the FIB has the last line too');
    assert.equal(rib.counts.static, 3);
    assert.equal(rib.routeCount, 4 + 3);
    assert.equal(rib.updates.add.ok, 4 + 3);
    assert.deepEqual(
      nexthops(rib),
      ['drop - - refs 2', 'local - - refs 2', 'glean west - refs 2', 'glean east - refs 1', 'gateway west 10.1.0.9 refs 1'],
      'the gateway only overridden lines named is not kept',
    );
    for (const p of ['10.50.0.0', '10.51.0.0', '10.52.0.0']) rib.delRoute(ip(p), 16);
    assert.deepEqual(nexthops(rib), before, 'deleting the routes gives every reference back');
    assert.equal(fib.nexthops.get(west), 'drop');
  });

  it('a batch with replacements that succeeds: new prefixes go to the FIB first, then the replaced ones with their new next hop', () => {
    const { fib, rib, load } = setup();
    load('10.50.0.0/16 via 10.2.0.2\n10.60.0.0/16 via 10.2.0.3\n10.70.0.0/16 blackhole\n');
    const old = gwId(rib, '10.2.0.3');
    const single = fib.single;
    const n = load('10.60.0.0/16 via 10.1.0.9\n10.51.0.0/16 via 10.2.0.2\n10.50.0.0/16 port east\n10.70.0.0/16 via 10.2.0.2\n10.70.0.0/16 via 10.1.0.9\n');
    assert.equal(n, 4);
    assert.equal(fib.single, single, 'no route went in on its own');
    assert.deepEqual(
      fib.bulk.slice(1).map((x) => x.prefixes),
      [['10.51.0.0/16'], ['10.60.0.0/16', '10.50.0.0/16', '10.70.0.0/16']],
    );
    const west = gwId(rib, '10.1.0.9');
    const east = gwId(rib, '10.2.0.2');
    const glean = rib.listNexthops().find((h) => h.kind === 'glean' && h.port === 'east')!.id;
    assert.deepEqual(Object.fromEntries([...fib.table].filter(([p]) => p.endsWith('/16'))), {
      '10.50.0.0/16': glean,
      '10.51.0.0/16': east,
      '10.60.0.0/16': west,
      '10.70.0.0/16': west,
    });
    assert.deepEqual(statics(rib), [
      '10.50.0.0/16 glean east -',
      '10.51.0.0/16 gateway east 10.2.0.2',
      '10.60.0.0/16 gateway west 10.1.0.9',
      '10.70.0.0/16 gateway west 10.1.0.9',
    ]);
    assert.equal(rib.counts.static, 4);
    assert.equal(rib.updates.add.ok, 4 + 3 + 4);
    assert.deepEqual(
      nexthops(rib),
      ['drop - - refs 1', 'local - - refs 2', 'glean west - refs 1', 'glean east - refs 2', 'gateway east 10.2.0.2 refs 1', 'gateway west 10.1.0.9 refs 2'],
      'the replaced routes gave their next hops back',
    );
    assert.equal(fib.nexthops.get(old), 'drop', 'the gateway no route uses any more is released in the FIB');
  });

  describe('a batch that replaces routes and fails part-way changes nothing', () => {
    const base = '10.50.0.0/16 via 10.2.0.2\n10.60.0.0/16 via 10.2.0.3\n';
    const cases: { what: string; text: string; code: string; msg: RegExp; room?: number; maxNexthops?: number; bulkLimits?: number[]; fibWrites?: boolean }[] =
      [
        {
          what: 'a gateway outside every subnet on the last replacement',
          text: '10.50.0.0/16 via 10.1.0.9\n10.51.0.0/16 via 10.2.0.2\n10.60.0.0/16 via 10.9.0.1\n',
          code: 'EINVAL',
          msg: /^gateway 10\.9\.0\.1 is not in any port's connected subnet/,
        },
        {
          what: 'a line for a connected prefix',
          text: '10.50.0.0/16 via 10.1.0.9\n10.51.0.0/16 via 10.2.0.2\n10.2.0.0/24 via 10.1.0.9\n',
          code: 'EEXIST',
          msg: /^10\.2\.0\.0\/24 is a connected route/,
        },
        {
          what: 'no free next hop for the last replacement',
          text: '10.50.0.0/16 via 10.1.0.9\n10.51.0.0/16 via 10.2.0.2\n10.60.0.0/16 via 10.1.0.10\n',
          maxNexthops: 7, // drop, local, 2 gleans, 2 gateways, then one more
          code: 'ENOSPC',
          msg: /^no free next-hop entry \(fib\.maxNexthops = 7\)/,
        },
        {
          what: 'a prefix given twice, then a bad gateway',
          text: '10.60.0.0/16 via 10.1.0.9\n10.60.0.0/16 via 10.2.0.2\n10.51.0.0/16 via 10.1.0.11\n10.52.0.0/16 via 10.9.0.1\n',
          code: 'EINVAL',
          msg: /^gateway 10\.9\.0\.1 /,
        },
        {
          what: 'a full FIB for the new prefixes: the replacements are never written',
          text: '10.50.0.0/16 via 10.1.0.9\n10.51.0.0/16 via 10.2.0.2\n10.52.0.0/16 via 10.2.0.2\n',
          room: 4 + 2 + 1,
          code: 'ENOSPC',
          msg: /^the FIB took 1 of 2 routes and is full; nothing was added/,
          fibWrites: true,
        },
        {
          what: 'a FIB that takes only some replacements: they get their old next hop back',
          text: '10.60.0.0/16 via 10.1.0.9\n10.51.0.0/16 via 10.2.0.2\n10.50.0.0/16 via 10.1.0.9\n',
          bulkLimits: [Infinity, Infinity, 1],
          code: 'ENOSPC',
          msg: /^the FIB took 1 of 2 replacements; nothing was changed$/,
          fibWrites: true,
        },
      ];
    for (const c of cases) {
      it(c.what, () => {
        const { fib, rib, load } = setup(c.room, c.maxNexthops);
        fib.bulkLimits.push(...(c.bulkLimits ?? []));
        load(base);
        const before = state(rib, fib);
        const writes = fib.log.length;
        const errors = rib.updates.add.error;
        throwsCode(() => load(c.text), c.code, c.msg);
        assert.deepEqual(state(rib, fib), before);
        const written = fib.log.slice(writes);
        if (!c.fibWrites) assert.deepEqual(written, [], 'checked before anything was written');
        else {
          assert.ok(written.length > 0);
          assert.equal(rib.updates.add.error, errors + 3, 'the routes count as failed adds');
        }
        if (!c.bulkLimits) assert.ok(!written.some((w) => w.startsWith('+10.50.0.0/16') || w.startsWith('+10.60.0.0/16')), 'the FIB never saw a replacement');
      });
    }
  });

  it('deleting blackhole routes gives their references to the drop next hop back', () => {
    const { rib, load } = setup();
    const before = nexthops(rib);
    load('10.80.0.0/16 blackhole\n10.81.0.0/16 blackhole\n');
    assert.equal(nexthops(rib)[0], 'drop - - refs 3', 'its own and one per route');
    rib.delRoute(ip('10.80.0.0'), 16);
    rib.delRoute(ip('10.81.0.0'), 16);
    assert.deepEqual(nexthops(rib), before);
  });

  it('refuses host bits in a batch built from objects, adding nothing', () => {
    const { rib } = setup();
    const b = RouteBatch.from([
      { addr: ip('10.50.0.0'), len: 16, via: ip('10.2.0.2') },
      { addr: ip('10.51.0.1'), len: 16, via: ip('10.2.0.2') },
    ]);
    throwsCode(() => rib.addRoutesBulk(b), 'EINVAL', /^10\.51\.0\.1\/16 has host bits set$/);
    assert.deepEqual(statics(rib), []);
    assert.equal(rib.unresolvedGateways().length, 0);
  });

  it('RouteBatch.from serves the config routes: port names, via with a port, blackhole', () => {
    const { rib } = setup();
    rib.addRoutesBulk(
      RouteBatch.from([
        { addr: ip('10.50.0.0'), len: 16, via: ip('10.1.0.9'), port: 'east' },
        { addr: ip('10.51.0.0'), len: 16, port: 'west' },
        { addr: ip('10.52.0.0'), len: 16, blackhole: true },
      ]),
    );
    assert.deepEqual(statics(rib), ['10.50.0.0/16 gateway east 10.1.0.9', '10.51.0.0/16 glean west -', '10.52.0.0/16 drop - -']);
  });
});

describe('rib: addresses for the source and broadcast rules', () => {
  it('gives the dataplane every interface address, and the broadcast and network address of subnets up to /30', () => {
    const sets: string[][] = [];
    const fib = Object.assign(new FakeFib(), {
      addrFilterSet(addrs: Uint32Array, kinds: Uint8Array) {
        sets.push([...addrs].map((a, i) => `${formatIPv4(a)} ${['', 'own', 'broadcast', 'network'][kinds[i]]}`).sort());
      },
    });
    const rib = new Rib(
      fib,
      [
        { name: 'west', index: 0 },
        { name: 'east', index: 1 },
      ],
      64,
    );
    rib.addAddress('west', ip('10.1.0.1'), 24);
    rib.addAddress('east', ip('10.2.0.5'), 30);
    rib.addAddress('east', ip('10.3.0.0'), 31); // RFC 3021: no broadcast, both addresses are hosts
    rib.addAddress('east', ip('10.4.0.9'), 32);
    assert.deepEqual(sets[sets.length - 1], [
      '10.1.0.0 network',
      '10.1.0.1 own',
      '10.1.0.255 broadcast',
      '10.2.0.4 network',
      '10.2.0.5 own',
      '10.2.0.7 broadcast',
      '10.3.0.0 own',
      '10.4.0.9 own',
    ]);
    rib.delAddress('west', ip('10.1.0.1'), 24);
    assert.deepEqual(sets[sets.length - 1], ['10.2.0.4 network', '10.2.0.5 own', '10.2.0.7 broadcast', '10.3.0.0 own', '10.4.0.9 own']);
    assert.equal(sets.length, 5, 'one update per address change');
  });
});

describe('rib: listRoutes', () => {
  it('with a limit returns the first routes in address order, not the first ones stored', () => {
    const { rib, load } = setup();
    // stored by prefix length (RouteMaps): the /16s come before the /24s and /32s
    load('10.30.0.0/16 via 10.2.0.2\n10.20.0.0/16 via 10.2.0.2\n');
    const all = rib.listRoutes().map((r) => r.prefix);
    assert.deepEqual(
      all,
      [...all].sort((a, b) => ip(a.split('/')[0]) - ip(b.split('/')[0]) || Number(a.split('/')[1]) - Number(b.split('/')[1])),
    );
    assert.deepEqual(
      rib.listRoutes(3).map((r) => r.prefix),
      all.slice(0, 3),
    );
    assert.deepEqual(
      rib.listRoutes(3).map((r) => r.prefix),
      ['10.1.0.0/24', '10.1.0.1/32', '10.2.0.0/24'],
    );
  });
});

describe("rib: synced (linux) routes and dpfwd's own", () => {
  const origins = (rib: Rib) =>
    rib
      .listRoutes()
      .filter((r) => r.len === 16)
      .map((r) => `${r.prefix} ${r.origin} ${r.via ?? r.kind}`);

  it('a synced route is not installed over a static one (shadowed), and a static one replaces it', () => {
    const { fib, rib } = setup();
    rib.addRoute({ addr: ip('10.20.0.0'), len: 16, via: ip('10.2.0.2') });
    assert.equal(rib.addRoute({ addr: ip('10.20.0.0'), len: 16, via: ip('10.1.0.2'), port: 'west' }, 'linux'), false);
    assert.deepEqual(origins(rib), ['10.20.0.0/16 static 10.2.0.2']);
    assert.equal(rib.addRoute({ addr: ip('10.30.0.0'), len: 16, via: ip('10.1.0.2'), port: 'west' }, 'linux'), true);
    assert.equal(rib.counts.linux, 1);
    rib.addRoute({ addr: ip('10.30.0.0'), len: 16, blackhole: true });
    assert.deepEqual(origins(rib), ['10.20.0.0/16 static 10.2.0.2', '10.30.0.0/16 static drop']);
    assert.equal(rib.counts.linux, 0);
    assert.equal(rib.counts.static, 2);
    assert.equal(fib.table.get('10.30.0.0/16'), 0, 'the FIB points at the drop next hop');
    // the gateway's next hop went with the synced route
    assert.equal(
      rib.listNexthops().some((h) => h.via === '10.1.0.2'),
      false,
    );
  });

  it('a route file replaces synced routes too, and counts them as static', () => {
    const { rib, load } = setup();
    rib.addRoute({ addr: ip('10.30.0.0'), len: 16, via: ip('10.1.0.2'), port: 'west' }, 'linux');
    load('10.30.0.0/16 via 10.2.0.2\n10.31.0.0/16 via 10.2.0.2\n');
    assert.deepEqual(origins(rib), ['10.30.0.0/16 static 10.2.0.2', '10.31.0.0/16 static 10.2.0.2']);
    assert.equal(rib.counts.linux, 0);
    assert.equal(rib.counts.static, 2);
  });

  it('tells the sync when a prefix is vacated by a route of another origin, not by its own', () => {
    const { rib } = setup();
    const vacated: string[] = [];
    rib.onVacated = (addr, len) => vacated.push(formatPrefix({ addr, len }));
    rib.addRoute({ addr: ip('10.20.0.0'), len: 16, via: ip('10.2.0.2') });
    rib.addRoute({ addr: ip('10.30.0.0'), len: 16, via: ip('10.2.0.2') }, 'linux');
    rib.delRoute(ip('10.20.0.0'), 16, 'static');
    rib.delRoute(ip('10.30.0.0'), 16, 'linux');
    throwsCode(() => rib.delRoute(ip('10.30.0.0'), 16, 'static'), 'ENOENT');
    assert.deepEqual(vacated, ['10.20.0.0/16']);
  });

  it('views carry the protocol the sync reports for its routes', () => {
    const { rib } = setup();
    rib.protocolOf = () => 'bgp';
    rib.addRoute({ addr: ip('10.30.0.0'), len: 16, via: ip('10.2.0.2') }, 'linux');
    rib.addRoute({ addr: ip('10.31.0.0'), len: 16, via: ip('10.2.0.2') });
    assert.equal(rib.lookup(ip('10.30.0.1'))!.protocol, 'bgp');
    assert.equal(rib.lookup(ip('10.31.0.1'))!.protocol, undefined);
  });
});

describe('rib: an address over a static route', () => {
  it('is refused (EEXIST) naming the route; the static route stays, and stays after a later address del', () => {
    const { rib, fib } = setup();
    rib.addRoute({ addr: ip('10.70.0.0'), len: 24, via: ip('10.2.0.9') });
    rib.addRoute({ addr: ip('10.71.0.5'), len: 32, blackhole: true });
    throwsCode(
      () => rib.addAddress('west', ip('10.70.0.1'), 24),
      'EEXIST',
      /static route 10\.70\.0\.0\/24 would be replaced by its connected route; delete that route first \(dpfwd route del 10\.70\.0\.0\/24\)/,
    );
    throwsCode(() => rib.addAddress('west', ip('10.71.0.5'), 24), 'EEXIST', /static route 10\.71\.0\.5\/32 would be replaced by its local route/);
    assert.equal(rib.originOf(ip('10.70.0.0'), 24), 'static');
    assert.ok(fib.table.has('10.70.0.0/24'));
    assert.ok(!rib.listAddresses().some((a) => a.addr === ip('10.70.0.1')), 'no address added');
    // an address next to it (another prefix) is fine, and deleting it leaves the static route alone
    rib.addAddress('west', ip('10.70.1.1'), 24);
    rib.delAddress('west', ip('10.70.1.1'), 24);
    assert.equal(rib.originOf(ip('10.70.0.0'), 24), 'static');
    // once the route is gone the address goes in
    rib.delRoute(ip('10.70.0.0'), 24, 'static');
    rib.addAddress('west', ip('10.70.0.1'), 24);
    assert.equal(rib.originOf(ip('10.70.0.0'), 24), 'connected');
  });
});

describe('Rib.syncRoutes: synced routes in one FIB batch, each row its own outcome', () => {
  const rows = (r: [string, number, number][]) => {
    // [prefix, kind (0 via, 1 port, 2 blackhole), via]: all on east (index 1)
    const n = r.length;
    const b = {
      n,
      addrs: new Uint32Array(n),
      lens: new Uint8Array(n),
      kinds: new Uint8Array(n),
      vias: new Uint32Array(n),
      ifaces: new Int32Array(n).fill(1),
      paths: new Map(),
    };
    r.forEach(([p, kind, via], i) => {
      const [a, l] = p.split('/');
      b.addrs[i] = ip(a);
      b.lens[i] = Number(l);
      b.kinds[i] = kind;
      b.vias[i] = via;
    });
    return b;
  };

  it('installs in one bulk call, shadows a prefix of another origin, replaces its own', () => {
    const { fib, rib, load } = setup();
    load('10.60.0.0/16 blackhole\n');
    const errors = new Map<number, string>();
    const out = rib.syncRoutes(
      rows([
        ['10.50.0.0/16', 0, ip('10.2.0.2')],
        ['10.60.0.0/16', 0, ip('10.2.0.2')],
        ['10.61.0.0/16', 2, 0],
      ]),
      errors,
    );
    assert.deepEqual(Array.from(out), [1, 2, 1]);
    assert.equal(errors.size, 0);
    assert.deepEqual(fib.bulk.at(-1)!.prefixes, ['10.50.0.0/16', '10.61.0.0/16']);
    assert.equal(rib.counts.linux, 2);
    assert.equal(rib.originOf(ip('10.60.0.0'), 16), 'static');
    // the same prefix again via another gateway: replaced, the old next hop given back
    const before = nexthops(rib).length;
    assert.deepEqual(Array.from(rib.syncRoutes(rows([['10.50.0.0/16', 0, ip('10.2.0.3')]]), errors)), [1]);
    assert.equal(rib.counts.linux, 2);
    assert.equal(rib.lookup(ip('10.50.1.1'))!.via, '10.2.0.3');
    assert.equal(nexthops(rib).length, before, 'the gateway 10.2.0.2 went, 10.2.0.3 came');
  });

  it('a full FIB fails the rows it has no room for, alone: the others go in, no reference leaks', () => {
    const { fib, rib } = setup();
    fib.room = fib.table.size + 2; // two more prefixes fit
    const nh0 = nexthops(rib);
    const errors = new Map<number, string>();
    const out = rib.syncRoutes(
      rows([
        ['10.50.0.0/16', 0, ip('10.2.0.2')],
        ['10.51.0.0/16', 0, ip('10.2.0.2')],
        ['10.52.0.0/16', 0, ip('10.2.0.2')],
        ['10.53.0.0/16', 0, ip('10.2.0.2')],
      ]),
      errors,
    );
    assert.deepEqual(Array.from(out), [1, 1, 3, 3]);
    assert.deepEqual([...errors.keys()], [2, 3]);
    assert.match(errors.get(2)!, /full/);
    assert.equal(rib.counts.linux, 2);
    assert.ok(nexthops(rib).includes('gateway east 10.2.0.2 refs 2'), nexthops(rib).join('; '));
    // and a row whose next hop cannot be had (no free next hop) fails alone too
    const small = setup(Infinity, 5);
    const o2 = small.rib.syncRoutes(
      rows([
        ['10.50.0.0/16', 0, ip('10.2.0.2')],
        ['10.51.0.0/16', 0, ip('10.2.0.3')],
        ['10.52.0.0/16', 0, ip('10.2.0.2')],
      ]),
      errors,
    );
    assert.deepEqual(Array.from(o2), [1, 3, 1]);
    assert.match(errors.get(1)!, /no free next-hop entry/);
    assert.deepEqual(
      nexthops(rib).filter((h) => h.startsWith('gateway')),
      nh0.filter((h) => h.startsWith('gateway')).concat('gateway east 10.2.0.2 refs 2'),
    );
  });
});
