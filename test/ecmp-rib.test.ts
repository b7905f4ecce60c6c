/**
 * Multipath routes without DPDK: the one route parser's `nexthop` words and `nexthops` fields,
 * the config's routes[].nexthops, and the RIB's groups against a fake FIB that records every
 * group write (sharing, reference counts, members leaving and coming back with their MAC, limits,
 * all-or-nothing on a bad path).
 */
import { strict as assert } from 'assert';
import { ConfigError, parseConfig } from '../src/config';
import { parsedOf } from '../src/config/types';
import { GROUP_MAX_MEMBERS, NH_DROP, NH_GROUP } from '../src/dataplane/actions';
import { DpfwdError } from '../src/errors';
import { formatPrefix, parseIPv4 } from '../src/net/ipv4';
import { parseMac } from '../src/net/mac';
import { parseRouteFile, parseRouteLine, parseRouteWords, routeFromFields, RouteBatch } from '../src/routing';
import { FibWriter, Rib } from '../src/routing/rib';
import { throwsCode } from './helpers/assert';

const ip = parseIPv4;

class GroupFib implements FibWriter {
  readonly table = new Map<string, number>();
  readonly words = new Map<number, string>();
  /** gid -> the last groupSet: members, weights, live */
  readonly groups = new Map<number, { nhs: number[]; weights: number[]; live: number[] }>();
  readonly deleted: number[] = [];
  fibAdd(addr: number, len: number, nh: number): void {
    this.table.set(formatPrefix({ addr, len }), nh);
  }
  fibDel(addr: number, len: number): void {
    this.table.delete(formatPrefix({ addr, len }));
  }
  fibAddBulk(addrs: Uint32Array, lens: Uint8Array, nhs: Uint32Array): number {
    addrs.forEach((a, i) => this.table.set(formatPrefix({ addr: a, len: lens[i] }), nhs[i]));
    return addrs.length;
  }
  nexthopSet(id: number, portOrAction: number): void {
    this.words.set(id, portOrAction === NH_DROP ? 'drop' : `port ${portOrAction}`);
  }
  nexthopActionWithPort(id: number, action: number, arg: number): void {
    this.words.set(id, action === NH_GROUP ? `group ${arg}` : `action ${action.toString(16)} ${arg}`);
  }
  groupSet(gid: number, nhs: Uint32Array, weights: Uint16Array, live: Uint8Array): void {
    this.groups.set(gid, { nhs: [...nhs], weights: [...weights], live: [...live] });
  }
  groupDel(gid: number): void {
    this.deleted.push(gid);
  }
}

function setup(maxGroups = 16) {
  const fib = new GroupFib();
  const rib = new Rib(
    fib,
    [
      { name: 'west', index: 0 },
      { name: 'east', index: 1 },
    ],
    64,
    32,
    maxGroups,
  );
  rib.addAddress('west', ip('10.1.0.1'), 24);
  rib.addAddress('east', ip('10.2.0.1'), 24);
  return { fib, rib };
}

const nexthops = (rib: Rib) =>
  rib
    .listNexthops()
    .map((h) => `${h.kind} ${h.via ?? '-'} refs ${h.refs}`)
    .sort();
const AB = [
  { via: ip('10.1.0.2'), weight: 1 },
  { via: ip('10.2.0.2'), weight: 1 },
];

