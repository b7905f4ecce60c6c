/*
 * ECMP bucket fill and flow hash (ecmp_fill.c, ecmp.h) without DPDK's runtime: proportions of
 * weights, resilience (a member leaving or coming back moves only its own buckets, a member
 * removed from the set likewise), and the spread of 200 UDP flows. Prints one line per check
 * and "N checks, F failures"; exits 1 on any failure.
 */
#include "ecmp.h"

#include <stdio.h>
#include <stdlib.h>

static unsigned checks, failures;

#define CHECK(cond, ...) \
	do { \
		checks++; \
		if (!(cond)) { \
			failures++; \
			printf("FAIL %s:%d: ", __FILE__, __LINE__); \
			printf(__VA_ARGS__); \
			printf("\n"); \
		} \
	} while (0)

#define B DP_GROUP_BUCKETS

static unsigned
count_of(const uint32_t *bucket, uint32_t nh)
{
	unsigned c = 0;
	for (unsigned b = 0; b < B; b++)
		c += bucket[b] == nh;
	return c;
}

/* A group as ecmp.c keeps one: owners, then the table for a liveness. */
static void
table(const uint8_t *owner, const uint32_t *nhs, const uint16_t *w, const uint8_t *live, unsigned n, uint32_t *out)
{
	dp_ecmp_effective(owner, nhs, w, live, n, out);
}

static void
test_weights(void)
{
	uint32_t nhs[2] = {10, 20};
	uint8_t owner[B], live[2] = {1, 1};
	uint32_t t[B];
	uint16_t w11[2] = {1, 1}, w13[2] = {1, 3};
	dp_ecmp_nominal(NULL, nhs, w11, 2, owner);
	table(owner, nhs, w11, live, 2, t);
	CHECK(count_of(t, 10) == B / 2 && count_of(t, 20) == B / 2, "1:1 gives %u:%u", count_of(t, 10),
		count_of(t, 20));
	unsigned runs = 0; /* interleaved: no run of one member longer than 1 */
	for (unsigned b = 1; b < B; b++)
		runs += t[b] == t[b - 1];
	CHECK(runs == 0, "1:1 fill not interleaved (%u repeats)", runs);
	printf("weights 1:1: %u:%u\n", count_of(t, 10), count_of(t, 20));

	dp_ecmp_nominal(NULL, nhs, w13, 2, owner);
	table(owner, nhs, w13, live, 2, t);
	CHECK(count_of(t, 10) == B / 4 && count_of(t, 20) == 3 * B / 4, "1:3 gives %u:%u", count_of(t, 10),
		count_of(t, 20));
	printf("weights 1:3: %u:%u\n", count_of(t, 10), count_of(t, 20));

	/* extremes: 32 members, one of weight 256 and 31 of weight 1: every member keeps a bucket */
	uint16_t wm[DP_GROUP_MAX_MEMBERS];
	uint16_t target[DP_GROUP_MAX_MEMBERS];
	for (unsigned i = 0; i < DP_GROUP_MAX_MEMBERS; i++) {
		wm[i] = i == 0 ? DP_GROUP_MAX_WEIGHT : 1;
	}
	dp_ecmp_targets(wm, DP_GROUP_MAX_MEMBERS, target);
	unsigned sum = 0, min = B;
	for (unsigned i = 0; i < DP_GROUP_MAX_MEMBERS; i++) {
		sum += target[i];
		if (target[i] < min)
			min = target[i];
	}
	CHECK(sum == B && min >= 1, "256:1x31 targets sum %u min %u", sum, min);
	printf("weights 256:1x31: first %u buckets, others >= %u, sum %u\n", target[0], min, sum);
}

