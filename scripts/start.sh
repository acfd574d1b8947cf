#!/usr/bin/env bash
# What `npm start` runs: vreg on the pinned Node (scripts/node-runtime.sh),
# after installing the dependencies and building the console when either is
# out of date.
#
#   scripts/start.sh                     embedded mode (src/main.ts)
#   scripts/start.sh gateway|fetcher|catalog   one service of distributed mode
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=node-runtime.sh
source scripts/node-runtime.sh
vreg_use_node
vreg_npm_ci_if_stale >&2
case "${1:-embedded}" in
  embedded) entry=src/main.ts ;;
  gateway | fetcher | catalog) entry="services/$1/src/main.ts" ;;
  *) echo "usage: scripts/start.sh [embedded|gateway|fetcher|catalog]" >&2 && exit 2 ;;
esac
# The console is served by embedded mode and by the catalog.
[[ "$entry" == *gateway* || "$entry" == *fetcher* ]] || node scripts/build-console.mjs >&2
# The young generation as the image bounds it, and V8's collector exposed for the fills'
# scavenges, and no pretenuring (Dockerfile, NODE_OPTIONS and ENTRYPOINT say why).
exec node --max-semi-space-size=8 --expose-gc --no-allocation-site-pretenuring --import tsx "$entry"
