/*
 * Cost of dp_l4_csum_complete (native/dataplane/packet.h) per packet, in ns: a CHECKSUM_PARTIAL
 * TCP segment of each frame size, its checksum field reset to the pseudo-header sum before
 * every call (as every packet from a Linux sender arrives), timed over many calls. One line of
 * JSON per size: {"frame":1514,"ns":...}. Built and run by bench/lib/kernel.ts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "packet.h"

static double
now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int
main(void)
{
	static const unsigned sizes[] = { 64, 590, 1514 };
	for (unsigned s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		unsigned frame = sizes[s];
		uint8_t *f = aligned_alloc(64, 2048);
		for (unsigned i = 0; i < frame; i++)
			f[i] = (uint8_t)(i * 7 + 3);
		struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
		eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
		ip->version_ihl = 0x45;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(frame - 14));
		ip->fragment_offset = 0;
		ip->next_proto_id = IPPROTO_TCP;
		uint16_t *field = (uint16_t *)(f + 14 + 20 + 16);
		/* the pseudo-header sum as Linux leaves it */
		const uint16_t *a = (const uint16_t *)(f + 14 + 12);
		uint32_t ps = (uint32_t)a[0] + a[1] + a[2] + a[3] + rte_cpu_to_be_16(IPPROTO_TCP) +
			      rte_cpu_to_be_16((uint16_t)(frame - 34));
		ps = (ps & 0xffff) + (ps >> 16);
		ps = (ps & 0xffff) + (ps >> 16);
		const unsigned n = 2000000;
		unsigned done = 0;
		double t0 = now_ns();
		for (unsigned i = 0; i < n; i++) {
			*(volatile uint16_t *)field = (uint16_t)ps;
			done += (unsigned)dp_l4_csum_complete(eth, frame);
		}
		double t1 = now_ns();
		if (done != n) {
			fprintf(stderr, "csum_cost: completed %u of %u\n", done, n);
			return 1;
		}
		printf("{\"frame\":%u,\"ns\":%.2f}\n", frame, (t1 - t0) / n);
		free(f);
	}
	return 0;
}
