/*
 * dpfwd dataplane: EAL, ports, FIB, next hops, counters, punt/inject rings and the worker loop.
 */
#define _GNU_SOURCE
#include "dataplane.h"
#include "packet.h"
#include "fib.h"
#include "kernel_port.h"

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

#define TXBUF_LEN (2 * DP_BURST)

/* ---- names, generated from the X-macro lists ---- */

static const char *const drop_names[] = {
#define DP_X(name, help) #name,
	DP_DROP_REASONS(DP_X)
#undef DP_X
};
static const char *const drop_helps[] = {
#define DP_X(name, help) help,
	DP_DROP_REASONS(DP_X)
#undef DP_X
};
static const char *const punt_names[] = {
#define DP_X(name, help) #name,
	DP_PUNT_KINDS(DP_X)
#undef DP_X
};
static const char *const punt_helps[] = {
#define DP_X(name, help) help,
	DP_PUNT_KINDS(DP_X)
#undef DP_X
};
enum dp_wctr {
#define DP_X(name, help) DP_WCTR_##name,
	DP_WORKER_COUNTERS(DP_X)
#undef DP_X
	DP_WCTR_MAX
};
static const char *const wctr_names[] = {
#define DP_X(name, help) #name,
	DP_WORKER_COUNTERS(DP_X)
#undef DP_X
};
static const char *const wctr_helps[] = {
#define DP_X(name, help) help,
	DP_WORKER_COUNTERS(DP_X)
#undef DP_X
};

const char *dp_drop_reason_name(unsigned i) { return i < DP_DROP_MAX ? drop_names[i] : NULL; }
const char *dp_drop_reason_help(unsigned i) { return i < DP_DROP_MAX ? drop_helps[i] : NULL; }
const char *dp_punt_kind_name(unsigned i) { return i < DP_PUNT_MAX ? punt_names[i] : NULL; }
const char *dp_punt_kind_help(unsigned i) { return i < DP_PUNT_MAX ? punt_helps[i] : NULL; }
const char *dp_worker_counter_name(unsigned i) { return i < DP_WCTR_MAX ? wctr_names[i] : NULL; }
const char *dp_worker_counter_help(unsigned i) { return i < DP_WCTR_MAX ? wctr_helps[i] : NULL; }

static const char *const pctr_names[] = {
#define DP_X(name, help) #name,
	DP_PORT_COUNTERS(DP_X)
#undef DP_X
};
static const char *const pctr_helps[] = {
#define DP_X(name, help) help,
	DP_PORT_COUNTERS(DP_X)
#undef DP_X
};
const char *dp_port_counter_name(unsigned i) { return i < DP_PCTR_MAX ? pctr_names[i] : NULL; }
const char *dp_port_counter_help(unsigned i) { return i < DP_PCTR_MAX ? pctr_helps[i] : NULL; }

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
	uint8_t kernel;       /* kernel-backed (af_packet, af_xdp): L4 checksums may be partial */
	uint32_t rx_cut_len;  /* frames this long may have been cut by the PMD's ring frame (0: never) */
	struct dp_kport kport; /* what dpfwd changed on an af_packet port's interface */
	struct rte_ether_addr mac;
	char name[32];
};

struct txbuf {
	uint16_t n;
	struct rte_mbuf *pkts[TXBUF_LEN];
};

struct worker {
	unsigned lcore;
	uint16_t id;
	uint16_t n_rx;
	struct { uint16_t port_idx, port_id, queue; } rx[DP_MAX_RXQ_PER_WORKER];
	uint64_t *ctr;                 /* this worker's counter block */
	struct rte_ring *punt;         /* worker -> main (SP/SC) */
	struct rte_ring *inject;       /* main -> worker (SP/SC) */
	uint64_t punt_budget;          /* token bucket, in TSC cycles */
	uint64_t punt_last;
	uint64_t punt_cost;            /* cycles per token */
	uint64_t punt_cap;             /* burst * cost */
	int punt_signal;               /* enqueued a punt in this loop iteration: see punt_wake() */
	int alive;
	uint32_t dirty;                /* bitmap of ports with buffered TX */
	struct txbuf tx[DP_MAX_PORTS];
} __rte_cache_aligned;

static struct {
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
	/* VLAN sub-interface k (index DP_MAX_PORTS + k): one word read atomically, see iface_word */
	uint64_t subifs[DP_MAX_SUBIFS];
	/* (port, VID) -> interface index, DP_IFACE_NONE when no sub-interface has it */
	uint16_t (*vlan_map)[4096];
	uint32_t mtu_floor;            /* smallest port MTU: IPv4 packets up to it need no MTU test */
	/* source and broadcast rules: the flags live here (a fixed address the loop reaches from
	 * the same base register as src_et); the exact set is double-buffered, see dp_addr_filter_set */
	struct dp_addr_set *addr_sets[2];
	struct dp_addr_filter addr_filter;
	/* nonzero once the table is too big to stay in cache: workers look up in a separate pass */
	volatile int lpm_staged;
	struct rte_rcu_qsbr *qsv;
	uint64_t *nexthops;
	uint32_t max_nexthops;
	uint32_t max_routes, tbl8_groups;
	uint64_t *counters;
	size_t counters_bytes;
	int efd;
	/* the punt consumer is about to sleep or asleep: set by dp_punt_sleep, taken by punt_wake */
	atomic_int punt_sleeping;
	unsigned inject_rr;
	unsigned drain_rr;
	uint64_t punt_drained_tsc;     /* main thread only: when dp_punt_drain last ran */
	atomic_int stop;
	/* RX callbacks on kernel-backed ports' queues (checksum completion), removed in release_all */
	unsigned n_rx_cbs;
	struct { uint16_t port_id, queue; const struct rte_eth_rxtx_callback *cb; } rx_cbs[DP_MAX_WORKERS * DP_MAX_RXQ_PER_WORKER];
} dp = { .efd = -1 };

/* ---- interfaces: port i's untagged interface is index i, VLAN sub-interfaces follow ---- */

#define DP_IFACE_NONE 0xffffu
/* A sub-interface's word: bit 63 configured, bits 32-47 port index, 16-31 VLAN, 0-15 MTU. */
#define SUBIF_USED (1ull << 63)
#define SUBIF_PORT(w) ((unsigned)((w) >> 32) & 0xffffu)
#define SUBIF_VLAN(w) ((unsigned)((w) >> 16) & 0xffffu)
#define SUBIF_MTU(w) ((unsigned)(w) & 0xffffu)

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

/* ---- DPDK log capture: keep the tail for error messages, pass everything on to stderr ---- */

static char log_tail[4096];
static size_t log_tail_len;

static ssize_t
log_write(void *cookie, const char *buf, size_t size)
{
	(void)cookie;
	fwrite(buf, 1, size, stderr);
	if (size >= sizeof(log_tail)) {
		buf += size - (sizeof(log_tail) - 1);
		size = sizeof(log_tail) - 1;
	}
	if (log_tail_len + size >= sizeof(log_tail)) {
		size_t drop = log_tail_len + size - (sizeof(log_tail) - 1);
		memmove(log_tail, log_tail + drop, log_tail_len - drop);
		log_tail_len -= drop;
	}
	memcpy(log_tail + log_tail_len, buf, size);
	log_tail_len += size;
	log_tail[log_tail_len] = 0;
	return (ssize_t)size;
}

const char *dp_log_tail(void) { return log_tail; }

static int
fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc < 0 ? rc : -rc;
}

/* ---- EAL ---- */

/*
 * Threads that existed before rte_eal_init (Node's V8 platform workers, libuv's pool, the
 * inspector) may run on any CPU, including the workers' cores. Confine every thread of the
 * process that is not an EAL lcore thread to the main lcore's CPU set; threads created later
 * inherit the main thread's affinity, which the EAL has already set.
 */
static void
pin_other_threads(void)
{
	rte_cpuset_t main_set = rte_lcore_cpuset(rte_get_main_lcore());
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[300], comm[32] = { 0 };
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		if (strncmp(comm, "rte-worker", 10) == 0 || strncmp(comm, "lcore-worker", 12) == 0)
			continue;
		pid_t tid = (pid_t)atoi(e->d_name);
		(void)sched_setaffinity(tid, sizeof(main_set), &main_set);
	}
	closedir(d);
}

