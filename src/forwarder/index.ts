/**
 * One forwarder: config → EAL → ports and tables → routes and neighbours → workers.
 * Owns the Dataplane and the RIB; the control server, metrics and the control plane
 * (ARP, ICMP) hang off it.
 */
import { execFileSync } from 'child_process';
import { Observer } from './capture';
import * as fs from 'fs';
import * as path from 'path';
import { Config, parsedOf } from '../config/types';
import { buildEalArgs, mempoolSize } from '../config';
import { Dataplane, hostProbes, MirrorTaps, StartConf } from '../dataplane';
import { DpfwdError } from '../errors';
import { Rib } from '../routing/rib';
import { findAddressConflict, isIPv4, parseInterfaceAddress } from '../net/ipv4';
import { formatMac, Mac } from '../net/mac';
import { RouteBatch } from '../routing/routes';
import { Interfaces } from '../routing/interfaces';
import { deviceName, devargs, KNOWN_VDEV_DRIVERS, pciAddressOf } from '../net/device';
import { BIFURCATED_DRIVERS, isDpdkDriver, readPciDevice, SysRoot } from '../sriov/sysfs';
import { suggestKey } from '../config/kit';
import { addressConflicts, ipsForPciAddress, readNetworkStatus, resolveDeviceRefs } from '../sriov/podenv';
import { ControlPlane } from '../controlplane';
import { Mirrors } from '../controlplane/mirrors';
import { InterfaceClaims } from './owner';
import { kernelPortProblems, readPrivileges } from './privileges';

import { EventLog } from './events';
import { RouteSync } from '../routing/sync';
import { parseConfig, readConfigText } from '../config';
import { Level, Logger as Log, RateLimit, rootLogger } from '../log';
import {
  applyDiff,
  applyLiveSettings,
  diffCounts,
  reloadRefusal,
  restartRefusal,
  diffLines,
  diffState,
  renderRunning,
  restartProblems,
  runtimeOnlyRemoved,
  RunState,
  settingChanges,
  StateDiff,
  stateOfConfig,
  stateOfRunning,
} from './reload';

export type Logger = (msg: string) => void;

/** How often the forwarder looks at link states (and takes DPDK's log lines written meanwhile). */
export const LINK_POLL_MS = 1000;

/** DPDK's levels 1 (emergency) … 8 (debug) as the logger's. */
function dpdkLevel(l: number): Level {
  return l <= 4 ? 'error' : l === 5 ? 'warn' : l <= 7 ? 'info' : 'debug';
}

/** What a reload (or its dry run, `config diff`) finds: restart keys that differ, live changes. */
export interface ReloadPlan {
  file: string;
  /** `key: old → new needs a restart (restart to apply)`, one per restart-only key that differs */
  restart: string[];
  /** live settings that differ (`icmp.rateLimit`) */
  settings: string[];
  diff: StateDiff;
  /** one line per entry: `- route …` (goes), `+ route …` (comes) */
  lines: string[];
}

export interface ReloadReport {
  file: string;
  changed: Record<'routes' | 'addresses' | 'neighbors' | 'interfaces', { added: number; removed: number; changed: number }>;
  settings: string[];
  /** entries made at run time (CLI) that the file does not have: removed, the file is the truth (the first RELOAD_REPORT_LIST of them) */
  cliChangesDropped: string[];
  /** how many there were in all (a reload that removes a million loaded routes answers with a short list and this count) */
  cliChangesDroppedCount: number;
}

/** Longest list in a reload's report: the reply and the log line stay small whatever the reload removed. */
export const RELOAD_REPORT_LIST = 100;

/**
 * The longest frame a port's PMD may have cut short (rx_truncated, docs/kernel-ports.md), or 0
 * when it never cuts. net_af_packet (TPACKET_V2 ring): the kernel places a frame at offset
 * TPACKET_ALIGN(TPACKET2_HDRLEN + 16) - 14 = 66 of a ring frame of `framesz` bytes (devarg,
 * DPDK's default 2048) and copies at most the rest, so a frame of framesz - 66 bytes may be a
 * longer one cut. net_af_xdp never delivers part of a frame (the kernel drops what does not fit).
 */
/** af_packet ring frame dpfwd asks for when the device string sets none (DPDK's default is 2048). */
export const AF_PACKET_FRAMESZ = 4096;

/**
 * net_af_packet without framesz= gets framesz=${AF_PACKET_FRAMESZ}: its socket makes the kernel
 * reassemble fragments (PACKET_FANOUT_FLAG_DEFRAG), and a 2048-byte ring frame cuts any datagram
 * above 1982 bytes (a 3000-byte ping). dpfwd refragments what it receives so (docs/kernel-ports.md).
 */
export function withKernelPortDefaults(device: string): string {
  if (!/^net_af_packet/.test(deviceName(device)) || devargs(device).has('framesz')) return device;
  return `${device},framesz=${AF_PACKET_FRAMESZ}`;
}

