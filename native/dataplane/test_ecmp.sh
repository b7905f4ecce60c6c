#!/usr/bin/env bash
# Builds and runs the ECMP bucket-fill and flow-hash tests (ecmp_fill.c, ecmp.h; no EAL).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${TEST_ECMP_BUILD_DIR:-${TMPDIR:-/tmp}/dpfwd-test-ecmp-$$}"
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT
cc -std=c17 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -o "$out/test_ecmp" \
	"$here/test_ecmp.c" "$here/ecmp_fill.c" $(pkg-config --cflags libdpdk) -lm
"$out/test_ecmp"
