/*
 * ECMP next-hop groups: the pure parts (bucket fill, flow hash), no state and no EAL, so
 * test_ecmp.c drives them without DPDK's runtime. The groups themselves live in ecmp.c.
 */
#ifndef DPFWD_ECMP_H
#define DPFWD_ECMP_H

#include <stdint.h>
#include <string.h>
#include <rte_byteorder.h>
#include <rte_ip.h>

#include "dataplane.h"

#define DP_ECMP_NONE 0xffu /* an owner slot of no member (a group being filled afresh) */

/*
 * Buckets per member, in proportion to the weights (largest remainder, ties to the first
 * member), at least 1 each: target[i] for n members (1..DP_GROUP_MAX_MEMBERS). Sums to
 * DP_GROUP_BUCKETS.
 */
void dp_ecmp_targets(const uint16_t *weights, unsigned n, uint16_t *target);

/*
 * The nominal owner (member index) of every bucket for members nhs/weights, moving as few
 * buckets as possible from the previous owners `prev` (next-hop ids, or NULL for a fresh fill):
 * a bucket keeps its owner while that member is still in the group and under its target; the
 * rest go, in bucket order, to the member furthest below its target (a smooth weighted round
 * robin, so a fresh fill interleaves the members).
 */
void dp_ecmp_nominal(const uint32_t *prev, const uint32_t *nhs, const uint16_t *weights, unsigned n, uint8_t *owner);

/*
 * The bucket table workers read (next-hop ids): a bucket whose owner is live keeps it; the
 * buckets of a dead owner go to the live member with the highest weighted rendezvous score for
 * (bucket, member), so a member's death or return moves only its own buckets and the choice
 * for a bucket does not depend on which other members are dead. No live member: the owners.
 */
void dp_ecmp_effective(const uint8_t *owner, const uint32_t *nhs, const uint16_t *weights, const uint8_t *live,
	unsigned n, uint32_t *bucket);

/* A 64-bit mix (murmur3's fmix64). */
static inline uint64_t
dp_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/*
 * The flow hash from its parts: `sd` the 8 bytes of source and destination address as stored
 * (one load), `ports` the 4 bytes after the IPv4 header as stored (0 when they are not ports),
 * the protocol. Two multiplies: a bucket is the top bits (dp_ecmp_bucket), which every input bit
 * reaches. Cheap enough for the fast path to compute inline (issue 23: ECMP at little extra cost).
 */
static inline uint32_t
dp_flow_hash_parts(uint64_t sd, uint32_t ports, uint8_t proto)
{
	uint64_t h = (sd ^ (((uint64_t)ports << 8 | proto) * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
	return (uint32_t)(h >> 32);
}

/* TCP, UDP, SCTP, UDP-Lite: the protocols whose first 4 bytes are the two ports. */
static inline int
dp_flow_has_ports(uint8_t proto)
{
	/* one bit per protocol number: 6, 17, 132 (SCTP), 136 (UDP-Lite) */
	static const uint64_t l4[4] = {
		1ull << IPPROTO_TCP | 1ull << IPPROTO_UDP, 0, 1ull << (132 - 128) | 1ull << (136 - 128), 0};
	return (int)(l4[proto >> 6] >> (proto & 63) & 1);
}

/*
 * The flow hash of an IPv4 packet whose total length the caller checked against the frame:
 * source and destination address, protocol, and for TCP, UDP, SCTP and UDP-Lite the two L4
 * ports (not for fragments: a later fragment has none, so a flow's fragments stay together).
 */
static inline uint32_t
dp_flow_hash(const struct rte_ipv4_hdr *ip)
{
	uint32_t ihl = (uint32_t)(ip->version_ihl & 0x0f) * 4;
	uint8_t proto = ip->next_proto_id;
	uint32_t ports = 0;
	if (dp_flow_has_ports(proto) &&
		!(ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) &&
		rte_be_to_cpu_16(ip->total_length) >= ihl + 4)
		memcpy(&ports, (const uint8_t *)ip + ihl, 4);
	uint64_t sd;
	memcpy(&sd, &ip->src_addr, 8);
	return dp_flow_hash_parts(sd, ports, proto);
}

/*
 * dp_flow_hash of a header without options (IHL 5), as the fast path has it: the same value,
 * without branches. Reads the 4 bytes after the header whatever the packet holds (the caller
 * guarantees they are readable: an mbuf's data room) and keeps them only when they are ports.
 */
static inline uint32_t
dp_flow_hash_ihl5(const struct rte_ipv4_hdr *ip)
{
	uint8_t proto = ip->next_proto_id;
	uint32_t ports;
	memcpy(&ports, ip + 1, 4);
	uint32_t keep = (uint32_t)dp_flow_has_ports(proto) &
		(uint32_t) !(ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) &
		(uint32_t)(rte_be_to_cpu_16(ip->total_length) >= sizeof(*ip) + 4);
	uint64_t sd;
	memcpy(&sd, &ip->src_addr, 8);
	return dp_flow_hash_parts(sd, ports & -keep, proto);
}

/* The bucket of a flow hash. */
static inline unsigned
dp_ecmp_bucket(uint32_t hash)
{
	return (unsigned)(((uint64_t)hash * DP_GROUP_BUCKETS) >> 32);
}

#endif