int
dp_eal_init(int argc, char **argv, char *err, size_t errlen)
{
	if (dp.eal_ready)
		return fail(err, errlen, EALREADY, "the EAL is already initialised in this process");
	static FILE *logf;
	if (!logf) {
		cookie_io_functions_t io = { .write = log_write };
		logf = fopencookie(NULL, "w", io);
		if (logf) {
			setvbuf(logf, NULL, _IOLBF, 0);
			rte_openlog_stream(logf);
		}
	}
	log_tail_len = 0;
	log_tail[0] = 0;
	/* On bad arguments the EAL prints its whole usage text with printf: keep it off stdout
	 * (the caller explains the error from the log tail instead). */
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved >= 0 && devnull >= 0)
		dup2(devnull, STDOUT_FILENO);
	int rc = rte_eal_init(argc, argv);
	fflush(stdout);
	if (saved >= 0) {
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
	if (devnull >= 0)
		close(devnull);
	if (rc < 0) {
		int e = rte_errno ? rte_errno : EINVAL;
		return fail(err, errlen, e, "rte_eal_init failed: %s", rte_strerror(e));
	}
	dp.eal_ready = 1;
	pin_other_threads();
	return 0;
}

void
dp_eal_cleanup(void)
{
	if (dp.running)
		dp_stop();
	if (dp.eal_ready) {
		rte_eal_cleanup();
		dp.eal_ready = 0;
	}
}

uint64_t dp_tsc_hz(void) { return rte_get_tsc_hz(); }
int dp_running(void) { return dp.running; }

/* ---- the worker loop ---- */

static inline void
ctr_add(uint64_t *c, unsigned slot, uint64_t v)
{
	c[slot] += v;
}

/* Hands packets to port p's TX queue of this worker; what the queue refuses is dropped as tx_full. */
static inline void
tx_send(struct worker *w, unsigned p, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t sent = rte_eth_tx_burst(dp.ports[p].port_id, w->id, pkts, n);
	ctr_add(w->ctr, DP_WCTR_tx_packets, sent);
	if (unlikely(sent < n)) {
		/* counted against the egress port's tx_full: the ingress port is gone by now */
		ctr_add(w->ctr, PORT_BASE + p * PORT_SLOTS + 1 + DP_DROP_tx_full, n - sent);
		rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
	}
}

static inline void
tx_flush(struct worker *w)
{
	uint32_t dirty = w->dirty;
	while (dirty) {
		unsigned p = (unsigned)__builtin_ctz(dirty);
		dirty &= dirty - 1;
		struct txbuf *b = &w->tx[p];
		tx_send(w, p, b->pkts, b->n);
		b->n = 0;
	}
	w->dirty = 0;
}

static inline void
tx_enqueue(struct worker *w, unsigned port, struct rte_mbuf *m)
{
	struct txbuf *b = &w->tx[port];
	b->pkts[b->n++] = m;
	w->dirty |= 1u << port;
	if (unlikely(b->n == TXBUF_LEN)) {
		uint32_t keep = w->dirty & ~(1u << port);
		w->dirty = 1u << port;
		tx_flush(w);
		w->dirty = keep;
	}
}

/* Rate-limited hand-off to the control plane. Returns 1 if the ring took the packet. */
static inline int
punt(struct worker *w, struct rte_mbuf *m, unsigned port_idx, unsigned kind)
{
	uint64_t now = rte_rdtsc();
	uint64_t b = w->punt_budget + (now - w->punt_last);
	w->punt_last = now;
	if (b > w->punt_cap)
		b = w->punt_cap;
	if (b < w->punt_cost || w->punt == NULL) {
		w->punt_budget = b;
		ctr_add(w->ctr, PUNT_BASE + 2 * kind + 1, 1);
		return 0;
	}
	w->punt_budget = b - w->punt_cost;
	m->hash.usr = (kind << 24) | (iface_port(port_idx) << 16) | port_idx;
	if (rte_ring_sp_enqueue(w->punt, m) != 0) {
		ctr_add(w->ctr, PUNT_BASE + 2 * kind + 1, 1);
		return 0;
	}
	w->punt_signal = 1;
	ctr_add(w->ctr, PUNT_BASE + 2 * kind, 1);
	return 1;
}

/*
 * The punt path's wake-up, without lost wake-ups by construction. Two parties, one flag
 * (dp.punt_sleeping) and the rings:
 *
 *   worker (after enqueueing, once per loop)     consumer (dp_punt_sleep, before it sleeps)
 *     P1  ring tail store (rte_ring enqueue)       C1  punt_sleeping = 1
 *     P2  seq_cst fence                            C2  seq_cst fence
 *     P3  exchange(punt_sleeping, 0): if it        C3  every ring empty? then sleep on the
 *         was 1, write the eventfd                     eventfd; else drain on
 *
 * This is the store-buffering pattern with a seq_cst fence on each side, so at least one side
 * sees the other's store: either C3 sees the packet (the consumer drains instead of sleeping)
 * or P3 reads 1 and the eventfd becomes readable (the consumer's poll fires). Both may happen,
 * which is only a spurious wake-up. The exchange makes exactly one producer pay the write per
 * sleep, and a producer never writes while the consumer is awake (flag 0), so a flood costs one
 * syscall per consumer sleep, not one per packet. A consumer that stops with work left (its
 * per-turn budget) writes the eventfd itself (dp_punt_kick) and leaves the flag 0.
 * The old scheme (signal when the ring goes from empty to non-empty; drain until a short batch)
 * lost the wake-up when the consumer emptied the ring between the worker's count and its
 * enqueue: the ring then filled and never became empty again.
 */
static inline void
punt_wake(struct worker *w)
{
	w->punt_signal = 0;
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_exchange_explicit(&dp.punt_sleeping, 0, memory_order_seq_cst))
		eventfd_write(dp.efd, 1);
}

static inline void
drop(uint64_t *pc, struct rte_mbuf *m, unsigned reason)
{
	pc[1 + reason]++;
	rte_pktmbuf_free(m);
}

/* A drop that also asks the control plane for an ICMP error or a resolution. */
static inline void
drop_punt(struct worker *w, uint64_t *pc, struct rte_mbuf *m, unsigned port_idx, unsigned reason,
	  unsigned kind)
{
	pc[1 + reason]++;
	if (!punt(w, m, port_idx, kind))
		rte_pktmbuf_free(m);
}

/* A connected subnet's broadcast or network address (RFC 2644: not forwarded). Only packets
 * that reach a glean or unresolved next hop ask, so forwarded traffic never pays for it. */
static int
dst_is_subnet_broadcast(const struct rte_ipv4_hdr *ip)
{
	unsigned k = dp_addr_kind(__atomic_load_n(&dp.addr_filter.set, __ATOMIC_ACQUIRE),
				  rte_be_to_cpu_32(ip->dst_addr));
	return k == DP_ADDR_BROADCAST || k == DP_ADDR_NETWORK;
}

/*
 * A frame shorter than its IPv4 total length: rx_truncated when the port is kernel-backed and
 * the frame is as long as the PMD's ring frame lets it be (the kernel cut a super-frame or a
 * reassembled datagram to fit), bad_total_length otherwise.
 */
static unsigned
rx_cut_reason(unsigned in_idx, uint32_t len, const struct rte_ipv4_hdr *ip)
{
	uint32_t cut = dp.ports[in_idx].rx_cut_len;
	if (cut != 0 && len >= cut && rte_be_to_cpu_16(ip->total_length) > len - sizeof(struct rte_ether_hdr))
		return DP_DROP_rx_truncated;
	return DP_DROP_bad_total_length;
}

/*
 * af_packet ports only: the PMD's socket asks the kernel to reassemble fragments
 * (PACKET_FANOUT_FLAG_DEFRAG, not configurable in DPDK 22.11), so fragments a host sent arrive
 * as one datagram longer than the MTU. Without DF it leaves as fragments of the egress MTU
 * again (RFC 791; RFC 1812 4.2.2.7), copied into new mbufs (slow path only) and counted as
 * `refragmented` on the ingress port, the datagram as forwarded. Datagrams with IP options or
 * needing more than DP_REFRAG_MAX fragments are dropped as frag_failed.
 */
#define DP_REFRAG_MAX 64

