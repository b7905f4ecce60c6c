#!/bin/bash
# Super-frames a Linux host sends into a veth at default offloads, as af_packet on the other end
# would see them (docs/kernel-ports.md): TCP segments with more than one MSS of payload seen by
# tcpdump on the router's end during 2 s of iperf3 from the host.
#   bash bench/superframes/measure.sh none|xdp|xdp_gro_on
# none: nothing attached; xdp: dpfwd's kernel_port.c (pass-through XDP + GRO off) on the router end;
# xdp_gro_on: the same, then GRO back on (what XDP on a veth may turn on). Needs root, iperf3, tcpdump.
set -u
mode=$1
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT=$(mktemp -d)
gcc -O2 -I"$here/../../native/dataplane" "$here/kport_tool.c" "$here/../../native/dataplane/kernel_port.c" -lbpf -o "$OUT/kport_tool"
ip netns del kpH 2>/dev/null; ip netns del kpR 2>/dev/null
ip netns add kpH; ip netns add kpR
ip link add kph type veth peer name kpr
ip link set kph netns kpH; ip link set kpr netns kpR
ip -n kpH addr add 10.9.0.2/24 dev kph; ip -n kpR addr add 10.9.0.1/24 dev kpr
ip -n kpH link set kph up; ip -n kpR link set kpr up; ip -n kpH link set lo up; ip -n kpR link set lo up
exec 3> >(true)
if [ "$mode" != none ]; then
  coproc T { ip netns exec kpR $OUT/kport_tool kpr $([ "$mode" = xdp_gro_on ] && echo gro); }
  read -r line <&"${T[0]}"; echo "tool: $line"
fi
echo "host veth: $(ip netns exec kpH ethtool -k kph | grep -E '^tcp-segmentation-offload')  router end: $(ip netns exec kpR ethtool -k kpr | grep -E '^generic-receive-offload')"
ip netns exec kpR iperf3 -s -1 -B 10.9.0.1 >/dev/null 2>&1 & SP=$!
sleep 0.5
ip netns exec kpR timeout 4 tcpdump -i kpr -nn -q -l 'tcp' 2>/dev/null > $OUT/cap.$mode & DP=$!
sleep 0.5
ip netns exec kpH iperf3 -c 10.9.0.1 -t 2 -J > $OUT/iperf.$mode 2>&1
sleep 1.5
wait $SP $DP 2>/dev/null
tot=$(grep -c "tcp" $OUT/cap.$mode); big=$(awk '{n=$NF+0; if (n>1448) c++} END{print c+0}' $OUT/cap.$mode)
max=$(awk '{n=$NF+0; if (n>m) m=n} END{print m+0}' $OUT/cap.$mode)
echo "$mode: $tot TCP frames seen, $big with payload > 1448 bytes (MSS), largest payload $max; $(python3 -c "import json;j=json.load(open('$OUT/iperf.$mode'));print(round(j['end']['sum_received']['bits_per_second']/1e6),'Mbit/s')")"
[ "$mode" != none ] && { eval "exec ${T[1]}>&-"; wait $T_PID; }
ip netns del kpH; ip netns del kpR
rm -rf "$OUT"
