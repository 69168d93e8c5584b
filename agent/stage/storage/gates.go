package storage

import (
	"context"
	"fmt"
	"strings"

	"github.com/shakedown/shakedown/agent/spec"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/agent/stage/storage/wipeprobe"
	"github.com/shakedown/shakedown/collector"
)

// gate runs the safety gates (docs/safety.md):
//  1. allowlist: role test in the spec, matched by identity one-to-one,
//     bound to dev_t at enumeration; missing disks and duplicates halt; boot
//     disks are never candidates;
//  2. at open: the opened file's dev_t and a fresh enumeration's identity for
//     that dev_t must still be the bound ones;
//  3. wipe-probe (three voters) on the opened file: anything but clean halts
//     unless the operator overrode that one disk by its identity (kernel
//     "in use"/read-only findings are never overridable);
//  4. write mode: re-open with O_EXCL and re-check dev_t; the exclusive
//     handle is held for the whole test.
//
// Every gate is evaluated for every disk before any disk is written: one
// failure halts the stage with zero bytes written anywhere.
type gate struct {
	env    *stage.Env
	enum   Enumerator
	opener Opener
	prober Prober
	boot   BootFinder
	spec   *spec.Spec
	write  bool
}

type gatedDisk struct {
	want     spec.Disk
	identity string // canonical identity text (the override target)
	cand     Candidate
	handle   Handle
	report   wipeprobe.Report
	override *stage.Override
}

type gateFailure struct {
	identity string
	code     string // finding code: UnexpectedData, DiskMissing, DiskDuplicate, ...
	message  string
}

func (g *gate) check(ctx context.Context, want []spec.Disk) ([]*gatedDisk, []gateFailure, error) {
	cands, err := g.enum.Disks(ctx)
	if err != nil {
		return nil, nil, err
	}
	haves := make([]collector.Disk, len(cands))
	for i, c := range cands {
		haves[i] = c.Disk
	}
	// Match every identified spec disk (all roles), so a keep or boot disk
	// sharing an identity with a test disk is caught as a conflict.
	var ids []spec.DiskIdentity
	var idx []int // into g.spec.Disks
	for i, d := range g.spec.Disks {
		if d.Anonymous {
			continue
		}
		ids = append(ids, d.ID)
		idx = append(idx, i)
	}
	m := spec.MatchDisks(ids, haves)
	var fails []gateFailure
	isTest := func(w int) bool { return g.spec.Disks[idx[w]].Role == spec.RoleTest }

	for _, w := range m.Missing {
		if isTest(w) {
			id := ids[w].String()
			fails = append(fails, gateFailure{id, "DiskMissing", fmt.Sprintf("Expected test disk %s is not present.", id)})
		}
	}
	for _, d := range m.Duplicates {
		var names []string
		for _, h := range d.Have {
			names = append(names, fmt.Sprintf("%s (%s)", cands[h].Disk.Name, cands[h].Disk.DevT))
		}
		fails = append(fails, gateFailure{d.Identity, "DiskDuplicate", fmt.Sprintf(
			"Identity %s is seen on %d devices (%s): multipath or a cloned identity; not testing any of them.",
			d.Identity, len(d.Have), strings.Join(names, ", "))})
	}
	for _, c := range m.Conflicts {
		fails = append(fails, gateFailure{spec.IdentityOf(cands[c.Have].Disk).String(), "DiskConflict", fmt.Sprintf(
			"Device %s matches %d entries of the expected spec.", cands[c.Have].Disk.Name, len(c.Want))})
	}
	bootDisks, err := g.boot.BootDisks(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("find the boot medium: %w", err)
	}

	var out []*gatedDisk
	for _, p := range m.Pairs {
		if !isTest(p.Want) {
			continue
		}
		c := cands[p.Have]
		gd := &gatedDisk{want: g.spec.Disks[idx[p.Want]], identity: spec.IdentityOf(c.Disk).String(), cand: c}
		if why, ok := bootDisks[c.Disk.DevT]; ok {
			fails = append(fails, gateFailure{gd.identity, "BootMedium", fmt.Sprintf(
				"Test disk %s (%s) holds the running system (%s): it is never a candidate.", gd.identity, c.Disk.Name, why)})
			continue
		}
		if c.Disk.DevT == "" {
			fails = append(fails, gateFailure{gd.identity, "DiskIdentity", fmt.Sprintf(
				"Test disk %s (%s) has no dev_t to bind to.", gd.identity, c.Disk.Name)})
			continue
		}
		out = append(out, gd)
	}
	if len(fails) > 0 {
		return nil, fails, nil // nothing opened yet
	}

	// Open, verify and probe each bound disk.
	var opened []*gatedDisk
	for _, gd := range out {
		if f := g.openAndProbe(ctx, gd); f != nil {
			fails = append(fails, *f)
			if gd.handle != nil {
				gd.handle.Close()
				gd.handle = nil
			}
			continue
		}
		opened = append(opened, gd)
	}
	if len(fails) == 0 && g.write {
		for _, gd := range opened {
			if f := g.exclusive(gd); f != nil {
				fails = append(fails, *f)
			}
		}
	}
	if len(fails) > 0 {
		for _, gd := range opened {
			gd.handle.Close()
		}
		return nil, fails, nil
	}
	return opened, nil, nil
}

