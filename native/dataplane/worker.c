/*
 * The worker loop: RX bursts, the fast path (one test, inline LPM, next-hop word, rewrite),
 * the exact path for everything else (RFC 1812 checks with reasons, punts, VLAN tags, fragmenting),
 * TX buffering and the inject ring.
 */
#define _GNU_SOURCE
#include "dp_internal.h"

#include <sys/prctl.h>
#include <time.h>

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
		if (unlikely(dp_observe() & DP_OBS_DROP))
			for (uint16_t k = sent; k < n; k++)
				dp_obs_drop(w->ctr + PORT_BASE + p * PORT_SLOTS, pkts[k], DP_DROP_tx_full);
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
	unsigned tb = kind == DP_PUNT_arp;
	uint64_t now = rte_rdtsc();
	uint64_t b = w->punt_budget[tb] + (now - w->punt_last[tb]);
	w->punt_last[tb] = now;
	if (b > w->punt_cap)
		b = w->punt_cap;
	if (b < w->punt_cost || w->punt == NULL) {
		w->punt_budget[tb] = b;
		ctr_add(w->ctr, PUNT_BASE + 2 * kind + 1, 1);
		if (unlikely(w->tr != NULL))
			dp_obs_punt(w, kind, 0);
		return 0;
	}
	w->punt_budget[tb] = b - w->punt_cost;
	m->hash.usr = (kind << 24) | (iface_port(port_idx) << 16) | port_idx;
	if (unlikely(w->tr != NULL))
		dp_obs_punt(w, kind, 1); /* before the enqueue: the consumer owns m after it */
	if (rte_ring_sp_enqueue(w->punt, m) != 0) {
		ctr_add(w->ctr, PUNT_BASE + 2 * kind + 1, 1);
		if (unlikely(w->tr != NULL))
			dp_obs_punt(w, kind, 0);
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
	if (unlikely(dp_observe()))
		dp_obs_drop(pc, m, reason); /* capture at the drop point, trace */
	rte_pktmbuf_free(m);
}

/* A drop that also asks the control plane for an ICMP error or a resolution. */
static inline void
drop_punt(struct worker *w, uint64_t *pc, struct rte_mbuf *m, unsigned port_idx, unsigned reason, unsigned kind)
{
	pc[1 + reason]++;
	if (unlikely(dp_observe()))
		dp_obs_drop(pc, m, reason);
	if (!punt(w, m, port_idx, kind))
		rte_pktmbuf_free(m);
}

/* A connected subnet's broadcast or network address (RFC 2644: not forwarded). Only packets
 * that reach a glean or unresolved next hop ask, so forwarded traffic never pays for it. */
static int
dst_is_subnet_broadcast(const struct rte_ipv4_hdr *ip)
{
	unsigned k =
		dp_addr_kind(__atomic_load_n(&dp.addr_filter.set, __ATOMIC_ACQUIRE), rte_be_to_cpu_32(ip->dst_addr));
	return k == DP_ADDR_BROADCAST || k == DP_ADDR_NETWORK;
}

