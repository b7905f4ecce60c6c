/*
 * Pure per-packet functions of the fast path: RFC 1812 checks and the forwarding rewrite.
 * No state, no EAL: the fuzz harness (native/fuzz) compiles them without DPDK's runtime.
 */
#ifndef DPFWD_PACKET_H
#define DPFWD_PACKET_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <rte_byteorder.h>
#include <rte_branch_prediction.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "dataplane.h"
#include "drop_reasons.h"

enum dp_drop {
#define DP_X(name, help) DP_DROP_##name,
	DP_DROP_REASONS(DP_X)
#undef DP_X
	DP_DROP_MAX
};
#define DP_VERDICT_FORWARD DP_DROP_MAX /* "no drop": the packet may go on to the FIB lookup */

enum dp_port_ctr {
#define DP_X(name, help) DP_PCTR_##name,
	DP_PORT_COUNTERS(DP_X)
#undef DP_X
	DP_PCTR_MAX
};

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

/* First octets a router must not forward: 0/8, 127/8, 224/4 (multicast) and 240/4 (reserved). */
static const uint8_t dp_martian_octet[256] = {[0] = 1, [127] = 1, [224 ... 255] = 1};

/* Addresses a router must not forward (RFC 1812 5.3.7, 4.2.2.11): host order in, nonzero = martian. */
static inline int
dp_ip4_martian(uint32_t src, uint32_t dst)
{
	return dp_martian_octet[src >> 24] | dp_martian_octet[dst >> 24];
}

/*
 * Source and broadcast rules (RFC 1812 5.3.7, RFC 2644) as data the fast path reads: the
 * router's own addresses, the directed broadcasts and network addresses of its connected subnets, programmed by
 * the control plane whenever addresses change (dp_addr_filter_set in tables.c).
 *
 * The fast path pays nothing for it: the martian test already read a table by the source's
 * first octet and one by the destination's; the second is now indexed by the 16 bits at frame
 * offset 29 (the source's last octet and the destination's first), which one load gives, and
 * is also set for every last octet that some address of `set` ends in. Only packets flagged
 * there (sources ending like an own address or broadcast, typically .1 and .255: about 1 in
 * 128) take dp_addr_refuse's exact test; the rest go on as before.
 */
#define DP_ADDR_SET_SIZE 2048u /* slots, a power of two */
/* DP_ADDR_SET_MAX and enum dp_addr_kind: dataplane.h */

static inline int
dp_addr_bad_source(unsigned kind)
{
	return kind == DP_ADDR_OWN || kind == DP_ADDR_BROADCAST;
}

/* The exact set: open addressing, key = address in host order, 0 = empty slot. */
struct dp_addr_set {
	uint32_t n;
	struct {
		uint32_t addr;
		uint32_t kind;
	} slot[DP_ADDR_SET_SIZE];
};

struct dp_addr_filter {
	uint8_t src_head[256]; /* by the source's first octet: nonzero = martian */
	uint8_t tail_head[65536]; /* by dp_tail_head_idx(source's last octet, destination's first) */
	/* the set every flag of tail_head stands for (a superset of flags is harmless) */
	const struct dp_addr_set *set; /* read and written with __atomic builtins */
};

/* The index the fast path's 16-bit load at frame offset 29 yields. */
static inline unsigned
dp_tail_head_idx(uint8_t src_last, uint8_t dst_first)
{
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	return (unsigned)src_last | (unsigned)dst_first << 8;
#else
	return (unsigned)src_last << 8 | dst_first;
#endif
}

static inline uint32_t
dp_addr_slot(uint32_t addr)
{
	return (addr * 0x9e3779b1u) >> (32 - 11); /* 2^11 = DP_ADDR_SET_SIZE */
}

/* What `addr` (host order) is to the router: DP_ADDR_OWN, DP_ADDR_BROADCAST or DP_ADDR_NONE. */
static inline unsigned
dp_addr_kind(const struct dp_addr_set *s, uint32_t addr)
{
	if (addr == 0 || s == NULL)
		return DP_ADDR_NONE;
	for (uint32_t i = dp_addr_slot(addr);; i = (i + 1) & (DP_ADDR_SET_SIZE - 1)) {
		uint32_t a = s->slot[i].addr;
		if (a == addr)
			return s->slot[i].kind;
		if (a == 0)
			return DP_ADDR_NONE; /* at most half full: an empty slot always ends the probe */
	}
}

