/*
 * ECMP bucket fill (pure: see ecmp.h). Main thread only, never on the fast path.
 */
#include "ecmp.h"

#include <math.h>

void
dp_ecmp_targets(const uint16_t *weights, unsigned n, uint16_t *target)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < n; i++)
		total += weights[i];
	unsigned sum = 0;
	uint64_t rem[DP_GROUP_MAX_MEMBERS];
	for (unsigned i = 0; i < n; i++) {
		uint64_t share = (uint64_t)weights[i] * DP_GROUP_BUCKETS;
		target[i] = (uint16_t)(share / total);
		rem[i] = share % total;
		if (target[i] == 0) {
			target[i] = 1; /* every member gets a bucket */
			rem[i] = 0;
		}
		sum += target[i];
	}
	while (sum < DP_GROUP_BUCKETS) { /* largest remainder first, ties to the first member */
		unsigned best = 0;
		for (unsigned i = 1; i < n; i++)
			if (rem[i] > rem[best])
				best = i;
		target[best]++;
		rem[best] = 0;
		sum++;
	}
	while (sum > DP_GROUP_BUCKETS) { /* the minimum of 1 overshot: the largest gives back */
		unsigned best = 0;
		for (unsigned i = 1; i < n; i++)
			if (target[i] > target[best])
				best = i;
		target[best]--;
		sum--;
	}
}

void
dp_ecmp_nominal(const uint32_t *prev, const uint32_t *nhs, const uint16_t *weights, unsigned n, uint8_t *owner)
{
	uint16_t target[DP_GROUP_MAX_MEMBERS], count[DP_GROUP_MAX_MEMBERS] = {0};
	dp_ecmp_targets(weights, n, target);
	for (unsigned b = 0; b < DP_GROUP_BUCKETS; b++) {
		owner[b] = DP_ECMP_NONE;
		if (!prev)
			continue;
		for (unsigned i = 0; i < n; i++) {
			if (nhs[i] == prev[b]) {
				if (count[i] < target[i]) {
					owner[b] = (uint8_t)i;
					count[i]++;
				}
				break;
			}
		}
	}
	for (unsigned b = 0; b < DP_GROUP_BUCKETS; b++) {
		if (owner[b] != DP_ECMP_NONE)
			continue;
		/* the member with the largest (target - count) / target; ties to the first */
		unsigned best = n;
		for (unsigned i = 0; i < n; i++) {
			if (count[i] >= target[i])
				continue;
			if (best == n ||
				(uint32_t)(target[i] - count[i]) * target[best] >
					(uint32_t)(target[best] - count[best]) * target[i])
				best = i;
		}
		owner[b] = (uint8_t)best; /* targets sum to the bucket count: always found */
		count[best]++;
	}
}

/* Weighted rendezvous score of (bucket, member): ln(u) / w with u uniform in (0, 1]; higher wins. */
static double
hrw_score(unsigned b, uint32_t nh, uint16_t w)
{
	uint64_t h = dp_mix64(((uint64_t)nh << 32) | b);
	double u = ((double)(h >> 11) + 1.0) / 9007199254740992.0; /* 2^53 */
	return log(u) / (double)w;
}

void
dp_ecmp_effective(const uint8_t *owner, const uint32_t *nhs, const uint16_t *weights, const uint8_t *live, unsigned n,
	uint32_t *bucket)
{
	unsigned any = 0;
	for (unsigned i = 0; i < n; i++)
		any |= live[i];
	for (unsigned b = 0; b < DP_GROUP_BUCKETS; b++) {
		unsigned o = owner[b];
		if (live[o] || !any) {
			bucket[b] = nhs[o];
			continue;
		}
		unsigned best = n;
		double best_score = 0;
		for (unsigned i = 0; i < n; i++) {
			if (!live[i])
				continue;
			double s = hrw_score(b, nhs[i], weights[i]);
			if (best == n || s > best_score) {
				best = i;
				best_score = s;
			}
		}
		bucket[b] = nhs[best];
	}
}
