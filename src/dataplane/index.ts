/**
 * Typed wrapper of the native addon: converts native errors into DpfwdError with a fix, MAC
 * strings into next-hop words, and the counter block into snapshots. Nothing else imports the addon.
 */
import * as os from 'os';
import { DpfwdError } from '../errors';
import type { Mac } from '../net/mac';
import {
  loadNative,
  NativeAddon,
  NativeCounterLayout,
  NativeNames,
  NativePortInfo,
  NativePortStats,
  NativePunted,
  NativePuntStatus,
  NativeStartConf,
  NativeMempoolInfo,
  NativeFibInfo,
  NativeConstants,
  NativeCaptureConf,
  NativeCaptured,
  NativeTraceRec,
} from './native';
import { dataplaneConstants } from './actions';

export type { NativePortInfo as PortInfo, NativePortStats as PortStats, NativePunted as Punted, NativeStartConf as StartConf };
export type { NativeCaptureConf as CaptureConf, NativeCaptured as Captured, NativeTraceRec as TraceRec };
export type { NativeMempoolInfo as MempoolInfo, NativeFibInfo as FibInfo, NativeConstants as DataplaneConstants };

export { NH_UNRESOLVED, NH_GLEAN, NH_LOCAL, NH_DROP, NH_ACTION_MIN, MAX_PORTS, MAX_SUBIFS, BURST, dataplaneConstants } from './actions';

/** A VLAN sub-interface as the dataplane knows it: physical port index, 802.1Q VID, MTU. */
export interface SubifConf {
  port: number;
  vlan: number;
  mtu: number;
}

/** A Mac as the 48-bit number the next-hop word holds (byte 0 in the low bits). */
export function macToWordBits(mac: Mac): number {
  let m = mac;
  let v = 0;
  for (let i = 0; i < 6; i++) {
    v = v * 256 + (m % 256);
    m = Math.floor(m / 256);
  }
  return v;
}

/** One interface's counters: forwarded (ingress), drops by reason index, DP_PORT_COUNTERS by names().port index. */
export interface IfaceCounters {
  forwarded: number;
  drops: number[];
  counters: number[];
}

export interface WorkerSnapshot {
  index: number;
  counters: Record<string, number>;
  /** per port index: its untagged interface (unknown_vlan and tx_full count here too) */
  ports: IfaceCounters[];
  /**
   * subifs[k]: sub-interface MAX_PORTS + k, for the configured ones (undefined elsewhere; the
   * array ends after the highest configured one). Counted since its ifaceSet created it.
   */
  subifs?: (IfaceCounters | undefined)[];
  punts: { punted: number; limited: number }[];
}

export interface CounterSnapshot {
  tscHz: number;
  workers: WorkerSnapshot[];
}

function errnoName(e: unknown): string {
  return (e as { code?: string })?.code ?? 'EDPDK';
}

export function dpdkLogTail(e: unknown, lines = 6): string {
  const log = String((e as { dpdkLog?: string })?.dpdkLog ?? '');
  const kept = log
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  return kept.slice(-lines).join('\n  ');
}

