package spec

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
)

func loadInventory(t *testing.T, path string) *collector.Inventory {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return decodeInventory(t, data)
}

func decodeInventory(t testing.TB, data []byte) *collector.Inventory {
	t.Helper()
	var inv collector.Inventory
	if err := json.Unmarshal(data, &inv); err != nil {
		t.Fatalf("decode inventory: %v", err)
	}
	return &inv
}

// captureSpec runs Capture on inv and parses the result.
func captureSpec(t *testing.T, inv *collector.Inventory) (*Spec, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := Capture(&buf, inv, CaptureOptions{Source: "test"}); err != nil {
		t.Fatal(err)
	}
	s, err := Parse(bytes.NewReader(buf.Bytes()), "captured.yaml")
	if err != nil {
		t.Fatalf("captured spec does not parse: %v\n%s", err, buf.String())
	}
	return s, buf.String()
}

// inventoryFixtures are this package's inventories plus any inventory JSON
// the collector's tests keep.
func inventoryFixtures(t *testing.T) []string {
	own, _ := filepath.Glob("testdata/inventory-*.json")
	var other []string
	_ = filepath.WalkDir("../../collector/testdata", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") && strings.Contains(filepath.Base(p), "inventory") {
			other = append(other, p)
		}
		return nil
	})
	if len(own) < 2 {
		t.Fatalf("expected own inventory fixtures, found %v", own)
	}
	return append(own, other...)
}

func TestCaptureThenCheckIsClean(t *testing.T) {
	for _, path := range inventoryFixtures(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			inv := loadInventory(t, path)
			s, text := captureSpec(t, inv)
			if ds := Compare(s, inv); len(ds) != 0 {
				t.Errorf("capture then check gave %d diffs: %+v\n%s", len(ds), ds, text)
			}
			// The capture must describe the host, not be an empty "anything goes".
			if len(s.Disks) != len(inv.Disks) || s.CPU == nil || s.Memory == nil || s.GPUs == nil {
				t.Errorf("capture is incomplete: %d/%d disks\n%s", len(s.Disks), len(inv.Disks), text)
			}
		})
	}
}

func TestExampleMatchesItsInventory(t *testing.T) {
	s, err := ParseFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if ds := Compare(s, loadInventory(t, "testdata/inventory-r640.json")); len(ds) != 0 {
		t.Errorf("example.yaml vs inventory-r640.json: %+v", ds)
	}
}

type ruleClass2 struct {
	rule  string
	class stage.Severity
}

