#!/usr/bin/env bash
# Inventory: `shakedown-agent inventory --json` against what the seed ran for the
# same data (dmidecode, lscpu, lshw -json, lspci -vmm, smartctl -i on each disk).
# Wall time: hyperfine -N (no intermediate shell; the seed's commands run in the
# one `bash -c` they need), in $ROUNDS rounds of $PER run(s) of each side (one
# each by default: ours, seed, core, ours, seed, ...), so both see the same
# machine load; the median of every run, after one untimed run of each. Peak RSS: /usr/bin/time -f
# %M in separate runs. The core executable (bin/shakedown-agent-core: the engine,
# SQLite and every stage linked in) is timed too, for comparison.
# Targets (issue 3): ours at least 10x faster, under 40 MB peak RSS.
set -euo pipefail
cd "$(dirname "$0")/../.."
AGENT=${AGENT:-bin/shakedown-agent}
CORE=${CORE:-bin/shakedown-agent-core}
ROUNDS=${ROUNDS:-41}
PER=${PER:-1}
TIME=/usr/bin/time
for t in "$TIME" "$(command -v hyperfine || echo hyperfine)" "$(command -v jq || echo jq)"; do
  [ -x "$t" ] || { echo "10-inventory: $t missing (Debian packages time, hyperfine, jq: scripts/install-deps.sh)" >&2; exit 1; }
done
[ -x "$AGENT" ] && [ -x "$CORE" ] || { echo "10-inventory: $AGENT or $CORE missing (make build)" >&2; exit 1; }

disks=()
for d in /sys/block/*; do
  n=$(basename "$d")
  case "$n" in loop*|ram*|zram*|dm-*|md*|nbd*) continue;; esac
  [ "$(cat "$d/hidden" 2>/dev/null || echo 0)" = 1 ] && continue
  disks+=("/dev/$n")
done
seed_cmd='dmidecode; lscpu; lshw -json; lspci -vmm;'
for d in "${disks[@]}"; do seed_cmd+=" smartctl -i $d;"; done
missing=""
for t in dmidecode lscpu lshw lspci smartctl; do command -v "$t" >/dev/null || missing+=" $t"; done
[ -z "$missing" ] || echo "10-inventory: seed tools missing:$missing (their time counts as 0: the ratio is flattering to the seed)" >&2

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ours="$AGENT inventory --json"
core="$CORE inventory --json"
seed="bash -c '$seed_cmd'"
$ours >/dev/null 2>&1; $core >/dev/null 2>&1; bash -c "$seed_cmd" >/dev/null 2>&1 || true # warm the page cache
for r in $(seq "$ROUNDS"); do
  # -i: dmidecode exits non-zero without DMI (a VM), which is fine.
  hyperfine -N -i --style none --warmup 0 --runs "$PER" --export-json "$tmp/r$r.json" "$ours" "$seed" "$core" >/dev/null 2>&1
done
times() { jq -r --argjson i "$1" '.results[$i].times[]' "$tmp"/r*.json; }
median_ms() { sort -g | awk '{a[NR]=$1} END{printf "%.1f", a[int((NR+1)/2)]*1000}'; }
ot=$(times 0 | median_ms); st=$(times 1 | median_ms); ct=$(times 2 | median_ms)
rss() { # max peak RSS (KB) over 3 runs of "$@"
  local m=0 k
  for _ in 1 2 3; do
    "$TIME" -o "$tmp/rss" -f '%M' "$@" >/dev/null 2>&1 || true
    k=$(tail -1 "$tmp/rss"); [ "$k" -gt "$m" ] && m=$k
  done
  echo "$m"
}
om=$(rss $ours); cm=$(rss $core); sm=$(rss bash -c "$seed_cmd")
mb() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }
n=$((ROUNDS * PER))
printf '%-46s %9s %12s\n' "what ($n runs each: median wall, max RSS)" "wall ms" "peak RSS MB"
printf '%-46s %9s %12s\n' "shakedown-agent inventory --json" "$ot" "$(mb "$om")"
printf '%-46s %9s %12s\n' "shakedown-agent-core inventory --json" "$ct" "$(mb "$cm")"
printf '%-46s %9s %12s\n' "seed: dmidecode lscpu lshw lspci smartctl x${#disks[@]}" "$st" "$(mb "$sm")"
echo "ours, every run (ms): $(times 0 | sort -g | awk '{printf "%.1f ", $1*1000}')"
echo "seed, every run (ms): $(times 1 | sort -g | awk '{printf "%.0f ", $1*1000}')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs (wall time is load-sensitive)"
awk -v o="$ot" -v c="$ct" -v s="$st" -v m="$om" 'BEGIN {
  r = s / o
  printf "ratio seed/ours: wall %.1fx (target >= 10x: %s); core executable %.1fx; peak RSS %.1f MB (target < 40 MB: %s)\n",
    r, (r >= 10 ? "met" : "MISSED"), s / c, m / 1024, (m < 40 * 1024 ? "met" : "MISSED")
}'
