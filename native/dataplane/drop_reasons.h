/*
 * The single list of drop reasons. It generates the enum, the counters and the names that
 * TypeScript, the CLI and Prometheus print. Order: the checks' order as first written, later
 * reasons appended (unknown_vlan is met first, at the VLAN lookup); it sets only the counter slots
 * and the order `show drops --all` lists; the order a packet meets the checks is worker.c's.
 * Every packet the fast path frees increments exactly one of these.
 *
 * X(name, help)
 */
#define DP_DROP_REASONS(X) \
	X(not_ipv4, "frame is neither IPv4 nor ARP (other EtherType, QinQ or 802.1ad tag)") \
	X(truncated, "frame too short to hold an Ethernet and an IPv4 header") \
	X(bad_version, "IP version field is not 4") \
	X(bad_header_length, "IHL below 5 or header longer than the frame") \
	X(bad_total_length, "IPv4 total length below the header length or beyond the frame") \
	X(bad_checksum, "IPv4 header checksum does not verify") \
	X(martian_address, "source or destination may not be forwarded (0/8, 127/8, multicast, class E, broadcast)") \
	X(ttl_expired, "TTL was 0 or 1 on arrival (punted for ICMP time exceeded)") \
	X(no_route, "no FIB entry covers the destination (punted for ICMP unreachable)") \
	X(blackhole, "the matching route discards (blackhole route or unset next hop)") \
	X(neighbor_unresolved, "next hop's MAC address is not known yet (punted to resolve it)") \
	X(mtu_exceeded, \
		"packet with DF set longer than the egress interface's MTU (punted for ICMP fragmentation needed); " \
		"without DF it is fragmented") \
	X(punt_ratelimited, "packet for the control plane (ARP, local) over the punt rate limit or ring full") \
	X(tx_full, "egress queue full: the TX burst did not take the packet") \
	X(source_own, "source is one of the router's own addresses (RFC 1812 5.3.7)") \
	X(source_broadcast, "source is the directed broadcast of a connected subnet (RFC 1812 5.3.7)") \
	X(directed_broadcast, \
		"destination is a connected subnet's broadcast or network address: not forwarded (RFC 2644)") \
	X(frag_failed, \
		"a datagram without DF longer than the egress MTU could not be fragmented (more than 64 fragments, " \
		"an MTU too small for its header, a chained mbuf, or no mbuf)") \
	X(rx_truncated, \
		"kernel-backed port (af_packet) delivered a frame cut to its ring frame: a TSO/GRO super-frame or a " \
		"datagram the kernel reassembled; see docs/kernel-ports.md (raise framesz, or let dpfwd attach its " \
		"pass-through XDP program)") \
	X(unknown_vlan, "802.1Q-tagged frame for a VLAN no sub-interface of the port has (counted on the port)") \
	X(not_for_us, "Ethernet destination is another host's unicast MAC, not the port's (Linux: PACKET_OTHERHOST)") \
	X(link_broadcast, \
		"received as link-layer broadcast or multicast but addressed to a unicast IP destination other than " \
		"the router's: not forwarded (RFC 1812 5.3.4)")

/* Why a packet went to the control plane (punt ring). */
#define DP_PUNT_KINDS(X) \
	X(arp, "ARP frame") \
	X(local, "IPv4 packet addressed to one of the router's addresses") \
	X(ttl_expired, "TTL expired: candidate for ICMP time exceeded") \
	X(no_route, "no route: candidate for ICMP destination unreachable") \
	X(unresolved, "next hop MAC unknown: trigger ARP resolution") \
	X(mtu_exceeded, "too big for the egress MTU: ICMP fragmentation needed") \
	X(link_multicast, "link-local multicast (224.0.0.0/24: OSPF, VRRP, ...) for the Linux mirrors; never forwarded")

/* Per-worker counters that are not per port. */
#define DP_WORKER_COUNTERS(X) \
	X(rx_packets, "packets received by this worker") \
	X(rx_bursts, "RX bursts that returned at least one packet") \
	X(tx_packets, "packets handed to TX queues and accepted by them") \
	X(busy_cycles, "TSC cycles spent in loop iterations that received packets") \
	X(idle_cycles, "TSC cycles spent in loop iterations that received nothing") \
	X(loops, "main loop iterations") \
	X(injected, "control-plane packets this worker sent for the main thread") \
	X(captured, "copies of packets this worker put in its capture ring (dpfwd capture)") \
	X(capture_dropped, \
		"copies a capture lost: the worker's capture ring was full or the capture pool empty (the packets " \
		"themselves went on)") \
	X(sleep_cycles, "TSC cycles asleep with no packets to forward (workers[].idle: sleep; part of idle_cycles)") \
	X(sleeps, "sleeps of an idle worker (workers[].idle: sleep)")

/* Per-port counters that are not drops (after the drop reasons in a port's block). */
#define DP_PORT_COUNTERS(X) \
	X(csum_completed, \
		"TCP/UDP checksums completed: the sender's kernel left the pseudo-header sum (CHECKSUM_PARTIAL) on a " \
		"kernel-backed port") \
	X(refragmented, \
		"datagrams the kernel reassembled on an af_packet port, sent on as fragments of the egress MTU " \
		"(counted on the ingress interface)") \
	X(fragmented, \
		"datagrams without DF longer than the interface's MTU, sent out of it as fragments (counted on the " \
		"egress interface)")
