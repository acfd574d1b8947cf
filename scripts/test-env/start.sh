#!/usr/bin/env bash
# Start the integration-test servers on 127.0.0.1, each on a free port with
# its own data dir under $VREG_TEST_ENV_DIR (default <repo>/.vreg-test/env):
#
#   nats       nats-server with JetStream          VREG_TEST_NATS_URL
#   ferretdb   MongoDB wire protocol over SQLite   VREG_TEST_MONGO_URL
#   moto       S3                                  VREG_TEST_S3_ENDPOINT
#   registry-a distribution registry, upstream A   VREG_TEST_UPSTREAM_URL
#   registry-b distribution registry, upstream B   VREG_TEST_UPSTREAM_B_URL
#
# then writes env.sh and env.json there. When everything it recorded is still
# running it reuses it; otherwise it stops the leftovers and starts afresh
# (empty data dirs). Run install.sh first.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/services.sh
source "$VREG_TEST_ENV_LIB_DIR/services.sh"

mkdir -p "$VREG_TEST_ENV_DIR"
exec 9>"$VREG_TEST_ENV_DIR/.lock"
flock 9

read -r -a services <<<"$(vreg_services)"

all_up=1
for svc in "${services[@]}"; do
  [[ -n "$(vreg_service_pid "$svc")" ]] || all_up=0
done
if ((all_up)) && [[ -f "$VREG_PORTS_FILE" && -f "$VREG_TEST_ENV_DIR/env.json" ]]; then
  vreg_load_ports
  vreg_write_env
  echo "test env already running, reusing it ($VREG_TEST_ENV_DIR/env.sh)"
  exit 0
fi

# Partly up (a crash, an interrupted run): stop what is left, start clean.
for svc in nats ferretdb moto registry-a registry-b; do
  vreg_stop_service "$svc"
  rm -rf "$(vreg_service_dir "$svc")"
done
rm -rf "$VREG_TEST_ENV_DIR/env.sh" "$VREG_TEST_ENV_DIR/env.json" "$VREG_TEST_ENV_DIR/seeded.json" \
  "$VREG_TEST_ENV_DIR/seed-layouts"

for tool in docker-registry skopeo; do
  [[ -n "$(vreg_bin "$tool")" ]] || vreg_die "$tool not found; run scripts/test-env/install.sh"
done

read -r -a ports <<<"$(node "$VREG_TEST_ENV_LIB_DIR/net.mjs" free-ports 6)"
cat >"$VREG_PORTS_FILE" <<PORTS
NATS_PORT=${ports[0]}
NATS_MONITOR_PORT=${ports[1]}
FERRETDB_PORT=${ports[2]}
MOTO_PORT=${ports[3]}
REGISTRY_A_PORT=${ports[4]}
REGISTRY_B_PORT=${ports[5]}
PORTS
vreg_load_ports

for svc in "${services[@]}"; do
  vreg_launch_service "$svc"
done

failed=()
for svc in "${services[@]}"; do
  t0="$(vreg_now)"
  if vreg_wait_service "$svc"; then
    echo "  $svc up (pid $(<"$(vreg_pidfile "$svc")"), ready after $(vreg_elapsed "$t0")s)"
  else
    failed+=("$svc")
  fi
done
if ((${#failed[@]})); then
  for svc in "${services[@]}"; do
    vreg_stop_service "$svc" >/dev/null
  done
  vreg_die "could not start: ${failed[*]} (logs in $VREG_TEST_ENV_DIR/<service>/log)"
fi

vreg_write_env
echo "test env up: $VREG_TEST_ENV_DIR/env.sh"
