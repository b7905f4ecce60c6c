/*
 * FIB routes, next-hop words and the source/broadcast address set (main thread only).
 */
#define _GNU_SOURCE
#include "dp_internal.h"

/* ---- FIB and next hops (main thread only) ---- */

int
dp_fib_info(struct dp_fib_info *out)
{
	if (!dp.fib)
		return -ENODEV;
	out->max_routes = dp.max_routes;
	out->tbl8_groups = dp.tbl8_groups;
	out->max_nexthops = dp.max_nexthops;
	out->tbl8_used = dp_fib_tbl8_used(dp.fib);
	out->routes = dp_fib_rules(dp.fib);
	out->max_groups = dp.max_groups;
	out->groups = dp.n_groups;
	out->lookup_staged = (dp.loop_mode & DP_LOOP_STAGED) != 0;
	return 0;
}

/*
 * With a few thousand routes the tbl24 entries the traffic touches stay in cache; with many
 * (an Internet table) each lookup is a cache miss, and the one-pass loop's dependent chain
 * (header -> tbl24 -> tbl8 -> next hop) leaves few misses in flight. Past this many routes the
 * workers switch to burst_staged, whose lookup pass overlaps them (1M routes, random
 * destinations: see README's Performance section for the measured difference).
 */
#define LPM_STAGED_ROUTES 16384

static void
lpm_mode_update(void)
{
	if (dp.fib && dp_fib_rules(dp.fib) >= LPM_STAGED_ROUTES)
		__atomic_fetch_or(&dp.loop_mode, DP_LOOP_STAGED, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&dp.loop_mode, ~DP_LOOP_STAGED, __ATOMIC_RELAXED);
}

int
dp_route_add(uint32_t ip, uint8_t depth, uint32_t nh)
{
	if (!dp.fib)
		return -ENODEV;
	if (depth > 32 || nh >= dp.max_nexthops)
		return -EINVAL;
	int rc = dp_fib_add(dp.fib, ip, depth, nh);
	lpm_mode_update();
	return rc;
}

int
dp_route_del(uint32_t ip, uint8_t depth)
{
	if (!dp.fib)
		return -ENODEV;
	if (depth > 32)
		return -EINVAL;
	int rc = dp_fib_delete(dp.fib, ip, depth);
	lpm_mode_update();
	return rc;
}

int
dp_route_add_bulk(const uint32_t *ips, const uint8_t *depths, const uint32_t *nhs, uint32_t n)
{
	if (!dp.fib)
		return -ENODEV;
	uint32_t valid = 0;
	while (valid < n && depths[valid] <= 32 && nhs[valid] < dp.max_nexthops)
		valid++;
	if (valid == 0)
		return n ? -EINVAL : 0;
	int rc = dp_fib_add_bulk(dp.fib, ips, depths, nhs, valid);
	lpm_mode_update();
	return rc;
}

int
dp_nexthop_set(uint32_t id, uint64_t word)
{
	if (!dp.nexthops)
		return -ENODEV;
	if (id >= dp.max_nexthops)
		return -EINVAL;
	unsigned iface = (unsigned)(word >> 48);
	if (iface < DP_NH_ACTION_MIN && iface >= dp.n_ports && (iface < DP_MAX_PORTS || iface >= DP_MAX_IFACES))
		return -ENODEV;
	if (iface == DP_NH_GROUP && (word & 0xffffffffffffull) >= dp.max_groups)
		return -ENODEV;
	__atomic_store_n(&dp.nexthops[id], word, __ATOMIC_RELEASE);
	return 0;
}

/* ---- source and broadcast rules (main thread only) ---- */

/*
 * Replaces the set while workers read it. Flags may only ever be a superset of what the
 * published set needs (a flag without an entry costs one exact test, never a wrong verdict):
 * 1. build the new set in the buffer no worker reads; 2. add its flags; 3. publish it and wait
 * for an RCU grace period (every worker passes a quiescent point once per loop), after which no
 * worker reads the old set; 4. drop the flags only the old set needed.
 */
int
dp_addr_filter_set(const uint32_t *addrs, const uint8_t *kinds, uint32_t n)
{
	if (!dp.addr_sets[0])
		return -ENODEV;
	if (n > DP_ADDR_SET_MAX)
		return -ENOSPC;
	for (uint32_t i = 0; i < n; i++)
		if (addrs[i] == 0 || kinds[i] < DP_ADDR_OWN || kinds[i] > DP_ADDR_NETWORK)
			return -EINVAL;
	const struct dp_addr_set *cur = __atomic_load_n(&dp.addr_filter.set, __ATOMIC_ACQUIRE);
	struct dp_addr_set *next = cur == dp.addr_sets[0] ? dp.addr_sets[1] : dp.addr_sets[0];
	memset(next, 0, sizeof(*next));
	for (uint32_t i = 0; i < n; i++) {
		int rc = dp_addr_set_add(next, addrs[i], kinds[i]);
		if (rc != 0)
			return rc;
	}
	uint8_t *src_head = malloc(256), *tail_head = malloc(65536);
	if (!src_head || !tail_head) {
		free(src_head);
		free(tail_head);
		return -ENOMEM;
	}
	dp_addr_flags_compute(src_head, tail_head, next);
	for (unsigned i = 0; i < 65536; i++) /* 2: only adds flags */
		if (tail_head[i])
			__atomic_store_n(&dp.addr_filter.tail_head[i], 1, __ATOMIC_RELAXED);
	__atomic_store_n(&dp.addr_filter.set, next, __ATOMIC_RELEASE); /* 3 */
	if (dp.launched)
		rte_rcu_qsbr_synchronize(dp.qsv, RTE_QSBR_THRID_INVALID);
	for (unsigned i = 0; i < 65536; i++) /* 4 */
		if (!tail_head[i])
			__atomic_store_n(&dp.addr_filter.tail_head[i], 0, __ATOMIC_RELAXED);
	free(src_head);
	free(tail_head);
	return 0;
}