static __rte_noinline void
refragment(struct worker *w, uint64_t *pc, struct rte_mbuf *m, unsigned out, uint64_t word)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	uint32_t tot = rte_be_to_cpu_16(ip->total_length);
	uint32_t chunk = ((uint32_t)dp.ports[out].mtu - sizeof(*ip)) & ~7u;
	uint32_t plen = tot - (uint32_t)sizeof(*ip);
	uint32_t n = chunk ? (plen + chunk - 1) / chunk : 0;
	struct rte_mbuf *f[DP_REFRAG_MAX];
	if (ip->version_ihl != 0x45 || m->nb_segs != 1 || n == 0 || n > DP_REFRAG_MAX ||
	    rte_pktmbuf_alloc_bulk(dp.pool, f, n) != 0) {
		drop(pc, m, DP_DROP_frag_failed);
		return;
	}
	uint16_t fo = rte_be_to_cpu_16(ip->fragment_offset);
	uint32_t off0 = (uint32_t)(fo & RTE_IPV4_HDR_OFFSET_MASK) * 8; /* it may be a fragment itself */
	uint16_t mf0 = fo & RTE_IPV4_HDR_MF_FLAG;
	ip->time_to_live--;
	const uint8_t *payload = (const uint8_t *)(ip + 1);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t len = i + 1 < n ? chunk : plen - i * chunk;
		uint8_t *d = (uint8_t *)rte_pktmbuf_append(f[i], (uint16_t)(sizeof(*eth) + sizeof(*ip) + len));
		memcpy(d, eth, sizeof(*eth) + sizeof(*ip));
		memcpy(d + sizeof(*eth) + sizeof(*ip), payload + i * chunk, len);
		struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)(d + sizeof(*eth));
		h->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + len));
		h->fragment_offset = rte_cpu_to_be_16((uint16_t)(((off0 + i * chunk) / 8) |
								 (i + 1 < n ? RTE_IPV4_HDR_MF_FLAG : mf0)));
		h->hdr_checksum = 0;
		h->hdr_checksum = rte_ipv4_cksum(h);
		dp_eth_rewrite((struct rte_ether_hdr *)d, word, dp.src_et[out]);
		tx_enqueue(w, out, f[i]);
	}
	rte_pktmbuf_free(m);
	pc[0]++;
	pc[PORT_CTR(refragmented)]++;
}

/*
 * Everything the fast test in process_burst refuses, one packet at a time, in the order of the
 * RFC 1812 checks: drops and punts with their reasons, IP options, packets above the smallest
 * port MTU. Returns the egress port with the packet rewritten, or -1 when it was consumed.
 */
static __rte_noinline int
exact_path(struct worker *w, uint64_t *pc, struct rte_mbuf *m, unsigned in_idx)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	uint32_t len = rte_pktmbuf_data_len(m);
	if (len < sizeof(*eth)) {
		drop(pc, m, DP_DROP_truncated);
		return -1;
	}
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_VLAN)) {
		drop(pc, m, DP_DROP_unknown_vlan);
		return -1;
	}
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
		if (!punt(w, m, in_idx, DP_PUNT_arp))
			drop(pc, m, DP_DROP_punt_ratelimited);
		return -1;
	}
	if (eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
		drop(pc, m, DP_DROP_not_ipv4);
		return -1;
	}
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	unsigned v = dp_ip4_check(ip, len - sizeof(*eth));
	if (v == DP_VERDICT_FORWARD || v == DP_DROP_ttl_expired) {
		/* a source the router must not forward from: dropped before any ICMP error to it */
		unsigned vs = dp_ip4_check_src(&dp.addr_filter, ip);
		if (unlikely(vs != DP_VERDICT_FORWARD)) {
			drop(pc, m, vs);
			return -1;
		}
	}
	if (v == DP_DROP_ttl_expired) {
		if (unlikely(dst_is_subnet_broadcast(ip))) {
			/* RFC 1812 4.3.2.7: no ICMP error about a datagram sent to a broadcast */
			drop(pc, m, DP_DROP_directed_broadcast);
			return -1;
		}
		drop_punt(w, pc, m, in_idx, v, DP_PUNT_ttl_expired);
		return -1;
	}
	if (v != DP_VERDICT_FORWARD) {
		drop(pc, m, v == DP_DROP_bad_total_length ? rx_cut_reason(in_idx, len, ip) : v);
		return -1;
	}
	uint32_t nh;
	if (rte_lpm_lookup(dp.lpm, rte_be_to_cpu_32(ip->dst_addr), &nh) != 0) {
		drop_punt(w, pc, m, in_idx, DP_DROP_no_route, DP_PUNT_no_route);
		return -1;
	}
	uint64_t word = __atomic_load_n(&dp.nexthops[nh], __ATOMIC_RELAXED);
	unsigned out = (unsigned)(word >> 48);
	switch (out) {
	case DP_NH_LOCAL:
		if (!punt(w, m, in_idx, DP_PUNT_local))
			drop(pc, m, DP_DROP_punt_ratelimited);
		return -1;
	case DP_NH_GLEAN:
	case DP_NH_UNRESOLVED:
		if (unlikely(dst_is_subnet_broadcast(ip))) {
			drop(pc, m, DP_DROP_directed_broadcast); /* never ARP, never an ICMP error */
			return -1;
		}
		drop_punt(w, pc, m, in_idx, DP_DROP_neighbor_unresolved, DP_PUNT_unresolved);
		return -1;
	default:
		if (out >= DP_MAX_PORTS) {
			drop(pc, m, DP_DROP_blackhole);
			return -1;
		}
	}
	if (rte_be_to_cpu_16(ip->total_length) > dp.ports[out].mtu) {
		if (dp.ports[in_idx].rx_cut_len != 0 &&
		    !(ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG))) {
			refragment(w, pc, m, out, word);
			return -1;
		}
		drop_punt(w, pc, m, in_idx, DP_DROP_mtu_exceeded, DP_PUNT_mtu_exceeded);
		return -1;
	}
	dp_ip4_ttl_dec(ip);
	dp_eth_rewrite(eth, word, dp.src_et[out]);
	return (int)out;
}

/* What the per-packet fast path reads from the dataplane: copied into locals once per burst. */
struct fast_ctx {
	const struct rte_lpm *lpm;
	const uint64_t *nexthops;
	uint32_t mtu_floor;
};

/* rte_lpm_lookup inline, in its two steps: entries are 32-bit words read as such. */
static __rte_always_inline uint32_t
lpm_tbl24(const struct rte_lpm *lpm, uint32_t dst)
{
	const uint32_t *t = (const uint32_t *)(const void *)&lpm->tbl24[dst >> 8];
	return *t;
}

/* The tbl8 entry a tbl24 entry with the extension bit points to (prefixes longer than /24). */
static __rte_always_inline uint32_t
lpm_tbl8(const struct rte_lpm *lpm, uint32_t dst, uint32_t e24)
{
	const uint32_t *t = (const uint32_t *)(const void *)&lpm->tbl8[(uint8_t)dst + (e24 & 0x00ffffffu) *
									 RTE_LPM_TBL8_GROUP_NUM_ENTRIES];
	return *t;
}

/*
 * The end of the fast path for a checked packet (Ethernet header `eth`) and its LPM entry `e`,
 * a route found (the caller tested RTE_LPM_LOOKUP_SUCCESS): the next-hop word, TTL and checksum,
 * two 8-byte stores for the Ethernet header. An action (local, glean, unresolved, drop) goes to
 * exact_path. Returns the egress port or exact_path's verdict.
 */
static __rte_always_inline int
forward_to(struct worker *w, uint64_t *pc, struct rte_mbuf *m, unsigned in_idx,
	   const struct fast_ctx *c, struct rte_ether_hdr *eth, uint32_t e)
{
	uint64_t word = __atomic_load_n(&c->nexthops[e & 0x00ffffffu], __ATOMIC_RELAXED);
	unsigned out = (unsigned)(word >> 48);
	if (unlikely(out >= DP_MAX_PORTS))
		return exact_path(w, pc, m, in_idx);
	dp_ip4_ttl_dec((struct rte_ipv4_hdr *)(eth + 1));
	dp_eth_rewrite(eth, word, dp.src_et[out]);
	return (int)out;
}

/*
 * One packet on the fast path: one test that covers every RFC 1812 check (dp_ip4_fast_ok), the
 * LPM lookup inline (tbl24; tbl8 only for prefixes longer than /24), the next-hop word, TTL and
 * checksum, two 8-byte stores for the Ethernet header. Returns the egress port with the packet
 * rewritten, or -1 when exact_path consumed it.
 */
static __rte_always_inline int
forward_one(struct worker *w, uint64_t *pc, struct rte_mbuf *m, unsigned in_idx,
	    const struct fast_ctx *c)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	if (unlikely(!dp_ip4_fast_ok(eth, rte_pktmbuf_data_len(m), c->mtu_floor, &dp.addr_filter)))
		return exact_path(w, pc, m, in_idx);
	uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
	uint32_t e = lpm_tbl24(c->lpm, dst);
	if (unlikely((e & RTE_LPM_VALID_EXT_ENTRY_BITMASK) != RTE_LPM_LOOKUP_SUCCESS)) {
		if ((e & RTE_LPM_VALID_EXT_ENTRY_BITMASK) != RTE_LPM_VALID_EXT_ENTRY_BITMASK)
			return exact_path(w, pc, m, in_idx); /* no route */
		e = lpm_tbl8(c->lpm, dst, e);
		if (!(e & RTE_LPM_LOOKUP_SUCCESS))
			return exact_path(w, pc, m, in_idx);
	}
	return forward_to(w, pc, m, in_idx, c, eth, e);
}

