/**
 * The RIB against a fake FIB (no DPDK): Rib.addRoutesBulk with a RouteBatch — what reaches the
 * FIB, next-hop sharing, port names and l3fwd port ids, and all-or-nothing on every failure.
 */
import { strict as assert } from 'assert';
import { NH_DROP } from '../src/dataplane/actions';
import { DpfwdError } from '../src/errors';
import { FibWriter, Rib } from '../src/routing/rib';
import { formatPrefix, parseIPv4, parseRouteFile, RouteBatch } from '../src/routing';
import { throwsCode } from './helpers/assert';

/** Keeps the table and the next hops as the dataplane would; `room` limits the routes it takes. */
class FakeFib implements FibWriter {
  readonly table = new Map<string, number>(); // "a.b.c.d/len" → next-hop id
  readonly nexthops = new Map<number, string>(); // id → what was written last
  readonly written: number[] = []; // ids, in the order of writes
  readonly bulk: { prefixes: string[]; nhs: number[] }[] = [];
  single = 0;
  constructor(public room = Infinity) {}
  fibAdd(addr: number, len: number, nh: number): void {
    const k = formatPrefix({ addr, len });
    if (!this.table.has(k) && this.table.size >= this.room) throw new DpfwdError('ENOSPC', 'route add failed: the FIB is full');
    this.single++;
    this.table.set(k, nh);
  }
  fibDel(addr: number, len: number): void {
    this.table.delete(formatPrefix({ addr, len }));
  }
  fibAddBulk(addrs: Uint32Array, lens: Uint8Array, nhs: Uint32Array): number {
    const prefixes = Array.from(addrs, (a, i) => formatPrefix({ addr: a, len: lens[i] }));
    this.bulk.push({ prefixes, nhs: Array.from(nhs) });
    let i = 0;
    for (; i < prefixes.length && this.table.size < this.room; i++) this.table.set(prefixes[i], nhs[i]);
    return i;
  }
  nexthopSet(id: number, portOrAction: number, mac?: string | Buffer): void {
    this.nexthops.set(id, portOrAction === NH_DROP ? 'drop' : `port ${portOrAction} ${String(mac)}`);
    this.written.push(id);
  }
  nexthopActionWithPort(id: number, action: number, port: number): void {
    this.nexthops.set(id, `action ${action.toString(16)} port ${port}`);
    this.written.push(id);
  }
}

const ip = parseIPv4;

function setup(room = Infinity) {
  const fib = new FakeFib(room);
  const rib = new Rib(fib, [{ name: 'west', index: 0 }, { name: 'east', index: 1 }], 64);
  rib.addAddress('west', ip('10.1.0.1'), 24);
  rib.addAddress('east', ip('10.2.0.1'), 24);
  return { fib, rib, load: (text: string) => {
    const { routes, errors } = parseRouteFile(text);
    assert.deepEqual(errors, []);
    return rib.addRoutesBulk(routes);
  } };
}

/** Static routes as "prefix kind port via". */
const statics = (rib: Rib) => rib.listRoutes().filter((r) => r.origin === 'static').map((r) => `${r.prefix} ${r.kind} ${r.port ?? '-'} ${r.via ?? '-'}`);

/** Next hops in use as "kind port via refs". */
const nexthops = (rib: Rib) => rib.listNexthops().map((h) => `${h.kind} ${h.port ?? '-'} ${h.via ?? '-'} refs ${h.refs}`);

describe('rib: addRoutesBulk with a RouteBatch', () => {
  it('adds every kind of route in one bulk call; routes via one gateway share its next hop', () => {
    const { fib, rib, load } = setup();
    const n = load('10.50.0.0/16 via 10.2.0.2\n10.51.0.0/16 via 10.2.0.2\n10.52.0.0/16 via 10.1.0.9\nR10.60.0.0/16 1\n10.70.0.0/16 port west\n10.80.0.0/16 blackhole\n10.53.0.0/16 via 10.2.0.2\n10.54.0.0/16 via 10.2.0.2 port west\n');
    assert.equal(n, 8);
    assert.equal(fib.single, 4, 'only the addresses went in one by one');
    assert.equal(fib.bulk.length, 1);
    const { prefixes, nhs } = fib.bulk[0];
    assert.deepEqual(prefixes, ['10.50.0.0/16', '10.51.0.0/16', '10.52.0.0/16', '10.60.0.0/16', '10.70.0.0/16', '10.80.0.0/16', '10.53.0.0/16', '10.54.0.0/16']);
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
    throwsCode(() => load('10.50.0.0/16 via 10.2.0.2\nR10.60.0.0/16 2\nR10.61.0.0/16 3\n'), 'ENODEV',
      /^route 10\.60\.0\.0\/16: port id 2 does not exist \(ports 0-1: west, east\)$/);
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
    throwsCode(() => load('10.50.0.0/16 via 10.2.0.2\n10.51.0.0/16 via 10.1.0.7\n10.52.0.0/16 via 10.9.0.2\n'), 'EINVAL', /^gateway 10\.9\.0\.2 is not in any port's connected subnet/);
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
    throwsCode(() => load('10.50.0.0/16 via 10.2.0.2\n10.51.0.0/16 via 10.1.0.9\n10.52.0.0/16 port east\n'), 'ENOSPC',
      /^the FIB took 2 of 3 routes and is full; nothing was added\. Raise fib\.maxRoutes or fib\.tbl8Groups and restart$/);
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

  it('a route that exists already is replaced through addRoute, after the bulk add', () => {
    const { fib, rib, load } = setup();
    load('10.50.0.0/16 via 10.2.0.2\n');
    const single = fib.single;
    const n = load('10.50.0.0/16 via 10.1.0.9\n10.51.0.0/16 via 10.2.0.2\n');
    assert.equal(n, 2);
    assert.deepEqual(fib.bulk[1].prefixes, ['10.51.0.0/16']);
    assert.equal(fib.single, single + 1, 'the replaced route went in on its own');
    assert.deepEqual(statics(rib), ['10.50.0.0/16 gateway west 10.1.0.9', '10.51.0.0/16 gateway east 10.2.0.2']);
    assert.equal(rib.counts.static, 2);
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
    const b = RouteBatch.from([{ addr: ip('10.50.0.0'), len: 16, via: ip('10.2.0.2') }, { addr: ip('10.51.0.1'), len: 16, via: ip('10.2.0.2') }]);
    throwsCode(() => rib.addRoutesBulk(b), 'EINVAL', /^10\.51\.0\.1\/16 has host bits set$/);
    assert.deepEqual(statics(rib), []);
    assert.equal(rib.unresolvedGateways().length, 0);
  });

  it('RouteBatch.from serves the config routes: port names, via with a port, blackhole', () => {
    const { rib } = setup();
    rib.addRoutesBulk(RouteBatch.from([
      { addr: ip('10.50.0.0'), len: 16, via: ip('10.1.0.9'), port: 'east' },
      { addr: ip('10.51.0.0'), len: 16, port: 'west' },
      { addr: ip('10.52.0.0'), len: 16, blackhole: true },
    ]));
    assert.deepEqual(statics(rib), ['10.50.0.0/16 gateway east 10.1.0.9', '10.51.0.0/16 glean west -', '10.52.0.0/16 drop - -']);
  });
});
