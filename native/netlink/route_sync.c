/*
 * Route sync over NETLINK_ROUTE with libmnl: one non-blocking socket in the mirror namespace,
 * subscribed to RTNLGRP_IPV4_ROUTE and RTNLGRP_LINK, on which dumps are also requested. Messages
 * are turned into fixed-size records (route_sync.h) in the order received; policy (which table,
 * which protocols, what to install) is the control plane's.
 */
#define _GNU_SOURCE
#include "route_sync.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

/* a recv buffer big enough for what the kernel puts in one dump skb (up to 32 KiB, more with big
 * buffers on recent kernels) */
#define RS_RECV_BYTES 65536
/* records and paths one recv can add at most (a route message is at least 44 bytes) */
#define RS_RECV_RECS (RS_RECV_BYTES / 40)
#define RS_RECV_PATHS (RS_RECV_BYTES / 8)

struct rs_sock {
	struct mnl_socket *nl;
	unsigned portid;
	uint32_t seq;
	uint32_t dump_seq;
	int dump_what; /* 0: no dump running */
	char buf[RS_RECV_BYTES];
};

static int
fail(char *err, size_t errlen, int e, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, strerror(e));
	return -e;
}

int
rs_open(struct rs_sock **out, const char *netns_path, int rcvbuf, char *err, size_t errlen)
{
	int own = -1, target = -1, rc = 0;
	struct rs_sock *s = calloc(1, sizeof(*s));
	if (!s)
		return fail(err, errlen, ENOMEM, "route sync");
	if (netns_path && netns_path[0]) {
		/* a socket keeps the namespace it was made in: enter it on this thread, open, come back */
		own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (own < 0) {
			rc = fail(err, errlen, errno, "cannot open /proc/thread-self/ns/net");
			goto out;
		}
		target = open(netns_path, O_RDONLY | O_CLOEXEC);
		if (target < 0) {
			char what[512];
			snprintf(what, sizeof(what), "cannot open the network namespace %s", netns_path);
			rc = fail(err, errlen, errno, what);
			goto out;
		}
		if (setns(target, CLONE_NEWNET) < 0) {
			char what[512];
			snprintf(what, sizeof(what), "cannot enter the network namespace %s (setns)", netns_path);
			rc = fail(err, errlen, errno, what);
			goto out;
		}
	}
	s->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	int open_errno = errno;
	if (own >= 0 && setns(own, CLONE_NEWNET) < 0) {
		/* cannot happen with the descriptor of our own namespace; if it does, say so loudly */
		rc = fail(err, errlen, errno,
			"cannot return to dpfwd's network namespace after opening the netlink socket");
		goto out;
	}
	if (!s->nl) {
		rc = fail(err, errlen, open_errno, "cannot open a NETLINK_ROUTE socket");
		goto out;
	}
	if (rcvbuf > 0) {
		/* FORCE passes net.core.rmem_max (root); the plain one is the fallback without CAP_NET_ADMIN */
		if (setsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0 &&
			setsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0) {
			rc = fail(err, errlen, errno, "cannot set the netlink socket's receive buffer");
			goto out;
		}
	}
	if (mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = fail(err, errlen, errno, "cannot bind the netlink socket");
		goto out;
	}
	int groups[] = {RTNLGRP_IPV4_ROUTE, RTNLGRP_LINK};
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (mnl_socket_setsockopt(s->nl, NETLINK_ADD_MEMBERSHIP, &groups[i], sizeof(groups[i])) < 0) {
			rc = fail(err, errlen, errno, "cannot subscribe to route/link changes");
			goto out;
		}
	}
	s->portid = mnl_socket_get_portid(s->nl);
	s->seq = (uint32_t)time(NULL);
