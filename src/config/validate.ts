/**
 * Validation: turns the plain value read from YAML into a resolved Config, or
 * collects every problem as `path: problem` (path like `ports[1].address`). Never stops at the
 * first error; values that fail fall back to their default so later checks do not cascade.
 */
import { SOCKET_PATH_MAX } from '../host/socket-path';
import { findAddressConflict, formatIPv4, parseInterfaceAddress, parseUnicastIPv4, prefixContains, formatPrefix } from '../net/ipv4';
import { parseMac } from '../net/mac';
import { IFACE_NAME_RE, parsePrefixWord, PORT_NAME_RE, RouteError, routeFromFields } from '../routing/routes';
import type { Route, RoutePath } from '../routing/route';
import { DEVICE_HELP, DeviceKind, parseDevice } from '../net/device';
import { DEFAULTS, IDLE_MODES, IdleMode, LINUX_SYNC_KEYS, LOG_LEVELS, VALID_KEYS } from './keys';
import { protocolNumber, RT_PROTOCOLS, RT_TABLES } from '../routing/sync';
import { LEVELS, LOG_FORMATS } from '../log';
import { child, Ctx, got, Path, SourceOf } from './kit';
export type { Path, SourceOf } from './kit';
import { mempoolSize } from './mempool';
import { GROUP_MAX_WEIGHT, IDLE_MAX_SLEEP_US, MAX_GROUPS } from '../dataplane/actions';
import { AddrLen, withParsed } from './types';
import { connectedPrefixProblem, gatewayPortProblem, hostAddressProblem, routePrefixProblem } from '../routing/rules';
import type {
  ArpConfig,
  Config,
  ControlConfig,
  EalConfig,
  FibConfig,
  IdleConfig,
  InterfaceConfig,
  IcmpConfig,
  CaptureConfig,
  LinuxConfig,
  LogLevel,
  LogConfig,
  MempoolConfig,
  MetricsConfig,
  NeighborConfig,
  PortConfig,
  PuntConfig,
  RouteConfig,
  WorkerConfig,
} from './types';
import { allowedCpus, cpuListString, MAX_LCORE, parseLcoreList } from '../host/cpus';

export { MAX_LCORE, parseLcoreList };

const KEYS = VALID_KEYS;

/** EAL options dpfwd sets itself; giving them in eal.args would contradict the config. */
const MANAGED_EAL_ARGS: Record<string, string> = {
  '-l': 'eal.lcores',
  '--lcores': 'eal.lcores',
  '-c': 'eal.lcores',
  '--main-lcore': 'eal.lcores',
  '--master-lcore': 'eal.lcores',
  '--in-memory': 'eal.inMemory',
  '--file-prefix': 'eal.filePrefix',
  '-a': 'ports[].device',
  '--allow': 'ports[].device',
  '-w': 'ports[].device',
  '--pci-whitelist': 'ports[].device',
  '--vdev': 'ports[].device',
  '-m': 'eal.hugepagesMiB',
  '--socket-limit': 'eal.hugepagesMiB',
  '--no-telemetry': 'eal.telemetry',
  '--telemetry': 'eal.telemetry',
};

// ---------------------------------------------------------------------------------------------
// eal

function validateEal(c: Ctx, v: unknown): EalConfig {
  const o = c.map('eal', v, KEYS.eal) ?? {};
  let lcores: string = DEFAULTS.eal.lcores;
  let lcoreList = [0, 1];
  if (o.lcores === 'auto') {
    // the CPUs this process may run on (affinity mask / cgroup cpuset): the first is the main lcore
    const cpus = allowedCpus();
    if (!cpus) c.err('eal.lcores', 'auto: cannot read the CPUs this process may run on (/proc/self/status Cpus_allowed_list); give an lcore list like "0-3"');
    else if (cpus.length < 2) {
      c.err(
        'eal.lcores',
        `auto: this process may run on CPU ${cpus[0]} only; dpfwd needs at least 2 (the main lcore and a worker): widen its CPU set (taskset, CPUAffinity=, the pod's CPU request)`,
      );
    } else {
      lcoreList = cpus;
      lcores = cpuListString(cpus);
    }
  } else if (o.lcores !== undefined) {
    const raw = typeof o.lcores === 'number' && Number.isInteger(o.lcores) ? String(o.lcores) : o.lcores;
    if (typeof raw !== 'string') {
      c.err('eal.lcores', `expected an lcore list like "0-3", "0,2,4" or "1", got ${got(o.lcores)}`);
    } else {
      const canon = raw.replace(/\s+/g, '');
      const l = parseLcoreList(canon);
      if (typeof l === 'string') c.err('eal.lcores', l);
      else if (l.length < 2) {
        c.err(
          'eal.lcores',
          `${JSON.stringify(raw)} is 1 lcore; dpfwd needs at least 2: the first is the main lcore (Node's thread, never polls), the rest forward packets (e.g. "${l[0]}-${l[0] + 1}")`,
        );
      } else {
        lcores = canon;
        lcoreList = l;
      }
    }
  }
  const inMemoryGiven = o.inMemory !== undefined;
  let inMemory = c.bool('eal.inMemory', o.inMemory, true);
  let filePrefix: string | undefined;
  if (o.filePrefix !== undefined) {
    const fp = c.str('eal.filePrefix', o.filePrefix, 'a file prefix like dpfwd');
    if (fp !== undefined) {
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(fp)) {
        c.err('eal.filePrefix', `${JSON.stringify(fp)} is not a usable file prefix: use 1-32 letters, digits, _ or -`);
      } else if (inMemoryGiven && inMemory) {
        c.err('eal.filePrefix', `filePrefix and inMemory: true are mutually exclusive (--in-memory keeps no hugepage files to prefix); remove one of them`);
      } else {
        filePrefix = fp;
        inMemory = false;
      }
    }
  } else if (!inMemory) {
    filePrefix = 'dpfwd';
  }
  const args: string[] = [];
  c.list('eal.args', o.args, 'strings').forEach((a, i) => {
    const p = child('eal.args', i);
    if (typeof a === 'number') a = String(a);
    if (typeof a !== 'string' || a === '') {
      c.err(p, `expected an EAL argument string, got ${got(a)}`);
      return;
    }
    const name = a.startsWith('--') ? a.split('=')[0] : a.slice(0, 2);
    const owner = MANAGED_EAL_ARGS[name];
    if (owner && !((name === '-m' || name === '--socket-limit') && o.hugepagesMiB === undefined)) {
      c.err(p, `${name} is set by dpfwd from ${owner}; remove it from eal.args`);
      return;
    }
    args.push(a);
  });
  let logLevel: LogLevel = DEFAULTS.eal.logLevel;
  if (o.logLevel !== undefined) {
    if (typeof o.logLevel === 'number' && Number.isInteger(o.logLevel) && o.logLevel >= 1 && o.logLevel <= 8) {
      logLevel = LOG_LEVELS[o.logLevel - 1];
    } else if (typeof o.logLevel === 'string' && (LOG_LEVELS as readonly string[]).includes(o.logLevel)) {
      logLevel = o.logLevel as LogLevel;
    } else {
      c.err('eal.logLevel', `expected one of ${LOG_LEVELS.join(', ')} (or 1-8), got ${got(o.logLevel)}`);
    }
  }
  const hugepagesMiB = o.hugepagesMiB === undefined ? undefined : c.int('eal.hugepagesMiB', o.hugepagesMiB, 0, 1, 1048576, { unit: 'MiB' }) || undefined;
  const eal: EalConfig = {
    lcores,
    lcoreList,
    mainLcore: lcoreList[0],
    workerLcores: lcoreList.slice(1),
    inMemory,
    args,
    logLevel,
    telemetry: c.bool('eal.telemetry', o.telemetry, DEFAULTS.eal.telemetry),
  };
  if (filePrefix !== undefined) eal.filePrefix = filePrefix;
  if (hugepagesMiB !== undefined) eal.hugepagesMiB = hugepagesMiB;
  return eal;
}