/* The destination is one of the router's addresses (its route is local). Slow path only. */
static int
dst_is_local(const struct rte_ipv4_hdr *ip)
{
	uint32_t nh;
	return rte_lpm_lookup(dp.lpm, rte_be_to_cpu_32(ip->dst_addr), &nh) == 0 &&
		(unsigned)(__atomic_load_n(&dp.nexthops[nh], __ATOMIC_RELAXED) >> 48) == DP_NH_LOCAL;
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

/* An egress: physical port, 802.1Q VID to push (0: none) and MTU. */
struct egress {
	unsigned port;
	unsigned vlan;
	unsigned mtu;
};

/* What exact_path returns when it consumed the packet and put frames of its own (fragments, a
 * frame that came tagged) on the worker's late list with tx_late: keep() queues them after the
 * burst's packets forwarded before it (they wait in a list), so a flow leaves in the order it
 * came. */
#define DP_OUT_LATE (-2)

static inline void
tx_late(struct worker *w, unsigned port, struct rte_mbuf *m)
{
	w->late_port[w->n_late] = (uint8_t)port;
	w->late[w->n_late++] = m;
}

/* Writes the Ethernet header (and the egress interface's tag) in front of an IPv4 header at
 * d + dp_l2_len(vlan). */
static inline void
l2_write(uint8_t *d, uint64_t word, const struct egress *eg)
{
	if (eg->vlan)
		dp_eth_rewrite_vlan(d, word, dp.src_et[eg->port], (uint16_t)eg->vlan);
	else
		dp_eth_rewrite((struct rte_ether_hdr *)d, word, dp.src_et[eg->port]);
}

/* RFC 791 3.1: options without the copy flag stay in the first fragment only; in the others they
 * become NOPs (as Linux's ip_options_fragment does), so every fragment has the same header
 * length. `opt` holds `len` option bytes; a malformed option ends the walk (left as it is). */
static void
options_for_later_fragments(uint8_t *opt, uint32_t len)
{
	for (uint32_t k = 0; k < len;) {
		if (opt[k] == 0) /* end of option list */
			return;
		if (opt[k] == 1) { /* NOP */
			k++;
			continue;
		}
		if (k + 1 >= len || opt[k + 1] < 2 || opt[k + 1] > len - k)
			return;
		uint32_t olen = opt[k + 1];
		if (!(opt[k] & 0x80))
			memset(opt + k, 1, olen);
		k += olen;
	}
}

/*
 * Fragmentation (RFC 791 3.2; RFC 1812 4.2.2.7, 5.2.6), off the fast path: a datagram without DF
 * longer than the egress interface's MTU (`eg`; `out` its interface index) leaves as fragments of
 * it, copied into new mbufs. A fragment is fragmented again (its offset and MF carried on); the
 * first fragment keeps every option, the others the copied ones. Datagrams af_packet's socket
 * made the kernel reassemble (PACKET_FANOUT_FLAG_DEFRAG, not configurable in DPDK 22.11) arrive
 * longer than the ingress MTU and take the same path, also counted as `refragmented` on the
 * ingress interface. The datagram counts as forwarded on the ingress interface and `fragmented`
 * on the egress; frag_failed when it needs more than DP_FRAG_MAX fragments, the MTU leaves no
 * room after the header, the mbuf is chained or the pool is empty.
 */
static __rte_noinline void
fragment(struct worker *w, uint64_t *pc, struct rte_mbuf *m, unsigned in_idx, unsigned out, const struct egress *eg,
	uint64_t word)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	uint32_t hlen = (uint32_t)(ip->version_ihl & 0xf) * 4;
	uint32_t tot = rte_be_to_cpu_16(ip->total_length);
	uint32_t chunk = eg->mtu >= hlen + 8 ? (eg->mtu - hlen) & ~7u : 0;
	uint32_t plen = tot - hlen;
	uint32_t n = chunk ? (plen + chunk - 1) / chunk : 0;
	uint32_t l2 = dp_l2_len(eg->vlan);
	struct rte_mbuf *f[DP_FRAG_MAX];
	if (m->nb_segs != 1 || n == 0 || n > DP_FRAG_MAX || rte_pktmbuf_alloc_bulk(dp.pool, f, n) != 0) {
		drop(pc, m, DP_DROP_frag_failed);
		return;
	}
	if (l2 + hlen + chunk > rte_pktmbuf_tailroom(f[0])) { /* a tag pushed onto a frame that filled its mbuf */
		rte_pktmbuf_free_bulk(f, n);
		drop(pc, m, DP_DROP_frag_failed);
		return;
	}
	uint16_t fo = rte_be_to_cpu_16(ip->fragment_offset);
	uint32_t off0 = (uint32_t)(fo & RTE_IPV4_HDR_OFFSET_MASK) * 8; /* it may be a fragment itself */
	uint16_t mf0 = fo & RTE_IPV4_HDR_MF_FLAG;
	ip->time_to_live--;
	uint8_t later[60]; /* the header of every fragment but the first */
	memcpy(later, ip, hlen);
	options_for_later_fragments(later + sizeof(*ip), hlen - (uint32_t)sizeof(*ip));
	const uint8_t *payload = (const uint8_t *)ip + hlen;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t len = i + 1 < n ? chunk : plen - i * chunk;
		uint8_t *d = (uint8_t *)rte_pktmbuf_append(f[i], (uint16_t)(l2 + hlen + len));
		memcpy(d + l2, i == 0 ? (const uint8_t *)ip : later, hlen);
		memcpy(d + l2 + hlen, payload + i * chunk, len);
		struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)(d + l2);
		h->total_length = rte_cpu_to_be_16((uint16_t)(hlen + len));
		h->fragment_offset = rte_cpu_to_be_16(
			(uint16_t)(((off0 + i * chunk) / 8) | (i + 1 < n ? RTE_IPV4_HDR_MF_FLAG : mf0)));
		h->hdr_checksum = 0;
		h->hdr_checksum = (uint16_t)~dp_ip4_hdr_sum(h, hlen);
		l2_write(d, word, eg);
		tx_late(w, eg->port, f[i]);
	}
	rte_pktmbuf_free(m);
	pc[0]++;
	w->ctr[PORT_BASE + out * PORT_SLOTS + PORT_CTR(fragmented)]++;
	if (dp.ports[in_idx].rx_cut_len != 0 && tot > dp.ports[in_idx].mtu)
		pc[PORT_CTR(refragmented)]++;
}