/** Turns a failed rte_eal_init into one paragraph with cause and fix. */
export function explainEalError(e: unknown): DpfwdError {
  const code = errnoName(e);
  const log = dpdkLogTail(e);
  const seen = (re: RegExp) => re.exec(log);
  let why: string;
  let m: RegExpExecArray | null;
  if ((m = seen(/unrecognized option '([^']+)'|invalid option -- '?([^'\s]+)'?|option '([^']+)' requires an argument/))) {
    why = `DPDK does not accept the argument ${m[1] ?? m[2] ?? m[3]}: fix or remove it in eal.args (DPDK 22.11's options: dpdk-testpmd --help)`;
  } else if ((m = seen(/lcore (\d+) unavailable|invalid core list|Invalid 'lcores'|main lcore .* not|lcore \d+ .*not .*available/i))) {
    why = `eal.lcores names a CPU this machine does not have or may not use (${m[0]}); this machine has CPUs 0-${os.cpus().length - 1}`;
  } else if (code === 'EACCES' || code === 'EPERM' || seen(/[Pp]ermission denied|Cannot use IOVA|cannot open \/dev\/vfio/)) {
    why = 'permission denied: run dpfwd as root, or in a container give it IPC_LOCK (and NET_RAW for af_packet, NET_ADMIN for tap/af_xdp) and /dev/hugepages';
  } else if (code === 'ENOMEM' || seen(/hugepage|Cannot get hugepage|Cannot init memory|not enough memory/i)) {
    why = 'not enough hugepage memory: reserve more (echo 512 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) and check `dpfwd doctor`';
  } else if (code === 'EALREADY') {
    why = 'the EAL is already initialised in this process (one forwarder per process)';
  } else if (seen(/Cannot probe|failed to initialize|No such device|vdev_probe|probe.*failed/i)) {
    why =
      'a device could not be probed: check every ports[].device (does the interface or file exist? is the PCI device bound to vfio-pci?); `dpfwd doctor --config` checks them';
  } else if (seen(/Invalid 'command line' arguments/)) {
    why = 'DPDK rejected its arguments: check eal.args and eal.lcores';
  } else {
    why = 'see the DPDK log above; `dpfwd doctor` checks hugepages, IOMMU and device bindings';
  }
  return new DpfwdError(code === 'EDPDK' ? 'EAL_INIT' : code, `DPDK EAL initialisation failed: ${why}.${log ? `\n  DPDK said: ${log}` : ''}`);
}

/**
 * The pid, uid and gid of the process at the other end of a UNIX socket (SO_PEERCRED), or null
 * when the addon cannot tell (not a UNIX socket, or the addon not built).
 */
export function peerCred(fd: number): { pid: number; uid: number; gid: number } | null {
  try {
    return loadNative().peerCred(fd);
  } catch {
    return null;
  }
}

/**
 * Checks before EAL init that need a system call Node lacks: whether bpf() reaches the kernel
 * (0, else the errno a seccomp filter or LSM answered) and an interface's kernel driver.
 */
export const hostProbes = {
  bpf: (): number => loadNative().bpfProbe(),
  ifaceDriver: (name: string): string => loadNative().ifaceDriver(name),
};

export class Dataplane {
  private readonly n: NativeAddon;
  private view: BigUint64Array | null = null;
  private layout: NativeCounterLayout | null = null;
  private started = false;
  private readonly subifs = new Map<number, SubifConf>();
  /** per sub-interface index: its counters when ifaceSet created it (slots are reused after a delete) */
  private readonly subifBase = new Map<number, IfaceCounters[]>();

  constructor(addon?: NativeAddon) {
    this.n = addon ?? loadNative();
  }

  static names(): NativeNames {
    return loadNative().names();
  }

  /** fixed by the addon's build: read once (a `show ports` used to build them again per call) */
  private namesOnce?: NativeNames;

  names(): NativeNames {
    return (this.namesOnce ??= this.n.names());
  }

  /** The C side's constants (sizes, next-hop actions, drop reasons and punt kinds with help). */
  static constants(): NativeConstants {
    return dataplaneConstants();
  }

  constants(): NativeConstants {
    return this.n.constants();
  }

  ealInit(args: string[]): void {
    try {
      this.n.ealInit(args);
    } catch (e) {
      throw explainEalError(e);
    }
  }

  start(conf: NativeStartConf): void {
    try {
      this.n.start(conf);
    } catch (e) {
      // DPDK's own lines are already on stderr above this message
      throw new DpfwdError(errnoName(e), `cannot start the dataplane: ${(e as Error).message}`);
    }
    const c = this.n.counters();
    this.view = new BigUint64Array(c.buffer);
    this.layout = c.layout;
    this.started = true;
  }

  launch(): void {
    try {
      this.n.launch();
    } catch (e) {
      throw new DpfwdError(errnoName(e), `cannot launch the workers: ${(e as Error).message}`);
    }
  }

