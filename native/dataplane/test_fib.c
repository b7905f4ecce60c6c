/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_fib: dp_fib (fib.c) against a brute-force reference (a list of rules, longest prefix
 * wins), read back through rte_lpm's own inline lookups. Run with EAL arguments, e.g.
 *   test_fib --in-memory --no-pci -l 0-1 --log-level=error
 * (a second lcore enables the concurrent reader test). Exit status 0 only if every check passed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_lpm.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "fib.h"

#define MISS 0xFFFFFFFFu

static unsigned long failures;
static unsigned long checks;

#define CHECK(cond, ...) \
	do { \
		checks++; \
		if (!(cond)) { \
			if (failures++ < 20) { \
				fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
				fprintf(stderr, __VA_ARGS__); \
				fputc('\n', stderr); \
			} \
		} \
	} while (0)

static uint64_t rng_state;
static inline uint64_t
rnd(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}
static inline uint32_t
rnd_below(uint32_t n)
{
	return (uint32_t)(((rnd() >> 32) * n) >> 32);
}

static inline uint32_t
mask_of(unsigned d)
{
	return d ? ~0u << (32 - d) : 0;
}

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char ipbuf[4][20];
static unsigned ipbuf_i;
static const char *
ipstr(uint32_t ip)
{
	char *b = ipbuf[ipbuf_i++ & 3];
	snprintf(b, 20, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
	return b;
}

/* ---- reference ---- */

struct rrule {
	uint32_t ip;
	uint8_t depth;
	uint32_t nh;
};
static struct rrule *ref;
static uint32_t ref_n;

static int
ref_find(uint32_t ipm, unsigned depth)
{
	for (uint32_t i = 0; i < ref_n; i++)
		if (ref[i].ip == ipm && ref[i].depth == depth)
			return (int)i;
	return -1;
}

static uint32_t
ref_lookup(uint32_t a)
{
	int best = -1;
	uint32_t nh = MISS;
	for (uint32_t i = 0; i < ref_n; i++)
		if (((a ^ ref[i].ip) & mask_of(ref[i].depth)) == 0 && (int)ref[i].depth > best) {
			best = ref[i].depth;
			nh = ref[i].nh;
		}
	return nh;
}

/* /24s holding a rule longer than /24: the tbl8 groups the FIB must be using */
static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}
static uint32_t
ref_groups(void)
{
	static uint32_t tmp[1 << 16];
	uint32_t k = 0;
	for (uint32_t i = 0; i < ref_n && k < RTE_DIM(tmp); i++)
		if (ref[i].depth > 24)
			tmp[k++] = ref[i].ip >> 8;
	qsort(tmp, k, sizeof(tmp[0]), cmp_u32);
	uint32_t n = 0;
	for (uint32_t i = 0; i < k; i++)
		if (i == 0 || tmp[i] != tmp[i - 1])
			n++;
	return n;
}

/* a table entry as the word rte_lpm's lookups read */
static uint32_t
raw(const struct rte_lpm_tbl_entry *e)
{
	uint32_t v;
	memcpy(&v, e, sizeof(v));
	return v;
}

static uint32_t
lpm_get(const struct rte_lpm *lpm, uint32_t a)
{
	uint32_t nh;
	return rte_lpm_lookup(lpm, a, &nh) == 0 ? nh : MISS;
}

static void
check_addr(struct dp_fib *f, uint32_t a, const char *ctx)
{
	uint32_t want = ref_lookup(a), got = lpm_get(dp_fib_lpm(f), a);
	CHECK(got == want, "%s: lookup %s: got %d, want %d", ctx, ipstr(a), (int)got, (int)want);
}

/* Every address of a /24, through all three lookup flavours. */
static void
sweep24(struct dp_fib *f, uint32_t base, const char *ctx)
{
	const struct rte_lpm *lpm = dp_fib_lpm(f);
	uint32_t ips[256], bulk[256], x4[256], want[256];
	int best[256];
	base &= 0xFFFFFF00u;
	for (unsigned j = 0; j < 256; j++) {
		ips[j] = base | j;
		want[j] = MISS;
		best[j] = -1;
	}
	/* the reference, one pass over the rules for the whole /24 */
	for (uint32_t i = 0; i < ref_n; i++) {
		const struct rrule *r = &ref[i];
		uint32_t m = mask_of(r->depth);
		if (((base ^ r->ip) & m & 0xFFFFFF00u) != 0)
			continue;
		unsigned lo = r->depth >= 24 ? (r->ip & 0xFF) : 0;
		unsigned hi = r->depth >= 24 ? lo + (1u << (32 - r->depth)) : 256;
		for (unsigned j = lo; j < hi; j++)
			if ((int)r->depth > best[j]) {
				best[j] = r->depth;
				want[j] = r->nh;
			}
	}
	rte_lpm_lookup_bulk(lpm, ips, bulk, 256);
	for (unsigned j = 0; j < 256; j += 4)
		rte_lpm_lookupx4(lpm, _mm_loadu_si128((const __m128i *)&ips[j]), &x4[j], MISS);
	for (unsigned j = 0; j < 256; j++) {
		uint32_t one = lpm_get(lpm, ips[j]);
		uint32_t b = (bulk[j] & RTE_LPM_LOOKUP_SUCCESS) ? bulk[j] & 0xFFFFFF : MISS;
		CHECK(one == want[j] && b == want[j] && x4[j] == want[j],
			"%s: sweep %s: lookup %d bulk %d x4 %d want %d", ctx, ipstr(ips[j]), (int)one, (int)b,
			(int)x4[j], (int)want[j]);
	}
}

