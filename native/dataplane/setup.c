/*
 * Ports, mempool, rings and tables: dp_start / dp_launch / dp_stop, and what they report
 * (port info and stats, the mempool, the counter block layout).
 */
#define _GNU_SOURCE
#include "dp_internal.h"

struct dp_state dp = {.efd = -1};

/* ---- start / stop ---- */

/* PMDs that hand over frames as a Linux kernel left them (partial checksums possible). */
static int
is_kernel_port(const char *driver)
{
	return strcmp(driver, "net_af_packet") == 0 || strcmp(driver, "net_af_xdp") == 0;
}

/* The driver of the device `devname` probed at EAL init ("" when there is none). */
static const char *
driver_of(const char *devname)
{
	uint16_t pid;
	struct rte_eth_dev_info info;
	if (rte_eth_dev_get_port_by_name(devname, &pid) != 0 || rte_eth_dev_info_get(pid, &info) != 0)
		return "";
	return info.driver_name;
}

/* What an mbuf of `room` bytes of data room takes in a pool: the chunk af_xdp registers. */
static uint32_t
mbuf_obj_size(uint32_t room)
{
	return rte_mempool_calc_obj_size((uint32_t)sizeof(struct rte_mbuf) + room, 0, NULL);
}

/*
 * net_af_xdp registers the whole pool its RX queue takes as the socket's UMEM, one chunk per
 * mempool object (mempool header + rte_mbuf + data room), and the kernel refuses a chunk larger
 * than a page (xdp_umem_reg: EINVAL, logged by DPDK only as "Failed to create umem"). af_packet's
 * 4096-byte ring frames (which dp.pool's room follows, so the PMD copies a frame whole) make
 * 4416-byte objects: so af_xdp ports get a pool of their own, sized for their MTU, when dp.pool's
 * objects are too big. Mbufs of both pools cross between ports freely (each is freed to its own
 * pool; af_xdp copies what it sends from another pool into its UMEM), so only
 * RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE, which frees a burst to the first mbuf's pool, is left off
 * when there are two.
 */
static int
xdp_pool_create(const struct dp_conf *c, uint32_t room, char *err, size_t errlen)
{
	uint32_t page = (uint32_t)sysconf(_SC_PAGESIZE);
	unsigned max_mtu = 0, n_xdp = 0;
	const char *first = NULL;
	for (unsigned i = 0; i < c->n_ports; i++) {
		if (strcmp(driver_of(c->ports[i].devname), "net_af_xdp") != 0)
			continue;
		n_xdp++;
		if (!first)
			first = c->ports[i].name;
		if (c->ports[i].mtu > max_mtu)
			max_mtu = c->ports[i].mtu;
	}
	if (n_xdp == 0 || mbuf_obj_size(room) <= page)
		return 0; /* no af_xdp port, or dp.pool's objects fit a UMEM chunk */
	uint32_t xroom = RTE_PKTMBUF_HEADROOM + RTE_MAX(2048u, max_mtu + RTE_ETHER_HDR_LEN + 8u);
	if (mbuf_obj_size(xroom) > page) {
		uint32_t fit = page - (mbuf_obj_size(xroom) - xroom) - RTE_PKTMBUF_HEADROOM - RTE_ETHER_HDR_LEN - 8u;
		return dp_fail(err, errlen, EINVAL,
			"port %s: af_xdp cannot carry MTU %u here: the kernel takes UMEM chunks of at most a page "
			"(%u bytes) and an mbuf for that MTU needs %u; lower the af_xdp ports' mtu to %u or less, or "
			"use net_af_packet",
			first, max_mtu, page, mbuf_obj_size(xroom), fit);
	}
	dp.xdp_pool = rte_pktmbuf_pool_create(
		"dpfwd_xdp_mbufs", c->mbufs, c->mbuf_cache, 0, (uint16_t)xroom, (int)rte_socket_id());
	if (!dp.xdp_pool)
		return dp_fail(err, errlen, rte_errno,
			"cannot create the af_xdp ports' pool of %u mbufs of %u bytes (%.0f MiB; the other ports' "
			"%u-byte mbufs do not fit an AF_XDP UMEM chunk): %s; reserve more hugepages or lower "
			"mempool.mbufs",
			c->mbufs, xroom, (double)c->mbufs * mbuf_obj_size(xroom) / 1048576.0, room,
			rte_strerror(rte_errno));
	RTE_LOG(NOTICE, USER1,
		"dpfwd: af_xdp ports take RX mbufs from a pool of their own (%u of %u bytes): the other ports' %u-byte "
		"mbufs are larger than a UMEM chunk (%u)\n",
		c->mbufs, xroom, room, page);
	return 0;
}