  /** Stops workers, closes ports, frees tables. Counter views die here: never read them after. */
  stop(): void {
    this.view = null;
    this.layout = null;
    this.started = false;
    this.subifs.clear();
    this.subifBase.clear();
    this.n.stop();
  }

  /** Releases hugepage memory (rte_eal_cleanup). The process cannot init the EAL again. */
  cleanup(): void {
    this.stop();
    this.n.cleanup();
  }

  get running(): boolean {
    return this.started;
  }

  workersAlive(): number {
    return this.n.workersAlive();
  }

  /** The punt path's liveness per worker, computed now (no timer anywhere). */
  puntStatus(): NativePuntStatus[] {
    return this.n.puntStatus();
  }

  /**
   * DPDK's log lines from now on to `takeLog` instead of stderr, so that they reach the
   * forwarder's logger (src/log.ts) in its format.
   */
  forwardLog(on: boolean): void {
    this.n.logForward(on);
  }

  /** DPDK's log lines since the last call, each with its level (1 emergency … 8 debug); `dropped` bytes did not fit. */
  takeLog(): { lines: { level: number; text: string }[]; dropped: number } {
    const { text, dropped } = this.n.logTake();
    const lines: { level: number; text: string }[] = [];
    for (const chunk of text.split('\x01')) {
      if (!chunk) continue;
      const level = Number(chunk[0]) || 8;
      // one message of libbpf's (a verifier log) may span lines: each keeps the library's prefix
      const lib = /^(libbpf|libxdp): /.exec(chunk.slice(1))?.[0] ?? '';
      for (const l of chunk.slice(1).split('\n')) if (l.trim()) lines.push({ level, text: l.startsWith(lib) ? l.trimEnd() : `${lib}${l.trimEnd()}` });
    }
    return { lines, dropped };
  }

  portInfo(i: number): NativePortInfo {
    return this.n.portInfo(i);
  }

  portStats(i: number): NativePortStats {
    return this.n.portStats(i);
  }

  mempoolInfo(): NativeMempoolInfo {
    return this.n.mempoolInfo();
  }

  fibInfo(): NativeFibInfo {
    return this.n.fibInfo();
  }

  /** Adds or replaces one FIB entry. Throws DpfwdError ENOSPC when the table is full. */
  fibAdd(addr: number, len: number, nexthop: number): void {
    try {
      this.n.fibAdd(addr >>> 0, len, nexthop);
    } catch (e) {
      throw this.fibError(e, 'add');
    }
  }

  fibDel(addr: number, len: number): void {
    try {
      this.n.fibDel(addr >>> 0, len);
    } catch (e) {
      throw this.fibError(e, 'delete');
    }
  }

  /** Adds many routes in one native call; returns how many went in (stops at the first failure). */
  fibAddBulk(addrs: Uint32Array, lens: Uint8Array, nexthops: Uint32Array): number {
    try {
      return this.n.fibAddBulk(addrs, lens, nexthops);
    } catch (e) {
      throw this.fibError(e, 'add');
    }
  }

  private fibError(e: unknown, op: string): DpfwdError {
    const code = errnoName(e);
    if (code === 'ENOSPC') {
      const i = this.started ? this.n.fibInfo() : undefined;
      return new DpfwdError(
        'ENOSPC',
        `route ${op} failed: the FIB is full${i ? ` (${i.maxRoutes} routes, ${i.tbl8Used}/${i.tbl8Groups} tbl8 groups in use)` : ''}; raise fib.maxRoutes or fib.tbl8Groups and restart`,
      );
    }
    if (code === 'ENOENT') return new DpfwdError('ENOENT', `route ${op} failed: no such route in the FIB`);
    return new DpfwdError(code, `route ${op} failed: ${(e as Error).message}`);
  }