describe('ecmp: the route parser', () => {
  it('reads iproute2 multipath words: nexthop via A [dev D] [weight W] …', () => {
    const e = parseRouteWords(['10.20.0.0/16', 'nexthop', 'via', '10.1.0.2', 'dev', 'west', 'weight', '3', 'nexthop', 'via', '10.2.0.2']);
    assert.deepEqual(e, {
      addr: ip('10.20.0.0'),
      len: 16,
      blackhole: false,
      paths: [
        { via: ip('10.1.0.2'), port: 'west', weight: 3 },
        { via: ip('10.2.0.2'), weight: 1 },
      ],
    });
    // a port alone is a path too (iproute2's `nexthop dev D`)
    assert.deepEqual(parseRouteWords(['10.20.0.0/16', 'nexthop', 'dev', 'west', 'nexthop', 'via', '10.2.0.2']).paths, [
      { port: 'west', weight: 1 },
      { via: ip('10.2.0.2'), weight: 1 },
    ]);
  });

  it('one nexthop is a plain route', () => {
    assert.deepEqual(parseRouteWords(['10.20.0.0/16', 'nexthop', 'via', '10.1.0.2']), {
      addr: ip('10.20.0.0'),
      len: 16,
      blackhole: false,
      via: ip('10.1.0.2'),
    });
  });

  it('names what is wrong', () => {
    const bad: [string[], RegExp][] = [
      [['via', '10.1.0.2', 'nexthop', 'via', '10.2.0.2'], /every gateway after "nexthop"/],
      [['nexthop', 'via', '10.1.0.2', 'nexthop', 'via', '10.1.0.2'], /nexthop 2 repeats an earlier one/],
      [['nexthop', 'via', '10.1.0.2', 'weight', '0', 'nexthop', 'via', '10.2.0.2'], /weight 0 in nexthop 1: use a whole number 1-256/],
      [['nexthop', 'via', '10.1.0.2', 'weight', '257', 'nexthop', 'via', '10.2.0.2'], /weight 257/],
      [['nexthop', 'nexthop', 'via', '10.2.0.2'], /nexthop 1 needs "via <address>" or "dev <port>"/],
      [['nexthop', 'via', '10.1.0.2', 'blackhole'], /expected "via <address>", "dev <port>" or "weight <1-256>" in nexthop 1, got "blackhole"/],
      [['nexthop', 'via', '10.1.0.2', 'weight'], /'weight' needs a value/],
      [['nexthop', 'via', '224.0.0.1', 'nexthop', 'via', '10.2.0.2'], /224\.0\.0\.1 is a multicast address/],
    ];
    for (const [words, re] of bad) throwsCode(() => parseRouteWords(['10.20.0.0/16', ...words]), 'EINVAL', re);
  });

  it('the control socket fields and route files go through the same words', () => {
    const f = routeFromFields({
      prefix: '10.20.0.0/16',
      nexthops: [
        { via: '10.1.0.2', weight: 2 },
        { via: '10.2.0.2', port: 'east' },
      ],
    });
    assert.deepEqual(f.paths, [
      { via: ip('10.1.0.2'), weight: 2 },
      { via: ip('10.2.0.2'), port: 'east', weight: 1 },
    ]);
    throwsCode(() => routeFromFields({ prefix: '10.20.0.0/16', nexthops: [] }), 'EINVAL', /nexthops is empty/);
    throwsCode(() => routeFromFields({ prefix: '10.20.0.0/16', via: '10.1.0.2', nexthops: [{ via: '10.2.0.2' }] }), 'EINVAL', /after "nexthop"/);
    assert.deepEqual(parseRouteLine('10.20.0.0/16 nexthop via 10.1.0.2 nexthop via 10.2.0.2 weight 2 # two')!.paths, [
      { via: ip('10.1.0.2'), weight: 1 },
      { via: ip('10.2.0.2'), weight: 2 },
    ]);
    // 32 paths of 7 words each fit on one line
    const many = Array.from({ length: 32 }, (_, i) => `nexthop via 10.1.0.${i + 2} dev west weight 1`).join(' ');
    assert.equal(parseRouteLine(`10.20.0.0/16 ${many}`)!.paths!.length, 32);
  });
});

