package collector

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shakedown/shakedown/collector/tool"
)

// buildDisks lays out an NVMe namespace, a SATA SSD behind AHCI, a virtio
// disk and the kinds of block devices the probe must skip.
func buildDisks(t *testing.T) *tree {
	tr := newTree(t)
	nvme := "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/nvme/nvme0"
	tr.file(nvme+"/serial", "S64HNE0T123456      \n").
		file(nvme+"/model", "SAMSUNG MZQL23T8HCLS-00A07              \n").
		file(nvme+"/firmware_rev", "GDC5602Q\n").
		file(nvme+"/nvme0n1/dev", "259:0\n").
		file(nvme+"/nvme0n1/size", "7501476528\n").
		file(nvme+"/nvme0n1/queue/logical_block_size", "512\n").
		file(nvme+"/nvme0n1/queue/physical_block_size", "4096\n").
		file(nvme+"/nvme0n1/queue/rotational", "0\n").
		file(nvme+"/nvme0n1/removable", "0\n").
		file(nvme+"/nvme0n1/ro", "0\n").
		file(nvme+"/nvme0n1/wwid", "eui.36344830541234560025384500000001\n").
		file(nvme+"/nvme0n1/eui", "00 25 38 8b 91 b3 e1 a2\n").
		file(nvme+"/nvme0n1/nguid", "36344830-5412-3456-0025-384500000001\n").
		link(nvme+"/nvme0n1/device", "../../nvme0").
		file("/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/vendor", "0x144d\n").
		link(nvme+"/device", "../../../0000:01:00.0").
		link("/sys/block/nvme0n1", "../devices/pci0000:00/0000:00:01.0/0000:01:00.0/nvme/nvme0/nvme0n1").
		link("/sys/class/nvme/nvme0", "../../devices/pci0000:00/0000:00:01.0/0000:01:00.0/nvme/nvme0")
	sd := "/sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0"
	vpd := append([]byte{0x00, 0x80, 0x00, 0x14}, []byte("     S3Z9NB0K123456A")...)
	tr.file(sd+"/model", "Samsung SSD 860  \n").
		file(sd+"/vendor", "ATA     \n").
		file(sd+"/rev", "4B6Q\n").
		bytes(sd+"/vpd_pg80", vpd).
		file(sd+"/wwid", "naa.5002538e40a1b2c3\n").
		file(sd+"/block/sda/dev", "8:0\n").
		file(sd+"/block/sda/size", "1953525168\n").
		file(sd+"/block/sda/queue/logical_block_size", "512\n").
		file(sd+"/block/sda/queue/physical_block_size", "512\n").
		file(sd+"/block/sda/queue/rotational", "0\n").
		link(sd+"/block/sda/device", "../../../0:0:0:0").
		link("/sys/block/sda", "../devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda")
	vd := "/sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda"
	tr.file(vd+"/dev", "254:0\n").file(vd+"/size", "536870912\n").file(vd+"/serial", "overlayblk1").
		file(vd+"/queue/rotational", "1\n").file("/sys/devices/pci0000:00/0000:00:02.0/virtio1/vendor", "0x1af4\n").
		link(vd+"/device", "../../../virtio1").
		link("/sys/block/vda", "../devices/pci0000:00/0000:00:02.0/virtio1/block/vda")
	for _, n := range []string{"loop0", "zram0", "dm-0", "md127", "ram0", "nbd0"} {
		tr.file("/sys/devices/virtual/block/"+n+"/dev", "7:0\n").link("/sys/block/"+n, "../devices/virtual/block/"+n)
	}
	// NVMe multipath path device: hidden.
	tr.file("/sys/devices/virtual/nvme-subsystem/nvme-subsys0/nvme0c0n1/hidden", "1\n").
		link("/sys/block/nvme0c0n1", "../devices/virtual/nvme-subsystem/nvme-subsys0/nvme0c0n1")
	return tr
}

