#!/usr/bin/env bash
# Runs the tend image as an environment's supervisor on the example workspace: brings it up
# (services RUNNING, tasks succeeded), then `docker stop` (SIGTERM through tini) must stop
# everything and exit 0. Usage: DOCKER_HOST=... scripts/image-smoke.sh [TAG]
set -euo pipefail
cd "$(dirname "$0")/.."
TAG=${1:-tend:latest}
name=tend-smoke-$$
trap 'docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
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
docker exec "$name" sh -c 'test "$(cat /proc/1/comm)" = node && grep -l "^tini$" /proc/[0-9]*/comm >/dev/null'
tend status >/dev/null
docker stop -t 60 "$name" >/dev/null
code=$(docker inspect -f '{{.State.ExitCode}}' "$name")
[ "$code" = 0 ] || { echo "image smoke test: tend as PID 1 exited with $code" >&2; docker logs "$name" 2>&1 | tail -20 >&2; exit 1; }
echo "image smoke test: as PID 1, tend re-executed itself under tini and stopped cleanly"
