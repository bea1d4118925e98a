#!/usr/bin/env bash
# Builds the tend image (Dockerfile) from a base made here, with no registry: debootstrap minbase
# of this machine's Debian suite with tini, plus this machine's node binary, `docker import`ed.
# Usage: DOCKER_HOST=... scripts/build-image.sh [TAG]   (default tag: tend:latest)
set -euo pipefail
cd "$(dirname "$0")/.."
TAG=${1:-tend:latest}
. /etc/os-release
BASE=${TEND_BASE_IMAGE:-tend-base:$VERSION_CODENAME}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2
  rootfs=$(mktemp -d)
  debootstrap --variant=minbase --include=tini,ca-certificates "$VERSION_CODENAME" "$rootfs" "$MIRROR" >&2
  cp "$(readlink -f "$(command -v node)")" "$rootfs/usr/local/bin/node"
  tar -C "$rootfs" -c . | docker import - "$BASE" >/dev/null
  rm -rf "$rootfs"
fi

# The build context: dist/ and the production dependencies (native ones built for this node).
npm run build --silent
stage=image
rm -rf "$stage" && mkdir -p "$stage"
cp -a package.json package-lock.json dist "$stage/"
cp -a node_modules "$stage/node_modules"
(cd "$stage" && npm prune --omit=dev --no-audit --no-fund >/dev/null 2>&1)
DOCKER_BUILDKIT=0 docker build -q --build-arg BASE="$BASE" -t "$TAG" . >/dev/null
rm -rf "$stage"
echo "$TAG"