/*
 * An 802.1Q-tagged frame on port `port`: the interface its VID maps to (VID 0, a priority tag:
 * the port's untagged interface), with the tag stripped, or DP_IFACE_NONE (not stripped) when
 * the port has no sub-interface for the VID. The caller checked the frame holds a tag.
 */
static inline unsigned
vlan_strip(struct rte_mbuf *m, unsigned port)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	unsigned vid = dp_vlan_vid(f);
	unsigned iface = port;
	if (vid != 0) {
		iface = __atomic_load_n(&dp.vlan_map[port][vid], __ATOMIC_ACQUIRE);
		if (iface == DP_IFACE_NONE)
			return iface;
	}
	dp_vlan_pop(f);
	rte_pktmbuf_adj(m, RTE_VLAN_HLEN);
	return iface;
}

/*
 * Everything the fast test in process_burst refuses, one packet at a time, in the order of the
 * RFC 1812 checks: drops and punts with their reasons, IP options, packets above the smallest
 * port MTU, 802.1Q tags on ingress (the packet continues on the VID's sub-interface, counted
 * there, and is sent from here) and sub-interfaces on egress (tag pushed). Returns the egress
 * port with the packet rewritten, or -1 when it was consumed (DP_OUT_LATE: consumed, and frames
 * of its own sent to the late list).
 */
