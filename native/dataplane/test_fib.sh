#!/usr/bin/env bash
# Builds and runs the dp_fib tests (fib.c against a brute-force reference and rte_lpm itself).
# Usage: test_fib.sh [test_fib options: --ops N --seeds N --routes N]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${TEST_FIB_BUILD_DIR:-${TMPDIR:-/tmp}/dpfwd-test-fib}"
mkdir -p "$out"
cc -std=c17 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -o "$out/test_fib" \
	"$here/test_fib.c" "$here/fib.c" $(pkg-config --cflags --libs libdpdk)
# a second lcore runs a concurrent reader when there is one
lcores=0
if [ "$(nproc)" -ge 2 ]; then lcores=0-1; fi
exec "$out/test_fib" --in-memory --no-pci -l "$lcores" --log-level=error --no-telemetry -- "$@"
