/**
 * Reload and saved state: what the forwarder runs (the file it started with, or last reloaded,
 * plus what the CLI changed since), the difference between that and a config file, and applying
 * that difference live.
 *
 * The file is the truth on reload (iproute2/FRR habit): routes, addresses, static neighbours
 * and VLAN sub-interfaces that the CLI added and the file lacks are removed, and the reload's
 * report counts them (`cliChangesDropped`); `dpfwd config save` first keeps them.
 *
 * A reload is all or nothing: the file is validated whole (parseConfig), every restart-only key
 * that differs is refused by name before anything changes, and the live changes are applied
 * with an undo log: a step that fails undoes the ones before it, in reverse, so the running
 * routes, addresses, neighbours and interfaces are as before (learned neighbours of a removed
 * interface or address are not brought back: ARP learns them again). Settings (ICMP, ARP
 * timers, limits, log) are applied last; they cannot fail once validated.
 */
import { Document, isMap, isSeq, parseDocument, YAMLMap } from 'yaml';
import { CONFIG_KEYS, keyChange } from '../config/keys';
import { parsedOf, type Config, type PortConfig } from '../config/types';
import { DpfwdError } from '../errors';
import { formatIPv4, formatPrefix, parseInterfaceAddress, parseIPv4 } from '../net/ipv4';
import { formatMac, parseMac } from '../net/mac';
import type { Rib } from '../routing/rib';
import { routeFields, routeWords, sameRoute, type Route } from '../routing/route';
import type { Interfaces } from '../routing/interfaces';
import type { ControlPlane } from '../controlplane';
import type { DataplaneConstants, SubifConf } from '../dataplane';

export interface IfaceSpec {
  name: string;
  port: string;
  vlan: number;
  mtu: number;
}
export interface NeighSpec {
  address: string;
  mac: string;
  port: string;
}

/** The part of a forwarder's state that the config describes and the CLI can change. */
export interface RunState {
  interfaces: Map<string, IfaceSpec>;
  /** `${iface} ${addr/len}` → { iface, address } */
  addresses: Map<string, { iface: string; address: string }>;
  neighbors: Map<string, NeighSpec>;
  /** static routes by prefix ("10.20.0.0/16"), as numbers (the one Route) */
  routes: Map<string, Route>;
}

/** What the forwarder gives this module: its RIB, interfaces, control plane and dataplane. */
export interface Live {
  rib: Rib;
  ifaces: Interfaces;
  cp: Pick<ControlPlane, 'neighbors' | 'icmp'>;
  dp: { ifaceSet(index: number, s: SubifConf): void; ifaceDel(index: number): void; constants(): DataplaneConstants };
}

/** The state a config file describes; `extra` are addresses taken at start from Multus' network-status. */
export function stateOfConfig(c: Config, extra: Map<string, string[]> = new Map()): RunState {
  const s: RunState = { interfaces: new Map(), addresses: new Map(), neighbors: new Map(), routes: new Map() };
  const addr = (iface: string, a: string) => s.addresses.set(`${iface} ${a}`, { iface, address: a });
  for (const p of c.ports) {
    for (const a of p.addresses) addr(p.name, a);
    for (const a of extra.get(p.name) ?? []) addr(p.name, a);
  }
  for (const i of c.interfaces) {
    s.interfaces.set(i.name, { name: i.name, port: i.port, vlan: i.vlan, mtu: i.mtu });
    for (const a of i.addresses) addr(i.name, a);
  }
  for (const n of c.neighbors) s.neighbors.set(n.address, { address: n.address, mac: n.mac, port: n.port });
  // validation parsed each route into the one Route, its interfaces filled in (as the RIB has them)
  for (const r of c.routes) s.routes.set(r.prefix, parsedOf(r));
  return s;
}