describe('ecmp: the config routes[].nexthops', () => {
  const PORTS = `ports:
  - {name: west, device: "net_af_packet0,iface=vwest", address: 10.1.0.1/24}
  - {name: east, device: "net_af_packet1,iface=veast", address: 10.2.0.1/24}
`;
  const errorsOf = (text: string): string[] => {
    try {
      parseConfig(text, 't.yaml');
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      return e.errors;
    }
    return [];
  };

  it('takes a list of {via, port, weight}; ports come from the connected subnets as for one gateway', () => {
    const c = parseConfig(`${PORTS}routes: [{prefix: 10.20.0.0/16, nexthops: [{via: 10.1.0.2}, {via: 10.2.0.2, weight: 3}]}]`, 't');
    assert.deepEqual(c.routes[0].nexthops, [
      { via: '10.1.0.2', port: 'west', weight: 1 },
      { via: '10.2.0.2', port: 'east', weight: 3 },
    ]);
    assert.deepEqual(parsedOf(c.routes[0]).paths, [
      { via: ip('10.1.0.2'), port: 'west', weight: 1 },
      { via: ip('10.2.0.2'), port: 'east', weight: 3 },
    ]);
    // one path: a plain route
    const one = parseConfig(`${PORTS}routes: [{prefix: 10.20.0.0/16, nexthops: [{via: 10.2.0.2}]}]`, 't');
    assert.equal(one.routes[0].via, '10.2.0.2');
    assert.equal(one.routes[0].port, 'east');
    assert.equal(one.routes[0].nexthops, undefined);
  });

  it('reports bad paths with their place', () => {
    assert.deepEqual(errorsOf(`${PORTS}routes: [{prefix: 10.20.0.0/16, nexthops: [{via: 10.1.0.2}, {via: 10.9.0.2}]}]`), [
      "routes[0].nexthops[1].via: 10.9.0.2 is not in any port's connected subnet; add port: <name>",
    ]);
    assert.deepEqual(errorsOf(`${PORTS}routes: [{prefix: 10.20.0.0/16, via: 10.1.0.2, nexthops: [{via: 10.2.0.2}]}]`), [
      'routes[0].nexthops: a route with nexthops takes no via, port or blackhole of its own: give them in each nexthop',
    ]);
    assert.deepEqual(errorsOf(`${PORTS}routes: [{prefix: 10.20.0.0/16, nexthops: [{via: 10.1.0.2, weight: 0}, {via: 10.2.0.2}]}]`), [
      'routes[0].nexthops: weight 0 in nexthop 1: use a whole number 1-256',
    ]);
    assert.deepEqual(errorsOf(`${PORTS}routes: [{prefix: 10.20.0.0/16, nexthops: [{via: 10.1.0.2, port: north}, {via: 10.2.0.2}]}]`), [
      'routes[0].nexthops[0].port: no port named north; ports are west, east',
    ]);
    assert.match(errorsOf(`${PORTS}routes: [{prefix: 10.20.0.0/16, nexthops: [{gw: 10.1.0.2}]}]`)[0], /^routes\[0\]\.nexthops\[0\]\.gw: unknown key/);
  });
});

