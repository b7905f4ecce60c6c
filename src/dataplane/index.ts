/**
 * Typed wrapper of the native addon: converts native errors into DpfwdError with a fix, MAC
 * strings into next-hop words, and the counter block into snapshots. Nothing else imports the addon.
 */
import { DpfwdError } from '../errors';
import { Mac, parseMac } from '../net/mac';
import {
  loadNative, NativeAddon, NativeCounterLayout, NativeNames, NativePortInfo, NativePortStats,
  NativePunted, NativePuntStatus, NativeStartConf, NativeMempoolInfo, NativeFibInfo,
} from './native';

export type { NativePortInfo as PortInfo, NativePortStats as PortStats, NativePunted as Punted, NativeStartConf as StartConf };
export type { NativeMempoolInfo as MempoolInfo, NativeFibInfo as FibInfo };

export { NH_UNRESOLVED, NH_GLEAN, NH_LOCAL, NH_DROP } from './actions';

/** A MAC string as the 48-bit number the next-hop word holds (byte 0 in the low bits). */
export function macToWordBits(mac: string | Mac): number {
  let m = typeof mac === 'string' ? parseMac(mac) : mac;
  let v = 0;
  for (let i = 0; i < 6; i++) {
    v = v * 256 + (m % 256);
    m = Math.floor(m / 256);
  }
  return v;
}

export interface WorkerSnapshot {
  index: number;
  counters: Record<string, number>;
  /** per port index: forwarded (ingress), drops by reason index, DP_PORT_COUNTERS by names().port index */
  ports: { forwarded: number; drops: number[]; counters: number[] }[];
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
  const kept = log.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
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
    why = `eal.lcores names a CPU this machine does not have or may not use (${m[0]}); this machine has CPUs 0-${require('os').cpus().length - 1}`;
  } else if (code === 'EACCES' || code === 'EPERM' || seen(/[Pp]ermission denied|Cannot use IOVA|cannot open \/dev\/vfio/)) {
    why = 'permission denied: run dpfwd as root, or in a container give it IPC_LOCK (and NET_RAW for af_packet, NET_ADMIN for tap/af_xdp) and /dev/hugepages';
  } else if (code === 'ENOMEM' || seen(/hugepage|Cannot get hugepage|Cannot init memory|not enough memory/i)) {
    why = 'not enough hugepage memory: reserve more (echo 512 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) and check `dpfwd doctor`';
  } else if (code === 'EALREADY') {
    why = 'the EAL is already initialised in this process (one forwarder per process)';
  } else if (seen(/Cannot probe|failed to initialize|No such device|vdev_probe|probe.*failed/i)) {
    why = 'a device could not be probed: check every ports[].device (does the interface or file exist? is the PCI device bound to vfio-pci?); `dpfwd doctor --config` checks them';
  } else if (seen(/Invalid 'command line' arguments/)) {
    why = 'DPDK rejected its arguments: check eal.args and eal.lcores';
  } else {
    why = 'see the DPDK log above; `dpfwd doctor` checks hugepages, IOMMU and device bindings';
  }
  return new DpfwdError(code === 'EDPDK' ? 'EAL_INIT' : code, `DPDK EAL initialisation failed: ${why}.${log ? `\n  DPDK said: ${log}` : ''}`);
}

export class Dataplane {
  private readonly n: NativeAddon;
  private view: BigUint64Array | null = null;
  private layout: NativeCounterLayout | null = null;
  private started = false;

  constructor(addon?: NativeAddon) {
    this.n = addon ?? loadNative();
  }

  static names(): NativeNames {
    return loadNative().names();
  }

  names(): NativeNames {
    return this.n.names();
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

  fibLookup(addr: number): number | null {
    return this.n.fibLookup(addr >>> 0);
  }

  private fibError(e: unknown, op: string): DpfwdError {
    const code = errnoName(e);
    if (code === 'ENOSPC') {
      const i = this.started ? this.n.fibInfo() : undefined;
      return new DpfwdError('ENOSPC', `route ${op} failed: the FIB is full${i ? ` (${i.maxRoutes} routes, ${i.tbl8Used}/${i.tbl8Groups} tbl8 groups in use)` : ''}; raise fib.maxRoutes or fib.tbl8Groups and restart`);
    }
    if (code === 'ENOENT') return new DpfwdError('ENOENT', `route ${op} failed: no such route in the FIB`);
    return new DpfwdError(code, `route ${op} failed: ${(e as Error).message}`);
  }

  /** One atomic store of {MAC, port or action}. */
  nexthopSet(id: number, portOrAction: number, mac?: string | Mac): void {
    try {
      this.n.nexthopSet(id, portOrAction, mac !== undefined ? macToWordBits(mac) : 0);
    } catch (e) {
      throw new DpfwdError(errnoName(e), `next hop ${id} update failed: ${(e as Error).message}`);
    }
  }

  /**
   * The addresses the fast path's source and broadcast rules use (ADDR_* kinds, host order):
   * replaced as a whole; workers see the new set at their next burst.
   */
  addrFilterSet(addrs: Uint32Array, kinds: Uint8Array): void {
    this.n.addrFilterSet(addrs, kinds);
  }

  nexthopActionWithPort(id: number, action: number, port: number): void {
    this.n.nexthopSet(id, action, port);
  }

  nexthopGet(id: number): { port: number; mac48: number } {
    return this.n.nexthopGet(id);
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
      for (let p = 0; p < l.nPorts; p++) {
        const pb = base + l.portBase + p * l.portStride;
        const drops = new Array<number>(l.nDropReasons);
        for (let r = 0; r < l.nDropReasons; r++) drops[r] = Number(v[pb + 1 + r]);
        const pcs = new Array<number>(l.nPortCounters);
        for (let k = 0; k < l.nPortCounters; k++) pcs[k] = Number(v[pb + 1 + l.nDropReasons + k]);
        ports.push({ forwarded: Number(v[pb]), drops, counters: pcs });
      }
      const punts = [];
      for (let k = 0; k < l.nPuntKinds; k++) {
        punts.push({ punted: Number(v[base + l.puntBase + 2 * k]), limited: Number(v[base + l.puntBase + 2 * k + 1]) });
      }
      workers.push({ index: w, counters, ports, punts });
    }
    return { tscHz: this.n.tscHz(), workers };
  }

  puntListen(cb: (frames: NativePunted[]) => void): void {
    this.n.puntListen(cb);
  }

  /** Sends a frame out of a port (through a worker's inject ring). Returns false when the ring or pool is full. */
  inject(port: number, frame: Buffer): boolean {
    const rc = this.n.inject(port, frame);
    if (rc === 0) return true;
    if (rc === -105 /* ENOBUFS */) return false;
    throw new DpfwdError('EINJECT', `cannot send a ${frame.length}-byte frame on port index ${port} (errno ${-rc})`);
  }
}
