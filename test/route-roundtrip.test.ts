/**
 * One route from config to socket to RIB to `config save` and back, without a dataplane: what
 * `route show -j` lists after routes are added (as the socket's route.add does), saved
 * (`config save`: renderRunning, then validated) and started again (Forwarder.program's steps),
 * is what it listed before — ECMP with weights, blackholes, VLAN interfaces and static
 * neighbours included — and `config diff` sees a changed path or weight.
 */
import { strict as assert } from 'assert';
import { routeAdd, routeRow, type Ctx } from '../src/api/actions';
import { parseConfig } from '../src/config';
import { parsedOf, type ArpConfig, type Config, type IcmpConfig } from '../src/config/types';
import { ControlPlane, PuntIo } from '../src/controlplane';
import { applyDiff, diffLines, diffState, Live, renderRunning, stateOfConfig, stateOfRunning } from '../src/forwarder/reload';
import { formatIPv4, parseIPv4 } from '../src/net/ipv4';
import { formatMac, parseMac } from '../src/net/mac';
import { Interfaces } from '../src/routing/interfaces';
import { Rib } from '../src/routing/rib';
import { RouteBatch } from '../src/routing/routes';
import { NullFib } from './helpers/nullfib';

const ARP: ArpConfig = {
  reachableMs: 60000,
  staleMs: 60000,
  retransmitMs: 60000,
  probes: 3,
  queueLen: 4,
  maxEntries: 100,
  maxIncomplete: 100,
  newPerSecond: 1000,
  lockMs: 1000,
};
const ICMP: IcmpConfig = { unreachable: true, rateLimit: 1000, burst: 50 };

const BASE = `ports:
  - {name: west, device: net_null0, address: 10.1.0.1/24}
  - {name: east, device: net_null1, address: 10.2.0.1/24}
fib: {maxNexthops: 16384, maxGroups: 8192}
`;

/** A router model with the two ports of BASE and nothing else. */
function live(): Live & { cp: ControlPlane } {
  const ifaces = new Interfaces([
    { index: 0, name: 'west', port: 0, vlan: 0, mac: parseMac('02:00:00:00:00:01'), mtu: 1500 },
    { index: 1, name: 'east', port: 1, vlan: 0, mac: parseMac('02:00:00:00:00:02'), mtu: 1500 },
  ]);
  const rib = new Rib(new NullFib(), ifaces, 16384, 100, 8192);
  const punt: PuntIo = { names: () => ({ punts: ['arp'] }), puntListen: () => {}, inject: () => true };
  const cp = new ControlPlane({ punt, rib, ifaces, config: { icmp: ICMP, arp: ARP } });
  const dp = { ifaceSet: () => {}, ifaceDel: () => {}, constants: () => ({ maxPorts: 16, maxSubifs: 1024 }) as never };
  return { rib, ifaces, cp, dp };
}

/** A forwarder model started from a config, in Forwarder.program's steps (src/forwarder/index.ts). */
function started(c: Config): Live & { cp: ControlPlane } {
  const l = live();
  for (const ic of c.interfaces) {
    l.ifaces.addSubif(l.dp, l.dp.constants(), { name: ic.name, port: ic.port, vlan: ic.vlan, mtu: ic.mtu });
    for (const a of parsedOf(ic).addresses) l.rib.addAddress(ic.name, a.addr, a.len);
  }
  for (const p of c.ports) for (const a of parsedOf(p).addresses) l.rib.addAddress(p.name, a.addr, a.len);
  for (const n of c.neighbors) l.cp.neighbors.setPermanent(parsedOf(n).address, l.ifaces.index(n.port), parsedOf(n).mac);
  if (c.routes.length) l.rib.addRoutesBulk(RouteBatch.from(c.routes.map((r) => parsedOf(r))));
  return l;
}

/** `route show -j`: every route's row, in the table's order. */
const show = (l: Live) => l.rib.listRoutes().map(routeRow);

/** `config save`: the running configuration, refused unless it validates (as config.save does). */
function save(l: Live, fileText: string): string {
  const text = renderRunning(fileText, parseConfig(fileText, 't'), stateOfRunning(l));
  parseConfig(text, 'running configuration');
  return text;
}

const ctxOf = (l: Live & { cp: ControlPlane }) => ({ fwd: { rib: l.rib, ifaces: l.ifaces, ports: l.ifaces.ports(), cp: l.cp } }) as unknown as Ctx;

const MULTI = `${BASE}routes: [{prefix: 10.50.0.0/16, nexthops: [{via: 10.2.0.2}, {via: 10.1.0.3, weight: 3}]}]\n`;

