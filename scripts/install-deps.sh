#!/usr/bin/env bash
# Installs the Debian packages the tests and `make run` use. Idempotent; needs root (or sudo).
# Every tool here is exercised for real by the integration tests (see docs/testing.md).
set -euo pipefail

PKGS=(
  # load and measurement tools the agent drives
  stress-ng fio iperf3 e2fsprogs smartmontools nvme-cli ipmitool
  # what the seed's design ran for inventory (compared against in `make bench`)
  lshw dmidecode pciutils pci.ids util-linux
  # NIC link modes/firmware for the inventory; /usr/bin/time and hyperfine for `make bench`
  ethtool time hyperfine
  # disk fixtures for the wipe-probe tests
  xfsprogs btrfs-progs lvm2 cryptsetup-bin dosfstools ntfs-3g gdisk parted fdisk
  genisoimage xorriso
  # S3 client used to browse the bucket in the integration tests; browser for page tests
  s3cmd chromium
  # misc
  jq iproute2 procps
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PKGS[@]} packages present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "deps: missing packages: ${missing[*]}" >&2
    echo "deps: run as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
