/*
 * Linux mirror interfaces: a TAP device per port that dpfwd opens itself (/dev/net/tun,
 * IFF_TAP | IFF_NO_PI), created inside a chosen network namespace. The fd stays with dpfwd:
 * frames Linux sends on the mirror are read from it, frames for Linux are written to it. No DPDK
 * here; the control plane decides what crosses (src/controlplane/mirrors.ts).
 */
#define _GNU_SOURCE
#include "dataplane.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if.h>
#include <linux/if_tun.h>

/*
 * Moves this thread into the network namespace at `path` and returns a descriptor of the one it
 * left (for netns_leave), or -errno with `err` naming the step that failed.
 */
static int
netns_enter(const char *path, char *err, size_t errlen)
{
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot open this thread's network namespace: %s", strerror(e));
		return -e;
	}
	int target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot open network namespace %s: %s", path, strerror(e));
		close(home);
		return -e;
	}
	int rc = setns(target, CLONE_NEWNET);
	int e = errno;
	close(target);
	if (rc != 0) {
		snprintf(err, errlen,
			"cannot enter network namespace %s: %s (dpfwd needs CAP_SYS_ADMIN for linux.netns)", path,
			strerror(e));
		close(home);
		return -e;
	}
	return home;
}

/*
 * Returns this thread to the namespace `home` (from netns_enter) and passes `rc` on; a thread that
 * cannot return would stay in the mirror's namespace: that is reported (closing `rc`), never ignored.
 */
static int
netns_leave(int home, int rc, char *err, size_t errlen)
{
	if (setns(home, CLONE_NEWNET) != 0) {
		int e = errno;
		if (rc >= 0)
			close(rc);
		rc = -e;
		snprintf(err, errlen, "cannot return to dpfwd's network namespace: %s", strerror(e));
	}
	close(home);
	return rc;
}

/* Opens the TAP in the namespace of `netns_path` (NULL: this thread's own), then returns to
 * this thread's namespace. The calling thread alone switches (setns is per thread). */
int
dp_mirror_open(const char *name, const char *netns_path, char *err, size_t errlen)
{
	if (!name || strlen(name) == 0 || strlen(name) >= IFNAMSIZ) {
		snprintf(err, errlen, "mirror name '%s' must be 1-15 characters", name ? name : "");
		return -EINVAL;
	}
	int home = -1;
	if (netns_path && (home = netns_enter(netns_path, err, errlen)) < 0)
		return home;
	int rc = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (rc < 0) {
		rc = -errno;
		snprintf(err, errlen,
			"cannot open /dev/net/tun: %s (load the tun module; in a container, pass the device "
			"/dev/net/tun and CAP_NET_ADMIN)",
			strerror(-rc));
	} else {
		struct ifreq ifr;
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
		if (ioctl(rc, TUNSETIFF, &ifr) != 0) {
			int e = errno;
			close(rc);
			rc = -e;
			snprintf(err, errlen, "cannot create TAP interface %s: %s%s", name, strerror(e),
				e == EBUSY || e == EINVAL || e == EEXIST
					? " (an interface of that name already exists in the namespace: delete it or "
					  "name the mirror differently in linux.mirror)"
					: "");
		}
	}
	return netns_path ? netns_leave(home, rc, err, errlen) : rc;
}

int
dp_mirror_carrier(int fd, int up)
{
	int on = up ? 1 : 0;
	return ioctl(fd, TUNSETCARRIER, &on) == 0 ? 0 : -errno;
}

int
dp_mirror_write(int fd, const void *frame, uint32_t len)
{
	ssize_t n = write(fd, frame, len);
	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EIO;
}

int
dp_mirror_read(int fd, void *buf, uint32_t cap)
{
	ssize_t n = read(fd, buf, cap);
	return n < 0 ? -errno : (int)n;
}

/* A datagram socket opened inside the namespace at `netns_path` (NULL: this thread's own): the
 * interface ioctls below act on that namespace's interfaces by name. Same namespace dance as
 * dp_mirror_open. */
int
dp_mirror_ctl_open(const char *netns_path, char *err, size_t errlen)
{
	int home = -1;
	if (netns_path && (home = netns_enter(netns_path, err, errlen)) < 0)
		return home;
	int rc = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (rc < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open a socket for the mirrors' interfaces: %s", strerror(-rc));
	}
	return netns_path ? netns_leave(home, rc, err, errlen) : rc;
}

/* The TAP's interface name now (TUNGETIFF: it follows a rename; -EBADFD once the interface was
 * deleted), then its MAC, MTU and IFF_UP through the namespace's socket (-ENODEV: moved away). */
int
dp_mirror_state(int tapfd, int ctlfd, struct dp_mirror_state *st)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(tapfd, TUNGETIFF, &ifr) != 0)
		return -errno;
	memset(st, 0, sizeof(*st));
	memcpy(st->name, ifr.ifr_name, IFNAMSIZ);
	st->name[IFNAMSIZ - 1] = 0;
	if (ioctl(ctlfd, SIOCGIFHWADDR, &ifr) != 0)
		return -errno;
	memcpy(st->mac, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(ctlfd, SIOCGIFMTU, &ifr) != 0)
		return -errno;
	st->mtu = (uint32_t)ifr.ifr_mtu;
	if (ioctl(ctlfd, SIOCGIFFLAGS, &ifr) != 0)
		return -errno;
	st->up = (ifr.ifr_flags & IFF_UP) != 0;
	return 0;
}

/* Puts the mirror's MAC, MTU and IFF_UP back to what dpfwd gave it. */
int
dp_mirror_restore(int tapfd, int ctlfd, const uint8_t mac[6], uint32_t mtu)
{
	struct dp_mirror_state st;
	int rc = dp_mirror_state(tapfd, ctlfd, &st);
	if (rc != 0)
		return rc;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, st.name, IFNAMSIZ);
	if (memcmp(st.mac, mac, 6) != 0) {
		ifr.ifr_hwaddr.sa_family = 1; /* ARPHRD_ETHER */
		memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
		if (ioctl(ctlfd, SIOCSIFHWADDR, &ifr) != 0)
			return -errno;
	}
	if (st.mtu != mtu) {
		ifr.ifr_mtu = (int)mtu;
		if (ioctl(ctlfd, SIOCSIFMTU, &ifr) != 0)
			return -errno;
	}
	if (!st.up) {
		if (ioctl(ctlfd, SIOCGIFFLAGS, &ifr) != 0)
			return -errno;
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(ctlfd, SIOCSIFFLAGS, &ifr) != 0)
			return -errno;
	}
	return 0;
}