/* ---- randomized differential test ---- */

struct pools {
	uint32_t p16[4]; /* /16 bases */
	uint8_t deep[16]; /* third octets that get rules longer than /24 */
	uint8_t mid[32]; /* third octets for /17../24 (includes the deep ones) */
};

static void
gen_rule(const struct pools *p, uint32_t *ip, uint8_t *depth)
{
	uint32_t r = rnd_below(1000);
	uint32_t base = p->p16[rnd_below(4)];
	unsigned d;
	uint32_t a;
	if (r < 3) {
		d = 0; /* rare: each change sweeps all of tbl24 */
		a = (uint32_t)rnd();
	} else if (r < 60) {
		d = 1 + rnd_below(15); /* 1..15, covering a pool */
		a = base | (uint32_t)(rnd() & 0xFFFF);
	} else if (r < 450) {
		d = 16 + rnd_below(9); /* 16..24 */
		a = base | ((uint32_t)p->mid[rnd_below(32)] << 8) | (rnd() & 0xFF);
	} else {
		d = 25 + rnd_below(8); /* 25..32 */
		a = base | ((uint32_t)p->deep[rnd_below(16)] << 8) | (rnd() & 0xFF);
	}
	*ip = a & mask_of(d);
	*depth = (uint8_t)d;
}

static uint32_t
gen_nh(void)
{
	uint32_t r = rnd_below(100);
	if (r == 0)
		return 0;
	if (r == 1)
		return DP_FIB_MAX_NH;
	return 1 + rnd_below(DP_FIB_MAX_NH - 1);
}

static uint32_t
rule_addr(uint32_t ip, unsigned depth)
{
	uint32_t span = ~mask_of(depth);
	switch (rnd_below(4)) {
	case 0:
		return ip;
	case 1:
		return ip | span;
	default:
		return ip | ((uint32_t)rnd() & span);
	}
}

static void
check_checkpoint(struct dp_fib *f, const struct pools *p, const char *ctx)
{
	for (unsigned k = 0; k < 4; k++) {
		for (unsigned i = 0; i < 16; i += 3)
			sweep24(f, p->p16[k] | ((uint32_t)p->deep[i] << 8), ctx);
		sweep24(f, p->p16[k] | ((uint32_t)p->mid[rnd_below(32)] << 8), ctx);
		sweep24(f, p->p16[k] | (rnd() & 0xFF00), ctx);
	}
	for (unsigned i = 0; i < 64; i++)
		check_addr(f, (uint32_t)rnd(), ctx);
	CHECK(dp_fib_rules(f) == ref_n, "%s: rules %u, want %u", ctx, dp_fib_rules(f), ref_n);
	uint32_t g = ref_groups();
	CHECK(dp_fib_tbl8_used(f) == g, "%s: tbl8 used %u, want %u", ctx, dp_fib_tbl8_used(f), g);
}

/* After everything was deleted the tables must be entirely empty. */
static void
check_empty(struct dp_fib *f, const char *ctx)
{
	const struct rte_lpm *lpm = dp_fib_lpm(f);
	uint32_t bad = 0;
	for (uint32_t i = 0; i < RTE_LPM_TBL24_NUM_ENTRIES; i++)
		bad += raw(&lpm->tbl24[i]) != 0;
	CHECK(bad == 0, "%s: %u tbl24 entries left non-zero with no rules", ctx, bad);
	CHECK(dp_fib_rules(f) == 0 && dp_fib_tbl8_used(f) == 0, "%s: rules %u tbl8 used %u", ctx, dp_fib_rules(f),
		dp_fib_tbl8_used(f));
}

