#!/usr/bin/env bash
# What `npm test` runs: dependencies, the integration-test servers (installed,
# started, seeded), vitest with their addresses in the environment, then the
# servers stopped again whatever happened. Arguments go to vitest:
#   npm test -- --project unit
#
#   VREG_TEST_USE_TESTCONTAINERS=1  use testcontainers for NATS/MongoDB/S3 when
#                                   `docker info` works (see below)
#   VREG_TEST_KEEP_ENV=1            leave the servers running afterwards
#                                   (scripts/test-env/stop.sh stops them)
# and everything scripts/test-env/lib/common.sh lists.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=test-env/lib/common.sh
source scripts/test-env/lib/common.sh


started_env=0
vitest_rc=
# $? is vitest's code after the final `exit`, or whatever failed before it.
finish() {
  local rc=$?
  if ((started_env)) && [[ "${VREG_TEST_KEEP_ENV:-}" != 1 ]]; then
    phase stop bash scripts/test-env/stop.sh || true
  fi
  if ((${#timings[@]})); then
    echo "==> timings"
    printf '  %s\n' "${timings[@]}"
  fi
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Everything below runs on the pinned Node 24, fetched once if this machine has another.
vreg_use_node
vreg_npm_ci_if_stale

# Testcontainers branch: with Docker available and VREG_TEST_USE_TESTCONTAINERS=1,
# the tests start NATS, MongoDB and S3 themselves (testcontainers); we only
# install and start the two upstream registries (and skopeo), so env.sh has no
# VREG_TEST_NATS_URL / _MONGO_URL / _S3_*. Without Docker the flag is dropped
# and everything runs locally as usual.
if [[ "${VREG_TEST_USE_TESTCONTAINERS:-}" == 1 ]]; then
  if docker info >/dev/null 2>&1; then
    export VREG_TEST_ONLY_REGISTRIES=1
  else
    echo "VREG_TEST_USE_TESTCONTAINERS=1 but docker is not usable; starting local servers instead" >&2
    unset VREG_TEST_USE_TESTCONTAINERS
  fi
fi

# The static checks first, on a whole-suite run: types (every workspace, the
# console included), the linter at zero warnings, and the formatter.
if (($# == 0)); then
  phase typecheck npm run --silent typecheck
  phase lint npm run --silent lint
  phase format npm run --silent format:check
fi

phase install bash scripts/test-env/install.sh
# helm and the compose loader for the deployment tests, built once into the same cache.
phase tools bash deploy/scripts/install-tools.sh
started_env=1
phase start bash scripts/test-env/start.sh
phase seed node scripts/test-env/seed.mjs

vreg_use_test_env

# The console's browser tests serve packages/console/dist (skipped when up to date).
phase console npm run --silent build:console

run_vitest() {
  set +e
  npx vitest run "$@"
  vitest_rc=$?
  set -e
}
phase vitest run_vitest "$@"
# The fault scenarios (kills, outages, broken upstreams) and docs/reliability.md,
# on a whole-suite run only (arguments pick tests of the main run). They start
# their own nats-server, FerretDB and moto, which the testcontainers branch
# does not install.
faults_rc=0
if (($# == 0)) && [[ "${VREG_TEST_ONLY_REGISTRIES:-}" != 1 ]]; then
  run_faults() {
    set +e
    bash scripts/test-faults.sh
    faults_rc=$?
    set -e
  }
  phase faults run_faults
fi
((vitest_rc != 0)) && exit "$vitest_rc"
exit "$faults_rc"
