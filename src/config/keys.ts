/**
 * The one table of configuration keys: every section, every key in it, its default (undefined:
 * none, or computed) and whether a change applies live or needs a restart. Validation takes its
 * valid keys and defaults from here, `TopLevelKey` is derived from it, and docs/config.md lists
 * the same rule.
 *
 * Live keys are those the running forwarder changes through the control socket (routes,
 * neighbours, interface addresses, VLAN sub-interfaces); restart keys take effect when dpfwd
 * starts. (A reload that applied live keys as a diff, Snabb-style, would compare two configs by
 * these rows; there is none yet, so there is no diff function either.)
 */
import { DEFAULT_LCORES } from '../host/cpus';

/** DPDK's log levels, by the names eal.logLevel takes. */
export const LOG_LEVELS = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type ChangeMode = 'live' | 'restart';

/** Sections: the change mode of the whole section and its keys with their defaults. */
export const CONFIG_KEYS = {
  eal: {
    change: 'restart',
    keys: { lcores: DEFAULT_LCORES, inMemory: true, filePrefix: undefined, args: [] as string[], logLevel: 'notice' as LogLevel, hugepagesMiB: undefined, telemetry: false },
  },
  ports: {
    change: 'restart',
    keys: { name: undefined, device: undefined, rxQueues: 1, rxDescriptors: 1024, txDescriptors: 1024, mtu: 1500, mac: undefined, address: undefined },
  },
  interfaces: { change: 'live', keys: { name: undefined, port: undefined, vlan: undefined, address: undefined, mtu: undefined } },
  workers: { change: 'restart', keys: { lcore: undefined, rx: undefined } },
  fib: { change: 'restart', keys: { maxRoutes: 1048576, tbl8Groups: undefined, maxNexthops: 65536, maxGroups: 1024 } },
  routes: { change: 'live', keys: { prefix: undefined, via: undefined, port: undefined, blackhole: false, nexthops: undefined } },
  neighbors: { change: 'live', keys: { address: undefined, mac: undefined, port: undefined } },
  metrics: {
    change: 'restart',
    keys: { listen: '127.0.0.1:9450', maxConnections: 64, headersTimeoutMs: 10000, requestTimeoutMs: 30000, keepAliveTimeoutMs: 65000, idleTimeoutMs: 120000 },
  },
  control: {
    change: 'restart',
    keys: {
      socket: '/run/dpfwd/dpfwd.sock', mode: 0o660, maxClients: 64, maxRequestBytes: 64 * 1048576, maxBufferedBytes: 256 * 1048576,
      maxReplyBacklogBytes: 1048576, requestTimeoutMs: 30000, idleTimeoutMs: 300000,
    },
  },
  punt: { change: 'restart', keys: { rate: 10000, burst: 256, maxWaitMs: 1000 } },
  icmp: { change: 'live', keys: { unreachable: true, rateLimit: 1000, burst: 50 } },
  arp: {
    change: 'live',
    keys: { reachableMs: 30000, staleMs: 60000, retransmitMs: 1000, probes: 3, queueLen: 4, maxEntries: 4096, maxIncomplete: 256, newPerSecond: 100, lockMs: 1000 },
  },
  mempool: { change: 'restart', keys: { mbufs: 0, cacheSize: 256 } },
  capture: { change: 'restart', keys: { ringSize: 2048, mbufs: 8191, maxSnaplen: 65535, leaseMs: 5000, readBytes: 1048576 } },
  /** the Linux control-plane path (docs/linux.md): mirror interfaces in a namespace, route sync */
  linux: { change: 'restart', keys: { netns: undefined, mirror: false, queueLen: 1000, sync: undefined } },
} as const;

/** linux.sync's keys and defaults (enabled: default true when a mirror is on). */
export const LINUX_SYNC_KEYS = { enabled: undefined, table: 'main', protocols: 'all', socketBuffer: 4 * 1048576 } as const;

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
} as const satisfies Record<string, readonly string[]>;

type Defaults<S extends Section> = { readonly [K in keyof (typeof CONFIG_KEYS)[S]['keys'] as (typeof CONFIG_KEYS)[S]['keys'][K] extends undefined ? never : K]: (typeof CONFIG_KEYS)[S]['keys'][K] };

/** The defaults of every key that has one, by section (ports' under `port`). */
export const DEFAULTS = {
  eal: CONFIG_KEYS.eal.keys as Defaults<'eal'>,
  port: CONFIG_KEYS.ports.keys as Defaults<'ports'>,
  fib: CONFIG_KEYS.fib.keys as Defaults<'fib'>,
  metrics: CONFIG_KEYS.metrics.keys as Defaults<'metrics'>,
  control: CONFIG_KEYS.control.keys as Defaults<'control'>,
  punt: CONFIG_KEYS.punt.keys as Defaults<'punt'>,
  icmp: CONFIG_KEYS.icmp.keys as Defaults<'icmp'>,
  arp: CONFIG_KEYS.arp.keys as Defaults<'arp'>,
  mempool: CONFIG_KEYS.mempool.keys as Defaults<'mempool'>,
  linux: CONFIG_KEYS.linux.keys as Defaults<'linux'>,
  capture: CONFIG_KEYS.capture.keys as Defaults<'capture'>,
};

/** Per top-level key. `ports` is restart except `ports[].address`, which is live (see PORT_LIVE_KEYS). */
export const KEY_CHANGE: Readonly<Record<TopLevelKey, ChangeMode>> = Object.fromEntries(
  sections.map((s) => [s, CONFIG_KEYS[s].change]),
) as Record<TopLevelKey, ChangeMode>;

/** Keys inside a port that change live. */
export const PORT_LIVE_KEYS: readonly string[] = ['address'];

export const LIVE_KEYS: readonly string[] = sections.flatMap((s) => (s === 'ports' ? PORT_LIVE_KEYS.map((k) => `ports[].${k}`) : KEY_CHANGE[s] === 'live' ? [s] : []));
export const RESTART_KEYS: readonly string[] = sections.filter((k) => KEY_CHANGE[k] === 'restart');
