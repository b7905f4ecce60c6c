/*
 * Route sync: a NETLINK_ROUTE socket opened inside a network namespace, subscribed to IPv4 route
 * and link changes, with dumps requested on the same socket. Plain C over libmnl (no N-API, no
 * DPDK): the binding polls rs_fd() and turns rs_read()'s records into one JS call per batch.
 *
 * Records are RS_WORDS 32-bit words each, in the order the kernel sent them (dump replies and
 * notifications interleaved as received):
 *   w0  kind | flags << 8      (RS_F_DUMP: part of our dump's reply; RS_F_INTR: NLM_F_DUMP_INTR;
 *                              RS_F_REPLACE: a notification that replaced an entry, NLM_F_REPLACE)
 *   route (RS_NEWROUTE, RS_DELROUTE):
 *   w1  dst (host order)   w2  len | protocol << 8 | type << 16   w3  table   w4  priority (metric)
 *   w5  oif                w6  gateway (host order, 0: none)        w7  paths << 24 | first path's index
 *       paths: (gateway, oif, weight) triples in the batch's path array; weight = rtnh_hops + 1
 *   link (RS_NEWLINK, RS_DELLINK): w1 ifindex  w2 ifi_flags  w3 index into the batch's names
 *   RS_DONE: w1 what the dump was (RS_DUMP_LINKS / RS_DUMP_ROUTES)
 *   RS_OVERFLOW: the socket lost notifications (ENOBUFS): re-dump
 *   RS_ERROR: w1 errno; with RS_F_DUMP a dump request the kernel refused, else the socket failed
 */
#ifndef DPFWD_ROUTE_SYNC_H
#define DPFWD_ROUTE_SYNC_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#define RS_WORDS 8
enum {
	RS_NEWROUTE = 1,
	RS_DELROUTE,
	RS_NEWLINK,
	RS_DELLINK,
	RS_DONE,
	RS_OVERFLOW,
	RS_ERROR
};
enum {
	RS_F_DUMP = 1,
	RS_F_INTR = 2,
	RS_F_REPLACE = 4
};
enum {
	RS_DUMP_LINKS = 1,
	RS_DUMP_ROUTES = 2
};
/** paths of one multipath route kept at most (more are counted in the route's path count only) */
#define RS_MAX_PATHS 255

struct rs_sock;

struct rs_batch {
	uint32_t *recs; /* cap_recs * RS_WORDS */
	uint32_t cap_recs;
	uint32_t *paths; /* cap_paths * 3 */
	uint32_t cap_paths;
	char (*names)[IF_NAMESIZE]; /* cap_recs */
	uint32_t n_recs, n_paths, n_names;
};

/* Opens the socket in the namespace at netns_path (NULL or "": the caller's own), with a receive
 * buffer of rcvbuf bytes (0: the system default). 0 or -errno with err filled. */
int rs_open(struct rs_sock **out, const char *netns_path, int rcvbuf, char *err, size_t errlen);
int rs_fd(const struct rs_sock *s);
/* Requests a dump (RS_DUMP_LINKS or RS_DUMP_ROUTES). 0 or -errno (-EBUSY: one is running). */
int rs_dump(struct rs_sock *s, int what);
/* 1 while a dump was requested and its end (or error) not read yet. */
int rs_dump_running(const struct rs_sock *s);
/* Reads what is waiting, without blocking, until the batch is nearly full. Returns the number of
 * records added, or -errno of a socket error other than EAGAIN (ENOBUFS is a record). */
int rs_read(struct rs_sock *s, struct rs_batch *b);
void rs_close(struct rs_sock *s);

#endif