func TestDisksSysfsOnly(t *testing.T) {
	tr := buildDisks(t)
	inv, st := collectOne(t, tr.env(), "disks")
	if !st.OK {
		t.Fatalf("probe: %+v", st)
	}
	want := []Disk{
		{Name: "nvme0n1", DevT: "259:0", SizeBytes: 7501476528 * 512, LogicalSectorSize: 512, PhysicalSectorSize: 4096,
			Rotational: ptr(false), Transport: "nvme", Class: "nvme", Vendor: "pci:0x144d", Model: "SAMSUNG MZQL23T8HCLS-00A07",
			Serial: "S64HNE0T123456", WWN: "eui.36344830541234560025384500000001", EUI64: "0025388b91b3e1a2",
			NGUID: "36344830541234560025384500000001", Firmware: "GDC5602Q", IdentitySource: "sysfs"},
		{Name: "sda", DevT: "8:0", SizeBytes: 1953525168 * 512, LogicalSectorSize: 512, PhysicalSectorSize: 512,
			Rotational: ptr(false), Transport: "sata", Class: "ssd", Vendor: "ATA", Model: "Samsung SSD 860",
			Serial: "S3Z9NB0K123456A", WWN: "0x5002538e40a1b2c3", Firmware: "4B6Q", IdentitySource: "sysfs"},
		{Name: "vda", DevT: "254:0", SizeBytes: 536870912 * 512, Rotational: ptr(true), Transport: "virtio",
			Class: "hdd", Serial: "overlayblk1", IdentitySource: "sysfs"},
	}
	if d := cmp.Diff(want, inv.Disks); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestDisksUdevWins(t *testing.T) {
	tr := buildDisks(t)
	tr.file("/run/udev/data/b8:0", udevSATA).file("/run/udev/data/b259:0", udevNVMe)
	inv, _ := collectOne(t, tr.env(), "disks")
	byName := map[string]Disk{}
	for _, d := range inv.Disks {
		byName[d.Name] = d
	}
	sda := byName["sda"]
	if sda.IdentitySource != "udev" || sda.Model != "Samsung SSD 860 EVO 1TB" || sda.Firmware != "RVT04B6Q" ||
		sda.Serial != "S3Z9NB0K123456A" || sda.WWN != "0x5002538e40a1b2c3" || sda.Vendor != "ATA" {
		t.Errorf("sda with udev = %+v", sda)
	}
	nv := byName["nvme0n1"]
	if nv.IdentitySource != "udev" || nv.Serial != "S64HNE0T123456" || nv.EUI64 != "0025388b91b3e1a2" || nv.NGUID == "" || nv.Vendor != "pci:0x144d" {
		t.Errorf("nvme with udev = %+v", nv)
	}
	if byName["vda"].IdentitySource != "sysfs" {
		t.Errorf("vda has no udev record, want sysfs identity: %+v", byName["vda"])
	}
}

// buildNIC lays out a 10GBASE-T ixgbe port that negotiated 1 Gb/s, plus lo.
func buildNIC(t *testing.T) *tree {
	tr := newTree(t)
	dev := "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0"
	net := dev + "/net/enp1s0f0"
	tr.file(net+"/address", "a0:36:9f:12:34:56\n").file(net+"/addr_assign_type", "0\n").
		file(net+"/carrier", "1\n").file(net+"/operstate", "up\n").file(net+"/speed", "1000\n").
		file(net+"/duplex", "full\n").file(net+"/mtu", "9000\n").
		link(net+"/device", "../../../0000:01:00.0").
		link(dev+"/driver", "../../../../bus/pci/drivers/ixgbe").
		link("/sys/class/net/enp1s0f0", "../../devices/pci0000:00/0000:00:01.0/0000:01:00.0/net/enp1s0f0").
		file("/sys/devices/virtual/net/lo/address", "00:00:00:00:00:00\n").
		link("/sys/class/net/lo", "../../devices/virtual/net/lo")
	return tr
}

func TestNICOneGigOnTenGigPort(t *testing.T) {
	tr := buildNIC(t)
	tr.recordTool("ethtool", []string{"enp1s0f0"}, "testdata/tools/ethtool/ixgbe-10g-port-at-1g.txt").
		recordTool("ethtool", []string{"-i", "enp1s0f0"}, "testdata/tools/ethtool/ixgbe-10g-port-at-1g-i.txt")
	inv, st := collectOne(t, tr.env(), "nics")
	if !st.OK {
		t.Fatalf("probe: %+v", st)
	}
	want := []NIC{{Name: "enp1s0f0", MAC: "a0:36:9f:12:34:56", PermanentMAC: "a0:36:9f:12:34:56", Driver: "ixgbe",
		DriverVersion: "6.1.0-27-amd64", Firmware: "0x800003df, 1.2074.0", PCIAddress: "0000:01:00.0", OperState: "up",
		Carrier: ptr(true), SpeedMbps: ptr(1000), MaxSpeedMbps: ptr(10000), Duplex: "full", MTU: ptr(9000)}}
	if d := cmp.Diff(want, inv.NICs); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestNICWithoutTools(t *testing.T) {
	tr := buildNIC(t)
	inv, _ := collectOne(t, tr.env(), "nics")
	if len(inv.NICs) != 1 {
		t.Fatalf("NICs = %+v (lo must be skipped)", inv.NICs)
	}
	n := inv.NICs[0]
	if n.MaxSpeedMbps != nil || n.Firmware != "" || n.SpeedMbps == nil || *n.SpeedMbps != 1000 || n.Driver != "ixgbe" {
		t.Errorf("without ethtool: max speed and firmware must be unknown, sysfs values kept: %+v", n)
	}
}

func TestMemoryAndDMIFromSMBIOS(t *testing.T) {
	tr := newTree(t)
	tr.file("/proc/meminfo", "MemTotal:       98765432 kB\nMemFree:         1234 kB\n").
		bytes("/sys/firmware/dmi/tables/DMI", sampleSMBIOS()).
		file("/sys/class/dmi/id/sys_vendor", "Dell Inc.\n").
		file("/sys/class/dmi/id/product_name", "PowerEdge R650\n").
		file("/sys/class/dmi/id/product_uuid", "00000000-0000-0000-0000-000000000000\n").
		file("/sys/class/dmi/id/chassis_type", "23\n").
		file("/sys/class/dmi/id/board_serial", "To be filled by O.E.M.\n")
	inv, err := CollectWith(context.Background(), tr.env(), probesNamed(t, "memory", "dmi"))
	if err != nil {
		t.Fatal(err)
	}
	m := inv.Memory
	if m == nil || m.TotalBytes != 98765432*1024 || len(m.DIMMs) != 2 || m.InstalledBytes == nil || *m.InstalledBytes != 80<<30 || m.ECC == nil || !*m.ECC {
		t.Fatalf("memory = %+v", m)
	}
	s := inv.System
	// sysfs's all-zero UUID is junk: the SMBIOS table's real one is used; the
	// board serial placeholder in sysfs gives way to the table's value.
	if s == nil || s.UUID != "4c4c4544-0039-5310-8035-b4c04f393132" || s.BoardSerial != ".9S5Q912.CNCMS0023B00R3." ||
		s.ChassisType != "Rack Mount Chassis" || s.ChassisAssetTag != "" || s.Serial != "9S5Q912" {
		t.Fatalf("system = %+v", s)
	}
	if inv.HostID != s.UUID || inv.HostIDSource != "dmi-uuid" {
		t.Errorf("host id = %q (%s)", inv.HostID, inv.HostIDSource)
	}
}

func TestMemoryWithoutSMBIOS(t *testing.T) {
	tr := newTree(t).file("/proc/meminfo", "MemTotal:       1024 kB\n")
	inv, st := collectOne(t, tr.env(), "memory")
	if !st.OK || inv.Memory.TotalBytes != 1<<20 || inv.Memory.InstalledBytes != nil || len(inv.Memory.DIMMs) != 0 || inv.Memory.ECC != nil {
		t.Errorf("memory without SMBIOS = %+v, %+v", inv.Memory, st)
	}
}

func TestAbsentAreas(t *testing.T) {
	inv, err := Collect(context.Background(), Env{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if inv.CPU != nil || inv.Memory != nil || inv.System != nil || len(inv.Disks) != 0 || inv.HostID != "" {
		t.Errorf("empty root gave data: %+v", inv)
	}
	if len(inv.Probes) != len(Probes()) {
		t.Fatalf("probes %d, registered %d", len(inv.Probes), len(Probes()))
	}
	for _, p := range inv.Probes {
		if p.OK && p.Name != "gpu" && p.Name != "sensors" {
			t.Errorf("probe %s says ok on an empty root", p.Name)
		}
		if !p.OK && p.Error == "" {
			t.Errorf("probe %s failed without a reason", p.Name)
		}
	}
}

func TestHostID(t *testing.T) {
	nics := []NIC{{PermanentMAC: "b0:00:00:00:00:02"}, {PermanentMAC: "a0:00:00:00:00:01"}, {PermanentMAC: ""}}
	for _, tc := range []struct {
		name     string
		inv      Inventory
		id, from string
	}{
		{"uuid", Inventory{System: &System{UUID: "4C4C4544-0039-5310-8035-B4C04F393132", ChassisSerial: "X"}}, "4c4c4544-0039-5310-8035-b4c04f393132", "dmi-uuid"},
		{"ffff uuid -> chassis", Inventory{System: &System{UUID: "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", ChassisSerial: "CZ1234", BoardSerial: "B"}}, "CZ1234", "chassis-serial"},
		{"junk chassis -> board", Inventory{System: &System{ChassisSerial: "Not Settable", BoardSerial: "MB123"}}, "MB123", "board-serial"},
		{"AMI placeholder uuid -> mac", Inventory{System: &System{UUID: "03000200-0400-0500-0006-000700080009", BoardSerial: "Default string"}, NICs: nics}, "a0:00:00:00:00:01", "mac"},
		{"hostname", Inventory{Hostname: "pve3"}, "pve3", "hostname"},
		{"nothing", Inventory{}, "", ""},
	} {
		id, from := HostID(&tc.inv)
		if id != tc.id || from != tc.from {
			t.Errorf("%s: HostID = %q (%s), want %q (%s)", tc.name, id, from, tc.id, tc.from)
		}
	}
}

func TestGPUFromNvidiaSMIReplay(t *testing.T) {
	tr := newTree(t)
	for _, g := range []struct{ addr, modalias string }{
		{"0000:04:00.0", "pci:v000010DEd000015F7sv000010DEsd000011DAbc03sc02i00"},
		{"0000:82:00.0", "pci:v000010DEd000015F7sv000010DEsd000011DAbc03sc02i00"},
		{"0000:03:00.0", "pci:v00001A03d00002000sv00001A03sd00002000bc03sc00i00"}, // ASPEED BMC VGA
	} {
		d := "/sys/devices/pci0000:00/" + g.addr
		tr.file(d+"/modalias", g.modalias).file(d+"/vendor", "0x"+g.modalias[9:13]+"\n").
			file(d+"/class", "0x03"+g.modalias[48:50]+"00\n").
			link("/sys/bus/pci/devices/"+g.addr, "../../../devices/pci0000:00/"+g.addr)
	}
	tr.recordTool("nvidia-smi", []string{"-q", "-x"}, "testdata/tools/nvidia-smi/hadoop-2x-p100-v8.xml")
	inv, st := collectOne(t, tr.env(), "gpu")
	if !st.OK {
		t.Fatalf("probe: %+v", st)
	}
	if len(inv.GPUs) != 2 {
		t.Fatalf("GPUs = %+v (the ASPEED BMC VGA must not count)", inv.GPUs)
	}
	g := inv.GPUs[1]
	if g.PCIAddress != "0000:82:00.0" || g.Serial != "0320717031755" || g.Source != "nvidia-smi" || g.Vendor != "NVIDIA Corporation" ||
		g.MemoryBytes == nil || *g.MemoryBytes != 12290<<20 || g.Index != 1 {
		t.Errorf("GPU 1 = %+v", g)
	}
	// Without the recording the accelerator is still found, by ghw, without serials.
	tr2 := newTree(t)
	d := "/sys/devices/pci0000:00/0000:04:00.0"
	tr2.file(d+"/modalias", "pci:v000010DEd000015F7sv000010DEsd000011DAbc03sc02i00").
		link("/sys/bus/pci/devices/0000:04:00.0", "../../../devices/pci0000:00/0000:04:00.0")
	inv, _ = collectOne(t, tr2.env(), "gpu")
	if len(inv.GPUs) != 1 || inv.GPUs[0].Source != "ghw" || inv.GPUs[0].Serial != "" || inv.GPUs[0].Model == "" {
		t.Errorf("ghw-only GPU = %+v", inv.GPUs)
	}
}

func probesNamed(t *testing.T, names ...string) []Probe {
	t.Helper()
	var out []Probe
	for _, n := range names {
		found := false
		for _, p := range Probes() {
			if p.Name() == n {
				out = append(out, p)
				found = true
			}
		}
		if !found {
			t.Fatalf("no probe %q", n)
		}
	}
	return out
}

// TestHungToolCostsOnlyItsValue: a tool run that never ends is cut by its
// timeout and the probe keeps everything sysfs gave.
func TestHungToolCostsOnlyItsValue(t *testing.T) {
	old := toolTimeouts["ethtool"]
	toolTimeouts["ethtool"] = 50 * time.Millisecond
	t.Cleanup(func() { toolTimeouts["ethtool"] = old })
	fake := &tool.Fake{}
	fake.Add(tool.Rule{Tool: "ethtool", Func: func(ctx context.Context, c tool.Cmd) (tool.Output, error) {
		if c.Timeout <= 0 {
			t.Errorf("ethtool run without a timeout: %+v", c)
			return tool.Output{}, errors.New("no timeout")
		}
		ctx, cancel := context.WithTimeout(ctx, c.Timeout)
		defer cancel()
		<-ctx.Done()
		return tool.Output{ExitCode: -1, Signal: "killed"}, ctx.Err()
	}})
	n := readNIC(context.Background(), buildNIC(t).env(), "enp1s0f0", runnerEthtool{tools: fake})
	if n.SpeedMbps == nil || *n.SpeedMbps != 1000 || n.Driver != "ixgbe" || n.MaxSpeedMbps != nil || n.Firmware != "" {
		t.Errorf("NIC after hung ethtool = %+v", n)
	}
	if len(fake.Calls) != 2 {
		t.Errorf("ethtool calls = %d, want 2 (-P is skipped: addr_assign_type says permanent)", len(fake.Calls))
	}
}

func TestManyNICsSortedAndComplete(t *testing.T) {
	tr := newTree(t)
	var want []string
	for i := 11; i >= 0; i-- {
		name := fmt.Sprintf("eno%d", i)
		dev := fmt.Sprintf("/sys/devices/pci0000:00/0000:00:1c.0/0000:%02x:00.0", i+1)
		tr.file(dev+"/net/"+name+"/address", fmt.Sprintf("a0:36:9f:00:00:%02x\n", i)).
			file(dev+"/net/"+name+"/addr_assign_type", "0\n").
			link(dev+"/net/"+name+"/device", "../../../"+filepath.Base(dev)).
			link("/sys/class/net/"+name, "../../devices/pci0000:00/0000:00:1c.0/"+filepath.Base(dev)+"/net/"+name)
		want = append(want, name)
	}
	sort.Strings(want)
	inv, st := collectOne(t, tr.env(), "nics")
	if !st.OK || len(inv.NICs) != len(want) {
		t.Fatalf("nics %d, status %+v", len(inv.NICs), st)
	}
	for i, n := range inv.NICs {
		if n.Name != want[i] || n.PCIAddress == "" || n.PermanentMAC != n.MAC {
			t.Errorf("nic %d = %+v, want name %s", i, n, want[i])
		}
	}
	if inv.HostID != "a0:36:9f:00:00:00" || inv.HostIDSource != "mac" {
		t.Errorf("host id %q (%s): lowest permanent MAC expected", inv.HostID, inv.HostIDSource)
	}
}