static int
port_setup(unsigned idx, const struct dp_port_conf *pc, uint16_t n_txq, char *err, size_t errlen)
{
	uint16_t pid;
	int rc = rte_eth_dev_get_port_by_name(pc->devname, &pid);
	if (rc != 0)
		return dp_fail(err, errlen, ENODEV,
			"port %s: DPDK has no device named %s (was it probed? see the log above)", pc->name,
			pc->devname);
	struct rte_eth_dev_info info;
	rc = rte_eth_dev_info_get(pid, &info);
	if (rc != 0)
		return dp_fail(err, errlen, rc, "port %s: cannot read device info: %s", pc->name, rte_strerror(-rc));
	if (pc->rx_queues > info.max_rx_queues)
		return dp_fail(err, errlen, EINVAL,
			"port %s: %u RX queues asked, driver %s supports %u; lower ports[%u].rxQueues", pc->name,
			pc->rx_queues, info.driver_name, info.max_rx_queues, idx);
	if (n_txq > info.max_tx_queues)
		return dp_fail(err, errlen, EINVAL,
			"port %s: %u workers need %u TX queues, driver %s supports %u; use fewer worker lcores",
			pc->name, n_txq, n_txq, info.driver_name, info.max_tx_queues);

	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	if (pc->rx_queues > 1 && info.flow_type_rss_offloads) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_IP & info.flow_type_rss_offloads;
	}
	if ((info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) && !dp.xdp_pool)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE; /* one pool only: see xdp_pool_create */
	/* No RX offloads, RTE_ETH_RX_OFFLOAD_VLAN_STRIP in particular: 802.1Q tags stay in the frame,
	 * where the fast test refuses them and the exact path maps them to sub-interfaces. (DPDK
	 * 22.11's af_packet PMD re-inserts the tag the kernel moved into auxdata unless stripping
	 * was asked for.) */
	rc = rte_eth_dev_configure(pid, pc->rx_queues, n_txq, &conf);
	if (rc != 0)
		return dp_fail(err, errlen, rc, "port %s: configure failed: %s", pc->name, rte_strerror(-rc));
	uint16_t nrx = pc->rx_desc, ntx = pc->tx_desc;
	rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nrx, &ntx);
	int socket = rte_eth_dev_socket_id(pid);
	if (socket < 0)
		socket = (int)rte_socket_id();
	for (uint16_t q = 0; q < pc->rx_queues; q++) {
		struct rte_mempool *pool =
			dp.xdp_pool && strcmp(info.driver_name, "net_af_xdp") == 0 ? dp.xdp_pool : dp.pool;
		rc = rte_eth_rx_queue_setup(pid, q, nrx, (unsigned)socket, NULL, pool);
		if (rc != 0)
			return dp_fail(err, errlen, rc, "port %s: RX queue %u setup failed: %s", pc->name, q,
				rte_strerror(-rc));
	}
	struct rte_eth_txconf txc = info.default_txconf;
	txc.offloads = conf.txmode.offloads;
	for (uint16_t q = 0; q < n_txq; q++) {
		rc = rte_eth_tx_queue_setup(pid, q, ntx, (unsigned)socket, &txc);
		if (rc != 0)
			return dp_fail(err, errlen, rc, "port %s: TX queue %u setup failed: %s", pc->name, q,
				rte_strerror(-rc));
	}
	if (pc->has_mac) {
		struct rte_ether_addr a;
		memcpy(a.addr_bytes, pc->mac, 6);
		rc = rte_eth_dev_default_mac_addr_set(pid, &a);
		if (rc == -ENOTSUP)
			return dp_fail(err, errlen, rc,
				"port %s: driver %s cannot change its MAC address; remove ports[%u].mac", pc->name,
				info.driver_name, idx);
		if (rc != 0)
			return dp_fail(
				err, errlen, rc, "port %s: cannot set MAC address: %s", pc->name, rte_strerror(-rc));
	}
	rc = rte_eth_dev_set_mtu(pid, pc->mtu);
	if (rc != 0 && rc != -ENOTSUP)
		return dp_fail(err, errlen, rc, "port %s: cannot set MTU %u: %s (driver %s accepts %u..%u)", pc->name,
			pc->mtu, rte_strerror(-rc), info.driver_name, info.min_mtu, info.max_mtu);
	struct port_state *ps = &dp.ports[idx];
	if (strcmp(info.driver_name, "net_af_packet") == 0 && info.if_index != 0) {
		ps->afp_ifindex = info.if_index;
		ps->afp_drops = 0;
		char note[512];
		rc = dp_kport_prepare(&ps->kport, info.if_index, note, sizeof(note));
		/* a failed step degrades forwarding (TCP through a veth crawls): a warning, with the fix */
		if (rc == 0)
			RTE_LOG(NOTICE, USER1, "dpfwd: port %s (af_packet on %s)\n", pc->name, note);
		else
			RTE_LOG(WARNING, USER1,
				"dpfwd: port %s (af_packet on %s); frames above the ring frame will count as "
				"rx_truncated and TCP "
				"from the veth peer slows to a crawl: give dpfwd CAP_BPF and CAP_NET_ADMIN with bpf() "
				"allowed "
				"(docs/deploy.md), or use net_af_xdp\n",
				pc->name, note);
	}
	rc = rte_eth_dev_start(pid);
	if (rc != 0)
		return dp_fail(err, errlen, rc, "port %s: start failed: %s", pc->name, rte_strerror(-rc));
	ps->port_id = pid;
	ps->mtu = pc->mtu;
	rte_eth_macaddr_get(pid, &ps->mac);
	dp.src_et[idx] = dp_src_et_word(&ps->mac);
	uint8_t mac8[8] = {0};
	memcpy(mac8, ps->mac.addr_bytes, 6);
	dp.mac_key[idx] = dp_eth_dst_key(mac8);
	dp.l2_key[idx] = dp_l2_key_make(ps->mac.addr_bytes);
	snprintf(ps->name, sizeof(ps->name), "%s", pc->name);
	ps->kernel = is_kernel_port(info.driver_name);
	ps->rx_cut_len = pc->rx_cut_len;
	return 0;
}

