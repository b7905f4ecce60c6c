/*
 * libFuzzer harness for the fast path's pure per-packet functions (native/dataplane/packet.h).
 *
 * No Node, no EAL: DPDK is used for its headers only, nothing is linked from it.
 *
 * Input layout:
 *   bytes 0-1   egress port index / action (big endian) for the next-hop word
 *   bytes 2-7   next hop's MAC (destination after the rewrite)
 *   bytes 8-13  egress port's MAC (source after the rewrite)
 *   bytes 14-   the Ethernet frame as the worker receives it (802.1Q-tagged or not: the
 *               harness's port has one sub-interface, VLAN FUZZ_VLAN; VID 0 is untagged)
 * Inputs shorter than 14 bytes are taken as a whole frame with fixed MACs, so short frames
 * are still exercised.
 *
 * The frame is copied into an exactly-sized malloc'd buffer so ASan reports any read past its end.
 * Every disagreement with the byte-by-byte reference below calls abort().
 *
 * -DFUZZ_SELFTEST_BREAK replaces dp_ip4_ttl_dec with a copy that omits the end-around carry
 * fold; the fuzzer must find that (test/fuzz.test.ts checks it does).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../dataplane/packet.h"

/* drop_reasons.h promises: order of the reasons = order a packet meets the checks. */
_Static_assert(DP_DROP_not_ipv4 < DP_DROP_truncated, "reason order");
_Static_assert(DP_DROP_truncated < DP_DROP_bad_version, "reason order");
_Static_assert(DP_DROP_bad_version < DP_DROP_bad_header_length, "reason order");
_Static_assert(DP_DROP_bad_header_length < DP_DROP_bad_total_length, "reason order");
_Static_assert(DP_DROP_bad_total_length < DP_DROP_bad_checksum, "reason order");
_Static_assert(DP_DROP_bad_checksum < DP_DROP_martian_address, "reason order");
_Static_assert(DP_DROP_martian_address < DP_DROP_ttl_expired, "reason order");
/* the source rules come between the martian and TTL checks, but were added at the end of the list */
_Static_assert(DP_DROP_source_own > DP_DROP_tx_full && DP_DROP_source_broadcast > DP_DROP_tx_full, "appended");
_Static_assert(sizeof(struct rte_ether_hdr) == 14 && sizeof(struct rte_ipv4_hdr) == 20, "layout");