describe('one route: config, reload, save and show agree', () => {
  it('config show prints a multipath route with its next hops and weights', () => {
    const l = started(parseConfig(MULTI, 't'));
    const shown = parseConfig(save(l, MULTI), 't').routes;
    assert.deepEqual(JSON.parse(JSON.stringify(shown)), [
      {
        prefix: '10.50.0.0/16',
        blackhole: false,
        nexthops: [
          { via: '10.1.0.3', port: 'west', weight: 3 },
          { via: '10.2.0.2', port: 'east', weight: 1 },
        ],
      },
    ]);
  });

  it('config save keeps a multipath route added at run time (route add … nexthop …)', () => {
    const l = started(parseConfig(BASE, 't'));
    routeAdd(ctxOf(l), { prefix: '10.60.0.0/16', nexthops: [{ via: '10.2.0.2', weight: 2 }, { port: 'west' }] });
    const before = show(l);
    const after = show(started(parseConfig(save(l, BASE), 't')));
    assert.deepEqual(after, before);
  });

  it('config diff and reload see a changed weight, and reload applies it', () => {
    const l = started(parseConfig(MULTI, 't'));
    const text = MULTI.replace('weight: 3', 'weight: 5');
    const d = diffState(stateOfRunning(l), stateOfConfig(parseConfig(text, 't')));
    assert.deepEqual(diffLines(d), [
      '- route 10.50.0.0/16 nexthop via 10.2.0.2 port east weight 1 nexthop via 10.1.0.3 port west weight 3',
      '+ route 10.50.0.0/16 nexthop via 10.2.0.2 port east weight 1 nexthop via 10.1.0.3 port west weight 5',
    ]);
    applyDiff(l, d);
    assert.deepEqual(
      l.rib.lookup(parseIPv4('10.50.0.1'))!.paths!.map((p) => p.weight),
      [5, 1],
    );
    assert.deepEqual(diffLines(diffState(stateOfRunning(l), stateOfConfig(parseConfig(text, 't')))), []);
  });

  it('a changed path (another gateway) is a change too; the same paths in another order are not', () => {
    const l = started(parseConfig(MULTI, 't'));
    const other = diffState(stateOfRunning(l), stateOfConfig(parseConfig(MULTI.replace('10.2.0.2', '10.2.0.9'), 't')));
    assert.equal(other.routes.changed.length, 1);
    const swapped = `${BASE}routes: [{prefix: 10.50.0.0/16, nexthops: [{via: 10.1.0.3, weight: 3}, {via: 10.2.0.2}]}]\n`;
    assert.deepEqual(diffLines(diffState(stateOfRunning(l), stateOfConfig(parseConfig(swapped, 't')))), []);
  });

  it('round trip of 3000 random routes: route show -j → config save → restart → route show -j is the same; diff sees one changed weight', function () {
    this.timeout(60000);
    // a seeded generator: the same routes every run
    let seed = 19;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const l = started(parseConfig(BASE, 't'));
    const ctx = ctxOf(l);
    // VLAN sub-interfaces with their subnets, and static neighbours, as the CLI makes them
    l.ifaces.addSubif(l.dp, l.dp.constants(), { port: 'west', vlan: 100 });
    l.ifaces.addSubif(l.dp, l.dp.constants(), { port: 'east', vlan: 200, mtu: 1400 });
    l.rib.addAddress('west.100', parseIPv4('10.100.0.1'), 24);
    l.rib.addAddress('east.200', parseIPv4('10.200.0.1'), 24);
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
    for (let k = 0; k < 30; k++) {
      const g = gw();
      l.cp.neighbors.setPermanent(parseIPv4(g.via), l.ifaces.index(g.port), parseMac(`02:00:00:00:${(k + 16).toString(16)}:01`));
    }
    const seen = new Set<string>();
    let multipath = 0;
    while (seen.size < 3000) {
      const len = 8 + rnd(25);
      const top = 20 + rnd(180);
      if (top === 127) continue; // loopback is never routed
      const addr = ((top * 2 ** 24 + rnd(2 ** 24)) & ~(2 ** (32 - len) - 1)) >>> 0;
      const prefix = `${formatIPv4(addr)}/${len}`;
      if (seen.has(prefix)) continue;
      seen.add(prefix);
      const kind = rnd(10);
      if (kind === 0) routeAdd(ctx, { prefix, blackhole: true });
      else if (kind === 1) routeAdd(ctx, { prefix, port: subnets[rnd(4)][0] });
      else if (kind < 5) {
        const g = gw();
        routeAdd(ctx, rnd(2) ? { prefix, via: g.via } : { prefix, via: g.via, port: g.port });
      } else {
        const n = 2 + rnd(4);
        const paths = new Map<string, { via?: string; port?: string; weight?: number }>();
        while (paths.size < n) {
          const g = gw();
          const p = rnd(6) === 0 ? { port: g.port } : rnd(2) ? { via: g.via } : { via: g.via, port: g.port };
          paths.set(p.via ?? `dev ${p.port}`, rnd(3) ? { ...p, weight: 1 + rnd(256) } : p);
        }
        routeAdd(ctx, { prefix, nexthops: [...paths.values()] });
        multipath++;
      }
    }
    assert.ok(multipath > 1000, `${multipath} multipath routes`);
    const before = show(l);
    assert.ok(before.length > 3000 && before.some((r) => r.dev === 'east.200') && before.some((r) => r.type === 'blackhole'));
    const saved = save(l, BASE);
    const again = started(parseConfig(saved, 't'));
    assert.deepEqual(show(again), before);
    assert.deepEqual(diffLines(diffState(stateOfRunning(again), stateOfConfig(parseConfig(saved, 't')))), []);
    // neighbours and interfaces came back too
    assert.deepEqual(again.cp.neighborRows(), l.cp.neighborRows());
    assert.deepEqual(
      again.ifaces.list().map((i) => [i.name, i.vlan, i.mtu]),
      l.ifaces.list().map((i) => [i.name, i.vlan, i.mtu]),
    );
    // one weight changed in the saved file: config diff names that route, and only it
    const m = /weight: (\d+)/.exec(saved.slice(saved.indexOf('nexthops')))!;
    const at = saved.indexOf('nexthops') + m.index;
    const edited = `${saved.slice(0, at)}weight: ${m[1] === '7' ? 8 : 7}${saved.slice(at + m[0].length)}`;
    const d = diffState(stateOfRunning(again), stateOfConfig(parseConfig(edited, 't')));
    assert.equal(d.routes.changed.length, 1);
    assert.deepEqual([d.routes.added.length, d.routes.removed.length], [0, 0]);
    // and the MAC of a neighbour is in the saved file as the running one has it
    assert.ok(saved.includes(formatMac(parseMac('02:00:00:00:10:01'))));
  });
});