/*
 * Checksum completion for kernel-backed ports (af_packet, af_xdp) runs as an ethdev RX callback
 * on their queues: it runs inside rte_eth_rx_burst on the worker that polls the queue, and
 * ports without one pay only the test rte_eth_rx_burst makes anyway (RTE_ETHDEV_RXTX_CALLBACKS),
 * so the worker loop and the pcap/null/NIC path are unchanged. `arg` is the polling worker's
 * csum_completed slot for the port: one queue is polled by one worker only.
 */
static uint16_t
kernel_rx_cb(uint16_t port_id, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb, uint16_t max, void *arg)
{
	(void)port_id;
	(void)queue;
	(void)max;
	uint64_t n = 0;
	for (unsigned j = 0; j < nb; j++)
		n += (uint64_t)dp_l4_csum_complete(
			rte_pktmbuf_mtod(pkts[j], struct rte_ether_hdr *), rte_pktmbuf_data_len(pkts[j]));
	*(uint64_t *)arg += n;
	return nb;
}

static int
kernel_rx_callbacks_add(char *err, size_t errlen)
{
	for (unsigned i = 0; i < dp.n_workers; i++) {
		struct worker *w = &dp.workers[i];
		for (unsigned q = 0; q < w->n_rx; q++) {
			unsigned idx = w->rx[q].port_idx;
			if (!dp.ports[idx].kernel)
				continue;
			uint64_t *slot = &w->ctr[PORT_BASE + idx * PORT_SLOTS + PORT_CTR(csum_completed)];
			const struct rte_eth_rxtx_callback *cb =
				rte_eth_add_rx_callback(w->rx[q].port_id, w->rx[q].queue, kernel_rx_cb, slot);
			if (cb == NULL)
				return dp_fail(err, errlen, rte_errno ? rte_errno : ENOTSUP,
					"port %s: cannot add the checksum-completion RX callback: %s",
					dp.ports[idx].name, rte_strerror(rte_errno));
			dp.rx_cbs[dp.n_rx_cbs].port_id = w->rx[q].port_id;
			dp.rx_cbs[dp.n_rx_cbs].queue = w->rx[q].queue;
			dp.rx_cbs[dp.n_rx_cbs].cb = cb;
			dp.n_rx_cbs++;
		}
	}
	return 0;
}

