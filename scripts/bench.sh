#!/usr/bin/env bash
# What `npm run bench` runs: dependencies, the test-env servers (installed,
# started, seeded: upstream registries A and B, NATS, FerretDB, moto), vreg's
# bundle (`npm run build`, what the image runs), then bench/run.ts, which
# starts vreg and the reference registry itself and prints one table (also
# written to bench/results/latest.md and, with its chart, docs/benchmarks.md);
# then the servers are stopped again, if this script started them.
#
# The bench runs on its own copy of the test env (.vreg-test/bench-env): the
# integration tests stop and restart upstream A for their outage cases, which
# must not happen under a measurement, and the bench pushes a 200 MiB image
# into its upstream that the tests need not carry.
#
#   VREG_BENCH_ENV_DIR=<dir>   servers' run directory (default .vreg-test/bench-env;
#                              .vreg-test/env shares the tests' servers)
#   VREG_TEST_KEEP_ENV=1       leave the servers running afterwards
#                              (VREG_TEST_ENV_DIR=<dir> scripts/test-env/stop.sh stops them)
#   VREG_BENCH_TSX=1           run vreg's TypeScript through tsx (as `npm start` does) instead of the bundle
# and the knobs bench/run.ts lists (VREG_BENCH_ONLY, _ROUNDS, _CLIENTS, _HUGE_MB, _CPU_PROF, _WORKERS).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Addresses from another env someone sourced into this shell must not leak
# into ours (seed.mjs prefers the environment over env.json); keep the knobs.
for var in $(compgen -e | grep '^VREG_TEST_' || true); do
  case "$var" in
    VREG_TEST_CACHE | VREG_TEST_KEEP_ENV | VREG_TEST_BUSYBOX | VREG_TEST_START_TIMEOUT | VREG_TEST_SEED_FORCE) ;;
    *) unset "$var" ;;
  esac
done
export VREG_TEST_ENV_DIR="${VREG_BENCH_ENV_DIR:-$PWD/.vreg-test/bench-env}"

# shellcheck source=test-env/lib/common.sh
source scripts/test-env/lib/common.sh

bench_t0="$(vreg_now)"

# Stop the servers afterwards only when they were not already running.
started_env=0
finish() {
  local rc=$?
  if ((started_env)) && [[ "${VREG_TEST_KEEP_ENV:-}" != 1 ]]; then
    phase stop bash scripts/test-env/stop.sh || true
  fi
  echo "==> bench.sh total $(vreg_elapsed "$bench_t0")s"
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Everything below runs on the pinned Node 24, fetched once if this machine has another.
vreg_use_node
vreg_npm_ci_if_stale

phase install bash scripts/test-env/install.sh

already_up=1
for svc in $(vreg_services); do
  [[ -n "$(vreg_service_pid "$svc")" ]] || already_up=0
done
((already_up)) || started_env=1
phase start bash scripts/test-env/start.sh
phase seed node scripts/test-env/seed.mjs

vreg_use_test_env

# The bundle the image runs (node dist/vreg.mjs embedded): its processes' memory is what a deployment sees.
if [[ "${VREG_BENCH_TSX:-}" != 1 && -z "${VREG_BENCH_BUNDLE:-}" ]]; then
  export VREG_BENCH_BUNDLE="$PWD/.vreg-test/bench-dist"
  phase build node deploy/build.mjs --outdir "$VREG_BENCH_BUNDLE"
fi

phase bench node --import tsx bench/run.ts