export function rxCutLen(device: string): number {
  if (!/^net_af_packet/.test(deviceName(device))) return 0;
  const fs = Number(devargs(device).get('framesz') ?? 2048);
  return Number.isInteger(fs) && fs > 66 ? fs - 66 : 0;
}

/**
 * Checks what DPDK would otherwise report as a bare probe failure: missing interfaces for
 * af_packet/af_xdp, missing capture files for pcap. Returns every problem found.
 */
export function preflightDevices(ports: { name: string; device: string }[], sysRoot = '/'): string[] {
  const problems: string[] = [];
  const sys = new SysRoot(sysRoot);
  const drivers = installedVdevDrivers(sysRoot);
  ports.forEach((p, i) => {
    const name = deviceName(p.device);
    const args = devargs(p.device);
    const where = `ports[${i}].device`;
    const bdf = pciAddressOf(p.device);
    if (bdf) {
      const dev = readPciDevice(sys, bdf);
      if (!dev) {
        problems.push(
          `${where}: PCI device ${bdf} does not exist on this host: 'dpfwd sriov show' lists the functions that exist (a VF exists once its PF has VFs: 'dpfwd sriov create PF N'); check the address`,
        );
      } else if (!isDpdkDriver(dev.driver) && !(dev.driver !== null && BIFURCATED_DRIVERS.includes(dev.driver))) {
        const on = dev.driver ? `the kernel driver ${dev.driver}${dev.netdevs.length ? ` (interface ${dev.netdevs.join(', ')})` : ''}` : 'no driver';
        problems.push(`${where}: PCI device ${bdf} is bound to ${on}, which DPDK cannot use: 'dpfwd bind ${bdf} vfio-pci --persist'`);
      }
      return;
    }
    const vd = /^net_([a-z_]+?)[0-9]+$/.exec(name)?.[1];
    if (vd !== undefined && drivers && !drivers.has(vd)) {
      const near = suggestKey(vd, [...drivers]);
      problems.push(
        `${where}: ${name}: DPDK has no virtual device driver net_${vd}${near ? `; did you mean net_${near}${name.slice(4 + vd.length)}?` : ''} ` +
          `(installed here: ${[...drivers]
            .filter((d) => KNOWN_VDEV_DRIVERS.includes(d))
            .map((d) => `net_${d}`)
            .join(', ')}; another needs its librte-net-<name> package)`,
      );
      return;
    }
    if (/^net_(af_packet|af_xdp)/.test(name)) {
      const iface = args.get('iface');
      if (!iface) problems.push(`${where}: ${name} needs iface=<interface>`);
      else if (!fs.existsSync(`${sysRoot}sys/class/net/${iface}`)) {
        problems.push(
          `${where}: interface ${iface} does not exist in this network namespace (create it, e.g. ip link add ${iface} type veth peer name ${iface}-peer, or fix iface=)`,
        );
      }
    }
    if (/^net_pcap/.test(name)) {
      for (const k of ['rx_pcap']) {
        const f = args.get(k);
        if (f && !fs.existsSync(f)) problems.push(`${where}: ${k}=${f}: no such file`);
      }
      for (const k of ['tx_pcap']) {
        const f = args.get(k);
        if (f && !fs.existsSync(path.dirname(f))) problems.push(`${where}: ${k}=${f}: its directory does not exist`);
      }
      const iface = args.get('iface');
      if (iface && !fs.existsSync(`${sysRoot}sys/class/net/${iface}`)) problems.push(`${where}: interface ${iface} does not exist`);
    }
  });
  return problems;
}

/** DPDK driver libraries (librte_net_<lib>) whose vdev name differs from the library's. */
const VDEV_OF_LIB: Record<string, string[]> = { virtio: ['virtio_user'], bond: ['bonding'], ring: ['ring'], vhost: ['vhost'] };

/**
 * The virtual device drivers (af_packet, null, …: the part of net_<driver><n>) this host's DPDK
 * has, from its driver directory (EAL loads every librte_net_* there), or undefined when that
 * directory is not found (then nothing is refused).
 */
export function installedVdevDrivers(sysRoot = '/'): Set<string> | undefined {
  const out = new Set<string>();
  let found = false;
  for (const lib of ['usr/lib', 'usr/local/lib', 'usr/lib64']) {
    let arches: string[];
    try {
      arches = ['', ...fs.readdirSync(`${sysRoot}${lib}`).filter((d) => d.includes('-linux-'))];
    } catch {
      continue;
    }
    for (const a of arches) {
      const base = `${sysRoot}${lib}/${a ? `${a}/` : ''}dpdk`;
      let pmds: string[];
      try {
        pmds = fs.readdirSync(base).filter((d) => d.startsWith('pmds-'));
      } catch {
        continue;
      }
      for (const d of pmds) {
        for (const f of fs.readdirSync(`${base}/${d}`)) {
          const m = /^librte_net_([a-z0-9_]+)\.so$/.exec(f);
          if (!m) continue;
          found = true;
          for (const v of VDEV_OF_LIB[m[1]] ?? [m[1]]) out.add(v);
        }
      }
    }
  }
  return found ? out : undefined;
}

