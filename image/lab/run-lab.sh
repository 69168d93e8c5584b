#!/usr/bin/env bash
# run-lab.sh [A|B|all]
#
# The virtual lab (brief §8, shared notes lab.md): the whole agent pipeline on
# emulated hardware, with the report landing in the coordinator's bucket.
#
# PXE is not built yet: the guest is booted DIRECTLY with qemu -kernel/-initrd
# (a busybox initrd with the static agent and the tools its stages run), not
# over the network. Everything else is the real thing:
#
#   - a network namespace ($NS) with a bridge (10.99.0.1/24) and a tap;
#   - `shakedown-coordinator serve` INSIDE the namespace, bound to 10.99.0.1
#     (API :8443, embedded S3 :9000, iperf3 :5201), fresh data dir;
#   - the expected spec, captured from the committed fixture
#     collector/testdata/snapshots/qemu-lab.tar.gz with
#     `shakedown-agent spec capture --inventory`, edited so the two SATA disks
#     are role: test, written to the bucket as hosts/<host>/spec.yaml with s3cmd
#     and the coordinator's root credentials (agents may not write there);
#   - a qemu TCG guest in the namespace on the tap (e1000, static 10.99.0.10),
#     with the same emulated hardware as the fixture (NVMe x2, SATA x2 on AHCI,
#     virtio-scsi, virtio-blk, e1000 + virtio-net, SMBIOS DIMMs) and the
#     coordinator URL, fleet token and certificate fingerprint on its kernel
#     command line (shakedown.coordinator= shakedown.token= shakedown.ca=);
#   - in the guest: `shakedown-agent run --profile quick` with short durations
#     (lab args below), which fetches the spec from the bucket and uploads its
#     checkpoints and report there.
#
# Scenarios:
#   A: the NVMe with smart_critical_warning=2 is left out (and out of the spec):
#      the run must complete, report.json in the bucket, Storage pass on the two
#      emulated SATA disks (they are really written by badblocks -w and fio).
#   B: the failing NVMe is present (role keep): SMART must fail and the run hold;
#      the bucket's checkpoint.json must say state FailedHolding, failed_stage
#      SMART. The host then stops the guest (nobody answers the hold).
#
# The host then lists the bucket, checks report.json/checkpoint.json and the
# dashboard page, prints a summary and tears everything down (qemu, coordinator,
# namespace). Exit status 0 only when every check of every scenario passed.
#
# Needs root (netns, tap), qemu-system-x86, busybox-static, s3cmd, jq, curl and
# the tools the agent drives (smartmontools fio e2fsprogs util-linux stress-ng
# iperf3 ethtool), all from scripts/install-deps.sh. The kernel is the one
# capture-qemu-fixture.sh unpacks (reused from its cache when present).
# Guest traffic stays inside $NS; the guest writes only its sparse image files.
#
# Environment: WORK (default /var/tmp/shakedown-lab), NS (shakedown-lab),
# KROOT (unpacked kernel tree with boot/vmlinuz-* and lib/modules/*),
# TIMEOUT_A (guest limit, default 330 s), TIMEOUT_B (default 240 s),
# KEEP=1 (leave $WORK/data for inspection; the namespace is always removed).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
SCEN=${1:-all}
WORK=${WORK:-/var/tmp/shakedown-lab}
NS=${NS:-shakedown-lab}
BR_IP=10.99.0.1
GUEST_IP=10.99.0.10
TIMEOUT_A=${TIMEOUT_A:-330}
TIMEOUT_B=${TIMEOUT_B:-240}
FIXTURE=$REPO/collector/testdata/snapshots/qemu-lab.tar.gz
GUEST_MAC=52:54:00:4c:41:01 # the e1000 (eth1 in the fixture) is the one on the tap
# Lab durations: TCG is slow. Storage still writes (badblocks -w, fio randrw) on
# the two SATA disks, bounded to a few MiB. The NIC floor is lowered because TCG
# moves 200-600 Mbit/s over an emulated 1 Gbit/s e1000.
LAB_ARGS=${LAB_ARGS:---stage.cpustress.duration=10s --stage.storage.surface_budget=32MiB --stage.storage.surface_segments=2 --stage.storage.badblocks_io_size=4MiB --stage.storage.fio_runtime=5s --stage.storage.fio_size=32MiB --stage.network.duration=3s --threshold.network_floor_fraction=0.05}

