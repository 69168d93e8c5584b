package smart

import (
	"fmt"
	"sort"

	"github.com/shakedown/shakedown/agent/spec"
	"github.com/shakedown/shakedown/collector"
)

// Target is one disk the stage reads.
type Target struct {
	Disk collector.Disk
	// Identity is the disk's identity string (spec.DiskIdentity.String()).
	Identity string
	// Role from the spec (test, keep, boot); "" when there is no spec.
	Role string
}

// Selection is the disks to check and the expected ones not found.
type Selection struct {
	Targets []Target
	// Missing are expected disks no device matched (by subject).
	Missing []string
	// FromSpec is false when there was no spec and every inventory disk is used.
	FromSpec bool
}

// Select binds the spec's disks (every role: SMART only reads) to the
// inventory's. Without a spec every inventory disk is a target. Anonymous
// spec entries take an unclaimed device of the same size (and class, if set).
func Select(sp *spec.Spec, disks []collector.Disk) Selection {
	if sp == nil {
		var s Selection
		for _, d := range disks {
			s.Targets = append(s.Targets, Target{Disk: d, Identity: spec.IdentityOf(d).String()})
		}
		return s
	}
	s := Selection{FromSpec: true}
	var want []spec.DiskIdentity
	var wantIdx []int
	for i, d := range sp.Disks {
		if !d.Anonymous {
			want = append(want, d.ID)
			wantIdx = append(wantIdx, i)
		}
	}
	m := spec.MatchDisks(want, disks)
	claimed := map[int]bool{}
	for _, p := range m.Pairs {
		sd := sp.Disks[wantIdx[p.Want]]
		s.Targets = append(s.Targets, Target{Disk: p.Disk, Identity: sd.Subject(), Role: sd.Role})
		claimed[p.Have] = true
	}
	for _, w := range m.Missing {
		s.Missing = append(s.Missing, sp.Disks[wantIdx[w]].Subject())
	}
	for _, d := range m.Duplicates {
		if d.Want >= 0 {
			s.Missing = append(s.Missing, fmt.Sprintf("%s (on %d devices)", sp.Disks[wantIdx[d.Want]].Subject(), len(d.Have)))
		}
	}
	for _, c := range m.Conflicts {
		claimed[c.Have] = true
		for _, w := range c.Want {
			s.Missing = append(s.Missing, sp.Disks[wantIdx[w]].Subject()+" (conflicting spec entries)")
		}
	}
	for _, sd := range sp.Disks {
		if !sd.Anonymous {
			continue
		}
		found := false
		for j, d := range disks {
			if claimed[j] || (sd.Size != nil && d.SizeBytes != *sd.Size) || (sd.Class != "" && d.Class != sd.Class) {
				continue
			}
			claimed[j], found = true, true
			s.Targets = append(s.Targets, Target{Disk: d, Identity: spec.IdentityOf(d).String(), Role: sd.Role})
			break
		}
		if !found {
			s.Missing = append(s.Missing, "anonymous disk")
		}
	}
	sort.Slice(s.Targets, func(i, j int) bool { return s.Targets[i].Disk.Name < s.Targets[j].Disk.Name })
	return s
}
