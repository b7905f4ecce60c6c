/**
 * The resolved configuration: every default filled in, every value validated and in canonical
 * form. Plain JSON data (no Buffers, no bigints) so it can cross the control socket or be
 * handed to a child process as is. Addresses, prefixes and MACs are canonical strings; parse
 * them with src/routing (parsePrefix, parseInterfaceAddress, parseIPv4, parseMac) when numbers
 * are needed; they are known to be valid.
 */

import type { IdleMode, LogLevel } from './keys';
export type { LogLevel };

export interface EalConfig {
  /** the lcore list as given (canonical, e.g. "0-3" or "0,2,4"), passed to EAL as -l */
  lcores: string;
  /** every lcore in the order written; the first is the main lcore */
  lcoreList: number[];
  /** Node's thread; never polls */
  mainLcore: number;
  /** lcoreList without the main lcore */
  workerLcores: number[];
  inMemory: boolean;
  /** set only when inMemory is false (then defaults to "dpfwd") */
  filePrefix?: string;
  args: string[];
  logLevel: LogLevel;
  /** -m <MiB> limit; unset lets DPDK take what it needs */
  hugepagesMiB?: number;
  /** DPDK's telemetry socket (/run/dpdk/<prefix>/dpdk_telemetry.v2); false passes --no-telemetry */
  telemetry: boolean;
}

/** pci: a BDF (normalised to 0000:bb:dd.f) with optional ,k=v devargs; vdev: net_<driver><n>[,k=v…]; env / auto: resolved later. */
import type { DeviceKind } from '../net/device';
export type { DeviceKind };

/** An address with its prefix length, as numbers (host order). */
export interface AddrLen {
  addr: number;
  len: number;
}

/**
 * Gives `o` the numbers validation parsed its strings into, as the non-enumerable `parsed`: the
 * forwarder programs from them without parsing again, while the strings stay the config's
 * display and JSON form (JSON.stringify and deepEqual see only the strings).
 */
export function withParsed<T extends object, P>(o: T, parsed: P): T & { readonly parsed: P } {
  return Object.defineProperty(o, 'parsed', { value: parsed, enumerable: false }) as T & { readonly parsed: P };
}

/**
 * The `parsed` numbers of a validated config entry. The field is optional in the types only so
 * that a hand-written Config literal (a test's expected value) type-checks; an entry that did not
 * come through validation is a programming error, not something to parse here.
 */
export function parsedOf<P>(o: { readonly parsed?: P }): P {
  if (o.parsed === undefined) throw new Error('config entry without parsed numbers: build Config with validateConfig');
  return o.parsed;
}

export interface PortConfig {
  name: string;
  /** canonical device string (PCI normalised to the 0000: domain, lowercase hex) */
  device: string;
  deviceKind: DeviceKind;
  rxQueues: number;
  rxDescriptors: number;
  txDescriptors: number;
  mtu: number;
  /** canonical lowercase aa:bb:cc:dd:ee:ff override of the port's MAC */
  mac?: string;
  /** interface addresses, canonical "10.1.0.1/24" */
  addresses: string[];
  /** the addresses and MAC as numbers (withParsed) */
  readonly parsed?: { addresses: AddrLen[]; mac?: number };
  /** `address: network-status/<len>`: take the IPv4 address(es) Multus reports for this port's
   * PCI device from the pod's annotations, with this prefix length */
  networkStatusLen?: number;
}

/** A VLAN sub-interface of a port (`interfaces:`): tagged frames of (port, vlan) are its own. */
export interface InterfaceConfig {
  /** `<port>.<vlan>` unless named otherwise */
  name: string;
  port: string;
  /** 802.1Q VLAN id, 1-4094 */
  vlan: number;
  /** at most the port's MTU; default the port's */
  mtu: number;
  /** interface addresses, canonical "10.100.0.1/24" */
  addresses: string[];
  /** the addresses as numbers (withParsed) */
  readonly parsed?: { addresses: AddrLen[] };
}

export interface RxQueueRef {
  port: string;
  queue: number;
}

export interface WorkerConfig {
  lcore: number;
  rx: RxQueueRef[];
  /** the longest sleep of this worker while its queues are empty, µs; 0: it polls without pause
   * (workers[].idle, else idle.mode; idle.maxSleepUs) */
  idleSleepUs: number;
}

export interface IdleConfig {
  /** what workers without their own workers[].idle do */
  mode: IdleMode;
  maxSleepUs: number;
}

export interface FibConfig {
  maxRoutes: number;
  tbl8Groups: number;
  maxNexthops: number;
  /** ECMP next-hop groups (distinct member sets of multipath routes) */
  maxGroups: number;
}

import type { Route } from '../routing/route';

export interface RouteConfig {
  /** canonical network prefix "10.20.0.0/16" */
  prefix: string;
  /** next-hop address */
  via?: string;
  /** egress port name; filled from the connected subnet when only via was given */
  port?: string;
  blackhole: boolean;
  /** a multipath route's paths (two or more; via/port unset then), each port filled as for a single route */
  nexthops?: { via?: string; port?: string; weight: number }[];
  /** the route as numbers (withParsed): the one Route, its ports filled as above */
  readonly parsed?: Route;
}

export interface NeighborConfig {
  address: string;
  /** canonical lowercase MAC */
  mac: string;
  port: string;
  /** address and MAC as numbers (withParsed) */
  readonly parsed?: { address: number; mac: number };
}

