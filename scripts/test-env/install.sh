#!/usr/bin/env bash
# Install or build everything the integration tests run against, skipping what
# is already there. Idempotent; a second run only checks versions.
#
#   apt:  docker-registry (CNCF distribution v2), skopeo, podman, containerd, busybox-static, chromium, wrk
#   deb:  docker.io's dockerd, extracted into $VREG_TEST_CACHE/docker.io (not installed)
#   go:   nats-server v2.15.2, ferretdb v1.24.2, crane, oras, cosign v2.6.1 (built into $VREG_TEST_CACHE/bin), the OCI
#         conformance suite (build-conformance.sh)
#   pip:  moto[server] (moto_server, an S3 server), only if moto_server is missing
#
# See lib/common.sh for the environment variables it honours.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

mkdir -p "$VREG_CACHE_BIN" "$VREG_TEST_CACHE/logs"

# Build directories, removed however we leave.
build_dirs=()
trap 'rm -rf "${build_dirs[@]}"' EXIT
new_build_dir() { # sets $tmp (not via $(...): the array must grow here)
  tmp="$(mktemp -d "$VREG_TEST_CACHE/build.XXXXXX")"
  build_dirs+=("$tmp")
}

# Two concurrent runs (two worktrees, a parallel CI step) must not build into
# the same place at once.
exec 9>"$VREG_TEST_CACHE/install.lock"
flock 9

report() {
  printf '  %-16s %s\n' "$1" "$2"
}

# Runs "$@" with output to a log; on failure shows the log tail and dies.
run_logged() {
  local what="$1" log="$2"
  shift 2
  if ! "$@" >"$log" 2>&1; then
    echo "---- last lines of $log ----" >&2
    tail -n 30 "$log" >&2
    vreg_die "$what failed (full log: $log)"
  fi
}

# ---- apt packages ---------------------------------------------------------

deb_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

apt_missing=()
apt_present=()
check_apt() {
  local pkg="$1" cmd="${2:-}"
  if deb_installed "$pkg"; then
    apt_present+=("$pkg")
  elif [[ -n "$cmd" ]] && command -v "$cmd" >/dev/null 2>&1; then
    apt_present+=("$pkg")
  else
    apt_missing+=("$pkg")
  fi
}

check_apt docker-registry docker-registry
check_apt skopeo skopeo
# The bench's load generator for hits and manifests (a C client, so the client is not what caps the figures).
check_apt wrk wrk
# A third real client: podman pulls (it cannot run containers in this sandbox, so tests only pull).
check_apt podman podman
# Container runtimes pulling through vreg as their mirror: a containerd daemon of each test's own (ctr pulls), and
# the one dockerd (extracted below) uses.
check_apt containerd containerd
# Headless Chromium for the console's browser tests (playwright-core drives it; VREG_TEST_CHROMIUM overrides).
[[ -n "${VREG_TEST_CHROMIUM:-}" ]] || check_apt chromium chromium
# The seeded busybox image needs a statically linked busybox (no libc in the
# image), which only busybox-static provides; VREG_TEST_BUSYBOX overrides it.
if [[ -n "${VREG_TEST_BUSYBOX:-}" ]]; then
  [[ -x "$VREG_TEST_BUSYBOX" ]] || vreg_die "VREG_TEST_BUSYBOX=$VREG_TEST_BUSYBOX is not executable"
  apt_present+=("busybox-static")
else
  check_apt busybox-static
fi

for pkg in "${apt_present[@]}"; do
  report "$pkg" "present"
