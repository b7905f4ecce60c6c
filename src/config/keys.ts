/**
 * The one table of configuration keys: every section, every key in it, its default (undefined:
 * none, or computed) and whether a change applies live or needs a restart. Validation takes its
 * valid keys and defaults from here, `TopLevelKey` is derived from it, and docs/config.md lists
 * the same rule.
 *
 * Live keys are those the running forwarder changes without a restart: through the control
 * socket (routes, neighbours, interface addresses, VLAN sub-interfaces) or by `dpfwd reload`,
 * which applies the file as a diff (src/forwarder/reload.ts) and refuses a change to a restart
 * key by its name.
 */
import { DEFAULT_LCORES } from '../host/cpus';
import { LOG_DEFAULTS } from '../log';

/** DPDK's log levels, by the names eal.logLevel takes. */
export const LOG_LEVELS = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type ChangeMode = 'live' | 'restart';

/** A worker with empty queues: polls on at full rate, or sleeps between polls (back-off). */
export const IDLE_MODES = ['poll', 'sleep'] as const;
export type IdleMode = (typeof IDLE_MODES)[number];

/** One row of the table: a key's default (undefined: none, or computed) and its change mode. */
interface Row<T> {
  readonly def: T;
  readonly change: ChangeMode;
}
const live = <T>(def: T): Row<T> => ({ def, change: 'live' });
const restart = <T>(def: T): Row<T> => ({ def, change: 'restart' });
const none = undefined;

/**
 * Sections and their keys, one row each: default and change mode. A live key is applied by
 * `dpfwd reload` (SIGHUP) without a restart; a restart key is refused by reload, naming the key.
 * List sections (interfaces, routes, neighbours) are live as a whole: reload applies them as a
 * diff of entries.
 */
export const CONFIG_KEYS = {
  eal: {
    keys: {
      lcores: restart(DEFAULT_LCORES),
      inMemory: restart(true),
      filePrefix: restart(none),
      args: restart([] as string[]),
      logLevel: restart('notice' as LogLevel),
      hugepagesMiB: restart(none),
      telemetry: restart(false),
    },
  },
  ports: {
    keys: {
      name: restart(none),
      device: restart(none),
      rxQueues: restart(1),
      rxDescriptors: restart(1024),
      txDescriptors: restart(1024),
      mtu: restart(1500),
      mac: restart(none),
      address: live(none),
    },
  },
  interfaces: { keys: { name: live(none), port: live(none), vlan: live(none), address: live(none), mtu: live(none) } },
  workers: { keys: { lcore: restart(none), rx: restart(none), idle: restart(none) } },
  /** what a worker does while its queues are empty (workers[].idle overrides mode per worker) */
  idle: { keys: { mode: restart('sleep' as IdleMode), maxSleepUs: restart(250) } },
  fib: { keys: { maxRoutes: restart(1048576), tbl8Groups: restart(none), maxNexthops: restart(65536), maxGroups: restart(1024) } },
  routes: { keys: { prefix: live(none), via: live(none), port: live(none), blackhole: live(false), nexthops: live(none) } },
  neighbors: { keys: { address: live(none), mac: live(none), port: live(none) } },
  metrics: {
    keys: {
      listen: restart('127.0.0.1:9450'),
      maxConnections: live(64),
      headersTimeoutMs: live(10000),
      requestTimeoutMs: live(30000),
      keepAliveTimeoutMs: live(65000),
      idleTimeoutMs: live(120000),
      maxPipelined: live(16),
    },
  },
  control: {
    keys: {
      socket: restart('/run/dpfwd/dpfwd.sock'),
      mode: restart(0o660),
      maxClients: live(64),
      maxRequestBytes: live(64 * 1048576),
      maxBufferedBytes: live(256 * 1048576),
      maxReplyBacklogBytes: live(1048576),
      requestTimeoutMs: live(30000),
      idleTimeoutMs: live(300000),
    },
  },
  // rate and burst are the workers' token bucket in C, sized at start
  punt: { keys: { rate: restart(10000), burst: restart(256), maxWaitMs: live(1000) } },
  icmp: { keys: { unreachable: live(true), rateLimit: live(1000), burst: live(50) } },
  arp: {
    keys: {
      reachableMs: live(30000),
      staleMs: live(60000),
      retransmitMs: live(1000),
      probes: live(3),
      queueLen: live(4),
      // the next-hop budget of learned neighbours, fixed in the RIB at start
      maxEntries: restart(4096),
      maxIncomplete: live(256),
      newPerSecond: live(100),
      lockMs: live(1000),
    },
  },
  mempool: { keys: { mbufs: restart(0), cacheSize: restart(256) } },
  // read when a capture starts, but its pool and rings are sized then: one mode for the section
  capture: { keys: { ringSize: restart(2048), mbufs: restart(8191), maxSnaplen: restart(65535), leaseMs: restart(5000), readBytes: restart(1048576) } },
  /** the Linux control-plane path (docs/linux.md): mirror interfaces in a namespace, route sync */
  linux: { keys: { netns: restart(none), mirror: restart(false), queueLen: restart(1000), rateLimit: live(10000), burst: live(1000), sync: restart(none) } },
  log: { keys: { level: live(LOG_DEFAULTS.level), format: live(LOG_DEFAULTS.format), rateLimit: live(LOG_DEFAULTS.rateLimit) } },
} as const;

