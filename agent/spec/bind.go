package spec

import "github.com/shakedown/shakedown/collector"

// Bound is one spec disk entry bound to one found device.
type Bound struct {
	Spec int // index into Spec.Disks
	Have int // index into the inventory's disks
}

// Binding is the one-to-one binding of every spec disk entry, identified and
// anonymous, to the inventory's devices. It is the single place that decides
// which device a spec entry means: SpecValidate's diff, the SMART stage and
// anything else that walks "the expected disks" use it, so they never
// disagree about which disk is which.
type Binding struct {
	Bound      []Bound
	Missing    []int       // spec indices no device matched
	Unexpected []int       // inventory indices no entry took (not counting duplicates)
	Duplicates []Duplicate // Want is a spec index, or -1
	Conflicts  []Conflict  // Want are spec indices
}

// BindDisks binds spec disks to found devices: identified entries by identity
// (MatchDisks: WWN/EUI/NGUID, else vendor+model+serial, one-to-one), then each
// anonymous entry to an unclaimed device that has no identity, whose size is
// within DiskSizeTolerance of the entry's and whose class matches (if set).
func BindDisks(want []Disk, have []collector.Disk) Binding {
	var ids []DiskIdentity
	var idx []int // spec index of each identified entry
	for i, w := range want {
		if !w.Anonymous {
			ids = append(ids, w.ID)
			idx = append(idx, i)
		}
	}
	m := MatchDisks(ids, have)
	var b Binding
	for _, p := range m.Pairs {
		b.Bound = append(b.Bound, Bound{Spec: idx[p.Want], Have: p.Have})
	}
	for _, w := range m.Missing {
		b.Missing = append(b.Missing, idx[w])
	}
	inDup := map[int]bool{}
	for _, d := range m.Duplicates {
		if d.Want >= 0 {
			d.Want = idx[d.Want]
		}
		for _, j := range d.Have {
			inDup[j] = true
		}
		b.Duplicates = append(b.Duplicates, d)
	}
	for _, c := range m.Conflicts {
		cc := Conflict{Have: c.Have}
		for _, w := range c.Want {
			cc.Want = append(cc.Want, idx[w])
		}
		b.Conflicts = append(b.Conflicts, cc)
	}
	claimed := map[int]bool{}
	for i, w := range want {
		if !w.Anonymous {
			continue
		}
		found := -1
		for _, j := range m.Unexpected {
			hd := have[j]
			if claimed[j] || inDup[j] || !IdentityOf(hd).IsZero() || (w.Class != "" && w.Class != hd.Class) {
				continue
			}
			if w.Size != nil && within(hd.SizeBytes, *w.Size, DiskSizeTolerance) != 0 {
				continue
			}
			found = j
			break
		}
		if found < 0 {
			b.Missing = append(b.Missing, i)
			continue
		}
		claimed[found] = true
		b.Bound = append(b.Bound, Bound{Spec: i, Have: found})
	}
	for _, j := range m.Unexpected {
		if !claimed[j] && !inDup[j] {
			b.Unexpected = append(b.Unexpected, j)
		}
	}
	return b
}