out:
	if (own >= 0)
		close(own);
	if (target >= 0)
		close(target);
	if (rc < 0) {
		if (s->nl)
			mnl_socket_close(s->nl);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int
rs_fd(const struct rs_sock *s)
{
	return mnl_socket_get_fd(s->nl);
}

int
rs_dump(struct rs_sock *s, int what)
{
	if (s->dump_what)
		return -EBUSY;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++s->seq;
	if (what == RS_DUMP_LINKS) {
		nlh->nlmsg_type = RTM_GETLINK;
		struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
		ifm->ifi_family = AF_UNSPEC;
	} else if (what == RS_DUMP_ROUTES) {
		nlh->nlmsg_type = RTM_GETROUTE;
		struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
		rtm->rtm_family = AF_INET;
	} else {
		return -EINVAL;
	}
	if (mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	s->dump_seq = nlh->nlmsg_seq;
	s->dump_what = what;
	return 0;
}

int
rs_dump_running(const struct rs_sock *s)
{
	return s->dump_what != 0;
}

static uint32_t *
rec_put(struct rs_batch *b, unsigned kind, unsigned flags)
{
	uint32_t *r = &b->recs[(size_t)b->n_recs++ * RS_WORDS];
	memset(r, 0, RS_WORDS * sizeof(*r));
	r[0] = kind | flags << 8;
	return r;
}

static int
attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);
	if (type > RTA_MAX)
		return MNL_CB_OK; /* newer attributes: not ours */
	switch (type) {
	case RTA_DST:
	case RTA_GATEWAY:
	case RTA_OIF:
	case RTA_TABLE:
	case RTA_PRIORITY:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	case RTA_MULTIPATH:
		if (mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0)
			return MNL_CB_ERROR;
		break;
	default:
		break;
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

static int
link_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);
	if (type > IFLA_MAX)
		return MNL_CB_OK;
	if (type == IFLA_IFNAME && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
		return MNL_CB_ERROR;
	tb[type] = attr;
	return MNL_CB_OK;
}

static void
put_route(struct rs_batch *b, const struct nlmsghdr *nlh, unsigned flags)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family != AF_INET)
		return;
	const struct nlattr *tb[RTA_MAX + 1] = {0};
	if (mnl_attr_parse(nlh, sizeof(*rtm), attr_cb, tb) < 0)
		return; /* malformed: the re-dump's business */
	uint32_t *r = rec_put(b, nlh->nlmsg_type == RTM_NEWROUTE ? RS_NEWROUTE : RS_DELROUTE, flags);
	r[1] = tb[RTA_DST] ? ntohl(mnl_attr_get_u32(tb[RTA_DST])) : 0;
	r[2] = (uint32_t)rtm->rtm_dst_len | (uint32_t)rtm->rtm_protocol << 8 | (uint32_t)rtm->rtm_type << 16;
	r[3] = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	r[4] = tb[RTA_PRIORITY] ? mnl_attr_get_u32(tb[RTA_PRIORITY]) : 0;
	r[5] = tb[RTA_OIF] ? mnl_attr_get_u32(tb[RTA_OIF]) : 0;
	r[6] = tb[RTA_GATEWAY] ? ntohl(mnl_attr_get_u32(tb[RTA_GATEWAY])) : 0;
	if (tb[RTA_MULTIPATH]) {
		const struct rtnexthop *nh = mnl_attr_get_payload(tb[RTA_MULTIPATH]);
		int left = (int)mnl_attr_get_payload_len(tb[RTA_MULTIPATH]);
		uint32_t first = b->n_paths, n = 0;
		while (RTNH_OK(nh, left) && n < RS_MAX_PATHS && b->n_paths < b->cap_paths) {
			uint32_t gw = 0;
			/* the nexthop's own attributes follow it: libmnl walks them from a fake header's payload */
			const struct nlattr *attr;
			const void *start = RTNH_DATA(nh);
			size_t alen = nh->rtnh_len > sizeof(*nh) ? nh->rtnh_len - sizeof(*nh) : 0;
			mnl_attr_for_each_payload(start, alen)
			{
				if (mnl_attr_get_type(attr) == RTA_GATEWAY &&
					mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
					gw = ntohl(mnl_attr_get_u32(attr));
			}
			uint32_t *p = &b->paths[(size_t)b->n_paths++ * 3];
			p[0] = gw;
			p[1] = (uint32_t)nh->rtnh_ifindex;
			p[2] = (uint32_t)nh->rtnh_hops + 1;
			n++;
			left -= RTNH_ALIGN(nh->rtnh_len);
			nh = RTNH_NEXT(nh);
		}
		r[7] = n << 24 | first;
	}
}

static void
put_link(struct rs_batch *b, const struct nlmsghdr *nlh, unsigned flags)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1] = {0};
	if (mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, tb) < 0)
		return;
	uint32_t *r = rec_put(b, nlh->nlmsg_type == RTM_NEWLINK ? RS_NEWLINK : RS_DELLINK, flags);
	r[1] = (uint32_t)ifm->ifi_index;
	r[2] = ifm->ifi_flags;
	r[3] = b->n_names;
	char *name = b->names[b->n_names++];
	name[0] = 0;
	if (tb[IFLA_IFNAME])
		snprintf(name, IF_NAMESIZE, "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
}

int
rs_read(struct rs_sock *s, struct rs_batch *b)
{
	uint32_t before = b->n_recs;
	while (b->cap_recs - b->n_recs >= RS_RECV_RECS + 2 && b->cap_paths - b->n_paths >= RS_RECV_PATHS) {
		ssize_t len = mnl_socket_recvfrom(s->nl, s->buf, sizeof(s->buf));
		if (len < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				rec_put(b, RS_OVERFLOW, 0);
				continue;
			}
			return -errno;
		}
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)s->buf;
		int left = (int)len;
		while (mnl_nlmsg_ok(nlh, left)) {
			int ours = s->dump_what && nlh->nlmsg_pid == s->portid && nlh->nlmsg_seq == s->dump_seq;
			unsigned flags = (ours ? RS_F_DUMP : 0) |
				((nlh->nlmsg_flags & NLM_F_DUMP_INTR) ? RS_F_INTR : 0) |
				(!ours && nlh->nlmsg_type == RTM_NEWROUTE && (nlh->nlmsg_flags & NLM_F_REPLACE)
						? RS_F_REPLACE
						: 0);
			switch (nlh->nlmsg_type) {
			case RTM_NEWROUTE:
			case RTM_DELROUTE:
				if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(struct rtmsg)))
					put_route(b, nlh, flags);
				break;
			case RTM_NEWLINK:
			case RTM_DELLINK:
				if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(struct ifinfomsg)))
					put_link(b, nlh, flags);
				break;
			case NLMSG_DONE:
				if (ours) {
					rec_put(b, RS_DONE, flags)[1] = (uint32_t)s->dump_what;
					s->dump_what = 0;
				}
				break;
			case NLMSG_ERROR:
				if (ours) {
					const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
					rec_put(b, RS_ERROR, RS_F_DUMP)[1] =
						(uint32_t)(e->error < 0 ? -e->error : e->error);
					s->dump_what = 0;
				}
				break;
			default:
				break;
			}
			nlh = mnl_nlmsg_next(nlh, &left);
		}
	}
	return (int)(b->n_recs - before);
}

void
rs_close(struct rs_sock *s)
{
	if (!s)
		return;
	mnl_socket_close(s->nl);
	free(s);
}