  /** One atomic store of {MAC, egress interface index or action}. */
  nexthopSet(id: number, ifaceOrAction: number, mac?: Mac): void {
    try {
      this.n.nexthopSet(id, ifaceOrAction, mac !== undefined ? macToWordBits(mac) : 0);
    } catch (e) {
      throw new DpfwdError(errnoName(e), `next hop ${id} update failed: ${(e as Error).message}`);
    }
  }

  /**
   * Sets ECMP group `gid`: member next-hop ids, their weights and which are live (a dead
   * member's buckets go to live ones until it lives again). Bucket owners persist across calls
   * (see dp_group_set in native/dataplane/dataplane.h).
   */
  groupSet(gid: number, nexthops: Uint32Array, weights: Uint16Array, live: Uint8Array): void {
    try {
      this.n.groupSet(gid, nexthops, weights, live);
    } catch (e) {
      throw new DpfwdError(errnoName(e), `next-hop group ${gid} update failed: ${(e as Error).message}`);
    }
  }

  groupDel(gid: number): void {
    this.n.groupDel(gid);
  }

  /** The group's bucket table: a member next-hop id per bucket (GROUP_BUCKETS of them). */
  groupBuckets(gid: number): Uint32Array {
    return this.n.groupBuckets(gid);
  }

  /**
   * The addresses the fast path's source and broadcast rules use (ADDR_* kinds, host order):
   * replaced as a whole; workers see the new set at their next burst.
   */
  addrFilterSet(addrs: Uint32Array, kinds: Uint8Array): void {
    this.n.addrFilterSet(addrs, kinds);
  }

  /** GLEAN or UNRESOLVED with the egress interface index in the word's low bits. */
  nexthopActionWithPort(id: number, action: number, iface: number): void {
    this.n.nexthopSet(id, action, iface);
  }

  /**
   * Creates or changes VLAN sub-interface `index` (MAX_PORTS .. MAX_PORTS + MAX_SUBIFS - 1):
   * tagged frames of (port, vlan) arrive on it with the tag stripped, next hops on it leave
   * tagged. Throws DpfwdError EINVAL (index, VLAN 1-4094 or MTU 68..port MTU out of range),
   * ENODEV (no such port) or EEXIST (another sub-interface has the port and VLAN).
   */
  ifaceSet(index: number, conf: SubifConf): void {
    try {
      this.n.ifaceSet(index, conf.port, conf.vlan, conf.mtu);
    } catch (e) {
      throw new DpfwdError(errnoName(e), `sub-interface ${index} (port ${conf.port}, VLAN ${conf.vlan}, MTU ${conf.mtu}): ${(e as Error).message}`);
    }
    if (!this.subifs.has(index) && this.view && this.layout) this.subifBase.set(index, this.readSubif(this.view, this.layout, index));
    this.subifs.set(index, { ...conf });
  }

  /** Removes a sub-interface; next hops still naming it drop as blackhole. */
  ifaceDel(index: number): void {
    try {
      this.n.ifaceDel(index);
    } catch (e) {
      throw new DpfwdError(errnoName(e), `sub-interface ${index}: ${(e as Error).message}`);
    }
    this.subifs.delete(index);
    this.subifBase.delete(index);
  }

  /** The configured sub-interfaces by index. */
  ifaces(): Map<number, SubifConf> {
    return new Map(this.subifs);
  }

  tscHz(): number {
    return this.n.tscHz();
  }

