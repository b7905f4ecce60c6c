#!/usr/bin/env bash
# The dpfwd demo: no hardware needed. Two network namespaces ("hosts") joined to dpfwd by veth
# pairs; dpfwd owns the router ends through af_packet ports and forwards between them.
#
#   ns dpfwd-west 10.1.0.2/24 ── vwest-h ═ vwest [dpfwd 10.1.0.1 | 10.2.0.1] veast ═ veast-h ── 10.2.0.2/24 ns dpfwd-east
#
# Shows ping and a short iperf3 run through the forwarder, then its counters, then cleans up.
# Run as root: npm run demo (which installs and builds first), or bash scripts/demo.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

DPFWD="node bin/dpfwd"
RUN=$(mktemp -d /tmp/dpfwd-demo.XXXXXX)
SOCK="$RUN/dpfwd.sock"
PID=""

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

cleanup() {
  set +e
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID"; wait "$PID"
  fi
  ip netns del dpfwd-west 2>/dev/null
  ip netns del dpfwd-east 2>/dev/null
  ip link del vwest 2>/dev/null
  ip link del veast 2>/dev/null
  rm -rf "$RUN"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "demo: run as root (it creates network namespaces and uses hugepages)"; exit 1; }
cleanup  # leftovers of an interrupted run

say "network: two hosts in namespaces, veth pairs into dpfwd"
for side in west:1 east:2; do
  name=${side%%:*}; n=${side##*:}
  ip netns add "dpfwd-$name"
  ip link add "v$name" type veth peer name "v$name-h"
  ip link set "v$name-h" netns "dpfwd-$name"
  ip link set "v$name" address "02:00:00:00:0$n:01" up
  ip -n "dpfwd-$name" link set lo up
  ip -n "dpfwd-$name" link set "v$name-h" address "02:00:00:00:0$n:02" up
  ip -n "dpfwd-$name" addr add "10.$n.0.2/24" dev "v$name-h"
  ip -n "dpfwd-$name" route add default via "10.$n.0.1"
  # offloads stay at the kernel's defaults: dpfwd completes the partial checksums the hosts
  # leave and keeps TSO super-frames off its af_packet ports itself (docs/kernel-ports.md)
  # ARP is answered by dpfwd's control plane; no static entries needed on the hosts
  echo "  host $name: 10.$n.0.2/24 via 10.$n.0.1 (dpfwd)"
done

say "dpfwd run --config examples/demo.yaml"
$DPFWD run --config examples/demo.yaml --socket "$SOCK" 2> >(sed 's/^/  | /' >&2) &
PID=$!
for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || { echo "demo: dpfwd did not start"; exit 1; }
sleep 0.5

D="$DPFWD --socket $SOCK"
say "dpfwd show ports"; $D show ports
say "dpfwd route show"; $D route show

say "ping west -> east through dpfwd"
ip netns exec dpfwd-west ping -c 3 -i 0.2 10.2.0.2
say "ping dpfwd's own address"
ip netns exec dpfwd-west ping -c 2 -i 0.2 10.1.0.1
say "tracepath west -> east: dpfwd is a hop"
ip netns exec dpfwd-west tracepath -n -m 4 10.2.0.2 || true

say "iperf3 TCP west -> east, 3 seconds"
ip netns exec dpfwd-east iperf3 -s -1 -D -B 10.2.0.2 >/dev/null
sleep 0.5
ip netns exec dpfwd-west iperf3 -c 10.2.0.2 -t 3 -f m | grep -E 'sender|receiver'

say "3000-byte ping west -> east (fragments; the af_packet socket reassembles them, dpfwd refragments)"
ip netns exec dpfwd-west ping -c 2 -i 0.2 -s 3000 10.2.0.2 | tail -2
say "checksum errors on the hosts (nstat): none"
for name in west east; do echo "  $name: $(ip netns exec dpfwd-$name nstat -az UdpInCsumErrors TcpInCsumErrors | awk '/CsumErrors/ {printf "%s %s  ", $1, $2}')"; done

say "dpfwd show workers"; $D show workers
say "dpfwd show drops"; $D show drops
say "dpfwd neighbor show (learned by ARP)"; $D neighbor show
say "Prometheus metrics (GET http://127.0.0.1:9450/metrics), a few lines"
node -e 'fetch("http://127.0.0.1:9450/metrics").then(r => r.text()).then(t => console.log(t.split("\n").filter(l => /^dpfwd_(forwarded_packets_total|port_receive_packets_total|worker_busy_seconds_total|routes\{)/.test(l)).join("\n")))' 
say "stopping dpfwd (SIGTERM) and cleaning up"
