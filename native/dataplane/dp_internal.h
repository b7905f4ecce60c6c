/*
 * The dataplane's shared state and the helpers every part of it uses: one struct (`dp`, defined
 * in setup.c), the counter block layout, the interface words. Internal to native/dataplane:
 * hidden from the addon's exported symbols, so the worker loop reaches `dp` PC-relative (no GOT
 * load per access) as when it was one file.
 */
#ifndef DPFWD_DP_INTERNAL_H
#define DPFWD_DP_INTERNAL_H

#include "dataplane.h"
#include "packet.h"
#include "fib.h"
#include "kernel_port.h"
#include "ecmp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_lpm.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#pragma GCC visibility push(hidden)

#define TXBUF_LEN (2 * DP_BURST)
/* the most fragments one datagram is cut into (worker.c's fragment(); more: frag_failed) */
#define DP_FRAG_MAX 64

/* per-worker counters (DP_WORKER_COUNTERS) */
enum dp_wctr {
#define DP_X(name, help) DP_WCTR_##name,
	DP_WORKER_COUNTERS(DP_X)
#undef DP_X
	DP_WCTR_MAX
};

/* ---- counters: one block per worker, cache-line aligned, written only by its worker ---- */

#define PORT_SLOTS (1 + DP_DROP_MAX + DP_PCTR_MAX) /* forwarded, then drops, then DP_PORT_COUNTERS */
#define PORT_CTR(c) (1 + DP_DROP_MAX + DP_PCTR_##c) /* a DP_PORT_COUNTERS slot in a port's block */
#define PORT_BASE DP_WCTR_MAX
#define SUBIF_BASE (PORT_BASE + DP_MAX_PORTS * PORT_SLOTS)
#define PUNT_BASE (PORT_BASE + DP_MAX_IFACES * PORT_SLOTS)
#define WORKER_SLOTS_RAW (PUNT_BASE + 2 * DP_PUNT_MAX)
#define WORKER_STRIDE (((WORKER_SLOTS_RAW) + 7) & ~7u)

/* ---- state ---- */

struct port_state {
	uint16_t port_id;
	uint16_t mtu;
	uint8_t kernel; /* kernel-backed (af_packet, af_xdp): L4 checksums may be partial */
	uint32_t rx_cut_len; /* frames this long may have been cut by the PMD's ring frame (0: never) */
	struct dp_kport kport; /* what dpfwd changed on an af_packet port's interface */
	unsigned afp_ifindex; /* an af_packet port's interface (0: another PMD) */
	uint64_t afp_drops; /* its sockets' PACKET_STATISTICS tp_drops, summed (afp_stats.c) */
	struct rte_ether_addr mac;
	char name[32];
};

/* Adds the kernel's ring drops of the af_packet sockets bound to ifindex since the last call. */
int dp_afp_ring_drops(unsigned ifindex, uint64_t *drops);

struct txbuf {
	uint16_t n;
	struct rte_mbuf *pkts[TXBUF_LEN];
};

struct worker {
	unsigned lcore;
	uint16_t id;
	uint16_t n_rx;
	struct {
		uint16_t port_idx, port_id, queue;
	} rx[DP_MAX_RXQ_PER_WORKER];
	uint64_t *ctr; /* this worker's counter block */
	struct rte_ring *punt; /* worker -> main (SP/SC) */
	struct rte_ring *inject; /* main -> worker (SP/SC) */
	/* token buckets, in TSC cycles: [1] for ARP, [0] for every other kind, so a flood of one
	 * kind (TTL-expired, local) never takes the tokens neighbour resolution needs */
	uint64_t punt_budget[2];
	uint64_t punt_last[2];
	uint64_t punt_cost; /* cycles per token */
	uint64_t punt_cap; /* burst * cost */
	int punt_signal; /* enqueued a punt in this loop iteration: see punt_wake() */
	int alive;
	uint32_t dirty; /* bitmap of ports with buffered TX */
	uint32_t idle_max_ns; /* the longest idle sleep (0: poll without pause) */
	struct txbuf tx[DP_MAX_PORTS];
	struct dp_trace_rec *tr; /* the packet being traced (exact path), NULL otherwise: capture.c */
	struct dp_trace *tr_of; /* the trace tr belongs to (dp.trace may be cleared meanwhile) */
	/* frames the exact path sent itself (fragments, a frame that came tagged), queued only after
	 * the burst's packets forwarded before it: worker.c's tx_late and send_late */
	uint16_t n_late;
	uint8_t late_port[DP_FRAG_MAX];
	struct rte_mbuf *late[DP_FRAG_MAX];
} __rte_cache_aligned;