// ---------------------------------------------------------------------------------------------
// ports

function validatePorts(c: Ctx, v: unknown, knownNames: Set<string>): PortConfig[] {
  const ports: PortConfig[] = [];
  if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) {
    c.err('ports', `at least one port is required, e.g. [{name: west, device: "net_af_packet0,iface=veth0"}]`);
    return ports;
  }
  const items = c.list('ports', v, 'ports');
  const byName = new Map<string, number>();
  const byDevice = new Map<string, number>();
  const addrPaths: { path: Path; port: string; text: string }[] = [];
  items.forEach((item, i) => {
    const p = child('ports', i);
    const o = c.map(p, item, KEYS.port, 'a port mapping like {name: west, device: ...}');
    if (!o) return;
    let name = `ports[${i}]`;
    const n = c.str(child(p, 'name'), o.name, 'a port name like west');
    if (n !== undefined) {
      knownNames.add(n);
      if (!PORT_NAME_RE.test(n)) {
        c.err(child(p, 'name'), `${JSON.stringify(n)} is not a valid port name: use 1-15 lowercase letters, digits, _ or -, starting with a letter`);
      } else if (byName.has(n)) {
        c.err(child(p, 'name'), `port name ${n} is already used by ports[${byName.get(n)}]`);
      } else {
        byName.set(n, i);
      }
      name = n;
    }
    let device = '';
    let deviceKind: DeviceKind = 'auto';
    const d = c.str(child(p, 'device'), o.device, DEVICE_HELP);
    if (d !== undefined) {
      const r = parseDevice(d);
      if (typeof r === 'string') c.err(child(p, 'device'), r);
      else {
        device = r.device;
        deviceKind = r.kind;
        const key = r.kind === 'vdev' || r.kind === 'pci' ? r.name : r.kind === 'env' ? r.device : '';
        if (key) {
          const prev = byDevice.get(key);
          if (prev !== undefined) {
            const what = r.kind === 'vdev' ? `vdev name ${key}` : r.kind === 'pci' ? `PCI device ${key}` : key;
            const hint = r.kind === 'vdev' ? `; give each virtual device its own number, e.g. ${key.replace(/[0-9]+$/, '')}${i}` : '';
            c.err(child(p, 'device'), `${what} is already used by ports[${prev}]${hint}`);
          } else byDevice.set(key, i);
        }
      }
    }
    const port: PortConfig = withParsed(
      {
        name,
        device,
        deviceKind,
        rxQueues: c.int(child(p, 'rxQueues'), o.rxQueues, DEFAULTS.port.rxQueues, 1, 16),
        rxDescriptors: c.int(child(p, 'rxDescriptors'), o.rxDescriptors, DEFAULTS.port.rxDescriptors, 64, 4096, { pow2: true }),
        txDescriptors: c.int(child(p, 'txDescriptors'), o.txDescriptors, DEFAULTS.port.txDescriptors, 64, 4096, { pow2: true }),
        mtu: c.int(child(p, 'mtu'), o.mtu, DEFAULTS.port.mtu, 68, 9600),
        addresses: [] as string[],
      },
      { addresses: [] as AddrLen[], mac: undefined as number | undefined },
    );
    if (o.mac !== undefined) {
      const ms = c.str(child(p, 'mac'), o.mac, 'a MAC like 02:00:00:00:01:01');
      if (ms !== undefined) {
        const m = c.parse(child(p, 'mac'), () => parseMac(ms, { unicast: true }));
        if (m !== undefined) {
          port.mac = ms.toLowerCase();
          port.parsed!.mac = m;
        }
      }
    }
    if (o.address !== undefined && o.address !== null) {
      const single = !Array.isArray(o.address);
      const list = single ? [o.address] : (o.address as unknown[]);
      list.forEach((a, j) => {
        const ap = single ? child(p, 'address') : child(child(p, 'address'), j);
        const s = c.str(ap, a, 'an interface address like 10.1.0.1/24');
        if (s === undefined) return;
        const ns = /^network-status\/(\d+)$/.exec(s);
        if (ns) {
          // the address Multus reports for this port's VF, with this prefix length (see docs/sriov.md)
          const len = Number(ns[1]);
          if (len < 1 || len > 32) c.err(ap, `${s}: the prefix length must be 1-32`);
          else port.networkStatusLen = len;
          return;
        }
        const ia = c.parse(ap, () => parseInterfaceAddress(s));
        if (!ia) return;
        const text = `${formatIPv4(ia.addr)}/${ia.len}`;
        port.addresses.push(text);
        port.parsed!.addresses.push({ addr: ia.addr, len: ia.len });
        addrPaths.push({ path: ap, port: name, text });
      });
    }
    ports.push(port);
  });
  // conflicts in file order: each address against every earlier one
  const seen: { port: string; addr: string }[] = [];
  for (const a of addrPaths) {
    const msg = findAddressConflict(seen, a.port, a.text);
    if (msg) c.err(a.path, msg);
    else seen.push({ port: a.port, addr: a.text });
  }
  return ports;
}

/** What routes and neighbours need of a port or interface: its name and addresses. */
type Named = { name: string; addresses: string[] };

// ---------------------------------------------------------------------------------------------
// VLAN sub-interfaces

/** 802.1Q: 0 means "no VLAN" (priority tag) and 4095 is reserved. */
export const VLAN_MIN = 1;
export const VLAN_MAX = 4094;

