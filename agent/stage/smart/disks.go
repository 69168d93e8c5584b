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
// inventory's with spec.BindDisks (the same binding SpecValidate's diff uses).
// Without a spec every inventory disk is a target.
func Select(sp *spec.Spec, disks []collector.Disk) Selection {
	if sp == nil {
		var s Selection
		for _, d := range disks {
			s.Targets = append(s.Targets, Target{Disk: d, Identity: spec.IdentityOf(d).String()})
		}
		return s
	}
	s := Selection{FromSpec: true}
	b := spec.BindDisks(sp.Disks, disks)
	for _, bd := range b.Bound {
		sd, d := sp.Disks[bd.Spec], disks[bd.Have]
		id := sd.Subject()
		if sd.Anonymous {
			id = spec.IdentityOf(d).String()
		}
		s.Targets = append(s.Targets, Target{Disk: d, Identity: id, Role: sd.Role})
	}
	for _, i := range b.Missing {
		s.Missing = append(s.Missing, sp.Disks[i].Subject())
	}
	for _, d := range b.Duplicates {
		if d.Want >= 0 {
			s.Missing = append(s.Missing, fmt.Sprintf("%s (on %d devices)", sp.Disks[d.Want].Subject(), len(d.Have)))
		}
	}
	for _, c := range b.Conflicts {
		for _, w := range c.Want {
			s.Missing = append(s.Missing, sp.Disks[w].Subject()+" (conflicting spec entries)")
		}
	}
	sort.Slice(s.Targets, func(i, j int) bool { return s.Targets[i].Disk.Name < s.Targets[j].Disk.Name })
	return s
}
