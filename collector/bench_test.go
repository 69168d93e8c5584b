package collector

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkCollect runs every probe against the committed snapshot of the
// development VM (pci.ids from the embedded copy, no tools).
func BenchmarkCollect(b *testing.B) {
	env := unpackFixture(b, devVMSnapshot)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Collect(context.Background(), env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadPCIDB builds the PCI name database the way the PCI probe does
// on a host with Intel and Red Hat (virtio) functions, from Debian's pci.ids
// (the embedded copy): vendor lookup, device filtering, class section.
func BenchmarkLoadPCIDB(b *testing.B) {
	want := map[string]map[string]bool{
		"8086": {"1237": true, "7000": true, "7010": true, "7113": true, "1572": true, "2030": true},
		"1af4": {"1041": true, "1042": true, "1044": true, "1045": true, "1053": true},
		"15b3": {"1017": true},
		"10de": {"2330": true},
	}
	f := filepath.Join(b.TempDir(), "pci.ids")
	if err := os.WriteFile(f, embeddedPCIIDs, 0o644); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		env  Env
	}{
		{"file", Env{Root: b.TempDir(), PCIIDs: f}}, // a host pci.ids newer than the embedded one
		{"embedded", Env{Root: b.TempDir()}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				db, _, err := loadPCIDB(bc.env, want, map[string]bool{"02": true, "03": true, "06": true})
				if err != nil || db.Vendors["8086"] == nil || db.Products["10de2330"] == nil {
					b.Fatalf("loadPCIDB: %v", err)
				}
			}
		})
	}
}
