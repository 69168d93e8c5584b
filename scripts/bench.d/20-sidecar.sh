#!/usr/bin/env bash
# Thermal sidecar (issue 5): a real `shakedown-agent run --stay` held idle after
# Completed, with the sidecar sampling a server-like sysfs fixture (2 x 24
# coretemp channels + 2 thermal zones = 50 rows every 5 s into the journal).
# CPU time from /proc/<pid>/stat (utime+stime) and RSS from /proc/<pid>/status
# over WINDOW seconds (default 60), extrapolated to 10 minutes: the sidecar's
# work is periodic, so CPU time scales linearly; RSS is the measured peak
# (VmHWM), which a longer run would only grow through journal growth (SQLite
# page cache is bounded). Targets: under 1% of one core, under 40 MB RSS.
# Plus the Go benchmark of one sidecar sample on a 48-channel tree.
set -euo pipefail
cd "$(dirname "$0")/../.."
AGENT=${AGENT:-bin/shakedown-agent}
WINDOW=${WINDOW:-60}
[ -x "$AGENT" ] || { echo "20-sidecar: $AGENT missing (make build)" >&2; exit 1; }

work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

root=$work/root
for c in 0 1; do
  d=$root/sys/class/hwmon/hwmon$c
  mkdir -p "$d"
  echo coretemp >"$d/name"
  for i in $(seq 1 24); do
    echo $((40000 + i * 250)) >"$d/temp${i}_input"
    echo "Core $i" >"$d/temp${i}_label"
    echo 100000 >"$d/temp${i}_crit"
  done
done
for z in 0 1; do
  mkdir -p "$root/sys/class/thermal/thermal_zone$z"
  echo acpitz >"$root/sys/class/thermal/thermal_zone$z/type"
  echo 27800 >"$root/sys/class/thermal/thermal_zone$z/temp"
done
mkdir -p "$root/proc" && cp /proc/meminfo /proc/cpuinfo "$root/proc/" 2>/dev/null || true

skip=specvalidate,smart,cpustress,storage,network,gpu,psu,reporting
"$AGENT" run --profile quick --stay --state-dir "$work/state" --path.root "$root" --stage.skip="$skip" \
  >"$work/agent.log" 2>&1 &
pid=$!
# Wait for the run to complete (the agent then idles, serving, sidecar running).
for _ in $(seq 100); do
  grep -q "Completed" "$work/agent.log" && break
  kill -0 "$pid" 2>/dev/null || { echo "20-sidecar: agent exited:" >&2; tail -20 "$work/agent.log" >&2; exit 1; }
  sleep 0.2
done
grep -q "Completed" "$work/agent.log" || { echo "20-sidecar: the run did not complete" >&2; tail -20 "$work/agent.log" >&2; exit 1; }
sleep 2
tck=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
c0=$(cpu); t0=$(date +%s.%N)
sleep "$WINDOW"
c1=$(cpu); t1=$(date +%s.%N)
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
jsize=$(cat "$work"/state/journal.db* 2>/dev/null | wc -c)
awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v tck="$tck" -v rss="$rss" -v hwm="$hwm" -v w="$WINDOW" -v j="$jsize" 'BEGIN {
  el = t1 - t0; cs = (c1 - c0) / tck; pct = cs / el * 100
  printf "%-52s %10s %10s %10s\n", "shakedown-agent idle + thermal sidecar", "window s", "cpu s", "% of core"
  printf "%-52s %10.1f %10.2f %10.3f\n", "measured (" w " s, 50 rows per 5 s sample)", el, cs, pct
  printf "%-52s %10.1f %10.2f %10.3f\n", "extrapolated to 10 minutes (linear)", 600, cs * 600 / el, pct
  printf "RSS now %.1f MB, peak (VmHWM) %.1f MB; journal %.1f MB\n", rss / 1024, hwm / 1024, j / 1048576
  printf "targets: CPU < 1%% of one core: %s; RSS < 40 MB: %s\n", (pct < 1 ? "met" : "MISSED"), (hwm < 40 * 1024 ? "met" : "MISSED")
}'
go test -run '^$' -bench 'BenchmarkSidecarSample' -benchtime "${BENCHTIME:-2s}" -count 1 ./agent/sidecar/ \
  | awk '/^Benchmark/ {printf "%-40s %12s ns/op %10s B/op %8s allocs/op (one 48-channel sample, no journal)\n", $1, $3, $5, $7}'