  /** Reads every counter once. Values are exact below 2^53. */
  snapshot(): CounterSnapshot {
    const v = this.view;
    const l = this.layout;
    if (!v || !l) throw new DpfwdError('ENODEV', 'the dataplane is not running');
    const names = this.n.names();
    const workers: WorkerSnapshot[] = [];
    for (let w = 0; w < l.nWorkers; w++) {
      const base = w * l.workerStride;
      const counters: Record<string, number> = {};
      for (let i = 0; i < l.workerFields; i++) counters[names.worker[i]] = Number(v[base + i]);
      const ports = [];
      for (let p = 0; p < l.nPorts; p++) ports.push(readIface(v, l, base + l.portBase + p * l.portStride));
      const subifs: (IfaceCounters | undefined)[] = [];
      for (const idx of this.subifs.keys()) {
        const k = idx - (l.subifBase - l.portBase) / l.portStride;
        const c = readIface(v, l, base + l.subifBase + k * l.portStride);
        const b = this.subifBase.get(idx)?.[w];
        subifs[k] = b
          ? {
              forwarded: c.forwarded - b.forwarded,
              drops: c.drops.map((d, r) => d - b.drops[r]),
              counters: c.counters.map((x, r) => x - b.counters[r]),
            }
          : c;
      }
      const punts = [];
      for (let k = 0; k < l.nPuntKinds; k++) {
        punts.push({ punted: Number(v[base + l.puntBase + 2 * k]), limited: Number(v[base + l.puntBase + 2 * k + 1]) });
      }
      workers.push({ index: w, counters, ports, subifs, punts });
    }
    return { tscHz: this.n.tscHz(), workers };
  }

  /** Sub-interface `index`'s counters in every worker's block. */
  private readSubif(v: BigUint64Array, l: NativeCounterLayout, index: number): IfaceCounters[] {
    const k = index - (l.subifBase - l.portBase) / l.portStride;
    const out: IfaceCounters[] = [];
    for (let w = 0; w < l.nWorkers; w++) out.push(readIface(v, l, w * l.workerStride + l.subifBase + k * l.portStride));
    return out;
  }

  /** While on, link-local multicast (224.0.0.0/24) is punted as link_multicast for the mirrors, not dropped as martian. */
  linkMulticast(on: boolean): void {
    this.n.linkMulticast(on);
  }

  puntListen(cb: (frames: NativePunted[]) => void): void {
    this.n.puntListen(cb);
  }

  /**
   * Starts copying packets at RX, TX and/or drop points into per-worker rings (capture.c).
   * Throws DpfwdError EBUSY (one runs already), EINVAL (a bad filter: libpcap's message), ENOMEM.
   */
  captureStart(conf: NativeCaptureConf): void {
    try {
      this.n.captureStart(conf);
    } catch (e) {
      throw new DpfwdError(errnoName(e), `capture: ${(e as Error).message}`);
    }
  }

  captureStop(): void {
    this.n.captureStop();
  }

  captureActive(): boolean {
    return this.n.captureActive();
  }

  /** The copies waiting in the workers' rings, at most about maxBytes of them (data: views into one buffer). */
  captureDrain(maxBytes: number): NativeCaptured[] {
    const b = this.n.captureDrain(maxBytes);
    const out: NativeCaptured[] = [];
    // struct dp_captured (native/dataplane/dataplane.h): u64 ts_ns, u32 orig_len, u32 cap_len,
    // u16 port, u16 iface, u16 worker, u8 where, u8 reason; then cap_len bytes, padded to 8
    for (let at = 0; at + 24 <= b.length;) {
      const ns = b.readBigUInt64LE(at);
      const capLen = b.readUInt32LE(at + 12);
      out.push({
        sec: Number(ns / 1000000000n),
        nsec: Number(ns % 1000000000n),
        origLen: b.readUInt32LE(at + 8),
        port: b.readUInt16LE(at + 16),
        iface: b.readUInt16LE(at + 18),
        worker: b.readUInt16LE(at + 20),
        where: b[at + 22],
        reason: b[at + 23],
        data: b.subarray(at + 24, at + 24 + capLen),
      });
      at += 24 + ((capLen + 7) & ~7);
    }
    return out;
  }

  /** Traces the next `count` packets matching `filter`. Throws DpfwdError EBUSY, EINVAL, ENOMEM. */
  traceStart(count: number, filter?: string): void {
    try {
      this.n.traceStart(count, filter);
    } catch (e) {
      throw new DpfwdError(errnoName(e), `trace: ${(e as Error).message}`);
    }
  }

  traceStop(): void {
    this.n.traceStop();
  }

