#!/usr/bin/env bash
# Upload (issue 7): one file of SHAKEDOWN_BENCH_MB MiB (default 128) to the
# embedded bucket (versitygw, TLS, loopback) through the agent's uploader
# (spool copy + SHA-256, presign, checksummed PUT, HEAD verify) against
# `s3cmd put` of the same file with the root credentials, what an operator
# would otherwise run. Both write to the same server; the ratio is ours/s3cmd.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v s3cmd >/dev/null || echo "70-upload: s3cmd missing (scripts/install-deps.sh): uploader figure only" >&2
go test -run '^$' -bench 'BenchmarkUploadVsS3cmd' -benchtime "${BENCH_UPLOAD_N:-3}x" -count 1 ./coordinator/ 2>/dev/null |
  awk '/^BenchmarkUploadVsS3cmd/ {
    for (i = 2; i < NF; i++) { v[$(i+1)] = $i }
    printf "%-44s %10s\n", "what", "MB/s"
    printf "%-44s %10.1f\n", "agent uploader (spool, presign, PUT, verify)", v["uploader_MB/s"]
    if ("s3cmd_MB/s" in v) {
      printf "%-44s %10.1f\n", "s3cmd put (root credentials)", v["s3cmd_MB/s"]
      printf "ratio uploader/s3cmd: %.2fx\n", v["ratio"]
    }
    found = 1
  } END { if (!found) { print "70-upload: benchmark did not run" > "/dev/stderr"; exit 1 } }'