/* Member liveness: a death moves only the dead member's buckets, a return puts them back. */
static void
test_liveness(void)
{
	uint32_t nhs[3] = {10, 20, 30};
	uint16_t w[3] = {1, 1, 1};
	uint8_t owner[B];
	uint8_t all[3] = {1, 1, 1}, no_c[3] = {1, 1, 0}, only_a[3] = {1, 0, 0}, none[3] = {0, 0, 0};
	uint32_t t0[B], t1[B], t2[B], t3[B], t4[B];
	dp_ecmp_nominal(NULL, nhs, w, 3, owner);
	table(owner, nhs, w, all, 3, t0);
	table(owner, nhs, w, no_c, 3, t1);
	unsigned moved = 0, wrong = 0;
	for (unsigned b = 0; b < B; b++) {
		moved += t0[b] != t1[b];
		wrong += t0[b] != t1[b] && t0[b] != 30; /* a bucket of a live member moved */
	}
	CHECK(wrong == 0 && moved == count_of(t0, 30) && count_of(t1, 30) == 0, "C dead: %u moved, %u of live members",
		moved, wrong);
	CHECK(count_of(t1, 10) >= 55 && count_of(t1, 20) >= 55, "C's buckets spread %u:%u", count_of(t1, 10),
		count_of(t1, 20));
	printf("member leaves: %u buckets moved (its own), others kept; A:B now %u:%u\n", moved, count_of(t1, 10),
		count_of(t1, 20));

	/* B dies too: only buckets on B move (B's own and C's that had gone to B) */
	table(owner, nhs, w, only_a, 3, t2);
	wrong = 0;
	for (unsigned b = 0; b < B; b++)
		wrong += t1[b] != t2[b] && t1[b] != 20;
	CHECK(wrong == 0 && count_of(t2, 10) == B, "B dead after C: %u buckets of A moved", wrong);

	/* back in reverse order: the tables are the same as before */
	table(owner, nhs, w, no_c, 3, t3);
	table(owner, nhs, w, all, 3, t4);
	CHECK(memcmp(t3, t1, sizeof(t1)) == 0, "B's return did not restore the table");
	CHECK(memcmp(t4, t0, sizeof(t0)) == 0, "C's return did not restore the table");
	printf("members come back: tables equal to before: %s\n", memcmp(t4, t0, sizeof(t0)) == 0 ? "yes" : "no");

	/* no member live: the owners (packets find their unresolved words and ask for ARP) */
	uint32_t t5[B];
	table(owner, nhs, w, none, 3, t5);
	CHECK(memcmp(t5, t0, sizeof(t0)) == 0, "all dead: not the owners");
}

/* The member set changes (a route's paths): only what the new targets need moves. */
static void
test_set_change(void)
{
	uint32_t abc[3] = {10, 20, 30}, ab[2] = {10, 20};
	uint16_t w3[3] = {1, 1, 1}, w2[2] = {1, 1};
	uint8_t o3[B], o2[B], o3b[B], live[3] = {1, 1, 1};
	uint32_t t3[B], t2[B], t3b[B], prev[B];
	dp_ecmp_nominal(NULL, abc, w3, 3, o3);
	table(o3, abc, w3, live, 3, t3);
	for (unsigned b = 0; b < B; b++)
		prev[b] = t3[b];
	dp_ecmp_nominal(prev, ab, w2, 2, o2);
	table(o2, ab, w2, live, 2, t2);
	unsigned wrong = 0;
	for (unsigned b = 0; b < B; b++)
		wrong += t3[b] != t2[b] && t3[b] != 30;
	CHECK(wrong == 0 && count_of(t2, 10) == B / 2 && count_of(t2, 20) == B / 2,
		"C removed from the set: %u others moved, %u:%u", wrong, count_of(t2, 10), count_of(t2, 20));
	for (unsigned b = 0; b < B; b++)
		prev[b] = t2[b];
	dp_ecmp_nominal(prev, abc, w3, 3, o3b);
	table(o3b, abc, w3, live, 3, t3b);
	unsigned moved = 0;
	wrong = 0;
	for (unsigned b = 0; b < B; b++) {
		moved += t3b[b] != t2[b];
		wrong += t3b[b] != t2[b] && t3b[b] != 30; /* a move to anyone but the new member */
	}
	CHECK(wrong == 0 && moved == count_of(t3b, 30) && count_of(t3b, 30) >= 42, "C added: %u moved, %u not to C",
		moved, wrong);
	printf("member removed from the set / added again: only its buckets moved (%u)\n", moved);
}

static void
udp_flow(struct rte_ipv4_hdr *ip, uint8_t *l4, uint16_t sport, uint16_t frag)
{
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->next_proto_id = IPPROTO_UDP;
	ip->total_length = rte_cpu_to_be_16(28);
	ip->fragment_offset = rte_cpu_to_be_16(frag);
	ip->src_addr = rte_cpu_to_be_32(0x0a010002);
	ip->dst_addr = rte_cpu_to_be_32(0x0a140001);
	uint16_t p[2] = {rte_cpu_to_be_16(sport), rte_cpu_to_be_16(5001)};
	memcpy(l4, p, 4);
}