  traceLeft(): number {
    return this.n.traceLeft();
  }

  traceActive(): boolean {
    return this.n.traceActive();
  }

  traceRead(): NativeTraceRec[] {
    return this.n.traceRead();
  }

  /**
   * Sends a frame out of an interface (through a worker's inject ring); a sub-interface's frames
   * get its 802.1Q tag. Returns false when the ring or pool is full; throws DpfwdError EINJECT
   * for no such interface or a frame too short or beyond the interface's MTU.
   */
  inject(iface: number, frame: Buffer): boolean {
    try {
      this.n.inject(iface, frame);
      return true;
    } catch (e) {
      if (errnoName(e) === 'ENOBUFS') return false;
      throw new DpfwdError('EINJECT', `cannot send a ${frame.length}-byte frame on interface ${iface}: ${(e as Error).message}`);
    }
  }
}

/**
 * Linux mirror interfaces (native/dataplane/mirror.c): TAP devices dpfwd opens itself. Needs no
 * running dataplane. The control plane's mirrors (src/controlplane/mirrors.ts) use it.
 */
export class MirrorTaps {
  constructor(private readonly n: NativeAddon = loadNative()) {}

  /** Creates TAP `name` in the namespace at `netnsPath` (null: dpfwd's own); returns its fd. */
  open(name: string, netnsPath: string | null): number {
    try {
      return this.n.mirrorOpen(name, netnsPath);
    } catch (e) {
      throw new DpfwdError(errnoName(e), `linux.mirror: ${(e as Error).message}`);
    }
  }

  carrier(fd: number, up: boolean): void {
    this.n.mirrorCarrier(fd, up);
  }

  /** One frame up to Linux: 0, or the negative errno (-11 EAGAIN / -105 ENOBUFS: the TAP's queue is full). */
  write(fd: number, frame: Buffer): number {
    return this.n.mirrorWrite(fd, frame);
  }

  /** Frames Linux sends on the mirror, at most 64 per call; `error` once when the fd broke (polling stops). */
  listen(fd: number, cb: (frames: Buffer[], error?: string) => void): void {
    this.n.mirrorListen(fd, cb);
  }

  close(fd: number): void {
    this.n.mirrorClose(fd);
  }

  /** A socket in the mirrors' namespace for state/restore (closed with close()). */
  ctlOpen(netnsPath: string | null): number {
    try {
      return this.n.mirrorCtlOpen(netnsPath);
    } catch (e) {
      throw new DpfwdError(errnoName(e), `linux.mirror: ${(e as Error).message}`);
    }
  }

  /** The mirror's name, MAC, MTU and admin state now; throws (code EBADFD) once it was deleted, ENODEV when moved away. */
  state(tapFd: number, ctlFd: number): { name: string; mac: Mac; mtu: number; up: boolean } {
    try {
      return this.n.mirrorState(tapFd, ctlFd);
    } catch (e) {
      throw new DpfwdError(errnoName(e), (e as Error).message);
    }
  }

  /** Sets the mirror's MAC and MTU back and brings it up. */
  restore(tapFd: number, ctlFd: number, mac: Mac, mtu: number): void {
    try {
      this.n.mirrorRestore(tapFd, ctlFd, mac, mtu);
    } catch (e) {
      throw new DpfwdError(errnoName(e), (e as Error).message);
    }
  }
}

/** One interface's block: forwarded, then one slot per drop reason, then the port counters. */
function readIface(v: BigUint64Array, l: NativeCounterLayout, pb: number): IfaceCounters {
  const drops = new Array<number>(l.nDropReasons);
  for (let r = 0; r < l.nDropReasons; r++) drops[r] = Number(v[pb + 1 + r]);
  const counters = new Array<number>(l.nPortCounters);
  for (let k = 0; k < l.nPortCounters; k++) counters[k] = Number(v[pb + 1 + l.nDropReasons + k]);
  return { forwarded: Number(v[pb]), drops, counters };
}
