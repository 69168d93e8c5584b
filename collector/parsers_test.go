package collector

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// udevSATA is a udev database record of a SATA SSD as systemd-udevd 252
// (Debian 12) writes it; the NVMe one below likewise.
const udevSATA = `S:disk/by-id/ata-Samsung_SSD_860_EVO_1TB_S3Z9NB0K123456A
S:disk/by-id/wwn-0x5002538e40a1b2c3
S:disk/by-path/pci-0000:00:17.0-ata-1.0
S:disk/by-path/pci-0000:00:17.0-ata-1
W:4
I:2847139
E:ID_ATA=1
E:ID_TYPE=disk
E:ID_BUS=ata
E:ID_MODEL=Samsung_SSD_860_EVO_1TB
E:ID_MODEL_ENC=Samsung\x20SSD\x20860\x20EVO\x201TB\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20
E:ID_REVISION=RVT04B6Q
E:ID_SERIAL=Samsung_SSD_860_EVO_1TB_S3Z9NB0K123456A
E:ID_SERIAL_SHORT=S3Z9NB0K123456A
E:ID_ATA_ROTATION_RATE_RPM=0
E:ID_WWN=0x5002538e40a1b2c3
E:ID_WWN_WITH_EXTENSION=0x5002538e40a1b2c3
E:ID_PATH=pci-0000:00:17.0-ata-1.0
E:ID_PATH_TAG=pci-0000_00_17_0-ata-1_0
E:ID_PART_TABLE_TYPE=gpt
G:systemd
Q:systemd
V:1
`

const udevNVMe = `S:disk/by-id/nvme-eui.0025388b91b3e1a2
S:disk/by-id/nvme-SAMSUNG_MZQL23T8HCLS-00A07_S64HNE0T123456
W:9
I:1733391
E:ID_SERIAL_SHORT=S64HNE0T123456
E:ID_WWN=eui.36344830541234560025384500000001
E:ID_MODEL=SAMSUNG MZQL23T8HCLS-00A07
E:ID_REVISION=GDC5602Q
E:ID_SERIAL=SAMSUNG_MZQL23T8HCLS-00A07_S64HNE0T123456
E:ID_PATH=pci-0000:c1:00.0-nvme-1
E:ID_NSID=1
G:systemd
`