/* After the workers stopped: nobody runs the callbacks any more, so their memory can go. */
static void
kernel_rx_callbacks_remove(void)
{
	for (unsigned i = 0; i < dp.n_rx_cbs; i++) {
		if (rte_eth_remove_rx_callback(dp.rx_cbs[i].port_id, dp.rx_cbs[i].queue, dp.rx_cbs[i].cb) == 0)
			rte_free((void *)(uintptr_t)dp.rx_cbs[i].cb);
	}
	dp.n_rx_cbs = 0;
}

static void
release_all(void)
{
	dp_observe_release(); /* capture and trace: their callbacks and rings, before the ports go */
	kernel_rx_callbacks_remove();
	for (unsigned i = 0; i < dp.n_ports; i++) {
		rte_eth_dev_stop(dp.ports[i].port_id);
		rte_eth_dev_close(dp.ports[i].port_id);
		dp_kport_release(&dp.ports[i].kport);
	}
	dp.n_ports = 0;
	if (dp.workers) {
		for (unsigned i = 0; i < dp.n_workers; i++) {
			struct worker *w = &dp.workers[i];
			struct rte_mbuf *m;
			for (unsigned p = 0; p < DP_MAX_PORTS; p++)
				if (w->tx[p].n)
					rte_pktmbuf_free_bulk(w->tx[p].pkts, w->tx[p].n);
			while (w->punt && rte_ring_dequeue(w->punt, (void **)&m) == 0)
				rte_pktmbuf_free(m);
			while (w->inject && rte_ring_dequeue(w->inject, (void **)&m) == 0)
				rte_pktmbuf_free(m);
			rte_ring_free(w->punt);
			rte_ring_free(w->inject);
		}
		rte_free(dp.workers);
		dp.workers = NULL;
	}
	dp.n_workers = 0;
	if (dp.fib)
		dp_fib_free(dp.fib);
	dp.fib = NULL;
	dp.lpm = NULL;
	rte_free(dp.qsv);
	dp.qsv = NULL;
	rte_free(dp.nexthops);
	dp.nexthops = NULL;
	rte_free(dp.groups);
	dp.groups = NULL;
	free(dp.group_ctl);
	dp.group_ctl = NULL;
	dp.max_groups = dp.n_groups = 0;
	__atomic_store_n(&dp.addr_filter.set, NULL, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < 2; i++) {
		rte_free(dp.addr_sets[i]);
		dp.addr_sets[i] = NULL;
	}
	rte_free(dp.counters);
	dp.counters = NULL;
	rte_free(dp.vlan_map);
	dp.vlan_map = NULL;
	rte_mempool_free(dp.pool);
	dp.pool = NULL;
	rte_mempool_free(dp.xdp_pool);
	dp.xdp_pool = NULL;
	if (dp.efd >= 0)
		close(dp.efd);
	dp.efd = -1;
}

