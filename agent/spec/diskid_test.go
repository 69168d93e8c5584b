package spec

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shakedown/shakedown/collector"
)

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"  S4EVNX0R123456  ":        "S4EVNX0R123456",
		"ZC1A2B3C\x00\x00\x00\x00":  "ZC1A2B3C",
		"\x00 WD-WCC4E1234567 \x00": "WD-WCC4E1234567",
		"Samsung SSD 870 ":          "Samsung SSD 870", // inner spaces kept
		"abcDEF":                    "abcDEF",          // case kept
		"   ":                       "",
		"\x00\x00":                  "",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIdentityString(t *testing.T) {
	for _, tc := range []struct {
		id   DiskIdentity
		want string
	}{
		{DiskIdentity{WWN: "0x5000C500A1B2C3D4", Serial: "X"}, "wwn:0x5000c500a1b2c3d4"},
		{DiskIdentity{WWN: "naa.5000c500a1b2c3d4"}, "wwn:0x5000c500a1b2c3d4"},
		{DiskIdentity{WWN: "eui.0025385B71B029B9", EUI64: "0025385b71b029b9"}, "wwn:0x0025385b71b029b9"}, // NVMe wwid form
		{DiskIdentity{EUI64: "00 25 38 5b 71 b0 29 b9"}, "eui:0025385b71b029b9"},
		{DiskIdentity{EUI64: "eui.0025385b71b029b9"}, "eui:0025385b71b029b9"},
		{DiskIdentity{EUI64: "0000000000000000", NGUID: "e8238fa6-bf53-0001-001b-448b4a1cc8b1"}, "nguid:e8238fa6bf530001001b448b4a1cc8b1"},
		{DiskIdentity{Vendor: "ATA", Model: "ST4000NM0035-1V4107", Serial: "  ZC1A2B3C  "}, "serial:ATA/ST4000NM0035-1V4107/ZC1A2B3C"},
		{DiskIdentity{Vendor: "HP", Model: "LOGICAL/VOL", Serial: "5%"}, "serial:HP/LOGICAL%2FVOL/5%25"},
		{DiskIdentity{Model: "QEMU HARDDISK", Serial: "QM00001"}, "none"}, // no vendor: not enough
		{DiskIdentity{}, "none"},
	} {
		if got := tc.id.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.id, got, tc.want)
		}
		if tc.want == "none" {
			continue
		}
		back, err := ParseIdentity(tc.want)
		if err != nil {
			t.Errorf("ParseIdentity(%q): %v", tc.want, err)
			continue
		}
		if !MatchIdentity(back, tc.id) || back.String() != tc.want {
			t.Errorf("ParseIdentity(%q) = %+v does not round-trip", tc.want, back)
		}
	}
}

func TestParseIdentityRejects(t *testing.T) {
	for _, s := range []string{"", "none", "sda", "wwn:", "wwn:0x0000000000000000", "wwn:eui.0000000000000000", "serial:ATA/ST4000",
		"serial:ATA//ZC1", "serial: / / ", "path:pci-0000:00:1f.2-ata-1", "eui:   "} {
		if id, err := ParseIdentity(s); err == nil {
			t.Errorf("ParseIdentity(%q) = %+v, want error", s, id)
		}
	}
}

func TestMatches(t *testing.T) {
	sata := collector.Disk{Name: "sda", Vendor: "ATA     ", Model: "ST4000NM0035-1V4107 ", Serial: "            ZC1A2B3C",
		WWN: "0x5000c500a1b2c3d4"}
	nvme := collector.Disk{Name: "nvme0n1", Vendor: "Samsung", Model: "SAMSUNG MZQL2960HCJR-00A07               ",
		Serial: "S64FNE0R123456      ", EUI64: "00 25 38 5b 71 b0 29 b9", NGUID: "00000000-0000-0000-0000-000000000000"}
	nulPad := collector.Disk{Name: "sdb", Vendor: "SEAGATE", Model: "ST600MM0006", Serial: "S0M1ABCD\x00\x00\x00\x00"}
	noSerial := collector.Disk{Name: "sdc", Vendor: "QEMU", Model: "QEMU HARDDISK", Serial: ""}
	for _, tc := range []struct {
		name string
		want DiskIdentity
		d    collector.Disk
		ok   bool
	}{
		{"wwn exact", DiskIdentity{WWN: "0x5000c500a1b2c3d4"}, sata, true},
		{"wwn other case and prefix", DiskIdentity{WWN: "naa.5000C500A1B2C3D4"}, sata, true},
		{"wwn differs, serial same", DiskIdentity{WWN: "0x5000c500ffffffff", Vendor: "ATA", Model: "ST4000NM0035-1V4107", Serial: "ZC1A2B3C"}, sata, false},
		{"space-padded serial", DiskIdentity{Vendor: "ATA", Model: "ST4000NM0035-1V4107", Serial: "ZC1A2B3C"}, sata, true},
		{"serial case differs", DiskIdentity{Vendor: "ATA", Model: "ST4000NM0035-1V4107", Serial: "zc1a2b3c"}, sata, false},
		{"NUL-padded serial", DiskIdentity{Vendor: "SEAGATE", Model: "ST600MM0006", Serial: "S0M1ABCD"}, nulPad, true},
		{"serial without model", DiskIdentity{Vendor: "SEAGATE", Serial: "S0M1ABCD"}, nulPad, false},
		{"empty serial in spec", DiskIdentity{Vendor: "QEMU", Model: "QEMU HARDDISK", Serial: ""}, noSerial, false},
		{"empty serial on disk", DiskIdentity{Vendor: "QEMU", Model: "QEMU HARDDISK", Serial: "QM00001"}, noSerial, false},
		{"empty identity", DiskIdentity{}, noSerial, false},
		{"eui spaced vs plain", DiskIdentity{EUI64: "0025385b71b029b9"}, nvme, true},
		{"zero nguid is absent, falls to eui", DiskIdentity{NGUID: "00000000000000000000000000000000", EUI64: "eui.0025385B71B029B9"}, nvme, true},
		{"zero nguid never matches zero nguid", DiskIdentity{NGUID: "00000000-0000-0000-0000-000000000000"}, nvme, false},
		{"nvme by serial triple", DiskIdentity{Vendor: "Samsung", Model: "SAMSUNG MZQL2960HCJR-00A07", Serial: "S64FNE0R123456"}, nvme, true},
		{"spec wwn, disk has only serial: serial decides", DiskIdentity{WWN: "0x5000c500a1b2c3d4", Vendor: "SEAGATE", Model: "ST600MM0006", Serial: "S0M1ABCD"}, nulPad, true},
		{"kernel name is not identity", DiskIdentity{Serial: "sda"}, sata, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Matches(tc.want, tc.d); got != tc.ok {
				t.Errorf("Matches(%+v, %s) = %v, want %v", tc.want, tc.d.Name, got, tc.ok)
			}
		})
	}
}