done
if ((${#apt_missing[@]})); then
  command -v apt-get >/dev/null 2>&1 ||
    vreg_die "missing ${apt_missing[*]} and no apt-get here; install them with your package manager"
  t0="$(vreg_now)"
  log="$VREG_TEST_CACHE/logs/apt.log"
  # The package lists may be absent (fresh image) or stale: refresh once, and
  # only because something is missing.
  run_logged "apt-get update" "$log" vreg_as_root env DEBIAN_FRONTEND=noninteractive apt-get update
  run_logged "apt-get install ${apt_missing[*]}" "$log.install" \
    vreg_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${apt_missing[@]}"
  for pkg in "${apt_missing[@]}"; do
    deb_installed "$pkg" || vreg_die "apt-get reported success but $pkg is not installed"
    report "$pkg" "installed in $(vreg_elapsed "$t0")s"
  done
fi

# ---- dockerd (Debian's docker.io, extracted) ---------------------------------

# Installing docker.io would put its docker CLI over the one a machine may
# have; the mirror tests only need its dockerd, run as a process of their own.
install_dockerd() {
  local t0 tmp log out
  if [[ -x "$VREG_DOCKERD_ROOT/usr/sbin/dockerd" ]]; then
    out="$("$VREG_DOCKERD_ROOT/usr/sbin/dockerd" --version 2>&1)" || true
    if [[ "$out" == "Docker version"* ]]; then
      report dockerd "present ($VREG_DOCKERD_ROOT, ${out#Docker version })"
      return
    fi
  fi
  command -v apt-get >/dev/null 2>&1 || vreg_die "dockerd: no apt-get here to download Debian's docker.io package"
  t0="$(vreg_now)"
  new_build_dir
  log="$VREG_TEST_CACHE/logs/docker.io.log"
  # apt-get download needs the package lists; a fresh image has none.
  if ! (cd "$tmp" && apt-get download docker.io >"$log" 2>&1); then
    run_logged "apt-get update" "$log.update" vreg_as_root env DEBIAN_FRONTEND=noninteractive apt-get update
    run_logged "apt-get download docker.io" "$log" bash -c "cd '$tmp' && apt-get download docker.io"
  fi
  run_logged "extracting docker.io" "$log.extract" bash -c "dpkg-deb -x '$tmp'/docker.io_*.deb '$tmp/root'"
  [[ -x "$tmp/root/usr/sbin/dockerd" ]] || vreg_die "docker.io's package has no usr/sbin/dockerd"
  rm -rf "$VREG_DOCKERD_ROOT"
  mkdir -p "$(dirname "$VREG_DOCKERD_ROOT")"
  mv "$tmp/root" "$VREG_DOCKERD_ROOT"
  report dockerd "extracted $("$VREG_DOCKERD_ROOT/usr/sbin/dockerd" --version 2>&1 | head -1) in $(vreg_elapsed "$t0")s"
}
install_dockerd

if [[ -z "${VREG_TEST_BUSYBOX:-}" && ! -x /bin/busybox ]]; then
  vreg_die "busybox-static is installed but /bin/busybox is missing"
fi

# ---- Go-built servers -----------------------------------------------------

require_go() {
  command -v go >/dev/null 2>&1 ||
    vreg_die "go is not on PATH; it is needed to build $1 (install Go >= 1.22 from https://go.dev/dl/)"
}

# has_version BIN VERSION: does BIN --version mention VERSION?
has_version() {
  local out
  [[ -x "$1" ]] || return 1
  # Not a pipe into grep -q: under pipefail, grep quitting early SIGPIPEs the
  # binary and the check fails at random.
  out="$("$1" --version 2>&1)" || true
  [[ "$out" == *"$2"* ]]
}

# The cached binary, else one on PATH with the right version, else empty.
find_versioned() {
  local name="$1" version="$2" path
  if has_version "$VREG_CACHE_BIN/$name" "$version"; then
    echo "$VREG_CACHE_BIN/$name"
    return
  fi
  path="$(command -v "$name" 2>/dev/null || true)"
  if [[ -n "$path" ]] && has_version "$path" "$version"; then
    echo "$path"
  fi
}

install_nats() {
  local found t0 tmp log
  found="$(find_versioned nats-server "$NATS_SERVER_VERSION")"
  if [[ -n "$found" ]]; then
    report nats-server "present ($found, $NATS_SERVER_VERSION)"
    return
  fi
  require_go nats-server
  t0="$(vreg_now)"
  new_build_dir
  log="$VREG_TEST_CACHE/logs/nats-server-build.log"
  # Default GOPATH/GOCACHE on purpose: module and build caches are reused.
  run_logged "building nats-server $NATS_SERVER_VERSION" "$log" \
    env GOBIN="$tmp" go install "github.com/nats-io/nats-server/v2@$NATS_SERVER_VERSION"
  has_version "$tmp/nats-server" "$NATS_SERVER_VERSION" ||
    vreg_die "built nats-server does not report $NATS_SERVER_VERSION"
  mv -f "$tmp/nats-server" "$VREG_CACHE_BIN/nats-server"
  report nats-server "installed $NATS_SERVER_VERSION in $(vreg_elapsed "$t0")s"
}

install_ferretdb() {
  local found t0 tmp log moddir
  found="$(find_versioned ferretdb "version: $FERRETDB_VERSION")"
  if [[ -n "$found" ]]; then
    report ferretdb "present ($found, $FERRETDB_VERSION)"
    return
  fi
  require_go ferretdb
  t0="$(vreg_now)"
  new_build_dir
  log="$VREG_TEST_CACHE/logs/ferretdb-build.log"
  # FerretDB's version comes from build/version/version.txt, normally written
  # by its Taskfile from git; the module zip has no .git, so we write it. The
  # module cache is read-only, hence the copy.
  run_logged "downloading FerretDB $FERRETDB_VERSION" "$log.download" \
    bash -c "cd '$tmp' && go mod download -json 'github.com/FerretDB/FerretDB@$FERRETDB_VERSION' >'$tmp/mod.json'"
  moddir="$(node -e 'const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); if (m.Error) { console.error(m.Error); process.exit(1) } console.log(m.Dir)' "$tmp/mod.json")" ||
    vreg_die "go mod download did not report a module directory for FerretDB"
  cp -R "$moddir" "$tmp/src"
  chmod -R u+w "$tmp/src"
  echo "$FERRETDB_VERSION" >"$tmp/src/build/version/version.txt"
  run_logged "building ferretdb $FERRETDB_VERSION" "$log" \
    bash -c "cd '$tmp/src' && CGO_ENABLED=0 go build -o '$tmp/ferretdb' ./cmd/ferretdb"
  has_version "$tmp/ferretdb" "version: $FERRETDB_VERSION" ||
    vreg_die "built ferretdb does not report $FERRETDB_VERSION"
  mv -f "$tmp/ferretdb" "$VREG_CACHE_BIN/ferretdb"
  report ferretdb "installed $FERRETDB_VERSION in $(vreg_elapsed "$t0")s"
}

# ---- moto (S3) ------------------------------------------------------------

install_moto() {
  local found t0 log scripts venv
  found="$(vreg_bin moto_server)"
  if [[ -n "$found" ]]; then
    report moto_server "present ($found)"
    return
  fi
  command -v python3 >/dev/null 2>&1 || vreg_die "python3 is not on PATH; it is needed for moto_server"
  t0="$(vreg_now)"
  log="$VREG_TEST_CACHE/logs/moto-pip.log"
  if python3 -m pip install 'moto[server]' >"$log" 2>&1; then
    scripts="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
    # pip may put it where PATH does not look (user site, pyenv before rehash).
    [[ -x "$scripts/moto_server" ]] && ln -sf "$scripts/moto_server" "$VREG_CACHE_BIN/moto_server"
  else
    # Debian's python refuses system-wide pip installs (PEP 668): use a venv.
    vreg_log "pip install into python3 failed (see $log); trying a venv in $VREG_TEST_CACHE/venv"
    venv="$VREG_TEST_CACHE/venv"
    if ! python3 -m venv "$venv" >"$log.venv" 2>&1; then
      # Debian ships venv/ensurepip separately.
      command -v apt-get >/dev/null 2>&1 || vreg_die "python3 -m venv failed (see $log.venv)"
      run_logged "apt-get install python3-venv" "$log.venv" \
        vreg_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv
      rm -rf "$venv"
      run_logged "creating a venv in $venv" "$log.venv" python3 -m venv "$venv"
    fi
    run_logged "pip install moto[server] into $venv" "$log.venv" "$venv/bin/pip" install 'moto[server]'
    ln -sf "$venv/bin/moto_server" "$VREG_CACHE_BIN/moto_server"
  fi
  found="$(vreg_bin moto_server)"
  [[ -n "$found" ]] || vreg_die "moto[server] installed but no moto_server executable found (log: $log)"
  report moto_server "installed ($found) in $(vreg_elapsed "$t0")s"
}

# ---- real clients: crane and oras (Go) ------------------------------------

# install_go_client NAME MODULE VERSION VERSION-ARGS: go install MODULE@VERSION
# into the cache unless a binary reporting VERSION is there already.
install_go_client() {
  local name="$1" module="$2" version="$3" found t0 tmp log out
  shift 3
  if [[ -x "$VREG_CACHE_BIN/$name" ]]; then
    out="$("$VREG_CACHE_BIN/$name" "$@" 2>&1)" || true
    if [[ "$out" == *"${version#v}"* ]]; then
      report "$name" "present ($VREG_CACHE_BIN/$name, $version)"
      return
    fi
  fi
  require_go "$name"
  t0="$(vreg_now)"
  new_build_dir
  log="$VREG_TEST_CACHE/logs/$name-build.log"
  run_logged "building $name $version" "$log" env GOBIN="$tmp" go install "$module@$version"
  mv -f "$tmp/$name" "$VREG_CACHE_BIN/$name"
  report "$name" "installed $version in $(vreg_elapsed "$t0")s"
}

install_go_client crane github.com/google/go-containerregistry/cmd/crane "$CRANE_VERSION" version
install_go_client oras oras.land/oras/cmd/oras "$ORAS_VERSION" version
install_go_client cosign github.com/sigstore/cosign/v2/cmd/cosign "$COSIGN_VERSION" version

if [[ -x "$VREG_OCI_CONFORMANCE_BIN" ]]; then
  report oci-conformance "present ($VREG_OCI_CONFORMANCE_BIN)"
else
  require_go "the OCI conformance suite"
  t0="$(vreg_now)"
  run_logged "building the OCI conformance suite $OCI_CONFORMANCE_VERSION" "$VREG_TEST_CACHE/logs/oci-conformance-build.log" \
    bash "$VREG_TEST_SCRIPTS_DIR/build-conformance.sh"
  report oci-conformance "built $OCI_CONFORMANCE_VERSION in $(vreg_elapsed "$t0")s"
fi

if [[ "${VREG_TEST_ONLY_REGISTRIES:-}" != 1 ]]; then
  install_nats
  install_ferretdb
  install_moto
fi
