#!/usr/bin/env bash
# Spec (issue 4): how long SpecValidate's work takes. There is no tool a user
# would otherwise run for this (the seed diffed YAML on the orchestrator), so
# this part prints absolute figures: Go benchmarks of the strict parser and the
# diff engine on docs/spec.md's example, and `spec check` end to end against
# `shakedown-agent version` (the same binary doing nothing), interleaved, median
# wall time and peak RSS of $RUNS runs. The difference is what checking costs.
# Target: under 50 ms and 40 MB, so SpecValidate never matters to a run.
set -euo pipefail
cd "$(dirname "$0")/../.."
AGENT=${AGENT:-bin/shakedown-agent}
RUNS=${RUNS:-7}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "40-spec: /usr/bin/time missing (Debian package 'time')" >&2; exit 1; }
[ -x "$AGENT" ] || { echo "40-spec: $AGENT missing (make build)" >&2; exit 1; }
go test -run '^$' -bench 'BenchmarkParseExample|BenchmarkCompare' -benchmem -count 1 ./agent/spec | grep '^Benchmark'
spec=agent/spec/testdata/example.yaml inv=agent/spec/testdata/inventory-r640.json
tf=$(mktemp); trap 'rm -f "$tf"' EXIT
ts=(); ms=(); bs=()
for _ in $(seq "$RUNS"); do
  "$TIME" -o "$tf" -f '%e %M' "$AGENT" version >/dev/null
  read -r t _ < <(tail -1 "$tf"); bs+=("$t")
  "$TIME" -o "$tf" -f '%e %M' "$AGENT" spec check --spec "$spec" --inventory "$inv" >/dev/null
  read -r t m < <(tail -1 "$tf"); ts+=("$t"); ms+=("$m")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
t=$(median "${ts[@]}"); b=$(median "${bs[@]}"); m=$(printf '%s\n' "${ms[@]}" | sort -g | tail -1)
awk -v t="$t" -v b="$b" -v m="$m" -v r="$RUNS" 'BEGIN {
  d = t - b; if (d < 0) d = 0
  printf "spec check %.3f s, version %.3f s (median of %d): checking costs %.3f s (target < 0.05 s: %s); peak RSS %.1f MB (target < 40 MB: %s)\n",
    t, b, r, d, (d < 0.05 ? "met" : "MISSED"), m / 1024, (m < 40 * 1024 ? "met" : "MISSED")
}'
