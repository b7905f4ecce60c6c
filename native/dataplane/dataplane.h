/*
 * dpfwd dataplane: the whole API of the C core. Plain C17 on DPDK, no Node.js: the binding in
 * native/binding converts values and errors, a C test or fuzzer can drive this directly.
 *
 * Threads: every function here runs on the main lcore (the thread that called dp_eal_init),
 * except the worker loop, which runs on worker lcores. Functions return 0 or a negative errno
 * and fill `err` with one sentence naming the cause; none of them ends the process.
 */
#ifndef DPFWD_DATAPLANE_H
#define DPFWD_DATAPLANE_H

#include <stddef.h>
#include <stdint.h>

#define DP_MAX_PORTS 16
/* VLAN sub-interfaces: interface indices [DP_MAX_PORTS, DP_MAX_PORTS + DP_MAX_SUBIFS). Index
 * i < n_ports is port i's untagged interface. */
#define DP_MAX_SUBIFS 1024
#define DP_MAX_IFACES (DP_MAX_PORTS + DP_MAX_SUBIFS)
#define DP_MAX_WORKERS 16
#define DP_MAX_RXQ_PER_WORKER 32
#define DP_BURST 32
#define DP_IDLE_MAX_US 10000 /* the longest idle sleep a worker takes (workers[].idle) */
#define DP_ERRLEN 512

/*
 * Next-hop word: bits 0-47 destination MAC in wire order (byte 0 in bits 0-7), bits 48-63 the
 * egress INTERFACE index (== the port index for a port's untagged interface; a VLAN
 * sub-interface index >= DP_MAX_PORTS takes the exact path, which pushes the tag), or an action
 * >= DP_NH_ACTION_MIN. For GLEAN and UNRESOLVED the low 16 bits carry the egress interface
 * index so the control plane knows where to send the ARP request.
 */
#define DP_NH_ACTION_MIN 0xfff0u
#define DP_NH_GROUP 0xfffbu /* ECMP: bits 0-31 a next-hop group index (dp_group_set) */
#define DP_NH_UNRESOLVED 0xfffcu /* gateway's MAC unknown */
#define DP_NH_GLEAN 0xfffdu /* connected subnet: resolve the destination itself */
#define DP_NH_LOCAL 0xfffeu /* an address of the router: deliver to the control plane */
#define DP_NH_DROP 0xffffu /* blackhole or unset */

/*
 * ECMP next-hop groups. A group is DP_GROUP_BUCKETS buckets, each holding a member's next-hop
 * id, filled in proportion to the members' weights (1..DP_GROUP_MAX_WEIGHT); a packet takes the
 * bucket its flow hash (addresses, protocol, L4 ports unless a fragment) picks and finishes with
 * that member's word. At most DP_MAX_GROUPS groups (dp_conf.max_groups, fib.maxGroups).
 */
#define DP_GROUP_BUCKETS 128u
#define DP_GROUP_MAX_MEMBERS 32u
#define DP_GROUP_MAX_WEIGHT 256u
#define DP_MAX_GROUPS 65536u

/* The router's address set (dp_addr_filter_set): OWN and BROADCAST are refused as sources;
 * BROADCAST and NETWORK as destinations (they reach the exact path anyway: a connected
 * subnet's route is a glean). */
#define DP_ADDR_SET_MAX 1024u /* addresses: the set stays at most half full */
enum dp_addr_kind {
	DP_ADDR_NONE = 0,
	DP_ADDR_OWN = 1,
	DP_ADDR_BROADCAST = 2,
	DP_ADDR_NETWORK = 3
};

struct dp_port_conf {
	char name[32];
	char devname[128]; /* DPDK device name: BDF or the vdev name before the first comma */
	uint16_t rx_queues;
	uint16_t rx_desc;
	uint16_t tx_desc;
	uint16_t mtu;
	int has_mac;
	uint8_t mac[6];
	/* frames of at least this many bytes may have been cut to the PMD's ring frame (af_packet:
	 * framesz - 66); 0 when the PMD never cuts. Decides rx_truncated vs bad_total_length. */
	uint32_t rx_cut_len;
};

struct dp_worker_conf {
	unsigned lcore;
	/* idle back-off: the longest sleep of a worker that finds its queues empty, in microseconds
	 * (it escalates to it, see dp_worker_main); 0 polls without pause */
	uint32_t idle_sleep_us;
	uint16_t n_rx;
	struct {
		uint16_t port;
		uint16_t queue;
	} rx[DP_MAX_RXQ_PER_WORKER];
};

