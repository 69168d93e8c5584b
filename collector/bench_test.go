package collector

import (
	"context"
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
