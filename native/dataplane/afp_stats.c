/*
 * Ring drops of net_af_packet ports. DPDK 22.11's af_packet PMD never asks the kernel how many
 * frames its RX rings lost (its `imissed` stays 0 while frames are lost when the worker falls
 * behind). The kernel counts them per socket (PACKET_STATISTICS: tp_packets, tp_drops, both reset
 * by each read). The PMD's sockets are this process's AF_PACKET sockets bound to the port's
 * interface; dpfwd finds them in /proc/self/fd, reads and sums them. Main thread only (the
 * caller keeps the running total: the kernel resets on read and nobody else reads them).
 */
#define _GNU_SOURCE
#include "dp_internal.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_packet.h>

int
dp_afp_ring_drops(unsigned ifindex, uint64_t *drops)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -errno;
	int dfd = dirfd(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		if (*end != 0 || fd < 0 || fd == dfd)
			continue;
		int domain = 0;
		socklen_t len = sizeof(domain);
		if (getsockopt((int)fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || domain != AF_PACKET)
			continue;
		struct sockaddr_ll sll;
		len = sizeof(sll);
		memset(&sll, 0, sizeof(sll));
		if (getsockname((int)fd, (struct sockaddr *)&sll, &len) != 0 || (unsigned)sll.sll_ifindex != ifindex)
			continue;
		struct tpacket_stats st;
		len = sizeof(st);
		if (getsockopt((int)fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
			*drops += st.tp_drops;
	}
	closedir(d);
	return 0;
}