#define FAIL(...) \
	do { \
		fprintf(stderr, "fuzz_packet: %s:%d: ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} while (0)

/* The worker's extra verdict for ARP (punted, not a drop reason of the IPv4 checks). */
#define V_ARP (DP_DROP_MAX + 1)
/* The one VLAN the harness's port has a sub-interface for (the worker's vlan_map). */
#define FUZZ_VLAN 100u

#ifdef FUZZ_SELFTEST_BREAK
/* Deliberately wrong: dp_ip4_ttl_dec without the end-around carry fold. */
static void
ttl_dec_under_test(struct rte_ipv4_hdr *ip)
{
	ip->time_to_live--;
	uint32_t sum = (uint32_t)(uint16_t)~rte_be_to_cpu_16(ip->hdr_checksum) + 0xfeffu;
	ip->hdr_checksum = rte_cpu_to_be_16((uint16_t)~sum);
}
#else
#define ttl_dec_under_test dp_ip4_ttl_dec
#endif

/* ---- reference implementation: byte by byte, no DPDK types, no cleverness ---- */

static unsigned
be16(const uint8_t *p)
{
	return ((unsigned)p[0] << 8) | p[1];
}

static uint32_t
be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* RFC 1071: ones'-complement sum of the 16-bit big-endian words, end-around carry. */
static unsigned
ref_sum(const uint8_t *h, unsigned len)
{
	uint32_t s = 0;
	for (unsigned i = 0; i + 1 < len; i += 2) {
		s += be16(h + i);
		while (s > 0xffff)
			s = (s & 0xffff) + (s >> 16);
	}
	return s;
}

/* 0/8 "this network", 127/8 loopback, 224/4 multicast, 240/4 class E, 255.255.255.255. */
static int
ref_martian(uint32_t a)
{
	if ((a & 0xff000000u) == 0x00000000u)
		return 1;
	if ((a & 0xff000000u) == 0x7f000000u)
		return 1;
	if ((a & 0xf0000000u) == 0xe0000000u)
		return 1;
	if ((a & 0xf0000000u) == 0xf0000000u)
		return 1;
	if (a == 0xffffffffu)
		return 1;
	return 0;
}

/* The router's addresses the harness programs into the filter, and what each is. */
static const struct {
	uint32_t addr;
	unsigned kind;
} ref_addrs[] = {
	{0x0a0000feu, DP_ADDR_OWN}, /* 10.0.0.254 */
	{0x0a0001ffu, DP_ADDR_BROADCAST}, /* 10.0.1.255 */
	{0x0a000100u, DP_ADDR_NETWORK}, /* 10.0.1.0 */
	{0x0a000101u, DP_ADDR_OWN}, /* 10.0.1.1 */
	{0xc0a8077fu, DP_ADDR_BROADCAST}, /* 192.168.7.127 (a /25) */
	{0xc0a80700u, DP_ADDR_NETWORK}, {0xac1000feu, DP_ADDR_OWN}, /* 172.16.0.254 */
};

static unsigned
ref_kind(uint32_t a)
{
	for (size_t i = 0; i < sizeof(ref_addrs) / sizeof(ref_addrs[0]); i++)
		if (ref_addrs[i].addr == a)
			return ref_addrs[i].kind;
	return DP_ADDR_NONE;
}

static struct dp_addr_set g_set;
static struct dp_addr_filter g_af;

static void
filter_init(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	for (size_t i = 0; i < sizeof(ref_addrs) / sizeof(ref_addrs[0]); i++)
		if (dp_addr_set_add(&g_set, ref_addrs[i].addr, ref_addrs[i].kind) != 0)
			FAIL("cannot add %08x to the address set", ref_addrs[i].addr);
	dp_addr_flags_compute(g_af.src_head, g_af.tail_head, &g_set);
	__atomic_store_n(&g_af.set, &g_set, __ATOMIC_RELEASE);
}

static unsigned ref_classify_untagged(const uint8_t *f, size_t len);

/* What the worker decides about a frame, in the order drop_reasons.h lists the checks: an
 * 802.1Q tag first (known VID or 0: the frame without it goes on; else unknown_vlan). */
static unsigned
ref_classify(const uint8_t *f, size_t len)
{
	if (len >= 14 && be16(f + 12) == 0x8100) {
		if (len < 18)
			return DP_DROP_truncated;
		unsigned vid = be16(f + 14) & 0x0fff;
		if (vid != 0 && vid != FUZZ_VLAN)
			return DP_DROP_unknown_vlan;
		uint8_t *g = malloc(len - 4);
		if (!g)
			abort();
		memcpy(g, f, 12);
		memcpy(g + 12, f + 16, len - 16);
		unsigned v = ref_classify_untagged(g, len - 4);
		free(g);
		return v;
	}
	return ref_classify_untagged(f, len);
}

/* The same for a frame without a tag (a second tag inside the first is just another EtherType). */
static unsigned
ref_classify_untagged(const uint8_t *f, size_t len)
{
	if (len < 14)
		return DP_DROP_truncated;
	unsigned et = be16(f + 12);
	if (et == 0x0806)
		return V_ARP;
	if (et != 0x0800)
		return DP_DROP_not_ipv4;
	const uint8_t *ip = f + 14;
	size_t l3 = len - 14;
	if (l3 < 20)
		return DP_DROP_truncated;
	if ((ip[0] >> 4) != 4)
		return DP_DROP_bad_version;
	size_t hl = (size_t)(ip[0] & 0x0f) * 4;
	if (hl < 20 || hl > l3)
		return DP_DROP_bad_header_length;
	size_t tot = be16(ip + 2);
	if (tot < hl || tot > l3)
		return DP_DROP_bad_total_length;
	if (ref_sum(ip, (unsigned)hl) != 0xffff)
		return DP_DROP_bad_checksum;
	if (ref_martian(be32(ip + 12)) || ref_martian(be32(ip + 16)))
		return DP_DROP_martian_address;
	/* RFC 1812 5.3.7: never from one of our addresses or a subnet broadcast (before TTL: no
	 * ICMP error goes to such a source) */
	if (ref_kind(be32(ip + 12)) == DP_ADDR_OWN)
		return DP_DROP_source_own;
	if (ref_kind(be32(ip + 12)) == DP_ADDR_BROADCAST)
		return DP_DROP_source_broadcast;
	if (ip[8] <= 1)
		return DP_DROP_ttl_expired;
	return DP_VERDICT_FORWARD;
}

/* RFC 1624 eqn. 3 on 16-bit words: HC' = ~(~HC + ~m + m'). */
static unsigned
ref_rfc1624(unsigned hc, unsigned m_old, unsigned m_new)
{
	uint32_t s = (~hc & 0xffff) + (~m_old & 0xffff) + (m_new & 0xffff);
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return ~s & 0xffff;
}

/* ---- the code under test, used the way process_burst() uses it ---- */

/* As exact_path: a known tag is popped (*fp and *lenp then describe the untagged frame). */
static unsigned
dut_classify(uint8_t **fp, size_t *lenp)
{
	uint8_t *f = *fp;
	size_t len = *lenp;
	if (len < sizeof(struct rte_ether_hdr))
		return DP_DROP_truncated;
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_VLAN)) {
		if (len < sizeof(*eth) + RTE_VLAN_HLEN)
			return DP_DROP_truncated;
		unsigned vid = dp_vlan_vid(f);
		if (vid != 0 && vid != FUZZ_VLAN)
			return DP_DROP_unknown_vlan;
		f = *fp = dp_vlan_pop(f);
		len = *lenp = len - RTE_VLAN_HLEN;
		eth = (struct rte_ether_hdr *)f;
	}
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
		/* as exact_path: the source rules for what the RFC 1812 checks pass or punt for TTL */
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
		unsigned v = dp_ip4_check(ip, (uint32_t)(len - sizeof(*eth)));
		if (v == DP_VERDICT_FORWARD || v == DP_DROP_ttl_expired) {
			unsigned vs = dp_ip4_check_src(&g_af, ip);
			if (vs != DP_VERDICT_FORWARD)
				return vs;
		}
		return v;
	}
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP))
		return V_ARP;
	return DP_DROP_not_ipv4;
}

