/*
 * Seeing packets: capture (copies at RX, TX and the drop point into per-worker rings) and trace
 * (what the exact path did with the next N packets). Everything here runs either on the main
 * thread (start, stop, drain, read) or on a worker's slow path (callbacks installed only while a
 * capture runs, the drop helpers, traced packets); the fast path's only cost is the per-burst
 * test of dp.observe in process_burst (worker.c).
 *
 * Lifetimes: the main thread publishes dp.cap / dp.trace and the dp.observe bits, and on stop
 * clears them, removes the ethdev callbacks and waits with rte_rcu_qsbr_synchronize (workers
 * report quiescence once per loop, outside every hook) before it frees what a worker might still
 * hold. Filters: libpcap compiles the tcpdump expression to classic BPF, rte_bpf_convert turns it
 * into eBPF, rte_bpf runs it (JIT when the platform has one) on the mbuf, as dpdk-pdump does.
 */
#define _GNU_SOURCE
#include "dp_internal.h"

#include <time.h>
#include <pcap/pcap.h>
#include <rte_bpf.h>
#include <rte_ring_peek.h>

/* ---- filters ---- */

struct dp_filter {
	struct rte_bpf *bpf;
	struct rte_bpf_jit jit;
};

static int
filter_compile(const char *expr, struct dp_filter *f, char *err, size_t errlen)
{
	memset(f, 0, sizeof(*f));
	if (expr == NULL || expr[0] == '\0')
		return 0;
	if (strlen(expr) > DP_FILTER_MAX)
		return dp_fail(err, errlen, EINVAL, "the filter is longer than %u characters", DP_FILTER_MAX);
	pcap_t *p = pcap_open_dead(DLT_EN10MB, (int)DP_CAP_SNAPLEN_MAX);
	if (p == NULL)
		return dp_fail(err, errlen, ENOMEM, "libpcap could not open a dead handle to compile the filter");
	struct bpf_program prog;
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		int rc = dp_fail(err, errlen, EINVAL, "filter \"%s\": %s (tcpdump's syntax, see pcap-filter(7))", expr,
			pcap_geterr(p));
		pcap_close(p);
		return rc;
	}
	struct rte_bpf_prm *prm = rte_bpf_convert(&prog);
	pcap_freecode(&prog);
	pcap_close(p);
	if (prm == NULL)
		return dp_fail(err, errlen, rte_errno ? rte_errno : EINVAL,
			"filter \"%s\": DPDK cannot convert it to eBPF (%s)", expr, rte_strerror(rte_errno));
	f->bpf = rte_bpf_load(prm);
	rte_free(prm);
	if (f->bpf == NULL)
		return dp_fail(err, errlen, rte_errno ? rte_errno : EINVAL,
			"filter \"%s\": DPDK's BPF verifier refused it (%s)", expr, rte_strerror(rte_errno));
	if (rte_bpf_get_jit(f->bpf, &f->jit) != 0)
		f->jit.func = NULL;
	return 0;
}

static void
filter_free(struct dp_filter *f)
{
	if (f->bpf)
		rte_bpf_destroy(f->bpf);
	memset(f, 0, sizeof(*f));
}

/* 1 when the packet matches (or there is no filter). */
static inline int
filter_match(const struct dp_filter *f, struct rte_mbuf *m)
{
	if (f->bpf == NULL)
		return 1;
	return (f->jit.func ? f->jit.func(m) : rte_bpf_exec(f->bpf, m)) != 0;
}

/* ---- time: the workers stamp TSC, readers get CLOCK_REALTIME ns ---- */

struct tsc_clock {
	uint64_t tsc0, ns0, hz;
};

static void
clock_init(struct tsc_clock *c)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	c->tsc0 = rte_rdtsc();
	c->ns0 = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	c->hz = rte_get_tsc_hz();
}

static uint64_t
clock_ns(const struct tsc_clock *c, uint64_t tsc)
{
	uint64_t d = tsc > c->tsc0 ? tsc - c->tsc0 : 0;
	return c->ns0 + (uint64_t)((double)d * 1e9 / (double)c->hz);
}

static struct worker *
worker_of(const uint64_t *pc)
{
	return &dp.workers[(size_t)(pc - dp.counters) / WORKER_STRIDE];
}

static unsigned
iface_of(const struct worker *w, const uint64_t *pc)
{
	return (unsigned)((size_t)(pc - w->ctr - PORT_BASE) / PORT_SLOTS);
}