// openAndProbe runs gates 2 and 3 for one disk. On success gd.handle is a
// shared read-only handle on the verified device.
func (g *gate) openAndProbe(ctx context.Context, gd *gatedDisk) *gateFailure {
	fail := func(code, format string, a ...any) *gateFailure {
		return &gateFailure{gd.identity, code, fmt.Sprintf(format, a...)}
	}
	bound := gd.cand.Disk.DevT
	h, err := g.opener.Open(gd.cand.Path, false)
	if err != nil {
		return fail("DiskOpen", "Test disk %s: %v.", gd.identity, err)
	}
	gd.handle = h
	got, err := h.DevT()
	if err != nil {
		return fail("DiskOpen", "Test disk %s: %v.", gd.identity, err)
	}
	if got != bound {
		return fail("DiskRenamed", "Test disk %s was bound to device %s at enumeration, but %s now opens device %s: renamed or replaced; not touching it.",
			gd.identity, bound, gd.cand.Path, got)
	}
	fresh, err := g.enum.Disks(ctx)
	if err != nil {
		return fail("DiskIdentity", "Test disk %s: re-enumerate: %v.", gd.identity, err)
	}
	var now *collector.Disk
	for i := range fresh {
		if fresh[i].Disk.DevT == bound {
			if now != nil {
				return fail("DiskIdentity", "Test disk %s: two devices report dev_t %s.", gd.identity, bound)
			}
			now = &fresh[i].Disk
		}
	}
	if now == nil {
		return fail("DiskIdentity", "Test disk %s: device %s disappeared before it was opened.", gd.identity, bound)
	}
	if !spec.Matches(gd.want.ID, *now) || spec.IdentityOf(*now).String() != gd.identity {
		return fail("DiskIdentity", "Test disk %s: device %s now reports identity %s.", gd.identity, bound, spec.IdentityOf(*now).String())
	}

	gd.report = g.prober.Probe(ctx, h.Path())
	if gd.report.Verdict != wipeprobe.Clean {
		ov := g.overrideFor(gd)
		kernel := kernelFindings(gd.report)
		switch {
		case len(kernel) > 0:
			return fail("DiskInUse", "Test disk %s (%s) is in use or read-only (%s); an override cannot lift this.",
				gd.identity, gd.cand.Disk.Name, strings.Join(kernel, "; "))
		case ov == nil:
			return fail("UnexpectedData", "Test disk %s (%s) is not blank: %s: %s. If this disk may be wiped, run: shakedown-agent action override --target '%s' --reason '<why>'.",
				gd.identity, gd.cand.Disk.Name, gd.report.Verdict, gd.report.Summary(), gd.identity)
		}
		gd.override = ov
		g.env.Logger().Warn("wipe-probe overridden", "stage", "Storage", "device", gd.cand.Disk.Name,
			"identity", gd.identity, "who", ov.Who, "reason", ov.Reason, "found", gd.report.Summary())
	}

	return nil
}

// exclusive swaps gd's shared handle for an O_EXCL one on the same open
// file and re-checks dev_t (gate 4, write mode only).
func (g *gate) exclusive(gd *gatedDisk) *gateFailure {
	fail := func(code, format string, a ...any) *gateFailure {
		return &gateFailure{gd.identity, code, fmt.Sprintf(format, a...)}
	}
	bound, h := gd.cand.Disk.DevT, gd.handle
	x, err := g.opener.Open(h.Path(), true)
	if err != nil {
		return fail("DiskInUse", "Test disk %s: exclusive open: %v.", gd.identity, err)
	}
	if d, err := x.DevT(); err != nil || d != bound {
		x.Close()
		return fail("DiskRenamed", "Test disk %s: exclusive handle is device %s, not %s (%v).", gd.identity, d, bound, err)
	}
	h.Close()
	gd.handle = x
	return nil
}

// overrideFor returns the operator override naming this disk, if any: its
// target must parse as an identity that matches the disk (or be exactly the
// canonical identity text).
func (g *gate) overrideFor(gd *gatedDisk) *stage.Override {
	for i := range g.env.Overrides {
		o := g.env.Overrides[i]
		t := strings.TrimSpace(o.Target)
		if t == gd.identity {
			return &o
		}
		if id, err := spec.ParseIdentity(t); err == nil && spec.Matches(id, gd.cand.Disk) {
			return &o
		}
	}
	return nil
}

// kernelFindings lists what the kernel voter reported: in use or read-only.
// These are facts about the device now, not about its contents, and no
// override makes writing to a mounted or read-only disk right.
func kernelFindings(r wipeprobe.Report) []string {
	var out []string
	for _, s := range r.Signatures {
		if s.Voter == wipeprobe.VoterKernel {
			out = append(out, s.Type+": "+s.Detail)
		}
	}
	for _, u := range r.Unknown {
		if u.Voter == wipeprobe.VoterKernel {
			out = append(out, u.Reason)
		}
	}
	return out
}