struct dp_conf {
	uint16_t n_ports;
	struct dp_port_conf ports[DP_MAX_PORTS];
	uint16_t n_workers;
	struct dp_worker_conf workers[DP_MAX_WORKERS];
	uint32_t max_routes;
	uint32_t tbl8_groups;
	uint32_t max_nexthops;
	uint32_t max_groups; /* ECMP groups, 0..DP_MAX_GROUPS */
	uint32_t mbufs; /* mempool size (2^n - 1 is best) */
	uint32_t mbuf_cache;
	uint32_t punt_rate; /* packets per second per worker */
	uint32_t punt_burst;
	uint32_t punt_ring_size; /* power of two */
};

struct dp_port_info {
	uint16_t port_id;
	uint8_t mac[6];
	char driver[64];
	uint16_t mtu;
	int link_up;
	uint32_t speed_mbps;
	uint16_t rx_queues;
	uint16_t tx_queues;
	uint16_t numa_node;
};

struct dp_port_stats {
	uint64_t ipackets, opackets, ibytes, obytes, ierrors, oerrors, imissed, rx_nombuf;
};

struct dp_mempool_info {
	uint32_t size, available, in_use;
	uint32_t data_room;
};

struct dp_fib_info {
	uint32_t max_routes;
	uint32_t tbl8_groups;
	uint32_t tbl8_used;
	uint32_t max_nexthops;
	uint32_t routes;
	uint32_t max_groups;
	uint32_t groups; /* groups set (dp_group_set) and not deleted */
	int lookup_staged; /* workers use the staged loop (a table too big for the cache) */
};

/* Counter layout, in uint64 slots from the start of the counter block. */
struct dp_counter_layout {
	uint32_t n_workers;
	uint32_t n_ports;
	uint32_t worker_stride; /* slots between two workers' blocks (a multiple of 8: cache lines) */
	uint32_t worker_fields; /* DP_WORKER_COUNTERS, from slot 0 of a block */
	uint32_t port_base; /* first per-interface slot in a block: interface i at port_base + i * port_stride */
	uint32_t port_stride; /* slots per interface: forwarded, then one per drop reason, then DP_PORT_COUNTERS */
	uint32_t subif_base; /* sub-interface DP_MAX_PORTS + k at subif_base + k * port_stride */
	uint32_t n_subifs; /* DP_MAX_SUBIFS */
	uint32_t punt_base; /* per punt kind: punted, then punt_limited */
	uint32_t n_drop_reasons;
	uint32_t n_punt_kinds;
	uint32_t n_port_counters; /* DP_PORT_COUNTERS, after the drop reasons in a port's block */
};

int dp_eal_init(int argc, char **argv, char *err, size_t errlen);
/* Sets up the mempool, tables, rings and ports (started, not yet polled). */
int dp_start(const struct dp_conf *c, char *err, size_t errlen);
/* Launches the worker loops: program the FIB and next hops first. */
int dp_launch(char *err, size_t errlen);
int dp_stop(void);
void dp_eal_cleanup(void);
int dp_running(void);

/* Worker lcores still running their loop (0 after a worker returned with an error). */
int dp_workers_alive(void);

int dp_port_info(uint16_t idx, struct dp_port_info *out);
int dp_port_stats(uint16_t idx, struct dp_port_stats *out);
int dp_mempool_info(struct dp_mempool_info *out);
int dp_fib_info(struct dp_fib_info *out);

/* Routes (depth 0-32: 0.0.0.0/0 is a route like any other). Replace on add; -ENOENT on a
 * delete of a missing route; -ENOSPC when rules or tbl8 groups run out (nothing changed). */
int dp_route_add(uint32_t ip, uint8_t depth, uint32_t nh);
int dp_route_del(uint32_t ip, uint8_t depth);
/* Adds n routes; stops at the first failure. Returns the number added or -errno if none. */
int dp_route_add_bulk(const uint32_t *ips, const uint8_t *depths, const uint32_t *nhs, uint32_t n);
/* The word's bits 48-63: an egress interface index (< n_ports, or a sub-interface index in
 * [DP_MAX_PORTS, DP_MAX_PORTS + DP_MAX_SUBIFS), configured or not: an unconfigured one drops
 * as blackhole) or an action >= DP_NH_ACTION_MIN. -ENODEV for any other value. */
int dp_nexthop_set(uint32_t id, uint64_t word);