static void
random_test(uint64_t seed, unsigned n_ops, unsigned every)
{
	char err[256];
	char ctx[96];
	rng_state = seed;
	struct pools p;
	for (unsigned k = 0; k < 4; k++)
		p.p16[k] = (uint32_t)rnd() & 0xFFFF0000u;
	p.p16[3] = 0; /* 0.0.0.0/16: next to the default route's and /1's edges */
	for (unsigned i = 0; i < 16; i++)
		p.deep[i] = (uint8_t)(i == 0 ? 0 : i == 1 ? 255 : rnd());
	for (unsigned i = 0; i < 32; i++)
		p.mid[i] = i < 16 ? p.deep[i] : (uint8_t)rnd();

	/* few groups, so allocation, exhaustion and reuse all happen */
	const uint32_t groups = 52; /* < the 64 /24s that get deep rules */
	struct dp_fib *f = dp_fib_create("t_rand", SOCKET_ID_ANY, 4096, groups, NULL, err, sizeof(err));
	if (!f) {
		CHECK(0, "create: %s", err);
		return;
	}
	ref_n = 0;
	unsigned long n_add = 0, n_repl = 0, n_del = 0, n_nospc = 0, n_noent = 0, drains = 0;
	uint32_t target = 1200;
	int shrinking = 0;
	unsigned long fail0 = failures;

	for (unsigned op = 1; op <= n_ops; op++) {
		snprintf(ctx, sizeof(ctx), "seed %" PRIu64 " op %u", seed, op);
		if (!shrinking && ref_n >= target)
			shrinking = 1;
		uint32_t r = rnd_below(100);
		uint32_t ip;
		uint8_t depth;
		if (ref_n && r < (shrinking ? 70u : 25u)) {
			/* delete an existing rule (sometimes one that isn't there) */
			if (rnd_below(20) == 0) {
				gen_rule(&p, &ip, &depth);
				int rc = dp_fib_delete(f, ip, depth);
				int want = ref_find(ip, depth) < 0 ? -ENOENT : 0;
				CHECK(rc == want, "%s: delete %s/%u -> %d, want %d", ctx, ipstr(ip), depth, rc, want);
				if (rc == -ENOENT)
					n_noent++;
				if (rc == 0 && want == 0) {
					int k = ref_find(ip, depth);
					ref[k] = ref[--ref_n];
					n_del++;
				}
			} else {
				uint32_t k = rnd_below(ref_n);
				ip = ref[k].ip;
				depth = ref[k].depth;
				/* host bits set on purpose: the FIB masks them */
				int rc = dp_fib_delete(f, ip | (~mask_of(depth) & (uint32_t)rnd()), depth);
				CHECK(rc == 0, "%s: delete %s/%u -> %d", ctx, ipstr(ip), depth, rc);
				ref[k] = ref[--ref_n];
				n_del++;
			}
		} else {
			if (ref_n && rnd_below(4) == 0) {
				uint32_t k = rnd_below(ref_n);
				ip = ref[k].ip;
				depth = ref[k].depth;
			} else {
				gen_rule(&p, &ip, &depth);
			}
			uint32_t nh = gen_nh();
			int k = ref_find(ip, depth);
			int rc = dp_fib_add(f, ip | (~mask_of(depth) & (uint32_t)rnd()), depth, nh);
			if (rc == -ENOSPC) {
				/* legitimate only for a new rule that needs a new group with none free */
				CHECK(k < 0 && depth > 24 && dp_fib_tbl8_used(f) == groups,
					"%s: add %s/%u -> ENOSPC with %u groups used", ctx, ipstr(ip), depth,
					dp_fib_tbl8_used(f));
				n_nospc++;
			} else {
				CHECK(rc == 0, "%s: add %s/%u nh %u -> %d", ctx, ipstr(ip), depth, nh, rc);
				if (k >= 0) {
					ref[k].nh = nh;
					n_repl++;
				} else {
					ref[ref_n++] = (struct rrule){ip, depth, nh};
					n_add++;
				}
			}
		}
		/* the changed prefix, its edges, and two random pool addresses */
		for (unsigned i = 0; i < 4; i++)
			check_addr(f, rule_addr(ip, depth), ctx);
		check_addr(f, p.p16[rnd_below(4)] | ((uint32_t)p.deep[rnd_below(16)] << 8) | (rnd() & 0xFF), ctx);
		check_addr(f, p.p16[rnd_below(4)] | (rnd() & 0xFFFF), ctx);

		if (op % every == 0 || op == n_ops)
			check_checkpoint(f, &p, ctx);
		if (shrinking && ref_n == 0) {
			check_empty(f, ctx);
			drains++;
			shrinking = 0;
			target = 200 + rnd_below(2000);
		}
		if (failures - fail0 > 20)
			break;
	}
	/* delete everything left: groups all come back, the tables are empty */
	while (ref_n) {
		uint32_t k = rnd_below(ref_n);
		int rc = dp_fib_delete(f, ref[k].ip, ref[k].depth);
		CHECK(rc == 0, "seed %" PRIu64 " final delete -> %d", seed, rc);
		ref[k] = ref[--ref_n];
		if (ref_n % 97 == 0)
			check_checkpoint(f, &p, "final drain");
	}
	check_empty(f, "final drain");
	printf("random seed %" PRIu64 ": %u ops (%lu adds, %lu replaces, %lu deletes, %lu ENOENT, %lu ENOSPC), "
	       "%u drains to empty, mismatches %lu\n",
		seed, n_ops, n_add, n_repl, n_del, n_noent, n_nospc, (unsigned)drains + 1, failures - fail0);
	dp_fib_free(f);
}

/* ---- targeted tests ---- */

static uint32_t
A(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return (uint32_t)a << 24 | b << 16 | c << 8 | d;
}