/** rte_lpm's tbl24: 2^24 entries of 4 bytes, allocated whatever the number of routes. */
const TBL24_BYTES = 4 << 24;
/** Per mbuf beside its data room: struct rte_mbuf (128) and the mempool's object header, cache-aligned (64). */
const MBUF_OVERHEAD = 192;
/** RTE_PKTMBUF_HEADROOM */
const MBUF_HEADROOM = 128;
/**
 * DPDK's own allocations at EAL init and port start (memzones, ethdev data, per-lcore mempool
 * caches) and the 2 MiB page each large allocation may leave part-used: measured 8-12 MiB.
 */
const EAL_BASE_BYTES = 16 << 20;

/** One item of a config's hugepage need. */
export interface HugepagePart {
  what: string;
  bytes: number;
}

/**
 * The hugepage memory a config takes when it starts (what native/dataplane/setup.c and fib.c
 * allocate, by the same sizes): the mbuf pool (mbufs of the room the largest MTU or af_packet
 * frame needs), the FIB (tbl24, tbl8 groups, the rule store), next hops, ECMP groups, punt and
 * inject rings, and DPDK's own share. `devices` are the ports' device strings as started
 * (default: the config's, with dpfwd's af_packet defaults). The one computation behind `run`'s
 * check before EAL init, `dpfwd config check` and `dpfwd doctor --config`.
 */
export function hugepageNeed(
  c: Pick<Config, 'ports' | 'workers' | 'mempool' | 'fib'>,
  devices = c.ports.map((p) => withKernelPortDefaults(p.device)),
): { bytes: number; parts: HugepagePart[] } {
  let room = MBUF_HEADROOM + Math.max(2048, Math.max(1500, ...c.ports.map((p) => p.mtu)) + 14 + 8);
  for (const d of devices) {
    const cut = rxCutLen(d);
    if (cut && cut + 34 > room - MBUF_HEADROOM) room = MBUF_HEADROOM + cut + 34;
  }
  const mbufs = mempoolSize(c as Config);
  const pow2 = (n: number) => {
    let r = 1;
    while (r < n) r *= 2;
    return r;
  };
  const f = c.fib;
  const w = c.workers.length;
  const parts: HugepagePart[] = [
    { what: `mbuf pool (${mbufs} mbufs of ${room} bytes)`, bytes: mbufs * (room + MBUF_OVERHEAD) + pow2(mbufs + 1) * 8 },
    { what: 'FIB tbl24 (fixed)', bytes: TBL24_BYTES },
    { what: `FIB tbl8 (fib.tbl8Groups ${f.tbl8Groups})`, bytes: f.tbl8Groups * (1024 + 4 + 16) },
    { what: `FIB rules (fib.maxRoutes ${f.maxRoutes})`, bytes: 8 * Math.max(16, pow2(2 * f.maxRoutes)) },
    { what: `next hops (fib.maxNexthops ${f.maxNexthops}) and ECMP groups (fib.maxGroups ${f.maxGroups})`, bytes: 8 * f.maxNexthops + 512 * f.maxGroups },
    { what: `punt and inject rings (${w} workers)`, bytes: w * 2 * 1024 * 8 },
    { what: 'DPDK (EAL, ports, caches)', bytes: EAL_BASE_BYTES },
  ];
  return { bytes: parts.reduce((a, x) => a + x.bytes, 0), parts };
}

/** Free and reserved hugepage bytes (pages held by this file prefix's files count as free), or why there are none. */
export function hugepagesFree(c: Pick<Config, 'eal'>, sysRoot = '/'): { freeBytes: number; totalBytes: number } | string {
  const base = `${sysRoot}sys/kernel/mm/hugepages`;
  let dirs: string[];
  try {
    dirs = fs.readdirSync(base);
  } catch {
    return `this kernel has no hugepage support (${base} is missing); DPDK needs hugepages (see dpfwd doctor)`;
  }
  let freeBytes = 0;
  let totalBytes = 0;
  for (const d of dirs) {
    const m = /^hugepages-(\d+)kB$/.exec(d);
    if (!m) continue;
    const read = (f: string) => Number(fs.readFileSync(`${base}/${d}/${f}`, 'utf8').trim()) || 0;
    try {
      freeBytes += read('free_hugepages') * Number(m[1]) * 1024;
      totalBytes += read('nr_hugepages') * Number(m[1]) * 1024;
    } catch {
      /* unreadable: counted as none */
    }
  }
  if (!c.eal.inMemory) {
    const prefix = c.eal.filePrefix ?? 'dpfwd';
    try {
      for (const f of fs.readdirSync(`${sysRoot}dev/hugepages`))
        if (f.startsWith(`${prefix}map_`)) freeBytes += fs.statSync(`${sysRoot}dev/hugepages/${f}`).size;
    } catch {
      /* no mount there */
    }
  }
  return { freeBytes, totalBytes };
}

