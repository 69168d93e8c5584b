package collector

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/shakedown/shakedown/collector/tool"
)

const devVMSnapshot = "testdata/snapshots/qemu-virtio-epyc-2cpu.tar.gz"

// unpackFixture unpacks a committed snapshot into a temp dir and returns it as an Env.
func unpackFixture(t testing.TB, name string) Env {
	t.Helper()
	dir := t.TempDir()
	if err := UnpackSnapshotFile(name, dir); err != nil {
		t.Fatal(err)
	}
	return Env{Root: dir}
}

// TestCommittedSnapshot reads the masked snapshot of the development VM
// (KVM, 2 vCPU AMD EPYC, virtio disk and NIC, no DMI, no udev) and checks
// what it must say about that machine.
func TestCommittedSnapshot(t *testing.T) {
	env := unpackFixture(t, devVMSnapshot)
	inv, err := Collect(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	if inv.CPU == nil || inv.CPU.Model != "AMD EPYC" || inv.CPU.Threads != 2 || inv.CPU.Sockets != 1 || len(inv.CPU.Flags) < 50 {
		t.Errorf("cpu = %+v", inv.CPU)
	}
	if inv.Memory == nil || inv.Memory.TotalBytes < 20<<30 || inv.Memory.InstalledBytes != nil {
		t.Errorf("memory = %+v", inv.Memory)
	}
	if inv.System != nil {
		t.Errorf("the VM has no DMI, got %+v", inv.System)
	}
	if len(inv.Disks) != 1 || inv.Disks[0].Name != "vda" || inv.Disks[0].Transport != "virtio" || inv.Disks[0].SizeBytes != 256<<30 ||
		inv.Disks[0].Serial == "" || inv.Disks[0].IdentitySource != "sysfs" {
		t.Errorf("disks = %+v (loop and zram devices must be skipped)", inv.Disks)
	}
	if len(inv.NICs) != 1 || inv.NICs[0].Name != "eth0" || inv.NICs[0].Driver != "virtio_net" || inv.NICs[0].PCIAddress != "0000:00:03.0" ||
		inv.NICs[0].SpeedMbps != nil || inv.NICs[0].PermanentMAC == "" {
		t.Errorf("nics = %+v (ifb and lo are virtual)", inv.NICs)
	}
	if len(inv.PCI) != 6 {
		t.Errorf("pci = %d devices", len(inv.PCI))
	}
	named := 0
	for _, p := range inv.PCI {
		if p.Vendor != "" {
			named++
		}
	}
	if named < 5 {
		t.Errorf("only %d of %d PCI devices have vendor names", named, len(inv.PCI))
	}
	if len(inv.GPUs) != 0 || inv.NUMA == nil || len(inv.NUMA.Nodes) != 1 || len(inv.NUMA.Nodes[0].CPUs) != 2 {
		t.Errorf("gpus %+v numa %+v", inv.GPUs, inv.NUMA)
	}
	if inv.HostIDSource != "mac" || inv.HostID != inv.NICs[0].PermanentMAC {
		t.Errorf("host id %q from %q", inv.HostID, inv.HostIDSource)
	}
	if inv.Hostname != "masked-host" {
		t.Errorf("hostname %q: the committed snapshot must be masked", inv.Hostname)
	}
}

// TestSnapshotRoundTrip snapshots a hand-built tree (DMI, SMBIOS, NVMe,
// SATA, udev, a NIC with recorded ethtool output), unpacks it and checks that
// the inventory read back is the same, and that --mask changes exactly the
// identity values, keeping their shape.
func TestSnapshotRoundTrip(t *testing.T) {
	tr := buildDisks(t)
	tr.file("/run/udev/data/b8:0", udevSATA).
		file("/proc/meminfo", "MemTotal:       98765432 kB\n").
		bytes("/sys/firmware/dmi/tables/DMI", sampleSMBIOS()).
		file("/sys/class/dmi/id/product_uuid", "4c4c4544-0039-5310-8035-b4c04f393132\n").
		file("/sys/class/dmi/id/product_serial", "9S5Q912\n").
		file("/proc/sys/kernel/hostname", "pve-node-07\n")
	nic := buildNIC(t)
	copyTree(t, nic.root, tr.root)
	tr.recordTool("ethtool", []string{"enp1s0f0"}, "testdata/tools/ethtool/ixgbe-10g-port-at-1g.txt").
		recordTool("ethtool", []string{"-i", "enp1s0f0"}, "testdata/tools/ethtool/ixgbe-10g-port-at-1g-i.txt")
	env := tr.env()
	env.Tools = &tool.Fake{} // never used: the tree is not the live root
	orig, err := Collect(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	ignore := cmpopts.IgnoreFields(Inventory{}, "CollectedAt", "Probes")

	for _, mask := range []bool{false, true} {
		var buf bytes.Buffer
		st, err := Snapshot(context.Background(), env, &buf, SnapshotOptions{Mask: mask, MaskKey: "k"})
		if err != nil {
			t.Fatal(err)
		}
		if st.Links == 0 || st.Files == 0 {
			t.Fatalf("snapshot stats %+v", st)
		}
		dir := t.TempDir()
		if err := UnpackSnapshot(&buf, dir); err != nil {
			t.Fatal(err)
		}
		got, err := Collect(context.Background(), Env{Root: dir})
		if err != nil {
			t.Fatal(err)
		}
		if !mask {
			if d := cmp.Diff(orig, got, ignore); d != "" {
				t.Errorf("unmasked round trip differs (-orig +snapshot):\n%s", d)
			}
			continue
		}
		// Masked: same inventory once identity fields are ignored...
		idFields := cmp.Options{ignore,
			cmpopts.IgnoreFields(Inventory{}, "HostID", "Hostname"),
			cmpopts.IgnoreFields(System{}, "Serial", "UUID", "BoardSerial", "ChassisSerial"),
			cmpopts.IgnoreFields(DIMM{}, "Serial"),
			cmpopts.IgnoreFields(Disk{}, "Serial", "WWN", "EUI64", "NGUID"),
			cmpopts.IgnoreFields(NIC{}, "MAC", "PermanentMAC")}
		if d := cmp.Diff(orig, got, idFields); d != "" {
			t.Errorf("masked round trip differs beyond identity fields (-orig +snapshot):\n%s", d)
		}
		// ...and every identity value replaced by one of the same shape.
		pairs := [][2]string{
			{orig.System.UUID, got.System.UUID}, {orig.System.Serial, got.System.Serial},
			{orig.System.BoardSerial, got.System.BoardSerial},
			{orig.Memory.DIMMs[0].Serial, got.Memory.DIMMs[0].Serial},
			{orig.NICs[0].MAC, got.NICs[0].MAC}, {orig.HostID, got.HostID},
		}
		for i, d := range orig.Disks {
			pairs = append(pairs, [2]string{d.Serial, got.Disks[i].Serial}, [2]string{d.WWN, got.Disks[i].WWN},
				[2]string{d.EUI64, got.Disks[i].EUI64}, [2]string{d.NGUID, got.Disks[i].NGUID})
		}
		for _, p := range pairs {
			if p[0] == "" {
				continue
			}
			if p[0] == p[1] || shape(p[0]) != shape(p[1]) {
				t.Errorf("masked %q -> %q: must change and keep its shape", p[0], p[1])
			}
		}
		if got.NICs[0].MAC[:9] != orig.NICs[0].MAC[:9] {
			t.Errorf("MAC OUI must be kept: %s -> %s", orig.NICs[0].MAC, got.NICs[0].MAC)
		}
		if got.HostIDSource != "dmi-uuid" || got.HostID != got.System.UUID || got.Hostname != "masked-host" {
			t.Errorf("masked host id %q (%s), hostname %q", got.HostID, got.HostIDSource, got.Hostname)
		}
		raw := readTree(t, dir)
		for _, secret := range []string{"9S5Q912", "S3Z9NB0K123456A", "S64HNE0T123456", "a0:36:9f:12:34:56", "5002538e40a1b2c3", "pve-node-07", "4c4c4544-0039"} {
			if strings.Contains(raw, secret) {
				t.Errorf("masked snapshot still contains %q", secret)
			}
		}
	}
}

// shape is what masking keeps: separators and length always; for hex
// values every hex digit is "h"; otherwise digits are 9 and letters a/A.
func shape(s string) string {
	if body := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "eui."); isHex([]byte(regexp.MustCompile(`[-:. ]`).ReplaceAllString(body, ""))) {
		return s[:len(s)-len(body)] + regexp.MustCompile(`[0-9a-fA-F]`).ReplaceAllString(body, "h")
	}
	s = regexp.MustCompile(`[0-9]`).ReplaceAllString(s, "9")
	s = regexp.MustCompile(`[a-z]`).ReplaceAllString(s, "a")
	return regexp.MustCompile(`[A-Z]`).ReplaceAllString(s, "A")
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		case fi.IsDir():
			return os.MkdirAll(dst, 0o755)
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, b, 0o644)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

func readTree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			c, _ := os.ReadFile(p)
			b.Write(c)
			b.WriteString(p)
		}
		return nil
	})
	return b.String()
}

func TestUnpackRefusesEscapes(t *testing.T) {
	for _, tc := range []struct {
		name, target string
		escapes      bool
	}{
		{"/sys/class/net/eth0", "../../devices/pci0000:00/net/eth0", false},
		{"/sys/block/sda", "../../../etc/passwd", true},
		{"/a", "/etc/passwd", true},
		{"/a/b/c", "../../x", false},
	} {
		if got := linkEscapes(tc.name, tc.target); got != tc.escapes {
			t.Errorf("linkEscapes(%q, %q) = %v", tc.name, tc.target, got)
		}
	}
}