/* ---- capture ---- */

/* What a copy carries in its mbuf's private area. */
struct cap_meta {
	uint64_t tsc;
	uint32_t orig_len;
	uint16_t port, iface;
	uint8_t where, reason;
};

struct cap_cb {
	struct worker *w;
	uint16_t port_idx;
	uint16_t port_id, queue;
	uint8_t rx;
	const struct rte_eth_rxtx_callback *cb;
};

struct dp_capture {
	struct dp_capture_conf conf; /* filter pointer not kept */
	struct dp_filter filter;
	struct rte_mempool *pool;
	struct rte_ring *ring[DP_MAX_WORKERS];
	struct tsc_clock clock;
	unsigned n_cbs;
	struct cap_cb cbs[DP_MAX_WORKERS * (DP_MAX_RXQ_PER_WORKER + DP_MAX_PORTS)];
};

/*
 * On worker w: copies of those of pkts[0..nb) the filter takes, into its ring with one enqueue;
 * what does not fit is capture_dropped. The ring's free space is read first, so a reader that
 * cannot keep up costs the worker a counter increment per packet, not a copy.
 */
static void
cap_copy_burst(const struct dp_capture *c, struct worker *w, struct rte_mbuf **pkts, unsigned nb, unsigned port,
	unsigned iface, unsigned where, unsigned reason)
{
	struct rte_ring *r = c->ring[w->id];
	struct rte_mbuf *x[DP_BURST];
	uint64_t tsc = 0;
	for (unsigned at = 0; at < nb; at += DP_BURST) {
		unsigned n = RTE_MIN(nb - at, (unsigned)DP_BURST), k = 0, lost = 0;
		unsigned space = rte_ring_free_count(r);
		for (unsigned j = 0; j < n; j++) {
			struct rte_mbuf *m = pkts[at + j];
			if (!filter_match(&c->filter, m))
				continue;
			if (k >= space) {
				lost++;
				continue;
			}
			if (tsc == 0)
				tsc = rte_rdtsc(); /* once per burst, and only when something is copied */
			struct rte_mbuf *y = rte_pktmbuf_copy(m, c->pool, 0, c->conf.snaplen);
			if (unlikely(y == NULL)) {
				lost++;
				continue;
			}
			struct cap_meta *meta = rte_mbuf_to_priv(y);
			meta->tsc = tsc;
			meta->orig_len = rte_pktmbuf_pkt_len(m);
			meta->port = (uint16_t)port;
			meta->iface = (uint16_t)iface;
			meta->where = (uint8_t)where;
			meta->reason = (uint8_t)reason;
			x[k++] = y;
		}
		unsigned put = k ? rte_ring_sp_enqueue_burst(r, (void **)x, k, NULL) : 0;
		if (unlikely(put < k)) {
			rte_pktmbuf_free_bulk(&x[put], k - put);
			lost += k - put;
		}
		w->ctr[DP_WCTR_captured] += put;
		w->ctr[DP_WCTR_capture_dropped] += lost;
	}
}

static uint16_t
cap_rx_cb(uint16_t port_id, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb, uint16_t max, void *arg)
{
	(void)port_id;
	(void)queue;
	(void)max;
	const struct cap_cb *cb = arg;
	const struct dp_capture *c = __atomic_load_n(&dp.cap, __ATOMIC_ACQUIRE);
	if (c != NULL && nb != 0)
		cap_copy_burst(c, cb->w, pkts, nb, cb->port_idx, cb->port_idx, DP_CAP_RX, DP_CAP_ANY_REASON);
	return nb;
}

static uint16_t
cap_tx_cb(uint16_t port_id, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb, void *arg)
{
	(void)port_id;
	(void)queue;
	const struct cap_cb *cb = arg;
	const struct dp_capture *c = __atomic_load_n(&dp.cap, __ATOMIC_ACQUIRE);
	if (c != NULL && nb != 0)
		cap_copy_burst(c, cb->w, pkts, nb, cb->port_idx, cb->port_idx, DP_CAP_TX, DP_CAP_ANY_REASON);
	return nb;
}

