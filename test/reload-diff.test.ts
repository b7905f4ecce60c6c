/**
 * src/forwarder/reload.ts without a dataplane: the diff between running state and a file, the
 * restart-only keys, and the all-or-nothing apply (a step that fails undoes the ones before it).
 */
import { strict as assert } from 'assert';
import { parseConfig } from '../src/config';
import type { ArpConfig, IcmpConfig } from '../src/config/types';
import { ControlPlane, PuntIo } from '../src/controlplane';
import { CONFIG_KEYS, keyChange } from '../src/config/keys';
import type { Config } from '../src/config/types';
import {
  applyDiff,
  applyLiveSettings,
  diffState,
  Live,
  restartProblems,
  SETTING_SECTIONS,
  settingChanges,
  stateOfConfig,
  stateOfRunning,
} from '../src/forwarder/reload';
import { parseIPv4 } from '../src/net/ipv4';
import { parseMac } from '../src/net/mac';
import { Interfaces } from '../src/routing/interfaces';
import { Rib } from '../src/routing/rib';
import { routeFields } from '../src/routing/route';
import { routeFromFields } from '../src/routing/routes';
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
`;

function live(): Live & { cp: ControlPlane } {
  const ifaces = new Interfaces([
    { index: 0, name: 'west', port: 0, vlan: 0, mac: parseMac('02:00:00:00:00:01'), mtu: 1500 },
    { index: 1, name: 'east', port: 1, vlan: 0, mac: parseMac('02:00:00:00:00:02'), mtu: 1500 },
  ]);
  const rib = new Rib(new NullFib(), ifaces, 1024);
  const punt: PuntIo = { names: () => ({ punts: ['arp'] }), puntListen: () => {}, inject: () => true };
  const cp = new ControlPlane({ punt, rib, ifaces, config: { icmp: ICMP, arp: ARP } });
  const dp = { ifaceSet: () => {}, ifaceDel: () => {}, constants: () => ({ maxPorts: 16, maxSubifs: 1024 }) as never };
  return { rib, ifaces, cp, dp };
}

/** A forwarder model programmed from a file, as Forwarder.program does, through applyDiff. */
function programmed(text: string) {
  const l = live();
  applyDiff(l, diffState(stateOfRunning(l), stateOfConfig(parseConfig(text, 't'))));
  return l;
}

const dump = (l: Live) => JSON.stringify(Object.fromEntries(Object.entries(stateOfRunning(l)).map(([k, m]) => [k, [...m.entries()]])));

describe('reload: diff and apply', () => {
  it('running → file: CLI additions go, file entries come, changed next hops are changes', () => {
    const l = programmed(`${BASE}routes: [{prefix: 10.20.0.0/16, via: 10.2.0.2}, {prefix: 10.21.0.0/16, via: 10.2.0.2}]\n`);
    l.rib.addRoute({ addr: parseIPv4('10.99.0.0'), len: 16, blackhole: true }); // the CLI's
    const text = `${BASE}routes: [{prefix: 10.20.0.0/16, via: 10.2.0.2}, {prefix: 10.21.0.0/16, via: 10.1.0.9}, {prefix: 10.30.0.0/16, port: east}]
interfaces: [{port: west, vlan: 100, address: 10.100.0.1/24}]
neighbors: [{address: 10.2.0.2, mac: "02:00:00:00:02:02", port: east}]
`;
    const file = parseConfig(text, 't');
    const d = diffState(stateOfRunning(l), stateOfConfig(file));
    // routes are the one Route (numbers); compared here in the config's words
    assert.deepEqual(d.routes.removed.map(routeFields), [{ prefix: '10.99.0.0/16', blackhole: true }]);
    assert.deepEqual(d.routes.added.map(routeFields), [{ prefix: '10.30.0.0/16', port: 'east' }]);
    assert.deepEqual(
      d.routes.changed.map((c) => ({ from: routeFields(c.from), to: routeFields(c.to) })),
      [{ from: { prefix: '10.21.0.0/16', via: '10.2.0.2', port: 'east' }, to: { prefix: '10.21.0.0/16', via: '10.1.0.9', port: 'west' } }],
    );
    assert.deepEqual(d.interfaces.added, [{ name: 'west.100', port: 'west', vlan: 100, mtu: 1500 }]);
    assert.deepEqual(d.addresses.added, [{ iface: 'west.100', address: '10.100.0.1/24' }]);
    assert.deepEqual(d.neighbors.added, [{ address: '10.2.0.2', mac: '02:00:00:00:02:02', port: 'east' }]);
    applyDiff(l, d);
    assert.equal(dump(l), dump(programmed(text)), 'the same state as a forwarder started from the file');
    assert.equal(l.cp.neighbors.get(parseIPv4('10.2.0.2'))?.state, 'PERMANENT');
  });

  it('a step that fails undoes every step before it: routes, addresses, neighbours and interfaces as they were', () => {
    const l = programmed(`${BASE}routes: [{prefix: 10.20.0.0/16, via: 10.2.0.2}]\nneighbors: [{address: 10.2.0.7, mac: "02:00:00:00:02:07", port: east}]\n`);
    const before = dump(l);
    const to = stateOfConfig(
      parseConfig(
        `${BASE}interfaces: [{port: west, vlan: 100, address: 10.100.0.1/24}]
