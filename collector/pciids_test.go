package collector

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shakedown/shakedown/collector/internal/pciidx"
)

// TestEmbeddedPCIIDsIndex: the generated index matches the embedded file
// (after replacing pciids/pci.ids, run `go generate ./collector`).
func TestEmbeddedPCIIDsIndex(t *testing.T) {
	ix, err := pciidx.Build(embeddedPCIIDs)
	if err != nil {
		t.Fatalf("embedded pci.ids: %v", err)
	}
	stale := "pciids_index.go is stale: run `go generate ./collector`"
	if ix.Version != embeddedPCIIDsVersion || int(ix.Classes) != embeddedPCIClasses {
		t.Fatalf("%s (version %q vs %q, classes %d vs %d)", stale, ix.Version, embeddedPCIIDsVersion, ix.Classes, embeddedPCIClasses)
	}
	if len(ix.Vendors) != len(embeddedPCIVendors) || len(ix.Offsets) != len(embeddedPCIVendorOffsets) {
		t.Fatalf("%s (%d vendors indexed, %d in the file)", stale, len(embeddedPCIVendors), len(ix.Vendors))
	}
	for i := range ix.Vendors {
		if ix.Vendors[i] != embeddedPCIVendors[i] || ix.Offsets[i] != embeddedPCIVendorOffsets[i] {
			t.Fatalf("%s (entry %d: %04x@%d vs %04x@%d)", stale, i, embeddedPCIVendors[i], embeddedPCIVendorOffsets[i], ix.Vendors[i], ix.Offsets[i])
		}
	}
}

// TestDeviceLine finds every device line of every vendor of the embedded
// file by binary search, and misses IDs that are not there.
func TestDeviceLine(t *testing.T) {
	n := 0
	for i := range embeddedPCIVendors {
		end := embeddedPCIClasses
		if i+1 < len(embeddedPCIVendorOffsets) {
			end = int(embeddedPCIVendorOffsets[i+1])
		}
		_, rest, _ := bytes.Cut(embeddedPCIIDs[embeddedPCIVendorOffsets[i]:end], []byte("\n"))
		present := map[string]bool{}
		for off := 0; off < len(rest); {
			line, _, _ := bytes.Cut(rest[off:], []byte("\n"))
			if len(line) >= 7 && line[0] == '\t' && line[1] != '\t' {
				id := string(line[1:5])
				present[id] = true
				if got := deviceLine(rest, id); got != off {
					t.Fatalf("vendor %04x device %s at %d, deviceLine says %d", embeddedPCIVendors[i], id, off, got)
				}
				n++
			}
			off += len(line) + 1
		}
		for _, id := range []string{"0000", "ffff", "7fff", "zzzz"} {
			if !present[id] {
				if got := deviceLine(rest, id); got != -1 {
					t.Fatalf("vendor %04x: absent device %s found at %d", embeddedPCIVendors[i], id, got)
				}
			}
		}
	}
	if n < 15000 { // Debian 12's file has 17,616
		t.Errorf("only %d device lines checked", n)
	}
}

