package spec

import (
	"bytes"
	"testing"

	"github.com/shakedown/shakedown/collector"
)

// Whatever strings the probes report, a captured spec parses and matches the
// inventory it came from (quoting, padding, odd bytes).
func FuzzCaptureRoundTrip(f *testing.F) {
	f.Add("ATA     ", "ST4000NM0025 ", "  ZC1A2B3C", "0x5000c500a1b2c3d4", "Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz", "DIMM_A1", "M393A4K40CB2-CTD  ", "NVIDIA A2", "h-1")
	f.Add("", "QEMU HARDDISK", "QM00001", "", "AMD EPYC", "", "", "", "02:fc:00:00:00:01")
	f.Add("a\"b", "x: y", "#1 'q'", "naa.0000000000000000", "*", "P0/A1", "- x", "[x]", "4c4c4544-0042")
	f.Add("\x00ven\x00", "m\u2028n", "\xff\xfe", "eui.00", "\tcpu\n", "A1\r", "NO", "yes", "~")
	f.Fuzz(func(t *testing.T, vendor, model, serial, wwn, cpuModel, locator, part, gpuModel, host string) {
		for _, s := range []string{vendor, model, serial, wwn, cpuModel, locator, part, gpuModel, host} {
			if len(s) > 256 {
				return // the parser caps values at 256 characters
			}
		}
		installed := uint64(32 << 30)
		inv := &collector.Inventory{
			HostID: host,
			CPU:    &collector.CPU{Model: cpuModel, Sockets: 1, Cores: 8, Threads: 16},
			Memory: &collector.Memory{TotalBytes: 31 << 30, InstalledBytes: &installed,
				DIMMs: []collector.DIMM{{Locator: locator, SizeBytes: 32 << 30, PartNumber: part}}},
			Disks: []collector.Disk{
				{Name: "sda", SizeBytes: 4e12, Class: "hdd", Vendor: vendor, Model: model, Serial: serial, WWN: wwn},
				{Name: "sdb", SizeBytes: 4e12, Class: "hdd", Vendor: "ATA", Model: "M", Serial: "S2"},
			},
			GPUs: []collector.GPU{{Model: gpuModel}},
		}
		var buf bytes.Buffer
		if err := Capture(&buf, inv, CaptureOptions{}); err != nil {
			t.Fatal(err)
		}
		s, err := Parse(bytes.NewReader(buf.Bytes()), "captured.yaml")
		if err != nil {
			if Normalize(host) == "" {
				return // no host id: capture says so, and the spec is refused until host: is set
			}
			t.Fatalf("captured spec does not parse: %v\n%s", err, buf.String())
		}
		if ds := Compare(s, inv); len(ds) != 0 {
			t.Fatalf("capture then check: %+v\n%s", ds, buf.String())
		}
	})
}