static void
check_forward(uint8_t *f, size_t len, uint16_t port, const uint8_t nh_mac[6], const uint8_t port_mac[6])
{
	uint8_t *before = malloc(len);
	if (!before)
		abort();
	memcpy(before, f, len);
	uint8_t *ip = f + 14;
	unsigned hl = (unsigned)(ip[0] & 0x0f) * 4;

	/* (2) TTL decrement with the incremental checksum update. */
	ttl_dec_under_test((struct rte_ipv4_hdr *)ip);
	if (ip[8] != (uint8_t)(before[14 + 8] - 1))
		FAIL("TTL %u -> %u, expected %u", before[14 + 8], ip[8], before[14 + 8] - 1u);
	if (ref_sum(ip, hl) != 0xffff)
		FAIL("checksum does not verify after TTL decrement: %04x -> %04x (sum %04x)", be16(before + 14 + 10),
			be16(ip + 10), ref_sum(ip, hl));
	unsigned want = ref_rfc1624(be16(before + 14 + 10), be16(before + 14 + 8), be16(ip + 8));
	if (be16(ip + 10) != want)
		FAIL("checksum after TTL decrement %04x, RFC 1624 says %04x (was %04x)", be16(ip + 10), want,
			be16(before + 14 + 10));
	for (size_t i = 0; i < len; i++) {
		if (i == 14 + 8 || i == 14 + 10 || i == 14 + 11)
			continue;
		if (f[i] != before[i])
			FAIL("TTL decrement changed byte %zu: %02x -> %02x", i, before[i], f[i]);
	}

	/* (3) next-hop word and Ethernet rewrite. */
	uint64_t word = dp_nh_word(port, nh_mac);
	if ((uint16_t)(word >> 48) != port)
		FAIL("next-hop word port %u, expected %u", (unsigned)(word >> 48), port);
	for (int i = 0; i < 6; i++)
		if ((uint8_t)(word >> (8 * i)) != nh_mac[i])
			FAIL("next-hop word MAC byte %d", i);
	memcpy(before, f, len);
	struct rte_ether_addr src;
	memcpy(src.addr_bytes, port_mac, 6);
	dp_eth_rewrite((struct rte_ether_hdr *)f, word, dp_src_et_word(&src));
	if (memcmp(f, nh_mac, 6) != 0)
		FAIL("rewrite: destination MAC is not the next hop's");
	if (memcmp(f + 6, port_mac, 6) != 0)
		FAIL("rewrite: source MAC is not the port's");
	if (memcmp(f + 12, before + 12, len - 12) != 0)
		FAIL("rewrite changed bytes from offset 12 on");

	/* (3b) the same rewrite out of a VLAN sub-interface: 4 bytes of room, tag pushed */
	unsigned vlan = 1u + port % 4094u;
	uint8_t *t = malloc(len + 4);
	if (!t)
		abort();
	memcpy(t + 4, before, len);
	if (dp_l2_len(vlan) != 18 || dp_l2_len(0) != 14)
		FAIL("dp_l2_len");
	dp_eth_rewrite_vlan(t, word, dp_src_et_word(&src), (uint16_t)vlan);
	if (memcmp(t, nh_mac, 6) != 0 || memcmp(t + 6, port_mac, 6) != 0)
		FAIL("VLAN rewrite: MAC addresses");
	if (be16(t + 12) != 0x8100 || be16(t + 14) != vlan || be16(t + 16) != 0x0800)
		FAIL("VLAN rewrite: tag %04x %04x, EtherType %04x for VLAN %u", be16(t + 12), be16(t + 14),
			be16(t + 16), vlan);
	if (memcmp(t + 18, before + 14, len - 14) != 0)
		FAIL("VLAN rewrite changed the IPv4 packet");
	free(t);
	free(before);
}