/*
 * ECMP groups (main thread). Sets group `gid` (< max_groups) to n members (1..DP_GROUP_MAX_MEMBERS
 * distinct next-hop ids, weights 1..DP_GROUP_MAX_WEIGHT; `live` 0 takes a member out of the
 * buckets). Bucket owners are kept: with the same members and weights only the buckets of
 * members whose liveness changed move (to a live member chosen per bucket, the same one every
 * time); with other members only the buckets the new weights take from a member move. With no
 * member live every bucket keeps its owner. Each bucket is one atomic store. A next-hop word
 * (DP_NH_GROUP << 48 | gid) then sends its routes through the group.
 * -EINVAL out of range or a member twice, -ENODEV before dp_start.
 */
int dp_group_set(uint32_t gid, const uint32_t *nhs, const uint16_t *weights, const uint8_t *live, uint32_t n);
/* Forgets a group's members (its next set fills it afresh). No word may name it any more: it
 * returns once no worker can still be reading the group (an RCU grace period), so the index may
 * be reused at once. */
int dp_group_del(uint32_t gid);
/* Copies the group's bucket table (DP_GROUP_BUCKETS next-hop ids) into out. */
int dp_group_buckets(uint32_t gid, uint32_t *out);

/* Source and broadcast rules: replaces the set of the router's own addresses (kind 1), the
 * directed broadcasts (kind 2) and network addresses (kind 3) of its connected subnets, host
 * order. Sources of kind 1 and 2 are dropped, destinations of kind 2 and 3 too. Workers see the new set at
 * their next burst; returns after none reads the old one. -ENOSPC above DP_ADDR_SET_MAX (1024). */
int dp_addr_filter_set(const uint32_t *addrs, const uint8_t *kinds, uint32_t n);

uint64_t *dp_counters(size_t *bytes, struct dp_counter_layout *layout);
uint64_t dp_tsc_hz(void);

const char *dp_drop_reason_name(unsigned i);
const char *dp_drop_reason_help(unsigned i);
const char *dp_punt_kind_name(unsigned i);
const char *dp_punt_kind_help(unsigned i);
const char *dp_worker_counter_help(unsigned i);
const char *dp_worker_counter_name(unsigned i);
const char *dp_port_counter_name(unsigned i);
const char *dp_port_counter_help(unsigned i);

/*
 * VLAN sub-interfaces (802.1Q, TPID 0x8100). `iface` in [DP_MAX_PORTS, DP_MAX_PORTS +
 * DP_MAX_SUBIFS); `port` a port index; `vlan` 1-4094; `mtu` 68 up to the port's MTU (the tag's
 * 4 bytes are not part of it). Tagged frames of (port, vlan) arrive on the interface with the
 * tag stripped; next hops on it leave with the tag pushed. Setting an existing interface
 * changes it. -EINVAL out of range, -ENODEV no such port, -EEXIST (port, vlan) belongs to
 * another interface. Deleting leaves next hops that name it dropping as blackhole.
 */
int dp_iface_set(uint16_t iface, uint16_t port, uint16_t vlan, uint16_t mtu);
int dp_iface_del(uint16_t iface);

/*
 * Control plane I/O. The punt fd (an eventfd) becomes readable when a worker punts while the
 * consumer sleeps. The consumer's loop: dp_punt_ack, then dp_punt_drain until it returns 0, then
 * dp_punt_sleep; if that returns 0 (a punt arrived meanwhile) drain on, else wait for the fd.
 * A consumer that stops early (a budget) calls dp_punt_kick so the fd stays readable.
 */
int dp_punt_fd(void);
struct dp_punted {
	uint16_t port; /* ingress port index (the physical port) */
	uint16_t iface; /* ingress interface: == port untagged, a sub-interface index when tagged */
	uint16_t kind; /* enum dp_punt */
	uint32_t len;
	const uint8_t *data;
	void *mbuf; /* release with dp_punt_release */
};
/* Drains up to max punted packets from all workers' rings. */
unsigned dp_punt_drain(struct dp_punted *out, unsigned max);
void dp_punt_release(struct dp_punted *p);
void dp_punt_ack(void); /* reads the eventfd: call before draining */
/* Arms the wake-up, then re-checks every ring: 1 = all empty, wait for the fd; 0 = drain on. */
int dp_punt_sleep(void);
/* Makes the punt fd readable again: a consumer that stops before the rings are empty calls it. */
void dp_punt_kick(void);
/* Liveness of the punt path, computed on request (main thread): packets waiting in a worker's
 * punt ring and the time since the control plane last drained the rings. */