/* 200 UDP flows (source ports 40000-40199) over 1:1 and 1:3; fragments hash without ports. */
static void
test_hash(void)
{
	uint8_t pkt[64] __attribute__((aligned(8)));
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)pkt;
	uint32_t nhs[2] = {10, 20};
	uint16_t w11[2] = {1, 1}, w13[2] = {1, 3};
	uint8_t owner[B], live[2] = {1, 1};
	uint32_t t11[B], t13[B];
	dp_ecmp_nominal(NULL, nhs, w11, 2, owner);
	table(owner, nhs, w11, live, 2, t11);
	dp_ecmp_nominal(NULL, nhs, w13, 2, owner);
	table(owner, nhs, w13, live, 2, t13);
	unsigned a11 = 0, a13 = 0;
	for (unsigned f = 0; f < 200; f++) {
		udp_flow(ip, pkt + 20, (uint16_t)(40000 + f), 0);
		uint32_t h = dp_flow_hash(ip);
		a11 += t11[dp_ecmp_bucket(h)] == 10;
		a13 += t13[dp_ecmp_bucket(h)] == 10;
		CHECK(dp_flow_hash(ip) == h, "hash not deterministic");
	}
	CHECK(a11 >= 70 && a11 <= 130, "1:1: first member got %u of 200 flows", a11);
	CHECK(a13 >= 30 && a13 <= 70, "1:3: first member got %u of 200 flows", a13);
	printf("200 UDP flows: 1:1 -> %u:%u, 1:3 -> %u:%u\n", a11, 200 - a11, a13, 200 - a13);

	/* a fragment hashes on addresses and protocol only: every fragment of a datagram agrees */
	udp_flow(ip, pkt + 20, 40000, RTE_IPV4_HDR_MF_FLAG);
	uint32_t first = dp_flow_hash(ip);
	udp_flow(ip, pkt + 20, 40001, 185);
	CHECK(dp_flow_hash(ip) == first, "fragments of one datagram hash apart");
	udp_flow(ip, pkt + 20, 40001, 0);
	CHECK(dp_flow_hash(ip) != first, "ports ignored for a whole datagram");
	/* a UDP header cut short (total length 22) hashes without ports, reading nothing past it */
	udp_flow(ip, pkt + 20, 40002, 0);
	ip->total_length = rte_cpu_to_be_16(22);
	CHECK(dp_flow_hash(ip) == first, "a 2-byte L4 header was read as ports");
}

/*
 * The fast path's hash (dp_flow_hash_ihl5, branch-free) against the exact path's (dp_flow_hash)
 * on headers without options: every protocol number, fragments and not, every short total
 * length, random addresses and ports. Equal, so both paths pick the same member for a packet.
 */
static void
test_hash_fast(void)
{
	uint8_t pkt[64] __attribute__((aligned(8)));
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)pkt;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned differ = 0, n = 0;
	static const uint16_t frags[] = {0, RTE_IPV4_HDR_DF_FLAG, RTE_IPV4_HDR_MF_FLAG, 185, RTE_IPV4_HDR_MF_FLAG | 7};
	static const uint16_t lens[] = {20, 21, 22, 23, 24, 28, 1500};
	for (unsigned proto = 0; proto < 256; proto++)
		for (unsigned f = 0; f < sizeof(frags) / sizeof(frags[0]); f++)
			for (unsigned l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
				x = x * 6364136223846793005ull + 1442695040888963407ull;
				udp_flow(ip, pkt + 20, (uint16_t)(x >> 48), frags[f]);
				ip->next_proto_id = (uint8_t)proto;
				ip->total_length = rte_cpu_to_be_16(lens[l]);
				ip->src_addr = (uint32_t)(x >> 16);
				differ += dp_flow_hash_ihl5(ip) != dp_flow_hash(ip);
				n++;
			}
	CHECK(differ == 0, "the fast path's hash differs from the exact path's on %u of %u headers", differ, n);
	printf("fast and exact flow hash agree on %u headers\n", n);
}

int
main(void)
{
	test_weights();
	test_liveness();
	test_set_change();
	test_hash();
	test_hash_fast();
	printf("%u checks, %u failures\n", checks, failures);
	return failures ? 1 : 0;
}
