#!/usr/bin/env bash
# capture-qemu-fixture.sh [OUT.tar.gz]
#
# Captures collector/testdata/snapshots/qemu-lab.tar.gz: boots a minimal busybox
# initrd under qemu TCG with emulated NVMe (one healthy, one with a critical
# warning), SATA (ahci), virtio-scsi and virtio-blk disks, an e1000 and a
# virtio-net NIC, SMBIOS system/board/chassis identity and two SMBIOS type 17
# DIMMs, runs `shakedown-agent inventory` (printed on the serial console),
# `shakedown-agent inventory --json` and `shakedown-agent snapshot --smart`
# inside, and copies the snapshot and that JSON out over a second serial port.
# The JSON (LIVE_OUT) is the live-system path: NICs asked with SIOCETHTOOL
# ioctls, where the snapshot runs and records `ethtool` instead; the tests
# compare the two (collector/qemu_lab_test.go). See docs/testing.md, "QEMU
# guest fixture".
#
# Needs root only to install missing packages (qemu-system-x86, busybox-static,
# smartmontools, ethtool, kmod, cpio); the kernel is unpacked from the
# linux-image .deb into $WORK, nothing is installed under /boot or /lib/modules.
# The guest has no network backend beyond an isolated QEMU hub (no host or
# outside traffic) and writes only to the sparse image files under $WORK.
#
# Environment: WORK (scratch dir, default /var/tmp/shakedown-qemu-fixture),
# CONSOLE_LOG (serial console copy, default $WORK/console.log), TIMEOUT (guest
# wall-clock limit in seconds, default 170).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$REPO/collector/testdata/snapshots/qemu-lab.tar.gz}
LIVE_OUT=${LIVE_OUT:-${OUT%.tar.gz}.live-inventory.json}
WORK=${WORK:-/var/tmp/shakedown-qemu-fixture}
CONSOLE_LOG=${CONSOLE_LOG:-$WORK/console.log}
TIMEOUT=${TIMEOUT:-170}
MAX_BYTES=$((2 << 20)) # the committed fixture must stay under 2 MiB

log() { printf '%s capture-qemu-fixture: %s\n' "$(date -u +%T)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# --- 1. host packages -------------------------------------------------------
need_pkgs=()
for p in qemu-system-x86 busybox-static smartmontools ethtool kmod cpio python3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing packages ${need_pkgs[*]} (run as root or install them)"
  log "installing ${need_pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2
fi
PATH=$PATH:/usr/sbin:/sbin

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)

# --- 2. kernel and modules, unpacked from the .deb (not installed) ----------
KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$KPKG" ] || die "cannot resolve linux-image-amd64 to a versioned kernel package"
KVER=${KPKG#linux-image-}
KROOT=$WORK/kernel-$KVER
if [ ! -f "$KROOT/lib/modules/$KVER/modules.dep" ]; then
  log "fetching $KPKG"
  rm -rf "$KROOT" "$WORK/deb" && mkdir -p "$WORK/deb"
  (cd "$WORK/deb" && apt-get download -q "$KPKG" >&2)
  dpkg-deb -x "$WORK"/deb/"$KPKG"_*.deb "$KROOT"
  depmod -b "$KROOT" "$KVER"
  rm -rf "$WORK/deb"
fi
KERNEL=$KROOT/boot/vmlinuz-$KVER

# --- 3. the agent (static) ---------------------------------------------------
log "building bin/shakedown-agent"
make -C "$REPO" -s agent >&2
AGENT=$REPO/bin/shakedown-agent
if ldd "$AGENT" >/dev/null 2>&1; then die "$AGENT is not static"; fi

# --- 4. initrd ----------------------------------------------------------------
IRD=$WORK/initrd
rm -rf "$IRD"
mkdir -p "$IRD"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,lib/modules}
cp /bin/busybox "$IRD/bin/busybox"
for a in $(/bin/busybox --list); do
  [ "$a" = busybox ] || ln -sf busybox "$IRD/bin/$a" # busybox -> busybox would loop (ELOOP)
