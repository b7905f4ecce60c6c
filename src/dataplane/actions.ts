/** Next-hop actions: must match DP_NH_* in native/dataplane/packet.h. Importing this loads no addon. */
export const NH_UNRESOLVED = 0xfffc;
export const NH_GLEAN = 0xfffd;
export const NH_LOCAL = 0xfffe;
export const NH_DROP = 0xffff;
