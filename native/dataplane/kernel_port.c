/*
 * Kernel-facing ports (kernel_port.h). Measured on Linux 6.18 with veth pairs and default
 * offloads (docs/kernel-ports.md): without XDP on dpfwd's end, a host's TCP sends 64 KB TSO
 * frames that af_packet cuts to its 2 KB ring frames; with the pass-through program and GRO off,
 * every frame is at most the MTU.
 */
#define _GNU_SOURCE
#include "kernel_port.h"
#include "dataplane.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define XDP_PASS_NAME "dpfwd_xdp_pass"

static int
ethtool_ioctl(const char *ifname, void *data)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = data;
	int rc = ioctl(s, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
	close(s);
	return rc;
}

static int
ethtool_get(const char *ifname, uint32_t cmd, uint32_t *val)
{
	struct ethtool_value v = {.cmd = cmd};
	int rc = ethtool_ioctl(ifname, &v);
	if (rc == 0)
		*val = v.data;
	return rc;
}

static int
ethtool_set(const char *ifname, uint32_t cmd, uint32_t val)
{
	struct ethtool_value v = {.cmd = cmd, .data = val};
	return ethtool_ioctl(ifname, &v);
}

static int
is_veth(const char *ifname)
{
	struct ethtool_drvinfo d = {.cmd = ETHTOOL_GDRVINFO};
	return ethtool_ioctl(ifname, &d) == 0 && strcmp(d.driver, "veth") == 0;
}

/* Name of the XDP program with id `id` ("" when it cannot be read). */
static void
prog_name(unsigned id, char *out, size_t n)
{
	out[0] = 0;
	int fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return;
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
		snprintf(out, n, "%s", info.name);
	close(fd);
}

/* r0 = XDP_PASS; exit */
static int
load_pass(void)
{
	const struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS},
		{.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts);
	return bpf_prog_load(BPF_PROG_TYPE_XDP, XDP_PASS_NAME, "GPL", insns, 2, &opts);
}

static int
attach_pass(struct dp_kport *k, const char *ifname, char *what, size_t n)
{
	uint32_t cur = 0;
	if (bpf_xdp_query_id((int)k->ifindex, XDP_FLAGS_DRV_MODE, &cur) == 0 && cur != 0) {
		char name[BPF_OBJ_NAME_LEN + 1];
		prog_name(cur, name, sizeof(name));
		if (strcmp(name, XDP_PASS_NAME) == 0) {
			k->xdp_prog_id = cur; /* left by an earlier dpfwd: take it over */
			snprintf(what, n, "pass-through XDP program already attached");
			return 0;
		}
		snprintf(what, n,
			"XDP program %s (id %u) already attached to %s, left alone: the peer keeps TSO unless it "
			"clears GSO itself",
			name[0] ? name : "?", cur, ifname);
		return -EBUSY;
	}
	int fd = load_pass();
	if (fd < 0) {
		snprintf(what, n, "cannot load the pass-through XDP program: %s (needs CAP_BPF/CAP_SYS_ADMIN)",
			strerror(-fd));
		return fd;
	}
	int rc = bpf_xdp_attach((int)k->ifindex, fd, XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (rc == 0 && bpf_xdp_query_id((int)k->ifindex, XDP_FLAGS_DRV_MODE, &cur) == 0)
		k->xdp_prog_id = cur;
	close(fd); /* the attachment holds the program */
	if (rc != 0) {
		snprintf(what, n, "cannot attach the pass-through XDP program to %s: %s", ifname, strerror(-rc));
		return rc;
	}
	snprintf(what, n,
		"attached pass-through XDP program %s (id %u) so the veth peer stops sending TSO/GSO super-frames",
		XDP_PASS_NAME, k->xdp_prog_id);
	return 0;
}

int
dp_kport_prepare(struct dp_kport *k, unsigned ifindex, char *note, size_t notelen)
{
	memset(k, 0, sizeof(*k));
	char ifname[IF_NAMESIZE];
	if (!if_indextoname(ifindex, ifname)) {
		snprintf(note, notelen, "interface %u not found: %s", ifindex, strerror(errno));
		return -errno;
	}
	k->ifindex = ifindex;
	int rc = 0;
	uint32_t v = 0;
	/* the state to restore is the one before the attach: XDP on a veth turns GRO on itself */
	k->gro_was_on = ethtool_get(ifname, ETHTOOL_GGRO, &v) == 0 && v;
	char xdp[256] = "";
	if (is_veth(ifname))
		rc = attach_pass(k, ifname, xdp, sizeof(xdp));
	char gro[160] = "";
	if (ethtool_get(ifname, ETHTOOL_GGRO, &v) == 0 && v) {
		int r = ethtool_set(ifname, ETHTOOL_SGRO, 0);
		if (r != 0 && rc == 0)
			rc = r;
		snprintf(gro, sizeof(gro), r == 0 ? "turned GRO off" : "cannot turn GRO off (%s)", strerror(-r));
	}
	char lro[80] = "";
	if (ethtool_get(ifname, ETHTOOL_GFLAGS, &v) == 0 && (v & ETH_FLAG_LRO)) {
		int r = ethtool_set(ifname, ETHTOOL_SFLAGS, v & ~(uint32_t)ETH_FLAG_LRO);
		if (r == 0)
			k->lro_was_on = 1;
		else if (rc == 0)
			rc = r;
		snprintf(lro, sizeof(lro), r == 0 ? "turned LRO off" : "cannot turn LRO off (%s)", strerror(-r));
	}
	snprintf(note, notelen, "%s: %s%s%s%s%s", ifname, xdp, xdp[0] && gro[0] ? "; " : "", gro,
		(xdp[0] || gro[0]) && lro[0] ? "; " : "", lro);
	if (!xdp[0] && !gro[0] && !lro[0])
		snprintf(note, notelen, "%s: nothing to change (not a veth, GRO and LRO off)", ifname);
	return rc;
}

void
dp_kport_release(struct dp_kport *k)
{
	if (k->ifindex == 0)
		return;
	char ifname[IF_NAMESIZE];
	if (if_indextoname(k->ifindex, ifname)) {
		uint32_t cur = 0;
		if (k->xdp_prog_id && bpf_xdp_query_id((int)k->ifindex, XDP_FLAGS_DRV_MODE, &cur) == 0 &&
			cur == k->xdp_prog_id)
			bpf_xdp_detach((int)k->ifindex, XDP_FLAGS_DRV_MODE, NULL);
		if (k->gro_was_on)
			ethtool_set(ifname, ETHTOOL_SGRO, 1);
		if (k->lro_was_on) {
			uint32_t v = 0;
			if (ethtool_get(ifname, ETHTOOL_GFLAGS, &v) == 0)
				ethtool_set(ifname, ETHTOOL_SFLAGS, v | ETH_FLAG_LRO);
		}
	}
	memset(k, 0, sizeof(*k));
}

int
dp_bpf_probe(void)
{
	long r = syscall(__NR_bpf, 0x7fffffff, NULL, 0);
	if (r >= 0) {
		close((int)r);
		return 0;
	}
	return errno == EINVAL ? 0 : errno;
}

void
dp_iface_driver(const char *ifname, char *out, size_t n)
{
	struct ethtool_drvinfo d = {.cmd = ETHTOOL_GDRVINFO};
	out[0] = 0;
	if (ethtool_ioctl(ifname, &d) == 0)
		snprintf(out, n, "%s", d.driver);
}