static __rte_noinline int
exact_path(struct worker *w, uint64_t *pc, struct rte_mbuf *m, unsigned in_idx)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	uint32_t len = rte_pktmbuf_data_len(m);
	unsigned iface = in_idx; /* the ingress interface: punts carry it, counters are its */
	int tagged = 0;
	if (len < sizeof(*eth)) {
		drop(pc, m, DP_DROP_truncated);
		return -1;
	}
	/* the port's MAC (its sub-interfaces share it), broadcast or multicast: else not ours */
	unsigned l2 = dp_eth_dst_class(eth, dp.mac_key[in_idx]);
	if (l2 == DP_L2_OTHER) {
		drop(pc, m, DP_DROP_not_for_us);
		return -1;
	}
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_VLAN)) {
		if (len < sizeof(*eth) + RTE_VLAN_HLEN) {
			drop(pc, m, DP_DROP_truncated);
			return -1;
		}
		iface = vlan_strip(m, in_idx);
		if (iface == DP_IFACE_NONE) {
			drop(pc, m, DP_DROP_unknown_vlan); /* on the port's untagged interface */
			return -1;
		}
		pc = w->ctr + PORT_BASE + iface * PORT_SLOTS;
		eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		len -= RTE_VLAN_HLEN;
		tagged = 1;
	}
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
		if (!punt(w, m, iface, DP_PUNT_arp))
			drop(pc, m, DP_DROP_punt_ratelimited);
		return -1;
	}
	if (eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
		drop(pc, m, DP_DROP_not_ipv4);
		return -1;
	}
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	unsigned v = dp_ip4_check(ip, len - sizeof(*eth));
	if (unlikely(w->tr != NULL))
		dp_trace_check(w, pc, v);
	if (v == DP_VERDICT_FORWARD || v == DP_DROP_ttl_expired) {
		/* a source the router must not forward from: dropped before any ICMP error to it */
		unsigned vs = dp_ip4_check_src(&dp.addr_filter, ip);
		if (unlikely(vs != DP_VERDICT_FORWARD)) {
			drop(pc, m, vs);
			return -1;
		}
	}
	if (l2 == DP_L2_GROUP && (v == DP_VERDICT_FORWARD || v == DP_DROP_ttl_expired) && !dst_is_local(ip)) {
		/* RFC 1812 5.3.4: received as a link-layer broadcast or multicast and sent to a unicast
		 * address not the router's: not forwarded, and no ICMP error about it (4.3.2.7) */
		drop(pc, m, DP_DROP_link_broadcast);
		return -1;
	}
	if (v == DP_DROP_ttl_expired) {
		if (unlikely(dst_is_subnet_broadcast(ip))) {
			/* RFC 1812 4.3.2.7: no ICMP error about a datagram sent to a broadcast */
			drop(pc, m, DP_DROP_directed_broadcast);
			return -1;
		}
		/* RFC 1812 5.2.1/5.3.1: TTL limits forwarding only; a datagram for the router itself
		 * is received whatever its TTL (eBGP and OSPF send TTL 1) */
		if (dst_is_local(ip)) {
			if (!punt(w, m, iface, DP_PUNT_local))
				drop(pc, m, DP_DROP_punt_ratelimited);
			return -1;
		}
		drop_punt(w, pc, m, iface, v, DP_PUNT_ttl_expired);
		return -1;
	}
	if (v == DP_DROP_martian_address && dp.link_multicast &&
		(rte_be_to_cpu_32(ip->dst_addr) & 0xffffff00u) == 0xe0000000u &&
		!dp_ip4_martian(rte_be_to_cpu_32(ip->src_addr), 0x01000000u) &&
		dp_ip4_check_src(&dp.addr_filter, ip) == DP_VERDICT_FORWARD) {
		/* link-local multicast (OSPF hellos, VRRP) goes up to the mirrors, never forwarded
		 * (RFC 5771 4); only while mirrors run, else a martian drop as before */
		if (!punt(w, m, iface, DP_PUNT_link_multicast))
			drop(pc, m, DP_DROP_punt_ratelimited);
		return -1;
	}
	if (v != DP_VERDICT_FORWARD) {
		/* rx_cut_len is the frame the PMD delivered, tag included */
		drop(pc, m,
			v == DP_DROP_bad_total_length ? rx_cut_reason(in_idx, len + (tagged ? RTE_VLAN_HLEN : 0), ip)
						      : v);
		return -1;
	}
	uint32_t nh;
	if (rte_lpm_lookup(dp.lpm, rte_be_to_cpu_32(ip->dst_addr), &nh) != 0) {
		if (unlikely(w->tr != NULL))
			dp_trace_lpm(w, 0, 0, 0);
		drop_punt(w, pc, m, iface, DP_DROP_no_route, DP_PUNT_no_route);
		return -1;
	}
	uint64_t word = __atomic_load_n(&dp.nexthops[nh], __ATOMIC_RELAXED);
	if (unlikely(w->tr != NULL))
		dp_trace_lpm(w, 1, nh, word);
	unsigned out = (unsigned)(word >> 48);
	if (out == DP_NH_GROUP) { /* ECMP: the member's word (a member is never a group) */
		word = group_word(dp.nexthops, word, ip);
		out = (unsigned)(word >> 48);
	}
	struct egress eg = {out, 0, 0};
	switch (out) {
	case DP_NH_LOCAL:
		if (!punt(w, m, iface, DP_PUNT_local))
			drop(pc, m, DP_DROP_punt_ratelimited);
		return -1;
	case DP_NH_GLEAN:
	case DP_NH_UNRESOLVED:
		if (unlikely(dst_is_subnet_broadcast(ip))) {
			drop(pc, m, DP_DROP_directed_broadcast); /* never ARP, never an ICMP error */
			return -1;
		}
		drop_punt(w, pc, m, iface, DP_DROP_neighbor_unresolved, DP_PUNT_unresolved);
		return -1;
	default:
		if (out < DP_MAX_PORTS) {
			eg.mtu = dp.ports[out].mtu;
			break;
		}
		uint64_t sw = out < DP_MAX_IFACES ? subif_word(out) : 0;
		if (!(sw & SUBIF_USED)) {
			drop(pc, m, DP_DROP_blackhole); /* an action or a deleted sub-interface */
			return -1;
		}
		eg.port = SUBIF_PORT(sw);
		eg.vlan = SUBIF_VLAN(sw);
		eg.mtu = SUBIF_MTU(sw);
	}
	if (rte_be_to_cpu_16(ip->total_length) > eg.mtu) {
		if (!(ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG))) {
			fragment(w, pc, m, in_idx, out, &eg, word);
			return DP_OUT_LATE;
		}
		/* RFC 1191: the control plane answers with the egress interface's MTU */
		drop_punt(w, pc, m, iface, DP_DROP_mtu_exceeded, DP_PUNT_mtu_exceeded);
		return -1;
	}
	dp_ip4_ttl_dec(ip);
	if (eg.vlan) {
		uint8_t *d = (uint8_t *)rte_pktmbuf_prepend(m, RTE_VLAN_HLEN);
		if (unlikely(d == NULL)) {
			drop(pc, m, DP_DROP_tx_full); /* no PMD dpfwd drives leaves under 4 bytes of headroom */
			return -1;
		}
		l2_write(d, word, &eg);
	} else {
		dp_eth_rewrite(eth, word, dp.src_et[eg.port]);
	}
	if (tagged) {
		/* counted and sent here: the burst's forwarded list counts on the port's interface */
		pc[0]++;
		tx_late(w, eg.port, m);
		return DP_OUT_LATE;
	}
	return (int)eg.port;
}

