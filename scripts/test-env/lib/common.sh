# shellcheck shell=bash
# Shared settings and helpers for scripts/test-env/*.sh. Source it; it defines
# no side effects beyond variables and functions.
#
#   VREG_TEST_CACHE    cache root (default ~/.cache/vreg-test-env); binaries we
#                      build land in $VREG_TEST_CACHE/bin
#   VREG_TEST_ENV_DIR  run directory (default <repo>/.vreg-test/env): pid files,
#                      logs, data dirs, env.sh, env.json, seeded.json
#   VREG_TEST_ONLY_REGISTRIES=1
#                      install/start only the two upstream registries (and
#                      skopeo); NATS, the MongoDB-wire server and S3 come from
#                      elsewhere (testcontainers, see scripts/test.sh)

VREG_TEST_ENV_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VREG_TEST_SCRIPTS_DIR="$(dirname "$VREG_TEST_ENV_LIB_DIR")"
VREG_REPO_ROOT="$(cd "$VREG_TEST_SCRIPTS_DIR/../.." && pwd)"
# vreg_use_node and vreg_npm_ci_if_stale: the pinned Node and the install made with it.
# shellcheck source=../../node-runtime.sh
source "$VREG_REPO_ROOT/scripts/node-runtime.sh"

VREG_TEST_CACHE="${VREG_TEST_CACHE:-$HOME/.cache/vreg-test-env}"
VREG_CACHE_BIN="$VREG_TEST_CACHE/bin"
VREG_TEST_ENV_DIR="${VREG_TEST_ENV_DIR:-$VREG_REPO_ROOT/.vreg-test/env}"

# Pinned versions of what we build from source (used by install.sh).
# shellcheck disable=SC2034
NATS_SERVER_VERSION="v2.15.2"
# shellcheck disable=SC2034
FERRETDB_VERSION="v1.24.2"
# Real pull clients besides skopeo, since each parses manifests and auth its own way: go-containerregistry's crane and oras.
CRANE_VERSION="v0.22.1"
ORAS_VERSION="v1.3.6"
# cosign signs the pull-policy tests' images (keyed, offline: no Rekor, no TUF). Its
# build from the Go module proxy takes 4 to 17 minutes on a fresh machine, once.
# shellcheck disable=SC2034
COSIGN_VERSION="v2.6.1"

# Names of the services start.sh runs, in start order.
vreg_services() {
  if [[ "${VREG_TEST_ONLY_REGISTRIES:-}" == 1 ]]; then
    echo "registry-a registry-b"
  else
    echo "nats ferretdb moto registry-a registry-b"
  fi
}

vreg_die() {
  echo "test-env: error: $*" >&2
  exit 1
}

vreg_log() {
  echo "test-env: $*" >&2
}

# Seconds since the epoch with microseconds (bash 5).
vreg_now() {
  echo "${EPOCHREALTIME/,/.}"
}

# Elapsed seconds since $1 (a vreg_now value), one decimal.
vreg_elapsed() {
  awk -v a="$1" -v b="$(vreg_now)" 'BEGIN { printf "%.1f", b - a }'
}

# Path of an executable: our cache first (what install.sh builds), then PATH.
vreg_bin() {
  local name="$1"
  if [[ -x "$VREG_CACHE_BIN/$name" ]]; then
    echo "$VREG_CACHE_BIN/$name"
  else
    command -v "$name" 2>/dev/null || true
  fi
}

# Root, or sudo when available, for apt-get.
vreg_as_root() {
  if [[ "$(id -u)" == 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    vreg_die "need root (or sudo) to run: $*"
  fi
}

# True when the pid is alive (zombies count as dead).
vreg_alive() {
  local state
  [[ "$1" =~ ^[0-9]+$ ]] || return 1
  state="$(sed -E 's/.*\) ([A-Za-z]).*/\1/' "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

# True when the pid is alive and its command line mentions $2.
vreg_pid_is() {
  local pid="$1" needle="$2"
  local cmdline
  vreg_alive "$pid" || return 1
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *"$needle"* ]]
}

# Process-name fragment each service's command line contains, so a recycled
# pid is never mistaken for ours.
vreg_service_needle() {
  case "$1" in
    nats) echo "nats-server" ;;
    ferretdb) echo "ferretdb" ;;
    moto) echo "moto_server" ;;
    registry-a | registry-b) echo "$(vreg_service_dir "$1")/config.yml" ;;
    *) vreg_die "unknown service $1" ;;
  esac
}

# Each service owns $VREG_TEST_ENV_DIR/<service>/: pid, log, data/, config.
vreg_service_dir() {
  echo "$VREG_TEST_ENV_DIR/$1"
}

vreg_pidfile() {
  echo "$VREG_TEST_ENV_DIR/$1/pid"
}

# Pid of a running service we started, or nothing.
vreg_service_pid() {
  local pidfile pid
  pidfile="$(vreg_pidfile "$1")"
  [[ -f "$pidfile" ]] || return 0
  pid="$(<"$pidfile")"
  if vreg_pid_is "$pid" "$(vreg_service_needle "$1")"; then
    echo "$pid"
  fi
}

# Stop one service by its recorded pid: TERM, wait up to 10 s, then KILL.
vreg_stop_service() {
  local name="$1" pid pidfile i
  pidfile="$(vreg_pidfile "$name")"
  pid="$(vreg_service_pid "$name")"
  if [[ -n "$pid" ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      vreg_alive "$pid" || break
      sleep 0.1
    done
    if vreg_alive "$pid"; then
      vreg_log "$name (pid $pid) ignored SIGTERM for 10 s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        vreg_alive "$pid" || break
        sleep 0.1
      done
    fi
    echo "stopped $name (pid $pid)"
  fi
  rm -f "$pidfile"
}

# phase NAME CMD...: runs one step of test.sh or bench.sh, announcing it and
# recording its duration in the `timings` array.
timings=()
phase() {
  local name="$1" t0
  shift
  echo "==> $name"
  t0="$(vreg_now)"
  "$@"
  timings+=("$(printf '%-8s %6ss' "$name" "$(vreg_elapsed "$t0")")")
  echo "<== $name took $(vreg_elapsed "$t0")s"
}

# Loads the test servers' addresses (env.sh, written by start.sh) into this
# shell and what it runs, and puts the servers install.sh built on PATH:
# tests that spawn their own find them there.
vreg_use_test_env() {
  set -a
  # shellcheck disable=SC1091
  source "$VREG_TEST_ENV_DIR/env.sh"
  set +a
  export PATH="$VREG_CACHE_BIN:$PATH"
}