/** Limits of the metrics HTTP server (see docs/config.md). */
export interface MetricsLimits {
  /** connections held at once; more are closed at once and counted */
  maxConnections: number;
  /** time to receive a request's headers */
  headersTimeoutMs: number;
  /** time to receive a whole request */
  requestTimeoutMs: number;
  /** how long an idle keep-alive connection is kept */
  keepAliveTimeoutMs: number;
  /** a connection with no traffic at all for this long is closed */
  idleTimeoutMs: number;
  /** requests received on one connection and not yet answered (pipelined); past it the connection is closed */
  maxPipelined: number;
}

export interface MetricsConfig extends MetricsLimits {
  /** false disables the metrics listener */
  listen: { host: string; port: number } | false;
}

/** Limits of the control socket (see docs/config.md). */
export interface ControlLimits {
  /** clients connected at once; a new one past this disconnects the one quiet longest */
  maxClients: number;
  /** longest request line (route.load carries whole route files) */
  maxRequestBytes: number;
  /** request bytes buffered across all clients */
  maxBufferedBytes: number;
  /** unread reply bytes after which a client's requests are no longer read */
  maxReplyBacklogBytes: number;
  /** a request must be complete this long after its first byte */
  requestTimeoutMs: number;
  /** a connection with no traffic for this long is closed */
  idleTimeoutMs: number;
}

export interface ControlConfig extends ControlLimits {
  socket: string;
  /** file mode of the socket, e.g. 0o660 */
  mode: number;
}

export interface PuntConfig {
  /** packets per second per worker */
  rate: number;
  burst: number;
  /** /healthz and `show workers` report the control plane unhealthy when punts wait longer */
  maxWaitMs: number;
}

export interface IcmpConfig {
  unreachable: boolean;
  /** ICMP errors per second */
  rateLimit: number;
  burst: number;
}

export interface ArpConfig {
  reachableMs: number;
  staleMs: number;
  retransmitMs: number;
  probes: number;
  queueLen: number;
  /** dynamic (learned or resolving) entries at most; also the next hops learned neighbours may hold */
  maxEntries: number;
  /** INCOMPLETE entries at most */
  maxIncomplete: number;
  /** new dynamic entries per port per second (token bucket, burst the same) */
  newPerSecond: number;
  /** a REACHABLE entry's MAC changes unsolicited only after this long (Linux's locktime) */
  lockMs: number;
}

export interface MempoolConfig {
  /** 0 = computed by mempoolSize() */
  mbufs: number;
  cacheSize: number;
}

/** `dpfwd capture` and `dpfwd trace` (src/forwarder/capture.ts, native/dataplane/capture.c) */
export interface CaptureConfig {
  /** copies each worker's capture ring holds (power of two) */
  ringSize: number;
  /** the capture pool (its own, never the forwarding pool), created while a capture runs */
  mbufs: number;
  /** the largest snap length a capture may ask for */
  maxSnaplen: number;
  /** a capture or trace whose client has not read for this long is stopped */
  leaseMs: number;
  /** bytes of packets one capture.read returns at most */
  readBytes: number;
}

/** linux.sync: the kernel routing table dpfwd follows (src/routing/sync.ts). */
export interface LinuxSyncConfig {
  enabled: boolean;
  /** the table's number (main: 254) */
  table: number;
  /** protocol numbers, or 'all' (every protocol but the mirrors' own kernel routes) */
  protocols: 'all' | number[];
  /** the netlink socket's receive buffer, bytes */
  socketBuffer: number;
  /** prefixes of the kernel table the sync keeps at most (its model's memory bound) */
  maxRoutes: number;
}

/** linux: the namespace of the mirror interfaces and the route sync. */
export interface LinuxConfig {
  /** a namespace name (/run/netns/NAME) or path; undefined: dpfwd's own */
  netns?: string;
  /** mirror interfaces: on/off, or per port (on/off or the kernel interface's name); mirror13's */
  mirror: boolean | Record<string, boolean | string>;
  /** `mirror` resolved: port name → the name of its mirror interface in Linux, for the ports that have one */
  mirrors: Record<string, string>;
  /** frames Linux may queue on a mirror for dpfwd (the TAP's txqueuelen) */
  queueLen: number;
  /** frames per second Linux may send out of each mirror (token bucket; the rest dropped as rate_limited) */
  rateLimit: number;
  /** the bucket's depth, frames */
  burst: number;
  sync: LinuxSyncConfig;
}
/** `log:` — the logger's settings (src/log.ts); `--log-level`/`--log-format` override them. */
export type LogConfig = LogSettings;
import type { LogSettings } from '../log';

export interface Config {
  /** where it came from (a path, or a name given to parseConfig) */
  source: string;
  eal: EalConfig;
  ports: PortConfig[];
  /** VLAN sub-interfaces of the ports */
  interfaces: InterfaceConfig[];
  /** concrete worker table (auto resolved); only lcores that poll at least one queue */
  workers: WorkerConfig[];
  idle: IdleConfig;
  /** true when `workers: auto` was used */
  workersAuto: boolean;
  fib: FibConfig;
  routes: RouteConfig[];
  neighbors: NeighborConfig[];
  metrics: MetricsConfig;
  control: ControlConfig;
  punt: PuntConfig;
  icmp: IcmpConfig;
  arp: ArpConfig;
  mempool: MempoolConfig;
  capture: CaptureConfig;
  linux: LinuxConfig;
  log: LogConfig;
  /** things that are valid but probably not what was meant; log them at start */
  warnings: string[];
}

export type { TopLevelKey } from './keys';