/* What the per-packet fast path reads from the dataplane: copied into locals once per burst. */
struct fast_ctx {
	const struct rte_lpm *lpm;
	const uint64_t *nexthops;
	const struct dp_group *groups;
	uint32_t mtu_floor;
	dp_l2_key l2; /* the receiving port's MAC, EtherType IPv4, IHL 5 (dp_l2_fast_ok) */
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
	const uint32_t *t = (const uint32_t *)(const void *)&lpm
				    ->tbl8[(uint8_t)dst + (e24 & 0x00ffffffu) * RTE_LPM_TBL8_GROUP_NUM_ENTRIES];
	return *t;
}

/*
 * ECMP on the fast path, inline: the member the packet's flow hash picks (dp_flow_hash_ihl5:
 * the fast path's headers have no options; exact_path's dp_flow_hash gives the same value, so
 * both pick the same member), then the same rewrite as forward_to. A member that is an action
 * or a sub-interface takes exact_path. Its own tail, so forward_to's path for a single next hop
 * is the same code as without groups.
 */
static __rte_always_inline int
forward_group(struct worker *w, uint64_t *pc, struct rte_mbuf *m, unsigned in_idx, const struct fast_ctx *c,
	struct rte_ether_hdr *eth, uint64_t word)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	word = group_pick(c->groups, c->nexthops, word, dp_flow_hash_ihl5(ip));
	unsigned out = (unsigned)(word >> 48);
	if (unlikely(out >= DP_MAX_PORTS))
		return exact_path(w, pc, m, in_idx);
	dp_ip4_ttl_dec(ip);
	dp_eth_rewrite(eth, word, dp.src_et[out]);
	return (int)out;
}

/*
 * The end of the fast path for a checked packet (Ethernet header `eth`) and its LPM entry `e`,
 * a route found (the caller tested RTE_LPM_LOOKUP_SUCCESS): the next-hop word, TTL and checksum,
 * two 8-byte stores for the Ethernet header. A group word (ECMP) goes to forward_group, behind
 * the action test (a single next hop pays nothing for it), an action (local, glean, unresolved,
 * drop) to exact_path. Returns the egress port or their verdict.
 */
