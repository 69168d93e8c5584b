package collector

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shakedown/shakedown/collector/tool"
)

// qemuLabSnapshot is captured by image/lab/capture-qemu-fixture.sh: a busybox
// initrd under qemu 7.2 TCG (no udev) with two NVMe controllers (the second
// with smart_critical_warning=2), two SATA disks on AHCI, a virtio-scsi disk,
// a virtio-blk disk, an e1000 and a virtio-net NIC (speed=10000), SMBIOS
// identity from -smbios type=1/2/3 and two type 17 DIMMs, taken with
// `shakedown-agent snapshot --smart` (unmasked: every value is a fake lab one).
// See docs/testing.md, "QEMU guest fixture".
const qemuLabSnapshot = "testdata/snapshots/qemu-lab.tar.gz"

const qemuLabUUID = "5a3f0e1c-7b2d-4c89-9e41-0123456789ab"

func qemuLabInventory(t *testing.T) (Env, *Inventory) {
	t.Helper()
	env := unpackFixture(t, qemuLabSnapshot)
	inv, err := Collect(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range inv.Probes {
		if !p.OK {
			t.Errorf("probe %s failed on the fixture: %s", p.Name, p.Error)
		}
	}
	return env, inv
}

func TestQEMULabSystemAndHostID(t *testing.T) {
	_, inv := qemuLabInventory(t)
	s := inv.System
	if s == nil {
		t.Fatal("no DMI system: -smbios type=1 did not reach the fixture")
	}
	want := System{
		Vendor: "ShakedownLab", Product: "QEMU-Lab-Node", Version: "1.0", Serial: "LAB-SYS-0001",
		UUID: qemuLabUUID, SKU: "LAB-SKU-1", Family: "LabNodes",
		BoardVendor: "ShakedownLab", BoardProduct: "LAB-BOARD-X1", BoardVersion: "A1", BoardSerial: "LAB-BOARD-0001",
		ChassisVendor: "ShakedownLab", ChassisType: "Other", ChassisSerial: "LAB-CHASSIS-0001", ChassisAssetTag: "LAB-ASSET-0001",
		BIOSVendor: "SeaBIOS", BIOSVersion: s.BIOSVersion, BIOSDate: s.BIOSDate,
	}
	if *s != want {
		t.Errorf("system\n got %+v\nwant %+v", *s, want)
	}
	if !strings.HasPrefix(s.BIOSVersion, "1.16") {
		t.Errorf("BIOS version %q: expected SeaBIOS 1.16.x of qemu 7.2", s.BIOSVersion)
	}
	if inv.HostID != qemuLabUUID || inv.HostIDSource != "dmi-uuid" {
		t.Errorf("host id %q from %q, want the DMI UUID", inv.HostID, inv.HostIDSource)
	}
	if inv.Hostname != "qemu-lab" {
		t.Errorf("hostname %q: the fixture is unmasked", inv.Hostname)
	}
}

func TestQEMULabMemory(t *testing.T) {
	_, inv := qemuLabInventory(t)
	m := inv.Memory
	if m == nil {
		t.Fatal("no memory")
	}
	// -m 1024: the kernel keeps some for itself, so MemTotal is a little less.
	if m.TotalBytes < 900<<20 || m.TotalBytes >= 1<<30 {
		t.Errorf("MemTotal %d bytes, want 900 MiB..1 GiB", m.TotalBytes)
	}
	if m.InstalledBytes == nil || *m.InstalledBytes != 1<<30 {
		t.Errorf("installed bytes %v, want the two 512 MiB DIMMs", m.InstalledBytes)
	}
	if m.ECC == nil || !*m.ECC {
		t.Errorf("ECC %v: qemu's type 16 array says multi-bit ECC", m.ECC)
	}
	if len(m.DIMMs) != 2 {
		t.Fatalf("%d DIMMs, want 2: %+v", len(m.DIMMs), m.DIMMs)
	}
	for i, d := range m.DIMMs {
		loc, bank, serial := []string{"DIMM_A1", "DIMM_B1"}[i], []string{"P0_Node0_Channel0_Dimm0", "P0_Node0_Channel1_Dimm0"}[i], []string{"DIMM-SER-0001", "DIMM-SER-0002"}[i]
		if d.Locator != loc || d.BankLocator != bank || d.Serial != serial || d.SizeBytes != 512<<20 || d.Type != "DDR4" ||
			d.Manufacturer != "LabMem" || d.PartNumber != "LAB-DDR4-512M" {
			t.Errorf("DIMM %d = %+v", i, d)
		}
		if d.SpeedMTs == nil || *d.SpeedMTs != 3200 || d.ConfiguredSpeedMTs == nil || *d.ConfiguredSpeedMTs != 2933 {
			t.Errorf("DIMM %d speeds %v / %v, want 3200 / 2933", i, d.SpeedMTs, d.ConfiguredSpeedMTs)
		}
		if d.TotalWidth == nil || d.DataWidth == nil || *d.TotalWidth != 72 || *d.DataWidth != 64 {
			t.Errorf("DIMM %d widths %v / %v, want 72 / 64 (ECC)", i, d.TotalWidth, d.DataWidth)
		}
	}
}

func TestQEMULabDisks(t *testing.T) {
	_, inv := qemuLabInventory(t)
	bySerial := map[string]Disk{}
	for _, d := range inv.Disks {
		bySerial[d.Serial] = d
		if d.SizeBytes != 1<<30 {
			t.Errorf("%s (%s): size %d, want the 1 GiB sparse image", d.Name, d.Serial, d.SizeBytes)
		}
		if d.IdentitySource != "sysfs" {
			t.Errorf("%s: identity from %q; the busybox guest has no udev, so it must be sysfs", d.Name, d.IdentitySource)
		}
	}
	if len(inv.Disks) != 6 {
		t.Errorf("%d disks, want 6: %+v", len(inv.Disks), inv.Disks)
	}
	want := []struct {
		serial, transport, class, vendor, model, firmware string
	}{
		// NVMe has no vendor string in sysfs: the controller's PCI vendor ID
		// stands in (QEMU's NVMe is Red Hat's 1b36).
		{"NVME-SER-0001", "nvme", "nvme", "pci:0x1b36", "QEMU NVMe Ctrl", "7.2.22"},
		{"NVME-SER-0002", "nvme", "nvme", "pci:0x1b36", "QEMU NVMe Ctrl", "7.2.22"},
		// SATA without udev: model from device/model, serial from VPD page 0x80
		// (libata's SAT translation), also visible in device/wwid.
		{"SATA-SER-0001", "sata", "hdd", "ATA", "LabSATA-A", "2.5+"},
		{"SATA-SER-0002", "sata", "hdd", "ATA", "LabSATA-B", "2.5+"},
		// virtio-scsi sits under .../virtioN/hostM/...: SCSI, not virtio-blk.
		{"SCSI-SER-0001", "scsi", "hdd", "QEMU", "QEMU HARDDISK", "2.5+"},
		// virtio-blk has only /sys/block/vda/serial: no model or firmware.
		{"VBLK-SER-0001", "virtio", "hdd", "", "", ""},
	}
	for _, w := range want {
		d, ok := bySerial[w.serial]
		if !ok {
			t.Errorf("no disk with serial %s", w.serial)
			continue
		}
		if d.Transport != w.transport || d.Class != w.class || d.Vendor != w.vendor || d.Model != w.model || d.Firmware != w.firmware {
			t.Errorf("%s: %+v\nwant transport %s class %s vendor %q model %q firmware %q", w.serial, d, w.transport, w.class, w.vendor, w.model, w.firmware)
		}
	}
	// rotation_rate=7200 on the second SATA disk; the first has qemu's default
	// rate 0 ("not reported"), which the kernel also treats as rotational.
	if d := bySerial["SATA-SER-0002"]; d.Rotational == nil || !*d.Rotational {
		t.Errorf("SATA-SER-0002 rotational %v, want true", d.Rotational)
	}
	if d := bySerial["NVME-SER-0001"]; d.Rotational == nil || *d.Rotational {
		t.Errorf("NVMe rotational %v, want false", d.Rotational)
	}
	t.Log("no WWN/EUI-64/NGUID: the NVMe wwid is the \"nvme.1b36-<serial>-<model>-<nsid>\" form and the SATA wwid the \"t10.ATA ...\" form, neither a WWN; qemu exposes eui/nguid only with eui64=/nguid= on the device, which the capture does not set")
}

func TestQEMULabNICsAndPCI(t *testing.T) {
	_, inv := qemuLabInventory(t)
	byDriver := map[string]NIC{}
	for _, n := range inv.NICs {
		byDriver[n.Driver] = n
	}
	if len(inv.NICs) != 2 {
		t.Errorf("%d NICs, want 2: %+v", len(inv.NICs), inv.NICs)
	}
	e := byDriver["e1000"]
	if e.PermanentMAC != "52:54:00:4c:41:01" || e.SpeedMbps == nil || *e.SpeedMbps != 1000 || e.MaxSpeedMbps == nil || *e.MaxSpeedMbps != 1000 ||
		e.Duplex != "full" || e.Carrier == nil || !*e.Carrier || e.PCIAddress == "" {
		t.Errorf("e1000 NIC = %+v", e)
	}
	v := byDriver["virtio_net"]
	if v.PermanentMAC != "52:54:00:4c:41:02" || v.SpeedMbps == nil || *v.SpeedMbps != 10000 || v.Duplex != "full" || v.PCIAddress == "" {
		t.Errorf("virtio NIC = %+v (speed=10000,duplex=full on the device)", v)
	}
	if v.MaxSpeedMbps != nil {
		t.Errorf("virtio NIC max speed %d: virtio_net lists no link modes, so it must stay unknown", *v.MaxSpeedMbps)
	}
	ids := map[string]int{}
	for _, p := range inv.PCI {
		ids[p.VendorID+":"+p.DeviceID]++
	}
	for id, n := range map[string]int{"1b36:0010": 2, "8086:2922": 1, "8086:100e": 1, "1af4:1000": 1, "1af4:1001": 1, "1af4:1004": 1} {
		if ids[id] != n {
			t.Errorf("PCI %s: %d functions, want %d (all: %v)", id, ids[id], n, ids)
		}
	}
}

func TestQEMULabSensors(t *testing.T) {
	_, inv := qemuLabInventory(t)
	if inv.Sensors == nil {
		t.Fatal("no sensors")
	}
	raised, clear := 0, 0
	for _, s := range inv.Sensors.Hwmon {
		if s.Chip != "nvme" || s.Label != "Composite" || s.Kind != "temp" {
			t.Errorf("unexpected sensor %s: qemu exposes hwmon for NVMe only", s.ID())
			continue
		}
		if s.Value < 40 || s.Value > 60 || s.Crit == nil || *s.Crit < 90 {
			t.Errorf("%s = %v °C crit %v", s.ID(), s.Value, s.Crit)
		}
		switch {
		case s.Alarm == nil:
		case *s.Alarm:
			raised++
		default:
			clear++
		}
	}
	// smart_critical_warning=2 (temperature) raises the alarm of exactly one controller.
	if raised != 1 || clear != 1 {
		t.Errorf("NVMe temperature alarms: %d raised, %d clear; want one of each", raised, clear)
	}
}

// TestQEMULabSMART replays the `smartctl -j -x` runs recorded inside the guest
// through SmartctlReader and the smartctl JSON parser. smart.go's ioctls need
// the live device nodes, which a snapshot cannot hold; the recorded runs are
// keyed by the guest's device paths.
func TestQEMULabSMART(t *testing.T) {
	env := unpackFixture(t, qemuLabSnapshot)
	replay := env.hostTools()
	if replay == nil {
		t.Fatal("fixture has no recorded tool runs")
	}
	sc := &SmartctlReader{Tools: replay}
	ctx := context.Background()
	read := func(dev string) *SmartReport {
		t.Helper()
		rep, err := sc.Read(ctx, dev)
		if err != nil {
			t.Fatalf("%s: %v", dev, err)
		}
		if rep.Source != SmartSourceSmartctl || rep.Smartctl == nil {
			t.Errorf("%s: source %q", dev, rep.Source)
		}
		return rep
	}

	ok := read("/dev/nvme0n1")
	if ok.Protocol != "nvme" || ok.Serial != "NVME-SER-0001" || ok.Health != SmartPassed || ok.HealthBasis != SmartBasisDevice ||
		ok.NVMe == nil || ok.NVMe.CriticalWarning != 0 || ok.TemperatureC == nil || ok.Smartctl.ExitStatus != 0 {
		t.Errorf("nvme0n1 = %+v", ok)
	}
	bad := read("/dev/nvme1n1")
	if bad.Serial != "NVME-SER-0002" || bad.Health != SmartFailed || bad.NVMe == nil || bad.NVMe.CriticalWarning != 0x02 ||
		!slices.Contains(bad.NVMe.CriticalWarnings, "temperature outside thresholds") || bad.Smartctl.ExitStatus != 8 {
		t.Errorf("nvme1n1 (smart_critical_warning=2) = %+v", bad)
	}
	// The two AHCI ports probe concurrently, so which disk is sda differs
	// from boot to boot: each is found by its serial.
	sata := map[string]*SmartReport{}
	for _, dev := range []string{"/dev/sda", "/dev/sdb"} {
		r := read(dev)
		sata[r.Serial] = r
	}
	for _, c := range []struct{ serial, model string }{{"SATA-SER-0001", "LabSATA-A"}, {"SATA-SER-0002", "LabSATA-B"}} {
		r := sata[c.serial]
		if r == nil {
			t.Errorf("no SATA disk with serial %s among sda, sdb", c.serial)
			continue
		}
		c := struct{ dev, serial, model string }{r.Device, c.serial, c.model}
		if r.Protocol != "ata" || r.Serial != c.serial || r.Model != c.model || r.Health != SmartPassed || r.ATA == nil {
			t.Errorf("%s = %+v", c.dev, r)
			continue
		}
		for _, id := range []int{ATAReallocatedSectors, ATAPowerOnHours, ATAAirflowTemperature} {
			if _, ok := r.ATAAttribute(id); !ok {
				t.Errorf("%s: attribute %d missing", c.dev, id)
			}
		}
		// qemu's ide-hd answers SMART READ DATA but not every log smartctl -x asks
		// for: exit bit 2, kept as a warning, not a verdict.
		if r.Smartctl.ExitStatus != 4 || len(r.Warnings) == 0 {
			t.Errorf("%s: exit %d warnings %v, want exit 4 with a warning", c.dev, r.Smartctl.ExitStatus, r.Warnings)
		}
	}
	// virtio-scsi scsi-hd: no SMART ("SMART support is: Unavailable", exit 4);
	// virtio-blk: smartctl cannot even tell the device type (exit 1).
	for _, dev := range []string{"/dev/sdc", "/dev/vda"} {
		if rep, err := sc.Read(ctx, dev); !errors.Is(err, ErrSmartUnreadable) {
			t.Errorf("%s: %+v, %v; want ErrSmartUnreadable", dev, rep, err)
		}
	}
	// A run that was not recorded is not invented.
	if _, err := sc.Read(ctx, "/dev/sdz"); !errors.Is(err, tool.ErrNotFound) {
		t.Errorf("unrecorded device: %v, want tool.ErrNotFound", err)
	}
}

// TestQEMULabLiveMatchesReplay compares what the agent reported live inside
// the guest (inventory.json, written by the snapshot command) with what the
// probes read back from the captured files: the snapshot must hold everything
// the identity fields came from.
func TestQEMULabLiveMatchesReplay(t *testing.T) {
	env, inv := qemuLabInventory(t)
	b, err := os.ReadFile(env.Path(SnapshotDir, "inventory.json"))
	if err != nil {
		t.Fatal(err)
	}
	var live Inventory
	if err := json.Unmarshal(b, &live); err != nil {
		t.Fatal(err)
	}
	type diskID struct{ Name, Serial, Model, Transport string }
	type nicID struct {
		Name, MAC, Driver string
		Speed             int
	}
	project := func(i *Inventory) (ids []any) {
		ids = append(ids, i.HostID, i.HostIDSource, *i.System)
		for _, d := range i.Disks {
			ids = append(ids, diskID{d.Name, d.Serial, d.Model, d.Transport})
		}
		for _, n := range i.NICs {
			s := -1
			if n.SpeedMbps != nil {
				s = *n.SpeedMbps
			}
			ids = append(ids, nicID{n.Name, n.PermanentMAC, n.Driver, s})
		}
		for _, d := range i.Memory.DIMMs {
			ids = append(ids, d.Locator+"/"+d.Serial)
		}
		return ids
	}
	if live.System == nil || live.Memory == nil {
		t.Fatalf("live inventory incomplete: %s", b[:min(len(b), 200)])
	}
	got, want := project(inv), project(&live)
	if len(got) != len(want) {
		t.Fatalf("replay %v\nlive   %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("replay %+v, live %+v", got[i], want[i])
		}
	}
}

// qemuLabLive is `shakedown-agent inventory --json` run in the same boot as the
// snapshot (capture-qemu-fixture.sh, LIVE_OUT): the live-system paths, where
// the NIC probe asks the kernel with SIOCETHTOOL ioctls. The snapshot instead
// runs and records `ethtool` and `ethtool -i` (the NIC probe does that while a
// snapshot is being recorded), which the replay parses.
const qemuLabLive = "testdata/snapshots/qemu-lab.live-inventory.json"

// TestQEMULabIoctlMatchesEthtool: on real kernel drivers (e1000, with link
// modes 10/100/1000baseT; virtio_net, speed and duplex only) the ioctl path
// and ethtool's output give the same NIC records, field by field.
func TestQEMULabIoctlMatchesEthtool(t *testing.T) {
	_, inv := qemuLabInventory(t)
	b, err := os.ReadFile(qemuLabLive)
	if err != nil {
		t.Fatal(err)
	}
	var live Inventory
	if err := json.Unmarshal(b, &live); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(live.NICs, inv.NICs); d != "" {
		t.Errorf("NICs, live ioctl (-) vs replayed ethtool (+):\n%s", d)
	}
	byDriver := map[string]NIC{}
	for _, n := range live.NICs {
		byDriver[n.Driver] = n
	}
	e := byDriver["e1000"]
	if e.SpeedMbps == nil || *e.SpeedMbps != 1000 || e.MaxSpeedMbps == nil || *e.MaxSpeedMbps != 1000 || e.Duplex != "full" || e.PermanentMAC != "52:54:00:4c:41:01" {
		t.Errorf("live e1000 = %+v, want 1000 Mb/s of at most 1000 (its link modes), full duplex, permanent MAC", e)
	}
	v := byDriver["virtio_net"]
	if v.SpeedMbps == nil || *v.SpeedMbps != 10000 || v.MaxSpeedMbps != nil || v.Duplex != "full" {
		t.Errorf("live virtio_net = %+v, want 10000 Mb/s, full duplex, no maximum (no link modes)", v)
	}
	// The rest of the live inventory agrees with the replay too.
	if live.HostID != inv.HostID || live.System == nil || *live.System != *inv.System || len(live.Disks) != len(inv.Disks) {
		t.Errorf("live host %s %+v, %d disks; replay %s %+v, %d disks", live.HostID, live.System, len(live.Disks), inv.HostID, inv.System, len(inv.Disks))
	}
}