routes: [{prefix: 10.30.0.0/16, via: 10.2.0.3}]
`,
        't',
      ),
    );
    // the last route cannot be installed: a gateway outside every connected subnet (validation would
    // have caught it in a file; here it stands for any run-time failure, a full FIB or next-hop table)
    to.routes.set('10.40.0.0/16', routeFromFields({ prefix: '10.40.0.0/16', via: '10.77.0.1' }));
    const d = diffState(stateOfRunning(l), to);
    assert.ok(d.routes.removed.length === 1 && d.neighbors.removed.length === 1 && d.interfaces.added.length === 1);
    assert.throws(
      () => applyDiff(l, d),
      (e: Error & { code?: string }) => {
        assert.match(e.message, /^reload refused, nothing changed: gateway 10\.77\.0\.1 is not in any port's connected subnet/);
        assert.equal(e.code, 'EINVAL');
        return true;
      },
    );
    assert.equal(dump(l), before);
    assert.equal(l.ifaces.find('west.100'), undefined);
    assert.equal(l.cp.neighbors.get(parseIPv4('10.2.0.7'))?.state, 'PERMANENT');
  });

  it('names every restart-only key that differs, and none for live ones', () => {
    const run = parseConfig(`${BASE}routes: [{prefix: 10.20.0.0/16, via: 10.2.0.2}]\n`, 't');
    const live1 = parseConfig(
      `${BASE}icmp: {rateLimit: 5}\narp: {reachableMs: 5000}\ncontrol: {maxClients: 8}\nmetrics: {maxConnections: 8}\npunt: {maxWaitMs: 50}\nlog: {format: json}\n`,
      't',
    );
    assert.deepEqual(restartProblems(run, live1), []);
    const other = parseConfig(
      `ports:
  - {name: west, device: net_null0, address: 10.1.0.1/24, mtu: 9000}
  - {name: east, device: net_null1, address: 10.2.0.1/24}
fib: {maxRoutes: 4096}
punt: {rate: 5}
arp: {maxEntries: 10}
control: {socket: /tmp/x.sock}
`,
      't',
    );
    assert.deepEqual(restartProblems(run, other), [
      'ports[0].mtu: 1500 → 9000 needs a restart (restart to apply)',
      'fib.maxRoutes: 1048576 → 4096 needs a restart (restart to apply)',
      'fib.tbl8Groups: 65536 → 256 needs a restart (restart to apply)',
      'control.socket: "/run/dpfwd/dpfwd.sock" → "/tmp/x.sock" needs a restart (restart to apply)',
      'punt.rate: 10000 → 5 needs a restart (restart to apply)',
      'arp.maxEntries: 4096 → 10 needs a restart (restart to apply)',
    ]);
  });

  it('refuses linux.* and capture.* changes by name (they were reloaded as "the same", +0 -0)', () => {
    const run = parseConfig(BASE, 't');
    const file = parseConfig(`${BASE}linux: {netns: x, mirror: true}\ncapture: {ringSize: 4096}\n`, 't');
    assert.deepEqual(restartProblems(run, file), [
      'capture.ringSize: 2048 → 4096 needs a restart (restart to apply)',
      'linux.netns: unset → "x" needs a restart (restart to apply)',
      'linux.mirror: false → true needs a restart (restart to apply)',
      'linux.sync: {"enabled":false,"table":254,"protocols":"all","socketBuffer":4194304,"maxRoutes":2097152} → {"enabled":true,"table":254,"protocols":"all","socketBuffer":4194304,"maxRoutes":2097152} needs a restart (restart to apply)',
    ]);
  });

  it('audit of the key table: every key of every settings section is either refused by name or applied live', () => {
    const run = parseConfig(BASE, 't');
    const sections = Object.keys(CONFIG_KEYS).filter((s) => !['interfaces', 'routes', 'neighbors', 'ports', 'workers'].includes(s));
    assert.deepEqual([...SETTING_SECTIONS].sort(), sections.sort(), 'reload knows every section of the table');
    let n = 0;
    for (const s of SETTING_SECTIONS) {
      for (const k of Object.keys(CONFIG_KEYS[s].keys)) {
        const file = { ...run, [s]: { ...(run[s] as object), [k]: { changed: `${s}.${k}` } } } as Config;
        const restart = restartProblems(run, file);
        if (keyChange(s, k) === 'restart') {
          assert.equal(restart.length, 1, `${s}.${k}: ${JSON.stringify(restart)}`);
          assert.match(restart[0], new RegExp(`^${s}\\.${k}: .* needs a restart`));
          assert.deepEqual(settingChanges(run, file), []);
        } else {
          assert.deepEqual(restart, [], `${s}.${k} is live`);
          assert.deepEqual(settingChanges(run, file), [`${s}.${k}`]);
          const applied = { ...run, [s]: { ...(run[s] as object) } } as Config;
          applyLiveSettings(applied, file);
          assert.deepEqual((applied[s] as unknown as Record<string, unknown>)[k], { changed: `${s}.${k}` }, `${s}.${k} applied`);
        }
        n++;
      }
    }
    assert.ok(n > 40, `${n} keys audited`);
  });
});
