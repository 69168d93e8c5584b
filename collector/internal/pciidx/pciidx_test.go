package pciidx

import (
	"fmt"
	"strings"
	"testing"
)

const sample = `#
#	List of PCI ID's
#
#	Version: 2023.04.10
#	Date:    2023-04-10 03:15:02
#
0001  SafeNet (wrong ID)
# a comment inside
10de  NVIDIA Corporation
	2330  GH100 [H100 SXM5 80GB]
		10de 16c1  H100 SXM5 80GB
1af4  Red Hat, Inc.
	1000  Virtio network device
ffff  Illegal Vendor ID
C 00  Unclassified device
	00  Non-VGA unclassified device
C 02  Network controller
`

func TestBuild(t *testing.T) {
	ix, err := Build([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if ix.Version != "2023.04.10" {
		t.Errorf("version %q", ix.Version)
	}
	want := []uint16{0x0001, 0x10de, 0x1af4, 0xffff}
	if len(ix.Vendors) != len(want) {
		t.Fatalf("vendors %x, want %x", ix.Vendors, want)
	}
	for i, v := range want {
		if ix.Vendors[i] != v {
			t.Errorf("vendor %d = %04x, want %04x", i, ix.Vendors[i], v)
		}
		if line := sample[ix.Offsets[i]:]; !strings.HasPrefix(line, fmt.Sprintf("%04x  ", v)) {
			t.Errorf("offset %d of %04x points at %q", ix.Offsets[i], v, line[:10])
		}
	}
	if !strings.HasPrefix(sample[ix.Classes:], "C 00  ") {
		t.Errorf("classes at %d: %q", ix.Classes, sample[ix.Classes:])
	}
}

func TestBuildRejects(t *testing.T) {
	for name, text := range map[string]string{
		"unsorted":  "10de  NVIDIA\n0001  SafeNet\n",
		"duplicate": "10de  NVIDIA\n10de  NVIDIA again\n",
		"empty":     "# nothing\n",
		"devices":   "10de  NVIDIA\n\t2330  H100\n\t1000  older\n",
		"upper":     "10de  NVIDIA\n\t20B5  A100\n",
		"orphan":    "\t2330  H100\n10de  NVIDIA\n",
	} {
		if _, err := Build([]byte(text)); err == nil {
			t.Errorf("%s: Build accepted %q", name, text)
		}
	}
}

func TestVersion(t *testing.T) {
	for in, want := range map[string]string{
		"#\tVersion: 2023.04.10\n":            "2023.04.10",
		"# Version:2024.01.02  \n0001  x\n":   "2024.01.02",
		"#\tVersion: 2023.4.10\n":             "",
		"0001  Version: 2023.04.10\n":         "",
		"":                                    "",
		"#\tDate: 2023-04-10\n#Version: 99\n": "",
	} {
		if got := Version([]byte(in)); got != want {
			t.Errorf("Version(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzBuild(f *testing.F) {
	f.Add([]byte(sample))
	f.Fuzz(func(t *testing.T, text []byte) {
		ix, err := Build(text)
		if err != nil {
			return
		}
		for i, off := range ix.Offsets {
			if int(off)+6 > len(text) || i > 0 && ix.Vendors[i-1] >= ix.Vendors[i] || off >= ix.Classes {
				t.Fatalf("bad index entry %d: %04x at %d (classes %d, len %d)", i, ix.Vendors[i], off, ix.Classes, len(text))
			}
		}
		_ = Version(text)
	})
}