/*
 * (4) The fast path's one-branch test accepts exactly the frames that dp_ip4_check forwards,
 * have no IP options and fit the MTU floor; everything else must take the exact path. The floor
 * comes from the input (the port bytes) so frames on both sides of it are exercised.
 */
static void
check_fast_ok(const uint8_t *f, size_t len, unsigned verdict, uint16_t floor_bits)
{
	/* dp_ip4_fast_ok may read 34 bytes of a shorter frame (an mbuf's data room); give it those. */
	uint8_t *g = malloc(len < 34 ? 34 : len);
	if (!g)
		abort();
	memset(g, 0x45, len < 34 ? 34 : len);
	if (len)
		memcpy(g, f, len);
	uint32_t floor = 68u + floor_bits % 9300u;
	int ok = dp_ip4_fast_ok((const struct rte_ether_hdr *)g, (uint32_t)len, floor, &g_af);
	/* a tagged frame is never the fast path's: the exact path pops the tag first */
	int want = verdict == DP_VERDICT_FORWARD && len >= 34 && be16(f + 12) == 0x0800 && f[14] == 0x45 &&
		be16(f + 16) <= floor;
	if (ok != want)
		FAIL("fast-path test says %d, exact path says %d (verdict %u, %zu bytes, MTU floor %u)", ok, want,
			verdict, len, floor);
	free(g);
}

/*
 * (6) The address set answers exactly like the reference list for the frame's source and
 * destination (the destination side: exact_path drops BROADCAST and NETWORK destinations on a
 * glean route), and every source the set refuses is flagged in the fast path's tables.
 */
static void
check_addr_set(const uint8_t *f, size_t len)
{
	if (len < 34)
		return;
	for (int k = 0; k < 2; k++) {
		uint32_t a = be32(f + 26 + 4 * k);
		if (dp_addr_kind(&g_set, a) != ref_kind(a))
			FAIL("address set says %u for %08x, reference %u", dp_addr_kind(&g_set, a), a, ref_kind(a));
	}
	uint32_t src = be32(f + 26);
	if (dp_addr_bad_source(ref_kind(src)) &&
		!(g_af.src_head[f[26]] | g_af.tail_head[dp_tail_head_idx(f[29], f[30])]))
		FAIL("source %08x is refused by the set but not flagged", src);
}

/* (5) Once: dp_ip4_ttl_dec against RFC 1624 eqn. 3 for every one of the 65536 checksums. */
static void
check_ttl_dec_exhaustively(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	for (uint32_t hc = 0; hc <= 0xffff; hc++) {
		uint8_t ip[20] = {0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, (uint8_t)(hc >> 8), (uint8_t)hc};
		ttl_dec_under_test((struct rte_ipv4_hdr *)ip);
		unsigned want = ref_rfc1624(hc, 64u << 8 | 17, 63u << 8 | 17);
		if (be16(ip + 10) != want)
			FAIL("TTL decrement turns checksum %04x into %04x, RFC 1624 says %04x", hc, be16(ip + 10),
				want);
	}
}

/*
 * dp_l4_csum_complete against the definition: a whole unfragmented IPv4 TCP/UDP datagram whose
 * checksum field holds the folded pseudo-header sum gets ~(pseudo-header + segment with the
 * field zeroed), UDP 0 sent as 0xFFFF, and then verifies; every other frame is left unchanged.
 */
