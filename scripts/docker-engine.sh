#!/usr/bin/env bash
# Starts a private Docker engine for tend's tests and makes the test image; prints DOCKER_HOST.
# No registry is reachable here, so the image is imported from a tarball: busybox-static with a
# symlink per applet. Usage: export DOCKER_HOST=$(scripts/docker-engine.sh)
set -euo pipefail
ROOT=${TEND_DOCKER_ROOT:-/tmp/tend-docker}
SOCK="$ROOT/docker.sock"
IMAGE=${TEND_TEST_IMAGE:-tend-test-busybox:latest}
export DOCKER_HOST="unix://$SOCK"

if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null || [ ! -x /bin/busybox ]; then
  [ "$(id -u)" = 0 ] || { echo "docker-engine: docker.io and busybox-static are missing and this is not root" >&2; exit 1; }
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io busybox-static >&2
fi

mkdir -p "$ROOT/data" "$ROOT/exec"
if ! docker info >/dev/null 2>&1; then
  nohup dockerd --storage-driver=vfs --iptables=false --ip-masq=false --bridge=none \
    --data-root "$ROOT/data" --exec-root "$ROOT/exec" --pidfile "$ROOT/dockerd.pid" \
    -H "$DOCKER_HOST" >"$ROOT/dockerd.log" 2>&1 &
  for _ in $(seq 1 120); do
    docker info >/dev/null 2>&1 && break
    sleep 0.25
  done
  docker info >/dev/null 2>&1 || { echo "docker-engine: dockerd did not start; its log:" >&2; tail -20 "$ROOT/dockerd.log" >&2; exit 1; }
fi

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev"
  chmod 1777 "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in $("$rootfs/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
  done
  echo 'root:x:0:0:root:/:/bin/sh' >"$rootfs/etc/passwd"
  tar -C "$rootfs" -c . | docker import -c 'ENV PATH=/bin' - "$IMAGE" >/dev/null
  rm -rf "$rootfs"
fi
echo "$DOCKER_HOST"