case $SCEN in A | B | all) ;; *) echo "usage: $0 [A|B|all]" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "run-lab: needs root (network namespace, tap)" >&2; exit 1; }
PATH=$PATH:/usr/sbin:/sbin

T0=$(date +%s)
log() { printf '%s +%3ss run-lab: %s\n' "$(date -u +%T)" "$(( $(date +%s) - T0 ))" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }
FAILS=0
check() { # check DESCRIPTION COMMAND...: record a pass/fail line
  local what=$1; shift
  if "$@"; then echo "  ok    $what" | tee -a "$WORK/summary.txt" >&2
  else echo "  FAIL  $what" | tee -a "$WORK/summary.txt" >&2; FAILS=$((FAILS + 1)); fi
}

for t in qemu-system-x86_64 s3cmd jq curl cpio smartctl fio badblocks wipefs stress-ng iperf3 ethtool; do
  command -v "$t" >/dev/null || die "$t is not installed (scripts/install-deps.sh; qemu-system-x86 busybox-static)"
done
[ -x /bin/busybox ] || die "/bin/busybox missing (apt-get install busybox-static)"

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
: >"$WORK/summary.txt"

# --- teardown --------------------------------------------------------------------
COORD_PID="" QEMU_PID=""
teardown() {
  trap - EXIT INT TERM
  if [ -n "$QEMU_PID" ]; then kill "$QEMU_PID" 2>/dev/null; wait "$QEMU_PID" 2>/dev/null; fi
  if [ -n "$COORD_PID" ] && kill -0 "$COORD_PID" 2>/dev/null; then
    kill -INT "$COORD_PID" 2>/dev/null; wait "$COORD_PID" 2>/dev/null || true
  fi
  ip netns del "$NS" 2>/dev/null
  log "torn down (namespace $NS removed, coordinator and qemu stopped)"
}
trap teardown EXIT
trap 'exit 130' INT TERM

# --- 1. kernel (reused from capture-qemu-fixture.sh's cache) -------------------
if [ -z "${KROOT:-}" ]; then
  for d in /var/tmp/shakedown-qemu-fixture/kernel-* /var/tmp/h3c/kroot; do
    if ls "$d"/lib/modules/*/modules.dep >/dev/null 2>&1 && ls "$d"/boot/vmlinuz-* >/dev/null 2>&1; then KROOT=$d; break; fi
  done
fi
if [ -z "${KROOT:-}" ]; then
  KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  [ -n "$KPKG" ] || die "cannot resolve linux-image-amd64"
  KROOT=$WORK/kernel-${KPKG#linux-image-}
  log "fetching $KPKG into $KROOT"
  rm -rf "$KROOT" "$WORK/deb" && mkdir -p "$WORK/deb"
  (cd "$WORK/deb" && apt-get download -q "$KPKG" >&2)
  dpkg-deb -x "$WORK"/deb/"$KPKG"_*.deb "$KROOT" && rm -rf "$WORK/deb"
fi
KVER=$(basename "$(dirname "$(ls "$KROOT"/lib/modules/*/modules.dep 2>/dev/null | head -1)")") || true
[ -f "$KROOT/lib/modules/$KVER/modules.dep" ] || depmod -b "$KROOT" "$KVER"
KERNEL=$KROOT/boot/vmlinuz-$KVER
[ -f "$KERNEL" ] || die "no kernel at $KERNEL"