struct dp_state {
	int eal_ready;
	int running;
	int launched;
	uint16_t n_ports;
	uint16_t n_workers;
	struct port_state ports[DP_MAX_PORTS];
	struct worker *workers;
	struct rte_mempool *pool;
	struct dp_fib *fib;
	struct rte_lpm *lpm; /* dp_fib_lpm(fib): the tables workers look up in */
	uint64_t src_et[DP_MAX_PORTS]; /* per port: dp_src_et_word of its MAC */
	uint64_t mac_key[DP_MAX_PORTS]; /* per port: its MAC as dp_eth_dst_key reads a frame's destination */
	dp_l2_key l2_key[DP_MAX_PORTS]; /* per port: the fast path's first test (dp_l2_fast_ok) */
	/* VLAN sub-interface k (index DP_MAX_PORTS + k): one word read atomically, see iface_word */
	uint64_t subifs[DP_MAX_SUBIFS];
	/* (port, VID) -> interface index, DP_IFACE_NONE when no sub-interface has it */
	uint16_t (*vlan_map)[4096];
	uint32_t mtu_floor; /* smallest port MTU: IPv4 packets up to it need no MTU test */
	/* source and broadcast rules: the flags live here (a fixed address the loop reaches from
	 * the same base register as src_et); the exact set is double-buffered, see dp_addr_filter_set */
	struct dp_addr_set *addr_sets[2];
	struct dp_addr_filter addr_filter;
	/* zero for the one-pass loop; DP_LOOP_STAGED once the table is too big to stay in cache
	 * (workers look up in a separate pass), DP_LOOP_TRACE while a trace runs (capture.c): one
	 * word, so the loop tests one thing per burst for both */
	volatile uint32_t loop_mode;
	struct rte_rcu_qsbr *qsv;
	uint64_t *nexthops;
	uint32_t max_nexthops;
	/* ECMP groups (ecmp.c): bucket tables read by workers, members kept by the main thread */
	struct dp_group *groups;
	struct dp_group_ctl *group_ctl;
	uint32_t max_groups, n_groups;
	uint32_t max_routes, tbl8_groups;
	uint64_t *counters;
	size_t counters_bytes;
	int efd;
	/* the punt consumer is about to sleep or asleep: set by dp_punt_sleep, taken by punt_wake */
	atomic_int punt_sleeping;
	unsigned inject_rr;
	unsigned drain_rr;
	uint64_t punt_drained_tsc; /* main thread only: when dp_punt_drain last ran */
	atomic_int stop;
	/* capture and trace (capture.c): DP_OBS_* bits, read by the drop helpers and once per burst */
	uint32_t observe;
	struct dp_capture *cap; /* the running capture (RCU: freed after workers pass quiescence) */
	struct dp_trace *trace;
	/* RX callbacks on kernel-backed ports' queues (checksum completion), removed in release_all */
	unsigned n_rx_cbs;
	struct {
		uint16_t port_id, queue;
		const struct rte_eth_rxtx_callback *cb;
	} rx_cbs[DP_MAX_WORKERS * DP_MAX_RXQ_PER_WORKER];
	/* nonzero while Linux mirrors run: link-local multicast (224.0.0.0/24) is punted, not dropped
	 * as martian; read only by the exact path (dp_link_multicast_set) */
	volatile int link_multicast;
	/* RX mbufs of af_xdp ports when dp.pool's objects are too big for a UMEM chunk (a page):
	 * see xdp_pool_create in setup.c; NULL when they share dp.pool */
	struct rte_mempool *xdp_pool;
};
extern struct dp_state dp;

/* ---- ECMP groups ---- */

struct dp_group {
	uint32_t bucket[DP_GROUP_BUCKETS]; /* member next-hop ids, each stored atomically */
};