static void
check_csum_complete(const uint8_t *f, size_t size)
{
	uint8_t *g = malloc(size ? size : 1);
	if (!g)
		abort();
	if (size)
		memcpy(g, f, size);
	int got = dp_l4_csum_complete((struct rte_ether_hdr *)g, (uint32_t)size);
	int want = 0;
	unsigned field_at = 0, expect = 0;
	if (size >= 34 && be16(f + 12) == 0x0800 && (f[14] >> 4) == 4 && (f[14] & 0xf) >= 5) {
		unsigned hlen = (f[14] & 0xf) * 4u, tot = be16(f + 16), proto = f[14 + 9];
		int frag = (be16(f + 14 + 6) & 0x3fff) != 0;
		if (tot >= hlen && tot <= size - 14 && !frag) {
			unsigned l4len = tot - hlen, l4 = 14 + hlen;
			if (proto == 6 && l4len >= 20)
				field_at = l4 + 16;
			else if (proto == 17 && l4len >= 8)
				field_at = l4 + 6;
			if (field_at) {
				uint32_t ps = be16(f + 26) + be16(f + 28) + be16(f + 30) + be16(f + 32) + proto + l4len;
				while (ps >> 16)
					ps = (ps & 0xffff) + (ps >> 16);
				if (be16(f + field_at) == ps && ps != 0) {
					/* an odd last byte is padded with a zero (RFC 768/793) */
					uint8_t *z = calloc(1, l4len + 1);
					if (!z)
						abort();
					memcpy(z, f + l4, l4len);
					z[field_at - l4] = z[field_at - l4 + 1] = 0;
					uint32_t s = ps + ref_sum(z, (l4len + 1) & ~1u);
					while (s >> 16)
						s = (s & 0xffff) + (s >> 16);
					expect = (~s) & 0xffff;
					if (expect == 0 && proto == 17)
						expect = 0xffff;
					free(z);
					want = 1;
					/* and it verifies: pseudo-header + segment with the new field sums to 0xFFFF */
					uint8_t *v = calloc(1, l4len + 1);
					if (!v)
						abort();
					memcpy(v, f + l4, l4len);
					v[field_at - l4] = (uint8_t)(expect >> 8);
					v[field_at - l4 + 1] = (uint8_t)expect;
					uint32_t t = ps + ref_sum(v, (l4len + 1) & ~1u);
					while (t >> 16)
						t = (t & 0xffff) + (t >> 16);
					free(v);
					if (t != 0xffff && !(t == 0 && proto == 17))
						FAIL("completed L4 checksum %04x does not verify (sum %04x)", expect,
							t);
				}
			}
		}
	}
	if (got != want)
		FAIL("dp_l4_csum_complete returned %d, reference says %d (frame %zu bytes)", got, want, size);
	for (size_t i = 0; i < size; i++) {
		if (want && (i == field_at || i == field_at + 1))
			continue;
		if (g[i] != f[i])
			FAIL("dp_l4_csum_complete changed byte %zu outside the L4 checksum field", i);
	}
	if (want && be16(g + field_at) != expect)
		FAIL("L4 checksum completed to %04x, reference %04x", be16(g + field_at), expect);
	free(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t def_nh[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
	static const uint8_t def_port[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
	uint16_t port = 0;
	uint8_t nh_mac[6], port_mac[6];
	check_ttl_dec_exhaustively();
	filter_init();
	memcpy(nh_mac, def_nh, 6);
	memcpy(port_mac, def_port, 6);
	if (size >= 14) {
		port = (uint16_t)((data[0] << 8) | data[1]);
		memcpy(nh_mac, data + 2, 6);
		memcpy(port_mac, data + 8, 6);
		data += 14;
		size -= 14;
	}

	/* Exactly sized so ASan catches any read past the frame (malloc(0) may be NULL). */
	uint8_t *f = malloc(size ? size : 1);
	if (!f)
		abort();
	if (size)
		memcpy(f, data, size);

	unsigned want = ref_classify(f, size);
	check_fast_ok(f, size, want, port);
	check_addr_set(f, size);
	check_csum_complete(f, size);
	uint8_t *g = f; /* dut_classify pops a known tag: g then starts 4 bytes into f */
	size_t glen = size;
	unsigned got = dut_classify(&g, &glen);
	if (got != want)
		FAIL("verdict %u, reference says %u (frame %zu bytes)", got, want, size);
	if (got == DP_VERDICT_FORWARD)
		check_forward(g, glen, port, nh_mac, port_mac);
	free(f);
	return 0;
}