# --- 2. binaries and the initrd --------------------------------------------------
log "building bin/shakedown-agent, bin/shakedown-agent-core and bin/shakedown-coordinator"
make -C "$REPO" -s build >&2
AGENT=$REPO/bin/shakedown-agent AGENT_CORE=$REPO/bin/shakedown-agent-core COORD=$REPO/bin/shakedown-coordinator
for b in "$AGENT" "$AGENT_CORE"; do
  if ldd "$b" >/dev/null 2>&1; then die "$b is not static"; fi
done

IRD=$WORK/initrd
rm -rf "$IRD"
mkdir -p "$IRD"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,lib/modules}
cp /bin/busybox "$IRD/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$IRD/bin/$a"; done
cp "$AGENT" "$IRD/usr/bin/shakedown-agent"
cp "$AGENT_CORE" "$IRD/usr/bin/shakedown-agent-core" # `shakedown-agent run` execs it from the same directory
copy_with_libs() { # copy a dynamic binary to the same path and the libraries ldd names
  local bin; bin=$(command -v "$1")
  mkdir -p "$IRD$(dirname "$bin")"
  rm -f "$IRD$bin" && cp "$bin" "$IRD$bin"
  ldd "$bin" | awk '/=> \// {print $3} /^\t\/lib/ {print $1}' | while read -r lib; do
    mkdir -p "$IRD$(dirname "$lib")"; cp -L "$lib" "$IRD$lib"
  done
}
# The programs the stages run (collector/tool): SMART, Storage (wipe-probe, surface, fio), CPUStress, Network.
for t in smartctl ethtool fio badblocks wipefs stress-ng iperf3; do copy_with_libs "$t"; done
: >"$IRD/modules.list"
for m in nvme ahci sd_mod virtio_pci virtio_net virtio_blk virtio_scsi e1000; do
  modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
  rel=${ko#"$KROOT"}; mkdir -p "$IRD$(dirname "$rel")"; cp "$ko" "$IRD$rel"; echo "$rel" >>"$IRD/modules.list"
done
echo qemu-lab >"$IRD/etc/hostname"
printf '%s\n' "$LAB_ARGS" >"$IRD/lab-args"
cat >"$IRD/init" <<'EOF'
#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp; mount -t tmpfs tmpfs /run
hostname -F /etc/hostname
arg() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" /proc/cmdline; }
while read -r ko; do insmod "$ko" 2>/dev/null || echo "LAB: insmod $ko failed"; done </modules.list
want=$(arg lab.disks); i=0
while [ "$(ls /sys/block | grep -cvE '^(loop|ram)')" -lt "${want:-0}" ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i+1)); done
mac=$(arg lab.mac); ip=$(arg lab.ip); labif=""
for n in /sys/class/net/*; do
  n=${n##*/}; [ "$n" = lo ] && continue
  ip link set "$n" up
  [ "$(cat /sys/class/net/$n/address)" = "$mac" ] && labif=$n
done
ip link set lo up
[ -n "$labif" ] && ip addr add "$ip/24" dev "$labif"
i=0
while [ "$(cat /sys/class/net/*/carrier 2>/dev/null | grep -c 1)" -lt 2 ] && [ $i -lt 20 ]; do sleep 0.5; i=$((i+1)); done
echo "LAB: scenario $(arg lab.scenario) disks: $(ls /sys/block | tr '\n' ' ') lab nic $labif $ip uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "LAB-RUN-BEGIN uptime=$(cut -d' ' -f1 /proc/uptime)"
# shellcheck disable=SC2046
shakedown-agent run --profile quick --new --state-dir /tmp/state $(cat /lab-args)
echo "LAB-RUN-END rc=$? uptime=$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
EOF
chmod +x "$IRD/init"
(cd "$IRD" && find . | cpio -o -H newc --quiet | gzip -1) >"$WORK/initrd.cpio.gz"
log "initrd $(( $(stat -c %s "$WORK/initrd.cpio.gz") >> 20 )) MiB, kernel $KVER"