// TestReadPCIIDsChoice: --pci-ids wins; a host pci.ids newer than the
// embedded copy, or without a version line, is used; an older or equal one
// gives way to the embedded copy; no file means the embedded copy.
func TestReadPCIIDsChoice(t *testing.T) {
	body := "0001  SafeNet\n10de  NVIDIA Corporation\n\t2330  A name only this file has\nC 03  Display controller\n"
	for _, tc := range []struct {
		name, header string
		hostFile     bool
		embedded     bool
	}{
		{"none", "", false, true},
		{"older", "#\tVersion: 2001.01.01\n", true, true},
		{"same", "#\tVersion: " + embeddedPCIIDsVersion + "\n", true, true},
		{"newer", "#\tVersion: 2999.12.31\n", true, false},
		{"unversioned", "# a hand-made file\n", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := Env{Root: t.TempDir()}
			if tc.hostFile {
				p := env.Path("/usr/share/misc/pci.ids")
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(tc.header+body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			db, src, err := loadPCIDB(env, map[string]map[string]bool{"10de": {"2330": true}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			name := db.Products["10de2330"].Name
			if gotEmbedded := strings.HasPrefix(src, "embedded"); gotEmbedded != tc.embedded || (name == "A name only this file has") == tc.embedded {
				t.Errorf("source %q, 10de:2330 named %q; want embedded=%v", src, name, tc.embedded)
			}
		})
	}
	// --pci-ids (Env.PCIIDs) is used even when it is older.
	f := filepath.Join(t.TempDir(), "old.ids")
	if err := os.WriteFile(f, []byte("#\tVersion: 2001.01.01\n"+body), 0o644); err != nil {
		t.Fatal(err)
	}
	db, src, err := loadPCIDB(Env{Root: t.TempDir(), PCIIDs: f}, nil, nil)
	if err != nil || src != f || db.Products["10de2330"].Name != "A name only this file has" {
		t.Errorf("explicit pci.ids: src %q err %v", src, err)
	}
	if _, _, err := loadPCIDB(Env{Root: t.TempDir(), PCIIDs: f + ".absent"}, nil, nil); err == nil {
		t.Errorf("absent --pci-ids accepted")
	}
}

// TestFilterEmbeddedPCIIDsClasses: with a class list, each listed class comes
// out as parsing the whole file gives it (subclasses, programming
// interfaces), and no other class does; an absent class is skipped.
func TestFilterEmbeddedPCIIDsClasses(t *testing.T) {
	all, err := parsePCIIDs(bytes.NewReader(embeddedPCIIDs), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, classes := range []map[string]bool{
		{"00": true}, // the section's first class
		{"02": true, "03": true, "06": true, "0c": true},
		{"ff": true}, // the last one ("Unassigned class")
		{"fe": true}, // absent
	} {
		db, err := parsePCIIDs(bytes.NewReader(filterEmbeddedPCIIDs(map[string]map[string]bool{"8086": {"1237": true}}, classes)), nil)
		if err != nil {
			t.Fatal(err)
		}
		for c := range classes {
			if d := cmp.Diff(all.Classes[c], db.Classes[c]); d != "" {
				t.Errorf("class %s (-full +filtered):\n%s", c, d)
			}
		}
		for c := range db.Classes {
			if !classes[c] {
				t.Errorf("class %s kept, not asked for", c)
			}
		}
		if db.Products["80861237"] == nil {
			t.Errorf("classes %v: the vendor part was lost", classes)
		}
	}
}

// TestSnapshotCarriesNewerPCIIDs: a host pci.ids newer than the embedded copy
// is what names come from, so a snapshot carries it and replays the same
// names; an older one is not read, and not captured either.
func TestSnapshotCarriesNewerPCIIDs(t *testing.T) {
	for _, tc := range []struct {
		version string
		carried bool
	}{{"2999.12.31", true}, {"2001.01.01", false}} {
		tr := newTree(t)
		addr := "0000:3b:00.0"
		tr.file("/sys/devices/pci0000:3a/"+addr+"/modalias", "pci:v000010DEd00002330sv000010DEsd000016C1bc03sc02i00\n").
			link("/sys/bus/pci/devices/"+addr, "../../../devices/pci0000:3a/"+addr).
			file("/usr/share/misc/pci.ids", "#\tVersion: "+tc.version+"\n10de  NVIDIA Corporation\n\t2330  Only-In-The-Host-File\nC 03  Display controller\n\t02  3D controller\n")
		env := tr.env()
		live, err := Collect(context.Background(), env)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := Snapshot(context.Background(), env, &buf, SnapshotOptions{}); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := UnpackSnapshot(&buf, dir); err != nil {
			t.Fatal(err)
		}
		_, statErr := os.Stat(filepath.Join(dir, "usr/share/misc/pci.ids"))
		if carried := statErr == nil; carried != tc.carried {
			t.Errorf("version %s: pci.ids in the snapshot = %v, want %v", tc.version, carried, tc.carried)
		}
		replay, err := Collect(context.Background(), Env{Root: dir})
		if err != nil {
			t.Fatal(err)
		}
		if len(live.PCI) != 1 || len(replay.PCI) != 1 || live.PCI[0].Product != replay.PCI[0].Product {
			t.Fatalf("version %s: live %+v, replay %+v", tc.version, live.PCI, replay.PCI)
		}
		if fromHost := live.PCI[0].Product == "Only-In-The-Host-File"; fromHost != tc.carried {
			t.Errorf("version %s: product %q", tc.version, live.PCI[0].Product)
		}
	}
}
