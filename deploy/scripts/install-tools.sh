#!/usr/bin/env bash
# Installs what the deployment tests (test/deploy) run, without a Docker
# engine, into the test cache ($VREG_TEST_CACHE/bin, default
# ~/.cache/vreg-test-env/bin), and prints that directory:
#
#   helm                 helm.sh/helm/v3 at HELM_VERSION, built from the Go
#                        module proxy (2-3 minutes the first time, then cached)
#   vreg-compose-config  deploy/scripts/compose-config: the loader of
#                        `docker compose config` (compose-spec/compose-go),
#                        rebuilt when its sources change (seconds)
#
# Safe to run concurrently (flock) and repeatedly (no-op when up to date).
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.22.0}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="${VREG_TEST_CACHE:-$HOME/.cache/vreg-test-env}/bin"
mkdir -p "$bin"

export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { echo "install-tools: go is needed (Debian: golang, or /usr/local/go)" >&2; exit 1; }
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
# The first build takes minutes of both cores, often while other tests run: yield to them.
renice -n 10 $$ >/dev/null 2>&1 || true

exec 9>"$bin/.vreg-deploy-tools.lock"
flock -w 900 9 || { echo "install-tools: timed out waiting for another install" >&2; exit 1; }

# Built as helm's Makefile builds it: without these ldflags a go-installed helm
# reports no patch version and renders for Kubernetes v1.20 (its fallback)
# instead of the version of the client-go it ships with.
helm_version() { "$1" version --template '{{.Version}}' 2>/dev/null; }
if [[ ! -x "$bin/helm" || "$(helm_version "$bin/helm")" != "$HELM_VERSION" ]]; then
  echo "install-tools: building helm $HELM_VERSION (Go module proxy)" >&2
  gomod="$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')"
  k8s_minor="$(awk '$1 == "k8s.io/client-go" { split($2, v, "."); print v[2] }' "$gomod")"
  [[ -n "$k8s_minor" ]] || { echo "install-tools: no k8s.io/client-go version in $gomod" >&2; exit 1; }
  pkg=helm.sh/helm/v3
  GOBIN="$bin" go install -trimpath -ldflags "-s -w -X $pkg/internal/version.version=$HELM_VERSION \
    -X $pkg/pkg/chartutil.k8sVersionMajor=1 -X $pkg/pkg/chartutil.k8sVersionMinor=$k8s_minor \
    -X $pkg/pkg/lint/rules.k8sVersionMajor=1 -X $pkg/pkg/lint/rules.k8sVersionMinor=$k8s_minor" \
    "$pkg/cmd/helm@$HELM_VERSION" >&2
fi

src="$here/compose-config"
stamp="$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-16)"
if [[ ! -x "$bin/vreg-compose-config" || "$(cat "$bin/vreg-compose-config.stamp" 2>/dev/null)" != "$stamp" ]]; then
  echo "install-tools: building vreg-compose-config" >&2
  (cd "$src" && go build -trimpath -o "$bin/vreg-compose-config.tmp" .) >&2
  mv "$bin/vreg-compose-config.tmp" "$bin/vreg-compose-config"
  echo "$stamp" >"$bin/vreg-compose-config.stamp"
fi

echo "$bin"
