/*
 * ECMP next-hop groups (main thread only): members, weights and liveness turned into a bucket
 * table by ecmp_fill.c, written one bucket at a time with atomic stores that workers read in
 * group_word (dp_internal.h).
 */
#define _GNU_SOURCE
#include "dp_internal.h"

int
dp_group_set(uint32_t gid, const uint32_t *nhs, const uint16_t *weights, const uint8_t *live, uint32_t n)
{
	if (!dp.nexthops)
		return -ENODEV;
	if (gid >= dp.max_groups || n == 0 || n > DP_GROUP_MAX_MEMBERS)
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		if (nhs[i] >= dp.max_nexthops || weights[i] == 0 || weights[i] > DP_GROUP_MAX_WEIGHT)
			return -EINVAL;
		for (uint32_t j = 0; j < i; j++)
			if (nhs[j] == nhs[i])
				return -EINVAL;
	}
	struct dp_group_ctl *c = &dp.group_ctl[gid];
	struct dp_group *g = &dp.groups[gid];
	int same = c->n == n;
	for (uint32_t i = 0; same && i < n; i++)
		same = c->nhs[i] == nhs[i] && c->weights[i] == weights[i];
	if (!same) {
		/* new members or weights: owners move only where the new targets take buckets */
		uint32_t prev[DP_GROUP_BUCKETS];
		for (unsigned b = 0; b < DP_GROUP_BUCKETS; b++)
			prev[b] = c->n ? c->nhs[c->owner[b]] : UINT32_MAX;
		dp_ecmp_nominal(c->n ? prev : NULL, nhs, weights, n, c->owner);
		if (c->n == 0)
			dp.n_groups++;
		c->n = n;
		memcpy(c->nhs, nhs, n * sizeof(*nhs));
		memcpy(c->weights, weights, n * sizeof(*weights));
	}
	for (uint32_t i = 0; i < n; i++)
		c->live[i] = live[i] ? 1 : 0;
	uint32_t bucket[DP_GROUP_BUCKETS];
	dp_ecmp_effective(c->owner, c->nhs, c->weights, c->live, n, bucket);
	for (unsigned b = 0; b < DP_GROUP_BUCKETS; b++)
		if (g->bucket[b] != bucket[b])
			__atomic_store_n(&g->bucket[b], bucket[b], __ATOMIC_RELEASE);
	return 0;
}

int
dp_group_del(uint32_t gid)
{
	if (!dp.nexthops)
		return -ENODEV;
	if (gid >= dp.max_groups)
		return -EINVAL;
	if (dp.group_ctl[gid].n != 0)
		dp.n_groups--;
	dp.group_ctl[gid].n = 0;
	/* a worker that read a word naming the group before it was dropped may still read its
	 * buckets: the index is free for another group only after every worker passed a quiescent point */
	if (dp.launched)
		rte_rcu_qsbr_synchronize(dp.qsv, RTE_QSBR_THRID_INVALID);
	return 0;
}

int
dp_group_buckets(uint32_t gid, uint32_t *out)
{
	if (!dp.nexthops)
		return -ENODEV;
	if (gid >= dp.max_groups)
		return -EINVAL;
	for (unsigned b = 0; b < DP_GROUP_BUCKETS; b++)
		out[b] = __atomic_load_n(&dp.groups[gid].bucket[b], __ATOMIC_RELAXED);
	return 0;
}
