#!/usr/bin/env bash
# Builds, once, a local stand-in for docker.io/library/node:20-bookworm-slim so that the image test
# (test/image.test.ts) can build deploy/Containerfile where no image registry is reachable: a minimal
# Debian 12 from Debian's archive (debootstrap) plus this machine's own Node.js 20 (binary, npm, headers),
# laid out as the official image lays it out (/usr/local). Prints the image name.
#
# Cached: the root filesystem tarball under $DPFWD_IMAGE_CACHE (default /var/cache/dpfwd-image) is kept
# between runs and the podman image is reused while it exists, so only the first run debootstraps.
# The machine's apt sources and extra CA certificates (an egress proxy's) are copied in, so apt-get and
# npm inside the build reach the same archive and registry as the host does.
set -euo pipefail
log() { printf 'container-base: %s\n' "$*" >&2; }
PODMAN=(podman ${DPFWD_PODMAN_OPTS:-})
NODE_BIN=$(node -p process.execPath)
NODE_VER=$(node -p process.version)
case "$NODE_VER" in v20.*) ;; *) log "host Node.js is $NODE_VER, the image needs 20.x"; exit 1 ;; esac
NODE_PREFIX=$(dirname "$(dirname "$NODE_BIN")")
TAG="localhost/dpfwd-test-base:bookworm-node-${NODE_VER#v}"
CACHE=${DPFWD_IMAGE_CACHE:-/var/cache/dpfwd-image}
TARBALL="$CACHE/bookworm-node-${NODE_VER#v}.tar"

if "${PODMAN[@]}" image exists "$TAG"; then echo "$TAG"; exit 0; fi
mkdir -p "$CACHE"
if [ ! -s "$TARBALL" ]; then
  command -v debootstrap >/dev/null || { log "debootstrap is missing: apt-get install debootstrap"; exit 1; }
  root=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  log "debootstrap bookworm into $root (from ${mirror:-http://deb.debian.org/debian})"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "${mirror:-http://deb.debian.org/debian}" >"$CACHE/debootstrap.log" 2>&1 \
    || { log "debootstrap failed, see $CACHE/debootstrap.log"; tail -5 "$CACHE/debootstrap.log" >&2; exit 1; }
  # the host's apt sources and settings (the same archive, its security and updates suites)
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    rm -f "$root/etc/apt/sources.list"; cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
  fi
  for f in /etc/apt/apt.conf.d/99*; do [ -f "$f" ] && cp "$f" "$root/etc/apt/apt.conf.d/"; done
  # extra CAs the host trusts (an egress proxy), for apt over https and npm
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    chroot "$root" update-ca-certificates >/dev/null 2>&1
  fi
  # Node.js as the official image has it: /usr/local/bin/node, npm, headers for node-gyp
  install -m 0755 "$NODE_BIN" "$root/usr/local/bin/node"
  mkdir -p "$root/usr/local/lib/node_modules" "$root/usr/local/include" "$root/usr/local/etc"
  cp -a "$NODE_PREFIX/lib/node_modules/npm" "$root/usr/local/lib/node_modules/"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  [ -d "$NODE_PREFIX/include/node" ] && cp -a "$NODE_PREFIX/include/node" "$root/usr/local/include/"
  # node-gyp takes the headers above instead of downloading them; npm trusts the system CA bundle
  printf 'nodedir=/usr/local\ncafile=/etc/ssl/certs/ca-certificates.crt\nfund=false\naudit=false\nupdate-notifier=false\n' \
    > "$root/usr/local/etc/npmrc"
  chroot "$root" /usr/local/bin/node --version >/dev/null
  rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
  tar -C "$root" -cf "$TARBALL.tmp" . && mv "$TARBALL.tmp" "$TARBALL"
  rm -rf "$root"; trap - EXIT
fi
log "importing $TARBALL as $TAG"
"${PODMAN[@]}" import --change 'CMD ["node"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' "$TARBALL" "$TAG" >/dev/null
echo "$TAG"
