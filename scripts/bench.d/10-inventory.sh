#!/usr/bin/env bash
# Inventory: `shakedown-agent inventory --json` against what the seed ran for the
# same data (dmidecode, lscpu, lshw -json, lspci -vmm, smartctl -i on each disk).
# Wall time and peak RSS from /usr/bin/time -f '%e %M'; median of $RUNS runs,
# ours and the seed's interleaved so both see the same machine load.
# Targets (issue 3): ours at least 10x faster, under 40 MB peak RSS.
set -euo pipefail
cd "$(dirname "$0")/../.."
AGENT=${AGENT:-bin/shakedown-agent}
RUNS=${RUNS:-7}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "10-inventory: /usr/bin/time missing (Debian package 'time'; scripts/install-deps.sh)" >&2; exit 1; }
[ -x "$AGENT" ] || { echo "10-inventory: $AGENT missing (make build)" >&2; exit 1; }

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

tf=$(mktemp); trap 'rm -f "$tf"' EXIT
measure() { # prints "wall_s maxrss_kb cpu_s"; a non-zero exit (dmidecode without DMI) is fine
  "$TIME" -o "$tf" -f '%e %M %U %S' "$@" >/dev/null 2>&1 || true
  tail -1 "$tf" | awk '{printf "%s %s %.2f\n", $1, $2, $3 + $4}'
}
ours_t=(); ours_m=(); seed_t=(); seed_m=(); ours_c=(); seed_c=()
"$AGENT" inventory --json >/dev/null # warm the page cache for both sides
bash -c "$seed_cmd" >/dev/null 2>&1 || true
for _ in $(seq "$RUNS"); do
  read -r t m c < <(measure "$AGENT" inventory --json); ours_t+=("$t"); ours_m+=("$m"); ours_c+=("$c")
  read -r t m c < <(measure bash -c "$seed_cmd"); seed_t+=("$t"); seed_m+=("$m"); seed_c+=("$c")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
max() { printf '%s\n' "$@" | sort -g | tail -1; }
ot=$(median "${ours_t[@]}"); st=$(median "${seed_t[@]}")
om=$(max "${ours_m[@]}"); sm=$(max "${seed_m[@]}")
oc=$(median "${ours_c[@]}"); sc=$(median "${seed_c[@]}")
printf '%-44s %8s %8s %12s\n' "what ($RUNS runs: medians, max RSS)" "wall s" "cpu s" "peak RSS MB"
printf '%-44s %8s %8s %12s\n' "shakedown-agent inventory --json" "$ot" "$oc" "$(awk -v k="$om" 'BEGIN{printf "%.1f", k/1024}')"
printf '%-44s %8s %8s %12s\n' "seed: dmidecode lscpu lshw lspci smartctl x${#disks[@]}" "$st" "$sc" "$(awk -v k="$sm" 'BEGIN{printf "%.1f", k/1024}')"
echo "all runs, ours: ${ours_t[*]}  seed: ${seed_t[*]}"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs (wall time is load-sensitive; CPU time much less)"
awk -v o="$ot" -v s="$st" -v m="$om" -v oc="$oc" -v sc="$sc" 'BEGIN {
  if (o <= 0) o = 0.005  # /usr/bin/time has 10 ms resolution
  if (oc <= 0) oc = 0.005
  r = s / o
  printf "ratio seed/ours: wall %.1fx (target >= 10x: %s), cpu %.1fx; peak RSS %.1f MB (target < 40 MB: %s)\n",
    r, (r >= 10 ? "met" : "MISSED"), sc / oc, m / 1024, (m < 40 * 1024 ? "met" : "MISSED")
}'