static void
default_route_test(void)
{
	unsigned long fail0 = failures;
	char err[256];
	struct dp_fib *f = dp_fib_create("t_def", SOCKET_ID_ANY, 64, 16, NULL, err, sizeof(err));
	CHECK(f, "create: %s", err);
	if (!f)
		return;
	const struct rte_lpm *lpm = dp_fib_lpm(f);
	CHECK(lpm_get(lpm, A(1, 2, 3, 4)) == MISS, "empty table hits");
	CHECK(dp_fib_add(f, A(9, 9, 9, 9), 0, 7) == 0, "add 0/0");
	CHECK(lpm_get(lpm, A(1, 2, 3, 4)) == 7 && lpm_get(lpm, 0) == 7 && lpm_get(lpm, ~0u) == 7,
		"default route not everywhere");
	uint32_t nh = 0;
	CHECK(dp_fib_lookup_rule(f, 0, 0, &nh) == 0 && nh == 7, "lookup_rule 0/0");
	CHECK(dp_fib_add(f, A(10, 0, 0, 0), 8, 5) == 0, "add /8");
	CHECK(dp_fib_add(f, A(10, 1, 1, 0), 28, 6) == 0, "add /28");
	CHECK(dp_fib_add(f, A(11, 1, 1, 64), 26, 8) == 0, "add /26 under the default only");
	CHECK(dp_fib_tbl8_used(f) == 2, "groups %u", dp_fib_tbl8_used(f));
	CHECK(lpm_get(lpm, A(10, 1, 1, 5)) == 6 && lpm_get(lpm, A(10, 1, 1, 100)) == 5 &&
			lpm_get(lpm, A(11, 0, 0, 1)) == 7 && lpm_get(lpm, A(11, 1, 1, 65)) == 8 &&
			lpm_get(lpm, A(11, 1, 1, 1)) == 7,
		"default + longer rules");
	uint32_t x4[4];
	rte_lpm_lookupx4(lpm,
		_mm_set_epi32((int)A(11, 1, 1, 1), (int)A(11, 1, 1, 65), (int)A(10, 1, 1, 100), (int)A(200, 0, 0, 1)),
		x4, MISS);
	CHECK(x4[0] == 7 && x4[1] == 5 && x4[2] == 8 && x4[3] == 7, "lookupx4 with default: %u %u %u %u", x4[0], x4[1],
		x4[2], x4[3]);
	CHECK(dp_fib_add(f, 0, 0, 17) == 0, "replace 0/0");
	CHECK(lpm_get(lpm, A(11, 1, 1, 1)) == 17 && lpm_get(lpm, A(99, 0, 0, 0)) == 17 &&
			lpm_get(lpm, A(10, 1, 1, 100)) == 5,
		"replaced default");
	CHECK(dp_fib_delete(f, A(10, 0, 0, 0), 8) == 0, "delete /8");
	CHECK(lpm_get(lpm, A(10, 1, 1, 100)) == 17 && lpm_get(lpm, A(10, 1, 1, 5)) == 6, "/8 gone");
	CHECK(dp_fib_delete(f, 0, 0) == 0, "delete 0/0");
	CHECK(lpm_get(lpm, A(10, 1, 1, 100)) == MISS && lpm_get(lpm, A(99, 0, 0, 0)) == MISS &&
			lpm_get(lpm, A(10, 1, 1, 5)) == 6 && lpm_get(lpm, A(11, 1, 1, 65)) == 8,
		"default gone");
	CHECK(dp_fib_delete(f, 0, 0) == -ENOENT, "delete 0/0 twice");
	CHECK(dp_fib_add(f, 0, 0, 3) == 0, "re-add 0/0");
	CHECK(dp_fib_delete(f, A(10, 1, 1, 0), 28) == 0, "delete /28");
	CHECK(dp_fib_tbl8_used(f) == 1, "group of the /28 not collapsed: %u", dp_fib_tbl8_used(f));
	CHECK(raw(&lpm->tbl24[A(10, 1, 1, 0) >> 8]) == (RTE_LPM_LOOKUP_SUCCESS | 3u),
		"collapsed tbl24 entry is not the default entry");
	CHECK(dp_fib_delete(f, A(11, 1, 1, 64), 26) == 0 && dp_fib_delete(f, 0, 0) == 0, "delete rest");
	check_empty(f, "default route test");
	/* invalid arguments */
	CHECK(dp_fib_add(f, 0, 33, 1) == -EINVAL, "depth 33");
	CHECK(dp_fib_add(f, 0, 8, 1u << 24) == -EINVAL, "nh 2^24");
	CHECK(dp_fib_delete(f, 0, 33) == -EINVAL, "delete depth 33");
	CHECK(dp_fib_delete(f, A(1, 0, 0, 0), 8) == -ENOENT, "delete absent");
	CHECK(dp_fib_lookup_rule(f, A(1, 0, 0, 0), 8, &nh) == -ENOENT, "lookup_rule absent");
	dp_fib_free(f);
	printf("default route (0/0 as valid depth-0 entries): %s\n", failures == fail0 ? "ok" : "FAILED");
}

