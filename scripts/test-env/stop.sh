#!/usr/bin/env bash
# Stop the servers start.sh started, by the pids it recorded (never by name).
# Data dirs and logs stay for inspection; start.sh clears them next time.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

[[ -d "$VREG_TEST_ENV_DIR" ]] || exit 0
exec 9>"$VREG_TEST_ENV_DIR/.lock"
flock 9

for svc in registry-b registry-a moto ferretdb nats; do
  vreg_stop_service "$svc"
done
rm -f "$VREG_TEST_ENV_DIR/env.sh" "$VREG_TEST_ENV_DIR/env.json"
