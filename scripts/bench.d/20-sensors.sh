#!/usr/bin/env bash
# Sensors (issue 3): the hwmon/thermal/EDAC reader is called every 5 s for
# hours by the CPUStress thermal sidecar. Go benchmarks on a hand-built
# server-like sysfs (45 hwmon channels incl. unreadable/faulted ones, 3 zones,
# EDAC with 2 controllers; collector/sensors_test.go serverSensorTree):
#   ReadSensors          the public one-shot call (layout cached per root)
#   ReadSensorsFresh     the same with a fresh scan every call (first call)
#   SamplerSampleInto    the sidecar path: reused slices, must be 0 allocs/op
# For comparison, `sensors -j` (lm-sensors) on this machine when installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
go test -run '^$' -bench 'BenchmarkReadSensors|BenchmarkSensorSamplerSampleInto' -benchtime "${BENCHTIME:-2s}" -count 1 ./collector/ \
  | awk '/^Benchmark/ {printf "%-40s %12s ns/op %10s B/op %8s allocs/op\n", $1, $3, $5, $7}'
if command -v sensors >/dev/null; then
  s=$(date +%s%N); for _ in $(seq 20); do sensors -j >/dev/null 2>&1 || true; done; e=$(date +%s%N)
  echo "sensors -j (lm-sensors, live machine, 20 runs): $(( (e - s) / 20 )) ns/run"
else
  echo "sensors (lm-sensors) not installed: no comparison run"
fi