static size_t
snapshot(const struct dp_fib *f, uint32_t **out)
{
	const struct rte_lpm *lpm = dp_fib_lpm(f);
	size_t n24 = RTE_LPM_TBL24_NUM_ENTRIES, n8 = (size_t)dp_fib_tbl8_groups(f) * 256;
	uint32_t *s = malloc((n24 + n8) * 4);
	memcpy(s, lpm->tbl24, n24 * 4);
	memcpy(s + n24, lpm->tbl8, n8 * 4);
	*out = s;
	return (n24 + n8) * 4;
}

static void
limits_test(void)
{
	unsigned long fail0 = failures;
	char err[256];
	/* tbl8 exhaustion */
	struct dp_fib *f = dp_fib_create("t_tbl8", SOCKET_ID_ANY, 1000, 8, NULL, err, sizeof(err));
	CHECK(f, "create: %s", err);
	if (!f)
		return;
	CHECK(dp_fib_add(f, 0, 0, 1) == 0 && dp_fib_add(f, A(20, 0, 0, 0), 16, 2) == 0, "base rules");
	for (unsigned i = 0; i < 8; i++)
		CHECK(dp_fib_add(f, A(20, 0, i, 7), 32, 100 + i) == 0, "add /32 %u", i);
	CHECK(dp_fib_tbl8_used(f) == 8, "used %u", dp_fib_tbl8_used(f));
	uint32_t *before, *after;
	size_t sz = snapshot(f, &before);
	uint32_t rules = dp_fib_rules(f);
	CHECK(dp_fib_add(f, A(20, 0, 8, 7), 32, 9) == -ENOSPC, "9th group");
	CHECK(dp_fib_add(f, A(21, 0, 0, 0), 25, 9) == -ENOSPC, "9th group /25");
	snapshot(f, &after);
	CHECK(memcmp(before, after, sz) == 0 && dp_fib_rules(f) == rules, "tables changed by a failed add");
	uint32_t nh;
	CHECK(dp_fib_lookup_rule(f, A(20, 0, 8, 7), 32, &nh) == -ENOENT, "failed rule stored");
	free(after);
	CHECK(dp_fib_add(f, A(20, 0, 3, 8), 30, 55) == 0, "a /30 in an existing group still fits");
	CHECK(lpm_get(dp_fib_lpm(f), A(20, 0, 3, 9)) == 55 && lpm_get(dp_fib_lpm(f), A(20, 0, 8, 7)) == 2,
		"lookups after exhaustion");
	/* bulk: stops at the first failure, returns the count, -errno when nothing was added */
	uint32_t ips[3] = {A(20, 0, 0, 9), A(20, 0, 9, 9), A(20, 0, 1, 9)};
	uint8_t ds[3] = {32, 32, 32};
	uint32_t nhs[3] = {1, 2, 3};
	CHECK(dp_fib_add_bulk(f, ips, ds, nhs, 3) == 1, "bulk partial");
	CHECK(dp_fib_add_bulk(f, ips + 1, ds + 1, nhs + 1, 2) == -ENOSPC, "bulk none");
	CHECK(dp_fib_delete(f, A(20, 0, 5, 7), 32) == 0, "free a group");
	CHECK(dp_fib_tbl8_used(f) == 7, "used after delete %u", dp_fib_tbl8_used(f));
	CHECK(dp_fib_add_bulk(f, ips + 1, ds + 1, nhs + 1, 2) == 2, "bulk after a group was freed");
	free(before);
	dp_fib_free(f);

	/* rule capacity */
	f = dp_fib_create("t_rules", SOCKET_ID_ANY, 100, 8, NULL, err, sizeof(err));
	CHECK(f, "create: %s", err);
	if (!f)
		return;
	for (unsigned i = 0; i < 99; i++)
		CHECK(dp_fib_add(f, A(30, 0, i, 0), 24, i) == 0, "add %u", i);
	CHECK(dp_fib_add(f, 0, 0, 9) == 0, "100th rule: the default");
	sz = snapshot(f, &before);
	CHECK(dp_fib_add(f, A(31, 0, 0, 0), 24, 1) == -ENOSPC, "101st rule");
	CHECK(dp_fib_add(f, A(31, 0, 0, 0), 0, 1) == 0, "replace the default at capacity");
	CHECK(dp_fib_add(f, A(31, 0, 0, 0), 0, 9) == 0, "and back");
	snapshot(f, &after);
	CHECK(memcmp(before, after, sz) == 0 && dp_fib_rules(f) == 100, "tables changed at capacity");
	CHECK(dp_fib_add(f, A(30, 0, 5, 0), 24, 77) == 0, "replace at capacity");
	CHECK(dp_fib_delete(f, A(30, 0, 6, 0), 24) == 0 && dp_fib_add(f, A(31, 0, 0, 0), 24, 1) == 0,
		"add after delete at capacity");
	free(before);
	free(after);
	dp_fib_free(f);

	/* RCU deferral: a freed group isn't reused before the readers report */
	size_t qsz = rte_rcu_qsbr_get_memsize(1);
	struct rte_rcu_qsbr *q = rte_zmalloc("t_qsv", qsz, RTE_CACHE_LINE_SIZE);
	rte_rcu_qsbr_init(q, 1);
	rte_rcu_qsbr_thread_register(q, 0);
	rte_rcu_qsbr_thread_online(q, 0);
	f = dp_fib_create("t_rcu", SOCKET_ID_ANY, 100, 4, q, err, sizeof(err));
	CHECK(f, "create: %s", err);
	if (!f)
		return;
	const struct rte_lpm *lpm = dp_fib_lpm(f);
	CHECK(dp_fib_add(f, A(40, 0, 0, 1), 32, 1) == 0 && dp_fib_add(f, A(40, 0, 1, 1), 32, 2) == 0, "add");
	uint32_t g0 = raw(&lpm->tbl24[A(40, 0, 0, 0) >> 8]) & 0xFFFFFF;
	uint32_t old[256];
	CHECK(dp_fib_delete(f, A(40, 0, 0, 1), 32) == 0, "delete");
	memcpy(old, &lpm->tbl8[g0 * 256], sizeof(old));
	CHECK(dp_fib_tbl8_used(f) == 1 && dp_fib_tbl8_pending(f) == 1, "used %u pending %u", dp_fib_tbl8_used(f),
		dp_fib_tbl8_pending(f));
	CHECK(lpm_get(lpm, A(40, 0, 0, 1)) == MISS, "unlinked");
	CHECK(dp_fib_add(f, A(40, 0, 2, 1), 32, 3) == 0 && dp_fib_add(f, A(40, 0, 3, 1), 32, 4) == 0, "add 2");
	CHECK(dp_fib_tbl8_pending(f) == 1 && memcmp(old, &lpm->tbl8[g0 * 256], sizeof(old)) == 0,
		"a group was reused or changed inside its grace period");
	rte_rcu_qsbr_quiescent(q, 0);
	CHECK(dp_fib_add(f, A(40, 0, 4, 1), 32, 5) == 0, "add after quiescent");
	CHECK(dp_fib_tbl8_pending(f) == 0 && dp_fib_tbl8_used(f) == 4, "pending %u used %u", dp_fib_tbl8_pending(f),
		dp_fib_tbl8_used(f));
	CHECK(dp_fib_add(f, A(40, 0, 5, 1), 32, 6) == -ENOSPC, "exhausted with RCU");
	/* last resort: free stack empty, the reader went offline -> waits, then reuses */
	CHECK(dp_fib_delete(f, A(40, 0, 2, 1), 32) == 0, "delete 2");
	rte_rcu_qsbr_thread_offline(q, 0);
	CHECK(dp_fib_add(f, A(40, 0, 5, 1), 32, 6) == 0 && dp_fib_tbl8_pending(f) == 0, "reuse via wait");
	CHECK(lpm_get(lpm, A(40, 0, 5, 1)) == 6 && lpm_get(lpm, A(40, 0, 2, 1)) == MISS, "after reuse");
	dp_fib_free(f);
	rte_free(q);
	printf("limits (tbl8 exhaustion, rule capacity, bulk, RCU deferral): %s\n",
		failures == fail0 ? "ok" : "FAILED");
}

