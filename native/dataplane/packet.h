/*
 * Pure per-packet functions of the fast path: RFC 1812 checks and the forwarding rewrite.
 * No state, no EAL: the fuzz harness (native/fuzz) compiles them without DPDK's runtime.
 */
#ifndef DPFWD_PACKET_H
#define DPFWD_PACKET_H

#include <stdint.h>
#include <string.h>
#include <rte_byteorder.h>
#include <rte_branch_prediction.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "drop_reasons.h"

enum dp_drop {
#define DP_X(name, help) DP_DROP_##name,
	DP_DROP_REASONS(DP_X)
#undef DP_X
	DP_DROP_MAX
};
#define DP_VERDICT_FORWARD DP_DROP_MAX /* "no drop": the packet may go on to the FIB lookup */

enum dp_punt {
#define DP_X(name, help) DP_PUNT_##name,
	DP_PUNT_KINDS(DP_X)
#undef DP_X
	DP_PUNT_MAX
};

/* 2-byte aligned view for header words: the IP header sits 14 bytes into the frame. */
typedef uint32_t dp_u32_a2 __attribute__((aligned(2), may_alias));
typedef uint16_t dp_u16_a2 __attribute__((aligned(2), may_alias));

/* Ones'-complement sum of an IPv4 header, folded to 16 bits. 0xFFFF means the checksum verifies. */
static inline uint16_t
dp_ip4_hdr_sum(const void *hdr, uint32_t hlen)
{
	const dp_u32_a2 *w = (const dp_u32_a2 *)hdr;
	uint64_t s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
	for (uint32_t i = 5; unlikely(i < hlen / 4); i++)
		s += w[i];
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	return (uint16_t)s;
}

/* Addresses a router must not forward (RFC 1812 5.3.7, 4.2.2.11): host order in, nonzero = martian. */
static inline int
dp_ip4_martian(uint32_t src, uint32_t dst)
{
	uint8_t s8 = src >> 24, d8 = dst >> 24;
	return d8 >= 224 || d8 == 127 || d8 == 0 || s8 >= 224 || s8 == 127 || s8 == 0;
}

/*
 * RFC 1812 checks in order. `l3_len` is the bytes of the frame after the Ethernet header.
 * Returns DP_VERDICT_FORWARD or the one drop reason. TTL expiry is reported, not acted on.
 */
static inline unsigned
dp_ip4_check(const struct rte_ipv4_hdr *ip, uint32_t l3_len)
{
	if (unlikely(l3_len < sizeof(struct rte_ipv4_hdr)))
		return DP_DROP_truncated;
	uint8_t vihl = ip->version_ihl;
	uint32_t hlen = 20;
	if (unlikely(vihl != 0x45)) {
		if ((vihl >> 4) != 4)
			return DP_DROP_bad_version;
		hlen = (uint32_t)(vihl & 0xf) * 4;
		if (hlen < 20 || hlen > l3_len)
			return DP_DROP_bad_header_length;
	}
	uint32_t tot = rte_be_to_cpu_16(ip->total_length);
	if (unlikely(tot < hlen || tot > l3_len))
		return DP_DROP_bad_total_length;
	if (unlikely(dp_ip4_hdr_sum(ip, hlen) != 0xffff))
		return DP_DROP_bad_checksum;
	if (unlikely(dp_ip4_martian(rte_be_to_cpu_32(ip->src_addr), rte_be_to_cpu_32(ip->dst_addr))))
		return DP_DROP_martian_address;
	if (unlikely(ip->time_to_live <= 1))
		return DP_DROP_ttl_expired;
	return DP_VERDICT_FORWARD;
}

/*
 * TTL - 1 with the RFC 1624 (eqn. 3) incremental update: HC' = ~(~HC + ~m + m').
 * The TTL is the high byte of its 16-bit word, so ~m + m' = 0xFEFF (in network order);
 * one end-around carry fold suffices because ~HC + 0xFEFF < 0x20000.
 */
static inline void
dp_ip4_ttl_dec(struct rte_ipv4_hdr *ip)
{
	ip->time_to_live--;
	uint32_t sum = (uint32_t)(uint16_t)~rte_be_to_cpu_16(ip->hdr_checksum) + 0xfeffu;
	sum = (sum & 0xffffu) + (sum >> 16);
	ip->hdr_checksum = rte_cpu_to_be_16((uint16_t)~sum);
}

/*
 * Next-hop word: bits 0-47 destination MAC in wire order (byte 0 in bits 0-7), bits 48-63 the
 * egress port index, or an action >= DP_NH_ACTION_MIN. For GLEAN and UNRESOLVED the low 16 bits
 * carry the egress port index so the control plane knows where to send the ARP request.
 */
#define DP_NH_ACTION_MIN  0xfff0u
#define DP_NH_UNRESOLVED  0xfffcu /* gateway's MAC unknown */
#define DP_NH_GLEAN       0xfffdu /* connected subnet: resolve the destination itself */
#define DP_NH_LOCAL       0xfffeu /* an address of the router: deliver to the control plane */
#define DP_NH_DROP        0xffffu /* blackhole or unset */

static inline uint64_t
dp_nh_word(uint16_t port_or_action, const uint8_t mac[6])
{
	uint64_t w = (uint64_t)port_or_action << 48;
	for (int i = 0; i < 6; i++)
		w |= (uint64_t)mac[i] << (8 * i);
	return w;
}

/* Ethernet rewrite: destination from the next-hop word, source = egress port's MAC. */
static inline void
dp_eth_rewrite(struct rte_ether_hdr *eth, uint64_t nh_word, const struct rte_ether_addr *src)
{
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	memcpy(eth->dst_addr.addr_bytes, &nh_word, 6);
#else
	for (int i = 0; i < 6; i++)
		eth->dst_addr.addr_bytes[i] = (uint8_t)(nh_word >> (8 * i));
#endif
	eth->src_addr = *src;
}

#endif