func TestMatchDisks(t *testing.T) {
	a := collector.Disk{Name: "sda", WWN: "0x5000c500000000a1", Vendor: "ATA", Model: "M", Serial: "A"}
	b := collector.Disk{Name: "sdb", WWN: "0x5000c500000000b2", Vendor: "ATA", Model: "M", Serial: "B"}
	c := collector.Disk{Name: "sdc", Vendor: "ATA", Model: "M", Serial: "C "}
	bAgain := b
	bAgain.Name = "sdd" // second path to the same LUN
	anon := collector.Disk{Name: "loop0"}
	idA, idB, idC := IdentityOf(a), IdentityOf(b), DiskIdentity{Vendor: "ATA", Model: "M", Serial: "C"}

	for _, tc := range []struct {
		name string
		want []DiskIdentity
		have []collector.Disk
		exp  Matching
		ok   bool
	}{
		{"all present, order differs", []DiskIdentity{idC, idA, idB}, []collector.Disk{a, b, c},
			Matching{Pairs: []Pair{{0, 2, c}, {1, 0, a}, {2, 1, b}}}, true},
		{"missing and unexpected", []DiskIdentity{idA, idB}, []collector.Disk{a, c},
			Matching{Pairs: []Pair{{0, 0, a}}, Missing: []int{1}, Unexpected: []int{1}}, false},
		{"swapped disk: new serial in slot", []DiskIdentity{idA, idC}, []collector.Disk{a, {Name: "sdc", Vendor: "ATA", Model: "M", Serial: "D"}},
			Matching{Pairs: []Pair{{0, 0, a}}, Missing: []int{1}, Unexpected: []int{1}}, false},
		{"two devices one identity (multipath)", []DiskIdentity{idA, idB}, []collector.Disk{a, b, bAgain},
			Matching{Pairs: []Pair{{0, 0, a}}, Duplicates: []Duplicate{{Want: 1, Identity: "wwn:0x5000c500000000b2", Have: []int{1, 2}}}}, false},
		{"unexpected multipath", []DiskIdentity{idA}, []collector.Disk{a, b, bAgain},
			Matching{Pairs: []Pair{{0, 0, a}}, Unexpected: []int{1, 2}, Duplicates: []Duplicate{{Want: -1, Identity: "wwn:0x5000c500000000b2", Have: []int{1, 2}}}}, false},
		{"one disk named twice in spec", []DiskIdentity{idA, {Vendor: "ATA", Model: "M", Serial: "A"}}, []collector.Disk{a},
			Matching{Conflicts: []Conflict{{Have: 0, Want: []int{0, 1}}}}, false},
		{"device without identity", []DiskIdentity{idA}, []collector.Disk{a, anon},
			Matching{Pairs: []Pair{{0, 0, a}}, Unexpected: []int{1}}, false},
		{"nothing expected, nothing found", nil, nil, Matching{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := MatchDisks(tc.want, tc.have)
			if d := cmp.Diff(tc.exp, got); d != "" {
				t.Errorf("MatchDisks mismatch (-want +got):\n%s", d)
			}
			if got.OK() != tc.ok {
				t.Errorf("OK() = %v, want %v", got.OK(), tc.ok)
			}
		})
	}
}

func FuzzParseIdentity(f *testing.F) {
	for _, s := range []string{"wwn:0x5000c500a1b2c3d4", "serial:ATA/M/S", "eui:00 25", "nguid:0-0", "serial:a%2Fb/c/d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseIdentity(s)
		if err != nil {
			return
		}
		if id.IsZero() {
			t.Fatalf("ParseIdentity(%q) accepted a zero identity", s)
		}
		back, err := ParseIdentity(id.String())
		if err != nil {
			t.Fatalf("ParseIdentity(String()=%q): %v", id.String(), err)
		}
		if back.String() != id.String() {
			t.Fatalf("round trip %q -> %q", id.String(), back.String())
		}
	})
}