func TestParseUdevDB(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want udevIdentity
	}{
		{"sata", udevSATA, udevIdentity{Model: "Samsung SSD 860 EVO 1TB", Serial: "S3Z9NB0K123456A",
			WWN: "0x5002538e40a1b2c3", Firmware: "RVT04B6Q", Bus: "ata", Path: "pci-0000:00:17.0-ata-1.0"}},
		{"nvme", udevNVMe, udevIdentity{Model: "SAMSUNG MZQL23T8HCLS-00A07", Serial: "S64HNE0T123456",
			WWN: "eui.36344830541234560025384500000001", Firmware: "GDC5602Q", Path: "pci-0000:c1:00.0-nvme-1"}},
		{"empty", "", udevIdentity{}},
		{"no properties", "S:disk/by-id/x\nG:systemd\n", udevIdentity{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parseUdevDB(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, identityFromUdev(p)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func FuzzParseUdevDB(f *testing.F) {
	f.Add(udevSATA)
	f.Add(udevNVMe)
	f.Add("E:=x\nE:ID_MODEL_ENC=\\x2\\x\n")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseUdevDB(strings.NewReader(s))
		if err != nil {
			return
		}
		_ = identityFromUdev(p)
	})
}

func TestParseEthtool(t *testing.T) {
	for _, tc := range []struct {
		file string
		want ethtoolSettings
	}{
		{"ixgbe-10g-port-at-1g.txt", ethtoolSettings{
			SupportedModes: []string{"100baseT/Full", "1000baseT/Full", "10000baseT/Full", "2500baseT/Full", "5000baseT/Full"},
			SpeedMbps:      ptr(1000), Duplex: "full", LinkDetected: ptr(true), MaxSpeedMbps: ptr(10000)}},
		{"igb-link-down.txt", ethtoolSettings{
			SupportedModes: []string{"10baseT/Half", "10baseT/Full", "100baseT/Half", "100baseT/Full", "1000baseT/Full"},
			LinkDetected:   ptr(false), MaxSpeedMbps: ptr(1000)}},
		{"virtio-eth0.txt", ethtoolSettings{LinkDetected: ptr(true)}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := parseEthtoolSettings(openTestdata(t, "tools/ethtool/"+tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	di, err := parseEthtoolDriverInfo(openTestdata(t, "tools/ethtool/ixgbe-10g-port-at-1g-i.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(ethtoolDriverInfo{Driver: "ixgbe", Version: "6.1.0-27-amd64", Firmware: "0x800003df, 1.2074.0", BusInfo: "0000:01:00.0"}, di); d != "" {
		t.Errorf("driver info (-want +got):\n%s", d)
	}
	vi, _ := parseEthtoolDriverInfo(openTestdata(t, "tools/ethtool/virtio-eth0-i.txt"))
	if vi.Driver != "virtio_net" || vi.Firmware != "" || vi.BusInfo != "0000:00:03.0" {
		t.Errorf("virtio driver info = %+v", vi)
	}
	pm, _ := parseEthtoolPermAddr(openTestdata(t, "tools/ethtool/virtio-eth0-P.txt"))
	if pm != "02:fc:00:00:00:01" {
		t.Errorf("permanent address = %q", pm)
	}
	if pm, _ := parseEthtoolPermAddr(strings.NewReader("Permanent address: 00:00:00:00:00:00\n")); pm != "" {
		t.Errorf("all-zero permanent address must be absent, got %q", pm)
	}
}

func FuzzParseEthtool(f *testing.F) {
	for _, n := range []string{"ixgbe-10g-port-at-1g.txt", "igb-link-down.txt", "virtio-eth0.txt", "ixgbe-10g-port-at-1g-i.txt"} {
		b, err := os.ReadFile("testdata/tools/ethtool/" + n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		st, err := parseEthtoolSettings(strings.NewReader(s))
		if err == nil && st.MaxSpeedMbps != nil && *st.MaxSpeedMbps <= 0 {
			t.Fatalf("non-positive max speed %d", *st.MaxSpeedMbps)
		}
		_, _ = parseEthtoolDriverInfo(strings.NewReader(s))
		_, _ = parseEthtoolPermAddr(strings.NewReader(s))
	})
}

// nvsmiModern is the shape of a current driver's `nvidia-smi -q -x`
// (nvsmi_device_v12.dtd: 8-digit PCI domain, N/A serials on consumer cards,
// reserved framebuffer).
const nvsmiModern = `<?xml version="1.0" ?>
<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v12.dtd">
<nvidia_smi_log>
	<timestamp>Fri Oct 18 10:13:00 2024</timestamp>
	<driver_version>560.35.03</driver_version>
	<cuda_version>12.6</cuda_version>
	<attached_gpus>1</attached_gpus>
	<gpu id="00000000:3B:00.0">
		<product_name>NVIDIA H100 80GB HBM3</product_name>
		<serial>N/A</serial>
		<uuid>GPU-5e0c1f5a-3b2d-4d8e-9a6f-1c2d3e4f5a6b</uuid>
		<minor_number>0</minor_number>
		<vbios_version>96.00.99.00.01</vbios_version>
		<pci>
			<pci_bus>3B</pci_bus>
			<pci_bus_id>00000000:3B:00.0</pci_bus_id>
		</pci>
		<fb_memory_usage>
			<total>81559 MiB</total>
			<reserved>579 MiB</reserved>
			<used>0 MiB</used>
			<free>80979 MiB</free>
		</fb_memory_usage>
	</gpu>
</nvidia_smi_log>
`

func TestParseNvidiaSMI(t *testing.T) {
	drv, gpus, err := parseNvidiaSMI(openTestdata(t, "tools/nvidia-smi/hadoop-2x-p100-v8.xml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []nvidiaGPU{
		{PCIAddress: "0000:04:00.0", Model: "Tesla P100-PCIE-12GB", Serial: "0320717030197",
			UUID: "GPU-28604e81-21ec-cc48-6759-bf2648b22e16", VBIOS: "86.00.3A.00.02", MemoryBytes: ptr(uint64(11567) << 20), Minor: ptr(0)},
		{PCIAddress: "0000:82:00.0", Model: "Tesla P100-PCIE-12GB_2", Serial: "0320717031755",
			UUID: "GPU-46915a82-3fd2-8e11-ae26-a80b607c04f3", VBIOS: "86.00.3A.00.02", MemoryBytes: ptr(uint64(12290) << 20), Minor: ptr(1)},
	}
	if drv != "375.66" {
		t.Errorf("driver %q", drv)
	}
	if d := cmp.Diff(want, gpus); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	_, gpus, err = parseNvidiaSMI(strings.NewReader(nvsmiModern))
	if err != nil {
		t.Fatal(err)
	}
	if len(gpus) != 1 || gpus[0].PCIAddress != "0000:3b:00.0" || gpus[0].Serial != "" || *gpus[0].MemoryBytes != 81559<<20 {
		t.Errorf("modern sample: %+v", gpus)
	}
	if _, _, err := parseNvidiaSMI(strings.NewReader("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.")); err == nil {
		t.Error("non-XML output must be an error")
	}
}

func FuzzParseNvidiaSMI(f *testing.F) {
	b, err := os.ReadFile("testdata/tools/nvidia-smi/hadoop-2x-p100-v8.xml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add(nvsmiModern)
	f.Fuzz(func(t *testing.T, s string) {
		_, _, _ = parseNvidiaSMI(strings.NewReader(s))
	})
}

const pciIDsSample = `#	Version: test
0001  SafeNet (wrong ID)
10de  NVIDIA Corporation
	2330  GH100 [H100 SXM5 80GB]
		10de 16c1  H100 SXM5 80GB
	20b5  GA100 [A100 PCIe 80GB]
1af4  Red Hat, Inc.
	1000  Virtio network device
		1af4 0001  Virtio network device
ffff  Illegal Vendor ID
C 02  Network controller
	00  Ethernet controller
C 03  Display controller
	02  3D controller
	00  VGA compatible controller
		00  VGA controller
`

func TestParsePCIIDs(t *testing.T) {
	db, err := parsePCIIDs(strings.NewReader(pciIDsSample), map[string]bool{"10de": true})
	if err != nil {
		t.Fatal(err)
	}
	if len(db.Vendors) != 1 || db.Vendors["10de"].Name != "NVIDIA Corporation" {
		t.Fatalf("vendors: %v", sortedVendorNames(db.Vendors))
	}
	if p := db.Products["10de2330"]; p == nil || p.Name != "GH100 [H100 SXM5 80GB]" || len(p.Subsystems) != 1 || p.Subsystems[0].ID != "16c1" {
		t.Errorf("product 10de:2330 = %+v", p)
	}
	if db.Products["1af41000"] != nil {
		t.Error("unwanted vendor's products must be skipped")
	}
	if c := db.Classes["03"]; c == nil || len(c.Subclasses) != 2 || c.Subclasses[1].ProgrammingInterfaces[0].Name != "VGA controller" {
		t.Errorf("class 03 = %+v", c)
	}
	all, err := parsePCIIDs(strings.NewReader(pciIDsSample), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Vendors) != 4 { // 0001, 10de, 1af4 and ffff (pci.ids lists it as "Illegal Vendor ID")
		t.Errorf("all vendors: %v", sortedVendorNames(all.Vendors))
	}
}

// TestFilterPCIIDs checks that cutting out the wanted vendors and devices
// first gives, for those, the same entries as parsing the whole file.
func TestFilterPCIIDs(t *testing.T) {
	full := embeddedPCIIDs
	all, err := parsePCIIDs(bytes.NewReader(full), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []map[string]map[string]bool{
		{"8086": {"1521": true, "0d58": true, "2030": true}, "10de": {"2330": true}, "1af4": {"1000": true, "1041": true}, "15b3": {"101d": true}, "144d": {}},
		{"0001": {}}, {"ffff": {}}, {"zzzz": {"zzzz": true}}, {"8086": {"ffff": true}},
		// 0e11 b060 and 0e11 0001 (Compaq): the first device line of a block; "ABCD" upper case.
		{"0e11": {"0001": true, "b060": true}, "1af4": {"1041": true, "104A": true}},
	} {
		for _, how := range []string{"file", "embedded"} {
			filtered := filterPCIIDs(full, want)
			if how == "embedded" {
				filtered = filterEmbeddedPCIIDs(want, nil)
			}
			got, err := parsePCIIDs(bytes.NewReader(filtered), nil)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(all.Classes, got.Classes); d != "" {
				t.Errorf("classes differ")
			}
			for v, devs := range want {
				if (all.Vendors[v] == nil) != (got.Vendors[v] == nil) || got.Vendors[v] != nil && got.Vendors[v].Name != all.Vendors[v].Name {
					t.Errorf("vendor %s: %+v vs %+v", v, got.Vendors[v], all.Vendors[v])
				}
				for d := range devs {
					if diff := cmp.Diff(all.Products[v+d], got.Products[v+d]); diff != "" {
						t.Errorf("product %s:%s (-full +filtered):\n%s", v, d, diff)
					}
				}
			}
			for k, p := range got.Products {
				if !want[p.VendorID][p.ID] {
					t.Errorf("%s: unwanted product %s kept", how, k)
				}
			}
			for v, devs := range want {
				for d := range devs {
					if all.Products[v+strings.ToLower(d)] != nil && got.Products[v+strings.ToLower(d)] == nil {
						t.Errorf("%s: product %s:%s lost", how, v, d)
					}
				}
			}
		}
	}
	small, _ := parsePCIIDs(bytes.NewReader(filterPCIIDs([]byte(pciIDsSample), map[string]map[string]bool{"1af4": {"1000": true}})), nil)
	if p := small.Products["1af41000"]; p == nil || len(p.Subsystems) != 1 || small.Products["10de2330"] != nil || small.Classes["03"] == nil {
		t.Errorf("sample filter: %v %v", sortedVendorNames(small.Products), sortedVendorNames(small.Classes))
	}
}

func TestEmbeddedPCIIDs(t *testing.T) {
	db, err := parsePCIIDs(bytes.NewReader(embeddedPCIIDs), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(db.Vendors) < 2000 || db.Vendors["8086"] == nil || db.Products["10de2330"] == nil && db.Products["10de20b5"] == nil {
		t.Errorf("embedded pci.ids looks incomplete: %d vendors", len(db.Vendors))
	}
	// A root without pci.ids falls back to the embedded copy.
	_, src, err := loadPCIDB(Env{Root: t.TempDir()}, map[string]map[string]bool{"8086": {"1521": true}}, nil)
	if err != nil || !strings.HasPrefix(src, "embedded") {
		t.Errorf("fallback: src=%q err=%v", src, err)
	}
}

func FuzzParsePCIIDs(f *testing.F) {
	f.Add(pciIDsSample)
	f.Add("C 0\n\t\t\n10de  x\n\t\t1 2\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parsePCIIDs(strings.NewReader(s), nil)
		_, _ = parsePCIIDs(strings.NewReader(s), map[string]bool{"10de": true})
		_, _ = parsePCIIDs(bytes.NewReader(filterPCIIDs([]byte(s), map[string]map[string]bool{"10de": {"2330": true}, "1af4": {}})), nil)
	})
}

func TestSmallParsers(t *testing.T) {
	cpus, err := parseCPUList("0-3,8,10-11")
	if err != nil || !cmp.Equal(cpus, []int{0, 1, 2, 3, 8, 10, 11}) {
		t.Errorf("parseCPUList = %v, %v", cpus, err)
	}
	for _, bad := range []string{"3-1", "a", "-1", "0-99999999"} {
		if _, err := parseCPUList(bad); err == nil {
			t.Errorf("parseCPUList(%q) accepted", bad)
		}
	}
	for in, want := range map[string]string{
		"00 25 38 8b 91 b3 e1 a2":              "0025388b91b3e1a2",
		"eui.0025388B91B3E1A2":                 "0025388b91b3e1a2",
		"36344830-5412-3456-0025-384500000001": "36344830541234560025384500000001",
		"00 00 00 00 00 00 00 00":              "",
		"nvme.144d-5336":                       "",
	} {
		if got := normHexID(in); got != want {
			t.Errorf("normHexID(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"naa.5000c500a1b2c3d4":        "0x5000c500a1b2c3d4",
		"eui.0025388b91b3e1a2":        "eui.0025388b91b3e1a2",
		"t10.ATA     Samsung SSD  S3": "",
	} {
		if got := wwnFromWWID(in); got != want {
			t.Errorf("wwnFromWWID(%q) = %q, want %q", in, got, want)
		}
	}
	vpd := append([]byte{0x00, 0x80, 0x00, 0x14}, []byte("      ZA1B2C3D      ")...)
	if got := parseVPDSerial(vpd); got != "ZA1B2C3D" {
		t.Errorf("parseVPDSerial = %q", got)
	}
	if got := normPCIAddr("00000000:3B:00.0"); got != "0000:3b:00.0" {
		t.Errorf("normPCIAddr = %q", got)
	}
	if got := expandBraces("/a/{b,c}/d{1,2}"); !cmp.Equal(got, []string{"/a/b/d1", "/a/b/d2", "/a/c/d1", "/a/c/d2"}) {
		t.Errorf("expandBraces = %v", got)
	}
}

func openTestdata(t *testing.T, p string) *os.File {
	t.Helper()
	f, err := os.Open("testdata/" + p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func sortedVendorNames[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestFindPCIVendor: the binary search finds every vendor line of the real
// pci.ids at its offset, misses absent IDs, and filterPCIIDs still finds a
// vendor of an unsorted file (linear fallback).
func TestFindPCIVendor(t *testing.T) {
	full := embeddedPCIIDs
	if b, err := os.ReadFile("/usr/share/misc/pci.ids"); err == nil {
		full = b
	}
	classes := pciIDsClassStart(full)
	if !bytes.HasPrefix(full[classes:], []byte("\nC 00  ")) || bytes.Contains(full[:classes], []byte("\nC ")) {
		t.Fatalf("class section found at %d: %q", classes, full[classes:min(classes+20, len(full))])
	}
	n := 0
	for off := 0; off < classes; {
		if l := full[off:classes]; len(l) >= 6 && l[4] == ' ' && l[5] == ' ' && isLowerHex(l[:4]) {
			if got := findPCIVendor(full[:classes], string(l[:4])); got != off {
				t.Errorf("vendor %s at %d, binary search says %d", l[:4], off, got)
			}
			n++
		}
		nl := bytes.IndexByte(full[off:], '\n')
		if nl < 0 {
			break
		}
		off += nl + 1
	}
	if n < 2000 {
		t.Errorf("only %d vendor lines checked", n)
	}
	for _, id := range []string{"0000", "zzzz", "10d"} {
		if got := findPCIVendor(full[:classes], id); got >= 0 {
			t.Errorf("absent vendor %q found at %d", id, got)
		}
	}
	if got := pciIDsClassStart([]byte(pciIDsSample)); !strings.HasPrefix(pciIDsSample[got:], "\nC 02  ") {
		t.Errorf("sample class start %d", got)
	}
	unsorted := "1af4  Red Hat, Inc.\n\t1000  Virtio network device\n10de  NVIDIA Corporation\n\t2330  GH100\n0001  SafeNet\nC 02  Network controller\n"
	db, err := parsePCIIDs(bytes.NewReader(filterPCIIDs([]byte(unsorted), map[string]map[string]bool{"10de": {"2330": true}, "0001": {}})), nil)
	if err != nil || db.Products["10de2330"] == nil || db.Vendors["0001"] == nil || db.Classes["02"] == nil {
		t.Errorf("unsorted file: %v %+v", err, db)
	}
	upper := "10de  NVIDIA Corporation\n\t20B5  GA100 [A100 PCIe 80GB]\n\t2330  GH100\n"
	db, err = parsePCIIDs(bytes.NewReader(filterPCIIDs([]byte(upper), map[string]map[string]bool{"10de": {"20b5": true}})), nil)
	if err != nil || db.Products["10de20b5"] == nil || db.Products["10de2330"] != nil {
		t.Errorf("upper-case device ID: %v %v", err, sortedVendorNames(db.Products))
	}
}

func TestMapFile(t *testing.T) {
	dir := t.TempDir()
	for _, content := range []string{pciIDsSample, ""} {
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		b, release, err := mapFile(p)
		if err != nil || string(b) != content {
			t.Errorf("mapFile(%d bytes) = %d bytes, %v", len(content), len(b), err)
		}
		if release != nil {
			release()
		}
	}
	if _, _, err := mapFile(filepath.Join(dir, "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: %v", err)
	}
}

// TestPCIIDsPresent: IDs come from modalias when it parses, else from the
// vendor, device and subsystem_vendor files; subsystem vendor 0000 (none) is
// not looked up.
func TestPCIIDsPresent(t *testing.T) {
	tr := newTree(t)
	dev := func(addr string, files map[string]string) {
		d := "/sys/devices/pci0000:00/" + addr
		for f, v := range files {
			tr.file(d+"/"+f, v)
		}
		tr.link("/sys/bus/pci/devices/"+addr, "../../../devices/pci0000:00/"+addr)
	}
	dev("0000:00:00.0", map[string]string{"modalias": "pci:v00008086d00000D57sv00000000sd00000000bc06sc00i00\n"})
	dev("0000:00:03.0", map[string]string{"vendor": "0x1af4\n", "device": "0x1041\n", "subsystem_vendor": "0x1af4\n", "class": "0x020000\n"})
	dev("0000:3b:00.0", map[string]string{"modalias": "pci:v000010DEd00002330sv000010DEsd000016C1bc03sc02i00\n", "vendor": "0x9999\n"})
	dev("0000:3c:00.0", map[string]string{"modalias": "pci:vXYZ\n", "vendor": "0x15b3\n", "device": "0x101d\n", "subsystem_vendor": "0x0000\n", "class": "0x020700\n"})
	want := map[string]map[string]bool{
		"8086": {"0d57": true},
		"1af4": {"1041": true},
		"10de": {"2330": true},
		"15b3": {"101d": true},
	}
	got, classes := pciIDsPresent(tr.env())
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("pciIDsPresent (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]bool{"06": true, "02": true, "03": true}, classes); d != "" {
		t.Errorf("pciIDsPresent classes (-want +got):\n%s", d)
	}
	// A function whose class cannot be read: every class is kept.
	dev("0000:3d:00.0", map[string]string{"vendor": "0x15b3\n", "device": "0x101d\n"})
	if _, classes := pciIDsPresent(tr.env()); classes != nil {
		t.Errorf("unknown class: classes = %v, want nil (all)", classes)
	}
}

// TestNameMatchers: the hand-written matchers accept exactly what the
// regular expressions they replaced did.
func TestNameMatchers(t *testing.T) {
	pciRE := regexp.MustCompile(`^[0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$`)
	for _, s := range []string{"0000:3b:00.0", "10000:00:01.7", "000a0000:ff:1f.7", "0000:3b:00.8", "000:3b:00.0", "000000000:3b:00.0",
		"0000:3B:00.0", "0000:3b:00:0", "0000:3b:000.0", "0000:3b:00.0 ", "", "pci0000:00", "0000:00"} {
		if got, want := isPCIAddr(s), pciRE.MatchString(s); got != want {
			t.Errorf("isPCIAddr(%q) = %v, regexp says %v", s, got, want)
		}
	}
	skipRE := regexp.MustCompile(`^(loop|ram|zram|dm-|md|nbd)\d*`)
	for _, s := range []string{"loop0", "ram15", "zram0", "dm-3", "md127", "nbd0", "sda", "nvme0n1", "vda", "mmcblk0", "sr0", "dm", "md"} {
		if got, want := skipBlock(s), skipRE.MatchString(s); got != want {
			t.Errorf("skipBlock(%q) = %v, regexp says %v", s, got, want)
		}
	}
	nvmeRE := regexp.MustCompile(`^nvme(\d+)(?:c\d+)?n\d+$`)
	for _, s := range []string{"nvme0n1", "nvme12n3", "nvme0c1n1", "nvme0n1p1", "nvme0", "nvmen1", "nvme0cn1", "nvme0c1", "nvme0n", "sda", "nvme0n1x"} {
		got, ok := nvmeCtrl(s)
		m := nvmeRE.FindStringSubmatch(s)
		if ok != (m != nil) || ok && got != m[1] {
			t.Errorf("nvmeCtrl(%q) = %q %v, regexp says %q", s, got, ok, m)
		}
	}
}

func FuzzNameMatchers(f *testing.F) {
	pciRE := regexp.MustCompile(`^[0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$`)
	nvmeRE := regexp.MustCompile(`^nvme(\d+)(?:c\d+)?n\d+$`)
	f.Add("0000:3b:00.0")
	f.Add("nvme0c1n1")
	f.Fuzz(func(t *testing.T, s string) {
		if isPCIAddr(s) != pciRE.MatchString(s) {
			t.Errorf("isPCIAddr(%q) disagrees with the regexp", s)
		}
		got, ok := nvmeCtrl(s)
		if m := nvmeRE.FindStringSubmatch(s); ok != (m != nil) || ok && got != m[1] {
			t.Errorf("nvmeCtrl(%q) = %q %v, regexp %q", s, got, ok, m)
		}
	})
}

// readerFunc lets a test see reads.
type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// TestCPUInfoFieldStopsAtFirst: microcode comes from the first record, and
// the later records (built by the kernel per read) are not read at all.
func TestCPUInfoFieldStopsAtFirst(t *testing.T) {
	first := "processor\t: 0\nvendor_id\t: GenuineIntel\nmicrocode\t: 0x2b000590\ncpu MHz\t\t: 2100.000\n\n"
	rest := readerFunc(func([]byte) (int, error) {
		t.Error("read past the first record")
		return 0, io.EOF
	})
	if got := cpuinfoField(io.MultiReader(strings.NewReader(first), rest), "microcode"); got != "0x2b000590" {
		t.Errorf("microcode = %q", got)
	}
	arm := "processor\t: 0\nBogoMIPS\t: 50.00\n\nprocessor\t: 1\nBogoMIPS\t: 50.00\n"
	if got := cpuinfoField(strings.NewReader(arm), "microcode"); got != "" {
		t.Errorf("no microcode line: %q", got)
	}
	if got := cpuinfoField(strings.NewReader("processor : 0\n\nprocessor : 1\nmicrocode : 0x1\n"), "microcode"); got != "0x1" {
		t.Errorf("microcode only in a later record: %q", got)
	}
}
