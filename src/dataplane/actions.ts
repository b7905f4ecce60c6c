/** Next-hop actions: must match DP_NH_* in native/dataplane/packet.h. Importing this loads no addon. */
export const NH_UNRESOLVED = 0xfffc;
export const NH_GLEAN = 0xfffd;
export const NH_LOCAL = 0xfffe;
export const NH_DROP = 0xffff;

/** Kinds of the dataplane's address set: must match enum dp_addr_kind in native/dataplane/packet.h. */
export const ADDR_OWN = 1; // dropped as a source
export const ADDR_BROADCAST = 2; // a connected subnet's broadcast: dropped as a source and as a destination
export const ADDR_NETWORK = 3; // a connected subnet's network address: dropped as a destination