/**
 * Hugepages before EAL init: what this config takes (hugepageNeed) must be free, else DPDK would
 * start, probe the ports and fail half-way; and eal.hugepagesMiB must not cap DPDK below it.
 * Returns a problem or undefined; skipped with --no-huge in eal.args.
 */
export function preflightHugepages(c: Pick<Config, 'eal' | 'ports' | 'workers' | 'mempool' | 'fib'>, sysRoot = '/', devices?: string[]): string | undefined {
  if (c.eal.args.includes('--no-huge')) return undefined;
  const MiB = (n: number) => Math.ceil(n / 1048576);
  const need = hugepageNeed(c, devices);
  const what = need.parts
    .filter((p) => p.bytes >= 1048576)
    .map((p) => `${p.what} ${MiB(p.bytes)} MiB`)
    .join(', ');
  if (c.eal.hugepagesMiB !== undefined && c.eal.hugepagesMiB * 1048576 < need.bytes) {
    return `eal.hugepagesMiB: ${c.eal.hugepagesMiB} MiB caps DPDK below the ${MiB(need.bytes)} MiB this config needs (${what}); raise it to ${MiB(need.bytes)} or remove it`;
  }
  const have = hugepagesFree(c, sysRoot);
  if (typeof have === 'string') return have;
  const { freeBytes, totalBytes } = have;
  if (freeBytes >= need.bytes) return undefined;
  const pages = Math.ceil((need.bytes - freeBytes) / 2097152);
  return (
    `hugepages: ${MiB(freeBytes)} MiB free of ${MiB(totalBytes)} MiB reserved, this config needs ${MiB(need.bytes)} MiB ` +
    `(${what}); reserve more (e.g. echo ${Math.ceil(totalBytes / 2097152) + pages} > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages), ` +
    'lower fib.maxRoutes/fib.tbl8Groups or mempool.mbufs, or stop what holds them (another DPDK process; files in /dev/hugepages); dpfwd doctor checks this'
  );
}

/** One problem found before EAL init: its error code and one line (`ports[0].device: …`). */
export interface PreflightProblem {
  code: 'ECONFIG' | 'ENODEV' | 'EPERM' | 'ENOMEM';
  text: string;
}

/**
 * Everything `start` checks before EAL init, every problem at once: device references resolved
 * from the environment, one device per port, devices that exist (interfaces, capture files, PCI
 * functions and their drivers, installed vdev drivers), enough hugepages for this config.
 * `start` refuses on any; `dpfwd config check` and `run --dry-run` print them all.
 */
export function preflight(
  c: Config,
  env: Record<string, string | undefined> = process.env,
  sysRoot = '/',
): { devices: string[]; problems: PreflightProblem[] } {
  const problems: PreflightProblem[] = [];
  let devices = c.ports.map((p) => p.device);
  try {
    devices = resolveDeviceRefs(devices, env);
  } catch (e) {
    if (!(e instanceof DpfwdError)) throw e;
    problems.push({ code: 'ECONFIG', text: e.message });
  }
  devices = devices.map(withKernelPortDefaults);
  for (const d of addressConflicts(c.ports.map((p, i) => ({ name: p.name, device: devices[i] })))) problems.push({ code: 'ECONFIG', text: d.text });
  const ports = c.ports.map((p, i) => ({ name: p.name, device: devices[i] }));
  for (const text of preflightDevices(ports, sysRoot)) problems.push({ code: 'ENODEV', text });
  // an af_xdp UMEM registers the pool's mbufs (2 KiB of data each) as locked memory
  const umemBytes = mempoolSize(c) * (2048 + MBUF_HEADROOM + MBUF_OVERHEAD);
  for (const text of kernelPortProblems(ports, readPrivileges(), hostProbes, umemBytes)) problems.push({ code: 'EPERM', text });
  const huge = preflightHugepages(c, sysRoot, devices);
  if (huge) problems.push({ code: 'ENOMEM', text: huge });
  return { devices, problems };
}

/** start's refusal for the problems of one code, worded as before (devices listed under one line). */
function preflightError(problems: PreflightProblem[], code: PreflightProblem['code']): DpfwdError | undefined {
  const texts = problems.filter((p) => p.code === code).map((p) => p.text);
  if (!texts.length) return undefined;
  const head =
    code === 'ENODEV' ? 'cannot use the configured devices:' : code === 'EPERM' ? 'this process may not run the configured kernel-facing ports:' : undefined;
  return new DpfwdError(code, head ? `${head}\n  ${texts.join('\n  ')}` : texts.join('\n'));
}