done
cp "$AGENT" "$IRD/usr/bin/shakedown-agent"
copy_with_libs() { # copy a dynamic binary and the libraries ldd names
  local bin=$1 dst=$2
  cp "$bin" "$IRD$dst"
  ldd "$bin" | awk '/=> \// {print $3} /^\t\/lib/ {print $1}' | while read -r lib; do
    mkdir -p "$IRD$(dirname "$lib")"
    cp -L "$lib" "$IRD$lib"
  done
}
copy_with_libs "$(command -v smartctl)" /usr/sbin/smartctl
copy_with_libs "$(command -v ethtool)" /usr/sbin/ethtool
# Modules in dependency order (modprobe --show-depends against the unpacked tree).
: >"$IRD/modules.list"
for m in nvme ahci sd_mod virtio_pci virtio_net virtio_blk virtio_scsi e1000; do
  modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
  rel=${ko#"$KROOT"}
  mkdir -p "$IRD$(dirname "$rel")"
  cp "$ko" "$IRD$rel"
  echo "$rel" >>"$IRD/modules.list"
done
echo qemu-lab >"$IRD/etc/hostname"
cat >"$IRD/init" <<'EOF'
#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
hostname -F /etc/hostname
while read -r ko; do insmod "$ko" 2>/dev/null || echo "LAB: insmod $ko failed"; done </modules.list
want=$(sed -n 's/.*lab.disks=\([0-9]*\).*/\1/p' /proc/cmdline)
i=0
while [ "$(ls /sys/block | grep -cvE '^(loop|ram)')" -lt "${want:-0}" ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i+1)); done
for n in /sys/class/net/*; do [ "${n##*/}" = lo ] || ip link set "${n##*/}" up; done
i=0 # e1000 reports its speed once the link is up
while [ "$(cat /sys/class/net/*/carrier 2>/dev/null | grep -c 1)" -lt 2 ] && [ $i -lt 20 ]; do sleep 0.5; i=$((i+1)); done
echo "LAB: disks: $(ls /sys/block | tr '\n' ' ') uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "LAB-INVENTORY-BEGIN"
shakedown-agent inventory
echo "LAB-INVENTORY-END rc=$?"
shakedown-agent inventory --json >/tmp/live.json
echo "LAB: inventory --json rc=$?"
shakedown-agent snapshot /tmp/snap.tar.gz --smart
rc=$?
echo "LAB: snapshot rc=$rc uptime=$(cut -d' ' -f1 /proc/uptime)"
if [ $rc = 0 ]; then
  stty -F /dev/ttyS1 raw -echo 2>/dev/null
  { echo "LAB-EXPORT-BEGIN $(sha256sum </tmp/snap.tar.gz | cut -d' ' -f1) $(wc -c </tmp/snap.tar.gz)"
    base64 /tmp/snap.tar.gz
    echo "LAB-EXPORT-END"
    echo "LAB-LIVE-BEGIN $(sha256sum </tmp/live.json | cut -d' ' -f1) $(wc -c </tmp/live.json)"
    base64 /tmp/live.json
    echo "LAB-LIVE-END"; } >/dev/ttyS1
fi
echo "LAB-DONE uptime=$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
EOF
chmod +x "$IRD/init"
(cd "$IRD" && find . | cpio -o -H newc --quiet | gzip -1) >"$WORK/initrd.cpio.gz"
log "initrd $(stat -c %s "$WORK/initrd.cpio.gz") bytes, kernel $KVER"

# --- 5. SMBIOS type 17 (two DIMMs) and disk images ---------------------------
# QEMU 7.2 emits one type 17 per 16 GiB of RAM (one "DIMM 0" for -m 1024, and
# -smbios type=17 only sets strings on those). Two DIMMs summing to the guest's
# 1 GiB come from binary structures; a user blob of a type replaces QEMU's own.
python3 - "$WORK" <<'EOF'
import struct, sys
work = sys.argv[1]
def t17(handle, locator, bank, serial):
    strs = [locator, bank, "LabMem", serial, "LAB-ASSET-DIMM", "LAB-DDR4-512M"]
    body = struct.pack("<BBHHHHHHBBBBBHHBBBBBIHHHH",
        17, 0x28, handle,
        0x1000,          # physical memory array (QEMU's type 16)
        0xFFFE,          # no error information
        72, 64,          # total width, data width: ECC
        512,             # size in MiB
        0x09, 0,         # form factor DIMM, device set
        1, 2,            # locator, bank locator strings
        0x1A,            # DDR4
        0x2080,          # synchronous, registered
        3200,            # speed MT/s
        3, 4, 5, 6,      # manufacturer, serial, asset tag, part number
        2,               # rank 2
        0,               # extended size (unused)
        2933,            # configured speed MT/s
        1200, 1200, 1200)  # voltages mV
    assert len(body) == 0x28, len(body)
    return body + b"".join(s.encode() + b"\0" for s in strs) + b"\0"
for i, (loc, bank, ser) in enumerate([("DIMM_A1", "P0_Node0_Channel0_Dimm0", "DIMM-SER-0001"),
                                      ("DIMM_B1", "P0_Node0_Channel1_Dimm0", "DIMM-SER-0002")]):
    open(f"{work}/smbios-t17-{i}.bin", "wb").write(t17(0x1100 + i, loc, bank, ser))
EOF
names=(nvme0 nvme1 sata0 sata1 scsi0 vblk0)
for d in "${names[@]}"; do
  rm -f "$WORK/disk-$d.img"
  truncate -s 1G "$WORK/disk-$d.img"
done

# --- 6. boot ------------------------------------------------------------------
EXPORT=$WORK/export.serial
rm -f "$EXPORT" "$CONSOLE_LOG"
log "booting the guest (TCG, limit ${TIMEOUT}s)"
start=$(date +%s)
set +e
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 2 -nodefaults \
  -display none -monitor none -no-reboot \
  -kernel "$KERNEL" -initrd "$WORK/initrd.cpio.gz" \
  -append "console=ttyS0 panic=-1 quiet loglevel=4 lab.disks=${#names[@]}" \
  -serial "file:$CONSOLE_LOG" -serial "file:$EXPORT" \
  -smbios type=1,manufacturer=ShakedownLab,product=QEMU-Lab-Node,version=1.0,serial=LAB-SYS-0001,uuid=5a3f0e1c-7b2d-4c89-9e41-0123456789ab,sku=LAB-SKU-1,family=LabNodes \
  -smbios type=2,manufacturer=ShakedownLab,product=LAB-BOARD-X1,version=A1,serial=LAB-BOARD-0001 \
  -smbios type=3,manufacturer=ShakedownLab,version=1,serial=LAB-CHASSIS-0001,asset=LAB-ASSET-0001 \
  -smbios file="$WORK/smbios-t17-0.bin" -smbios file="$WORK/smbios-t17-1.bin" \
  -drive file="$WORK/disk-nvme0.img",if=none,id=dnvme0,format=raw -device nvme,serial=NVME-SER-0001,drive=dnvme0 \
  -drive file="$WORK/disk-nvme1.img",if=none,id=dnvme1,format=raw -device nvme,serial=NVME-SER-0002,drive=dnvme1,smart_critical_warning=2 \
  -device ahci,id=ahci0 \
  -drive file="$WORK/disk-sata0.img",if=none,id=dsata0,format=raw -device ide-hd,drive=dsata0,bus=ahci0.0,serial=SATA-SER-0001,model=LabSATA-A \
  -drive file="$WORK/disk-sata1.img",if=none,id=dsata1,format=raw -device ide-hd,drive=dsata1,bus=ahci0.1,serial=SATA-SER-0002,model=LabSATA-B,rotation_rate=7200 \
  -device virtio-scsi-pci,id=scsi0 \
  -drive file="$WORK/disk-scsi0.img",if=none,id=dscsi0,format=raw -device scsi-hd,drive=dscsi0,bus=scsi0.0,serial=SCSI-SER-0001 \
  -drive file="$WORK/disk-vblk0.img",if=none,id=dvblk0,format=raw -device virtio-blk-pci,drive=dvblk0,serial=VBLK-SER-0001 \
  -netdev hubport,id=n0,hubid=0 -device e1000,netdev=n0,mac=52:54:00:4c:41:01 \
  -netdev hubport,id=n1,hubid=1 -device virtio-net-pci,netdev=n1,mac=52:54:00:4c:41:02,speed=10000,duplex=full \
  </dev/null >&2
rc=$?
set -e
log "guest exited rc=$rc after $(( $(date +%s) - start ))s"
tr -d '\r' <"$CONSOLE_LOG" | sed -n '/LAB/,$p' | sed -n '1,200p' >&2
grep -q LAB-DONE "$CONSOLE_LOG" || die "guest did not finish (see $CONSOLE_LOG)"

# --- 7. extract and verify -----------------------------------------------------
tr -d '\r' <"$EXPORT" >"$WORK/export.txt"
read -r _ sum size < <(grep '^LAB-EXPORT-BEGIN' "$WORK/export.txt") || die "no export in $EXPORT"
sed -n '/^LAB-EXPORT-BEGIN/,/^LAB-EXPORT-END/p' "$WORK/export.txt" | sed '1d;$d' | base64 -d >"$WORK/snap.tar.gz"
[ "$(sha256sum <"$WORK/snap.tar.gz" | cut -d' ' -f1)" = "$sum" ] || die "export checksum mismatch"
[ "$(stat -c %s "$WORK/snap.tar.gz")" = "$size" ] || die "export size mismatch"
[ "$size" -lt "$MAX_BYTES" ] || die "snapshot is $size bytes, over $MAX_BYTES"
tar -tzf "$WORK/snap.tar.gz" >/dev/null || die "export is not a tar.gz"
read -r _ lsum lsize < <(grep '^LAB-LIVE-BEGIN' "$WORK/export.txt") || die "no live inventory in $EXPORT"
sed -n '/^LAB-LIVE-BEGIN/,/^LAB-LIVE-END/p' "$WORK/export.txt" | sed '1d;$d' | base64 -d >"$WORK/live.json"
[ "$(sha256sum <"$WORK/live.json" | cut -d' ' -f1)" = "$lsum" ] && [ "$(stat -c %s "$WORK/live.json")" = "$lsize" ] ||
  die "live inventory checksum or size mismatch"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/live.json" || die "live inventory is not JSON"
mkdir -p "$(dirname "$OUT")"
cp "$WORK/snap.tar.gz" "$OUT"
cp "$WORK/live.json" "$LIVE_OUT"
log "wrote $OUT ($size bytes, sha256 $sum) and $LIVE_OUT in $(( $(date +%s) - start ))s of guest time"
