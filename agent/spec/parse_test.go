package spec

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const minimal = `version: 1
host: h1
cpu:
  cores: 4
memory:
  total: 16GiB
disks:
  - wwn: 0x5000c500a1b2c3d4
    role: test
`

func ptr[T any](v T) *T { return &v }

func TestParseExample(t *testing.T) {
	s, err := ParseFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := &Spec{
		Version: 1,
		Host:    "4c4c4544-0042-3510-8053-b4c04f4d3732",
		System:  &System{Vendor: "Dell Inc.", Product: "PowerEdge R640", Serial: "5B3QXY2"},
		CPU:     &CPU{Model: "Intel(R) Xeon(R) Gold 6130*", Sockets: ptr(2), Cores: ptr(32), Threads: ptr(64)},
		Memory: &Memory{Total: ptr(uint64(384 << 30)), TolerancePercent: 3, DIMMs: ptr(12),
			Slots: []Slot{{Locator: "A1", Size: ptr(uint64(32 << 30)), SpeedMTs: ptr(2666), Part: "M393A4K40CB2-CTD"}}},
		Disks: []Disk{
			{ID: DiskIdentity{Vendor: "ATA", Model: "MZ7LH480HAHQ0D3", Serial: "S45PNA0M512345"}, Size: ptr(uint64(480e9)), Class: "ssd", Role: "boot"},
			{ID: DiskIdentity{WWN: "0x5000c500a1b2c3d4"}, Size: ptr(uint64(4e12)), Class: "hdd", Role: "test", Firmware: "DT31"},
			{ID: DiskIdentity{EUI64: "0025385b71b029b9"}, Size: ptr(uint64(1.92e12)), Class: "nvme", Role: "test"},
		},
		NICs:       []NIC{{MAC: "3c:ec:ef:01:02:03", MinSpeedMbps: ptr(10000)}, {PCI: "0000:3b:00.1"}},
		HasNICs:    true,
		GPUs:       &GPUs{Count: 1, Model: "NVIDIA A2*"},
		Thresholds: map[string]string{"max_temp_c": "85", "fio_iops_floor_hdd": "150"},
		File:       "testdata/example.yaml",
	}
	if d := cmp.Diff(want, s); d != "" {
		t.Errorf("parsed example (-want +got):\n%s", d)
	}
	if got := len(s.DisksWithRole(RoleTest)); got != 2 {
		t.Errorf("DisksWithRole(test) = %d disks, want 2", got)
	}
}