static __rte_always_inline int
forward_to(struct worker *w, uint64_t *pc, struct rte_mbuf *m, unsigned in_idx, const struct fast_ctx *c,
	struct rte_ether_hdr *eth, uint32_t e)
{
	uint64_t word = __atomic_load_n(&c->nexthops[e & 0x00ffffffu], __ATOMIC_RELAXED);
	unsigned out = (unsigned)(word >> 48);
	if (unlikely(out >= DP_MAX_PORTS))
		return out == DP_NH_GROUP ? forward_group(w, pc, m, in_idx, c, eth, word)
					  : exact_path(w, pc, m, in_idx);
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
forward_one(struct worker *w, uint64_t *pc, struct rte_mbuf *m, unsigned in_idx, const struct fast_ctx *c)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	if (unlikely(!dp_ip4_fast_ok_l2(
		    eth, rte_pktmbuf_data_len(m), c->mtu_floor, &dp.addr_filter, dp_l2_fast_ok(eth, c->l2))))
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

/* The exact path sent frames itself (tx_late): the burst's `nf` packets forwarded before them go
 * to their TX buffers first (counted here, not in process_burst), then those frames. Returns the
 * list's new length, 0 (by value: a burst loop's count stays in a register). */
static __rte_noinline unsigned
send_late(struct worker *w, uint64_t *pc, struct rte_mbuf **fw, const uint8_t *outs, unsigned nf)
{
	for (unsigned k = 0; k < nf; k++)
		tx_enqueue(w, outs[k], fw[k]);
	pc[0] += nf;
	for (unsigned k = 0; k < w->n_late; k++)
		tx_enqueue(w, w->late_port[k], w->late[k]);
	w->n_late = 0;
	return 0;
}

/* Appends a packet forward_one or exact_path kept (out >= 0) to the burst's forwarded list; after
 * one it consumed, sends what it sent itself in order (forwarded packets never pay for this). */
static __rte_always_inline void
keep(struct worker *w, uint64_t *pc, struct rte_mbuf **fw, uint8_t *outs, unsigned *nf, struct rte_mbuf *m, int out)
{
	if (out < 0) {
		if (unlikely(out == DP_OUT_LATE))
			*nf = send_late(w, pc, fw, outs, *nf);
		return;
	}
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
		keep(w, pc, fw, outs, &nf, pkts[j], forward_one(w, pc, pkts[j], in_idx, c));
	}
	for (; j < nb; j++)
		keep(w, pc, fw, outs, &nf, pkts[j], forward_one(w, pc, pkts[j], in_idx, c));
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
		slow |= (uint32_t)!dp_ip4_fast_ok_l2(eth, rte_pktmbuf_data_len(pkts[j]), c->mtu_floor, &dp.addr_filter,
				dp_l2_fast_ok(eth, c->l2))
			<< j;
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
		keep(w, pc, fw, outs, &nf, m,
			likely(ok) ? forward_to(w, pc, m, in_idx, c, rte_pktmbuf_mtod(m, struct rte_ether_hdr *), e[j])
				   : exact_path(w, pc, m, in_idx));
	}
	return nf;
}

/*
 * While a trace runs (capture.c): each packet the trace takes (its filter, its count) goes
 * through exact_path with w->tr set, so the record is what the exact path did to this packet;
 * the others take the usual path. Same verdicts, same order.
 */
static __rte_noinline unsigned
burst_traced(struct worker *w, uint64_t *pc, unsigned in_idx, unsigned queue, struct rte_mbuf **pkts, uint16_t nb,
	const struct fast_ctx *c, struct rte_mbuf **fw, uint8_t *outs)
{
	unsigned nf = 0;
	for (unsigned j = 0; j < nb; j++) {
		struct rte_mbuf *m = pkts[j];
		int out;
		if (dp_trace_take(w, m, in_idx, queue)) {
			out = exact_path(w, pc, m, in_idx);
			dp_trace_done(w, out);
		} else {
			out = forward_one(w, pc, m, in_idx, c);
		}
		keep(w, pc, fw, outs, &nf, m, out);
	}
	return nf;
}