/** Runs `ip`/`sysctl` for the Linux mirrors; a failure names the command and what it printed. */
export function runCommand(argv: string[]): string {
  try {
    return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 10000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new DpfwdError('EMIRROR', `linux: ${argv.join(' ')}: ${(err.stderr || err.message).trim()}`);
  }
}

export interface PortState {
  index: number;
  name: string;
  device: string;
  driver: string;
  mac: Mac;
  mtu: number;
}

export class Forwarder {
  readonly dp: Dataplane;
  rib!: Rib;
  ifaces!: Interfaces;
  /** the dataplane's MAX_PORTS: sub-interfaces are numbered from it */
  maxPorts = 0;
  cp!: ControlPlane;
  /** Linux mirror interfaces (linux.mirror), when any port has one */
  mirrors?: Mirrors;
  /** `dpfwd capture` and `dpfwd trace` sessions */
  observe!: Observer;
  /** the kernel routing table followed (linux.sync), when enabled */
  sync: RouteSync | null = null;
  /** what changed, for `dpfwd monitor` (the `events` op) */
  readonly monitor = new EventLog();
  private lastSyncState = '';
  ports: PortState[] = [];
  startedAt = 0;
  private stopped = false;
  /** the text and config of the file last applied (at start, then by each reload) */
  fileText = '';
  fileConfig: Config;
  /** addresses taken from Multus' network-status at start, per port (a reload keeps them) */
  private readonly nsAddresses = new Map<string, string[]>();
  private linkTimer: NodeJS.Timeout | null = null;
  private readonly linkUp = new Map<number, boolean>();
  /** called with the new config after a reload changed live settings (control, metrics and log limits) */
  readonly onSettings: ((c: Config) => void)[] = [];
  private readonly events: RateLimit;
  private claims?: InterfaceClaims;

  constructor(
    readonly config: Config,
    private readonly log: Logger = rootLogger.child('forwarder').fn(),
    private readonly logger: Log = rootLogger,
  ) {
    this.dp = new Dataplane();
    this.fileConfig = config;
    this.events = new RateLimit(logger.child('neighbor'));
  }

  /** DPDK's log lines written since the last call, through the logger (component dpdk; libbpf, libxdp). */
  takeDpdkLog(): void {
    const { lines, dropped } = this.dp.takeLog();
    const l = this.logger.child('dpdk');
    const libs: Record<string, Log> = {};
    for (const x of lines) {
      // libbpf's and libxdp's lines come the same way (native/dataplane/log.c), with their own prefix
      const lib = /^(libbpf|libxdp): /.exec(x.text);
      if (lib) (libs[lib[1]] ??= this.logger.child(lib[1])).log(dpdkLevel(x.level), x.text.slice(lib[0].length));
      else l.log(dpdkLevel(x.level), x.text);
    }
    if (dropped) l.warn(`${dropped} bytes of DPDK log did not fit the ${65536}-byte buffer between two reads and were lost`);
  }

  /** The ports' device strings as EAL gets them (pod references resolved, kernel-port defaults). */
  private devices(): string[] {
    return resolveDeviceRefs(
      this.config.ports.map((p) => p.device),
      process.env,
    ).map(withKernelPortDefaults);
  }

  /**
   * Claims the Linux interfaces the ports open (owner.ts) before start(): refuses (EBUSY) when
   * another running dpfwd holds one, naming its pid and control socket. Released by stop().
   */
  async claimInterfaces(socket: string): Promise<void> {
    const devices = this.devices();
    this.claims = await InterfaceClaims.take(
      this.config.ports.map((p, i) => ({ name: p.name, device: devices[i] })),
      socket,
    );
    if (this.claims.interfaces.length) this.log(`interfaces claimed for this forwarder: ${this.claims.interfaces.join(', ')}`);
  }

