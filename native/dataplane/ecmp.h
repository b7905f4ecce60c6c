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
void dp_ecmp_nominal(const uint32_t *prev, const uint32_t *nhs, const uint16_t *weights, unsigned n,
		     uint8_t *owner);

/*
 * The bucket table workers read (next-hop ids): a bucket whose owner is live keeps it; the
 * buckets of a dead owner go to the live member with the highest weighted rendezvous score for
 * (bucket, member), so a member's death or return moves only its own buckets and the choice
 * for a bucket does not depend on which other members are dead. No live member: the owners.
 */
void dp_ecmp_effective(const uint8_t *owner, const uint32_t *nhs, const uint16_t *weights,
		       const uint8_t *live, unsigned n, uint32_t *bucket);

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
	if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == 132 /* SCTP */ || proto == 136 /* UDP-Lite */) &&
	    !(ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) &&
	    rte_be_to_cpu_16(ip->total_length) >= ihl + 4)
		memcpy(&ports, (const uint8_t *)ip + ihl, 4);
	uint64_t h = ((uint64_t)ip->src_addr << 32 | ip->dst_addr) ^ ((uint64_t)ports << 8 | proto) * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(dp_mix64(h) >> 32);
}

/* The bucket of a flow hash. */
static inline unsigned
dp_ecmp_bucket(uint32_t hash)
{
	return (unsigned)(((uint64_t)hash * DP_GROUP_BUCKETS) >> 32);
}

#endif