# SMBIOS type 17: the two DIMMs of the fixture (same bytes as capture-qemu-fixture.sh).
python3 - "$WORK" <<'EOF'
import struct, sys
work = sys.argv[1]
def t17(handle, locator, bank, serial):
    strs = [locator, bank, "LabMem", serial, "LAB-ASSET-DIMM", "LAB-DDR4-512M"]
    body = struct.pack("<BBHHHHHHBBBBBHHBBBBBIHHHH", 17, 0x28, handle, 0x1000, 0xFFFE, 72, 64, 512,
        0x09, 0, 1, 2, 0x1A, 0x2080, 3200, 3, 4, 5, 6, 2, 0, 2933, 1200, 1200, 1200)
    return body + b"".join(s.encode() + b"\0" for s in strs) + b"\0"
for i, (loc, bank, ser) in enumerate([("DIMM_A1", "P0_Node0_Channel0_Dimm0", "DIMM-SER-0001"),
                                      ("DIMM_B1", "P0_Node0_Channel1_Dimm0", "DIMM-SER-0002")]):
    open(f"{work}/smbios-t17-{i}.bin", "wb").write(t17(0x1100 + i, loc, bank, ser))
EOF

# --- 3. namespace, bridge, tap, coordinator ----------------------------------------
ip netns del "$NS" 2>/dev/null || true
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add br0 type bridge
ip -n "$NS" addr add "$BR_IP/24" dev br0
ip -n "$NS" link set br0 up
ip -n "$NS" tuntap add dev tap0 mode tap
ip -n "$NS" link set tap0 master br0
ip -n "$NS" link set tap0 up
nsx() { ip netns exec "$NS" "$@"; }

DATA=$WORK/data
rm -rf "$DATA" && mkdir -p "$DATA"
ip netns exec "$NS" "$COORD" serve --data "$DATA" --listen "$BR_IP:8443" --s3-listen "$BR_IP:9000" >"$WORK/coordinator.log" 2>&1 &
COORD_PID=$!
for _ in $(seq 1 120); do
  grep -q '^ready' "$WORK/coordinator.log" 2>/dev/null && break
  kill -0 "$COORD_PID" 2>/dev/null || { cat "$WORK/coordinator.log" >&2; die "coordinator exited"; }
  sleep 0.5
done
grep -q '^ready' "$WORK/coordinator.log" || die "coordinator not ready in 60 s"
API=$(sed -n 's/^api: //p' "$WORK/coordinator.log" | head -1)
FP=$(sed -n 's/^certificate: .* sha256:\([0-9a-fA-F]*\).*/\1/p' "$WORK/coordinator.log" | head -1)
TOKEN=$(tr -d '[:space:]' <"$(sed -n 's/^fleet token: //p' "$WORK/coordinator.log" | head -1)")
[ -n "$API" ] && [ -n "$FP" ] && [ -n "$TOKEN" ] || die "cannot read API, fingerprint or token from the banner"
log "coordinator in netns $NS: $API, s3 https://$BR_IP:9000, $(grep '^iperf3' "$WORK/coordinator.log")"

