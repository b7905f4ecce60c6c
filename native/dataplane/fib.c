/* SPDX-License-Identifier: BSD-3-Clause */
/* dp_fib: rte_lpm tables written with an O(1) rule store. See fib.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* DPDK's headers need POSIX types (ssize_t) even under -std=c17 */
#endif
#include "fib.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_lpm.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

/* Table entry bits (struct rte_lpm_tbl_entry as one uint32_t, little or big endian alike
 * through the masks rte_lpm's own lookups use). */
#define E_NH_MASK 0x00FFFFFFu
#define E_VALID RTE_LPM_LOOKUP_SUCCESS /* bit 24 */
#define E_VG 0x02000000u /* valid_group: tbl24 extended / tbl8 group in use */
#define E_DEPTH_SHIFT 26
#define E_EXT (E_VALID | E_VG)

#define GROUP_ENTRIES RTE_LPM_TBL8_GROUP_NUM_ENTRIES

/* Hash slot: bit 63 occupied, bits 0-31 ip (masked), 32-37 depth, 38-61 next hop. */
#define S_OCC (1ull << 63)
#define S_KEY_MASK (S_OCC | 0x3FFFFFFFFFull)
#define S_NH_SHIFT 38

struct deferred {
	uint32_t group;
	uint64_t token;
};

struct dp_fib {
	struct rte_lpm *lpm;
	uint32_t *t24; /* lpm->tbl24 as words */
	uint32_t *t8; /* lpm->tbl8 as words */
	struct rte_rcu_qsbr *qsv;

	uint64_t *slots; /* rule hash */
	uint32_t slot_mask;
	uint32_t slot_shift; /* 64 - log2(slots) */
	uint32_t max_rules;
	uint32_t n_rules;
	uint32_t depth_rules[RTE_LPM_MAX_DEPTH + 1];

	uint32_t def_entry; /* 0, or the default route as a valid depth-0 entry */

	uint32_t n_groups;
	uint32_t *free_stack; /* groups ready for reuse */
	uint32_t n_free;
	struct deferred *fifo; /* groups waiting for a grace period, oldest first */
	uint32_t fifo_head, fifo_len;
};

static inline uint32_t
depth_mask(unsigned depth)
{
	return depth ? ~0u << (32 - depth) : 0;
}

static inline uint32_t
mk_entry(uint32_t nh, unsigned depth)
{
	return nh | E_VALID | ((uint32_t)depth << E_DEPTH_SHIFT);
}

static inline unsigned
e_depth(uint32_t e)
{
	return e >> E_DEPTH_SHIFT;
}

static inline int
e_ext(uint32_t e)
{
	return (e & E_EXT) == E_EXT;
}