/* main thread only: what the buckets were filled from */
struct dp_group_ctl {
	uint32_t n; /* 0: unused */
	uint32_t nhs[DP_GROUP_MAX_MEMBERS];
	uint16_t weights[DP_GROUP_MAX_MEMBERS];
	uint8_t live[DP_GROUP_MAX_MEMBERS];
	uint8_t owner[DP_GROUP_BUCKETS];
};

/* The member word of group word `word` for flow hash `hash`: the bucket it picks. */
static inline uint64_t
group_pick(const struct dp_group *groups, const uint64_t *nexthops, uint64_t word, uint32_t hash)
{
	uint32_t nh = __atomic_load_n(&groups[(uint32_t)word].bucket[dp_ecmp_bucket(hash)], __ATOMIC_RELAXED);
	return __atomic_load_n(&nexthops[nh], __ATOMIC_RELAXED);
}

/* The member word a packet of group word `word` takes: the bucket its flow hash picks. The
 * caller checked the IPv4 header (total length within the frame). */
static inline uint64_t
group_word(const uint64_t *nexthops, uint64_t word, const struct rte_ipv4_hdr *ip)
{
	return group_pick(dp.groups, nexthops, word, dp_flow_hash(ip));
}

/* ---- interfaces: port i's untagged interface is index i, VLAN sub-interfaces follow ---- */

#define DP_IFACE_NONE 0xffffu
/* A sub-interface's word: bit 63 configured, bits 32-47 port index, 16-31 VLAN, 0-15 MTU. */
#define SUBIF_USED (1ull << 63)
#define SUBIF_PORT(w) ((unsigned)((w) >> 32) & 0xffffu)
#define SUBIF_VLAN(w) ((unsigned)((w) >> 16) & 0xffffu)
#define SUBIF_MTU(w) ((unsigned)(w)&0xffffu)

static inline uint64_t
subif_word(unsigned iface)
{
	return __atomic_load_n(&dp.subifs[iface - DP_MAX_PORTS], __ATOMIC_ACQUIRE);
}

/* The physical port of an interface index (0 for a sub-interface deleted meanwhile). */
static inline unsigned
iface_port(unsigned iface)
{
	return iface < DP_MAX_PORTS ? iface : SUBIF_PORT(subif_word(iface));
}

/* ---- capture and trace hooks (capture.c); all on the slow path ---- */

#define DP_LOOP_STAGED 1u
#define DP_LOOP_TRACE 2u

#define DP_OBS_DROP 1u /* a capture takes drops */
#define DP_OBS_TRACE 2u /* a trace runs: the drop helpers record into it */

static inline uint32_t
dp_observe(void)
{
	return __atomic_load_n(&dp.observe, __ATOMIC_RELAXED);
}

/* A drop counted in the interface block `pc` (of some worker's counters): capture and trace. */
void dp_obs_drop(uint64_t *pc, struct rte_mbuf *m, unsigned reason);
/* A punt of `kind` by w (taken: the ring took it): trace. */
void dp_obs_punt(struct worker *w, unsigned kind, int taken);
/* Whether the trace takes this packet (its filter and budget); fills w->tr if so. */
int dp_trace_take(struct worker *w, struct rte_mbuf *m, unsigned port_idx, unsigned queue);
/* Trace steps of the exact path (called only while w->tr is set): the RFC 1812 checks' verdict
 * on the interface `pc` counts on, the LPM result. */
void dp_trace_check(struct worker *w, const uint64_t *pc, unsigned verdict);
void dp_trace_lpm(struct worker *w, int found, uint32_t nh, uint64_t word);
/* Ends the record w->tr: `out` the egress port exact_path returned (-1 consumed). */
void dp_trace_done(struct worker *w, int out);
/* dp_stop: the workers have stopped; capture and trace go. */
void dp_observe_release(void);

/* log.c: fills `err` (one sentence: cause and fix) and returns -|rc|. */
int dp_fail(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* log.c: routes DPDK's log through the tail buffer dp_log_tail reads (from dp_eal_init). */
void dp_log_capture_start(void);
/* worker.c: one worker lcore's loop (rte_eal_remote_launch from dp_launch). */
int dp_worker_main(void *arg);

#pragma GCC visibility pop

#endif