func TestParseMinimalDefaults(t *testing.T) {
	s, err := Parse(strings.NewReader(minimal), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Memory.TolerancePercent != DefaultMemoryTolerance || s.HasNICs || s.GPUs != nil || s.System != nil {
		t.Errorf("defaults wrong: %+v", s)
	}
}

// Values YAML 1.1 would turn into numbers or booleans stay text.
func TestParseKeepsText(t *testing.T) {
	doc := strings.Replace(minimal, "  - wwn: 0x5000c500a1b2c3d4\n", "  - vendor: NO\n    model: 1E10\n    serial: 00123\n", 1)
	s, err := Parse(strings.NewReader(doc), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Disks[0].ID; got != (DiskIdentity{Vendor: "NO", Model: "1E10", Serial: "00123"}) {
		t.Errorf("identity = %+v", got)
	}
}

func TestParseRejects(t *testing.T) {
	repl := func(old, new string) string {
		if !strings.Contains(minimal, old) {
			t.Fatalf("test bug: %q not in minimal", old)
		}
		return strings.Replace(minimal, old, new, 1)
	}
	bomb := "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" + minimal
	for _, tc := range []struct {
		name, doc string
		at        string // "line:col" of the first error
		want      string // substring of the first error
	}{
		{"empty file", "", "1:1", "empty spec"},
		{"only comments", "# nothing here\n", "1:1", "empty spec"},
		{"null document", "---\n", "2:1", "expected a mapping"},
		{"not a mapping", "- a\n- b\n", "1:1", "found a list, expected a mapping"},
		{"unknown key with suggestion", minimal + "cpux: 1\n", "10:1", `cpux: unknown key (did you mean "cpu"?)`},
		{"unknown nested key", repl("  cores: 4", "  cores: 4\n  mhz: 2100"), "5:3", "cpu.mhz: unknown key; known keys here: model, sockets, cores, threads"},
		{"duplicate key", minimal + "host: h2\n", "10:1", "host: duplicate key (first set on line 2)"},
		{"duplicate nested key", repl("    role: test", "    role: test\n    role: keep"), "10:5", "disks[0].role: duplicate key"},
		{"tab indentation", repl("  cores: 4", "\tcores: 4"), "4:1", "tab character"},
		{"tab inside a value", repl("host: h1", "host: h\t1"), "2:8", "tab character"},
		{"NUL byte", repl("host: h1", "host: h\x001"), "2:8", "NUL byte"},
		{"quoted number", repl("cores: 4", `cores: "4"`), "4:10", "write the number without quotes"},
		{"word for number", repl("cores: 4", "cores: four"), "4:10", `found "four", expected a whole number`},
		{"negative count", repl("cores: 4", "cores: -4"), "4:10", "out of range"},
		{"hex count", repl("cores: 4", "cores: 0x4"), "4:10", `"0x4" is not a plain decimal number`},
		{"huge count", repl("cores: 4", "cores: 99999999999999999999"), "4:10", "expected a whole number"},
		{"float count", repl("cores: 4", "cores: 4.5"), "4:10", "expected a whole number"},
		{"null serial", repl("  - wwn: 0x5000c500a1b2c3d4\n", "  - vendor: ATA\n    model: M\n    serial:\n"), "10:12", "disks[0].serial: empty (null), expected a value"},
		{"empty quoted serial", repl("  - wwn: 0x5000c500a1b2c3d4\n", "  - vendor: ATA\n    model: M\n    serial: \"\"\n"), "10:13", "disks[0].serial: empty value"},
		{"blank serial", repl("  - wwn: 0x5000c500a1b2c3d4\n", "  - vendor: ATA\n    model: M\n    serial: \"   \"\n"), "10:13", "empty value"},
		{"serial without vendor and model", repl("  - wwn: 0x5000c500a1b2c3d4\n", "  - serial: ZC1A2B3C\n"), "8:5", "no usable identity (missing vendor, model)"},
		{"kernel name as identity", repl("  - wwn: 0x5000c500a1b2c3d4\n", "  - name: sda\n"), "8:5", "disks[0].name: unknown key"},
		{"zero wwn", repl("0x5000c500a1b2c3d4", "0x0000000000000000"), "8:5", "all zeros"},
		{"missing role", repl("    role: test\n", "    size: 4TB\n"), "8:5", `missing required key "role"`},
		{"bad role", repl("role: test", "role: wipe"), "9:11", `"wipe" is not allowed; write one of test, keep, boot`},
		{"bad class", repl("    role: test", "    role: test\n    class: sas"), "10:12", "write one of nvme, ssd, hdd"},
		{"size without unit", repl("total: 16GiB", "total: 16"), "6:10", "size 16 has no unit; write 16GB (decimal, as disk vendors count) or 16GiB (binary)"},
		{"size with float no unit", repl("    role: test", "    role: test\n    size: 1.92"), "10:11", "size 1.92 has no unit"},
		{"size with unknown unit", repl("total: 16GiB", "total: 16XB"), "6:10", `unknown unit "XB"`},
		{"same disk twice", minimal + "  - wwn: naa.5000C500A1B2C3D4\n    role: keep\n", "10:5", "names the same disk as the entry on line 8"},
		{"anonymous test disk", repl("  - wwn: 0x5000c500a1b2c3d4\n", "  - anonymous: true\n    size: 256GB\n"), "8:5", "can never be tested destructively"},
		{"anonymous with identity", repl("  - wwn: 0x5000c500a1b2c3d4\n", "  - anonymous: true\n    serial: X\n"), "8:5", "an anonymous disk has no identity"},
		{"anonymous false", repl("  - wwn: 0x5000c500a1b2c3d4\n", "  - wwn: 0x5000c500a1b2c3d4\n    anonymous: false\n"), "9:16", "write anonymous: true, or remove the key"},
		{"unsupported version", repl("version: 1", "version: 2"), "1:10", "unsupported version 2; this agent reads version 1"},
		{"missing version and host", strings.Replace(repl("version: 1\n", ""), "host: h1\n", "", 1), "1:1", `missing required key "version"`},
		{"missing disks", strings.SplitAfter(minimal, "16GiB\n")[0], "1:1", `missing required key "disks"`},
		{"null disks", repl("disks:\n  - wwn: 0x5000c500a1b2c3d4\n    role: test\n", "disks:\n"), "7:7", "write disks: [] for a host with none"},
		{"null cpu", repl("cpu:\n  cores: 4\n", "cpu:\n"), "3:5", "cpu: empty (null), expected a mapping"},
		{"empty cpu", repl("cpu:\n  cores: 4\n", "cpu: {}\n"), "3:6", "cpu: empty section"},
		{"empty host", repl("host: h1", "host: ''"), "2:7", "host: empty value"},
		{"unknown threshold", minimal + "thresholds:\n  max_temp: 80\n", "11:3", `unknown key (did you mean "max_temp_c"?)`},
		{"threshold not a number", minimal + "thresholds:\n  max_temp_c: hot\n", "11:15", `found "hot", expected a number`},
		{"threshold quoted", minimal + "thresholds:\n  max_temp_c: \"85\"\n", "11:15", "write the number without quotes or units"},
		{"threshold negative", minimal + "thresholds:\n  psu_dip_percent: -5\n", "11:20", "negative value"},
		{"tolerance without percent", repl("total: 16GiB", "total: 16GiB\n  tolerance: 3"), "7:14", `"3" is not a percentage`},
		{"bad mac", minimal + "nics:\n  - mac: 3c:ec:ef:01:02\n", "11:10", "is not a MAC address"},
		{"zero mac", minimal + "nics:\n  - mac: 00:00:00:00:00:00\n", "11:10", "is not a MAC address"},
		{"nic without identity", minimal + "nics:\n  - min_speed_mbps: 1000\n", "11:5", "a NIC needs mac or pci"},
		{"nic twice", minimal + "nics:\n  - mac: 3C-EC-EF-01-02-03\n  - mac: 3c:ec:ef:01:02:03\n", "12:5", "mac:3c:ec:ef:01:02:03 is listed twice"},
		{"bad pci", minimal + "nics:\n  - pci: eth0\n", "11:10", "is not a PCI address"},
		{"slot twice", repl("total: 16GiB", "total: 16GiB\n  slots:\n    - {locator: A1, size: 8GiB}\n    - {locator: A1, size: 8GiB}"), "9:7", `slot "A1" is listed twice`},
		{"slot only locator", repl("total: 16GiB", "total: 16GiB\n  slots:\n    - locator: A1"), "8:7", "slot has only a locator"},
		{"gpu count missing", minimal + "gpus:\n  model: A2\n", "11:3", `missing required key "count"`},
		{"alias bomb", bomb, "1:4", "anchors (&) and aliases (*) are not allowed"},
		{"merge key", "base: &b {role: test}\n" + minimal, "1:7", "anchors (&) and aliases (*) are not allowed"},
		{"custom tag", repl("host: h1", "host: !secret h1"), "2:7", `custom tag "!secret"`},
		{"binary tag", repl("host: h1", "host: !!binary aDE="), "2:7", "!!binary values are not allowed"},
		{"deep nesting", minimal + "gpus: " + strings.Repeat("[", 40) + strings.Repeat("]", 40) + "\n", "10:", "nesting deeper than"},
		{"second document", minimal + "---\nversion: 1\n", "10:1", "a second YAML document"},
		{"syntax error", repl("cores: 4", "cores: [4"), "3:", "YAML syntax"},
		{"oversized", minimal + "#" + strings.Repeat("x", MaxFileSize), "1:1", "larger than 1048576 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(strings.NewReader(tc.doc), "f.yaml")
			if err == nil {
				t.Fatalf("accepted: %+v", s)
			}
			var el ErrorList
			if !errors.As(err, &el) || len(el) == 0 {
				t.Fatalf("error is not an ErrorList: %v", err)
			}
			first := el[0].Error()
			if !strings.HasPrefix(first, "f.yaml:"+tc.at) {
				t.Errorf("first error %q, want position f.yaml:%s", first, tc.at)
			}
			if !strings.Contains(first, tc.want) {
				t.Errorf("first error %q, want it to contain %q (all: %v)", first, tc.want, err)
			}
		})
	}
}

func TestParseReportsEveryError(t *testing.T) {
	doc := strings.Replace(minimal, "cores: 4", "cores: x", 1) + "extra: 1\nthresholds:\n  max_temp_c: hot\n"
	_, err := Parse(strings.NewReader(doc), "f.yaml")
	var el ErrorList
	if !errors.As(err, &el) || len(el) != 3 {
		t.Fatalf("want 3 errors, got %v", err)
	}
	if el[0].Line != 4 || el[1].Line != 10 || el[2].Line != 12 {
		t.Errorf("errors not in file order: %v", err)
	}
}

func TestParseFileMissing(t *testing.T) {
	_, err := ParseFile("testdata/does-not-exist.yaml")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want not-exist", err)
	}
}