  /** Starts everything; on failure nothing is left running and the error says why. */
  start(): void {
    const c = this.config;
    for (const w of c.warnings) this.log(`warning: ${w}`);
    // every check before EAL init, in one function that `dpfwd config check` runs too
    const { devices, problems } = preflight(c);
    const unresolved = preflightError(problems, 'ECONFIG');
    if (unresolved) throw unresolved;
    this.addressesFromNetworkStatus(devices);
    const refused = preflightError(problems, 'ENODEV') ?? preflightError(problems, 'EPERM') ?? preflightError(problems, 'ENOMEM');
    if (refused) throw refused;

    const args = buildEalArgs(c, devices);
    this.log(`EAL arguments: ${args.slice(1).join(' ')}`);
    this.dp.forwardLog(true);
    try {
      this.dp.ealInit(args);
      this.takeDpdkLog();
    } catch (e) {
      this.takeDpdkLog();
      if (c.eal.args.length && /rejected its arguments/.test((e as Error).message)) {
        throw new DpfwdError((e as DpfwdError).code, `${(e as Error).message}\n  eal.args adds: ${c.eal.args.join(' ')}`);
      }
      throw e;
    }

    const portIndex = new Map(c.ports.map((p, i) => [p.name, i]));
    const mbufs = c.mempool.mbufs || mempoolSize(c);
    const conf: StartConf = {
      ports: c.ports.map((p, i) => ({
        name: p.name,
        devname: deviceName(devices[i]),
        rxQueues: p.rxQueues,
        rxDescriptors: p.rxDescriptors,
        txDescriptors: p.txDescriptors,
        mtu: p.mtu,
        mac: parsedOf(p).mac,
        rxCutLen: rxCutLen(devices[i]),
      })),
      workers: c.workers.map((w) => ({
        lcore: w.lcore,
        idleSleepUs: w.idleSleepUs,
        rx: w.rx.map((r) => ({ port: portIndex.get(r.port)!, queue: r.queue })),
      })),
      maxRoutes: c.fib.maxRoutes,
      tbl8Groups: c.fib.tbl8Groups,
      maxNexthops: c.fib.maxNexthops,
      maxGroups: c.fib.maxGroups,
      mbufs,
      mbufCache: c.mempool.cacheSize,
      puntRate: c.punt.rate,
      puntBurst: c.punt.burst,
      puntRingSize: 1024,
    };
    try {
      this.dp.start(conf);
      const pool = this.dp.mempoolInfo();
      this.log(
        `mempool: ${pool.size} mbufs of ${pool.dataRoom} bytes reserved (${((pool.size * (pool.dataRoom + 192)) / 1048576).toFixed(1)} MiB; ports x queues x descriptors + worker caches + bursts)`,
      );
      this.ports = c.ports.map((p, i) => {
        const info = this.dp.portInfo(i);
        this.log(`port ${p.name}: ${devices[i]} driver ${info.driver} mac ${formatMac(info.mac)} mtu ${p.mtu} rxq ${info.rxQueues} txq ${info.txQueues}`);
        return { index: i, name: p.name, device: devices[i], driver: info.driver, mac: info.mac, mtu: p.mtu };
      });
      this.maxPorts = this.dp.constants().maxPorts;
      this.ifaces = new Interfaces(this.ports.map((p) => ({ index: p.index, name: p.name, port: p.index, vlan: 0, mac: p.mac, mtu: p.mtu })));
      this.rib = new Rib(this.dp, this.ifaces, c.fib.maxNexthops, c.arp.maxEntries, c.fib.maxGroups);
      this.rib.onEvent = (kind, text) => this.monitor.emit(kind, text);
      this.program();
      if (Object.keys(c.linux.mirrors).length) this.openMirrors();
      this.cp = new ControlPlane({
        punt: this.dp,
        rib: this.rib,
        ifaces: this.ifaces,
        config: c,
        mirrors: this.mirrors,
        neighborEvent: (lv, m, f) => this.neighborEvent(lv, m, f),
      });
      this.observe = new Observer({
        dp: this.dp,
        ports: this.ports,
        ifaceName: (i) => this.ifaces.get(i)?.name ?? `iface ${i}`,
        lookup: (a) => this.rib.lookup(a),
        config: c.capture,
        log: this.log,
      });
      this.dp.launch();
      this.cp.start();
      this.takeDpdkLog();
      if (c.linux.sync.enabled) {
        const s = c.linux.sync;
        const aliases = Object.fromEntries(
          Object.entries(c.linux.mirrors)
            .filter(([port, name]) => port !== name)
            .map(([port, name]) => [name, port]),
        );
        this.sync = new RouteSync(
          this.rib,
          { netns: c.linux.netns, table: s.table, protocols: s.protocols, socketBuffer: s.socketBuffer, maxRoutes: s.maxRoutes, aliases },
          this.log,
        );
        // gateways of synced routes are resolved as soon as they come, like static routes' at start
        this.sync.onInstalled = () => {
          for (const g of this.rib.unresolvedGateways()) if (!this.rib.getNeighbor(g.addr)) this.cp.neighbors.resolve(g.addr, g.port, undefined, true);
        };
        this.sync.start();
        this.log(
          `route sync: following table ${s.table} of ${c.linux.netns ? `namespace ${c.linux.netns}` : "dpfwd's namespace"} (protocols ${this.sync.status().protocols})`,
        );
      }
    } catch (e) {
      this.mirrors?.close();
      this.sync?.stop();
      this.cp?.stop();
      this.dp.stop();
      this.takeDpdkLog();
      if ((e as DpfwdError).code === 'ENOMEM' && c.eal.hugepagesMiB !== undefined) {
        throw new DpfwdError('ENOMEM', `${(e as Error).message}; eal.hugepagesMiB caps DPDK at ${c.eal.hugepagesMiB} MiB: raise or remove it`);
      }
      throw e;
    }
    this.startedAt = Date.now();
    for (const w of c.workers) this.log(`worker lcore ${w.lcore}: rx ${w.rx.map((r) => `${r.port}/${r.queue}`).join(' ')}`);
    this.log(`forwarding: ${c.ports.length} ports, ${c.workers.length} workers, ${this.rib.routeCount} routes`);
    this.watchLinks();
  }

