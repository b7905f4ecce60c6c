/**
 * The only module that loads the .node file. Its error names the likely causes: the addon not
 * built, DPDK's shared libraries missing, or an addon built for another Node ABI.
 */
import * as path from 'path';
import { DpfwdError } from '../errors';

export interface NativePortInfo {
  /** the port's MAC (src/net/mac.ts's Mac, a number) */
  portId: number;
  mac: number;
  driver: string;
  mtu: number;
  linkUp: boolean;
  speedMbps: number;
  rxQueues: number;
  txQueues: number;
  numaNode: number;
}
export interface NativePortStats {
  ipackets: number;
  opackets: number;
  ibytes: number;
  obytes: number;
  ierrors: number;
  oerrors: number;
  imissed: number;
  rxNombuf: number;
}
export interface NativeMempoolInfo {
  size: number;
  available: number;
  inUse: number;
  dataRoom: number;
}
export interface NativeFibInfo {
  maxRoutes: number;
  tbl8Groups: number;
  tbl8Used: number;
  maxNexthops: number;
  routes: number;
  maxGroups?: number;
  groups?: number;
  lookupStaged: boolean;
}
export interface NativeCounterLayout {
  nWorkers: number;
  nPorts: number;
  workerStride: number;
  workerFields: number;
  portBase: number;
  portStride: number;
  subifBase: number;
  nSubifs: number;
  puntBase: number;
  nDropReasons: number;
  nPuntKinds: number;
  nPortCounters: number;
}
export interface NativeNamed {
  name: string;
  help: string;
}
/** The C side's constants (native/dataplane/dataplane.h, drop_reasons.h), exported by the addon. */
export interface NativeConstants {
  burst: number;
  maxPorts: number;
  maxSubifs: number;
  maxWorkers: number;
  idleMaxSleepUs: number;
  nh: { unresolved: number; glean: number; local: number; drop: number; actionMin: number; group: number };
  groups: { buckets: number; maxMembers: number; maxWeight: number; maxGroups: number };
  addrKinds: { own: number; broadcast: number; network: number };
  addrSetMax: number;
  /** capture.c: capture point bits, limits, trace results */
  capture: {
    rx: number;
    tx: number;
    drop: number;
    anyReason: number;
    snaplenMax: number;
    ringMax: number;
    filterMax: number;
    traceMax: number;
    traceSnap: number;
    traceForwarded: number;
    traceDropped: number;
    tracePunted: number;
  };
  drops: NativeNamed[];
  punts: NativeNamed[];
  workerCounters: NativeNamed[];
  portCounters: NativeNamed[];
}
export interface NativeNames {
  drops: string[];
  dropHelp: string[];
  punts: string[];
  worker: string[];
  port: string[];
  portHelp: string[];
}
/** Per worker: packets in its punt ring, the ring's size, ms since the control plane last drained. */
export interface NativePuntStatus {
  waiting: number;
  capacity: number;
  sinceDrainMs: number;
}
/** A punted frame: `port` the physical port index, `iface` the ingress interface (== port when untagged). */
/**
 * A punted frame: the interface it came in on (a port's or a VLAN sub-interface's index), its punt
 * kind and bytes; `port`, the physical port, is what the worker recorded (test/vlan.test.ts checks it; the control plane needs only iface).
 */
export interface NativePunted {
  port: number;
  iface: number;
  kind: number;
  data: Buffer;
}
/** dp_capture_conf: `ports` a bitmask of port indices, `where` DP_CAP_* bits, `reason` a drop reason index or anyReason. */
export interface NativeCaptureConf {
  ports: number;
  where: number;
  reason: number;
  snaplen: number;
  ringSize: number;
  mbufs: number;
  filter?: string;
}
/** One drained copy: CLOCK_REALTIME time, the packet's length, where it was taken and (drops) why. */
export interface NativeCaptured {
  sec: number;
  nsec: number;
  origLen: number;
  port: number;
  iface: number;
  worker: number;
  where: number;
  reason: number;
  data: Buffer;
}
/** One traced packet as the exact path recorded it (dp_trace_rec). */
export interface NativeTraceRec {
  sec: number;
  nsec: number;
  worker: number;
  port: number;
  queue: number;
  iface: number;
  len: number;
  fastOk: boolean;
  /** dp_ip4_check's verdict: a drop reason index, the number of reasons for "passed", 255 not reached */
  check: number;
  /** 0 not reached, 1 route found, 2 no route */
  lpm: number;
  result: number;
  nexthop: number;
  nhIface: number;
  nhMac: number;
  out: number;
  reason: number;
  punt: number;
  puntTaken: boolean;
  data: Buffer;
}
export interface NativeStartConf {
  ports: { name: string; devname: string; rxQueues: number; rxDescriptors: number; txDescriptors: number; mtu: number; mac?: number; rxCutLen?: number }[];
  /** idleSleepUs: the longest sleep of an idle worker (workers[].idle: sleep), 0 polls without pause */
  workers: { lcore: number; idleSleepUs?: number; rx: { port: number; queue: number }[] }[];
  maxRoutes: number;
  tbl8Groups: number;
  maxNexthops: number;
  maxGroups?: number;
  mbufs: number;
  mbufCache: number;
  puntRate: number;
  puntBurst: number;
  puntRingSize: number;
}

