#!/usr/bin/env bash
# Runs the tend image as an environment's supervisor on the example workspace: brings it up
# (services RUNNING, tasks succeeded), then `docker stop` (SIGTERM through tini) must stop
# everything and exit 0. Also: the image's Node is the one it was built for (Node 24 LTS), and
# tend as PID 1 re-executes itself under tini and exits as a shell reports a signal (SIGKILL: 137).
# Usage: DOCKER_HOST=... scripts/image-smoke.sh [TAG]   (TEND_IMAGE_NODE as for build-image.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/node-fetch.sh
TAG=${1:-tend:latest}
NODE_MAJOR=${TEND_IMAGE_NODE:-$NODE_IMAGE}
NODE_MAJOR=${NODE_MAJOR%%.*}
name=tend-smoke-$$
trap 'docker rm -f "$name" >/dev/null 2>&1 || true' EXIT

version=$(docker run --rm --network none --entrypoint node "$TAG" --version)
case $version in
  "v$NODE_MAJOR".*) echo "image smoke test: the image runs Node $version" ;;
  *) echo "image smoke test: the image runs Node $version, not Node $NODE_MAJOR" >&2; exit 1 ;;
esac
# Its compile cache, made when the image was built, is for that Node.
docker run --rm --network none --entrypoint /bin/sh "$TAG" -c "ls -d /tmp/node-compile-cache/$version-*/" >/dev/null ||
  { echo "image smoke test: the image holds no compile cache for Node $version" >&2; exit 1; }

docker run -d --name "$name" --network host -v "$PWD/fixtures/example:/workspace" "$TAG" \
  daemon --workspace /workspace --listen 127.0.0.1:0 >/dev/null
for _ in $(seq 1 150); do
  docker exec "$name" test -f /var/lib/tend/daemon.json 2>/dev/null && break
  sleep 0.2
done
tend() { docker exec "$name" node /opt/tend/dist/cli/main.js "$@"; }
tend up --detach --workspace /workspace
tend status
[ "$(docker inspect -f '{{.State.Pid}}' "$name")" != 0 ]
docker exec "$name" sh -c 'test "$(cat /proc/1/comm)" = tini'
docker stop -t 60 "$name" >/dev/null
code=$(docker inspect -f '{{.State.ExitCode}}' "$name")
if [ "$code" != 0 ] || ! docker logs "$name" 2>&1 | grep -q '"msg":"Daemon stopped"'; then
  echo "image smoke test: tend exited with $code; its log:" >&2
  docker logs "$name" 2>&1 | tail -20 >&2
  exit 1
fi
echo "image smoke test: the example came up in the container and went down cleanly (exit $code)"

# Without an init: tend finds itself PID 1 and re-executes itself under tini as a subreaper.
docker rm -f "$name" >/dev/null
docker run -d --name "$name" --network host --entrypoint node -v "$PWD/fixtures/example:/workspace" "$TAG" \
  /opt/tend/dist/cli/main.js daemon --workspace /workspace --listen 127.0.0.1:0 >/dev/null
for _ in $(seq 1 150); do
  docker exec "$name" test -f /var/lib/tend/daemon.json 2>/dev/null && break
  sleep 0.2
done
# PID 1 is node (by its executable: Node 24 names its main thread MainThread), tini its child.
docker exec "$name" sh -c 'test "$(readlink /proc/1/exe)" = /usr/local/bin/node && grep -l "^tini$" /proc/[0-9]*/comm >/dev/null'
tend status >/dev/null
docker stop -t 60 "$name" >/dev/null
code=$(docker inspect -f '{{.State.ExitCode}}' "$name")
[ "$code" = 0 ] || { echo "image smoke test: tend as PID 1 exited with $code" >&2; docker logs "$name" 2>&1 | tail -20 >&2; exit 1; }
echo "image smoke test: as PID 1, tend re-executed itself under tini and stopped cleanly"

# The PID 1 wrapper exits 128 + the number of the signal that ended its child (tini): SIGKILL → 137.
docker rm -f "$name" >/dev/null
docker run -d --name "$name" --network host --entrypoint node -v "$PWD/fixtures/example:/workspace" "$TAG" \
  /opt/tend/dist/cli/tend.js daemon --workspace /workspace --listen 127.0.0.1:0 >/dev/null
for _ in $(seq 1 150); do
  docker exec "$name" test -f /var/lib/tend/daemon.json 2>/dev/null && break
  sleep 0.2
done
docker exec "$name" sh -c 'kill -KILL $(grep -l "^tini$" /proc/[0-9]*/comm | head -1 | cut -d/ -f3)'
docker wait "$name" >/dev/null
code=$(docker inspect -f '{{.State.ExitCode}}' "$name")
[ "$code" = 137 ] || { echo "image smoke test: PID 1 exited with $code after its tini was killed by SIGKILL, not 137" >&2; docker logs "$name" 2>&1 | tail -20 >&2; exit 1; }
echo "image smoke test: as PID 1, tend exited 137 when its tini was killed by SIGKILL"