/* The list goes to the TX queue in one call when it all leaves by one port (the usual case). */
static void
process_burst(struct worker *w, unsigned in_idx, unsigned queue, struct rte_mbuf **pkts, uint16_t nb)
{
	uint64_t *pc = w->ctr + PORT_BASE + in_idx * PORT_SLOTS;
	struct rte_mbuf *fw[DP_BURST];
	uint8_t outs[DP_BURST];
	/* Locals, not globals: the stores into packets may alias anything, and the compiler would
	 * otherwise reload these on every packet. */
	const struct fast_ctx c = {dp.lpm, dp.nexthops, dp.groups, dp.mtu_floor, dp.l2_key[in_idx]};
	/* one test per burst for the staged loop and a trace (capture.c): a trace costs nothing more while off */
	uint32_t mode = dp.loop_mode;
	unsigned nf = likely(mode == 0)	 ? burst_one_pass(w, pc, in_idx, pkts, nb, &c, fw, outs)
		: (mode & DP_LOOP_TRACE) ? burst_traced(w, pc, in_idx, queue, pkts, nb, &c, fw, outs)
					 : burst_staged(w, pc, in_idx, pkts, nb, &c, fw, outs);
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

/*
 * Idle back-off (workers[].idle: sleep). After DP_IDLE_POLLS loops in a row found every queue
 * empty, the worker sleeps between polls: DP_IDLE_FIRST_NS first, doubling per empty loop up to
 * w->idle_max_ns; a loop that receives anything starts over at full rate. No CPU here has
 * MONITORX/UMWAIT (rte_power_monitor) and the virtual PMDs have no RX interrupts, so it is a
 * timed sleep (timer slack 1 us, set at start). Asleep the worker is offline for RCU QSBR: route
 * updates wait for no sleeper. Before it sleeps the loop has flushed TX, woken the punt consumer
 * and drained inject, so a sleep delays inject and the stop flag by at most one sleep.
 */
#define DP_IDLE_POLLS 256
#define DP_IDLE_FIRST_NS 8000u

static __rte_noinline uint32_t
idle_sleep(struct worker *w, uint32_t ns)
{
	uint64_t t0 = rte_rdtsc();
	rte_rcu_qsbr_thread_offline(dp.qsv, w->id);
	struct timespec ts = {0, (long)ns};
	nanosleep(&ts, NULL);
	rte_rcu_qsbr_thread_online(dp.qsv, w->id);
	ctr_add(w->ctr, DP_WCTR_sleep_cycles, rte_rdtsc() - t0);
	ctr_add(w->ctr, DP_WCTR_sleeps, 1);
	return ns * 2 < w->idle_max_ns ? ns * 2 : w->idle_max_ns;
}

int
dp_worker_main(void *arg)
{
	struct worker *w = arg;
	struct rte_mbuf *pkts[DP_BURST];

	if (rte_rcu_qsbr_thread_register(dp.qsv, w->id) != 0) {
		w->alive = 0;
		return -EINVAL;
	}
	rte_rcu_qsbr_thread_online(dp.qsv, w->id);
	if (w->idle_max_ns)
		prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0); /* this thread's sleeps end within 1 us of asked */
	w->punt_last[0] = w->punt_last[1] = rte_rdtsc();
	uint64_t prev = rte_rdtsc();
	unsigned empty = 0; /* loops in a row that received nothing */
	uint32_t nap = DP_IDLE_FIRST_NS;

	while (!atomic_load_explicit(&dp.stop, memory_order_relaxed)) {
		unsigned got = 0;
		for (unsigned i = 0; i < w->n_rx; i++) {
			uint16_t nb = rte_eth_rx_burst(w->rx[i].port_id, w->rx[i].queue, pkts, DP_BURST);
			if (nb == 0)
				continue;
			got += nb;
			ctr_add(w->ctr, DP_WCTR_rx_bursts, 1);
			ctr_add(w->ctr, DP_WCTR_rx_packets, nb);
			process_burst(w, w->rx[i].port_idx, w->rx[i].queue, pkts, nb);
		}
		if (unlikely(!rte_ring_empty(w->inject)))
			drain_inject(w);
		if (w->dirty)
			tx_flush(w);
		if (unlikely(w->punt_signal))
			punt_wake(w);
		rte_rcu_qsbr_quiescent(dp.qsv, w->id);
		if (likely(got)) {
			empty = 0;
			nap = DP_IDLE_FIRST_NS;
		} else if (w->idle_max_ns && ++empty >= DP_IDLE_POLLS) {
			empty = DP_IDLE_POLLS;
			nap = idle_sleep(w, nap < w->idle_max_ns ? nap : w->idle_max_ns);
		}
		uint64_t now = rte_rdtsc(); /* a sleep counts in idle_cycles too */
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
