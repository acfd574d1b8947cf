#!/usr/bin/env bash
# `npm run test:faults`: the fault scenarios (test/faults/*.faults.test.ts,
# vitest.faults.config.ts), then docs/reliability.md generated from their
# records whatever the outcome. Exits with vitest's code. Arguments go to
# vitest (e.g. a file). Each scenario starts its own nats-server, FerretDB
# and moto, found through VREG_TEST_*_BIN (scripts/test-env) or on PATH.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=node-runtime.sh
source scripts/node-runtime.sh
vreg_use_node
npx vitest run -c vitest.faults.config.ts "$@"
rc=$?
# A report that cannot be written fails the run too.
if ! node scripts/reliability-report.mjs && ((rc == 0)); then rc=1; fi
exit "$rc"
