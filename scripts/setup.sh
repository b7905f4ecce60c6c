#!/usr/bin/env bash
# Installs everything dpfwd needs on a Debian 12 machine, as root, and builds it. Idempotent: a second
# run only rebuilds what changed. Called by `npm test`, `npm run demo` and `npm run bench` (pre-scripts),
# so a fresh clone needs nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*" >&2; }

need_pkgs=()
pkg-config --exists libdpdk 2>/dev/null || need_pkgs+=(dpdk dpdk-dev libdpdk-dev pkg-config)
[ -d /usr/share/dpdk/examples ] || need_pkgs+=(dpdk-doc)
command -v ping >/dev/null || need_pkgs+=(iputils-ping)
command -v tracepath >/dev/null || need_pkgs+=(iputils-tracepath)
command -v traceroute >/dev/null || need_pkgs+=(traceroute)
command -v iperf3 >/dev/null || need_pkgs+=(iperf3)
command -v tcpdump >/dev/null || need_pkgs+=(tcpdump)
command -v ip >/dev/null || need_pkgs+=(iproute2)
command -v nstat >/dev/null || need_pkgs+=(iproute2) # test/kernel-ports.test.ts: hosts' checksum errors
pkg-config --exists libbpf 2>/dev/null || need_pkgs+=(libbpf-dev) # addon: dpfwd's XDP step for af_packet ports
pkg-config --exists libpcap 2>/dev/null || need_pkgs+=(libpcap-dev) # addon: dpfwd capture/trace compile tcpdump filters
command -v tshark >/dev/null || need_pkgs+=(tshark) # test/capture.test.ts reads the pcapng dpfwd writes
pkg-config --exists libmnl 2>/dev/null || need_pkgs+=(libmnl-dev) # addon: route sync from the kernel (native/netlink)
command -v bird >/dev/null || need_pkgs+=(bird2) # test/route-sync.test.ts: BIRD exports ECMP routes into the kernel table
command -v ethtool >/dev/null || need_pkgs+=(ethtool) # tests read (never set) offload state with ethtool -k
command -v promtool >/dev/null || need_pkgs+=(prometheus)
command -v clang >/dev/null || need_pkgs+=(clang)
command -v clang-format >/dev/null || need_pkgs+=(clang-format) # npm run format / format:check (test/style.test.ts)
command -v valgrind >/dev/null || need_pkgs+=(valgrind) # bench: callgrind instruction counts
[ -x /usr/lib/frr/bgpd ] || need_pkgs+=(frr)                 # test/frr.test.ts: BGP and OSPF over dpfwd's ports (Linux mirrors)
command -v python3 >/dev/null || need_pkgs+=(python3)           # test/mirror.test.ts: TCP with TTL 1 (as eBGP) to a mirror
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null || need_pkgs+=(python3-jsonschema) # test/config-check.test.ts validates examples against docs/dpfwd.schema.json
/usr/bin/python3 -c 'import scapy' 2>/dev/null || need_pkgs+=(python3-scapy) # test/ipv6-packet.test.ts dissects and builds reference IPv6/ICMPv6/NDP frames
command -v groff >/dev/null || need_pkgs+=(groff-base)       # test/man.test.ts reads the man page with groff
command -v tmux >/dev/null || need_pkgs+=(tmux)                 # test/top.test.ts drives `dpfwd top` in a terminal
command -v podman >/dev/null || need_pkgs+=(podman)             # test/image.test.ts builds deploy/Containerfile
command -v runc >/dev/null || need_pkgs+=(runc)                 # (crun refuses hybrid cgroup hosts)
command -v debootstrap >/dev/null || need_pkgs+=(debootstrap)   # its local Debian 12 base image
[ -e /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ] || need_pkgs+=(libclang-rt-14-dev)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    log "missing Debian packages: ${need_pkgs[*]}; run as root or install them with apt-get"; exit 1
  fi
  log "installing Debian packages: ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# npm dependencies (the root package's install script builds the addon on first install)
if [ ! -d node_modules/node-addon-api ] || [ package.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies"
  npm install --no-audit --no-fund --loglevel=error
fi

# native addon: incremental rebuild (node-gyp's make tracks the sources)
if [ -f build/Makefile ] && [ binding.gyp -ot build/Makefile ]; then
  npm run --silent build:native:incremental -- --loglevel=error >/dev/null
else
  log "building the native addon"
  npm run --silent build:native -- --loglevel=error >/dev/null
fi

log "compiling TypeScript"
npx --no-install tsc -p tsconfig.json

# hugepages: 512 x 2 MiB is what the tests and the demo need (each forwarder takes what it uses)
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
if [ -w "$hp" ] && [ "$(cat "$hp")" -lt 512 ]; then
  log "reserving 512 x 2 MiB hugepages"
  echo 512 > "$hp" || true
fi
if ! grep -qs ' /dev/hugepages hugetlbfs' /proc/mounts && [ "$(id -u)" = 0 ]; then
  mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages || true
fi
if [ "$(cat "$hp" 2>/dev/null || echo 0)" -lt 256 ]; then
  log "warning: only $(cat "$hp" 2>/dev/null || echo 0) hugepages reserved; DPDK tests need 256+ (echo 512 > $hp as root)"
fi