/* Adds an address (host order, not 0) of a kind; -ENOSPC past DP_ADDR_SET_MAX. */
static inline int
dp_addr_set_add(struct dp_addr_set *s, uint32_t addr, unsigned kind)
{
	if (addr == 0 || kind == DP_ADDR_NONE)
		return -EINVAL;
	uint32_t i = dp_addr_slot(addr);
	while (s->slot[i].addr != 0 && s->slot[i].addr != addr)
		i = (i + 1) & (DP_ADDR_SET_SIZE - 1);
	if (s->slot[i].addr == 0) {
		if (s->n >= DP_ADDR_SET_MAX)
			return -ENOSPC;
		s->n++;
	}
	s->slot[i].addr = addr;
	s->slot[i].kind = kind;
	return 0;
}

/* The flags for martian first octets and for the last octets of the addresses in `s`. */
static inline void
dp_addr_flags_compute(uint8_t src_head[256], uint8_t tail_head[65536], const struct dp_addr_set *s)
{
	memset(src_head, 0, 256);
	memset(tail_head, 0, 65536);
	uint8_t tails[256] = {0};
	for (unsigned i = 0; s && i < DP_ADDR_SET_SIZE; i++)
		if (s->slot[i].addr && dp_addr_bad_source(s->slot[i].kind))
			tails[s->slot[i].addr & 0xff] = 1;
	for (unsigned d = 0; d < 256; d++) {
		src_head[d] = dp_martian_octet[d];
		for (unsigned t = 0; t < 256; t++)
			tail_head[dp_tail_head_idx((uint8_t)t, (uint8_t)d)] = dp_martian_octet[d] | tails[t];
	}
}

/* The exact test behind a flag: nonzero when the fast path must refuse the packet. */
static __attribute__((noinline)) int
dp_addr_refuse(const struct dp_addr_filter *af, const struct rte_ipv4_hdr *ip)
{
	uint32_t src = rte_be_to_cpu_32(ip->src_addr);
	if (dp_ip4_martian(src, rte_be_to_cpu_32(ip->dst_addr)))
		return 1;
	return dp_addr_bad_source(dp_addr_kind(__atomic_load_n(&af->set, __ATOMIC_ACQUIRE), src));
}