/* ---- concurrent reader ---- */

#define C_N24 32
static struct rte_rcu_qsbr *c_qsv;
static struct dp_fib *c_fib;
static atomic_int c_stop;
static atomic_ulong c_bad, c_lookups;

/* Anchors: 100.64.m.0/24 -> 300+m and 100.65.k.0/26 -> 500+k never change; churn only
 * touches addresses >= .128 of those /24s. */
static int
reader(void *arg)
{
	(void)arg;
	const struct rte_lpm *lpm = dp_fib_lpm(c_fib);
	rte_rcu_qsbr_thread_register(c_qsv, 0);
	rte_rcu_qsbr_thread_online(c_qsv, 0);
	uint64_t x = 12345;
	unsigned long bad = 0, n = 0;
	while (!atomic_load_explicit(&c_stop, memory_order_relaxed)) {
		for (unsigned i = 0; i < 64; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			unsigned m = (unsigned)(x >> 40) % C_N24, h = (unsigned)(x >> 20) & 63;
			uint32_t nh;
			if (rte_lpm_lookup(lpm, A(100, 64, m, h), &nh) != 0 || nh != 300 + m)
				bad++;
			if (rte_lpm_lookup(lpm, A(100, 65, m, h), &nh) != 0 || nh != 500 + m)
				bad++;
			n += 2;
		}
		rte_rcu_qsbr_quiescent(c_qsv, 0);
	}
	rte_rcu_qsbr_thread_offline(c_qsv, 0);
	rte_rcu_qsbr_thread_unregister(c_qsv, 0);
	atomic_store(&c_bad, bad);
	atomic_store(&c_lookups, n);
	return 0;
}

