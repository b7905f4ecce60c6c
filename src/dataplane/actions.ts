/**
 * The C side's constants, read from the addon (native/dataplane/dataplane.h, drop_reasons.h):
 * TypeScript keeps no copies. The addon loads on first use, not on import, so importing this
 * module (the CLI's client commands do, through the RIB) costs nothing.
 */
import { loadNative, NativeConstants } from './native';

let cached: NativeConstants | undefined;

export function dataplaneConstants(): NativeConstants {
  return (cached ??= loadNative().constants());
}

/** Next-hop actions (DP_NH_*): a next hop's interface field at or above NH_ACTION_MIN. */
export declare const NH_UNRESOLVED: number;
export declare const NH_GLEAN: number;
export declare const NH_LOCAL: number;
export declare const NH_DROP: number;
export declare const NH_ACTION_MIN: number;
/** DP_NH_GROUP: an ECMP next-hop group; the word's low bits are the group index. */
export declare const NH_GROUP: number;
/** ECMP groups (DP_GROUP_*): buckets per group, members per group, the largest weight, groups at most. */
export declare const GROUP_BUCKETS: number;
export declare const GROUP_MAX_MEMBERS: number;
export declare const GROUP_MAX_WEIGHT: number;
export declare const MAX_GROUPS: number;
/** Kinds of the dataplane's address set (enum dp_addr_kind). */
export declare const ADDR_OWN: number; // dropped as a source
export declare const ADDR_BROADCAST: number; // a connected subnet's broadcast: dropped as a source and as a destination
export declare const ADDR_NETWORK: number; // a connected subnet's network address: dropped as a destination
/** DP_MAX_PORTS: interface indices below it are ports' untagged interfaces. */
export declare const MAX_PORTS: number;
/** DP_MAX_SUBIFS: VLAN sub-interfaces have indices MAX_PORTS .. MAX_PORTS + MAX_SUBIFS - 1. */
export declare const MAX_SUBIFS: number;
/** DP_BURST: packets per RX burst. */
export declare const BURST: number;
/** DP_IDLE_MAX_US: the longest idle sleep a worker takes (idle.maxSleepUs). */
export declare const IDLE_MAX_SLEEP_US: number;

// Lazy exports: TypeScript compiles `import { NH_DROP }` to a property read at each use.
const lazy: Record<string, () => number> = {
  NH_UNRESOLVED: () => dataplaneConstants().nh.unresolved,
  NH_GLEAN: () => dataplaneConstants().nh.glean,
  NH_LOCAL: () => dataplaneConstants().nh.local,
  NH_DROP: () => dataplaneConstants().nh.drop,
  NH_ACTION_MIN: () => dataplaneConstants().nh.actionMin,
  NH_GROUP: () => dataplaneConstants().nh.group,
  GROUP_BUCKETS: () => dataplaneConstants().groups.buckets,
  GROUP_MAX_MEMBERS: () => dataplaneConstants().groups.maxMembers,
  GROUP_MAX_WEIGHT: () => dataplaneConstants().groups.maxWeight,
  MAX_GROUPS: () => dataplaneConstants().groups.maxGroups,
  ADDR_OWN: () => dataplaneConstants().addrKinds.own,
  ADDR_BROADCAST: () => dataplaneConstants().addrKinds.broadcast,
  ADDR_NETWORK: () => dataplaneConstants().addrKinds.network,
  MAX_PORTS: () => dataplaneConstants().maxPorts,
  MAX_SUBIFS: () => dataplaneConstants().maxSubifs,
  BURST: () => dataplaneConstants().burst,
  IDLE_MAX_SLEEP_US: () => dataplaneConstants().idleMaxSleepUs,
};
for (const [name, get] of Object.entries(lazy)) Object.defineProperty(exports, name, { get, enumerable: true });
