#!/usr/bin/env bash
# Prints deploy/compose.env.example with every blank secret filled with a
# fresh random value:   bash deploy/scripts/compose-env.sh > .env
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
example="$here/../compose.env.example"

rand_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

while IFS= read -r line || [[ -n "$line" ]]; do
  case "$line" in
    VREG_SECRET_KEY=) echo "VREG_SECRET_KEY=$(rand_hex 32)" ;;
    VREG_ADMIN_TOKEN=) echo "VREG_ADMIN_TOKEN=$(rand_hex 24)" ;;
    *_PASSWORD= | *_SECRET_ACCESS_KEY=) echo "${line}$(rand_hex 20)" ;;
    *) echo "$line" ;;
  esac
done <"$example"