S3CFG=$WORK/s3cfg
cat >"$S3CFG" <<EOF
[default]
access_key = $(sed -n 's/^access_key: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$DATA/s3-credentials.yaml")
secret_key = $(sed -n 's/^secret_key: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$DATA/s3-credentials.yaml")
host_base = $BR_IP:9000
host_bucket = $BR_IP:9000
use_https = True
ca_certs_file = $DATA/tls/cert.pem
signature_v2 = False
bucket_location = us-east-1
EOF
s3() { nsx s3cmd -c "$S3CFG" --no-progress "$@"; }
s3cat() { s3 get "$1" - 2>/dev/null; }

# --- 4. the expected spec --------------------------------------------------------------
mkdir -p "$WORK/spec"
tar -xzf "$FIXTURE" -C "$WORK/spec" shakedown-snapshot/inventory.json
"$AGENT" spec capture --inventory "$WORK/spec/shakedown-snapshot/inventory.json" >"$WORK/spec/captured.yaml"
HOST=$(sed -n 's/^host: "\([^"]*\)".*/\1/p' "$WORK/spec/captured.yaml")
[ -n "$HOST" ] || die "no host id in the captured spec"
# Edit: the SATA disks (identified by vendor+model+serial) become role: test.
python3 - "$WORK/spec" <<'EOF'
import re, sys
d = sys.argv[1]
text = open(f"{d}/captured.yaml").read()
head, rest = text.split("disks:\n", 1)
disks, tail = rest.split("nics:\n", 1)
entries = re.split(r"(?m)^(?=  # )", disks)
out_b, out_a = [], []
for e in entries:
    if 'serial: "SATA-SER-' in e:
        e = e.replace("role: keep", "role: test")
    out_b.append(e)
    if not e.startswith("  # nvme1n1"):
        out_a.append(e)
b = head + "disks:\n" + "".join(out_b) + "nics:\n" + tail
a = head + "disks:\n" + "".join(out_a) + "nics:\n" + tail
tests = lambda y: len(re.findall(r"(?m)^    role: test", y))
assert tests(b) == 2 and tests(a) == 2, "expected two SATA test disks"
assert a.count("class: nvme") == 1 and b.count("class: nvme") == 2
open(f"{d}/spec-B.yaml", "w").write(b)
open(f"{d}/spec-A.yaml", "w").write(a)
EOF
log "spec for host $HOST: SATA-SER-0001 and SATA-SER-0002 role test (A: without nvme1n1)"

# --- 5. scenarios -----------------------------------------------------------------------
run_guest() { # run_guest SCENARIO TIMEOUT: boots the guest in the namespace, in the background
  local s=$1 limit=$2 nvme1=() n=6
  for d in nvme0 nvme1 sata0 sata1 scsi0 vblk0; do rm -f "$WORK/disk-$d.img"; truncate -s 1G "$WORK/disk-$d.img"; done
  if [ "$s" = B ]; then
    nvme1=(-drive file="$WORK/disk-nvme1.img",if=none,id=dnvme1,format=raw
      -device nvme,serial=NVME-SER-0002,drive=dnvme1,smart_critical_warning=2,addr=0x3)
  else n=5; fi
  rm -f "$WORK/console-$s.log"
  # PCI addresses are pinned so that leaving nvme1 out does not move the NICs (the spec pins them).
  ip netns exec "$NS" timeout "$limit" qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 2 -nodefaults \
    -display none -monitor none -no-reboot \
    -kernel "$KERNEL" -initrd "$WORK/initrd.cpio.gz" \
    -append "console=ttyS0 panic=-1 quiet loglevel=4 lab.disks=$n lab.scenario=$s lab.mac=$GUEST_MAC lab.ip=$GUEST_IP lab.server=$BR_IP shakedown.coordinator=https://$BR_IP:8443 shakedown.token=$TOKEN shakedown.ca=sha256:$FP" \
    -serial "file:$WORK/console-$s.log" \
    -smbios type=1,manufacturer=ShakedownLab,product=QEMU-Lab-Node,version=1.0,serial=LAB-SYS-0001,uuid=5a3f0e1c-7b2d-4c89-9e41-0123456789ab,sku=LAB-SKU-1,family=LabNodes \
    -smbios type=2,manufacturer=ShakedownLab,product=LAB-BOARD-X1,version=A1,serial=LAB-BOARD-0001 \
    -smbios type=3,manufacturer=ShakedownLab,version=1,serial=LAB-CHASSIS-0001,asset=LAB-ASSET-0001 \
    -smbios file="$WORK/smbios-t17-0.bin" -smbios file="$WORK/smbios-t17-1.bin" \
    -drive file="$WORK/disk-nvme0.img",if=none,id=dnvme0,format=raw -device nvme,serial=NVME-SER-0001,drive=dnvme0,addr=0x2 \
    "${nvme1[@]}" \
    -device ahci,id=ahci0,addr=0x4 \
    -drive file="$WORK/disk-sata0.img",if=none,id=dsata0,format=raw -device ide-hd,drive=dsata0,bus=ahci0.0,serial=SATA-SER-0001,model=LabSATA-A \
    -drive file="$WORK/disk-sata1.img",if=none,id=dsata1,format=raw -device ide-hd,drive=dsata1,bus=ahci0.1,serial=SATA-SER-0002,model=LabSATA-B,rotation_rate=7200 \
    -device virtio-scsi-pci,id=scsi0,addr=0x5 \
    -drive file="$WORK/disk-scsi0.img",if=none,id=dscsi0,format=raw -device scsi-hd,drive=dscsi0,bus=scsi0.0,serial=SCSI-SER-0001 \
    -drive file="$WORK/disk-vblk0.img",if=none,id=dvblk0,format=raw -device virtio-blk-pci,drive=dvblk0,serial=VBLK-SER-0001,addr=0x6 \
    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device e1000,netdev=n0,mac=$GUEST_MAC,addr=0x7 \
    -netdev hubport,id=n1,hubid=1 -device virtio-net-pci,netdev=n1,mac=52:54:00:4c:41:02,speed=10000,duplex=full,addr=0x8 \
    </dev/null >"$WORK/qemu-$s.log" 2>&1 &
  QEMU_PID=$!
}

latest_run() { s3cat "s3://shakedown/hosts/$HOST/latest.json" | jq -r '.run_id // empty' 2>/dev/null; }

print_stages() { # print_stages REPORT_JSON
  jq -r '.stages[] | "    \(.name | . + " " * (13 - length)) \(.status | . + " " * (5 - length)) \(.duration_seconds // 0 | floor | tostring | . + "s")  \(.reason // "")  \((.message // "")[0:110])"' "$1" | tee -a "$WORK/summary.txt" >&2
}

scenario() {
  local s=$1 limit=$2 t started run
  echo "scenario $s" >>"$WORK/summary.txt"
  log "scenario $s: spec to s3://shakedown/hosts/$HOST/spec.yaml, booting the guest (limit ${limit}s)"
  s3 put "$WORK/spec/spec-$s.yaml" "s3://shakedown/hosts/$HOST/spec.yaml" >/dev/null
  local prev; prev=$(latest_run || true)
  started=$(date +%s)
  run_guest "$s" "$limit"
  # Wait for the guest to power off (A) or for the bucket's checkpoint to say FailedHolding (B).
  run="" state=""
  while kill -0 "$QEMU_PID" 2>/dev/null; do
    sleep 5
    run=$(latest_run || true)
    [ -n "$run" ] && [ "$run" != "$prev" ] || continue
    state=$(s3cat "s3://shakedown/runs/$HOST/$run/checkpoint.json" | jq -r '.run.state // empty' 2>/dev/null || true)
    [ "$s" = B ] && [ "$state" = FailedHolding ] && { log "scenario B: bucket checkpoint says FailedHolding: stopping the guest"; break; }
  done
  if kill -0 "$QEMU_PID" 2>/dev/null; then kill "$QEMU_PID"; fi
  wait "$QEMU_PID" 2>/dev/null || true; QEMU_PID=""
  t=$(( $(date +%s) - started ))
  run=$(latest_run || true)
  log "scenario $s: guest ran ${t}s, run ${run:-none}"
  tr -d '\r' <"$WORK/console-$s.log" | grep -a '^LAB' | sed 's/^/    guest: /' | tee -a "$WORK/summary.txt" >&2
  echo "  guest wall time ${t}s, run $run" >>"$WORK/summary.txt"
  check "scenario $s: a new run in hosts/$HOST/latest.json" test -n "$run" -a "$run" != "$prev"
  [ -n "$run" ] && [ "$run" != "$prev" ] || return 0
  echo "  bucket runs/$HOST/$run/:" >>"$WORK/summary.txt"
  s3 ls -r "s3://shakedown/runs/$HOST/$run/" | awk '{printf "    %8s  %s\n", $3, $4}' | tee -a "$WORK/summary.txt" >&2
  s3cat "s3://shakedown/runs/$HOST/$run/checkpoint.json" >"$WORK/checkpoint-$s.json" || true
  local cstate cfailed; cstate=$(jq -r '.run.state // empty' "$WORK/checkpoint-$s.json" 2>/dev/null || true)
  cfailed=$(jq -r '.run.failed_stage // empty' "$WORK/checkpoint-$s.json" 2>/dev/null || true)
  echo "  checkpoint.json: state=$cstate failed_stage=$cfailed result=$(jq -r '.run.result // empty' "$WORK/checkpoint-$s.json" 2>/dev/null)" | tee -a "$WORK/summary.txt" >&2
  if [ "$s" = A ]; then
    check "A: guest powered off after the run (LAB-RUN-END)" grep -q 'LAB-RUN-END' "$WORK/console-A.log"
    check "A: checkpoint state Completed" test "$cstate" = Completed
    if s3cat "s3://shakedown/runs/$HOST/$run/report.json" >"$WORK/report-A.json" && [ -s "$WORK/report-A.json" ]; then
      echo "  report.json verdict: $(jq -r '.verdict.result + " — " + .verdict.headline' "$WORK/report-A.json")" | tee -a "$WORK/summary.txt" >&2
      print_stages "$WORK/report-A.json"
      # report.json is written during Reporting: it lists the eight stages before it (the checkpoint has Reporting).
      check "A: report.json has the eight stages Inventory..PSU" test "$(jq -c '[.stages[].name]' "$WORK/report-A.json")" = '["Inventory","SpecValidate","SMART","CPUStress","Storage","Network","GPU","PSU"]'
      check "A: checkpoint points at report.json" test "$(jq -r '.report // empty' "$WORK/checkpoint-A.json")" = "runs/$HOST/$run/report.json"
      check "A: Storage pass" test "$(jq -r '.stages[] | select(.name=="Storage") | .status' "$WORK/report-A.json")" = pass
      check "A: Storage tested both SATA disks (badblocks measurements)" test \
        "$(jq '[.measurements[]? | select(.kind=="badblocks" and .name=="bad_blocks") | .subject] | unique | length' "$WORK/report-A.json")" = 2
      check "A: no stage failed" test "$(jq '[.stages[] | select(.status=="fail")] | length' "$WORK/report-A.json")" = 0
    else
      check "A: report.json in the bucket" false
    fi
    check "A: report.html in the bucket" grep -q "runs/$HOST/$run/report.html" <(s3 ls "s3://shakedown/runs/$HOST/$run/")
  else
    check "B: checkpoint state FailedHolding" test "$cstate" = FailedHolding
    check "B: failed_stage SMART" test "$cfailed" = SMART
  fi
  # The dashboard lists the host and this run.
  nsx curl -sS --cacert "$DATA/tls/cert.pem" "https://$BR_IP:8443/" >"$WORK/dashboard-$s.html" || true
  check "$s: dashboard lists run $run" grep -q "$run" "$WORK/dashboard-$s.html"
  return 0
}

[ "$SCEN" = A ] || [ "$SCEN" = all ] && scenario A "$TIMEOUT_A"
[ "$SCEN" = B ] || [ "$SCEN" = all ] && scenario B "$TIMEOUT_B"

echo "bucket (s3cmd ls -r s3://shakedown/):" >>"$WORK/summary.txt"
s3 ls -r s3://shakedown/ | awk '{printf "    %8s  %s\n", $3, $4}' >>"$WORK/summary.txt"
log "total $(( $(date +%s) - T0 ))s, $FAILS failed checks; summary:"
cat "$WORK/summary.txt"
[ "$FAILS" = 0 ]
