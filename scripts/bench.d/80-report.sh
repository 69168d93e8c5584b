#!/usr/bin/env bash
# Report: build report.json/report.html/ocp.jsonl from the journal of a long
# full-profile run (20 thermal sensors every 5 s for 10 hours = 144,000 samples,
# 8 stages, 40 artifacts). There is no other tool to compare with: the figures
# are absolute. Target: under 3 s and files small enough to mail (HTML < 1 MB).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(go test -run '^$' -bench BenchmarkReportLongRun -benchmem -benchtime 3x ./agent/stage/reporting 2>&1) || { echo "$out" >&2; exit 1; }
line=$(printf '%s\n' "$out" | grep '^BenchmarkReportLongRun')
awk '{
  for (i = 1; i <= NF; i++) { v[$(i+1)] = $i }
  printf "%-34s %10s\n", "figure", "value"
  printf "%-34s %10.2f s\n", "build + render, 10 h run", v["ns/op"] / 1e9
  printf "%-34s %10.1f MB\n", "allocated per build", v["B/op"] / 1e6
  printf "%-34s %10.0f KB\n", "report.html", v["html_bytes"] / 1e3
  printf "%-34s %10.0f KB\n", "report.json", v["json_bytes"] / 1e3
  printf "%-34s %10.0f KB\n", "ocp.jsonl", v["ocp_bytes"] / 1e3
}' <<<"$line"