int
dp_start(const struct dp_conf *c, char *err, size_t errlen)
{
	int rc;
	if (!dp.eal_ready)
		return dp_fail(err, errlen, EINVAL, "call dp_eal_init first");
	if (dp.running)
		return dp_fail(err, errlen, EALREADY, "the dataplane is already running");
	if (c->n_ports == 0 || c->n_ports > DP_MAX_PORTS)
		return dp_fail(err, errlen, EINVAL, "%u ports: dpfwd supports 1 to %u", c->n_ports, DP_MAX_PORTS);
	if (c->n_workers == 0 || c->n_workers > DP_MAX_WORKERS)
		return dp_fail(err, errlen, EINVAL, "%u workers: dpfwd supports 1 to %u", c->n_workers, DP_MAX_WORKERS);
	for (unsigned i = 0; i < c->n_workers; i++) {
		unsigned lc = c->workers[i].lcore;
		if (!rte_lcore_is_enabled(lc) || lc == rte_get_main_lcore())
			return dp_fail(err, errlen, EINVAL,
				"worker lcore %u is not an EAL worker lcore; list it in eal.lcores after the main "
				"lcore",
				lc);
		for (unsigned q = 0; q < c->workers[i].n_rx; q++)
			if (c->workers[i].rx[q].port >= c->n_ports)
				return dp_fail(err, errlen, EINVAL, "worker %u: RX port index %u out of range", lc,
					c->workers[i].rx[q].port);
	}
	memset(dp.ports, 0, sizeof(dp.ports));
	atomic_store(&dp.stop, 0);

	dp.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dp.efd < 0)
		return dp_fail(err, errlen, errno, "eventfd: %s", strerror(errno));

	uint16_t max_mtu = 1500;
	for (unsigned i = 0; i < c->n_ports; i++)
		if (c->ports[i].mtu > max_mtu)
			max_mtu = c->ports[i].mtu;
	uint32_t room = RTE_PKTMBUF_HEADROOM + RTE_MAX(2048u, (unsigned)max_mtu + RTE_ETHER_HDR_LEN + 8u);
	/* af_packet copies up to framesz - 32 bytes into one mbuf (its RX queue setup refuses less):
	 * rx_cut_len = framesz - 66 */
	for (unsigned i = 0; i < c->n_ports; i++)
		if (c->ports[i].rx_cut_len != 0 && c->ports[i].rx_cut_len + 34u > room - RTE_PKTMBUF_HEADROOM)
			room = RTE_PKTMBUF_HEADROOM + c->ports[i].rx_cut_len + 34u;
	if (room > UINT16_MAX) {
		release_all();
		return dp_fail(err, errlen, EINVAL,
			"mbufs of %u bytes are too big (largest 65535): lower an af_packet port's framesz", room);
	}
	dp.pool = rte_pktmbuf_pool_create(
		"dpfwd_mbufs", c->mbufs, c->mbuf_cache, 0, (uint16_t)room, (int)rte_socket_id());
	if (!dp.pool) {
		rc = dp_fail(err, errlen, rte_errno,
			"cannot create a pool of %u mbufs of %u bytes (%.0f MiB): %s; reserve more hugepages "
			"(echo 1024 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) or lower mempool.mbufs",
			c->mbufs, room, (double)c->mbufs * (room + 192) / 1048576.0, rte_strerror(rte_errno));
		release_all();
		return rc;
	}
	rc = xdp_pool_create(c, room, err, errlen);
	if (rc != 0) {
		release_all();
		return rc;
	}

	dp.max_nexthops = c->max_nexthops;
	dp.nexthops = rte_zmalloc("dpfwd_nexthops", sizeof(uint64_t) * c->max_nexthops, RTE_CACHE_LINE_SIZE);
	if (c->max_groups > DP_MAX_GROUPS) {
		release_all();
		return dp_fail(err, errlen, EINVAL, "fib.maxGroups %u is above %u", c->max_groups, DP_MAX_GROUPS);
	}
	dp.max_groups = c->max_groups;
	dp.n_groups = 0;
	if (c->max_groups) {
		dp.groups = rte_zmalloc("dpfwd_groups", sizeof(struct dp_group) * c->max_groups, RTE_CACHE_LINE_SIZE);
		dp.group_ctl = calloc(c->max_groups, sizeof(struct dp_group_ctl));
	}
	size_t qsz = rte_rcu_qsbr_get_memsize(c->n_workers);
	dp.qsv = rte_zmalloc("dpfwd_rcu", qsz, RTE_CACHE_LINE_SIZE);
	dp.counters_bytes = sizeof(uint64_t) * WORKER_STRIDE * c->n_workers;
	dp.counters = rte_zmalloc("dpfwd_counters", dp.counters_bytes, RTE_CACHE_LINE_SIZE);
	dp.workers = rte_zmalloc("dpfwd_workers", sizeof(struct worker) * c->n_workers, RTE_CACHE_LINE_SIZE);
	for (unsigned i = 0; i < 2; i++)
		dp.addr_sets[i] = rte_zmalloc("dpfwd_addr_set", sizeof(struct dp_addr_set), RTE_CACHE_LINE_SIZE);
	dp.vlan_map = rte_malloc("dpfwd_vlan_map", sizeof(*dp.vlan_map) * DP_MAX_PORTS, RTE_CACHE_LINE_SIZE);
	if (dp.vlan_map)
		memset(dp.vlan_map, 0xff, sizeof(*dp.vlan_map) * DP_MAX_PORTS); /* DP_IFACE_NONE */
	memset(dp.subifs, 0, sizeof(dp.subifs));
	__atomic_store_n(&dp.addr_filter.set, dp.addr_sets[0], __ATOMIC_RELEASE);
	dp_addr_flags_compute(dp.addr_filter.src_head, dp.addr_filter.tail_head, dp.addr_sets[0]);
	if (!dp.nexthops || !dp.qsv || !dp.counters || !dp.workers || !dp.addr_sets[0] || !dp.addr_sets[1] ||
		!dp.vlan_map || (c->max_groups && (!dp.groups || !dp.group_ctl))) {
		release_all();
		return dp_fail(err, errlen, ENOMEM, "out of hugepage memory for tables; reserve more hugepages");
	}
	for (uint32_t i = 0; i < c->max_nexthops; i++)
		dp.nexthops[i] = (uint64_t)DP_NH_DROP << 48;
	rte_rcu_qsbr_init(dp.qsv, c->n_workers);

	/* rte_lpm's tables (so workers use its inline lookups) written by dp_fib: rules in a hash,
	 * tbl8 groups reused only after an RCU grace period of the workers */
	dp.fib = dp_fib_create("dpfwd_fib", (int)rte_socket_id(), c->max_routes, c->tbl8_groups, dp.qsv, err, errlen);
	if (!dp.fib) {
		char why[256];
		snprintf(why, sizeof(why), "%s", err);
		rc = dp_fail(err, errlen, rte_errno ? rte_errno : ENOMEM,
			"cannot create the FIB for %u routes and %u tbl8 groups (%s); reserve more hugepages or lower "
			"fib.maxRoutes",
			c->max_routes, c->tbl8_groups, why);
		release_all();
		return rc;
	}
	dp.lpm = dp_fib_lpm(dp.fib);
	dp.max_routes = c->max_routes;
	dp.tbl8_groups = c->tbl8_groups;

	dp.n_workers = c->n_workers;
	uint64_t hz = rte_get_tsc_hz();
	for (unsigned i = 0; i < c->n_workers; i++) {
		struct worker *w = &dp.workers[i];
		char name[RTE_RING_NAMESIZE];
		w->id = (uint16_t)i;
		w->lcore = c->workers[i].lcore;
		w->ctr = dp.counters + (size_t)WORKER_STRIDE * i;
		w->n_rx = c->workers[i].n_rx;
		w->idle_max_ns =
			(c->workers[i].idle_sleep_us < DP_IDLE_MAX_US ? c->workers[i].idle_sleep_us : DP_IDLE_MAX_US) *
			1000u;
		for (unsigned q = 0; q < w->n_rx; q++) {
			w->rx[q].port_idx = c->workers[i].rx[q].port;
			w->rx[q].queue = c->workers[i].rx[q].queue;
		}
		snprintf(name, sizeof(name), "dpfwd_punt%u", i);
		w->punt = rte_ring_create(name, c->punt_ring_size, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "dpfwd_inj%u", i);
		w->inject = rte_ring_create(name, 1024, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!w->punt || !w->inject) {
			rc = dp_fail(
				err, errlen, rte_errno, "cannot create punt/inject rings: %s", rte_strerror(rte_errno));
			release_all();
			return rc;
		}
		uint32_t rate = c->punt_rate ? c->punt_rate : 1;
		w->punt_cost = hz / rate ? hz / rate : 1;
		w->punt_cap = w->punt_cost * (c->punt_burst ? c->punt_burst : 1);
		w->punt_budget[0] = w->punt_budget[1] = w->punt_cap;
	}

	for (unsigned i = 0; i < c->n_ports; i++) {
		rc = port_setup(i, &c->ports[i], c->n_workers, err, errlen);
		if (rc != 0) {
			dp_kport_release(&dp.ports[i].kport);
			release_all();
			return rc;
		}
		dp.n_ports = (uint16_t)(i + 1);
	}
	dp.mtu_floor = 0xffff;
	for (unsigned i = 0; i < dp.n_ports; i++)
		if (dp.ports[i].mtu < dp.mtu_floor)
			dp.mtu_floor = dp.ports[i].mtu;
	for (unsigned i = 0; i < c->n_workers; i++)
		for (unsigned q = 0; q < dp.workers[i].n_rx; q++)
			dp.workers[i].rx[q].port_id = dp.ports[dp.workers[i].rx[q].port_idx].port_id;
	rc = kernel_rx_callbacks_add(err, errlen);
	if (rc != 0) {
		release_all();
		return rc;
	}

	dp.running = 1;
	return 0;
}