/* Appends a packet forward_one or exact_path kept (out >= 0) to the burst's forwarded list. */
static __rte_always_inline void
keep(struct rte_mbuf **fw, uint8_t *outs, unsigned *nf, struct rte_mbuf *m, int out)
{
	if (out < 0)
		return;
	fw[*nf] = m;
	outs[(*nf)++] = (uint8_t)out;
}

/*
 * One pass over the burst, headers prefetched four packets ahead. Anything unusual takes
 * exact_path, which returns forwarded packets into the same list so a burst keeps its order.
 * Returns the number forwarded; fw/outs hold them and their egress ports.
 */
static __rte_always_inline unsigned
burst_one_pass(struct worker *w, uint64_t *pc, unsigned in_idx, struct rte_mbuf **pkts, uint16_t nb,
	       const struct fast_ctx *c, struct rte_mbuf **fw, uint8_t *outs)
{
	unsigned nf = 0;
	unsigned j = 0;
	for (; j < nb && j < 4; j++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[j], void *));
	/* two copies of the loop so the prefetch needs no per-packet bounds test */
	for (j = 0; j + 4 < nb; j++) {
		rte_prefetch0(rte_pktmbuf_mtod(pkts[j + 4], void *));
		keep(fw, outs, &nf, pkts[j], forward_one(w, pc, pkts[j], in_idx, c));
	}
	for (; j < nb; j++)
		keep(fw, outs, &nf, pkts[j], forward_one(w, pc, pkts[j], in_idx, c));
	return nf;
}

/*
 * The same in three passes, for tables too big to stay in cache: checks, then all the burst's
 * lookups in one tight loop (independent loads, so their cache misses overlap), then next hops
 * and rewrites. Same verdicts, same order.
 */
static __rte_noinline unsigned
burst_staged(struct worker *w, uint64_t *pc, unsigned in_idx, struct rte_mbuf **pkts, uint16_t nb,
	     const struct fast_ctx *c, struct rte_mbuf **fw, uint8_t *outs)
{
	uint32_t dst[DP_BURST], e[DP_BURST];
	uint32_t slow = 0;
	for (unsigned j = 0; j < nb && j < 4; j++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[j], void *));
	for (unsigned j = 0; j < nb; j++) {
		if (j + 4 < nb)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[j + 4], void *));
		const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(pkts[j], const struct rte_ether_hdr *);
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
		slow |= (uint32_t)!dp_ip4_fast_ok(eth, rte_pktmbuf_data_len(pkts[j]), c->mtu_floor, &dp.addr_filter) << j;
		dst[j] = rte_be_to_cpu_32(ip->dst_addr); /* any bytes make a valid index */
	}
	for (unsigned j = 0; j < nb; j++) {
		uint32_t x = lpm_tbl24(c->lpm, dst[j]);
		if (unlikely((x & RTE_LPM_VALID_EXT_ENTRY_BITMASK) == RTE_LPM_VALID_EXT_ENTRY_BITMASK))
			x = lpm_tbl8(c->lpm, dst[j], x);
		e[j] = x;
	}
	unsigned nf = 0;
	for (unsigned j = 0; j < nb; j++) {
		struct rte_mbuf *m = pkts[j];
		int ok = !(slow >> j & 1) && (e[j] & RTE_LPM_LOOKUP_SUCCESS);
		keep(fw, outs, &nf, m, likely(ok) ? forward_to(w, pc, m, in_idx, c, rte_pktmbuf_mtod(m, struct rte_ether_hdr *), e[j])
						  : exact_path(w, pc, m, in_idx));
	}
	return nf;
}

/* The list goes to the TX queue in one call when it all leaves by one port (the usual case). */
static void
process_burst(struct worker *w, unsigned in_idx, struct rte_mbuf **pkts, uint16_t nb)
{
	uint64_t *pc = w->ctr + PORT_BASE + in_idx * PORT_SLOTS;
	struct rte_mbuf *fw[DP_BURST];
	uint8_t outs[DP_BURST];
	/* Locals, not globals: the stores into packets may alias anything, and the compiler would
	 * otherwise reload these on every packet. */
	const struct fast_ctx c = { dp.lpm, dp.nexthops, dp.mtu_floor };
	unsigned nf = unlikely(dp.lpm_staged) ? burst_staged(w, pc, in_idx, pkts, nb, &c, fw, outs)
					       : burst_one_pass(w, pc, in_idx, pkts, nb, &c, fw, outs);
	if (nf == 0)
		return;
	pc[0] += nf;
	unsigned mixed = 0;
	for (unsigned k = 1; k < nf; k++)
		mixed |= outs[k] ^ outs[0];
	if (likely(mixed == 0)) {
		/* one egress port: straight to its queue unless packets already wait in its buffer */
		unsigned p = outs[0];
		struct txbuf *b = &w->tx[p];
		if (likely(b->n == 0)) {
			tx_send(w, p, fw, nf);
			return;
		}
	}
	for (unsigned k = 0; k < nf; k++)
		tx_enqueue(w, outs[k], fw[k]);
}

