package spec

import (
	"strings"
	"testing"

	"github.com/shakedown/shakedown/collector"
)

// TestBindDisksAnonymousBySizeWithinTolerance is the regression for a captured
// spec whose anonymous disk size is written rounded (274.878GB): SpecValidate
// and SMART must both bind it to the 274877906944-byte device.
func TestBindDisksAnonymousBySizeWithinTolerance(t *testing.T) {
	sp, err := Parse(strings.NewReader(`version: 1
host: h
cpu:
  model: "*"
memory:
  total: 24GiB
disks:
  - anonymous: true
    size: 274.878GB
    class: hdd
    role: keep
  - wwn: "0x5000c500a1b2c3d4"
    role: test
  - anonymous: true
    size: 1TB
    role: keep
`), "spec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	have := []collector.Disk{
		{Name: "sda", SizeBytes: 1000204886016, WWN: "0x5000c500a1b2c3d4", Class: "hdd"},
		{Name: "vda", SizeBytes: 274877906944, Class: "hdd"},
		{Name: "vdb", SizeBytes: 274877906944, Class: "hdd"},
	}
	b := BindDisks(sp.Disks, have)
	got := map[int]int{}
	for _, bd := range b.Bound {
		got[bd.Spec] = bd.Have
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 0 {
		t.Fatalf("bound %+v", b.Bound)
	}
	// The 1TB anonymous entry must not take the identified 1TB disk, nor vdb.
	if len(b.Missing) != 1 || b.Missing[0] != 2 {
		t.Fatalf("missing %v", b.Missing)
	}
	if len(b.Unexpected) != 1 || b.Unexpected[0] != 2 {
		t.Fatalf("unexpected %v", b.Unexpected)
	}
}
