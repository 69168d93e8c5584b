#!/usr/bin/env bash
# Storage: the stage's badblocks surface test (BenchmarkSurface: the stage's own
# surface() with its default -b/-c, full plan, write mode) against fio's
# sequential direct-I/O write and read bandwidth and against a default
# `badblocks -svw`, all on one loop device (--direct-io=on) over a file on disk.
# Targets (issue 6): write and verify passes at least 90% of fio's sequential
# write and read bandwidth; no slower than default badblocks overall.
# Needs root (loop device). BENCH_STORAGE_SIZE (default 1G) sets the file size.
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE=${BENCH_STORAGE_SIZE:-1G}
if [ "$(id -u)" != 0 ]; then echo "30-storage: needs root for a loop device; skipped" >&2; exit 0; fi
for t in badblocks fio losetup jq go; do
  command -v "$t" >/dev/null || { echo "30-storage: $t missing (scripts/install-deps.sh)" >&2; exit 1; }
done
tmp=$(mktemp -d /var/tmp/shakedown-bench-storage.XXXXXX)
dev=""
cleanup() {
  if [ -n "$dev" ]; then blockdev --setrw "$dev" 2>/dev/null || true; losetup -d "$dev" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
go test -c -o "$tmp/storage.test" ./agent/stage/storage/
fallocate -l "$SIZE" "$tmp/disk.img"
dev=$(losetup --find --show --direct-io=on "$tmp/disk.img")
bytes=$(blockdev --getsize64 "$dev")

fio_bw() { # rw -> MB/s
  fio --name=seq --filename="$dev" --rw="$1" --bs=1M --iodepth=32 --ioengine=libaio --direct=1 \
    --size="$bytes" --output-format=json 2>/dev/null | jq -r ".jobs[0].$2.bw_bytes / 1e6"
}
fw=$(fio_bw write write)
fr=$(fio_bw read read)

out=$(SHAKEDOWN_BENCH_DEV="$dev" "$tmp/storage.test" -test.run '^$' -test.bench BenchmarkSurface -test.benchtime 1x | grep '^BenchmarkSurface')
metric() { awk -v k="$1" '{for (i = 2; i < NF; i++) if ($(i+1) == k) print $i}' <<<"$out"; }
ow=$(metric write_MB/s); ov=$(metric verify_MB/s); ot=$(metric total_s)

s=$(date +%s.%N)
badblocks -svw "$dev" >/dev/null 2>&1
e=$(date +%s.%N)
dt=$(awk -v s="$s" -v e="$e" 'BEGIN{printf "%.2f", e - s}')

printf 'device: %s (loop, direct I/O) over a %s file on %s\n' "$dev" "$SIZE" "$(df --output=source "$tmp" | tail -1)"
printf '%-52s %12s\n' "what" "MB/s or s"
printf '%-52s %12.1f\n' "fio sequential write (1M, qd32, direct) MB/s" "$fw"
printf '%-52s %12.1f\n' "fio sequential read  (1M, qd32, direct) MB/s" "$fr"
printf '%-52s %12.1f\n' "stage surface test: write passes MB/s" "$ow"
printf '%-52s %12.1f\n' "stage surface test: verify passes MB/s" "$ov"
printf '%-52s %12.2f\n' "stage surface test: total s (4 patterns)" "$ot"
printf '%-52s %12.2f\n' "default badblocks -svw: total s (4 patterns)" "$dt"
awk -v ow="$ow" -v ov="$ov" -v fw="$fw" -v fr="$fr" -v ot="$ot" -v dt="$dt" 'BEGIN {
  w = ow / fw; r = ov / fr; b = dt / ot
  printf "write/fio %.0f%%, verify/fio %.0f%% (target >= 90%%: %s); default badblocks / ours %.1fx (target >= 1x: %s)\n",
    100 * w, 100 * r, (w >= 0.9 && r >= 0.9 ? "met" : "MISSED"), b, (b >= 1 ? "met" : "MISSED")
}'