/** linux.sync's keys and defaults (enabled: default true when a mirror is on). */
export const LINUX_SYNC_KEYS = { enabled: undefined, table: 'main', protocols: 'all', socketBuffer: 4 * 1048576, maxRoutes: 2 * 1048576 } as const;

/** Mappings inside a section's list items: a worker's rx entries. */
const NESTED_KEYS = { rx: ['port', 'queue'] } as const;

export type TopLevelKey = keyof typeof CONFIG_KEYS;
type Section = TopLevelKey;

const sections = Object.keys(CONFIG_KEYS) as Section[];
const keysOf = (s: Section) => Object.keys(CONFIG_KEYS[s].keys);

/** The valid keys of each mapping, by the name validation uses for it. */
export const VALID_KEYS = {
  top: sections,
  eal: keysOf('eal'),
  port: keysOf('ports'),
  interface: keysOf('interfaces'),
  worker: keysOf('workers'),
  rx: NESTED_KEYS.rx,
  fib: keysOf('fib'),
  idle: keysOf('idle'),
  route: keysOf('routes'),
  neighbor: keysOf('neighbors'),
  metrics: keysOf('metrics'),
  control: keysOf('control'),
  punt: keysOf('punt'),
  icmp: keysOf('icmp'),
  arp: keysOf('arp'),
  mempool: keysOf('mempool'),
  capture: keysOf('capture'),
  linux: keysOf('linux'),
  sync: Object.keys(LINUX_SYNC_KEYS),
  log: keysOf('log'),
} as const satisfies Record<string, readonly string[]>;

type Keys<S extends Section> = (typeof CONFIG_KEYS)[S]['keys'];
type Defaults<S extends Section> = {
  readonly [K in keyof Keys<S> as Keys<S>[K] extends Row<undefined> ? never : K]: Keys<S>[K] extends Row<infer T> ? T : never;
};

function defaultsOf<S extends Section>(s: S): Defaults<S> {
  const out: Record<string, unknown> = {};
  for (const [k, row] of Object.entries(CONFIG_KEYS[s].keys) as [string, Row<unknown>][]) if (row.def !== undefined) out[k] = row.def;
  return out as Defaults<S>;
}

/** The defaults of every key that has one, by section (ports' under `port`). */
export const DEFAULTS = {
  eal: defaultsOf('eal'),
  port: defaultsOf('ports'),
  fib: defaultsOf('fib'),
  idle: defaultsOf('idle'),
  metrics: defaultsOf('metrics'),
  control: defaultsOf('control'),
  punt: defaultsOf('punt'),
  icmp: defaultsOf('icmp'),
  arp: defaultsOf('arp'),
  mempool: defaultsOf('mempool'),
  linux: defaultsOf('linux'),
  capture: defaultsOf('capture'),
  log: defaultsOf('log'),
};

/** The change mode of `section.key` (a list section's entry keys: `routes.via`). */
export function keyChange(section: Section, key: string): ChangeMode {
  const row = (CONFIG_KEYS[section].keys as Record<string, Row<unknown>>)[key];
  return row ? row.change : 'restart';
}

/** Per top-level key: live when every key in it is live, else restart (ports: see PORT_LIVE_KEYS). */
export const KEY_CHANGE: Readonly<Record<TopLevelKey, ChangeMode>> = Object.fromEntries(
  sections.map((s) => [s, keysOf(s).every((k) => keyChange(s, k) === 'live') ? 'live' : 'restart']),
) as Record<TopLevelKey, ChangeMode>;

/** Keys inside a port that change live. */
export const PORT_LIVE_KEYS: readonly string[] = keysOf('ports').filter((k) => keyChange('ports', k) === 'live');

/** Whole live sections by name; the live keys of other sections as `section.key` (`ports[].address`). */
export const LIVE_KEYS: readonly string[] = sections.flatMap((s) =>
  KEY_CHANGE[s] === 'live'
    ? [s]
    : keysOf(s)
        .filter((k) => keyChange(s, k) === 'live')
        .map((k) => (s === 'ports' ? `ports[].${k}` : `${s}.${k}`)),
);
/** Sections with at least one key that needs a restart. */
export const RESTART_KEYS: readonly string[] = sections.filter((k) => KEY_CHANGE[k] === 'restart');