/* The drop reason for a source the router must not forward from, or DP_VERDICT_FORWARD. */
static inline unsigned
dp_ip4_check_src(const struct dp_addr_filter *af, const struct rte_ipv4_hdr *ip)
{
	switch (dp_addr_kind(__atomic_load_n(&af->set, __ATOMIC_ACQUIRE), rte_be_to_cpu_32(ip->src_addr))) {
	case DP_ADDR_OWN:
		return DP_DROP_source_own;
	case DP_ADDR_BROADCAST:
		return DP_DROP_source_broadcast;
	default:
		return DP_VERDICT_FORWARD;
	}
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

/* EtherType IPv4 followed by version 4, IHL 5: frame bytes 12-14 as a 32-bit load sees them. */
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
#define DP_ET_VIHL_MASK 0x00ffffffu
#define DP_ET_VIHL_IP4 0x00450008u
#else
#define DP_ET_VIHL_MASK 0xffffff00u
#define DP_ET_VIHL_IP4 0x08004500u
#endif

/*
 * The fast path's whole per-packet test: nonzero when the frame is an IPv4 packet without options
 * that passes every RFC 1812 check of dp_ip4_check and dp_ip4_check_src (with `af`), and whose
 * total length fits `mtu_floor` (the
 * smallest port MTU, so no per-port MTU test is needed after the lookup). `len` is the frame's
 * bytes. Reads 34 bytes even when `len` is smaller: the caller guarantees they are readable (an
 * mbuf's data room always is). Whatever it refuses goes through dp_ip4_check for the exact
 * reason; the fuzz harness checks it accepts exactly what that forwards (options and MTU aside).
 *
 * The checksum test needs no folding: the ones'-complement sum of the header's 16-bit words is
 * congruent to the plain sum of its 64-bit words modulo 65535 (2^16 = 1 mod 65535; a carry out
 * of 64 bits is added back in, as 2^64 = 1 too), in either byte order (a swap multiplies by 256,
 * a unit mod 65535), and it is 0xFFFF exactly when that sum is a nonzero multiple of 65535
 * (nonzero here: the first byte is 0x45, and end-around-carry sums of nonzero words are never 0).
 * `% 65535 == 0` compiles to one multiply and one compare.
 */
static inline int dp_ip4_fast_ok_l2(
	const struct rte_ether_hdr *eth, uint32_t len, uint32_t mtu_floor, const struct dp_addr_filter *af, int l2_ok);

static inline int
dp_ip4_fast_ok(const struct rte_ether_hdr *eth, uint32_t len, uint32_t mtu_floor, const struct dp_addr_filter *af)
{
	uint32_t et_vihl;
	memcpy(&et_vihl, (const uint8_t *)eth + 12, 4);
	return dp_ip4_fast_ok_l2(eth, len, mtu_floor, af, (et_vihl & DP_ET_VIHL_MASK) == DP_ET_VIHL_IP4);
}

/* The same with the test of frame bytes 12-14 (EtherType, version and IHL) made by the caller,
 * `l2_ok`: the worker folds it into its destination MAC test (dp_l2_fast_ok). */
static inline int
dp_ip4_fast_ok_l2(
	const struct rte_ether_hdr *eth, uint32_t len, uint32_t mtu_floor, const struct dp_addr_filter *af, int l2_ok)
{
	const uint8_t *f = (const uint8_t *)eth;
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	uint64_t w01, w23;
	uint32_t w4;
	memcpy(&w01, f + 14, 8);
	memcpy(&w23, f + 22, 8);
	memcpy(&w4, f + 30, 4);
	uint32_t tot = rte_be_to_cpu_16(ip->total_length);
	/* 64-bit words with end-around carries: 2^64 = 1 mod 65535, so the sum stays congruent */
	uint64_t sum;
	uint64_t c1 = __builtin_add_overflow(w01, w23, &sum);
	sum += c1;
	uint64_t c2 = __builtin_add_overflow(sum, (uint64_t)w4, &sum);
	sum += c2;
	if (unlikely(!l2_ok))
		return 0;
	/* 20 <= tot <= len - 14 (which implies len >= 34) in one signed 64-bit compare: below 20,
	 * tot - 20 wraps to about 2^32, more than any frame length */
	if (unlikely((int64_t)(uint32_t)(tot - 20u) > (int64_t)len - (int64_t)(sizeof(*eth) + sizeof(*ip)) ||
		    tot > mtu_floor))
		return 0;
	if (unlikely(sum % 0xffffu != 0))
		return 0;
	uint16_t tail_head; /* the source's last octet and the destination's first */
	memcpy(&tail_head, f + 14 + 15, 2);
	if (unlikely(af->src_head[f[14 + 12]] | af->tail_head[tail_head]) && dp_addr_refuse(af, ip))
		return 0;
	return ip->time_to_live > 1;
}

/*
 * Link-layer destination (Linux's eth_type_trans: PACKET_HOST, _BROADCAST/_MULTICAST,
 * _OTHERHOST). The fast path compares the frame's first 8 bytes, loaded as one word, with the
 * receiving port's key (dp_eth_dst_key of its MAC): the shift keeps bytes 0-5 only, so the
 * source MAC's first two bytes never count. The frame holds at least 8 bytes (an mbuf's data
 * room always does).
 */
static inline uint64_t
dp_eth_dst_key(const void *frame)
{
	uint64_t w;
	memcpy(&w, frame, 8);
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	return w << 16;
#else
	return w >> 16;
#endif
}

/*
 * The fast path's first test: the frame's first 16 bytes against the receiving port's key,
 * destination MAC (bytes 0-5) and EtherType IPv4, version 4, IHL 5 (bytes 12-14) in one
 * compare; the source MAC and the TOS byte are anyone's. With SSE2: one 16-byte load,
 * compare, mask (two instructions more than the EtherType test alone). The key is built once
 * per port (dp_l2_key_make).
 */
#define DP_L2_DONT_CARE 0x8fc0u /* bytes 6-11 and 15 */
#if defined(__SSE2__)
#include <emmintrin.h>
typedef __m128i dp_l2_key;
#else
typedef struct {
	uint8_t b[16];
} dp_l2_key;
#endif

static inline dp_l2_key
dp_l2_key_make(const uint8_t mac[6])
{
	uint8_t b[16] = {0};
	memcpy(b, mac, 6);
	b[12] = RTE_ETHER_TYPE_IPV4 >> 8;
	b[13] = RTE_ETHER_TYPE_IPV4 & 0xff;
	b[14] = 0x45;
	dp_l2_key k;
	memcpy(&k, b, 16);
	return k;
}

static inline int
dp_l2_fast_ok(const void *frame, dp_l2_key k)
{
#if defined(__SSE2__)
	__m128i x = _mm_cmpeq_epi8(k, _mm_loadu_si128((const __m128i *)frame));
	return ((unsigned)_mm_movemask_epi8(x) | DP_L2_DONT_CARE) == 0xffffu;
#else
	const uint8_t *f = (const uint8_t *)frame;
	unsigned m = DP_L2_DONT_CARE;
	for (unsigned i = 0; i < 16; i++)
		m |= (unsigned)(f[i] == k.b[i]) << i;
	return m == 0xffffu;
#endif
}

enum dp_l2_dst {
	DP_L2_HOST, /* the port's MAC (its VLAN sub-interfaces share it) */
	DP_L2_GROUP, /* broadcast or multicast: the group bit of the first octet */
	DP_L2_OTHER, /* another host's unicast MAC: not for the router (not_for_us) */
};

static inline unsigned
dp_eth_dst_class(const void *frame, uint64_t port_key)
{
	if (dp_eth_dst_key(frame) == port_key)
		return DP_L2_HOST;
	return (((const uint8_t *)frame)[0] & 1) ? DP_L2_GROUP : DP_L2_OTHER;
}

/*
 * TTL - 1 with the checksum updated incrementally (RFC 1624): the TTL is the high byte of its
 * 16-bit word, so the checksum gains 0x0100 in ones'-complement arithmetic. Ones'-complement
 * sums do not depend on byte order, so the add works on the field as stored: +1 to its first
 * byte, the end-around carry folded back (the form of Linux's ip_decrease_ttl). For every one of
 * the 65536 checksums this equals eqn. 3, HC' = ~(~HC + ~m + m'), which never yields 0xFFFF
 * (checked exhaustively by the fuzz harness's start-up self-check).
 */
static inline void
dp_ip4_ttl_dec(struct rte_ipv4_hdr *ip)
{
	ip->time_to_live--;
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	uint16_t c = ip->hdr_checksum; /* +1 to the stored field, +1 more if that carried out */
	ip->hdr_checksum = (uint16_t)(c + 1u + (c >= 0xfffeu));
#else
	uint32_t c = (uint32_t)ip->hdr_checksum + 0x0100u;
	ip->hdr_checksum = (uint16_t)(c + (c >= 0xffff));
#endif
}

static inline uint64_t
dp_nh_word(uint16_t port_or_action, const uint8_t mac[6])
{
	uint64_t w = (uint64_t)port_or_action << 48;
	for (int i = 0; i < 6; i++)
		w |= (uint64_t)mac[i] << (8 * i);
	return w;
}

/* The egress port's MAC and the IPv4 EtherType as the 8 bytes the rewrite stores at offset 6. */
static inline uint64_t
dp_src_et_word(const struct rte_ether_addr *src)
{
	uint8_t b[8];
	memcpy(b, src->addr_bytes, 6);
	b[6] = RTE_ETHER_TYPE_IPV4 >> 8;
	b[7] = RTE_ETHER_TYPE_IPV4 & 0xff;
	uint64_t w;
	memcpy(&w, b, 8);
	return w;
}

/*
 * Ethernet rewrite of a forwarded IPv4 frame: destination from the next-hop word, source and
 * EtherType from the port's dp_src_et_word. Two overlapping 8-byte stores (bytes 0-7, then 6-13)
 * instead of six narrower ones; the first store's bytes 6-7 (the port) are overwritten by the second.
 */
static inline void
dp_eth_rewrite(struct rte_ether_hdr *eth, uint64_t nh_word, uint64_t src_et)
{
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	memcpy(eth, &nh_word, 8);
#else
	for (int i = 0; i < 6; i++)
		eth->dst_addr.addr_bytes[i] = (uint8_t)(nh_word >> (8 * i));
#endif
	memcpy((uint8_t *)eth + 6, &src_et, 8);
}

/* An 802.1Q tag's VID: the frame holds at least 18 bytes and EtherType 0x8100 at offset 12.
 * Priority and DEI bits are ignored; VID 0 (a priority tag) means no VLAN. */
static inline unsigned
dp_vlan_vid(const uint8_t *f)
{
	return ((unsigned)f[14] << 8 | f[15]) & 0xfffu;
}

/* Removes the tag of a tagged frame in place: the MAC addresses move 4 bytes on, and the
 * untagged frame starts at the returned pointer (f + 4). */
static inline uint8_t *
dp_vlan_pop(uint8_t *f)
{
	memmove(f + RTE_VLAN_HLEN, f, 2 * RTE_ETHER_ADDR_LEN);
	return f + RTE_VLAN_HLEN;
}

/* Bytes before the IPv4 header: Ethernet, plus an 802.1Q tag when `vlan` is nonzero. */
static inline uint32_t
dp_l2_len(unsigned vlan)
{
	return vlan ? RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN : RTE_ETHER_HDR_LEN;
}

/*
 * The same rewrite for a VLAN sub-interface: `d` is 18 bytes before the IPv4 header (the
 * caller made room). MAC addresses, then TPID 0x8100 and the VID (priority 0), then EtherType
 * IPv4.
 */
static inline void
dp_eth_rewrite_vlan(uint8_t *d, uint64_t nh_word, uint64_t src_et, uint16_t vlan)
{
	dp_eth_rewrite((struct rte_ether_hdr *)d, nh_word, src_et);
	d[12] = RTE_ETHER_TYPE_VLAN >> 8;
	d[13] = RTE_ETHER_TYPE_VLAN & 0xff;
	d[14] = (uint8_t)(vlan >> 8 & 0x0f);
	d[15] = (uint8_t)vlan;
	d[16] = RTE_ETHER_TYPE_IPV4 >> 8;
	d[17] = RTE_ETHER_TYPE_IPV4 & 0xff;
}

/*
 * Checksum completion for frames a Linux kernel hands over (af_packet, af_xdp): a TCP or UDP
 * segment the sender's kernel left CHECKSUM_PARTIAL carries only the folded pseudo-header sum
 * in its checksum field (what Linux stores: ~csum_tcpudp_magic(src, dst, len, proto, 0)), and the
 * NIC that would finish it does not exist on a veth. When the field equals that sum, the full
 * checksum is the complement of the ones'-complement sum of the segment as it stands (the field
 * contributes exactly the pseudo-header); a correct checksum that happens to equal the sum is
 * rewritten to the same value. UDP: a field of 0 means "no checksum" and is left alone; a
 * computed 0 is sent as 0xFFFF (RFC 768). Only whole, unfragmented IPv4 datagrams that fit the
 * frame (`len` bytes) are touched; anything else is left to the checks. Sums are over the words
 * as stored (RFC 1071: byte-order independent). Returns 1 when it wrote a checksum.
 */
static inline int
dp_l4_csum_complete(struct rte_ether_hdr *eth, uint32_t len)
{
	if (len < sizeof(*eth) + sizeof(struct rte_ipv4_hdr) || eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return 0;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	uint32_t hlen = (uint32_t)(ip->version_ihl & 0xf) * 4;
	uint32_t tot = rte_be_to_cpu_16(ip->total_length);
	if ((ip->version_ihl >> 4) != 4 || hlen < 20 || tot < hlen || tot > len - sizeof(*eth))
		return 0;
	if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		return 0;
	uint32_t l4len = tot - hlen;
	uint8_t *l4 = (uint8_t *)ip + hlen;
	dp_u16_a2 *field;
	if (ip->next_proto_id == IPPROTO_TCP && l4len >= 20)
		field = (dp_u16_a2 *)(l4 + 16);
	else if (ip->next_proto_id == IPPROTO_UDP && l4len >= 8)
		field = (dp_u16_a2 *)(l4 + 6);
	else
		return 0;
	const dp_u16_a2 *a = (const dp_u16_a2 *)((const uint8_t *)ip + 12); /* source, destination */
	uint32_t ps = (uint32_t)a[0] + a[1] + a[2] + a[3] + rte_cpu_to_be_16((uint16_t)ip->next_proto_id) +
		rte_cpu_to_be_16((uint16_t)l4len);
	ps = (ps & 0xffff) + (ps >> 16);
	ps = (ps & 0xffff) + (ps >> 16);
	if (*field != (uint16_t)ps || *field == 0)
		return 0;
	uint16_t c = (uint16_t)~rte_raw_cksum(l4, l4len);
	if (c == 0 && ip->next_proto_id == IPPROTO_UDP)
		c = 0xffff;
	*field = c;
	return 1;
}

#endif