func TestMutations(t *testing.T) {
	base := loadInventory(t, "testdata/inventory-r640.json")
	s, _ := captureSpec(t, base)
	G := uint64(1) << 30
	for _, tc := range []struct {
		name   string
		mutate func(inv *collector.Inventory)
		want   []ruleClass2 // every row's rule and class, sorted
	}{
		{"missing disk", func(inv *collector.Inventory) { inv.Disks = slices.Delete(inv.Disks, 1, 2) },
			[]ruleClass2{{RuleDiskMissing, stage.Critical}}},
		{"swapped disk (same slot, new serial and WWN)", func(inv *collector.Inventory) {
			inv.Disks[1].Serial, inv.Disks[1].WWN = "ZC9Z9Z9Z", "0x5000c500deadbeef"
		}, []ruleClass2{{RuleDiskMissing, stage.Critical}, {RuleDiskUnexpected, stage.Warning}}},
		{"disk renamed by the kernel is still the same disk", func(inv *collector.Inventory) {
			inv.Disks[0].Name, inv.Disks[1].Name = inv.Disks[1].Name, inv.Disks[0].Name
			inv.Disks[0].DevT, inv.Disks[1].DevT = "8:32", "8:48"
		}, nil},
		{"smaller DIMM", func(inv *collector.Inventory) {
			inv.Memory.DIMMs[0].SizeBytes = 16 * G
			*inv.Memory.InstalledBytes -= 16 * G
		}, []ruleClass2{{RuleMemLess, stage.Critical}, {RuleSlotSmaller, stage.Critical}}},
		{"failed DIMM disappears", func(inv *collector.Inventory) {
			inv.Memory.DIMMs = inv.Memory.DIMMs[1:]
			*inv.Memory.InstalledBytes -= 32 * G
		}, []ruleClass2{{RuleDIMMFewer, stage.Critical}, {RuleMemLess, stage.Critical}, {RuleSlotEmpty, stage.Critical}}},
		{"slower DIMM and other part", func(inv *collector.Inventory) {
			inv.Memory.DIMMs[2].ConfiguredSpeedMTs = ptr(2400)
			inv.Memory.DIMMs[2].PartNumber = "HMA84GR7AFR4N-VK"
		}, []ruleClass2{{RuleSlotPart, stage.Warning}, {RuleSlotSlower, stage.Warning}}},
		{"more memory", func(inv *collector.Inventory) {
			inv.Memory.DIMMs = append(inv.Memory.DIMMs, collector.DIMM{Locator: "B7", SizeBytes: 64 * G})
			*inv.Memory.InstalledBytes += 64 * G
		}, []ruleClass2{{RuleDIMMMore, stage.Warning}, {RuleMemMore, stage.Warning}}},
		{"fewer cores", func(inv *collector.Inventory) { inv.CPU.Cores, inv.CPU.Threads = 16, 32 },
			[]ruleClass2{{RuleCPUFewer, stage.Critical}, {RuleCPUFewer, stage.Critical}}},
		{"other CPU model", func(inv *collector.Inventory) { inv.CPU.Model = "Intel(R) Xeon(R) Silver 4110 CPU @ 2.10GHz" },
			[]ruleClass2{{RuleCPUModel, stage.Critical}}},
		{"cpu probe failed", func(inv *collector.Inventory) {
			inv.CPU = nil
			inv.Probes[0] = collector.ProbeStatus{Name: "cpu", Error: "read /proc/cpuinfo: permission denied"}
		}, []ruleClass2{{RuleUnreadable, stage.Critical}}},
		{"slower NIC", func(inv *collector.Inventory) { inv.NICs[0].SpeedMbps = ptr(1000) },
			[]ruleClass2{{RuleNICSlow, stage.Critical}}},
		{"NIC lost link", func(inv *collector.Inventory) { inv.NICs[0].SpeedMbps, inv.NICs[0].Carrier = nil, ptr(false) },
			[]ruleClass2{{RuleNICNoLink, stage.Critical}}},
		{"NIC missing", func(inv *collector.Inventory) { inv.NICs = inv.NICs[1:] },
			[]ruleClass2{{RuleNICMissing, stage.Critical}}},
		{"extra GPU", func(inv *collector.Inventory) {
			inv.GPUs = append(inv.GPUs, collector.GPU{Index: 1, PCIAddress: "0000:d8:00.0", Model: "NVIDIA A2"})
		}, []ruleClass2{{RuleGPUMore, stage.Warning}}},
		{"GPU missing", func(inv *collector.Inventory) { inv.GPUs = nil },
			[]ruleClass2{{RuleGPUFewer, stage.Critical}}},
		{"other GPU model", func(inv *collector.Inventory) { inv.GPUs[0].Model = "NVIDIA T4" },
			[]ruleClass2{{RuleGPUModel, stage.Critical}}},
		{"multipath: disk seen twice", func(inv *collector.Inventory) {
			dup := inv.Disks[1]
			dup.Name, dup.DevT = "sdz", "65:144"
			inv.Disks = append(inv.Disks, dup)
		}, []ruleClass2{{RuleDiskDuplicate, stage.Critical}}},
		{"disk firmware updated", func(inv *collector.Inventory) { inv.Disks[1].Firmware = "DT32" },
			[]ruleClass2{{RuleDiskFirmware, stage.Info}}},
		{"disk shrank (HPA)", func(inv *collector.Inventory) { inv.Disks[1].SizeBytes = 3_000_000_000_000 },
			[]ruleClass2{{RuleDiskSmaller, stage.Critical}}},
		{"USB stick plugged in", func(inv *collector.Inventory) {
			inv.Disks = append(inv.Disks, collector.Disk{Name: "sdc", SizeBytes: 32e9, Removable: true, Vendor: "SanDisk", Model: "Cruzer", Serial: "4C530001"})
		}, []ruleClass2{{RuleDiskRemovable, stage.Info}}},
		{"other host", func(inv *collector.Inventory) { inv.HostID = "4c4c4544-0000-0000-0000-000000000000" },
			[]ruleClass2{{RuleHost, stage.Critical}}},
		{"board swapped: serial differs", func(inv *collector.Inventory) { inv.System.Serial = "7Q1ABC2" },
			[]ruleClass2{{RuleSystemSerial, stage.Warning}}},
		{"other product", func(inv *collector.Inventory) { inv.System.Product = "PowerEdge R740" },
			[]ruleClass2{{RuleSystemIdentity, stage.Critical}}},
		{"ambiguous slot locator", func(inv *collector.Inventory) {
			inv.Memory.DIMMs[5].Locator = "A1" // two DIMMs now claim A1
		}, []ruleClass2{{RuleSlotAmbiguous, stage.Critical}, {RuleSlotEmpty, stage.Critical}}},
		{"new NIC card", func(inv *collector.Inventory) {
			inv.NICs = append(inv.NICs, collector.NIC{Name: "ens1f0", MAC: "b4:96:91:00:00:01", PCIAddress: "0000:5e:00.0"})
		}, []ruleClass2{{RuleNICUnexpected, stage.Warning}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := cloneInventory(t, base)
			tc.mutate(inv)
			var got []ruleClass2
			for _, d := range Compare(s, inv) {
				got = append(got, ruleClass2{d.Rule, d.Class})
				if d.Expected == "" || d.Actual == "" || d.Field == "" {
					t.Errorf("row without field/expected/actual: %+v", d)
				}
			}
			sortRC(got)
			want := slices.Clone(tc.want)
			sortRC(want)
			if !slices.Equal(got, want) {
				t.Errorf("rules = %v, want %v\nrows: %+v", got, want, Compare(s, inv))
			}
		})
	}
}