  /**
   * The one link watch: every LINK_POLL_MS the main thread reads each port's link
   * (rte_eth_link_get_nowait, no wait; not every PMD delivers DPDK's link-state event), logs a
   * change, takes a down port's paths out of ECMP groups until it comes back (Rib.setPortLink),
   * has the mirrors' carrier follow it, and takes DPDK's pending log lines. Workers never see it.
   */
  private watchLinks(): void {
    const l = this.logger.child('link');
    const look = () => {
      for (const p of this.ports) {
        let up: boolean;
        try {
          up = this.dp.portInfo(p.index).linkUp;
        } catch {
          continue;
        }
        const was = this.linkUp.get(p.index);
        this.linkUp.set(p.index, up);
        if (was !== up && (was !== undefined || !up)) this.rib.setPortLink(p.index, up);
        if (was !== up) this.monitor.emit('link', `link ${p.name} ${up ? 'up' : 'down'}`);
        if (was === undefined) l.info(`port ${p.name}: link ${up ? 'up' : 'down'}`, { port: p.name, link: up ? 'up' : 'down' });
        else if (was !== up)
          l.log(up ? 'info' : 'warn', `port ${p.name}: link ${up ? 'up' : 'down'} (was ${was ? 'up' : 'down'})`, { port: p.name, link: up ? 'up' : 'down' });
      }
      this.mirrors?.followLinks();
      this.takeDpdkLog();
      const st = this.sync?.status().state;
      if (st && st !== this.lastSyncState) {
        this.monitor.emit('sync', `sync ${st}${this.lastSyncState ? ` (was ${this.lastSyncState})` : ''}`);
        this.lastSyncState = st;
      }
    };
    look();
    this.linkTimer = setInterval(look, LINK_POLL_MS);
    this.linkTimer.unref();
  }

  /** A neighbour's state change, rate-limited (log.rateLimit lines/s; the rest summed each second). */
  neighborEvent(level: Level, msg: string, fields: Record<string, unknown>): void {
    this.monitor.emit('neigh', msg); // every one (the log's lines are rate-limited)
    this.events.line('neighbor', level, msg, fields);
  }

  // ---- reload and saved state (src/forwarder/reload.ts) ----

  private running(): RunState {
    return stateOfRunning({ rib: this.rib, ifaces: this.ifaces, cp: this.cp, dp: this.dp });
  }

  /** The running configuration as YAML (the last file applied plus run-time changes). */
  runningConfig(): string {
    return renderRunning(this.fileText, this.fileConfig, this.running());
  }

  /** Reads and validates the config file (throws ConfigError naming every problem); running → file. */
  planReload(text?: string): ReloadPlan & { next: Config; text: string } {
    const file = this.config.source;
    if (text === undefined) text = readConfigText(file);
    const next = parseConfig(text, file);
    const diff = diffState(this.running(), stateOfConfig(next, this.nsAddresses));
    return { file, restart: restartProblems(this.config, next), settings: settingChanges(this.fileConfig, next), diff, lines: diffLines(diff), next, text };
  }

  /**
   * `dpfwd reload` and SIGHUP: the file's changes, applied live, all or nothing (see reload.ts).
   * Refused whole (ERESTART) when a restart-only key differs, naming each.
   */
  reload(): ReloadReport {
    const l = this.logger.child('reload');
    let plan: ReturnType<Forwarder['planReload']>;
    try {
      plan = this.planReload();
      if (plan.restart.length) {
        throw restartRefusal(plan.file, plan.restart);
      }
      applyDiff({ rib: this.rib, ifaces: this.ifaces, cp: this.cp, dp: this.dp }, plan.diff);
    } catch (e) {
      const err = reloadRefusal(e);
      l.error(err.message);
      throw err;
    }
    const dropped = runtimeOnlyRemoved(plan.diff, stateOfConfig(this.fileConfig, this.nsAddresses));
    this.applySettings(plan.next);
    this.fileText = plan.text;
    this.fileConfig = plan.next;
    const report: ReloadReport = {
      file: plan.file,
      changed: diffCounts(plan.diff),
      settings: plan.settings,
      cliChangesDropped: dropped.slice(0, RELOAD_REPORT_LIST),
      cliChangesDroppedCount: dropped.length,
    };
    const n = (k: keyof ReloadReport['changed']) => `${k} +${report.changed[k].added} -${report.changed[k].removed} ~${report.changed[k].changed}`;
    l.info(
      `reloaded ${plan.file}: ${n('routes')}, ${n('addresses')}, ${n('neighbors')}, ${n('interfaces')}; settings: ${plan.settings.join(' ') || 'none'}` +
        (dropped.length ? `; ${dropped.length} run-time change(s) not in the file removed (the file is the truth; dpfwd config save keeps them)` : ''),
      { ...report },
    );
    return report;
  }

