# shellcheck shell=bash
# The Node.js that vreg runs, installs and tests on: the version pinned in
# .node-version (Node 24, the active LTS line). Source this file, then call
# vreg_use_node; `npm start`, `npm test` and `npm run bench` do.
#
# When the node on PATH is not of the pinned major (this machine kind ships
# Node 20, past its end of life), the pinned build is taken once from the npm
# registry, where the official binaries are published as
# node-<os>-<arch>@<version> (npm checks the tarball's sha512 against the
# registry's), unpacked into $VREG_NODE_CACHE and put first on PATH. npm then
# runs under it as well, so native modules (better-sqlite3) are built for its
# ABI and no engine check sees the old node.
#
#   VREG_NODE_CACHE   where pinned builds are unpacked (default ~/.cache/vreg/node)

VREG_NODE_RUNTIME_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VREG_NODE_VERSION="$(tr -d ' \n\r' <"$VREG_NODE_RUNTIME_ROOT/.node-version")"
VREG_NODE_CACHE="${VREG_NODE_CACHE:-$HOME/.cache/vreg/node}"

vreg_node_platform() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) echo "node-runtime: no pinned Node build for $(uname -s); install Node $VREG_NODE_VERSION yourself" >&2 && return 1 ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "node-runtime: no pinned Node build for $(uname -m); install Node $VREG_NODE_VERSION yourself" >&2 && return 1 ;;
  esac
  echo "$os-$arch"
}

# Puts a Node of the pinned major first on PATH: the one already there, or the
# pinned build (downloaded on first use). Also points node-gyp at its headers.
vreg_use_node() {
  local want_major current platform dir tmp
  want_major="${VREG_NODE_VERSION%%.*}"
  current="$(node --version 2>/dev/null || true)"
  if [[ "$current" == "v$want_major."* ]]; then
    return 0
  fi
  platform="$(vreg_node_platform)" || return 1
  dir="$VREG_NODE_CACHE/node-v$VREG_NODE_VERSION-$platform"
  if [[ ! -x "$dir/bin/node" ]]; then
    echo "node-runtime: fetching Node $VREG_NODE_VERSION ($platform) from the npm registry (found ${current:-no node})" >&2
    mkdir -p "$VREG_NODE_CACHE"
    tmp="$(mktemp -d "$VREG_NODE_CACHE/fetch.XXXXXX")"
    if ! (cd "$tmp" && npm pack --silent "node-$platform@$VREG_NODE_VERSION" >/dev/null && mkdir unpacked &&
      tar -xzf ./*.tgz -C unpacked --strip-components=1 && unpacked/bin/node --version >/dev/null); then
      rm -rf "$tmp"
      echo "node-runtime: could not fetch node-$platform@$VREG_NODE_VERSION from the npm registry" >&2
      return 1
    fi
    # A rename, so a concurrent or interrupted fetch never leaves a half-unpacked node in place.
    mv -T "$tmp/unpacked" "$dir" 2>/dev/null || true
    rm -rf "$tmp"
  fi
  export PATH="$dir/bin:$PATH"
  # node-gyp builds native modules against these headers instead of downloading them.
  export npm_config_nodedir="$dir"
  hash -r
}

# `npm ci` (under the node vreg_use_node chose) unless node_modules was
# installed from this lockfile by this node: native modules are built for one
# node ABI, so a switch of node means a reinstall.
vreg_npm_ci_if_stale() {
  local marker=node_modules/.vreg-installed-by
  local node_version
  node_version="$(node --version)"
  if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ||
    "$(cat "$marker" 2>/dev/null)" != "$node_version" ]]; then
    if declare -F phase >/dev/null; then phase npm-ci npm ci; else npm ci; fi
    echo "$node_version" >"$marker"
  fi
}