static void
drain_inject(struct worker *w)
{
	struct rte_mbuf *pkts[DP_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(w->inject, (void **)pkts, DP_BURST, NULL);
	for (unsigned i = 0; i < n; i++) {
		unsigned port = pkts[i]->hash.usr;
		tx_enqueue(w, port, pkts[i]);
	}
	if (n)
		ctr_add(w->ctr, DP_WCTR_injected, n);
}

static int
worker_main(void *arg)
{
	struct worker *w = arg;
	struct rte_mbuf *pkts[DP_BURST];

	if (rte_rcu_qsbr_thread_register(dp.qsv, w->id) != 0) {
		w->alive = 0;
		return -EINVAL;
	}
	rte_rcu_qsbr_thread_online(dp.qsv, w->id);
	w->punt_last = rte_rdtsc();
	uint64_t prev = rte_rdtsc();

	while (!atomic_load_explicit(&dp.stop, memory_order_relaxed)) {
		unsigned got = 0;
		for (unsigned i = 0; i < w->n_rx; i++) {
			uint16_t nb = rte_eth_rx_burst(w->rx[i].port_id, w->rx[i].queue, pkts, DP_BURST);
			if (nb == 0)
				continue;
			got += nb;
			ctr_add(w->ctr, DP_WCTR_rx_bursts, 1);
			ctr_add(w->ctr, DP_WCTR_rx_packets, nb);
			process_burst(w, w->rx[i].port_idx, pkts, nb);
		}
		if (unlikely(!rte_ring_empty(w->inject)))
			drain_inject(w);
		if (w->dirty)
			tx_flush(w);
		if (unlikely(w->punt_signal))
			punt_wake(w);
		rte_rcu_qsbr_quiescent(dp.qsv, w->id);
		uint64_t now = rte_rdtsc();
		ctr_add(w->ctr, got ? DP_WCTR_busy_cycles : DP_WCTR_idle_cycles, now - prev);
		ctr_add(w->ctr, DP_WCTR_loops, 1);
		prev = now;
	}
	if (w->dirty)
		tx_flush(w);
	rte_rcu_qsbr_thread_offline(dp.qsv, w->id);
	rte_rcu_qsbr_thread_unregister(dp.qsv, w->id);
	w->alive = 0;
	return 0;
}

int
dp_workers_alive(void)
{
	int n = 0;
	for (unsigned i = 0; dp.workers && i < dp.n_workers; i++)
		n += __atomic_load_n(&dp.workers[i].alive, __ATOMIC_RELAXED) ? 1 : 0;
	return n;
}

/* ---- start / stop ---- */

/* PMDs that hand over frames as a Linux kernel left them (partial checksums possible). */
static int
is_kernel_port(const char *driver)
{
	return strcmp(driver, "net_af_packet") == 0 || strcmp(driver, "net_af_xdp") == 0;
}

static int
port_setup(unsigned idx, const struct dp_port_conf *pc, uint16_t n_txq, char *err, size_t errlen)
{
	uint16_t pid;
	int rc = rte_eth_dev_get_port_by_name(pc->devname, &pid);
	if (rc != 0)
		return fail(err, errlen, ENODEV,
			    "port %s: DPDK has no device named %s (was it probed? see the log above)",
			    pc->name, pc->devname);
	struct rte_eth_dev_info info;
	rc = rte_eth_dev_info_get(pid, &info);
	if (rc != 0)
		return fail(err, errlen, rc, "port %s: cannot read device info: %s", pc->name,
			    rte_strerror(-rc));
	if (pc->rx_queues > info.max_rx_queues)
		return fail(err, errlen, EINVAL,
			    "port %s: %u RX queues asked, driver %s supports %u; lower ports[%u].rxQueues",
			    pc->name, pc->rx_queues, info.driver_name, info.max_rx_queues, idx);
	if (n_txq > info.max_tx_queues)
		return fail(err, errlen, EINVAL,
			    "port %s: %u workers need %u TX queues, driver %s supports %u; use fewer worker lcores",
			    pc->name, n_txq, n_txq, info.driver_name, info.max_tx_queues);

	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	if (pc->rx_queues > 1 && info.flow_type_rss_offloads) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_IP & info.flow_type_rss_offloads;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
	rc = rte_eth_dev_configure(pid, pc->rx_queues, n_txq, &conf);
	if (rc != 0)
		return fail(err, errlen, rc, "port %s: configure failed: %s", pc->name, rte_strerror(-rc));
	uint16_t nrx = pc->rx_desc, ntx = pc->tx_desc;
	rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nrx, &ntx);
	int socket = rte_eth_dev_socket_id(pid);
	if (socket < 0)
		socket = (int)rte_socket_id();
	for (uint16_t q = 0; q < pc->rx_queues; q++) {
		rc = rte_eth_rx_queue_setup(pid, q, nrx, (unsigned)socket, NULL, dp.pool);
		if (rc != 0)
			return fail(err, errlen, rc, "port %s: RX queue %u setup failed: %s", pc->name, q,
				    rte_strerror(-rc));
	}
	struct rte_eth_txconf txc = info.default_txconf;
	txc.offloads = conf.txmode.offloads;
	for (uint16_t q = 0; q < n_txq; q++) {
		rc = rte_eth_tx_queue_setup(pid, q, ntx, (unsigned)socket, &txc);
		if (rc != 0)
			return fail(err, errlen, rc, "port %s: TX queue %u setup failed: %s", pc->name, q,
				    rte_strerror(-rc));
	}
	if (pc->has_mac) {
		struct rte_ether_addr a;
		memcpy(a.addr_bytes, pc->mac, 6);
		rc = rte_eth_dev_default_mac_addr_set(pid, &a);
		if (rc == -ENOTSUP)
			return fail(err, errlen, rc,
				    "port %s: driver %s cannot change its MAC address; remove ports[%u].mac",
				    pc->name, info.driver_name, idx);
		if (rc != 0)
			return fail(err, errlen, rc, "port %s: cannot set MAC address: %s", pc->name,
				    rte_strerror(-rc));
	}
	rc = rte_eth_dev_set_mtu(pid, pc->mtu);
	if (rc != 0 && rc != -ENOTSUP)
		return fail(err, errlen, rc, "port %s: cannot set MTU %u: %s (driver %s accepts %u..%u)",
			    pc->name, pc->mtu, rte_strerror(-rc), info.driver_name, info.min_mtu,
			    info.max_mtu);
	struct port_state *ps = &dp.ports[idx];
	if (strcmp(info.driver_name, "net_af_packet") == 0 && info.if_index != 0) {
		char note[512];
		rc = dp_kport_prepare(&ps->kport, info.if_index, note, sizeof(note));
		RTE_LOG(NOTICE, USER1, "dpfwd: port %s (af_packet on %s%s\n", pc->name, note,
			rc == 0 ? ")" : "); frames above the ring frame will count as rx_truncated");
	}
	rc = rte_eth_dev_start(pid);
	if (rc != 0)
		return fail(err, errlen, rc, "port %s: start failed: %s", pc->name, rte_strerror(-rc));
	ps->port_id = pid;
	ps->mtu = pc->mtu;
	rte_eth_macaddr_get(pid, &ps->mac);
	dp.src_et[idx] = dp_src_et_word(&ps->mac);
	snprintf(ps->name, sizeof(ps->name), "%s", pc->name);
	ps->kernel = is_kernel_port(info.driver_name);
	ps->rx_cut_len = pc->rx_cut_len;
	return 0;
}

/*
 * Checksum completion for kernel-backed ports (af_packet, af_xdp) runs as an ethdev RX callback
 * on their queues: it runs inside rte_eth_rx_burst on the worker that polls the queue, and
 * ports without one pay only the test rte_eth_rx_burst makes anyway (RTE_ETHDEV_RXTX_CALLBACKS),
 * so the worker loop and the pcap/null/NIC path are unchanged. `arg` is the polling worker's
 * csum_completed slot for the port: one queue is polled by one worker only.
 */
static uint16_t
kernel_rx_cb(uint16_t port_id, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb, uint16_t max,
	     void *arg)
{
	(void)port_id;
	(void)queue;
	(void)max;
	uint64_t n = 0;
	for (unsigned j = 0; j < nb; j++)
		n += (uint64_t)dp_l4_csum_complete(rte_pktmbuf_mtod(pkts[j], struct rte_ether_hdr *),
						   rte_pktmbuf_data_len(pkts[j]));
	*(uint64_t *)arg += n;
	return nb;
}

static int
kernel_rx_callbacks_add(char *err, size_t errlen)
{
	for (unsigned i = 0; i < dp.n_workers; i++) {
		struct worker *w = &dp.workers[i];
		for (unsigned q = 0; q < w->n_rx; q++) {
			unsigned idx = w->rx[q].port_idx;
			if (!dp.ports[idx].kernel)
				continue;
			uint64_t *slot = &w->ctr[PORT_BASE + idx * PORT_SLOTS + PORT_CTR(csum_completed)];
			const struct rte_eth_rxtx_callback *cb =
				rte_eth_add_rx_callback(w->rx[q].port_id, w->rx[q].queue, kernel_rx_cb, slot);
			if (cb == NULL)
				return fail(err, errlen, rte_errno ? rte_errno : ENOTSUP,
					    "port %s: cannot add the checksum-completion RX callback: %s",
					    dp.ports[idx].name, rte_strerror(rte_errno));
			dp.rx_cbs[dp.n_rx_cbs].port_id = w->rx[q].port_id;
			dp.rx_cbs[dp.n_rx_cbs].queue = w->rx[q].queue;
			dp.rx_cbs[dp.n_rx_cbs].cb = cb;
			dp.n_rx_cbs++;
		}
	}
	return 0;
}

/* After the workers stopped: nobody runs the callbacks any more, so their memory can go. */
static void
kernel_rx_callbacks_remove(void)
{
	for (unsigned i = 0; i < dp.n_rx_cbs; i++) {
		if (rte_eth_remove_rx_callback(dp.rx_cbs[i].port_id, dp.rx_cbs[i].queue, dp.rx_cbs[i].cb) == 0)
			rte_free((void *)(uintptr_t)dp.rx_cbs[i].cb);
	}
	dp.n_rx_cbs = 0;
}

static void
release_all(void)
{
	kernel_rx_callbacks_remove();
	for (unsigned i = 0; i < dp.n_ports; i++) {
		rte_eth_dev_stop(dp.ports[i].port_id);
		rte_eth_dev_close(dp.ports[i].port_id);
		dp_kport_release(&dp.ports[i].kport);
	}
	dp.n_ports = 0;
	if (dp.workers) {
		for (unsigned i = 0; i < dp.n_workers; i++) {
			struct worker *w = &dp.workers[i];
			struct rte_mbuf *m;
			for (unsigned p = 0; p < DP_MAX_PORTS; p++)
				if (w->tx[p].n)
					rte_pktmbuf_free_bulk(w->tx[p].pkts, w->tx[p].n);
			while (w->punt && rte_ring_dequeue(w->punt, (void **)&m) == 0)
				rte_pktmbuf_free(m);
			while (w->inject && rte_ring_dequeue(w->inject, (void **)&m) == 0)
				rte_pktmbuf_free(m);
			rte_ring_free(w->punt);
			rte_ring_free(w->inject);
		}
		rte_free(dp.workers);
		dp.workers = NULL;
	}
	dp.n_workers = 0;
	if (dp.fib)
		dp_fib_free(dp.fib);
	dp.fib = NULL;
	dp.lpm = NULL;
	rte_free(dp.qsv);
	dp.qsv = NULL;
	rte_free(dp.nexthops);
	dp.nexthops = NULL;
	__atomic_store_n(&dp.addr_filter.set, NULL, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < 2; i++) {
		rte_free(dp.addr_sets[i]);
		dp.addr_sets[i] = NULL;
	}
	rte_free(dp.counters);
	dp.counters = NULL;
	rte_free(dp.vlan_map);
	dp.vlan_map = NULL;
	rte_mempool_free(dp.pool);
	dp.pool = NULL;
	if (dp.efd >= 0)
		close(dp.efd);
	dp.efd = -1;
}

