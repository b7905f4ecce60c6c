/*
 * Kernel-facing ports: what dpfwd changes on ITS OWN end of a Linux interface that an af_packet
 * port opens, so that the kernel hands over frames no larger than the MTU (docs/kernel-ports.md).
 * Main thread only, at port setup and release; never on the fast path.
 */
#ifndef DPFWD_KERNEL_PORT_H
#define DPFWD_KERNEL_PORT_H

#include <stddef.h>

struct dp_kport {
	unsigned ifindex; /* 0: nothing was changed */
	unsigned xdp_prog_id; /* the pass-through program dpfwd attached (0: none) */
	int gro_was_on; /* GRO was on before dpfwd turned it off */
	int lro_was_on;
};

/*
 * On the interface `ifindex` behind an af_packet port: attaches a pass-through XDP program when
 * it is a veth (the peer then stops sending TSO/GSO super-frames: veth clears its software GSO
 * features while the other end runs XDP) unless another program is attached, then turns GRO and
 * LRO off (attaching XDP to a veth turns GRO on, and GRO would build super-frames again).
 * Writes one line saying what it did to `note`. Returns 0, or a negative errno when a step
 * failed (the port still works for frames up to the ring frame; `note` says what is missing).
 */
int dp_kport_prepare(struct dp_kport *k, unsigned ifindex, char *note, size_t notelen);

/* Undoes dp_kport_prepare: detaches the program if it is still dpfwd's, restores GRO/LRO. */
void dp_kport_release(struct dp_kport *k);

#endif
