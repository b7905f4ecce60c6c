/*
 * Control-plane I/O: draining the workers' punt rings (with the wake-up protocol of
 * punt_wake in worker.c) and injecting frames through their inject rings.
 */
#define _GNU_SOURCE
#include "dp_internal.h"

/* ---- punt and inject ---- */

int
dp_punt_fd(void)
{
	return dp.efd;
}

void
dp_link_multicast_set(int on)
{
	dp.link_multicast = on ? 1 : 0;
}

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
	atomic_thread_fence(memory_order_seq_cst); /* C2 */
	for (unsigned k = 0; k < dp.n_workers; k++) /* C3 */
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