/** The state the forwarder runs: static routes, interface addresses, PERMANENT neighbours, sub-interfaces. */
export function stateOfRunning(l: Live): RunState {
  const s: RunState = { interfaces: new Map(), addresses: new Map(), neighbors: new Map(), routes: new Map() };
  for (const i of l.ifaces.list()) {
    if (i.vlan !== 0) s.interfaces.set(i.name, { name: i.name, port: l.ifaces.name(i.port), vlan: i.vlan, mtu: i.mtu });
  }
  for (const a of l.rib.listAddresses()) {
    const address = `${formatIPv4(a.addr)}/${a.len}`;
    s.addresses.set(`${a.port} ${address}`, { iface: a.port, address });
  }
  for (const n of l.rib.listNeighbors()) {
    if (n.state !== 'PERMANENT' || n.mac === null) continue;
    s.neighbors.set(formatIPv4(n.addr), { address: formatIPv4(n.addr), mac: formatMac(n.mac), port: l.ifaces.name(n.iface) });
  }
  for (const key of l.rib.routeKeys()) {
    const addr = Math.floor(key / 64);
    const len = key % 64;
    if (l.rib.originOf(addr, len) !== 'static') continue;
    const r = l.rib.route(addr, len)!;
    delete r.origin;
    s.routes.set(formatPrefix(r), r);
  }
  return s;
}

/** Entries of one kind: in `to` only (added), in `from` only (removed), in both but different (changed). */
export interface KindDiff<T> {
  added: T[];
  removed: T[];
  changed: { from: T; to: T }[];
}

export interface StateDiff {
  interfaces: KindDiff<IfaceSpec>;
  addresses: KindDiff<{ iface: string; address: string }>;
  neighbors: KindDiff<NeighSpec>;
  routes: KindDiff<Route>;
}

function diffMaps<T>(from: Map<string, T>, to: Map<string, T>, same: (a: T, b: T) => boolean, forceChange: (a: T) => boolean = () => false): KindDiff<T> {
  const d: KindDiff<T> = { added: [], removed: [], changed: [] };
  for (const [k, a] of from) {
    const b = to.get(k);
    if (b === undefined) d.removed.push(a);
    else if (!same(a, b) || forceChange(a) || forceChange(b)) d.changed.push({ from: a, to: b });
  }
  for (const [k, b] of to) if (!from.has(k)) d.added.push(b);
  return d;
}

/**
 * from → to. A sub-interface whose port, VLAN or MTU changes is removed and added again, and so
 * is everything on it (its addresses, neighbours and the routes out of it).
 */
export function diffState(from: RunState, to: RunState): StateDiff {
  const interfaces = diffMaps(from.interfaces, to.interfaces, (a, b) => a.port === b.port && a.vlan === b.vlan && a.mtu === b.mtu);
  const redone = new Set(interfaces.changed.map((c) => c.from.name));
  return {
    interfaces,
    addresses: diffMaps(
      from.addresses,
      to.addresses,
      () => true,
      (a) => redone.has(a.iface),
    ),
    neighbors: diffMaps(
      from.neighbors,
      to.neighbors,
      (a, b) => a.mac === b.mac && a.port === b.port,
      (a) => redone.has(a.port),
    ),
    routes: diffMaps(
      from.routes,
      to.routes,
      sameRoute,
      (a) => (a.port !== undefined && redone.has(a.port)) || (a.paths?.some((p) => p.port !== undefined && redone.has(p.port)) ?? false),
    ),
  };
}

/**
 * Sections reload applies as lists of entries (a diff, applyDiff), and the two whose entries are
 * compared by position (ports: their live `address` goes through the diff too; workers: whole).
 * Every other section of CONFIG_KEYS is a mapping of settings, each live or restart by its row.
 */
const LIST_SECTIONS: ReadonlySet<string> = new Set(['interfaces', 'routes', 'neighbors', 'ports', 'workers']);
type SettingSection = Exclude<keyof typeof CONFIG_KEYS, 'interfaces' | 'routes' | 'neighbors' | 'ports' | 'workers'>;
/** Every settings section of the key table: what this module does not name it cannot skip. */
export const SETTING_SECTIONS = (Object.keys(CONFIG_KEYS) as (keyof typeof CONFIG_KEYS)[]).filter((s) => !LIST_SECTIONS.has(s)) as SettingSection[];

