#!/usr/bin/env bash
# make bench: runs every bench part in scripts/bench.d in order. Each part prints
# its own table of our figure vs. the tool a user would otherwise run, and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH"
rc=0
for part in scripts/bench.d/*.sh; do
  [ -e "$part" ] || continue
  echo "== $(basename "$part" .sh)"
  bash "$part" || { echo "bench part $part failed" >&2; rc=1; }
  echo
done
exit $rc