static void
concurrent_test(unsigned ops)
{
	unsigned lcore = rte_get_next_lcore(-1, 1, 0);
	if (lcore >= RTE_MAX_LCORE) {
		printf("concurrent reader: skipped (one lcore; run with -l 0-1)\n");
		return;
	}
	char err[256];
	c_qsv = rte_zmalloc("t_cqsv", rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);
	rte_rcu_qsbr_init(c_qsv, 1);
	/* fewer groups than /24s with churn: groups are freed and reused all the time */
	c_fib = dp_fib_create("t_conc", SOCKET_ID_ANY, 10000, 24, c_qsv, err, sizeof(err));
	CHECK(c_fib, "create: %s", err);
	if (!c_fib)
		return;
	/* 100.65.0-7 hold a /26 anchor (a group for good); the other /24s only a /24 anchor */
	for (unsigned m = 0; m < C_N24; m++) {
		CHECK(dp_fib_add(c_fib, A(100, 64, m, 0), 24, 300 + m) == 0, "anchor");
		CHECK(dp_fib_add(c_fib, A(100, 65, m, 0), m < 8 ? 26 : 24, 500 + m) == 0, "anchor 100.65");
	}
	atomic_store(&c_stop, 0);
	rte_eal_remote_launch(reader, NULL, lcore);
	rng_state = 99;
	uint32_t live[4096];
	unsigned n_live = 0, nospc = 0;
	double t0 = now_s();
	for (unsigned op = 0; op < ops; op++) {
		if (n_live && (n_live > 64 || rnd_below(2))) {
			unsigned k = rnd_below(n_live);
			uint32_t ip = live[k] & ~63u;
			unsigned d = 26 + (live[k] & 7);
			CHECK(dp_fib_delete(c_fib, ip, (uint8_t)d) == 0, "churn delete");
			live[k] = live[--n_live];
		} else {
			uint32_t ip = A(100, 64 + rnd_below(2), rnd_below(C_N24), 128 + (rnd_below(2) << 6));
			unsigned d = 26 + rnd_below(7);
			uint32_t nh;
			if (dp_fib_lookup_rule(c_fib, ip, (uint8_t)d, &nh) == 0)
				continue;
			int rc = dp_fib_add(c_fib, ip, (uint8_t)d, 1000 + op % 1000);
			if (rc == -ENOSPC) {
				nospc++;
				continue;
			}
			CHECK(rc == 0, "churn add -> %d", rc);
			live[n_live++] = ip | (d - 26); /* ip's low 6 bits are 0 */
		}
	}
	double dt = now_s() - t0;
	atomic_store(&c_stop, 1);
	rte_eal_wait_lcore(lcore);
	unsigned long bad = atomic_load(&c_bad), n = atomic_load(&c_lookups);
	CHECK(bad == 0, "concurrent reader saw %lu wrong answers in %lu lookups", bad, n);
	CHECK(n > 0, "reader did nothing");
	printf("concurrent reader: %u writer ops in %.2f s (%u ENOSPC), %lu reader lookups, %lu wrong\n", ops, dt,
		nospc, n, bad);
	dp_fib_free(c_fib);
	rte_free(c_qsv);
}

/* ---- 1M routes: timing, and a cross-check against rte_lpm_add on a sample ---- */

static void
gen_realistic(uint32_t n, uint32_t *ips, uint8_t *ds, uint32_t *nhs, unsigned *mix)
{
	uint32_t n24 = 0;
	static uint32_t recent[32768];
	for (uint32_t i = 0; i < n; i++) {
		uint32_t r = rnd_below(1000);
		unsigned d;
		uint32_t a = A(1, 0, 0, 0) + rnd_below(A(223, 255, 255, 255) - A(1, 0, 0, 0));
		if (r < 2) {
			d = 8 + rnd_below(8);
			mix[0]++;
		} else if (r < 102) {
			d = 16 + rnd_below(8);
			mix[1]++;
		} else if (r < 202) {
			/* more-specifics inside /24s announced earlier: bounded tbl8 use */
			d = 25 + rnd_below(8);
			if (n24)
				a = recent[rnd_below(n24 < 32768 ? n24 : 32768)] | (a & 0xFF);
			mix[3]++;
		} else {
			d = 24;
			if (n24 < 32768)
				recent[n24++] = a & 0xFFFFFF00u;
			mix[2]++;
		}
		ips[i] = a & mask_of(d);
		ds[i] = (uint8_t)d;
		nhs[i] = rnd_below(65536);
	}
}

