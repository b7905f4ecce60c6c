#!/usr/bin/env bash
# Builds the libFuzzer harness for native/dataplane/packet.h (no Node, no EAL, DPDK headers only).
#
#   bash native/fuzz/build.sh                     build native/fuzz/out/fuzz_packet
#   bash native/fuzz/build.sh --run SECONDS       build, then fuzz for SECONDS on the seed corpus
#   bash native/fuzz/build.sh --selftest [...]    same with -DFUZZ_SELFTEST_BREAK (a deliberately
#                                                 broken TTL checksum update the fuzzer must catch);
#                                                 binary native/fuzz/out/fuzz_packet_selftest
#
# A run's output goes to native/fuzz/out/<binary>.log, crash inputs to native/fuzz/out/<binary>-crash-*.
# Exit status: 0 clean, 1 build/setup problem, otherwise libFuzzer's (non-zero on a crash).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/out"
run_secs=""
selftest=0

while [ $# -gt 0 ]; do
	case "$1" in
	--run)
		[ $# -ge 2 ] || { echo "build.sh: --run needs SECONDS" >&2; exit 1; }
		run_secs="$2"
		shift 2
		;;
	--selftest)
		selftest=1
		shift
		;;
	-h | --help)
		sed -n '2,12p' "$0"
		exit 0
		;;
	*)
		echo "build.sh: unknown argument $1 (see --help)" >&2
		exit 1
		;;
	esac
done
if [ -n "$run_secs" ] && ! [[ "$run_secs" =~ ^[0-9]+$ ]]; then
	echo "build.sh: --run SECONDS must be a whole number, got '$run_secs'" >&2
	exit 1
fi

CC="${CC:-clang}"
if ! command -v "$CC" >/dev/null 2>&1; then
	echo "build.sh: $CC not found. Install it with:" >&2
	echo "  apt-get install -y clang libclang-rt-14-dev" >&2
	exit 1
fi
if ! pkg-config --exists libdpdk; then
	echo "build.sh: pkg-config does not know libdpdk (the DPDK headers). Install them with:" >&2
	echo "  apt-get install -y dpdk-dev libdpdk-dev" >&2
	exit 1
fi

# DPDK's headers as system headers, so -Wall -Wextra -Werror judges our code, not theirs.
dpdk_cflags=()
for f in $(pkg-config --cflags libdpdk); do
	case "$f" in
	-I*) dpdk_cflags+=("-isystem" "${f#-I}") ;;
	*) dpdk_cflags+=("$f") ;;
	esac
done

name=fuzz_packet
defs=()
if [ "$selftest" = 1 ]; then
	name=fuzz_packet_selftest
	defs=(-DFUZZ_SELFTEST_BREAK)
fi
mkdir -p "$out"
bin="$out/$name"

if ! "$CC" -std=gnu11 -g -O1 -Wall -Wextra -Werror \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	"${dpdk_cflags[@]}" "${defs[@]}" \
	-o "$bin" "$here/fuzz_packet.c" 2>"$out/$name.build.log"; then
	cat "$out/$name.build.log" >&2
	if grep -q "libclang_rt.fuzzer\|fuzzer.*No such file\|cannot find.*fuzzer" "$out/$name.build.log"; then
		echo "build.sh: libFuzzer runtime missing. Install it with:" >&2
		echo "  apt-get install -y clang libclang-rt-14-dev" >&2
	fi
	exit 1
fi
echo "built $bin"

[ -n "$run_secs" ] || exit 0

# Working corpus in out/ (libFuzzer adds to the first directory); the committed seeds stay as they are.
work="$out/corpus-$name"
mkdir -p "$work"
log="$out/$name.log"
echo "fuzzing $name for ${run_secs}s, log $log"
set +e
"$bin" -max_total_time="$run_secs" -max_len=1600 -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$out/$name-" \
	"$work" "$here/corpus" >"$log" 2>&1
rc=$?
set -e
tail -n 25 "$log"
if [ $rc -ne 0 ]; then
	echo "build.sh: $name exited with $rc (crash inputs: $out/$name-crash-*; log: $log)" >&2
else
	grep -E "^Done [0-9]+ runs" "$log" || true
fi
exit $rc