int
dp_start(const struct dp_conf *c, char *err, size_t errlen)
{
	int rc;
	if (!dp.eal_ready)
		return fail(err, errlen, EINVAL, "call dp_eal_init first");
	if (dp.running)
		return fail(err, errlen, EALREADY, "the dataplane is already running");
	if (c->n_ports == 0 || c->n_ports > DP_MAX_PORTS)
		return fail(err, errlen, EINVAL, "%u ports: dpfwd supports 1 to %u", c->n_ports, DP_MAX_PORTS);
	if (c->n_workers == 0 || c->n_workers > DP_MAX_WORKERS)
		return fail(err, errlen, EINVAL, "%u workers: dpfwd supports 1 to %u", c->n_workers,
			    DP_MAX_WORKERS);
	for (unsigned i = 0; i < c->n_workers; i++) {
		unsigned lc = c->workers[i].lcore;
		if (!rte_lcore_is_enabled(lc) || lc == rte_get_main_lcore())
			return fail(err, errlen, EINVAL,
				    "worker lcore %u is not an EAL worker lcore; list it in eal.lcores after the main lcore",
				    lc);
		for (unsigned q = 0; q < c->workers[i].n_rx; q++)
			if (c->workers[i].rx[q].port >= c->n_ports)
				return fail(err, errlen, EINVAL, "worker %u: RX port index %u out of range", lc,
					    c->workers[i].rx[q].port);
	}
	memset(dp.ports, 0, sizeof(dp.ports));
	atomic_store(&dp.stop, 0);

	dp.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dp.efd < 0)
		return fail(err, errlen, errno, "eventfd: %s", strerror(errno));

	uint16_t max_mtu = 1500;
	for (unsigned i = 0; i < c->n_ports; i++)
		if (c->ports[i].mtu > max_mtu)
			max_mtu = c->ports[i].mtu;
	uint32_t room = RTE_PKTMBUF_HEADROOM + RTE_MAX(2048u, (unsigned)max_mtu + RTE_ETHER_HDR_LEN + 8u);
	/* af_packet copies up to framesz - 32 bytes into one mbuf (its RX queue setup refuses less):
	 * rx_cut_len = framesz - 66 */
	for (unsigned i = 0; i < c->n_ports; i++)
		if (c->ports[i].rx_cut_len != 0 && c->ports[i].rx_cut_len + 34u > room - RTE_PKTMBUF_HEADROOM)
			room = RTE_PKTMBUF_HEADROOM + c->ports[i].rx_cut_len + 34u;
	if (room > UINT16_MAX) {
		release_all();
		return fail(err, errlen, EINVAL,
			    "mbufs of %u bytes are too big (largest 65535): lower an af_packet port's framesz", room);
	}
	dp.pool = rte_pktmbuf_pool_create("dpfwd_mbufs", c->mbufs, c->mbuf_cache, 0, (uint16_t)room,
					  (int)rte_socket_id());
	if (!dp.pool) {
		rc = fail(err, errlen, rte_errno,
			  "cannot create a pool of %u mbufs of %u bytes (%.0f MiB): %s; reserve more hugepages "
			  "(echo 1024 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) or lower mempool.mbufs",
			  c->mbufs, room, (double)c->mbufs * (room + 192) / 1048576.0, rte_strerror(rte_errno));
		release_all();
		return rc;
	}

	dp.max_nexthops = c->max_nexthops;
	dp.nexthops = rte_zmalloc("dpfwd_nexthops", sizeof(uint64_t) * c->max_nexthops, RTE_CACHE_LINE_SIZE);
	size_t qsz = rte_rcu_qsbr_get_memsize(c->n_workers);
	dp.qsv = rte_zmalloc("dpfwd_rcu", qsz, RTE_CACHE_LINE_SIZE);
	dp.counters_bytes = sizeof(uint64_t) * WORKER_STRIDE * c->n_workers;
	dp.counters = rte_zmalloc("dpfwd_counters", dp.counters_bytes, RTE_CACHE_LINE_SIZE);
	dp.workers = rte_zmalloc("dpfwd_workers", sizeof(struct worker) * c->n_workers, RTE_CACHE_LINE_SIZE);
	for (unsigned i = 0; i < 2; i++)
		dp.addr_sets[i] = rte_zmalloc("dpfwd_addr_set", sizeof(struct dp_addr_set), RTE_CACHE_LINE_SIZE);
	dp.vlan_map = rte_malloc("dpfwd_vlan_map", sizeof(*dp.vlan_map) * DP_MAX_PORTS, RTE_CACHE_LINE_SIZE);
	if (dp.vlan_map)
		memset(dp.vlan_map, 0xff, sizeof(*dp.vlan_map) * DP_MAX_PORTS); /* DP_IFACE_NONE */
	memset(dp.subifs, 0, sizeof(dp.subifs));
	__atomic_store_n(&dp.addr_filter.set, dp.addr_sets[0], __ATOMIC_RELEASE);
	dp_addr_flags_compute(dp.addr_filter.src_head, dp.addr_filter.tail_head, dp.addr_sets[0]);
	if (!dp.nexthops || !dp.qsv || !dp.counters || !dp.workers || !dp.addr_sets[0] || !dp.addr_sets[1] ||
	    !dp.vlan_map) {
		release_all();
		return fail(err, errlen, ENOMEM, "out of hugepage memory for tables; reserve more hugepages");
	}
	for (uint32_t i = 0; i < c->max_nexthops; i++)
		dp.nexthops[i] = (uint64_t)DP_NH_DROP << 48;
	rte_rcu_qsbr_init(dp.qsv, c->n_workers);

	/* rte_lpm's tables (so workers use its inline lookups) written by dp_fib: rules in a hash,
	 * tbl8 groups reused only after an RCU grace period of the workers */
	dp.fib = dp_fib_create("dpfwd_fib", (int)rte_socket_id(), c->max_routes, c->tbl8_groups, dp.qsv,
			       err, errlen);
	if (!dp.fib) {
		char why[256];
		snprintf(why, sizeof(why), "%s", err);
		rc = fail(err, errlen, rte_errno ? rte_errno : ENOMEM,
			  "cannot create the FIB for %u routes and %u tbl8 groups (%s); reserve more hugepages or lower fib.maxRoutes",
			  c->max_routes, c->tbl8_groups, why);
		release_all();
		return rc;
	}
	dp.lpm = dp_fib_lpm(dp.fib);
	dp.max_routes = c->max_routes;
	dp.tbl8_groups = c->tbl8_groups;

	dp.n_workers = c->n_workers;
	uint64_t hz = rte_get_tsc_hz();
	for (unsigned i = 0; i < c->n_workers; i++) {
		struct worker *w = &dp.workers[i];
		char name[RTE_RING_NAMESIZE];
		w->id = (uint16_t)i;
		w->lcore = c->workers[i].lcore;
		w->ctr = dp.counters + (size_t)WORKER_STRIDE * i;
		w->n_rx = c->workers[i].n_rx;
		for (unsigned q = 0; q < w->n_rx; q++) {
			w->rx[q].port_idx = c->workers[i].rx[q].port;
			w->rx[q].queue = c->workers[i].rx[q].queue;
		}
		snprintf(name, sizeof(name), "dpfwd_punt%u", i);
		w->punt = rte_ring_create(name, c->punt_ring_size, (int)rte_socket_id(),
					  RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "dpfwd_inj%u", i);
		w->inject = rte_ring_create(name, 1024, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!w->punt || !w->inject) {
			rc = fail(err, errlen, rte_errno, "cannot create punt/inject rings: %s",
				  rte_strerror(rte_errno));
			release_all();
			return rc;
		}
		uint32_t rate = c->punt_rate ? c->punt_rate : 1;
		w->punt_cost = hz / rate ? hz / rate : 1;
		w->punt_cap = w->punt_cost * (c->punt_burst ? c->punt_burst : 1);
		w->punt_budget = w->punt_cap;
	}

	for (unsigned i = 0; i < c->n_ports; i++) {
		rc = port_setup(i, &c->ports[i], c->n_workers, err, errlen);
		if (rc != 0) {
			dp_kport_release(&dp.ports[i].kport);
			release_all();
			return rc;
		}
		dp.n_ports = (uint16_t)(i + 1);
	}
	dp.mtu_floor = 0xffff;
	for (unsigned i = 0; i < dp.n_ports; i++)
		if (dp.ports[i].mtu < dp.mtu_floor)
			dp.mtu_floor = dp.ports[i].mtu;
	for (unsigned i = 0; i < c->n_workers; i++)
		for (unsigned q = 0; q < dp.workers[i].n_rx; q++)
			dp.workers[i].rx[q].port_id = dp.ports[dp.workers[i].rx[q].port_idx].port_id;
	rc = kernel_rx_callbacks_add(err, errlen);
	if (rc != 0) {
		release_all();
		return rc;
	}

	dp.running = 1;
	return 0;
}

