/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_fib: the IPv4 FIB's control side. Workers keep looking up in a plain struct rte_lpm
 * (rte_lpm_lookup / _bulk / _lookupx4 on dp_fib_lpm()); this module owns every write to its
 * tbl24/tbl8 tables and replaces rte_lpm's rule array (a per-depth array scanned linearly on
 * every add: O(n) per add, ~270 s for 1M routes) with an open-addressing hash.
 *
 * The table layout and the update algorithm are rte_lpm's (add_depth_small/big,
 * delete_depth_small/big with the covering rule, tbl8 recycle check), so lookups see exactly
 * what rte_lpm would produce, plus one extension: the default route 0.0.0.0/0. It is stored in
 * the tables as a *valid* entry of depth 0 wherever no longer rule covers the address, so a
 * lookup with a default route never misses and costs no extra branch.
 *
 * Threads: one writer (every function here except dp_fib_lpm's readers), any number of readers
 * doing rte_lpm lookups and reporting quiescence on the QSBR variable given at creation.
 * Every table entry is written with one 32-bit atomic store; a new tbl8 group is filled before
 * the tbl24 entry pointing to it is published (release); a group taken out of the tables is
 * unlinked first and reused only after a QSBR grace period (deferred-free FIFO). Without a QSBR
 * variable, groups are reused at once (only valid while nobody reads).
 *
 * Costs (n = rules, G = tbl8 groups; a hash probe is O(1) expected, load factor <= 1/2):
 *   add depth 1..24     1 probe + 2^(24-depth) tbl24 entries (+256 per extended entry in range)
 *   add depth 25..32    1 probe + at most 2^(32-depth) tbl8 entries, or a new group: 256 entries
 *                       (+ O(1) amortised RCU reclaim; blocking only if no group is free)
 *   delete depth d      1 probe + up to d-1 probes for the covering rule (depths with no rule
 *                       are skipped via per-depth counts) + the same entry writes as an add,
 *                       + 256 reads for the recycle check when d > 24
 *   add/delete 0/0      a sweep of all 2^24 tbl24 entries and the groups in use (~30 ms)
 *   lookup_rule         1 probe
 * Memory: rte_lpm (64 MiB tbl24 + 1 KiB per tbl8 group) + 8 bytes per hash slot
 * (slots = next power of two >= 2 * max_rules) + 12 bytes per tbl8 group.
 */
#ifndef DPFWD_FIB_H
#define DPFWD_FIB_H

#include <stddef.h>
#include <stdint.h>

struct rte_lpm;
struct rte_rcu_qsbr;
struct dp_fib;

#define DP_FIB_MAX_NH ((1u << 24) - 1)

/* max_rules: capacity of the rule store (including 0/0); tbl8_groups: groups for depths > 24
 * (one per /24 holding a longer rule), at most 2^24. qsv may be NULL (no concurrent readers).
 * Returns NULL with a message in err (and rte_errno set) on failure. */
struct dp_fib *dp_fib_create(const char *name, int socket, uint32_t max_rules, uint32_t tbl8_groups,
	struct rte_rcu_qsbr *qsv, char *err, size_t errlen);
/* Readers must have stopped. */
void dp_fib_free(struct dp_fib *fib);

/* The table workers look up in. A lookup hit returns the next hop; with no default route a
 * miss returns -ENOENT (lookupx4: the default value). */
struct rte_lpm *dp_fib_lpm(const struct dp_fib *fib);

/* Add or replace ip/depth -> nh (ip is masked to depth). depth 0..32, nh < 2^24.
 * 0, -EINVAL (depth > 32, nh >= 2^24), -ENOSPC (rule store full or no tbl8 group free; the
 * tables and rules are then unchanged). */
int dp_fib_add(struct dp_fib *fib, uint32_t ip, uint8_t depth, uint32_t nh);
/* 0, -EINVAL (depth > 32), -ENOENT (no such rule). */
int dp_fib_delete(struct dp_fib *fib, uint32_t ip, uint8_t depth);
/* Adds n routes in order; stops at the first failure. Returns the number added (replacements
 * count) or, if the first one failed, its -errno. Not atomic: the caller deletes what was
 * added when it wants all-or-nothing. */
int dp_fib_add_bulk(struct dp_fib *fib, const uint32_t *ips, const uint8_t *depths, const uint32_t *nhs, uint32_t n);
/* Exact rule lookup (not longest match): 0 and *nh, or -ENOENT / -EINVAL. */
int dp_fib_lookup_rule(const struct dp_fib *fib, uint32_t ip, uint8_t depth, uint32_t *nh);

uint32_t dp_fib_rules(const struct dp_fib *fib);
uint32_t dp_fib_max_rules(const struct dp_fib *fib);
uint32_t dp_fib_tbl8_groups(const struct dp_fib *fib);
/* Groups linked into the tables (not counting freed groups waiting for a grace period). */
uint32_t dp_fib_tbl8_used(const struct dp_fib *fib);
/* Freed groups still waiting for readers to pass a quiescent state. */
uint32_t dp_fib_tbl8_pending(const struct dp_fib *fib);
/* Moves groups whose grace period is over back to the free list (never blocks). Called
 * internally before each allocation; the owner may also call it when idle. */
void dp_fib_reclaim(struct dp_fib *fib);

#endif
