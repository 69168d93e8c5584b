package collector

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// diskProbe fills Inventory.Disks with every whole block device under
// /sys/block except loop, ram, zram, dm, md, nbd and hidden (NVMe multipath
// path) devices. Identity comes from the udev database
// (/run/udev/data/b<maj>:<min>) when present, else from sysfs:
// /sys/block/X/device/{model,vendor,serial,wwid,rev,firmware_rev,vpd_pg80},
// /sys/block/X/serial (virtio), /sys/class/nvme/nvmeN/{serial,model,firmware_rev}
// and /sys/block/nvmeXnY/{wwid,eui,nguid}. See Documentation/ABI/stable/sysfs-block.
type diskProbe struct{}

func init() { Register(diskProbe{}) }

func (diskProbe) Name() string { return "disks" }

func (diskProbe) Files(Env) []string {
	return []string{
		"/sys/block/*",
		"/sys/block/*/{dev,size,removable,ro,hidden,serial,wwid,eui,nguid,uuid}",
		"/sys/block/*/queue/{logical_block_size,physical_block_size,rotational}",
		"/sys/block/*/device/{model,vendor,serial,wwid,rev,firmware_rev,vpd_pg80,transport}",
		"/sys/class/nvme/*",
		"/sys/class/nvme/*/{serial,model,firmware_rev,transport}",
		"/sys/class/nvme/*/device/vendor",
		"/run/udev/data/b*",
	}
}