static void
cap_free(struct dp_capture *c)
{
	for (unsigned i = 0; i < DP_MAX_WORKERS; i++) {
		struct rte_mbuf *m;
		while (c->ring[i] && rte_ring_sc_dequeue(c->ring[i], (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(c->ring[i]);
	}
	rte_mempool_free(c->pool);
	filter_free(&c->filter);
	rte_free(c);
}

static void
cap_remove_callbacks(struct dp_capture *c)
{
	for (unsigned i = 0; i < c->n_cbs; i++) {
		struct cap_cb *cb = &c->cbs[i];
		int rc = cb->rx ? rte_eth_remove_rx_callback(cb->port_id, cb->queue, cb->cb)
				: rte_eth_remove_tx_callback(cb->port_id, cb->queue, cb->cb);
		if (rc != 0)
			cb->cb = NULL; /* not ours to free */
	}
}

static void
cap_free_callbacks(struct dp_capture *c)
{
	/* after rte_rcu_qsbr_synchronize: no worker is inside one; ethdev leaves freeing to us */
	for (unsigned i = 0; i < c->n_cbs; i++)
		if (c->cbs[i].cb)
			rte_free((void *)(uintptr_t)c->cbs[i].cb);
	c->n_cbs = 0;
}

static void
quiesce(void)
{
	if (dp.launched && dp.qsv)
		rte_rcu_qsbr_synchronize(dp.qsv, RTE_QSBR_THRID_INVALID);
}

int
dp_capture_active(void)
{
	return dp.cap != NULL;
}

int
dp_capture_start(const struct dp_capture_conf *conf, char *err, size_t errlen)
{
	if (!dp.running || !dp.workers)
		return dp_fail(err, errlen, ENODEV, "the dataplane is not running");
	if (dp.cap != NULL)
		return dp_fail(
			err, errlen, EBUSY, "a capture is running already; stop it first (one capture at a time)");
	if (conf->where == 0 || (conf->where & ~(DP_CAP_RX | DP_CAP_TX | DP_CAP_DROP)))
		return dp_fail(err, errlen, EINVAL, "capture points must be some of rx, tx, drop");
	if (conf->snaplen == 0 || conf->snaplen > DP_CAP_SNAPLEN_MAX)
		return dp_fail(
			err, errlen, EINVAL, "snap length %u is not in 1..%u", conf->snaplen, DP_CAP_SNAPLEN_MAX);
	if (conf->ring_size < 2 || conf->ring_size > DP_CAP_RING_MAX || (conf->ring_size & (conf->ring_size - 1)))
		return dp_fail(err, errlen, EINVAL, "capture ring size %u is not a power of two in 2..%u",
			conf->ring_size, DP_CAP_RING_MAX);
	if (conf->reason != DP_CAP_ANY_REASON && conf->reason >= DP_DROP_MAX)
		return dp_fail(err, errlen, EINVAL, "drop reason %u does not exist", conf->reason);
	if (conf->mbufs < 64)
		return dp_fail(err, errlen, EINVAL, "the capture pool needs at least 64 mbufs, not %u", conf->mbufs);
	struct dp_capture *c = rte_zmalloc("dpfwd_capture", sizeof(*c), RTE_CACHE_LINE_SIZE);
	if (c == NULL)
		return dp_fail(err, errlen, ENOMEM, "no memory for the capture state (hugepages)");
	c->conf = *conf;
	c->conf.filter = NULL;
	int rc = filter_compile(conf->filter, &c->filter, err, errlen);
	if (rc != 0) {
		rte_free(c);
		return rc;
	}
	/* its own pool: a capture can never take the mbufs forwarding needs */
	c->pool = rte_pktmbuf_pool_create("dpfwd_cap", conf->mbufs, RTE_MIN(256u, conf->mbufs / 8),
		(uint16_t)RTE_ALIGN(sizeof(struct cap_meta), RTE_MBUF_PRIV_ALIGN), RTE_MBUF_DEFAULT_BUF_SIZE,
		(int)rte_socket_id());
	if (c->pool == NULL) {
		rc = dp_fail(err, errlen, ENOMEM,
			"cannot create the capture pool of %u mbufs (%s): free hugepages or lower capture.mbufs",
			conf->mbufs, rte_strerror(rte_errno));
		cap_free(c);
		return rc;
	}
	for (unsigned i = 0; i < dp.n_workers; i++) {
		char name[RTE_RING_NAMESIZE];
		snprintf(name, sizeof(name), "dpfwd_cap%u", i);
		c->ring[i] =
			rte_ring_create(name, conf->ring_size, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (c->ring[i] == NULL) {
			rc = dp_fail(err, errlen, ENOMEM, "cannot create capture ring %s (%s)", name,
				rte_strerror(rte_errno));
			cap_free(c);
			return rc;
		}
	}
	clock_init(&c->clock);
	__atomic_store_n(&dp.cap, c, __ATOMIC_RELEASE);
	/* RX: first callback on each polled queue of a chosen port (before checksum completion);
	 * TX: on every worker's queue of each chosen port */
	for (unsigned i = 0; i < dp.n_workers; i++) {
		struct worker *w = &dp.workers[i];
		if (conf->where & DP_CAP_RX)
			for (unsigned q = 0; q < w->n_rx; q++) {
				if (!(conf->ports & (1u << w->rx[q].port_idx)))
					continue;
				struct cap_cb *cb = &c->cbs[c->n_cbs];
				*cb = (struct cap_cb){w, w->rx[q].port_idx, w->rx[q].port_id, w->rx[q].queue, 1, NULL};
				cb->cb = rte_eth_add_first_rx_callback(cb->port_id, cb->queue, cap_rx_cb, cb);
				if (cb->cb == NULL)
					goto fail_cb;
				c->n_cbs++;
			}
		if (conf->where & DP_CAP_TX)
			for (unsigned p = 0; p < dp.n_ports; p++) {
				if (!(conf->ports & (1u << p)))
					continue;
				struct cap_cb *cb = &c->cbs[c->n_cbs];
				*cb = (struct cap_cb){w, (uint16_t)p, dp.ports[p].port_id, w->id, 0, NULL};
				cb->cb = rte_eth_add_tx_callback(cb->port_id, cb->queue, cap_tx_cb, cb);
				if (cb->cb == NULL)
					goto fail_cb;
				c->n_cbs++;
			}
	}
	if (conf->where & DP_CAP_DROP)
		__atomic_fetch_or(&dp.observe, DP_OBS_DROP, __ATOMIC_RELEASE);
	return 0;
fail_cb:
	rc = dp_fail(err, errlen, rte_errno ? rte_errno : ENOTSUP,
		"cannot add a capture callback on port %u queue %u (%s)", c->cbs[c->n_cbs].port_id,
		c->cbs[c->n_cbs].queue, rte_strerror(rte_errno));
	dp_capture_stop();
	return rc;
}

int
dp_capture_stop(void)
{
	struct dp_capture *c = dp.cap;
	if (c == NULL)
		return 0;
	__atomic_fetch_and(&dp.observe, ~DP_OBS_DROP, __ATOMIC_RELEASE);
	__atomic_store_n(&dp.cap, NULL, __ATOMIC_RELEASE);
	cap_remove_callbacks(c);
	quiesce();
	cap_free_callbacks(c);
	cap_free(c);
	return 0;
}

size_t
dp_capture_drain(uint8_t *buf, size_t cap, unsigned *n)
{
	struct dp_capture *c = dp.cap;
	size_t used = 0;
	*n = 0;
	if (c == NULL)
		return 0;
	for (unsigned k = 0; k < dp.n_workers; k++) {
		struct rte_ring *r = c->ring[k];
		struct rte_mbuf *m;
		for (;;) {
			/* peek the size first: a record that does not fit stays for the next drain */
			if (rte_ring_dequeue_bulk_start(r, (void **)&m, 1, NULL) == 0)
				break;
			uint32_t len = rte_pktmbuf_pkt_len(m);
			size_t need = sizeof(struct dp_captured) + ((len + 7u) & ~7u);
			if (used + need > cap) {
				rte_ring_dequeue_finish(r, 0);
				return used;
			}
			rte_ring_dequeue_finish(r, 1);
			const struct cap_meta *meta = rte_mbuf_to_priv(m);
			struct dp_captured *h = (struct dp_captured *)(buf + used);
			memset(h, 0, sizeof(*h));
			h->ts_ns = clock_ns(&c->clock, meta->tsc);
			h->orig_len = meta->orig_len;
			h->cap_len = len;
			h->port = meta->port;
			h->iface = meta->iface;
			h->worker = (uint16_t)k;
			h->where = meta->where;
			h->reason = meta->reason;
			uint8_t *d = buf + used + sizeof(*h);
			const void *src = rte_pktmbuf_read(m, 0, len, d);
			if (src != d)
				memcpy(d, src, len);
			memset(d + len, 0, ((len + 7u) & ~7u) - len);
			used += need;
			(*n)++;
			rte_pktmbuf_free(m);
		}
	}
	return used;
}

/* ---- trace ---- */

struct trace_buf {
	uint32_t n; /* records finished: written by the worker (release), read by main */
	struct dp_trace_rec *rec;
};

struct dp_trace {
	struct dp_filter filter;
	uint32_t count; /* records per worker buffer */
	int32_t left; /* packets still to trace, all workers (atomic) */
	struct tsc_clock clock;
	struct trace_buf buf[DP_MAX_WORKERS];
};

static void
trace_free(struct dp_trace *t)
{
	for (unsigned i = 0; i < DP_MAX_WORKERS; i++)
		rte_free(t->buf[i].rec);
	filter_free(&t->filter);
	rte_free(t);
}

int
dp_trace_active(void)
{
	return dp.trace != NULL;
}

int
dp_trace_start(uint32_t count, const char *filter, char *err, size_t errlen)
{
	if (!dp.running || !dp.workers)
		return dp_fail(err, errlen, ENODEV, "the dataplane is not running");
	if (dp.trace != NULL)
		return dp_fail(err, errlen, EBUSY, "a trace is running already; stop it first (one trace at a time)");
	if (count == 0 || count > DP_TRACE_MAX)
		return dp_fail(err, errlen, EINVAL, "trace count %u is not in 1..%u", count, DP_TRACE_MAX);
	struct dp_trace *t = rte_zmalloc("dpfwd_trace", sizeof(*t), RTE_CACHE_LINE_SIZE);
	if (t == NULL)
		return dp_fail(err, errlen, ENOMEM, "no memory for the trace state (hugepages)");
	int rc = filter_compile(filter, &t->filter, err, errlen);
	if (rc != 0) {
		rte_free(t);
		return rc;
	}
	t->count = count;
	t->left = (int32_t)count;
	for (unsigned i = 0; i < dp.n_workers; i++) {
		t->buf[i].rec =
			rte_zmalloc("dpfwd_trace_buf", sizeof(struct dp_trace_rec) * count, RTE_CACHE_LINE_SIZE);
		if (t->buf[i].rec == NULL) {
			trace_free(t);
			return dp_fail(err, errlen, ENOMEM, "no memory for %u trace records (hugepages)", count);
		}
	}
	clock_init(&t->clock);
	__atomic_store_n(&dp.trace, t, __ATOMIC_RELEASE);
	__atomic_fetch_or(&dp.observe, DP_OBS_TRACE, __ATOMIC_RELEASE);
	__atomic_fetch_or(&dp.loop_mode, DP_LOOP_TRACE, __ATOMIC_RELEASE);
	return 0;
}

int
dp_trace_stop(void)
{
	struct dp_trace *t = dp.trace;
	if (t == NULL)
		return 0;
	__atomic_fetch_and(&dp.loop_mode, ~DP_LOOP_TRACE, __ATOMIC_RELEASE);
	__atomic_fetch_and(&dp.observe, ~DP_OBS_TRACE, __ATOMIC_RELEASE);
	__atomic_store_n(&dp.trace, NULL, __ATOMIC_RELEASE);
	quiesce();
	trace_free(t);
	return 0;
}

uint32_t
dp_trace_left(void)
{
	struct dp_trace *t = dp.trace;
	if (t == NULL)
		return 0;
	int32_t l = __atomic_load_n(&t->left, __ATOMIC_RELAXED);
	return l > 0 ? (uint32_t)l : 0;
}

unsigned
dp_trace_read(struct dp_trace_rec *out, unsigned max)
{
	struct dp_trace *t = dp.trace;
	unsigned n = 0;
	if (t == NULL)
		return 0;
	for (unsigned k = 0; k < dp.n_workers && n < max; k++) {
		uint32_t done = __atomic_load_n(&t->buf[k].n, __ATOMIC_ACQUIRE);
		for (uint32_t i = 0; i < done && n < max; i++) {
			out[n] = t->buf[k].rec[i];
			out[n].ts_ns = clock_ns(&t->clock, t->buf[k].rec[i].ts_ns);
			n++;
		}
	}
	return n;
}

int
dp_trace_take(struct worker *w, struct rte_mbuf *m, unsigned port_idx, unsigned queue)
{
	struct dp_trace *t = __atomic_load_n(&dp.trace, __ATOMIC_ACQUIRE);
	if (t == NULL || __atomic_load_n(&t->left, __ATOMIC_RELAXED) <= 0)
		return 0;
	struct trace_buf *b = &t->buf[w->id];
	if (b->n >= t->count || !filter_match(&t->filter, m))
		return 0;
	if (__atomic_fetch_sub(&t->left, 1, __ATOMIC_RELAXED) <= 0)
		return 0;
	struct dp_trace_rec *r = &b->rec[b->n];
	memset(r, 0, offsetof(struct dp_trace_rec, data));
	r->ts_ns = rte_rdtsc(); /* converted by dp_trace_read */
	r->worker = w->id;
	r->port = (uint16_t)port_idx;
	r->queue = (uint16_t)queue;
	r->iface = (uint16_t)port_idx;
	r->len = rte_pktmbuf_pkt_len(m);
	r->check = 0xff;
	r->out = -1;
	r->reason = 0xff;
	r->punt = 0xff;
	r->snap = RTE_MIN(rte_pktmbuf_data_len(m), DP_TRACE_SNAP);
	memcpy(r->data, rte_pktmbuf_mtod(m, const void *), r->snap);
	r->fast_ok = (uint8_t)dp_ip4_fast_ok_l2(rte_pktmbuf_mtod(m, const struct rte_ether_hdr *),
		rte_pktmbuf_data_len(m), dp.mtu_floor, &dp.addr_filter,
		dp_l2_fast_ok(rte_pktmbuf_mtod(m, const void *), dp.l2_key[port_idx]));
	w->tr_of = t;
	w->tr = r;
	return 1;
}

void
dp_trace_done(struct worker *w, int out)
{
	struct dp_trace_rec *r = w->tr;
	struct dp_trace *t = w->tr_of; /* not dp.trace, which a stop may have cleared: the memory
					 * stays until this worker passes quiescence */
	w->tr = NULL;
	if (out >= 0) {
		r->out = out;
		r->result = DP_TRACE_FORWARDED;
	} else if (r->result == 0) {
		/* sent from inside exact_path (a VLAN tag pushed or fragmented): the word's egress */
		r->result = DP_TRACE_FORWARDED;
		unsigned o = (unsigned)(r->word >> 48);
		r->out = o < DP_MAX_IFACES ? (int32_t)iface_port(o) : -1;
	}
	struct trace_buf *b = &t->buf[w->id];
	__atomic_store_n(&b->n, b->n + 1, __ATOMIC_RELEASE);
}

/* ---- the hooks ---- */

void
dp_trace_check(struct worker *w, const uint64_t *pc, unsigned verdict)
{
	w->tr->check = (uint8_t)verdict;
	w->tr->iface = (uint16_t)iface_of(w, pc);
}

void
dp_trace_lpm(struct worker *w, int found, uint32_t nh, uint64_t word)
{
	w->tr->lpm = found ? 1 : 2;
	w->tr->nh = nh;
	w->tr->word = word;
}

void
dp_obs_drop(uint64_t *pc, struct rte_mbuf *m, unsigned reason)
{
	struct worker *w = worker_of(pc);
	unsigned iface = iface_of(w, pc);
	struct dp_trace_rec *r = w->tr;
	if (r != NULL) {
		r->result = DP_TRACE_DROPPED;
		r->reason = (uint8_t)reason;
		r->iface = (uint16_t)iface;
	}
	const struct dp_capture *c = __atomic_load_n(&dp.cap, __ATOMIC_ACQUIRE);
	if (c == NULL || !(c->conf.where & DP_CAP_DROP))
		return;
	unsigned port = iface < DP_MAX_PORTS ? iface : iface_port(iface);
	if (!(c->conf.ports & (1u << port)))
		return;
	if (c->conf.reason != DP_CAP_ANY_REASON && c->conf.reason != reason)
		return;
	cap_copy_burst(c, w, &m, 1, port, iface, DP_CAP_DROP, reason);
}

void
dp_obs_punt(struct worker *w, unsigned kind, int taken)
{
	struct dp_trace_rec *r = w->tr;
	if (r == NULL)
		return;
	r->punt = (uint8_t)kind;
	r->punt_taken = (uint8_t)taken;
	if (r->result == 0 && taken)
		r->result = DP_TRACE_PUNTED;
}

void
dp_observe_release(void)
{
	dp_capture_stop();
	dp_trace_stop();
}