int
dp_launch(char *err, size_t errlen)
{
	if (!dp.running)
		return fail(err, errlen, EINVAL, "call dp_start first");
	if (dp.launched)
		return fail(err, errlen, EALREADY, "the workers are already running");
	dp.punt_drained_tsc = rte_rdtsc(); /* nothing waits yet: the clock starts at launch */
	atomic_store(&dp.punt_sleeping, 1); /* no consumer has drained yet: the first punt wakes it */
	for (unsigned i = 0; i < dp.n_workers; i++) {
		dp.workers[i].alive = 1;
		int rc = rte_eal_remote_launch(worker_main, &dp.workers[i], dp.workers[i].lcore);
		if (rc != 0) {
			dp.workers[i].alive = 0;
			atomic_store(&dp.stop, 1);
			rte_eal_mp_wait_lcore();
			return fail(err, errlen, rc, "cannot launch the worker on lcore %u: %s (is the lcore busy?)",
				    dp.workers[i].lcore, rte_strerror(-rc));
		}
	}
	dp.launched = 1;
	return 0;
}

int
dp_stop(void)
{
	if (!dp.running)
		return 0;
	atomic_store(&dp.stop, 1);
	if (dp.launched)
		rte_eal_mp_wait_lcore();
	dp.launched = 0;
	release_all();
	dp.running = 0;
	return 0;
}

/* ---- ports, pools ---- */

int
dp_port_info(uint16_t idx, struct dp_port_info *out)
{
	if (!dp.running || idx >= dp.n_ports)
		return -ENODEV;
	uint16_t pid = dp.ports[idx].port_id;
	struct rte_eth_dev_info info;
	struct rte_eth_link link;
	memset(out, 0, sizeof(*out));
	out->port_id = pid;
	memcpy(out->mac, dp.ports[idx].mac.addr_bytes, 6);
	if (rte_eth_dev_info_get(pid, &info) == 0) {
		snprintf(out->driver, sizeof(out->driver), "%s", info.driver_name);
		out->rx_queues = info.nb_rx_queues;
		out->tx_queues = info.nb_tx_queues;
	}
	out->mtu = dp.ports[idx].mtu;
	if (rte_eth_link_get_nowait(pid, &link) == 0) {
		out->link_up = link.link_status == RTE_ETH_LINK_UP;
		out->speed_mbps = link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed;
	}
	int s = rte_eth_dev_socket_id(pid);
	out->numa_node = s < 0 ? 0 : (uint16_t)s;
	return 0;
}

int
dp_port_stats(uint16_t idx, struct dp_port_stats *out)
{
	if (!dp.running || idx >= dp.n_ports)
		return -ENODEV;
	struct rte_eth_stats st;
	int rc = rte_eth_stats_get(dp.ports[idx].port_id, &st);
	if (rc != 0)
		return rc;
	out->ipackets = st.ipackets;
	out->opackets = st.opackets;
	out->ibytes = st.ibytes;
	out->obytes = st.obytes;
	out->ierrors = st.ierrors;
	out->oerrors = st.oerrors;
	out->imissed = st.imissed;
	out->rx_nombuf = st.rx_nombuf;
	return 0;
}

int
dp_mempool_info(struct dp_mempool_info *out)
{
	if (!dp.pool)
		return -ENODEV;
	out->size = dp.pool->size;
	out->available = rte_mempool_avail_count(dp.pool);
	out->in_use = rte_mempool_in_use_count(dp.pool);
	out->data_room = rte_pktmbuf_data_room_size(dp.pool);
	return 0;
}

/* ---- FIB and next hops (main thread only) ---- */

int
dp_fib_info(struct dp_fib_info *out)
{
	if (!dp.fib)
		return -ENODEV;
	out->max_routes = dp.max_routes;
	out->tbl8_groups = dp.tbl8_groups;
	out->max_nexthops = dp.max_nexthops;
	out->tbl8_used = dp_fib_tbl8_used(dp.fib);
	out->routes = dp_fib_rules(dp.fib);
	out->lookup_staged = dp.lpm_staged;
	return 0;
}

/*
 * With a few thousand routes the tbl24 entries the traffic touches stay in cache; with many
 * (an Internet table) each lookup is a cache miss, and the one-pass loop's dependent chain
 * (header -> tbl24 -> tbl8 -> next hop) leaves few misses in flight. Past this many routes the
 * workers switch to burst_staged, whose lookup pass overlaps them (1M routes, random
 * destinations: see README's Performance section for the measured difference).
 */
#define LPM_STAGED_ROUTES 16384

static void
lpm_mode_update(void)
{
	dp.lpm_staged = dp.fib && dp_fib_rules(dp.fib) >= LPM_STAGED_ROUTES;
}

int
dp_route_add(uint32_t ip, uint8_t depth, uint32_t nh)
{
	if (!dp.fib)
		return -ENODEV;
	if (depth > 32 || nh >= dp.max_nexthops)
		return -EINVAL;
	int rc = dp_fib_add(dp.fib, ip, depth, nh);
	lpm_mode_update();
	return rc;
}

int
dp_route_del(uint32_t ip, uint8_t depth)
{
	if (!dp.fib)
		return -ENODEV;
	if (depth > 32)
		return -EINVAL;
	int rc = dp_fib_delete(dp.fib, ip, depth);
	lpm_mode_update();
	return rc;
}

int
dp_route_add_bulk(const uint32_t *ips, const uint8_t *depths, const uint32_t *nhs, uint32_t n)
{
	if (!dp.fib)
		return -ENODEV;
	uint32_t valid = 0;
	while (valid < n && depths[valid] <= 32 && nhs[valid] < dp.max_nexthops)
		valid++;
	if (valid == 0)
		return n ? -EINVAL : 0;
	int rc = dp_fib_add_bulk(dp.fib, ips, depths, nhs, valid);
	lpm_mode_update();
	return rc;
}

int
dp_nexthop_set(uint32_t id, uint64_t word)
{
	if (!dp.nexthops)
		return -ENODEV;
	if (id >= dp.max_nexthops)
		return -EINVAL;
	unsigned iface = (unsigned)(word >> 48);
	if (iface < DP_NH_ACTION_MIN && iface >= dp.n_ports && (iface < DP_MAX_PORTS || iface >= DP_MAX_IFACES))
		return -ENODEV;
	__atomic_store_n(&dp.nexthops[id], word, __ATOMIC_RELEASE);
	return 0;
}

/* ---- VLAN sub-interfaces (main thread only; workers read the word and the map atomically) ---- */

int
dp_iface_set(uint16_t iface, uint16_t port, uint16_t vlan, uint16_t mtu)
{
	if (!dp.running || !dp.vlan_map)
		return -ENODEV;
	if (iface < DP_MAX_PORTS || iface >= DP_MAX_IFACES || vlan < 1 || vlan > 4094)
		return -EINVAL;
	if (port >= dp.n_ports)
		return -ENODEV;
	if (mtu < 68 || mtu > dp.ports[port].mtu)
		return -EINVAL;
	uint16_t cur = __atomic_load_n(&dp.vlan_map[port][vlan], __ATOMIC_RELAXED);
	if (cur != DP_IFACE_NONE && cur != iface)
		return -EEXIST;
	uint64_t old = dp.subifs[iface - DP_MAX_PORTS];
	if ((old & SUBIF_USED) && (SUBIF_PORT(old) != port || SUBIF_VLAN(old) != vlan))
		__atomic_store_n(&dp.vlan_map[SUBIF_PORT(old)][SUBIF_VLAN(old)], DP_IFACE_NONE, __ATOMIC_RELEASE);
	uint64_t w = SUBIF_USED | (uint64_t)port << 32 | (uint64_t)vlan << 16 | mtu;
	__atomic_store_n(&dp.subifs[iface - DP_MAX_PORTS], w, __ATOMIC_RELEASE);
	__atomic_store_n(&dp.vlan_map[port][vlan], iface, __ATOMIC_RELEASE);
	return 0;
}