func FuzzParse(f *testing.F) {
	ex, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ex)
	f.Add([]byte(minimal))
	f.Add([]byte("a: &a [x,x]\nb: [*a,*a]\n"))
	f.Add([]byte(minimal + "nics:\n  - mac: 3c:ec:ef:01:02:03\n    min_speed_mbps: 1000\ngpus: {count: 0}\n"))
	f.Add([]byte("version: 1\nhost: h\ncpu: {cores: 1}\nmemory: {total: 1GB}\ndisks: [{anonymous: true, size: 1GB, role: keep}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(strings.NewReader(string(data)), "fuzz.yaml")
		if err != nil {
			var el ErrorList
			if !errors.As(err, &el) || len(el) == 0 {
				t.Fatalf("error is not a non-empty ErrorList: %v", err)
			}
			for _, e := range el {
				if e.Line < 1 || e.Col < 1 {
					t.Fatalf("error without position: %v", e)
				}
			}
			return
		}
		if s.Version != Version || Normalize(s.Host) == "" || s.CPU == nil || s.Memory == nil || s.Disks == nil {
			t.Fatalf("accepted an incomplete spec: %+v", s)
		}
		for i, d := range s.Disks {
			if d.Role != RoleTest && d.Role != RoleKeep && d.Role != RoleBoot {
				t.Fatalf("disk %d has role %q", i, d.Role)
			}
			if d.Anonymous {
				if d.Role == RoleTest {
					t.Fatalf("anonymous disk %d accepted with role test", i)
				}
				continue
			}
			if d.ID.IsZero() {
				t.Fatalf("disk %d accepted with no identity: %+v", i, d.ID)
			}
			for j := range i {
				if !s.Disks[j].Anonymous && MatchIdentity(s.Disks[j].ID, d.ID) {
					t.Fatalf("disks %d and %d name the same disk", j, i)
				}
			}
		}
	})
}