static void
scale_test(uint32_t n)
{
	char err[256];
	uint32_t *ips = malloc(n * 4), *nhs = malloc(n * 4);
	uint8_t *ds = malloc(n);
	unsigned mix[4] = {0};
	rng_state = 2024;
	gen_realistic(n, ips, ds, nhs, mix);

	struct dp_fib *f = dp_fib_create("t_1m", SOCKET_ID_ANY, 1u << 20, 65536, NULL, err, sizeof(err));
	CHECK(f, "create: %s", err);
	if (!f)
		return;
	double t0 = now_s();
	int got = dp_fib_add_bulk(f, ips, ds, nhs, n);
	double dt = now_s() - t0;
	struct rte_malloc_socket_stats ms;
	size_t heap = 0;
	for (int s = 0; s < (int)rte_socket_count(); s++)
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(s), &ms) == 0)
			heap += ms.heap_allocsz_bytes;
	t0 = now_s();
	CHECK(dp_fib_add(f, 0, 0, 1) == 0 && dp_fib_delete(f, 0, 0) == 0, "default route on 1M");
	double tdef = (now_s() - t0) / 2;
	CHECK(got == (int)n, "bulk added %d of %u", got, n);
	/* every rule is stored, and a /32 (nothing longer exists) looks up exactly */
	uint32_t bad = 0;
	for (uint32_t i = 0; i < n; i += 7) {
		uint32_t nh;
		if (dp_fib_lookup_rule(f, ips[i], ds[i], &nh) != 0)
			bad++;
		if (ds[i] == 32 && dp_fib_lookup_rule(f, ips[i], 32, &nh) == 0 && lpm_get(dp_fib_lpm(f), ips[i]) != nh)
			bad++;
	}
	CHECK(bad == 0, "1M: %u rules missing or wrong", bad);
	printf("1M load: %u routes (/8-/15 %u, /16-/23 %u, /24 %u, /25-/32 %u), %u distinct rules, "
	       "bulk add %.3f s, tbl8 groups used %u of 65536\n",
		n, mix[0], mix[1], mix[2], mix[3], dp_fib_rules(f), dt, dp_fib_tbl8_used(f));
	t0 = now_s();
	for (uint32_t i = 0; i < n; i++)
		dp_fib_delete(f, ips[i], ds[i]);
	dt = now_s() - t0;
	CHECK(dp_fib_rules(f) == 0 && dp_fib_tbl8_used(f) == 0, "after deleting all: rules %u groups %u",
		dp_fib_rules(f), dp_fib_tbl8_used(f));
	printf("1M delete: %.3f s; hugepage heap in use after the load %.0f MiB; 0/0 add or delete with 1M routes %.1f "
	       "ms\n",
		dt, heap / 1048576.0, tdef * 1e3);
	dp_fib_free(f);

	/* cross-check with rte_lpm itself on the first 30k routes of the same mix */
	uint32_t m = n < 30000 ? n : 30000;
	struct rte_lpm_config lc = {.max_rules = m, .number_tbl8s = 65536};
	struct rte_lpm *ref_lpm = rte_lpm_create("t_reflpm", SOCKET_ID_ANY, &lc);
	f = dp_fib_create("t_cmp", SOCKET_ID_ANY, m, 65536, NULL, err, sizeof(err));
	CHECK(ref_lpm && f, "create for the cross-check");
	if (!ref_lpm || !f)
		return;
	for (uint32_t i = 0; i < m; i++) {
		rte_lpm_add(ref_lpm, ips[i], ds[i], nhs[i]);
		dp_fib_add(f, ips[i], ds[i], nhs[i]);
	}
	/* delete a third, in both */
	for (uint32_t i = 0; i < m; i += 3) {
		int a = rte_lpm_delete(ref_lpm, ips[i], ds[i]), b = dp_fib_delete(f, ips[i], ds[i]);
		CHECK((a == 0) == (b == 0), "delete disagrees: %d %d", a, b);
	}
	uint32_t diff = 0, probes = 0;
	for (uint32_t i = 0; i < m; i++) {
		uint32_t span = ~mask_of(ds[i]);
		uint32_t pts[3] = {ips[i], ips[i] | span, ips[i] | ((uint32_t)rnd() & span)};
		for (unsigned k = 0; k < 3; k++, probes++)
			diff += lpm_get(ref_lpm, pts[k]) != lpm_get(dp_fib_lpm(f), pts[k]);
	}
	for (uint32_t i = 0; i < 1000000; i++, probes++) {
		uint32_t a = (uint32_t)rnd();
		diff += lpm_get(ref_lpm, a) != lpm_get(dp_fib_lpm(f), a);
	}
	CHECK(diff == 0, "rte_lpm and dp_fib disagree on %u of %u addresses", diff, probes);
	printf("cross-check vs rte_lpm_add/delete (%u routes, a third deleted): %u addresses, %u differ\n", m, probes,
		diff);
	rte_lpm_free(ref_lpm);
	dp_fib_free(f);
	free(ips);
	free(nhs);
	free(ds);
}

int
main(int argc, char **argv)
{
	int n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "EAL init failed: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	argc -= n;
	argv += n;
	unsigned ops = 100000, seeds = 4;
	uint32_t big = 1000000;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ops") && i + 1 < argc)
			ops = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--seeds") && i + 1 < argc)
			seeds = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--routes") && i + 1 < argc)
			big = (uint32_t)strtoul(argv[++i], NULL, 0);
	}
	ref = malloc(sizeof(*ref) * 8192);

	default_route_test();
	limits_test();
	double t0 = now_s();
	for (unsigned s = 1; s <= seeds; s++)
		random_test(s * 7919, ops, 1000);
	printf("random: %u seeds x %u ops in %.1f s\n", seeds, ops, now_s() - t0);
	concurrent_test(200000);
	scale_test(big);

	printf("%lu checks, %lu failures\n", checks, failures);
	rte_eal_cleanup();
	return failures ? 1 : 0;
}
