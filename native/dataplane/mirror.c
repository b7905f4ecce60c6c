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
#include <unistd.h>
#include <linux/if.h>
#include <linux/if_tun.h>

/* Opens the TAP in the namespace of `netns_path` (NULL: this thread's own), then returns to
 * this thread's namespace. The calling thread alone switches (setns is per thread). */
int
dp_mirror_open(const char *name, const char *netns_path, char *err, size_t errlen)
{
	if (!name || strlen(name) == 0 || strlen(name) >= IFNAMSIZ) {
		snprintf(err, errlen, "mirror name '%s' must be 1-15 characters", name ? name : "");
		return -EINVAL;
	}
	int home = -1, target = -1;
	if (netns_path) {
		home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (home < 0) {
			int e = errno;
			snprintf(err, errlen, "cannot open this thread's network namespace: %s", strerror(e));
			return -e;
		}
		target = open(netns_path, O_RDONLY | O_CLOEXEC);
		if (target < 0) {
			int e = errno;
			snprintf(err, errlen, "cannot open network namespace %s: %s", netns_path, strerror(e));
			close(home);
			return -e;
		}
		if (setns(target, CLONE_NEWNET) != 0) {
			int e = errno;
			snprintf(err, errlen, "cannot enter network namespace %s: %s (dpfwd needs CAP_SYS_ADMIN for linux.netns)", netns_path, strerror(e));
			close(home);
			close(target);
			return -e;
		}
	}
	int rc = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (rc < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open /dev/net/tun: %s (load the tun module; in a container, pass the device /dev/net/tun and CAP_NET_ADMIN)", strerror(-rc));
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
				 e == EBUSY || e == EINVAL || e == EEXIST ? " (an interface of that name already exists in the namespace: delete it or name the mirror differently in linux.mirror)" : "");
		}
	}
	if (netns_path) {
		if (setns(home, CLONE_NEWNET) != 0) {
			/* the thread would stay in the mirror namespace: report it, never ignore it */
			int e = errno;
			if (rc >= 0)
				close(rc);
			rc = -e;
			snprintf(err, errlen, "cannot return to dpfwd's network namespace: %s", strerror(e));
		}
		close(home);
		close(target);
	}
	return rc;
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