function validateInterfaces(c: Ctx, v: unknown, ports: PortConfig[], knownNames: Set<string>): InterfaceConfig[] {
  const out: InterfaceConfig[] = [];
  const byPortVlan = new Map<string, number>();
  const names = new Map<string, string>(ports.map((p, i) => [p.name, `ports[${i}]`]));
  const seen: { port: string; addr: string }[] = ports.flatMap((p) => p.addresses.map((addr) => ({ port: p.name, addr })));
  c.list('interfaces', v, 'VLAN sub-interfaces like {port: west, vlan: 100, address: 10.100.0.1/24}').forEach((item, i) => {
    const ip = child('interfaces', i);
    const o = c.map(ip, item, KEYS.interface, 'a mapping like {port: west, vlan: 100, address: 10.100.0.1/24}');
    if (!o) return;
    const pn = portRef(c, child(ip, 'port'), o.port, ports, knownNames);
    let vlan = -1;
    if (o.vlan === undefined) c.err(child(ip, 'vlan'), `required (a VLAN id ${VLAN_MIN}-${VLAN_MAX})`);
    else vlan = c.int(child(ip, 'vlan'), o.vlan, -1, VLAN_MIN, VLAN_MAX);
    if (pn === undefined || vlan < 0) return;
    const port = ports.find((p) => p.name === pn)!;
    let name = `${pn}.${vlan}`;
    if (o.name !== undefined) {
      const ns = c.str(child(ip, 'name'), o.name, 'an interface name like west.100');
      if (ns === undefined) return;
      if (!IFACE_NAME_RE.test(ns)) {
        c.err(child(ip, 'name'), `${JSON.stringify(ns)} is not a valid interface name: use a port name, optionally followed by .<number> (like west.100)`);
        return;
      }
      name = ns;
    }
    const key = `${pn}.${vlan}`;
    if (byPortVlan.has(key)) {
      c.err(child(ip, 'vlan'), `port ${pn} already has VLAN ${vlan} (interfaces[${byPortVlan.get(key)}])`);
      return;
    }
    if (names.has(name)) {
      c.err(child(ip, 'name'), `${name} is already the name of ${names.get(name)}`);
      return;
    }
    byPortVlan.set(key, i);
    names.set(name, `interfaces[${i}]`);
    knownNames.add(name);
    const mtu = c.int(child(ip, 'mtu'), o.mtu, port.mtu, 68, port.mtu);
    const iface: InterfaceConfig = withParsed({ name, port: pn, vlan, mtu, addresses: [] as string[] }, { addresses: [] as AddrLen[] });
    if (o.address !== undefined && o.address !== null) {
      const list = Array.isArray(o.address) ? o.address : [o.address];
      list.forEach((a, k) => {
        const ap = Array.isArray(o.address) ? child(child(ip, 'address'), k) : child(ip, 'address');
        const s = c.str(ap, a, 'an interface address like 10.100.0.1/24');
        if (s === undefined) return;
        const ia = c.parse(ap, () => parseInterfaceAddress(s));
        if (!ia) return;
        const text = `${formatIPv4(ia.addr)}/${ia.len}`;
        const msg = findAddressConflict(seen, name, text);
        if (msg) return c.err(ap, msg);
        seen.push({ port: name, addr: text });
        iface.addresses.push(text);
        iface.parsed!.addresses.push({ addr: ia.addr, len: ia.len });
      });
    }
    out.push(iface);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// workers

function lcoreNames(l: number[]): string {
  return l.join(', ');
}

/** `poll` or `sleep` at `path` (undefined: `def`). */
function idleMode(c: Ctx, path: string, v: unknown, def: IdleMode): IdleMode {
  if (v === undefined) return def;
  if (typeof v === 'string' && (IDLE_MODES as readonly string[]).includes(v)) return v as IdleMode;
  c.err(path, `expected one of ${IDLE_MODES.join(', ')}, got ${got(v)}`);
  return def;
}

function validateIdle(c: Ctx, v: unknown): IdleConfig {
  const o = c.map('idle', v, KEYS.idle) ?? {};
  return {
    mode: idleMode(c, 'idle.mode', o.mode, DEFAULTS.idle.mode),
    maxSleepUs: c.int('idle.maxSleepUs', o.maxSleepUs, DEFAULTS.idle.maxSleepUs, 10, IDLE_MAX_SLEEP_US, { unit: 'µs' }),
  };
}

/** A worker's longest idle sleep (WorkerConfig.idleSleepUs) for its mode. */
const sleepUs = (mode: IdleMode, idle: IdleConfig) => (mode === 'sleep' ? idle.maxSleepUs : 0);

function validateWorkers(
  c: Ctx,
  v: unknown,
  eal: EalConfig,
  ports: PortConfig[],
  knownNames: Set<string>,
  idle: IdleConfig,
): { workers: WorkerConfig[]; auto: boolean } {
  const pairs: { port: string; queue: number }[] = [];
  for (const p of ports) for (let q = 0; q < p.rxQueues; q++) pairs.push({ port: p.name, queue: q });
  if (v === undefined || v === null || v === 'auto') {
    const wl = eal.workerLcores;
    const workers: WorkerConfig[] = wl.map((lcore) => ({ lcore, rx: [], idleSleepUs: sleepUs(idle.mode, idle) }));
    pairs.forEach((pq, k) => workers[k % wl.length].rx.push(pq));
    const busy = workers.filter((w) => w.rx.length > 0);
    if (busy.length < workers.length && pairs.length > 0) {
      const idle = workers.filter((w) => w.rx.length === 0).map((w) => w.lcore);
      c.warnings.push(
        `workers: ${wl.length} worker lcores but only ${pairs.length} rx queue${pairs.length === 1 ? '' : 's'}; ` +
          `lcore${idle.length === 1 ? '' : 's'} ${lcoreNames(idle)} will not poll (raise ports[].rxQueues or shorten eal.lcores)`,
      );
    }
    return { workers: busy, auto: true };
  }
  if (!Array.isArray(v)) {
    c.err('workers', `expected "auto" or a list like [{lcore: 1, rx: [{port: west, queue: 0}]}], got ${got(v)}`);
    return { workers: [], auto: false };
  }
  const workers: WorkerConfig[] = [];
  const lcoreAt = new Map<number, number>();
  const pollers = new Map<string, string>();
  const portByName = new Map(ports.map((p) => [p.name, p]));
  v.forEach((item, i) => {
    const wp = child('workers', i);
    const o = c.map(wp, item, KEYS.worker, 'a worker mapping like {lcore: 1, rx: [{port: west, queue: 0}]}');
    if (!o) return;
    const lp = child(wp, 'lcore');
    let lcore = -1;
    if (typeof o.lcore !== 'number' || !Number.isInteger(o.lcore) || o.lcore < 0) {
      c.err(
        lp,
        o.lcore === undefined ? `required (a worker lcore from eal.lcores: ${lcoreNames(eal.workerLcores)})` : `expected an lcore number, got ${got(o.lcore)}`,
      );
    } else if (o.lcore === eal.mainLcore) {
      c.err(lp, `lcore ${o.lcore} is the main lcore (Node's thread, never polls); worker lcores are ${lcoreNames(eal.workerLcores)}`);
    } else if (!eal.workerLcores.includes(o.lcore)) {
      c.err(lp, `lcore ${o.lcore} is not in eal.lcores ("${eal.lcores}"); worker lcores are ${lcoreNames(eal.workerLcores)}`);
    } else if (lcoreAt.has(o.lcore)) {
      c.err(lp, `lcore ${o.lcore} is already listed in workers[${lcoreAt.get(o.lcore)}]`);
    } else {
      lcore = o.lcore;
      lcoreAt.set(lcore, i);
    }
    const w: WorkerConfig = { lcore, rx: [], idleSleepUs: sleepUs(idleMode(c, child(wp, 'idle'), o.idle, idle.mode), idle) };
    const rp = child(wp, 'rx');
    const rxs = c.list(rp, o.rx, '{port, queue} mappings');
    if (o.rx === undefined || o.rx === null || (Array.isArray(o.rx) && o.rx.length === 0)) {
      c.err(rp, `worker lcore ${got(o.lcore)} has no rx queues; give it at least one {port, queue} or remove it`);
    }
    rxs.forEach((r, j) => {
      const qp = child(rp, j);
      const ro = c.map(qp, r, KEYS.rx, 'a mapping like {port: west, queue: 0}');
      if (!ro) return;
      const pn = c.str(child(qp, 'port'), ro.port, 'a port name');
      const queue = c.int(child(qp, 'queue'), ro.queue, -1, 0, 15);
      if (ro.queue === undefined) c.err(child(qp, 'queue'), 'required (an rx queue number from 0)');
      if (pn === undefined) return;
      const port = portByName.get(pn);
      if (!port) {
        if (!knownNames.has(pn)) c.err(child(qp, 'port'), `no port named ${pn}; ports are ${ports.map((p) => p.name).join(', ')}`);
        return;
      }
      if (queue < 0) return;
      if (queue >= port.rxQueues) {
        c.err(
          child(qp, 'queue'),
          `port ${pn} has ${port.rxQueues} rx queue${port.rxQueues === 1 ? '' : 's'} (0-${port.rxQueues - 1}); queue ${queue} does not exist`,
        );
        return;
      }
      const key = `${pn}/${queue}`;
      const prev = pollers.get(key);
      if (prev) {
        c.err(qp, `port ${pn} queue ${queue} is already polled by ${prev}; each rx queue has exactly one worker`);
        return;
      }
      pollers.set(key, qp);
      w.rx.push({ port: pn, queue });
    });
    workers.push(w);
  });
  for (const l of eal.workerLcores) {
    if (!lcoreAt.has(l)) c.err('workers', `worker lcore ${l} (from eal.lcores) polls no rx queue; add it to workers or remove it from eal.lcores`);
  }
  for (const pq of pairs) {
    if (!pollers.has(`${pq.port}/${pq.queue}`)) c.err('workers', `port ${pq.port} queue ${pq.queue} is polled by no worker; every rx queue needs exactly one`);
  }
  return { workers, auto: false };
}

// ---------------------------------------------------------------------------------------------
// fib, routes, neighbours

function validateFib(c: Ctx, v: unknown): FibConfig {
  const o = c.map('fib', v, KEYS.fib) ?? {};
  const maxRoutes = c.int('fib.maxRoutes', o.maxRoutes, DEFAULTS.fib.maxRoutes, 16, 16777216);
  const derived = Math.min(65536, Math.max(256, Math.floor(maxRoutes / 16)));
  return {
    maxRoutes,
    tbl8Groups: c.int('fib.tbl8Groups', o.tbl8Groups, derived, 1, 16777216),
    maxNexthops: c.int('fib.maxNexthops', o.maxNexthops, DEFAULTS.fib.maxNexthops, 16, 1048576),
    maxGroups: c.int('fib.maxGroups', o.maxGroups, DEFAULTS.fib.maxGroups, 0, MAX_GROUPS),
  };
}

interface Connected {
  port: string;
  text: string;
  addr: number;
  len: number;
}

function connectedOf(ports: Named[]): Connected[] {
  const out: Connected[] = [];
  for (const p of ports) {
    for (const t of p.addresses) {
      const a = parseInterfaceAddress(t);
      out.push({ port: p.name, text: t, addr: a.addr, len: a.len });
    }
  }
  return out;
}

function portRef(c: Ctx, path: Path, v: unknown, ports: Named[], knownNames: Set<string>): string | undefined {
  const pn = c.str(path, v, 'a port name');
  if (pn === undefined) return undefined;
  if (!ports.some((p) => p.name === pn)) {
    if (!knownNames.has(pn)) c.err(path, `no port named ${pn}; ports are ${ports.map((p) => p.name).join(', ') || '(none)'}`);
    return undefined;
  }
  return pn;
}

function validateRoutes(c: Ctx, v: unknown, ports: Named[], knownNames: Set<string>): RouteConfig[] {
  const conn = connectedOf(ports);
  const routes: RouteConfig[] = [];
  const byPrefix = new Map<string, number>();
  c.list('routes', v, 'routes like {prefix: 10.20.0.0/16, via: 10.2.0.2}').forEach((item, i) => {
    const rp = child('routes', i);
    const o = c.map(rp, item, KEYS.route, 'a route mapping like {prefix: 10.20.0.0/16, via: 10.2.0.2}');
    if (!o) return;
    // the YAML types here; the words through the one route parser (src/routing/routes.ts),
    // whose error names the field, so the message keeps its path
    const ps = c.str(child(rp, 'prefix'), o.prefix, 'a prefix like 10.20.0.0/16');
    // a prefix given twice, or one the rules refuse (src/routing/rules.ts), is reported; true if it is free
    const claim = (p: { addr: number; len: number }): boolean => {
      const prefix = formatPrefix(p);
      const prev = byPrefix.get(prefix);
      const problem = routePrefixProblem(p) ?? connectedPrefixProblem(conn, p);
      if (prev !== undefined) c.err(child(rp, 'prefix'), `${prefix} is already routed by routes[${prev}]`);
      else if (problem) c.err(child(rp, 'prefix'), problem);
      else byPrefix.set(prefix, i);
      return prev === undefined && !problem;
    };
    if (o.nexthops !== undefined) {
      const pfx = ps === undefined ? undefined : c.parse(child(rp, 'prefix'), () => parsePrefixWord(ps));
      const free = pfx !== undefined && claim(pfx);
      const r = multipathRoute(c, rp, o, ps, pfx ? formatPrefix(pfx) : '', conn, ports, knownNames);
      if (r && free) routes.push(r);
      return;
    }
    const vs = o.via === undefined ? undefined : c.str(child(rp, 'via'), o.via, 'a next-hop address like 10.2.0.2');
    const pn = o.port === undefined ? undefined : c.str(child(rp, 'port'), o.port, 'a port name');
    const blackhole = c.bool(child(rp, 'blackhole'), o.blackhole, false);
    if (ps === undefined || (o.via !== undefined && vs === undefined) || (o.port !== undefined && pn === undefined)) return;
    let e: Route;
    try {
      e = routeFromFields({ prefix: ps, via: vs, port: pn, blackhole });
    } catch (err) {
      if (!(err instanceof RouteError)) throw err;
      c.err(err.field ? child(rp, err.field) : rp, err.message);
      return;
    }
    // the rules (src/routing/rules.ts) that need the config's ports
    let ok = claim(e);
    const prefix = formatPrefix(e);
    const r: Omit<RouteConfig, 'parsed'> = { prefix, blackhole };
    if (e.port !== undefined) {
      const port = portRef(c, child(rp, 'port'), e.port, ports, knownNames);
      if (port === undefined) ok = false;
      else r.port = port;
    }
    if (e.via !== undefined) {
      const via = e.via;
      r.via = formatIPv4(via);
      const hp = hostAddressProblem(conn, via) ?? (r.port !== undefined ? gatewayPortProblem(conn, via, r.port) : null);
      if (hp) {
        c.err(child(rp, 'via'), hp);
        ok = false;
      } else if (e.port === undefined) {
        const cn = conn.find((x) => prefixContains(x, via));
        if (cn) r.port = cn.port;
        else {
          c.err(child(rp, 'via'), `${r.via} is not in any port's connected subnet; add port: <name>`);
          ok = false;
        }
      }
    }
    // the one Route (src/routing/route.ts) beside the words: the forwarder and reload use it
    const parsed: Route = { addr: e.addr, len: e.len, blackhole };
    if (e.via !== undefined) parsed.via = e.via;
    if (r.port !== undefined) parsed.port = r.port;
    if (ok) routes.push(withParsed(r, parsed));
  });
  return routes;
}

/**
 * A route with `nexthops: [{via, port, weight}, …]` (ECMP): the paths go through the one route
 * parser (routeFromFields), then each gateway gets the checks and the port a single route's gets.
 */
function multipathRoute(
  c: Ctx,
  rp: Path,
  o: Record<string, unknown>,
  ps: string | undefined,
  prefix: string,
  conn: Connected[],
  ports: Named[],
  knownNames: Set<string>,
): RouteConfig | null {
  const np = child(rp, 'nexthops');
  if (o.via !== undefined || o.port !== undefined || o.blackhole !== undefined) {
    c.err(np, 'a route with nexthops takes no via, port or blackhole of its own: give them in each nexthop');
    return null;
  }
  const fields: { via?: string; port?: string; weight?: number }[] = [];
  let ok = true;
  c.list(np, o.nexthops, 'paths like {via: 10.2.0.2, weight: 1}').forEach((item, k) => {
    const pp = child(np, k);
    const m = c.map(pp, item, ['via', 'port', 'weight'], 'a path mapping like {via: 10.2.0.2, port: east, weight: 1}');
    if (!m) {
      ok = false;
      return;
    }
    const f: { via?: string; port?: string; weight?: number } = {};
    if (m.via !== undefined) f.via = c.str(child(pp, 'via'), m.via, 'a next-hop address like 10.2.0.2');
    if (m.port !== undefined) {
      f.port = portRef(c, child(pp, 'port'), m.port, ports, knownNames);
      if (f.port === undefined) ok = false;
    }
    if (m.weight !== undefined) {
      if (typeof m.weight !== 'number') {
        c.err(child(pp, 'weight'), `expected a whole number 1-${GROUP_MAX_WEIGHT}, got ${got(m.weight)}`);
        ok = false;
      } else f.weight = m.weight;
    }
    fields.push(f);
  });
  if (!ok || ps === undefined || prefix === '') return null;
  const e = c.parse(np, () => routeFromFields({ prefix: ps, nexthops: fields }));
  if (!e) return null;
  // one path alone is a plain route
  const paths: RoutePath[] = e.paths ?? [{ via: e.via, port: e.port, weight: 1 }];
  for (let k = 0; k < paths.length; k++) {
    const p = paths[k];
    if (p.via === undefined) continue;
    const problem = hostAddressProblem(conn, p.via) ?? (p.port !== undefined ? gatewayPortProblem(conn, p.via, p.port) : null);
    if (problem) {
      c.err(child(child(np, k), 'via'), problem);
      return null;
    }
    if (p.port === undefined) {
      const cn = conn.find((x) => prefixContains(x, p.via!));
      if (!cn) {
        c.err(child(child(np, k), 'via'), `${formatIPv4(p.via)} is not in any port's connected subnet; add port: <name>`);
        return null;
      }
      p.port = cn.port;
    }
  }
  if (paths.length === 1) {
    const p = paths[0];
    const one: Route = {
      addr: e.addr,
      len: e.len,
      blackhole: false,
      ...(p.via !== undefined ? { via: p.via } : {}),
      ...(p.port !== undefined ? { port: p.port } : {}),
    };
    return withParsed({ prefix, blackhole: false, ...(p.via !== undefined ? { via: formatIPv4(p.via) } : {}), port: p.port }, one);
  }
  const nexthops = paths.map((p) => ({
    ...(p.via !== undefined ? { via: formatIPv4(p.via) } : {}),
    ...(p.port !== undefined ? { port: p.port } : {}),
    weight: p.weight,
  }));
  return withParsed({ prefix, blackhole: false, nexthops }, { addr: e.addr, len: e.len, blackhole: false, paths } as Route);
}

function validateNeighbors(c: Ctx, v: unknown, ports: Named[], knownNames: Set<string>): NeighborConfig[] {
  const conn = connectedOf(ports);
  const out: NeighborConfig[] = [];
  const byAddr = new Map<number, number>();
  c.list('neighbors', v, 'neighbours like {address: 10.1.0.2, mac: "02:00:00:00:01:02", port: west}').forEach((item, i) => {
    const np = child('neighbors', i);
    const o = c.map(np, item, KEYS.neighbor, 'a neighbour mapping like {address: 10.1.0.2, mac: "02:00:00:00:01:02", port: west}');
    if (!o) return;
    let ok = true;
    const as = c.str(child(np, 'address'), o.address, 'an IPv4 address like 10.1.0.2');
    const addr = as === undefined ? undefined : c.parse(child(np, 'address'), () => parseUnicastIPv4(as));
    if (addr === undefined) ok = false;
    else {
      const problem = hostAddressProblem(conn, addr);
      if (problem) {
        c.err(child(np, 'address'), problem);
        ok = false;
      } else if (byAddr.has(addr)) {
        c.err(child(np, 'address'), `${formatIPv4(addr)} is already a neighbour (neighbors[${byAddr.get(addr)}])`);
        ok = false;
      } else byAddr.set(addr, i);
    }
    const ms = c.str(child(np, 'mac'), o.mac, 'a MAC like 02:00:00:00:01:02');
    const mac = ms === undefined ? undefined : c.parse(child(np, 'mac'), () => parseMac(ms, { unicast: true }));
    if (mac === undefined) ok = false;
    const port = portRef(c, child(np, 'port'), o.port, ports, knownNames);
    if (port === undefined) ok = false;
    if (!ok || addr === undefined || mac === undefined || port === undefined) return;
    const pc = conn.filter((x) => x.port === port);
    if (pc.length > 0 && !pc.some((x) => prefixContains(x, addr))) {
      c.warnings.push(`neighbors[${i}].address: ${formatIPv4(addr)} is not in a connected subnet of port ${port} (${pc.map((x) => x.text).join(', ')})`);
    }
    out.push(withParsed({ address: formatIPv4(addr), mac: ms!.toLowerCase(), port }, { address: addr, mac }));
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// small sections

function validateMetrics(c: Ctx, v: unknown): MetricsConfig {
  // `metrics: false` is short for `metrics: {listen: false}`: no listener
  const o =
    v === false ? { listen: false } : (c.map('metrics', v, KEYS.metrics, 'a mapping like {listen: "127.0.0.1:9450"}, or false to disable metrics') ?? {});
  const d = DEFAULTS.metrics;
  const limits = {
    maxConnections: c.int('metrics.maxConnections', o.maxConnections, d.maxConnections, 1, 10000),
    headersTimeoutMs: c.int('metrics.headersTimeoutMs', o.headersTimeoutMs, d.headersTimeoutMs, 100, 600000, { unit: 'ms' }),
    requestTimeoutMs: c.int('metrics.requestTimeoutMs', o.requestTimeoutMs, d.requestTimeoutMs, 100, 600000, { unit: 'ms' }),
    keepAliveTimeoutMs: c.int('metrics.keepAliveTimeoutMs', o.keepAliveTimeoutMs, d.keepAliveTimeoutMs, 0, 600000, { unit: 'ms' }),
    idleTimeoutMs: c.int('metrics.idleTimeoutMs', o.idleTimeoutMs, d.idleTimeoutMs, 100, 3600000, { unit: 'ms' }),
    maxPipelined: c.int('metrics.maxPipelined', o.maxPipelined, d.maxPipelined, 1, 1000),
  };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs)
    c.err(
      'metrics.headersTimeoutMs',
      `${limits.headersTimeoutMs} ms is longer than metrics.requestTimeoutMs (${limits.requestTimeoutMs} ms); the headers are part of the request`,
    );
  const l = o.listen === undefined ? d.listen : o.listen;
  if (l === false) return { listen: false, ...limits };
  const help = `expected host:port like 127.0.0.1:9450, or false to disable metrics`;
  if (typeof l !== 'string') {
    c.err('metrics.listen', `${help}, got ${got(l)}`);
    return { listen: false, ...limits };
  }
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):([0-9]{1,5})$/.exec(l);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    c.err('metrics.listen', `${help} (port 1-65535), got ${got(l)}`);
    return { listen: false, ...limits };
  }
  const host = m[1].startsWith('[') ? m[1].slice(1, -1) : m[1];
  return { listen: { host, port: Number(m[2]) }, ...limits };
}

function validateControl(c: Ctx, v: unknown): ControlConfig {
  const o = c.map('control', v, KEYS.control) ?? {};
  let socket: string = DEFAULTS.control.socket;
  if (o.socket !== undefined) {
    const s = c.str('control.socket', o.socket, 'a UNIX socket path like /run/dpfwd/dpfwd.sock');
    if (s !== undefined) {
      if (s === '') c.err('control.socket', 'expected a UNIX socket path like /run/dpfwd/dpfwd.sock, got ""');
      else if (Buffer.byteLength(s) > SOCKET_PATH_MAX)
        c.err('control.socket', `path is ${Buffer.byteLength(s)} bytes; a UNIX socket path holds at most ${SOCKET_PATH_MAX}`);
      else socket = s;
    }
  }
  let mode: number = DEFAULTS.control.mode;
  if (o.mode !== undefined) {
    // YAML 1.2 reads an unquoted 0660 as decimal 660; use the source text to read what was meant
    let text: string | undefined;
    if (typeof o.mode === 'string') text = o.mode;
    else if (typeof o.mode === 'number') text = c.sourceOf(['control', 'mode']) ?? String(o.mode);
    const m = text === undefined ? null : /^(?:0o?)?([0-7]{3})$/.exec(text.trim());
    if (!m) c.err('control.mode', `expected an octal file mode like "0660", got ${got(o.mode)}`);
    else mode = parseInt(m[1], 8);
  }
  const d = DEFAULTS.control;
  const MiB = 1048576;
  const limits = {
    maxClients: c.int('control.maxClients', o.maxClients, d.maxClients, 2, 10000),
    maxRequestBytes: c.int('control.maxRequestBytes', o.maxRequestBytes, d.maxRequestBytes, 4096, 1024 * MiB, { unit: 'bytes' }),
    maxBufferedBytes: c.int('control.maxBufferedBytes', o.maxBufferedBytes, d.maxBufferedBytes, 4096, 4096 * MiB, { unit: 'bytes' }),
    maxReplyBacklogBytes: c.int('control.maxReplyBacklogBytes', o.maxReplyBacklogBytes, d.maxReplyBacklogBytes, 4096, 1024 * MiB, { unit: 'bytes' }),
    requestTimeoutMs: c.int('control.requestTimeoutMs', o.requestTimeoutMs, d.requestTimeoutMs, 100, 3600000, { unit: 'ms' }),
    idleTimeoutMs: c.int('control.idleTimeoutMs', o.idleTimeoutMs, d.idleTimeoutMs, 100, 86400000, { unit: 'ms' }),
  };
  if (limits.maxBufferedBytes < limits.maxRequestBytes) {
    c.err(
      'control.maxBufferedBytes',
      `${limits.maxBufferedBytes} bytes is less than control.maxRequestBytes (${limits.maxRequestBytes}); one request of the largest size must fit`,
    );
  }
  return { socket, mode, ...limits };
}

function validatePunt(c: Ctx, v: unknown): PuntConfig {
  const o = c.map('punt', v, KEYS.punt) ?? {};
  return {
    rate: c.int('punt.rate', o.rate, DEFAULTS.punt.rate, 1, 100000000, { unit: 'packets/s per worker' }),
    burst: c.int('punt.burst', o.burst, DEFAULTS.punt.burst, 1, 65536),
    maxWaitMs: c.int('punt.maxWaitMs', o.maxWaitMs, DEFAULTS.punt.maxWaitMs, 10, 3600000, { unit: 'ms' }),
  };
}

function validateCapture(c: Ctx, v: unknown): CaptureConfig {
  const o = c.map('capture', v, KEYS.capture) ?? {};
  const ringSize = c.int('capture.ringSize', o.ringSize, DEFAULTS.capture.ringSize, 2, 65536, { unit: 'packets per worker' });
  if ((ringSize & (ringSize - 1)) !== 0) c.err('capture.ringSize', `${ringSize} is not a power of two (e.g. 1024, 2048, 4096)`);
  return {
    ringSize,
    mbufs: c.int('capture.mbufs', o.mbufs, DEFAULTS.capture.mbufs, 64, 1048575, { unit: 'mbufs' }),
    maxSnaplen: c.int('capture.maxSnaplen', o.maxSnaplen, DEFAULTS.capture.maxSnaplen, 1, 65535, { unit: 'bytes' }),
    leaseMs: c.int('capture.leaseMs', o.leaseMs, DEFAULTS.capture.leaseMs, 100, 3600000, { unit: 'ms' }),
    readBytes: c.int('capture.readBytes', o.readBytes, DEFAULTS.capture.readBytes, 65536, 64 * 1048576, { unit: 'bytes' }),
  };
}

function validateIcmp(c: Ctx, v: unknown): IcmpConfig {
  const o = c.map('icmp', v, KEYS.icmp) ?? {};
  return {
    unreachable: c.bool('icmp.unreachable', o.unreachable, DEFAULTS.icmp.unreachable),
    rateLimit: c.int('icmp.rateLimit', o.rateLimit, DEFAULTS.icmp.rateLimit, 0, 1000000, { unit: 'messages/s' }),
    burst: c.int('icmp.burst', o.burst, DEFAULTS.icmp.burst, 1, 100000),
  };
}

function validateArp(c: Ctx, v: unknown, fib: FibConfig): ArpConfig {
  const o = c.map('arp', v, KEYS.arp) ?? {};
  const d = DEFAULTS.arp;
  // learned neighbours may hold at most half the next hops: the rest stays for routes
  const half = Math.floor(fib.maxNexthops / 2);
  const maxEntries = c.int('arp.maxEntries', o.maxEntries, Math.min(d.maxEntries, Math.floor(fib.maxNexthops / 4)), 1, 524288, { unit: 'entries' });
  if (o.maxEntries !== undefined && maxEntries > half) {
    c.err(
      'arp.maxEntries',
      `${maxEntries} is more than half of fib.maxNexthops (${fib.maxNexthops}); learned neighbours may hold at most ${half} next hops so that routes keep the rest`,
    );
  }
  return {
    maxEntries,
    maxIncomplete: c.int('arp.maxIncomplete', o.maxIncomplete, d.maxIncomplete, 1, 65536, { unit: 'entries' }),
    newPerSecond: c.int('arp.newPerSecond', o.newPerSecond, d.newPerSecond, 1, 1000000, { unit: 'entries/s per port' }),
    lockMs: c.int('arp.lockMs', o.lockMs, d.lockMs, 0, 60000, { unit: 'ms' }),
    reachableMs: c.int('arp.reachableMs', o.reachableMs, d.reachableMs, 100, 86400000, { unit: 'ms' }),
    staleMs: c.int('arp.staleMs', o.staleMs, d.staleMs, 100, 86400000, { unit: 'ms' }),
    retransmitMs: c.int('arp.retransmitMs', o.retransmitMs, d.retransmitMs, 10, 60000, { unit: 'ms' }),
    probes: c.int('arp.probes', o.probes, d.probes, 1, 100),
    queueLen: c.int('arp.queueLen', o.queueLen, d.queueLen, 0, 1024, { unit: 'packets' }),
  };
}

function validateLog(c: Ctx, v: unknown): LogConfig {
  const o = c.map('log', v, KEYS.log) ?? {};
  const pick = <T extends string>(path: string, x: unknown, valid: readonly T[], def: T): T => {
    if (x === undefined) return def;
    if (typeof x === 'string' && (valid as readonly string[]).includes(x)) return x as T;
    c.err(path, `expected one of ${valid.join(', ')}, got ${got(x)}`);
    return def;
  };
  return {
    level: pick('log.level', o.level, LEVELS, DEFAULTS.log.level),
    format: pick('log.format', o.format, LOG_FORMATS, DEFAULTS.log.format),
    rateLimit: c.int('log.rateLimit', o.rateLimit, DEFAULTS.log.rateLimit, 1, 100000, { unit: 'lines/s per kind' }),
  };
}

function validateMempool(c: Ctx, v: unknown): MempoolConfig {
  const o = c.map('mempool', v, KEYS.mempool) ?? {};
  const mbufs = o.mbufs === 0 ? 0 : c.int('mempool.mbufs', o.mbufs, DEFAULTS.mempool.mbufs, 1023, 2 ** 31 - 1);
  // 512 is RTE_MEMPOOL_CACHE_MAX_SIZE; with mbufs ≥ 1023, DPDK's cache ≤ n / 1.5 always holds
  const cacheSize = c.int('mempool.cacheSize', o.cacheSize, DEFAULTS.mempool.cacheSize, 0, 512);
  return { mbufs, cacheSize };
}

function validateLinux(c: Ctx, v: unknown, ports: PortConfig[]): LinuxConfig {
  const o = c.map('linux', v, KEYS.linux) ?? {};
  let netns: string | undefined;
  if (o.netns !== undefined) {
    const s = c.str('linux.netns', o.netns, 'a network namespace name (ip netns) or a path');
    if (s !== undefined) {
      if (s === '' || (!s.includes('/') && !/^[A-Za-z0-9_.-]{1,64}$/.test(s)))
        c.err('linux.netns', `expected a namespace name like dpfwd (ip netns list) or a path like /run/netns/dpfwd, got ${got(s)}`);
      else netns = s;
    }
  }
  let mirror: LinuxConfig['mirror'] = false;
  if (typeof o.mirror === 'boolean') mirror = o.mirror;
  else if (o.mirror !== undefined) {
    const m = c.map(
      'linux.mirror',
      o.mirror,
      ports.map((p) => p.name),
      'true, false or a mapping of port names',
    );
    if (m) {
      mirror = {};
      for (const [k, x] of Object.entries(m)) {
        if (typeof x === 'boolean' || (typeof x === 'string' && /^[A-Za-z0-9_.-]{1,15}$/.test(x) && x !== '.' && x !== '..')) mirror[k] = x;
        else c.err(`linux.mirror.${k}`, `expected true, false or an interface name, got ${got(x)}`);
      }
    }
  }
  // port name → its mirror's name in Linux (the port's own unless the mapping gives one)
  const mirrors: Record<string, string> = {};
  for (const p of ports) {
    const x = mirror === true ? true : typeof mirror === 'object' ? mirror[p.name] : false;
    if (x === true) mirrors[p.name] = p.name;
    else if (typeof x === 'string') mirrors[p.name] = x;
  }
  const taken = new Map<string, string>();
  for (const [port, name] of Object.entries(mirrors)) {
    const other = taken.get(name);
    if (other) c.err(`linux.mirror.${port}`, `mirror name ${name} is also port ${other}'s: each mirror needs its own name`);
    taken.set(name, port);
  }
  const queueLen = c.int('linux.queueLen', o.queueLen, DEFAULTS.linux.queueLen, 1, 1000000, { unit: 'frames' });
  const rateLimit = c.int('linux.rateLimit', o.rateLimit, DEFAULTS.linux.rateLimit, 1, 10000000, { unit: 'frames/s' });
  const burst = c.int('linux.burst', o.burst, DEFAULTS.linux.burst, 1, 1000000, { unit: 'frames' });
  const mirrorOn = Object.keys(mirrors).length > 0;
  const so = c.map('linux.sync', o.sync, KEYS.sync) ?? {};
  const enabled = c.bool('linux.sync.enabled', so.enabled, mirrorOn);
  let table: number = RT_TABLES[LINUX_SYNC_KEYS.table];
  if (so.table !== undefined) {
    if (typeof so.table === 'string' && so.table !== 'local' && RT_TABLES[so.table] !== undefined) table = RT_TABLES[so.table];
    else if (typeof so.table === 'number' && Number.isInteger(so.table) && so.table >= 1 && so.table <= 4294967295 && so.table !== 255) table = so.table;
    else c.err('linux.sync.table', `expected main, default or a table number from 1 to 4294967295 (not 255: local), got ${got(so.table)}`);
  }
  let protocols: 'all' | number[] = 'all';
  if (so.protocols !== undefined && so.protocols !== 'all') {
    const list = c.list('linux.sync.protocols', so.protocols, "iproute2 protocol names or numbers (or 'all')");
    protocols = [];
    list.forEach((x, i) => {
      const n = typeof x === 'string' || typeof x === 'number' ? protocolNumber(x) : undefined;
      if (n === undefined)
        c.err(
          `linux.sync.protocols[${i}]`,
          `unknown route protocol ${got(x)}; iproute2's names are ${Object.values(RT_PROTOCOLS).join(', ')} (or a number 0-255)`,
        );
      else (protocols as number[]).push(n);
    });
  }
  const socketBuffer = c.int('linux.sync.socketBuffer', so.socketBuffer, LINUX_SYNC_KEYS.socketBuffer, 4096, 1 << 30, { unit: 'bytes' });
  const maxRoutes = c.int('linux.sync.maxRoutes', so.maxRoutes, LINUX_SYNC_KEYS.maxRoutes, 1, 16 * 1048576, { unit: 'routes' });
  return {
    ...(netns !== undefined ? { netns } : {}),
    mirror,
    mirrors,
    queueLen,
    rateLimit,
    burst,
    sync: { enabled, table, protocols, socketBuffer, maxRoutes },
  };
}

// ---------------------------------------------------------------------------------------------

/**
 * Validates a plain value (as read from YAML) into a Config. Returns the config or the list of
 * every error (`path: problem`).
 */
export function validateConfig(raw: unknown, source: string, sourceOf: SourceOf = () => undefined): { config?: Config; errors: string[] } {
  const c = new Ctx(sourceOf);
  if (raw === null || raw === undefined) {
    c.err('', `the configuration is empty; at least eal and ports are needed (see examples/demo.yaml)`);
    return { errors: c.errors };
  }
  const top = c.map('', raw, KEYS.top, 'a mapping of sections (eal, ports, …) at the top level');
  if (!top) return { errors: c.errors };
  const knownNames = new Set<string>();
  const eal = validateEal(c, top.eal);
  const ports = validatePorts(c, top.ports, knownNames);
  const idle = validateIdle(c, top.idle);
  const { workers, auto } = validateWorkers(c, top.workers, eal, ports, knownNames, idle);
  const fib = validateFib(c, top.fib);
  const interfaces = validateInterfaces(c, top.interfaces, ports, knownNames);
  // routes and neighbours may name a port's untagged interface or a VLAN sub-interface
  const links: Named[] = [...ports, ...interfaces];
  const routes = validateRoutes(c, top.routes, links, knownNames);
  const neighbors = validateNeighbors(c, top.neighbors, links, knownNames);
  const config: Config = {
    source,
    eal,
    ports,
    interfaces,
    workers,
    idle,
    workersAuto: auto,
    fib,
    routes,
    neighbors,
    metrics: validateMetrics(c, top.metrics),
    control: validateControl(c, top.control),
    punt: validatePunt(c, top.punt),
    icmp: validateIcmp(c, top.icmp),
    arp: validateArp(c, top.arp, fib),
    mempool: validateMempool(c, top.mempool),
    capture: validateCapture(c, top.capture),
    linux: validateLinux(c, top.linux, ports),
    log: validateLog(c, top.log),
    warnings: c.warnings,
  };
  if (c.errors.length === 0 && config.mempool.mbufs > 0) {
    const need = mempoolSize({ ...config, mempool: { ...config.mempool, mbufs: 0 } });
    if (config.mempool.mbufs < need) {
      c.warnings.push(`mempool.mbufs: ${config.mempool.mbufs} is fewer than the ${need} that the ports, queues and workers need; receive queues may run dry`);
    }
  }
  if (c.errors.length > 0) return { errors: c.errors };
  return { config, errors: [] };
}