func sortRC(s []ruleClass2) {
	sort.Slice(s, func(i, j int) bool { return s[i].rule < s[j].rule })
}

func cloneInventory(t *testing.T, inv *collector.Inventory) *collector.Inventory {
	data, err := json.Marshal(inv)
	if err != nil {
		t.Fatal(err)
	}
	var out collector.Inventory
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func TestAnonymousDisks(t *testing.T) {
	inv := loadInventory(t, "testdata/inventory-vm-live.json")
	s, _ := captureSpec(t, inv)
	if len(s.Disks) != 1 || !s.Disks[0].Anonymous || s.Disks[0].Role != RoleKeep {
		t.Fatalf("vda should be captured as an anonymous keep disk: %+v", s.Disks)
	}
	grown := cloneInventory(t, inv)
	grown.Disks[0].SizeBytes *= 2
	got := Compare(s, grown)
	if len(got) != 2 || got[0].Rule != RuleDiskMissing || got[1].Rule != RuleDiskUnexpected {
		t.Errorf("resized anonymous disk: %+v", got)
	}
}

func TestDiffSummaries(t *testing.T) {
	inv := loadInventory(t, "testdata/inventory-r640.json")
	s, _ := captureSpec(t, inv)
	inv.CPU.Cores = 8
	inv.Disks[1].Firmware = "X"
	ds := Diff(s, inv)
	if len(ds) != 2 || len(Critical(ds)) != 1 || Critical(ds)[0].Field != "cpu.cores" {
		t.Errorf("Diff/Critical: %+v", ds)
	}
}

func TestMatchPattern(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		ok   bool
	}{
		{"Intel(R) Xeon(R) Gold 6130*", "Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz", true},
		{"intel(r) xeon(r)  gold 6130*", "Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz", true},
		{"Intel(R) Xeon(R) Gold 6130*", "Intel(R) Xeon(R) Gold 6138 CPU @ 2.00GHz", false},
		{"*EPYC*7543*", "AMD EPYC 7543 32-Core Processor", true},
		{"*EPYC*7543*", "AMD EPYC 7443 24-Core Processor", false},
		{"AMD EPYC", "AMD EPYC 7543", false},
		{"NVIDIA A2*", "NVIDIA A2", true},
		{"a*b*a", "aba", true},
		{"a*a", "a", false},
		{"[x]", "[x]", true},
	} {
		if got := MatchPattern(tc.p, tc.s); got != tc.ok {
			t.Errorf("MatchPattern(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.ok)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		b        uint64
		dec, bin string
	}{
		{480103981056, "480.104GB", "447.13GiB"},
		{4000787030016, "4.001TB", "3726.02GiB"},
		{384 << 30, "412.317GB", "384GiB"},
		{1 << 40, "1.1TB", "1TiB"},
		{25276026880, "25.276GB", "23.54GiB"},
		{512, "512B", "512B"},
		{0, "0B", "0B"},
	} {
		if got := FormatDecimal(tc.b); got != tc.dec {
			t.Errorf("FormatDecimal(%d) = %q, want %q", tc.b, got, tc.dec)
		}
		if got := FormatBinary(tc.b); got != tc.bin {
			t.Errorf("FormatBinary(%d) = %q, want %q", tc.b, got, tc.bin)
		}
		// What capture writes parses back within the tolerance.
		for _, s := range []string{FormatDecimal(tc.b), FormatBinary(tc.b)} {
			v, err := stage.ParseSize(s)
			if err != nil || within(v, tc.b, 0.001) != 0 {
				t.Errorf("ParseSize(%q) = %d, %v; want about %d", s, v, err, tc.b)
			}
		}
	}
}

// Every committed collector snapshot (a masked /sys, /proc, ... tree of a real
// machine): collect, capture, check.
func TestCaptureThenCheckOnSnapshots(t *testing.T) {
	snaps, _ := filepath.Glob("../../collector/testdata/snapshots/*.tar.gz")
	if len(snaps) == 0 {
		t.Fatal("no collector snapshots found under collector/testdata/snapshots: they are committed, so the path is wrong")
	}
	for _, snap := range snaps {
		t.Run(filepath.Base(snap), func(t *testing.T) {
			dir := t.TempDir()
			if err := collector.UnpackSnapshotFile(snap, dir); err != nil {
				t.Fatal(err)
			}
			inv, err := collector.Collect(context.Background(), collector.Env{Root: dir})
			if err != nil {
				t.Fatal(err)
			}
			s, text := captureSpec(t, inv)
			if ds := Compare(s, inv); len(ds) != 0 {
				t.Errorf("capture then check gave %d diffs: %+v\n%s", len(ds), ds, text)
			}
			if len(s.Disks) != len(inv.Disks) || len(inv.Disks) == 0 {
				t.Errorf("captured %d of %d disks", len(s.Disks), len(inv.Disks))
			}
		})
	}
}

func TestUnitMixUpHint(t *testing.T) {
	inv := loadInventory(t, "testdata/inventory-r640.json")
	doc := strings.Replace(strings.Replace(mustRead(t, "testdata/example.yaml"), "size: 480GB", "size: 480GiB", 1),
		"total: 384GiB", "total: 384GB", 1)
	s, err := Parse(strings.NewReader(doc), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ds := Compare(s, inv)
	if len(ds) != 2 || ds[0].Rule != RuleMemMore || ds[1].Rule != RuleDiskSmaller {
		t.Fatalf("diffs: %+v", ds)
	}
	if !strings.Contains(ds[0].Message, "write 384GiB") || !strings.Contains(ds[1].Message, "write 480.104GB") {
		t.Errorf("hints missing: %q / %q", ds[0].Message, ds[1].Message)
	}
	if h := unitHint(4e12, 3e12, 0.01); h != "" {
		t.Errorf("hint for a real size difference: %q", h)
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