struct dp_punt_status {
	uint32_t waiting; /* packets in this worker's punt ring now */
	uint32_t capacity; /* the ring's size */
	uint64_t since_drain_us; /* microseconds since dp_punt_drain last ran (any worker's ring) */
};
int dp_punt_status(unsigned worker, struct dp_punt_status *out);
/* Sends a frame out of an interface through a worker's inject ring: for a sub-interface the
 * 802.1Q tag is pushed after the MAC addresses. -EINVAL no such interface, -EMSGSIZE shorter
 * than an Ethernet header or longer than the interface's MTU, -ENOBUFS ring or pool full. */
int dp_inject(uint16_t iface, const void *frame, uint32_t len);

/* While on, link-local multicast (224.0.0.0/24, from a valid source) is punted as
 * DP_PUNT_link_multicast for the Linux mirrors instead of dropped as martian_address. Never
 * forwarded either way (RFC 5771 4: the Local Network Control Block stays on its link). */
void dp_link_multicast_set(int on);

/*
 * Linux mirror interfaces (mirror.c, no DPDK): a TAP device (IFF_TAP | IFF_NO_PI, non-blocking
 * fd) named `name`, created in the network namespace at `netns_path` (NULL: the caller's).
 * Returns the fd or -errno with `err` saying why. The interface lives as long as the fd.
 * carrier: TUNSETCARRIER. write: one frame (0 or -errno, -EAGAIN when the queue is full).
 * read: one frame into buf (its length, or -EAGAIN when none waits).
 */
int dp_mirror_open(const char *name, const char *netns_path, char *err, size_t errlen);
int dp_mirror_carrier(int fd, int up);
int dp_mirror_write(int fd, const void *frame, uint32_t len);
int dp_mirror_read(int fd, void *buf, uint32_t cap);
/*
 * Keeping a mirror as dpfwd made it: ctl_open gives a datagram socket in the mirrors' namespace;
 * state reads the TAP's current name (TUNGETIFF: -EBADFD once the interface is deleted), MAC,
 * MTU and IFF_UP (-ENODEV: no longer in that namespace); restore sets back what differs.
 */
struct dp_mirror_state {
	char name[16];
	uint8_t mac[6];
	uint32_t mtu;
	int up;
};
int dp_mirror_ctl_open(const char *netns_path, char *err, size_t errlen);
int dp_mirror_state(int tapfd, int ctlfd, struct dp_mirror_state *st);
int dp_mirror_restore(int tapfd, int ctlfd, const uint8_t mac[6], uint32_t mtu);
/*
 * Seeing packets (capture.c). Capture: copies of packets at a port's RX (an ethdev RX callback
 * installed first, so the copy is the frame as the PMD delivered it), at TX (a TX callback: what
 * is handed to rte_eth_tx_burst) and at the drop point (the worker's drop helpers, with the one
 * reason counted), into a ring per worker that the control side drains. Copies come from a
 * capture mempool of their own, never the forwarding pool; a full ring or an empty capture pool
 * drops the copy (counted as the worker's capture_dropped), never the packet. Nothing is
 * installed while no capture runs: the worker pays nothing for RX/TX capture then, and one test
 * of a pointer per drop (slow path only).
 */
#define DP_CAP_RX 1u
#define DP_CAP_TX 2u
#define DP_CAP_DROP 4u
#define DP_CAP_ANY_REASON 0xffu
#define DP_CAP_SNAPLEN_MAX 65535u /* pcapng readers' usual limit for Ethernet */
#define DP_CAP_RING_MAX 65536u
#define DP_TRACE_MAX 1024u /* packets one trace may record */
#define DP_TRACE_SNAP 128u /* bytes of each traced frame kept for printing */
#define DP_FILTER_MAX 1024u /* characters of a tcpdump filter expression */