int
dp_launch(char *err, size_t errlen)
{
	if (!dp.running)
		return dp_fail(err, errlen, EINVAL, "call dp_start first");
	if (dp.launched)
		return dp_fail(err, errlen, EALREADY, "the workers are already running");
	dp.punt_drained_tsc = rte_rdtsc(); /* nothing waits yet: the clock starts at launch */
	atomic_store(&dp.punt_sleeping, 1); /* no consumer has drained yet: the first punt wakes it */
	for (unsigned i = 0; i < dp.n_workers; i++) {
		dp.workers[i].alive = 1;
		int rc = rte_eal_remote_launch(dp_worker_main, &dp.workers[i], dp.workers[i].lcore);
		if (rc != 0) {
			dp.workers[i].alive = 0;
			atomic_store(&dp.stop, 1);
			rte_eal_mp_wait_lcore();
			return dp_fail(err, errlen, rc, "cannot launch the worker on lcore %u: %s (is the lcore busy?)",
				dp.workers[i].lcore, rte_strerror(-rc));
		}
	}
	dp.launched = 1;
	return 0;
}

int
dp_stop(void)
{
	if (!dp.running)
		return 0;
	atomic_store(&dp.stop, 1);
	if (dp.launched)
		rte_eal_mp_wait_lcore();
	dp.launched = 0;
	release_all();
	dp.running = 0;
	return 0;
}