int
dp_iface_del(uint16_t iface)
{
	if (!dp.running || !dp.vlan_map)
		return -ENODEV;
	if (iface < DP_MAX_PORTS || iface >= DP_MAX_IFACES)
		return -EINVAL;
	uint64_t old = dp.subifs[iface - DP_MAX_PORTS];
	if (!(old & SUBIF_USED))
		return -ENOENT;
	__atomic_store_n(&dp.vlan_map[SUBIF_PORT(old)][SUBIF_VLAN(old)], DP_IFACE_NONE, __ATOMIC_RELEASE);
	__atomic_store_n(&dp.subifs[iface - DP_MAX_PORTS], 0, __ATOMIC_RELEASE);
	return 0;
}

/* ---- source and broadcast rules (main thread only) ---- */

/*
 * Replaces the set while workers read it. Flags may only ever be a superset of what the
 * published set needs (a flag without an entry costs one exact test, never a wrong verdict):
 * 1. build the new set in the buffer no worker reads; 2. add its flags; 3. publish it and wait
 * for an RCU grace period (every worker passes a quiescent point once per loop), after which no
 * worker reads the old set; 4. drop the flags only the old set needed.
 */
int
dp_addr_filter_set(const uint32_t *addrs, const uint8_t *kinds, uint32_t n)
{
	if (!dp.addr_sets[0])
		return -ENODEV;
	if (n > DP_ADDR_SET_MAX)
		return -ENOSPC;
	for (uint32_t i = 0; i < n; i++)
		if (addrs[i] == 0 || kinds[i] < DP_ADDR_OWN || kinds[i] > DP_ADDR_NETWORK)
			return -EINVAL;
	const struct dp_addr_set *cur = __atomic_load_n(&dp.addr_filter.set, __ATOMIC_ACQUIRE);
	struct dp_addr_set *next = cur == dp.addr_sets[0] ? dp.addr_sets[1] : dp.addr_sets[0];
	memset(next, 0, sizeof(*next));
	for (uint32_t i = 0; i < n; i++) {
		int rc = dp_addr_set_add(next, addrs[i], kinds[i]);
		if (rc != 0)
			return rc;
	}
	uint8_t *src_head = malloc(256), *tail_head = malloc(65536);
	if (!src_head || !tail_head) {
		free(src_head);
		free(tail_head);
		return -ENOMEM;
	}
	dp_addr_flags_compute(src_head, tail_head, next);
	for (unsigned i = 0; i < 65536; i++) /* 2: only adds flags */
		if (tail_head[i])
			__atomic_store_n(&dp.addr_filter.tail_head[i], 1, __ATOMIC_RELAXED);
	__atomic_store_n(&dp.addr_filter.set, next, __ATOMIC_RELEASE); /* 3 */
	if (dp.launched)
		rte_rcu_qsbr_synchronize(dp.qsv, RTE_QSBR_THRID_INVALID);
	for (unsigned i = 0; i < 65536; i++) /* 4 */
		if (!tail_head[i])
			__atomic_store_n(&dp.addr_filter.tail_head[i], 0, __ATOMIC_RELAXED);
	free(src_head);
	free(tail_head);
	return 0;
}

/* ---- counters ---- */

uint64_t *
dp_counters(size_t *bytes, struct dp_counter_layout *l)
{
	if (!dp.counters)
		return NULL;
	*bytes = dp.counters_bytes;
	l->n_workers = dp.n_workers;
	l->n_ports = dp.n_ports;
	l->worker_stride = WORKER_STRIDE;
	l->worker_fields = DP_WCTR_MAX;
	l->port_base = PORT_BASE;
	l->port_stride = PORT_SLOTS;
	l->subif_base = SUBIF_BASE;
	l->n_subifs = DP_MAX_SUBIFS;
	l->punt_base = PUNT_BASE;
	l->n_drop_reasons = DP_DROP_MAX;
	l->n_punt_kinds = DP_PUNT_MAX;
	l->n_port_counters = DP_PCTR_MAX;
	return dp.counters;
}

/* ---- punt and inject ---- */

int dp_punt_fd(void) { return dp.efd; }

void
dp_punt_ack(void)
{
	eventfd_t v;
	if (dp.efd >= 0)
		(void)eventfd_read(dp.efd, &v);
}

void
dp_punt_kick(void)
{
	if (dp.efd >= 0)
		eventfd_write(dp.efd, 1);
}

int
dp_punt_sleep(void)
{
	if (!dp.running || !dp.workers)
		return 1;
	atomic_store_explicit(&dp.punt_sleeping, 1, memory_order_seq_cst); /* C1 */
	atomic_thread_fence(memory_order_seq_cst);                        /* C2 */
	for (unsigned k = 0; k < dp.n_workers; k++)                       /* C3 */
		if (!rte_ring_empty(dp.workers[k].punt)) {
			atomic_store_explicit(&dp.punt_sleeping, 0, memory_order_relaxed);
			return 0;
		}
	return 1;
}

unsigned
dp_punt_drain(struct dp_punted *out, unsigned max)
{
	unsigned n = 0;
	if (!dp.running)
		return 0;
	dp.punt_drained_tsc = rte_rdtsc();
	for (unsigned k = 0; k < dp.n_workers && n < max; k++) {
		struct worker *w = &dp.workers[(dp.drain_rr + k) % dp.n_workers];
		struct rte_mbuf *m;
		while (n < max && rte_ring_sc_dequeue(w->punt, (void **)&m) == 0) {
			out[n].iface = m->hash.usr & 0xffff;
			out[n].port = (m->hash.usr >> 16) & 0xff;
			out[n].kind = m->hash.usr >> 24;
			out[n].len = rte_pktmbuf_data_len(m);
			out[n].data = rte_pktmbuf_mtod(m, const uint8_t *);
			out[n].mbuf = m;
			n++;
		}
	}
	dp.drain_rr++;
	return n;
}

int
dp_punt_status(unsigned worker, struct dp_punt_status *out)
{
	if (!dp.running || !dp.workers)
		return -ENODEV;
	if (worker >= dp.n_workers)
		return -EINVAL;
	struct rte_ring *r = dp.workers[worker].punt;
	out->waiting = rte_ring_count(r);
	out->capacity = rte_ring_get_capacity(r);
	uint64_t now = rte_rdtsc();
	uint64_t d = now > dp.punt_drained_tsc ? now - dp.punt_drained_tsc : 0;
	out->since_drain_us = (uint64_t)((double)d * 1e6 / (double)rte_get_tsc_hz());
	return 0;
}

void
dp_punt_release(struct dp_punted *p)
{
	if (p->mbuf)
		rte_pktmbuf_free(p->mbuf);
	p->mbuf = NULL;
}

int
dp_inject(uint16_t iface, const void *frame, uint32_t len)
{
	if (!dp.running)
		return -ENODEV;
	unsigned port, vlan = 0, mtu;
	if (iface < dp.n_ports) {
		port = iface;
		mtu = dp.ports[port].mtu;
	} else if (iface >= DP_MAX_PORTS && iface < DP_MAX_IFACES && (subif_word(iface) & SUBIF_USED)) {
		uint64_t sw = subif_word(iface);
		port = SUBIF_PORT(sw);
		vlan = SUBIF_VLAN(sw);
		mtu = SUBIF_MTU(sw);
	} else {
		return -EINVAL;
	}
	if (len < RTE_ETHER_HDR_LEN || len > mtu + RTE_ETHER_HDR_LEN)
		return -EMSGSIZE;
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp.pool);
	if (!m)
		return -ENOBUFS;
	uint32_t tag = vlan ? RTE_VLAN_HLEN : 0;
	uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(len + tag));
	if (!d) {
		rte_pktmbuf_free(m);
		return -EMSGSIZE;
	}
	if (vlan) {
		/* MAC addresses, then the 802.1Q tag, then the frame's EtherType and payload */
		memcpy(d, frame, 2 * RTE_ETHER_ADDR_LEN);
		d[12] = RTE_ETHER_TYPE_VLAN >> 8;
		d[13] = RTE_ETHER_TYPE_VLAN & 0xff;
		d[14] = (uint8_t)(vlan >> 8);
		d[15] = (uint8_t)vlan;
		memcpy(d + 16, (const uint8_t *)frame + 12, len - 12);
	} else {
		memcpy(d, frame, len);
	}
	m->hash.usr = port;
	struct worker *w = &dp.workers[dp.inject_rr++ % dp.n_workers];
	if (rte_ring_sp_enqueue(w->inject, m) != 0) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	return 0;
}
