/* Measurement helper for measure.sh: applies dpfwd's kernel_port.c to one interface until stdin closes. */
#include "kernel_port.h"
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
int main(int argc, char **argv) {
	struct dp_kport k; char note[512];
	int rc = dp_kport_prepare(&k, if_nametoindex(argv[1]), note, sizeof(note));
	printf("rc=%d %s\n", rc, note); fflush(stdout);
	if (argc > 2) { /* turn GRO back on: the kernel's own state after an XDP attach */
		int s = socket(AF_INET, SOCK_DGRAM, 0); struct ifreq ifr = {0}; struct ethtool_value v = { .cmd = ETHTOOL_SGRO, .data = 1 };
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]); ifr.ifr_data = (void *)&v; ioctl(s, SIOCETHTOOL, &ifr);
	}
	char b[8]; while (read(0, b, sizeof(b)) > 0) {}
	dp_kport_release(&k); return 0;
}