/* ---- ports, pools ---- */

int
dp_port_info(uint16_t idx, struct dp_port_info *out)
{
	if (!dp.running || idx >= dp.n_ports)
		return -ENODEV;
	uint16_t pid = dp.ports[idx].port_id;
	struct rte_eth_dev_info info;
	struct rte_eth_link link;
	memset(out, 0, sizeof(*out));
	out->port_id = pid;
	memcpy(out->mac, dp.ports[idx].mac.addr_bytes, 6);
	if (rte_eth_dev_info_get(pid, &info) == 0) {
		snprintf(out->driver, sizeof(out->driver), "%s", info.driver_name);
		out->rx_queues = info.nb_rx_queues;
		out->tx_queues = info.nb_tx_queues;
	}
	out->mtu = dp.ports[idx].mtu;
	if (rte_eth_link_get_nowait(pid, &link) == 0) {
		out->link_up = link.link_status == RTE_ETH_LINK_UP;
		out->speed_mbps = link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed;
	}
	int s = rte_eth_dev_socket_id(pid);
	out->numa_node = s < 0 ? 0 : (uint16_t)s;
	return 0;
}

int
dp_port_stats(uint16_t idx, struct dp_port_stats *out)
{
	if (!dp.running || idx >= dp.n_ports)
		return -ENODEV;
	struct rte_eth_stats st;
	int rc = rte_eth_stats_get(dp.ports[idx].port_id, &st);
	if (rc != 0)
		return rc;
	out->ipackets = st.ipackets;
	out->opackets = st.opackets;
	out->ibytes = st.ibytes;
	out->obytes = st.obytes;
	out->ierrors = st.ierrors;
	out->oerrors = st.oerrors;
	out->imissed = st.imissed;
	struct port_state *ps = &dp.ports[idx];
	if (ps->afp_ifindex) {
		/* the af_packet PMD does not count its ring's drops: the kernel's, summed */
		dp_afp_ring_drops(ps->afp_ifindex, &ps->afp_drops);
		out->imissed += ps->afp_drops;
	}
	out->rx_nombuf = st.rx_nombuf;
	return 0;
}

int
dp_mempool_info(struct dp_mempool_info *out)
{
	if (!dp.pool)
		return -ENODEV;
	out->size = dp.pool->size;
	out->available = rte_mempool_avail_count(dp.pool);
	out->in_use = rte_mempool_in_use_count(dp.pool);
	out->data_room = rte_pktmbuf_data_room_size(dp.pool);
	return 0;
}

int
dp_running(void)
{
	return dp.running;
}

/* ---- counters ---- */

uint64_t *
dp_counters(size_t *bytes, struct dp_counter_layout *l)
{
	if (!dp.counters)
		return NULL;
	*bytes = dp.counters_bytes;
	l->n_workers = dp.n_workers;
	l->n_ports = dp.n_ports;
	l->worker_stride = WORKER_STRIDE;
	l->worker_fields = DP_WCTR_MAX;
	l->port_base = PORT_BASE;
	l->port_stride = PORT_SLOTS;
	l->subif_base = SUBIF_BASE;
	l->n_subifs = DP_MAX_SUBIFS;
	l->punt_base = PUNT_BASE;
	l->n_drop_reasons = DP_DROP_MAX;
	l->n_punt_kinds = DP_PUNT_MAX;
	l->n_port_counters = DP_PCTR_MAX;
	return dp.counters;
}