/** route_sync.h's record kinds and flags (native/netlink). */
export interface NativeNetlinkConstants {
  words: number;
  newRoute: number;
  delRoute: number;
  newLink: number;
  delLink: number;
  done: number;
  overflow: number;
  error: number;
  fromDump: number;
  interrupted: number;
  replaced: number;
  dumpLinks: number;
  dumpRoutes: number;
}
/** A NETLINK_ROUTE socket in a namespace (native/binding/netlink.cc): records arrive in batches. */
export interface NativeNetlinkRoute {
  /** 0 or -errno (-EBUSY while a dump runs) */
  dump(what: number): number;
  fd(): number;
  close(): void;
}

export interface NativeAddon {
  NetlinkRoute: new (netnsPath: string, rcvbuf: number, cb: (records: Uint32Array, paths: Uint32Array, names: string[]) => void) => NativeNetlinkRoute;
  netlinkConstants: NativeNetlinkConstants;
  ealInit(args: string[]): void;
  start(conf: NativeStartConf): void;
  launch(): void;
  stop(): void;
  cleanup(): void;
  running(): boolean;
  workersAlive(): number;
  portInfo(index: number): NativePortInfo;
  portStats(index: number): NativePortStats;
  mempoolInfo(): NativeMempoolInfo;
  fibInfo(): NativeFibInfo;
  fibAdd(ip: number, depth: number, nexthop: number): void;
  fibDel(ip: number, depth: number): void;
  fibAddBulk(ips: Uint32Array, depths: Uint8Array, nexthops: Uint32Array): number;
  nexthopSet(id: number, ifaceOrAction: number, mac48: number): void;
  groupSet(gid: number, nexthops: Uint32Array, weights: Uint16Array, live: Uint8Array): void;
  groupDel(gid: number): void;
  groupBuckets(gid: number): Uint32Array;
  ifaceSet(iface: number, port: number, vlan: number, mtu: number): void;
  ifaceDel(iface: number): void;
  constants(): NativeConstants;
  names(): NativeNames;
  counters(): { buffer: ArrayBuffer; layout: NativeCounterLayout };
  tscHz(): number;
  logTail(): string;
  logForward(on: boolean): void;
  logTake(): { text: string; dropped: number };
  peerCred(fd: number): { pid: number; uid: number; gid: number } | null;
  bpfProbe(): number;
  ifaceDriver(name: string): string;
  puntListen(cb: (frames: NativePunted[]) => void): void;
  inject(iface: number, frame: Buffer): void;
  puntStatus(): NativePuntStatus[];
  addrFilterSet(addrs: Uint32Array, kinds: Uint8Array): void;
  mirrorOpen(name: string, netnsPath: string | null): number;
  mirrorCarrier(fd: number, up: boolean): void;
  mirrorWrite(fd: number, frame: Buffer): number;
  mirrorListen(fd: number, cb: (frames: Buffer[], error?: string) => void): void;
  mirrorClose(fd: number): void;
  mirrorCtlOpen(netnsPath: string | null): number;
  mirrorState(tapFd: number, ctlFd: number): { name: string; mac: number; mtu: number; up: boolean };
  mirrorRestore(tapFd: number, ctlFd: number, mac: number, mtu: number): void;
  linkMulticast(on: boolean): void;
  captureStart(conf: NativeCaptureConf): void;
  captureStop(): void;
  captureActive(): boolean;
  /** dp_captured records (24 bytes each) with their bytes, padded to 8: Dataplane.captureDrain parses them */
  captureDrain(maxBytes: number): Buffer;
  traceStart(count: number, filter?: string): void;
  traceStop(): void;
  traceLeft(): number;
  traceActive(): boolean;
  traceRead(): NativeTraceRec[];
}

let cached: NativeAddon | undefined;

/** Debian 12's package for a DPDK 22.11 library: librte_lpm → librte-lpm23, librte_net_mlx5 → librte-net-mlx5-23. */
export function debianPackageOf(lib: string): string {
  const name = lib.replace(/\.so.*$/, '').replace(/_/g, '-');
  return /\d$/.test(name) ? `${name}-23` : `${name}23`;
}

export function loadNative(): NativeAddon {
  if (cached) return cached;
  const file = path.resolve(__dirname, '..', '..', '..', 'build', 'Release', 'dpfwd.node');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the addon's path is known only at run time
    cached = require(file) as NativeAddon;
    return cached;
  } catch (e) {
    const msg = (e as Error).message;
    let why: string;
    if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && msg.includes('dpfwd.node')) {
      why = `the native addon is not built (${file} is missing): run 'npm install' or 'bash scripts/setup.sh'`;
    } else if (/librte_|cannot open shared object/.test(msg)) {
      const lib = /(librte_\w+)\.so/.exec(msg)?.[1];
      why =
        `DPDK's shared libraries are missing (${msg}): on Debian 12 install ${lib ? `the package ${debianPackageOf(lib)}` : 'the librte-* packages'} ` +
        `(deploy/Containerfile lists every DPDK library and driver package dpfwd uses; Debian's 'dpdk' package only recommends them, so apt-get --no-install-recommends brings none)`;
    } else if (/NODE_MODULE_VERSION|was compiled against a different Node.js version/.test(msg)) {
      why = `the addon was built for another Node.js version (${msg}): run 'npm run build:native'`;
    } else {
      why = `${msg}; rebuild with 'npm run build:native'`;
    }
    throw new DpfwdError('ENOADDON', `cannot load the dpfwd native addon: ${why}`);
  }
}