describe('ecmp: groups in the RIB', () => {
  it('routes with the same paths, in any order, share one group; the last one out gives it and its members back', () => {
    const { fib, rib } = setup();
    rib.addRoute({ addr: ip('10.20.0.0'), len: 16, paths: AB });
    rib.addRoute({ addr: ip('10.21.0.0'), len: 16, paths: [AB[1], AB[0]] });
    assert.equal(fib.table.get('10.20.0.0/16'), fib.table.get('10.21.0.0/16'));
    const word = fib.table.get('10.20.0.0/16')!;
    assert.match(fib.words.get(word)!, /^group \d+$/);
    assert.deepEqual(rib.groupUsage(), { used: 1, max: 16 });
    assert.deepEqual(
      nexthops(rib).filter((h) => !h.startsWith('glean') && !h.startsWith('local')),
      ['drop - refs 1', 'gateway 10.1.0.2 refs 1', 'gateway 10.2.0.2 refs 1', 'group - refs 2'],
    );
    // other weights: another group
    rib.addRoute({ addr: ip('10.22.0.0'), len: 16, paths: [AB[0], { ...AB[1], weight: 3 }] });
    assert.deepEqual(rib.groupUsage(), { used: 2, max: 16 });
    const g3 = fib.groups.get(Number(fib.words.get(fib.table.get('10.22.0.0/16')!)!.split(' ')[1]))!;
    assert.deepEqual(g3.weights, [1, 3]);
    for (const p of ['10.20.0.0', '10.21.0.0', '10.22.0.0']) rib.delRoute(ip(p), 16);
    assert.deepEqual(rib.groupUsage(), { used: 0, max: 16 });
    assert.equal(fib.deleted.length, 2);
    assert.equal(fib.words.get(word), 'drop');
    assert.ok(!nexthops(rib).some((h) => h.startsWith('gateway') || h.startsWith('group')), nexthops(rib).join(', '));
  });

  it('a member leaves the buckets while its MAC is unknown and comes back with it; the route stays', () => {
    const { fib, rib } = setup();
    rib.addRoute({ addr: ip('10.20.0.0'), len: 16, paths: AB });
    const gid = Number(fib.words.get(fib.table.get('10.20.0.0/16')!)!.split(' ')[1]);
    assert.deepEqual(fib.groups.get(gid)!.live, [0, 0]); // none resolved: all keep their buckets (C)
    rib.setNeighbor(ip('10.1.0.2'), 'west', parseMac('02:00:00:00:01:02'));
    assert.deepEqual(fib.groups.get(gid)!.live, [1, 0]);
    rib.setNeighbor(ip('10.2.0.2'), 'east', parseMac('02:00:00:00:02:02'));
    assert.deepEqual(fib.groups.get(gid)!.live, [1, 1]);
    rib.clearNeighborMac(ip('10.2.0.2')); // ARP gave up: FAILED
    assert.deepEqual(fib.groups.get(gid)!.live, [1, 0]);
    const v = rib.lookup(ip('10.20.1.1'))!;
    assert.equal(v.kind, 'group');
    assert.deepEqual(v.paths, [
      { via: '10.1.0.2', port: 'west', weight: 1, mac: '02:00:00:00:01:02' },
      { via: '10.2.0.2', port: 'east', weight: 1, mac: null, dead: true },
    ]);
    assert.ok(rib.isGroupMember(ip('10.2.0.2'), 1));
    assert.ok(!rib.isGroupMember(ip('10.2.0.2'), 0));
  });

  it('a route given other paths keeps its group when no other route shares it (C then moves only what it must)', () => {
    const { fib, rib } = setup();
    const C = { via: ip('10.2.0.3'), weight: 1 };
    rib.addRoute({ addr: ip('10.20.0.0'), len: 16, paths: [...AB, C] });
    const word = fib.table.get('10.20.0.0/16')!;
    const gid = Number(fib.words.get(word)!.split(' ')[1]);
    const cId = rib.listNexthops().find((h) => h.via === '10.2.0.3')!.id;
    assert.equal(fib.groups.get(gid)!.nhs.length, 3);
    rib.addRoute({ addr: ip('10.20.0.0'), len: 16, paths: AB });
    assert.equal(fib.table.get('10.20.0.0/16'), word, 'the same next-hop word');
    assert.equal(fib.groups.get(gid)!.nhs.length, 2, 'the same group, two members now');
    assert.ok(!fib.groups.get(gid)!.nhs.includes(cId));
    assert.deepEqual(fib.deleted, []);
    assert.ok(!nexthops(rib).some((h) => h.includes('10.2.0.3')), 'C given back');
    assert.deepEqual(
      nexthops(rib).filter((h) => h.startsWith('group')),
      ['group - refs 1'],
    );
    // shared: another route keeps the old paths' group, this one gets a new one
    rib.addRoute({ addr: ip('10.21.0.0'), len: 16, paths: AB });
    rib.addRoute({ addr: ip('10.20.0.0'), len: 16, paths: [...AB, C] });
    assert.notEqual(fib.table.get('10.20.0.0/16'), fib.table.get('10.21.0.0/16'));
    assert.equal(fib.table.get('10.21.0.0/16'), word);
    assert.deepEqual(rib.groupUsage().used, 2);
    // its own group changed in place even though 10.21's group has the new paths; a new route shares 10.21's
    const own = fib.table.get('10.20.0.0/16');
    rib.addRoute({ addr: ip('10.20.0.0'), len: 16, paths: AB });
    assert.equal(fib.table.get('10.20.0.0/16'), own);
    rib.addRoute({ addr: ip('10.22.0.0'), len: 16, paths: AB });
    assert.equal(fib.table.get('10.22.0.0/16'), word);
    assert.deepEqual(rib.groupUsage().used, 2);
    for (const p of ['10.20.0.0', '10.21.0.0', '10.22.0.0']) rib.delRoute(ip(p), 16);
    assert.deepEqual(rib.groupUsage().used, 0);
    assert.ok(!nexthops(rib).some((h) => h.startsWith('gateway') || h.startsWith('group')), nexthops(rib).join(', '));
  });

  it('a port whose link is down takes its paths out until it comes back', () => {
    const { fib, rib } = setup();
    rib.setNeighbor(ip('10.1.0.2'), 'west', parseMac('02:00:00:00:01:02'));
    rib.setNeighbor(ip('10.2.0.2'), 'east', parseMac('02:00:00:00:02:02'));
    rib.addRoute({ addr: ip('10.20.0.0'), len: 16, paths: AB });
    const gid = Number(fib.words.get(fib.table.get('10.20.0.0/16')!)!.split(' ')[1]);
    assert.deepEqual(fib.groups.get(gid)!.live, [1, 1]);
    rib.setPortLink(1, false);
    assert.deepEqual(fib.groups.get(gid)!.live, [1, 0]);
    assert.equal(rib.lookup(ip('10.20.0.1'))!.paths![1].dead, true);
    rib.setPortLink(1, true);
    assert.deepEqual(fib.groups.get(gid)!.live, [1, 1]);
  });

  it('limits: fib.maxGroups distinct path sets, GROUP_MAX_MEMBERS paths; a refusal leaves no reference behind', () => {
    const { rib } = setup(1);
    rib.addRoute({ addr: ip('10.20.0.0'), len: 16, paths: AB });
    const before = nexthops(rib);
    throwsCode(() => rib.addRoute({ addr: ip('10.21.0.0'), len: 16, paths: [AB[0], { via: ip('10.2.0.3'), weight: 1 }] }), 'ENOSPC', /fib\.maxGroups = 1/);
    assert.deepEqual(nexthops(rib), before);
    const many = Array.from({ length: GROUP_MAX_MEMBERS + 1 }, (_, i) => ({ via: ip(`10.1.0.${i + 2}`), weight: 1 }));
    throwsCode(() => rib.addRoute({ addr: ip('10.21.0.0'), len: 16, paths: many }), 'EINVAL', new RegExp(`at most ${GROUP_MAX_MEMBERS} paths`));
    throwsCode(
      () => rib.addRoute({ addr: ip('10.21.0.0'), len: 16, paths: [AB[0], { via: ip('10.9.0.2'), weight: 1 }] }),
      'EINVAL',
      /10\.9\.0\.2 is not in any port's connected subnet/,
    );
    throwsCode(
      () => rib.addRoute({ addr: ip('10.21.0.0'), len: 16, paths: [AB[0], { via: ip('10.1.0.2'), port: 'west', weight: 2 }] }),
      'EINVAL',
      /paths 1 and 2 are the same next hop/,
    );
    assert.deepEqual(nexthops(rib), before);
  });

  it('a route file with multipath lines: each line its own paths, groups shared across lines', () => {
    const { fib, rib } = setup();
    const { routes, errors } = parseRouteFile(
      [
        '10.20.0.0/16 nexthop via 10.1.0.2 nexthop via 10.2.0.2',
        '10.21.0.0/16 nexthop via 10.1.0.2 nexthop via 10.2.0.2 weight 2',
        '10.22.0.0/16 nexthop via 10.2.0.2 nexthop via 10.1.0.2',
        '10.23.0.0/16 via 10.1.0.2',
      ].join('\n'),
    );
    assert.deepEqual(errors, []);
    assert.equal(rib.addRoutesBulk(routes), 4);
    const t = (p: string) => fib.table.get(p)!;
    assert.notEqual(t('10.20.0.0/16'), t('10.21.0.0/16'));
    assert.equal(t('10.20.0.0/16'), t('10.22.0.0/16'));
    assert.deepEqual(rib.groupUsage().used, 2);
    assert.match(fib.words.get(t('10.23.0.0/16'))!, /^action/); // unresolved gateway
    // RouteBatch.entry gives the paths back
    assert.deepEqual(routes.entry(1).paths, [
      { via: ip('10.1.0.2'), weight: 1 },
      { via: ip('10.2.0.2'), weight: 2 },
    ]);
    assert.deepEqual(RouteBatch.from([routes.entry(1)]).entry(0), routes.entry(1));
  });

  it('a FIB without groups refuses multipath routes with a clear error', () => {
    const plain: FibWriter = { fibAdd: () => {}, fibDel: () => {}, fibAddBulk: (a) => a.length, nexthopSet: () => {}, nexthopActionWithPort: () => {} };
    const rib = new Rib(
      plain,
      [
        { name: 'west', index: 0 },
        { name: 'east', index: 1 },
      ],
      64,
    );
    rib.addAddress('west', ip('10.1.0.1'), 24);
    rib.addAddress('east', ip('10.2.0.1'), 24);
    const e = throwsCode(() => rib.addRoute({ addr: ip('10.20.0.0'), len: 16, paths: AB }), 'EINVAL', /takes no multipath routes/);
    assert.ok(e instanceof DpfwdError);
  });
});