// skipBlock reports whether a block device name is a virtual device
// (loop, ram, zram, device-mapper, md RAID, nbd), never a disk.
func skipBlock(name string) bool {
	for _, p := range []string{"loop", "ram", "zram", "dm-", "md", "nbd"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func (diskProbe) Collect(_ context.Context, env Env, inv *Inventory) error {
	ents, err := os.ReadDir(env.Sys("block"))
	if err != nil {
		return fmt.Errorf("list block devices: %w: %w", ErrNoData, err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	disks := []Disk{}
	for _, n := range names {
		if skipBlock(n) {
			continue
		}
		if h, ok := readInt(env.Sys("block", n, "hidden")); ok && h == 1 {
			continue
		}
		disks = append(disks, readDisk(env, n))
	}
	inv.Disks = disks
	return nil
}

func readDisk(env Env, name string) Disk {
	dir := env.Sys("block", name)
	d := Disk{Name: name, DevT: readString(filepath.Join(dir, "dev"))}
	if n, ok := readUint(filepath.Join(dir, "size")); ok {
		d.SizeBytes = n * 512 // always 512-byte units, whatever the sector size
	}
	if v, ok := readInt(filepath.Join(dir, "queue", "logical_block_size")); ok {
		d.LogicalSectorSize = int(v)
	}
	if v, ok := readInt(filepath.Join(dir, "queue", "physical_block_size")); ok {
		d.PhysicalSectorSize = int(v)
	}
	if v, ok := readInt(filepath.Join(dir, "queue", "rotational")); ok {
		d.Rotational = ptr(v == 1)
	}
	if v, ok := readInt(filepath.Join(dir, "removable")); ok {
		d.Removable = v == 1
	}
	if v, ok := readInt(filepath.Join(dir, "ro")); ok {
		d.ReadOnly = v == 1
	}

	var ud udevIdentity
	haveUdev := false
	if d.DevT != "" {
		if b, err := readAll(env.Udev("data", "b"+d.DevT)); err == nil {
			if props, err := parseUdevDB(strings.NewReader(string(b))); err == nil && len(props) > 0 {
				ud = identityFromUdev(props)
				haveUdev = true
			}
		}
	}
	d.Transport = diskTransport(env, name, ud)
	switch {
	case d.Transport == "nvme":
		d.Class = "nvme"
	case d.Rotational != nil && *d.Rotational:
		d.Class = "hdd"
	case d.Rotational != nil:
		d.Class = "ssd"
	}

	if haveUdev {
		d.Vendor, d.Model, d.Serial, d.WWN, d.Firmware = ud.Vendor, ud.Model, ud.Serial, ud.WWN, ud.Firmware
		if d.Serial != "" || d.Model != "" || d.WWN != "" {
			d.IdentitySource = "udev"
		}
	}
	sysfsIdentity(env, name, &d)
	return d
}

// sysfsIdentity fills what udev did not say from sysfs.
func sysfsIdentity(env Env, name string, d *Disk) {
	dir := env.Sys("block", name)
	dev := filepath.Join(dir, "device")
	filled := false
	set := func(dst *string, v string) {
		v = cleanID(v)
		if *dst == "" && v != "" {
			*dst = v
			filled = true
		}
	}
	switch d.Transport {
	case "virtio":
		// device/vendor is the virtio vendor id (0x1af4), not a name.
		set(&d.Serial, readString(filepath.Join(dir, "serial")))
	case "nvme":
		set(&d.Serial, readString(filepath.Join(dev, "serial")))
		set(&d.Model, readString(filepath.Join(dev, "model")))
		set(&d.Firmware, readString(filepath.Join(dev, "firmware_rev")))
		if n, ok := nvmeCtrl(name); ok {
			ctrl := env.Sys("class", "nvme", "nvme"+n)
			set(&d.Serial, readString(filepath.Join(ctrl, "serial")))
			set(&d.Model, readString(filepath.Join(ctrl, "model")))
			set(&d.Firmware, readString(filepath.Join(ctrl, "firmware_rev")))
			// NVMe has no vendor string in sysfs or udev. The controller's PCI
			// vendor ID (also Identify's VID) stands in, so vendor+model+serial
			// identifies NVMe drives without EUI-64/NGUID too.
			if v := readString(filepath.Join(ctrl, "device", "vendor")); strings.HasPrefix(v, "0x") && d.Vendor == "" {
				d.Vendor = "pci:" + strings.ToLower(v)
			}
		}
		if e := normHexID(readString(filepath.Join(dir, "eui"))); len(e) == 16 {
			d.EUI64 = e
		}
		if g := normHexID(readString(filepath.Join(dir, "nguid"))); len(g) == 32 {
			d.NGUID = g
		}
	default:
		set(&d.Vendor, readString(filepath.Join(dev, "vendor")))
		set(&d.Model, readString(filepath.Join(dev, "model")))
		set(&d.Firmware, readString(filepath.Join(dev, "rev")))
		set(&d.Firmware, readString(filepath.Join(dev, "firmware_rev")))
		set(&d.Serial, readString(filepath.Join(dev, "serial")))
		if b, err := readAll(filepath.Join(dev, "vpd_pg80")); err == nil {
			set(&d.Serial, parseVPDSerial(b))
		}
	}
	wwid := readString(filepath.Join(dir, "wwid"))
	if wwid == "" {
		wwid = readString(filepath.Join(dev, "wwid"))
	}
	if w := wwnFromWWID(wwid); w != "" && d.WWN == "" {
		d.WWN = w
		filled = true
	}
	if d.Transport == "nvme" && d.EUI64 == "" && strings.HasPrefix(d.WWN, "eui.") {
		if e := normHexID(d.WWN[4:]); len(e) == 16 {
			d.EUI64 = e
		}
	}
	if filled && d.IdentitySource == "" {
		d.IdentitySource = "sysfs"
	}
}

// nvmeCtrl returns the controller number of an NVMe namespace block device
// name ("nvme0n1" and the multipath "nvme0c1n1" -> "0").
func nvmeCtrl(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "nvme")
	if !ok {
		return "", false
	}
	ctrl, rest := leadingDigits(rest)
	if ctrl == "" {
		return "", false
	}
	if r, ok := strings.CutPrefix(rest, "c"); ok {
		var path string
		if path, rest = leadingDigits(r); path == "" {
			return "", false
		}
	}
	rest, ok = strings.CutPrefix(rest, "n")
	if ns, tail := leadingDigits(rest); !ok || ns == "" || tail != "" {
		return "", false
	}
	return ctrl, true
}

// leadingDigits splits s after its leading ASCII digits.
func leadingDigits(s string) (digits, rest string) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i], s[i:]
}

// diskTransport derives the bus from the device name, the resolved sysfs
// device path and, when present, udev's ID_BUS/ID_PATH.
func diskTransport(env Env, name string, ud udevIdentity) string {
	switch {
	case strings.HasPrefix(name, "nvme"):
		return "nvme"
	case strings.HasPrefix(name, "vd"):
		return "virtio"
	case strings.HasPrefix(name, "mmcblk"):
		return "mmc"
	}
	p, err := filepath.EvalSymlinks(env.Sys("block", name))
	if err != nil {
		p = ""
	}
	switch {
	case strings.Contains(p, "/usb") || ud.Bus == "usb":
		return "usb"
	case strings.Contains(p, "/virtio") && !strings.Contains(p, "/host"):
		// virtio-blk; a virtio-scsi disk (…/virtio0/host6/target6:0:0/…) is SCSI.
		return "virtio"
	case strings.Contains(p, "/ata") || ud.Bus == "ata" || strings.Contains(ud.Path, "-ata-"):
		return "sata"
	case strings.Contains(p, "/end_device-") || strings.Contains(ud.Path, "-sas-"):
		return "sas"
	case strings.Contains(p, "/host") || ud.Bus == "scsi":
		return "scsi"
	}
	return "unknown"
}

// normHexID turns "00 25 38 8b ..", "eui.0025388b..", "6b3e…-…" into lower-case
// hex; all-zero identifiers (absent) give "".
func normHexID(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(strings.TrimPrefix(s, "eui."), "0x")
	s = strings.NewReplacer(" ", "", "-", "", ":", "").Replace(s)
	if !isHex([]byte(s)) || strings.Trim(s, "0") == "" {
		return ""
	}
	return s
}

// wwnFromWWID maps a sysfs wwid to the udev ID_WWN form: "naa.5000c500…" →
// "0x5000c500…", "eui.…" kept; t10 and nvme-vendor forms are not WWNs.
func wwnFromWWID(w string) string {
	w = strings.ToLower(strings.TrimSpace(w))
	switch {
	case strings.HasPrefix(w, "naa."):
		if h := normHexID(w[4:]); h != "" {
			return "0x" + h
		}
	case strings.HasPrefix(w, "eui."):
		if h := normHexID(w[4:]); h != "" {
			return "eui." + h
		}
	}
	return ""
}

// parseVPDSerial extracts the unit serial number from a SCSI VPD page 0x80.
func parseVPDSerial(b []byte) string {
	if len(b) < 4 || b[1] != 0x80 {
		return ""
	}
	n := int(b[2])<<8 | int(b[3])
	if 4+n > len(b) {
		n = len(b) - 4
	}
	return cleanID(string(b[4 : 4+n]))
}
