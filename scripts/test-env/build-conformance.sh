#!/usr/bin/env bash
# Builds the OCI distribution-spec conformance suite from the Go module proxy
# into $VREG_OCI_CONFORMANCE_BIN (see lib/common.sh), patched as below. The
# module's code is fetched into Go's module cache and copied to a build
# directory; nothing of it is kept but the binary.
#
# Patch: this version panics after a run with push disabled, before junit.xml
# is written (ReportResultsYAML, run.go: the skipped blob tests leave
# DataStatus entries without a Data entry, and `r.State.Data[k].name` reads a
# nil pointer). The one line is replaced by a nil-guarded one; if the line is
# not found verbatim the build stops, so an upstream change is noticed.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
vreg_use_node >/dev/null

MOD=github.com/opencontainers/distribution-spec/conformance
out_dir="$(dirname "$VREG_OCI_CONFORMANCE_BIN")"
src="$(mktemp -d "${TMPDIR:-/tmp}/oci-conformance-src.XXXXXX")"
trap 'rm -rf "$src"' EXIT

json="$(cd "$src" && go mod download -json "$MOD@$OCI_CONFORMANCE_VERSION")"
dir="$(node -e 'const m = JSON.parse(process.argv[1]); if (m.Error) { console.error(m.Error); process.exit(1) } console.log(m.Dir)' "$json")"
cp -R "$dir/." "$src/"
chmod -R u+w "$src"
node - "$src/run.go" <<'JS'
const { readFileSync, writeFileSync } = require('node:fs');
const file = process.argv[2];
const text = readFileSync(file, 'utf8');
const bad = '\t\tresults.Data[r.State.Data[k].name] = v\n';
const good =
  '\t\tif td, ok := r.State.Data[k]; ok && td != nil {\n\t\t\tresults.Data[td.name] = v\n\t\t} else {\n\t\t\tresults.Data[k] = v\n\t\t}\n';
if (!text.includes(bad)) {
  console.error('run.go: the ReportResultsYAML line to patch is not there; check the suite version');
  process.exit(1);
}
writeFileSync(file, text.replace(bad, good));
JS
mkdir -p "$out_dir"
(cd "$src" && CGO_ENABLED=0 go build -o "$out_dir/conformance.tmp" .)
mv -f "$out_dir/conformance.tmp" "$VREG_OCI_CONFORMANCE_BIN"
echo "$OCI_CONFORMANCE_VERSION" >"$out_dir/VERSION"
echo "$VREG_OCI_CONFORMANCE_BIN"