const valueOf = (c: Config, s: SettingSection, k: string) => (c[s] as unknown as Record<string, unknown>)[k];

/** `path: old → new needs a restart` for every restart-only key that differs (none: []). */
export function restartProblems(run: Config, file: Config): string[] {
  const out: string[] = [];
  const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v));
  const key = (path: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${path}: ${show(a)} → ${show(b)} needs a restart (restart to apply)`);
  };
  if (run.ports.length !== file.ports.length || run.ports.some((p, i) => p.name !== file.ports[i].name)) {
    key(
      'ports',
      run.ports.map((p) => p.name),
      file.ports.map((p) => p.name),
    );
  } else {
    run.ports.forEach((p, i) => {
      for (const k of Object.keys(CONFIG_KEYS.ports.keys)) {
        if (keyChange('ports', k) === 'live') continue;
        key(`ports[${i}].${k}`, (p as unknown as Record<string, unknown>)[k], (file.ports[i] as unknown as Record<string, unknown>)[k]);
      }
      key(`ports[${i}].address`, p.networkStatusLen, file.ports[i].networkStatusLen);
    });
  }
  key('workers', run.workers, file.workers);
  for (const s of SETTING_SECTIONS) {
    for (const k of Object.keys(CONFIG_KEYS[s].keys)) {
      if (keyChange(s, k) === 'live') continue;
      key(`${s}.${k}`, valueOf(run, s, k), valueOf(file, s, k));
    }
  }
  return out;
}

/** The live settings (not lists) that differ, as `section.key`. */
export function settingChanges(run: Config, file: Config): string[] {
  const out: string[] = [];
  for (const s of SETTING_SECTIONS) {
    for (const k of Object.keys(CONFIG_KEYS[s].keys)) {
      if (keyChange(s, k) !== 'live') continue;
      if (JSON.stringify(valueOf(run, s, k)) !== JSON.stringify(valueOf(file, s, k))) out.push(`${s}.${k}`);
    }
  }
  return out;
}

/**
 * Copies every live setting of `next` into `run`, in place (holders of a section see it): the
 * key table decides what is live, so a key made live there is applied here without a list to
 * keep in step.
 */
export function applyLiveSettings(run: Config, next: Config): void {
  for (const s of SETTING_SECTIONS) {
    for (const k of Object.keys(CONFIG_KEYS[s].keys)) {
      if (keyChange(s, k) === 'live') (run[s] as unknown as Record<string, unknown>)[k] = valueOf(next, s, k);
    }
  }
}

/** Applies a StateDiff to the running forwarder, all or nothing (see the header). */
export function applyDiff(l: Live, d: StateDiff): void {
  const undo: (() => void)[] = [];
  const step = (doIt: () => void, undoIt: () => void) => {
    doIt();
    undo.push(undoIt);
  };
  const route = (r: Route) => l.rib.addRoute(r);
  const unroute = (r: Route) => l.rib.delRoute(r.addr, r.len, 'static');
  const neigh = (n: NeighSpec) => l.cp.neighbors.setPermanent(parseIPv4(n.address), l.ifaces.index(n.port), parseMac(n.mac));
  const unneigh = (n: NeighSpec) => l.cp.neighbors.remove(parseIPv4(n.address));
  const addr = (a: { iface: string; address: string }) => {
    const ia = parseInterfaceAddress(a.address);
    l.rib.addAddress(a.iface, ia.addr, ia.len);
  };
  const unaddr = (a: { iface: string; address: string }) => {
    const ia = parseInterfaceAddress(a.address);
    l.rib.delAddress(a.iface, ia.addr, ia.len);
  };
  const iface = (i: IfaceSpec) => l.ifaces.addSubif(l.dp, l.dp.constants(), { name: i.name, port: i.port, vlan: i.vlan, mtu: i.mtu });
  const uniface = (i: IfaceSpec) => {
    const x = l.ifaces.find(i.name);
    if (!x) throw new DpfwdError('ENODEV', `unknown interface ${i.name}`);
    // learned neighbours on it go with it (as `interface del` does); routes out of it must be gone
    for (const n of l.cp.neighbors.list()) if (n.iface === x.index) l.cp.neighbors.remove(n.addr);
    const used = l.rib.listNexthops().filter((h) => h.port === i.name);
    if (used.length)
      throw new DpfwdError(
        'EBUSY',
        `interface ${i.name} is the way out of ${used.reduce((n, h) => n + h.refs, 0)} route(s) the file does not own (dpfwd route show)`,
      );
    l.ifaces.delSubif(l.dp, i.name);
  };
  try {
    // removals first (so nothing added meets what is going), then additions, each kind in dependency order
    for (const r of [...d.routes.removed, ...d.routes.changed.map((c) => c.from)])
      step(
        () => unroute(r),
        () => route(r),
      );
    for (const n of [...d.neighbors.removed, ...d.neighbors.changed.map((c) => c.from)])
      step(
        () => unneigh(n),
        () => neigh(n),
      );
    for (const a of [...d.addresses.removed, ...d.addresses.changed.map((c) => c.from)])
      step(
        () => unaddr(a),
        () => addr(a),
      );
    for (const i of [...d.interfaces.removed, ...d.interfaces.changed.map((c) => c.from)])
      step(
        () => uniface(i),
        () => iface(i),
      );
    for (const i of [...d.interfaces.added, ...d.interfaces.changed.map((c) => c.to)])
      step(
        () => iface(i),
        () => uniface(i),
      );
    for (const a of [...d.addresses.added, ...d.addresses.changed.map((c) => c.to)])
      step(
        () => addr(a),
        () => unaddr(a),
      );
    for (const n of [...d.neighbors.added, ...d.neighbors.changed.map((c) => c.to)])
      step(
        () => neigh(n),
        () => unneigh(n),
      );
    for (const r of [...d.routes.added, ...d.routes.changed.map((c) => c.to)])
      step(
        () => route(r),
        () => unroute(r),
      );
  } catch (e) {
    const failures: string[] = [];
    for (const u of undo.reverse()) {
      try {
        u();
      } catch (ue) {
        failures.push((ue as Error).message);
      }
    }
    const why = (e as Error).message;
    if (failures.length) {
      throw new DpfwdError(
        'EINTERNAL',
        `reload failed (${why}) and ${failures.length} change(s) could not be undone: ${failures.slice(0, 5).join('; ')}; restart dpfwd to get a known state`,
      );
    }
    throw new DpfwdError((e as DpfwdError).code ?? 'EINVAL', `reload refused, nothing changed: ${why}`);
  }
}

/** Counts per kind, as the reload reports them. */
export function diffCounts(d: StateDiff): Record<keyof StateDiff, { added: number; removed: number; changed: number }> {
  const c = <T>(k: KindDiff<T>) => ({ added: k.added.length, removed: k.removed.length, changed: k.changed.length });
  return { routes: c(d.routes), addresses: c(d.addresses), neighbors: c(d.neighbors), interfaces: c(d.interfaces) };
}

/** Removed entries that the previous file did not have either: made at run time (CLI, socket). */
export function runtimeOnlyRemoved(d: StateDiff, previousFile: RunState): string[] {
  const out: string[] = [];
  for (const r of d.routes.removed) if (!previousFile.routes.has(formatPrefix(r))) out.push(`route ${routeWords(r)}`);
  for (const a of d.addresses.removed) if (!previousFile.addresses.has(`${a.iface} ${a.address}`)) out.push(`address ${a.address} port ${a.iface}`);
  for (const n of d.neighbors.removed) if (!previousFile.neighbors.has(n.address)) out.push(`neighbor ${n.address} ${n.mac} port ${n.port}`);
  for (const i of d.interfaces.removed) if (!previousFile.interfaces.has(i.name)) out.push(`interface ${i.name} vlan ${i.vlan}`);
  return out;
}

/** One line per change, `-` what goes and `+` what comes (running → file). */
export function diffLines(d: StateDiff): string[] {
  const out: string[] = [];
  const kind = <T>(k: KindDiff<T>, show: (x: T) => string) => {
    for (const x of k.removed) out.push(`- ${show(x)}`);
    for (const c of k.changed) out.push(`- ${show(c.from)}`, `+ ${show(c.to)}`);
    for (const x of k.added) out.push(`+ ${show(x)}`);
  };
  kind(d.interfaces, (i) => `interface ${i.name} port ${i.port} vlan ${i.vlan} mtu ${i.mtu}`);
  kind(d.addresses, (a) => `address ${a.address} port ${a.iface}`);
  kind(d.neighbors, (n) => `neighbor ${n.address} lladdr ${n.mac} port ${n.port}`);
  kind(d.routes, (r) => `route ${routeWords(r)}`);
  return out;
}

/**
 * The running configuration as YAML: the document of the file last applied (comments and the
 * keys written kept) with its ports' addresses, `interfaces`, `routes` and `neighbors` replaced
 * by the running state. Ports that take their address from network-status keep that key.
 */
export function renderRunning(fileText: string, file: Config, s: RunState): string {
  const doc: Document = parseDocument(fileText);
  if (!isMap(doc.contents)) doc.contents = doc.createNode({}) as YAMLMap;
  const byIface = new Map<string, string[]>();
  for (const a of s.addresses.values()) byIface.set(a.iface, [...(byIface.get(a.iface) ?? []), a.address]);
  const ports = doc.get('ports');
  file.ports.forEach((p: PortConfig, i) => {
    const node = isSeq(ports) ? ports.get(i) : undefined;
    if (!isMap(node) || p.networkStatusLen !== undefined) return;
    const list = byIface.get(p.name) ?? [];
    if (!list.length) node.delete('address');
    else node.set('address', list.length === 1 ? list[0] : doc.createNode(list, { flow: true }));
  });
  const section = (key: string, items: object[]) => {
    if (!items.length) {
      doc.delete(key);
      return;
    }
    const seq = doc.createNode(items);
    if (isSeq(seq)) for (const it of seq.items) if (isMap(it)) it.flow = true;
    doc.set(key, seq);
  };
  section(
    'interfaces',
    [...s.interfaces.values()].map((i) => {
      const addrs = byIface.get(i.name) ?? [];
      return { name: i.name, port: i.port, vlan: i.vlan, mtu: i.mtu, ...(addrs.length ? { address: addrs.length === 1 ? addrs[0] : addrs } : {}) };
    }),
  );
  section('routes', [...s.routes.values()].map(routeFields));
  section(
    'neighbors',
    [...s.neighbors.values()].map((n) => ({ ...n })),
  );
  return doc.toString({ lineWidth: 0 });
}

/** A reload refused for restart-only keys: ERESTART, each key on its own line. */
export function restartRefusal(file: string, problems: string[]): DpfwdError {
  return new DpfwdError('ERESTART', `${file}: reload refused, nothing changed: ${problems.length} key(s) need a restart:\n${problems.join('\n')}`);
}

/** Any other failure of a reload, said as a refusal (a bad file keeps its ECONFIG code). */
export function reloadRefusal(e: unknown): DpfwdError {
  const m = (e as Error)?.message ?? String(e);
  if (/nothing changed|could not be undone/.test(m) && e instanceof DpfwdError) return e;
  const code = (e as DpfwdError)?.code;
  if (code === 'ECONFIG') return new DpfwdError('ECONFIG', `reload refused, nothing changed: ${m}`);
  return new DpfwdError(typeof code === 'string' ? code : 'EINTERNAL', `reload refused, nothing changed: ${m}`);
}