static inline void
put(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static int
fail(char *err, size_t errlen, int e, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	rte_errno = e;
	return -e;
}

/* ---- rule hash: linear probing, backward-shift deletion, never more than half full ---- */

static inline uint64_t
rule_key(uint32_t ipm, unsigned depth)
{
	return S_OCC | ((uint64_t)depth << 32) | ipm;
}

static inline uint32_t
rule_home(const struct dp_fib *f, uint64_t key)
{
	uint64_t h = (key & 0x3FFFFFFFFFull) * 0x9E3779B97F4A7C15ull;
	h ^= h >> 31;
	h *= 0xBF58476D1CE4E5B9ull;
	return (uint32_t)(h >> f->slot_shift);
}

/* Index of the slot holding key, or of the empty slot where it would go (*found says which). */
static inline uint32_t
rule_probe(const struct dp_fib *f, uint64_t key, int *found)
{
	uint32_t i = rule_home(f, key);
	for (;;) {
		uint64_t s = f->slots[i];
		if (!(s & S_OCC)) {
			*found = 0;
			return i;
		}
		if ((s & S_KEY_MASK) == key) {
			*found = 1;
			return i;
		}
		i = (i + 1) & f->slot_mask;
	}
}

static inline int
rule_get(const struct dp_fib *f, uint32_t ipm, unsigned depth, uint32_t *nh)
{
	int found;
	uint32_t i = rule_probe(f, rule_key(ipm, depth), &found);
	if (found)
		*nh = (uint32_t)(f->slots[i] >> S_NH_SHIFT) & E_NH_MASK;
	return found;
}

static void
rule_remove_at(struct dp_fib *f, uint32_t i)
{
	uint32_t j = i;
	for (;;) {
		j = (j + 1) & f->slot_mask;
		uint64_t s = f->slots[j];
		if (!(s & S_OCC))
			break;
		uint32_t home = rule_home(f, s & S_KEY_MASK);
		/* move s back into the hole unless its home lies cyclically in (i, j] */
		if (((j - home) & f->slot_mask) >= ((j - i) & f->slot_mask)) {
			f->slots[i] = s;
			i = j;
		}
	}
	f->slots[i] = 0;
}

/* ---- tbl8 groups ---- */

static void
group_release(struct dp_fib *f, uint32_t g)
{
	/* Nobody reads it any more: clear it, valid_group included (rte_lpm's "free" marker). */
	uint32_t *p = &f->t8[(size_t)g * GROUP_ENTRIES];
	for (unsigned j = 0; j < GROUP_ENTRIES; j++)
		__atomic_store_n(&p[j], 0, __ATOMIC_RELAXED);
	f->free_stack[f->n_free++] = g;
}

void
dp_fib_reclaim(struct dp_fib *f)
{
	while (f->fifo_len) {
		struct deferred *d = &f->fifo[f->fifo_head];
		if (rte_rcu_qsbr_check(f->qsv, d->token, false) != 1)
			break;
		group_release(f, d->group);
		f->fifo_head = (f->fifo_head + 1) % f->n_groups;
		f->fifo_len--;
	}
}

static int
group_alloc(struct dp_fib *f, uint32_t *g)
{
	if (f->fifo_len)
		dp_fib_reclaim(f);
	if (!f->n_free && f->fifo_len) {
		/* last resort: wait for the readers to pass the oldest free */
		struct deferred *d = &f->fifo[f->fifo_head];
		rte_rcu_qsbr_check(f->qsv, d->token, true);
		dp_fib_reclaim(f);
	}
	if (!f->n_free)
		return -ENOSPC;
	*g = f->free_stack[--f->n_free];
	return 0;
}

/* The group is unlinked from tbl24 already; readers may still be in it. */
static void
group_free(struct dp_fib *f, uint32_t g)
{
	if (!f->qsv) {
		group_release(f, g);
		return;
	}
	uint32_t tail = (f->fifo_head + f->fifo_len) % f->n_groups;
	f->fifo[tail].group = g;
	f->fifo[tail].token = rte_rcu_qsbr_start(f->qsv);
	f->fifo_len++;
}

/* ---- table updates (rte_lpm's algorithm; a depth-0 valid entry is the default route) ---- */

static void
add_depth_small(struct dp_fib *f, uint32_t ipm, unsigned depth, uint32_t nh)
{
	const uint32_t e24 = mk_entry(nh, depth), e8 = e24 | E_VG;
	const uint32_t first = ipm >> 8, end = first + (1u << (24 - depth));

	for (uint32_t i = first; i < end; i++) {
		uint32_t e = f->t24[i];
		if (!e_ext(e)) {
			if (!(e & E_VALID) || e_depth(e) <= depth)
				put(&f->t24[i], e24);
			continue;
		}
		uint32_t *g = &f->t8[(size_t)(e & E_NH_MASK) * GROUP_ENTRIES];
		for (unsigned j = 0; j < GROUP_ENTRIES; j++)
			if (!(g[j] & E_VALID) || e_depth(g[j]) <= depth)
				put(&g[j], e8);
	}
}

/* new_group: a free group when tbl24[ipm >> 8] is not extended yet. */
static void
add_depth_big(struct dp_fib *f, uint32_t ipm, unsigned depth, uint32_t nh, uint32_t new_group)
{
	const uint32_t e8 = mk_entry(nh, depth) | E_VG;
	const uint32_t i24 = ipm >> 8;
	const unsigned lo = ipm & 0xFF, hi = lo + (1u << (32 - depth));
	uint32_t e = f->t24[i24];

	if (!e_ext(e)) {
		/* fill the whole group (the old tbl24 entry everywhere, the new rule in its range)
		 * before readers can reach it */
		uint32_t *g = &f->t8[(size_t)new_group * GROUP_ENTRIES];
		const uint32_t fill = e | E_VG;
		for (unsigned j = 0; j < GROUP_ENTRIES; j++)
			__atomic_store_n(&g[j], (j >= lo && j < hi) ? e8 : fill, __ATOMIC_RELAXED);
		put(&f->t24[i24], new_group | E_EXT);
		return;
	}
	uint32_t *g = &f->t8[(size_t)(e & E_NH_MASK) * GROUP_ENTRIES];
	for (unsigned j = lo; j < hi; j++)
		if (!(g[j] & E_VALID) || e_depth(g[j]) <= depth)
			put(&g[j], e8);
}

/* repl: the covering rule's entry (tbl24 form), the default route's, or 0. */
static void
delete_depth_small(struct dp_fib *f, uint32_t ipm, unsigned depth, uint32_t repl)
{
	const uint32_t first = ipm >> 8, end = first + (1u << (24 - depth));
	const uint32_t r8 = repl | E_VG;

	for (uint32_t i = first; i < end; i++) {
		uint32_t e = f->t24[i];
		if (!e_ext(e)) {
			if (e_depth(e) <= depth && e != repl)
				put(&f->t24[i], repl);
			continue;
		}
		uint32_t *g = &f->t8[(size_t)(e & E_NH_MASK) * GROUP_ENTRIES];
		for (unsigned j = 0; j < GROUP_ENTRIES; j++)
			if (e_depth(g[j]) <= depth && g[j] != r8)
				put(&g[j], r8);
	}
}

static void
delete_depth_big(struct dp_fib *f, uint32_t ipm, unsigned depth, uint32_t repl)
{
	const uint32_t i24 = ipm >> 8;
	const uint32_t grp = f->t24[i24] & E_NH_MASK;
	const unsigned lo = ipm & 0xFF, hi = lo + (1u << (32 - depth));
	const uint32_t r8 = repl | E_VG;
	uint32_t *g = &f->t8[(size_t)grp * GROUP_ENTRIES];

	for (unsigned j = lo; j < hi; j++)
		if (e_depth(g[j]) <= depth)
			put(&g[j], r8);

	/* Recycle: when no rule longer than /24 is left, all 256 entries hold the same /0../24
	 * value (or are all empty); fold it back into tbl24, then retire the group. */
	const uint32_t v = g[0];
	if (e_depth(v) > 24)
		return;
	for (unsigned j = 1; j < GROUP_ENTRIES; j++)
		if (g[j] != v)
			return;
	put(&f->t24[i24], v & ~E_VG);
	group_free(f, grp);
}

/* Sets the value of every entry no rule of depth >= 1 covers. */
static void
set_default(struct dp_fib *f, uint32_t def)
{
	const uint32_t def8 = def | E_VG;
	for (uint32_t i = 0; i < RTE_LPM_TBL24_NUM_ENTRIES; i++) {
		uint32_t e = f->t24[i];
		if (!e_ext(e)) {
			if ((!(e & E_VALID) || e_depth(e) == 0) && e != def)
				put(&f->t24[i], def);
			continue;
		}
		uint32_t *g = &f->t8[(size_t)(e & E_NH_MASK) * GROUP_ENTRIES];
		for (unsigned j = 0; j < GROUP_ENTRIES; j++)
			if ((!(g[j] & E_VALID) || e_depth(g[j]) == 0) && g[j] != def8)
				put(&g[j], def8);
	}
	f->def_entry = def;
}

/* ---- API ---- */

struct dp_fib *
dp_fib_create(const char *name, int socket, uint32_t max_rules, uint32_t tbl8_groups, struct rte_rcu_qsbr *qsv,
	char *err, size_t errlen)
{
	if (!name || max_rules == 0 || max_rules > (1u << 30) || tbl8_groups == 0 ||
		tbl8_groups > RTE_LPM_MAX_TBL8_NUM_GROUPS) {
		fail(err, errlen, EINVAL, "invalid FIB size: %u rules, %u tbl8 groups", max_rules, tbl8_groups);
		return NULL;
	}
	struct dp_fib *f = rte_zmalloc_socket("dp_fib", sizeof(*f), RTE_CACHE_LINE_SIZE, socket);
	if (!f) {
		fail(err, errlen, ENOMEM, "out of hugepage memory for the FIB");
		return NULL;
	}
	/* rte_lpm's own rule array is never used: keep it at its minimum */
	struct rte_lpm_config lc = {.max_rules = 1, .number_tbl8s = tbl8_groups};
	f->lpm = rte_lpm_create(name, socket, &lc);
	if (!f->lpm) {
		int e = rte_errno;
		rte_free(f);
		fail(err, errlen, e, "cannot create the LPM tables for %u tbl8 groups (%.0f MiB): %s", tbl8_groups,
			(64.0 * 1048576 + 1024.0 * tbl8_groups) / 1048576.0, rte_strerror(e));
		return NULL;
	}
	f->t24 = (uint32_t *)(void *)f->lpm->tbl24;
	f->t8 = (uint32_t *)(void *)f->lpm->tbl8;
	f->qsv = qsv;
	f->max_rules = max_rules;
	f->n_groups = tbl8_groups;

	unsigned bits = 4;
	while ((1ull << bits) < 2ull * max_rules)
		bits++;
	f->slot_mask = (uint32_t)((1ull << bits) - 1);
	f->slot_shift = 64 - bits;
	f->slots = rte_zmalloc_socket("dp_fib_rules", sizeof(uint64_t) << bits, RTE_CACHE_LINE_SIZE, socket);
	f->free_stack = rte_malloc_socket("dp_fib_tbl8_free", sizeof(uint32_t) * tbl8_groups, 0, socket);
	f->fifo = rte_malloc_socket("dp_fib_tbl8_fifo", sizeof(struct deferred) * tbl8_groups, 0, socket);
	if (!f->slots || !f->free_stack || !f->fifo) {
		size_t mib = ((sizeof(uint64_t) << bits) + 20ull * tbl8_groups) >> 20;
		dp_fib_free(f);
		fail(err, errlen, ENOMEM, "out of hugepage memory for the FIB rule store (%zu MiB)", mib);
		return NULL;
	}
	/* lowest groups first */
	for (uint32_t i = 0; i < tbl8_groups; i++)
		f->free_stack[i] = tbl8_groups - 1 - i;
	f->n_free = tbl8_groups;
	return f;
}

void
dp_fib_free(struct dp_fib *f)
{
	if (!f)
		return;
	rte_lpm_free(f->lpm);
	rte_free(f->slots);
	rte_free(f->free_stack);
	rte_free(f->fifo);
	rte_free(f);
}

struct rte_lpm *
dp_fib_lpm(const struct dp_fib *f)
{
	return f->lpm;
}

int
dp_fib_add(struct dp_fib *f, uint32_t ip, uint8_t depth, uint32_t nh)
{
	if (depth > RTE_LPM_MAX_DEPTH || nh > DP_FIB_MAX_NH)
		return -EINVAL;
	const uint32_t ipm = ip & depth_mask(depth);
	const uint64_t key = rule_key(ipm, depth);
	int found;
	uint32_t slot = rule_probe(f, key, &found);

	if (found) {
		if (((f->slots[slot] >> S_NH_SHIFT) & E_NH_MASK) == nh)
			return 0;
		f->slots[slot] = key | ((uint64_t)nh << S_NH_SHIFT);
		/* same entries as an add: a depth > 24 rule's group exists already */
		if (depth == 0)
			set_default(f, mk_entry(nh, 0));
		else if (depth <= 24)
			add_depth_small(f, ipm, depth, nh);
		else
			add_depth_big(f, ipm, depth, nh, 0);
		return 0;
	}

	if (f->n_rules >= f->max_rules)
		return -ENOSPC;
	uint32_t group = 0;
	if (depth > 24 && !e_ext(f->t24[ipm >> 8])) {
		int rc = group_alloc(f, &group);
		if (rc)
			return rc;
	}
	f->slots[slot] = key | ((uint64_t)nh << S_NH_SHIFT);
	f->n_rules++;
	f->depth_rules[depth]++;
	if (depth == 0)
		set_default(f, mk_entry(nh, 0));
	else if (depth <= 24)
		add_depth_small(f, ipm, depth, nh);
	else
		add_depth_big(f, ipm, depth, nh, group);
	return 0;
}

int
dp_fib_delete(struct dp_fib *f, uint32_t ip, uint8_t depth)
{
	if (depth > RTE_LPM_MAX_DEPTH)
		return -EINVAL;
	const uint32_t ipm = ip & depth_mask(depth);
	int found;
	uint32_t slot = rule_probe(f, rule_key(ipm, depth), &found);
	if (!found)
		return -ENOENT;
	rule_remove_at(f, slot);
	f->n_rules--;
	f->depth_rules[depth]--;

	if (depth == 0) {
		set_default(f, 0);
		return 0;
	}
	/* the covering rule: the longest shorter rule containing ipm, else the default route */
	uint32_t repl = f->def_entry;
	for (unsigned d = depth - 1; d > 0; d--) {
		uint32_t nh;
		if (f->depth_rules[d] && rule_get(f, ipm & depth_mask(d), d, &nh)) {
			repl = mk_entry(nh, d);
			break;
		}
	}
	if (depth <= 24)
		delete_depth_small(f, ipm, depth, repl);
	else
		delete_depth_big(f, ipm, depth, repl);
	return 0;
}

int
dp_fib_add_bulk(struct dp_fib *f, const uint32_t *ips, const uint8_t *depths, const uint32_t *nhs, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (i + 8 < n && depths[i + 8] <= RTE_LPM_MAX_DEPTH) {
			uint8_t d = depths[i + 8];
			uint32_t ipm = ips[i + 8] & depth_mask(d);
			rte_prefetch0(&f->slots[rule_home(f, rule_key(ipm, d))]);
			rte_prefetch0(&f->t24[ipm >> 8]);
		}
		int rc = dp_fib_add(f, ips[i], depths[i], nhs[i]);
		if (rc != 0)
			return i ? (int)i : rc;
	}
	return (int)n;
}

int
dp_fib_lookup_rule(const struct dp_fib *f, uint32_t ip, uint8_t depth, uint32_t *nh)
{
	if (depth > RTE_LPM_MAX_DEPTH)
		return -EINVAL;
	return rule_get(f, ip & depth_mask(depth), depth, nh) ? 0 : -ENOENT;
}

uint32_t
dp_fib_rules(const struct dp_fib *f)
{
	return f->n_rules;
}

uint32_t
dp_fib_max_rules(const struct dp_fib *f)
{
	return f->max_rules;
}

uint32_t
dp_fib_tbl8_groups(const struct dp_fib *f)
{
	return f->n_groups;
}

uint32_t
dp_fib_tbl8_used(const struct dp_fib *f)
{
	return f->n_groups - f->n_free - f->fifo_len;
}

uint32_t
dp_fib_tbl8_pending(const struct dp_fib *f)
{
	return f->fifo_len;
}