struct dp_capture_conf {
	uint32_t ports; /* bitmask of port indices */
	uint32_t where; /* DP_CAP_* bits */
	uint32_t reason; /* only drops of this reason, or DP_CAP_ANY_REASON */
	uint32_t snaplen; /* bytes kept of each packet, 1..DP_CAP_SNAPLEN_MAX */
	uint32_t ring_size; /* per worker, a power of two up to DP_CAP_RING_MAX */
	uint32_t mbufs; /* the capture pool: copies waiting in rings at most */
	const char *filter; /* tcpdump expression (libpcap syntax), NULL or "" for every packet */
};
/* -EBUSY while a capture runs, -EINVAL with the filter's error in `err`, -ENOMEM. */
int dp_capture_start(const struct dp_capture_conf *c, char *err, size_t errlen);
/* Removes the hooks, waits until no worker is inside one, frees rings and pool. Idempotent. */
int dp_capture_stop(void);
int dp_capture_active(void);
/* One drained copy, followed in the drain buffer by cap_len bytes, then padding to 8 bytes. */
struct dp_captured {
	uint64_t ts_ns; /* CLOCK_REALTIME, from the worker's TSC at the copy */
	uint32_t orig_len; /* the packet's length */
	uint32_t cap_len; /* bytes that follow (snap length) */
	uint16_t port; /* port index */
	uint16_t iface; /* interface the drop was counted on (== port untagged) */
	uint16_t worker;
	uint8_t where; /* one DP_CAP_* bit */
	uint8_t reason; /* the drop reason for DP_CAP_DROP, else DP_CAP_ANY_REASON */
};
/* Moves copies from every worker's ring into buf (whole records only); returns bytes used and
 * the number of records in *n. */
size_t dp_capture_drain(uint8_t *buf, size_t cap, unsigned *n);

/*
 * Trace: the next `count` packets (matching `filter`) that workers receive go through the exact
 * path, which records what it does into the worker's trace buffer: ingress port and queue, the
 * fast test's outcome, the RFC 1812 checks' verdict, the LPM result, the action, the egress port
 * or the drop reason and punt kind. The exact path returns the same verdicts as the fast one
 * (the fuzz harness checks it), so a traced packet is forwarded or dropped as it would be.
 */
struct dp_trace_rec {
	uint64_t ts_ns;
	uint16_t worker, port, queue, iface; /* iface: the interface counted on (after a VLAN tag) */
	uint32_t len; /* frame length on arrival */
	uint8_t fast_ok; /* the fast path's one test passed */
	uint8_t check; /* dp_ip4_check: a drop reason, DP_DROP_MAX = passed, 0xff not reached */
	uint8_t lpm; /* 0 not reached, 1 route found, 2 no route */
	uint8_t result; /* DP_TRACE_* */
	uint32_t nh; /* next-hop id the LPM returned */
	uint64_t word; /* the next-hop word read */
	int32_t out; /* egress port index, -1 none */
	uint8_t reason; /* drop reason (DP_TRACE_DROPPED), else 0xff */
	uint8_t punt; /* punt kind, else 0xff */
	uint8_t punt_taken; /* the punt ring took it (else punt_ratelimited or limited) */
	uint8_t pad;
	uint32_t snap; /* bytes of data[] valid */
	uint8_t data[DP_TRACE_SNAP];
};
#define DP_TRACE_FORWARDED 1
#define DP_TRACE_DROPPED 2
#define DP_TRACE_PUNTED 3
int dp_trace_start(uint32_t count, const char *filter, char *err, size_t errlen);
/* Copies up to max finished records (all workers, in worker order); returns how many. */
unsigned dp_trace_read(struct dp_trace_rec *out, unsigned max);
/* Packets still to trace (0: done). */
uint32_t dp_trace_left(void);
int dp_trace_active(void);
int dp_trace_stop(void);

/* Last lines DPDK logged (for error messages after a failed init or probe). */
const char *dp_log_tail(void);
/*
 * DPDK's log lines for the control plane's logger. With forwarding on, lines are no longer
 * written to stderr but kept (bounded: DP_LOG_PENDING bytes; what does not fit is counted and
 * dropped) until dp_log_take copies them out: each write as '\x01', its level as one digit
 * '1'-'8' (RTE_LOG_EMERG..RTE_LOG_DEBUG), then its text. Returns the bytes copied (at most
 * len - 1, NUL-terminated); *dropped gets the bytes lost since the last take. Thread-safe.
 */
#define DP_LOG_PENDING 65536
void dp_log_forward(int on);
size_t dp_log_take(char *buf, size_t len, uint64_t *dropped);

/* ---- checks before EAL init (kernel_port.c; no DPDK) ---- */

/* 0 when bpf() reaches the kernel (an unknown command, answered EINVAL before any privilege
 * check), else the errno something in front of it answered: a seccomp filter or an LSM. */
int dp_bpf_probe(void);

/* The kernel driver of interface `ifname` (ethtool's, e.g. "veth") into `out`; "" when unknown. */
void dp_iface_driver(const char *ifname, char *out, size_t n);

#endif
