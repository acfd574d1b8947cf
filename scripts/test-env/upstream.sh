#!/usr/bin/env bash
# Stop, start or restart one upstream registry of a running test env, on the
# same port and data dir, so tests can simulate an upstream outage:
#
#   scripts/test-env/upstream.sh stop A        # or B
#   scripts/test-env/upstream.sh start A       # waits until GET /v2/ == 200
#   scripts/test-env/upstream.sh restart B
#   scripts/test-env/upstream.sh status A      # prints the pid, exit 1 if down
#
# env.sh/env.json are rewritten with the new pid; the pid file
# (VREG_TEST_REGISTRY_<X>_PIDFILE) always holds the current one.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/services.sh
source "$VREG_TEST_ENV_LIB_DIR/services.sh"

usage() {
  echo "usage: $0 stop|start|restart|status A|B" >&2
  exit 64
}
(($# == 2)) || usage
action="$1"
case "${2^^}" in
  A) svc=registry-a ;;
  B) svc=registry-b ;;
  *) usage ;;
esac

exec 9>"$VREG_TEST_ENV_DIR/.lock"
flock 9
vreg_load_ports
[[ -f "$(vreg_service_dir "$svc")/config.yml" ]] || vreg_die "$svc was never started; run start.sh"

do_start() {
  local pid
  pid="$(vreg_service_pid "$svc")"
  if [[ -n "$pid" ]]; then
    echo "$svc already running (pid $pid)"
    return
  fi
  vreg_launch_service "$svc"
  vreg_wait_service "$svc" || {
    vreg_stop_service "$svc" >/dev/null
    vreg_die "could not restart $svc"
  }
  echo "started $svc (pid $(<"$(vreg_pidfile "$svc")"))"
}

case "$action" in
  stop) vreg_stop_service "$svc" ;;
  start) do_start ;;
  restart)
    vreg_stop_service "$svc"
    do_start
    ;;
  status)
    pid="$(vreg_service_pid "$svc")"
    [[ -n "$pid" ]] || {
      echo "$svc down"
      exit 1
    }
    echo "$pid"
    exit 0
    ;;
  *) usage ;;
esac
[[ -f "$VREG_TEST_ENV_DIR/env.json" ]] && vreg_write_env
exit 0