  /** Live settings of a reloaded config: in place, so every holder of the sections sees them. */
  private applySettings(next: Config): void {
    const c = this.config;
    applyLiveSettings(c, next);
    this.cp.icmp.setLimits(c.icmp.rateLimit, c.icmp.burst);
    for (const f of this.onSettings) f(c);
  }

  /**
   * `address: network-status/<len>`: SR-IOV CNI allocates an address for a vfio VF but cannot
   * apply it; Multus reports it in the pod's network-status annotation (downward API file,
   * DPFWD_NETWORK_STATUS or /etc/podinfo/annotations).
   */
  private addressesFromNetworkStatus(devices: string[]): void {
    const wanted = this.config.ports.filter((p) => p.networkStatusLen !== undefined);
    if (!wanted.length) return;
    const file = process.env.DPFWD_NETWORK_STATUS ?? '/etc/podinfo/annotations';
    const statuses = readNetworkStatus(file);
    const taken: { port: string; addr: string }[] = this.config.ports.flatMap((p) => p.addresses.map((addr) => ({ port: p.name, addr })));
    for (const p of wanted) {
      const i = this.config.ports.indexOf(p);
      const ips = ipsForPciAddress(statuses, devices[i]).filter(isIPv4); // IPv6 addresses are skipped
      if (!ips.length) {
        throw new DpfwdError(
          'ENODEV',
          `ports[${i}].address: ${file} has no IPv4 address for ${devices[i]} (port ${p.name}); is the NetworkAttachmentDefinition's IPAM set, and the annotations mounted through the downward API?`,
        );
      }
      for (const ip of ips) {
        const addr = `${ip}/${p.networkStatusLen}`;
        const conflict = findAddressConflict(taken, p.name, addr);
        if (conflict) throw new DpfwdError('ECONFIG', `ports[${i}].address: ${conflict}`);
        p.addresses.push(addr);
        parsedOf(p).addresses.push(parseInterfaceAddress(addr));
        this.nsAddresses.set(p.name, [...(this.nsAddresses.get(p.name) ?? []), addr]);
        taken.push({ port: p.name, addr });
        this.log(`port ${p.name}: address ${addr} from ${file}`);
      }
    }
  }

  /**
   * The Linux control-plane path (docs/linux.md): a TAP per mirrored port in linux.netns, with
   * the port's MAC, MTU and addresses (following `address add/del`), and link-local multicast
   * punted up instead of dropped as martian.
   */
  private openMirrors(): void {
    const m = new Mirrors(
      {
        taps: new MirrorTaps(),
        ifaces: this.ifaces,
        addresses: () => this.rib.listAddresses(),
        inject: (iface, frame) => this.dp.inject(iface, frame),
        // what the link watch read this second (watchLinks); a read of its own before the first
        linkUp: (port) => this.linkUp.get(port) ?? this.dp.portInfo(port).linkUp,
        log: this.log,
        warn: this.logger.child('forwarder').fn('warn'),
        exec: runCommand,
      },
      this.config.linux,
    );
    m.open();
    this.mirrors = m;
    this.rib.onAddressChange = () => {
      try {
        m.syncAddresses();
      } catch (e) {
        this.log(`linux: mirror addresses: ${(e as Error).message}`);
      }
    };
    this.dp.linkMulticast(true);
  }

  private program(): void {
    const c = this.config;
    const space = this.dp.constants();
    for (const ic of c.interfaces) {
      const i = this.ifaces.addSubif(this.dp, space, { name: ic.name, port: ic.port, vlan: ic.vlan, mtu: ic.mtu });
      this.log(`interface ${i.name}: port ${ic.port} VLAN ${ic.vlan} mtu ${i.mtu} (index ${i.index})`);
      for (const a of parsedOf(ic).addresses) this.rib.addAddress(ic.name, a.addr, a.len);
    }
    c.ports.forEach((p) => {
      for (const a of parsedOf(p).addresses) this.rib.addAddress(p.name, a.addr, a.len);
    });
    // the numbers validation parsed (withParsed in src/config/types.ts): nothing is parsed twice
    for (const n of c.neighbors) this.rib.setNeighbor(parsedOf(n).address, n.port, parsedOf(n).mac, true);
    if (c.routes.length) this.rib.addRoutesBulk(RouteBatch.from(c.routes.map((r) => parsedOf(r))));
  }

  /** Stops workers, closes ports and releases hugepage memory. Safe to call twice. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.linkTimer) clearInterval(this.linkTimer);
    this.observe?.close();
    this.sync?.stop();
    this.events.close();
    this.cp?.stop();
    this.mirrors?.close();
    this.dp.cleanup();
    // only now that the ports are closed and their XDP step undone may another forwarder take them
    this.claims?.release();
    try {
      this.takeDpdkLog();
    } catch {
      /* the addon is gone: nothing to take */
    }
  }
}
