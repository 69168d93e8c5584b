// Package wipeprobe decides whether a block device (or an image file) holds
// anything worth keeping, before the Storage stage is allowed to write to it.
//
// Three independent voters look at the device and any "data" or "unknown"
// verdict from any of them halts (docs/safety.md):
//
//   - probe: our own table-driven signature scan (signatures.go). It reads the
//     start AND the end of the device (backup GPT, md 0.90/1.0, ZFS L2/L3,
//     hardware-RAID metadata and DRBD live at the end), descends into GPT and
//     MBR partitions and to the LVM data area start (where Proxmox's Ceph OSDs
//     keep their BlueStore label), and reports every signature with its type
//     and absolute offset.
//   - wipefs: `wipefs -n --json` (util-linux libblkid, with its forced GPT
//     probing). A non-zero exit or output we cannot parse is "unknown".
//   - kernel: holders, mounts, swap, an O_EXCL open and the read-only flag.
//
// A read error anywhere is "unknown": the probe fails closed. Nothing in this
// package writes to a device.
package wipeprobe
