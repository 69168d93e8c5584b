package wipeprobe

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/shakedown/shakedown/collector"
)

// Verdict is the wipe-probe's answer for one device.
type Verdict string

// Verdicts. Only Clean lets a write happen without an operator override.
const (
	Clean   Verdict = "clean"
	Data    Verdict = "data"
	Unknown Verdict = "unknown"
)

// Problem is why a voter could not decide.
type Problem struct {
	Voter  string `json:"voter"`
	Reason string `json:"reason"`
}

// Report is the three voters' combined answer for one path.
type Report struct {
	Path    string  `json:"path"`
	Verdict Verdict `json:"verdict"`
	// Size is the device size in bytes the probe saw (0 when it could not open it).
	Size       int64       `json:"size"`
	Signatures []Signature `json:"signatures"`
	// Unknown lists every reason a voter could not decide; any entry makes
	// the verdict "unknown".
	Unknown []Problem `json:"unknown,omitempty"`
	// BlockDevice is false for image files (no kernel state to check).
	BlockDevice bool    `json:"block_device"`
	Seconds     float64 `json:"duration_seconds"`
}

// Types lists the distinct signature types, in offset order.
func (r Report) Types() []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range r.Signatures {
		if !seen[s.Type] {
			seen[s.Type] = true
			out = append(out, s.Type)
		}
	}
	return out
}

// Summary is one line naming what was found, for messages and logs:
// "gpt@0x200 (probe, wipefs), zfs_member@0x121000 (probe); unknown: wipefs exited 1".
func (r Report) Summary() string {
	type key struct {
		typ string
		off int64
	}
	voters := map[key][]string{}
	var order []key
	for _, s := range r.Signatures {
		k := key{s.Type, s.Offset}
		if _, ok := voters[k]; !ok {
			order = append(order, k)
		}
		voters[k] = append(voters[k], s.Voter)
	}
	var parts []string
	for _, k := range order {
		at := ""
		if k.off >= 0 {
			at = fmt.Sprintf("@%#x", k.off)
		}
		parts = append(parts, fmt.Sprintf("%s%s (%s)", k.typ, at, strings.Join(dedupe(voters[k]), ", ")))
	}
	out := strings.Join(parts, ", ")
	if len(r.Unknown) > 0 {
		var us []string
		for _, u := range r.Unknown {
			us = append(us, u.Voter+": "+u.Reason)
		}
		if out != "" {
			out += "; "
		}
		out += "could not decide: " + strings.Join(us, "; ")
	}
	if out == "" {
		return "no signatures"
	}
	return out
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Prober runs the three voters. Env gives the sysfs/procfs root for the
// kernel voter and the tool runner for wipefs.
type Prober struct {
	Env collector.Env
}

// Probe examines path (a block device, an image file, or a /proc/<pid>/fd/N
// link to an open device) with all three voters. It never writes. It never
// fails: every problem becomes an "unknown" entry.
func (p Prober) Probe(ctx context.Context, path string) Report {
	t0 := time.Now()
	rep := Report{Path: path, Signatures: []Signature{}}
	unknown := func(voter, format string, a ...any) {
		rep.Unknown = append(rep.Unknown, Problem{Voter: voter, Reason: fmt.Sprintf(format, a...)})
	}

	// (a) our own signature scan.
	if sigs, size, err := scanPath(path); err != nil {
		rep.Signatures = append(rep.Signatures, sigs...)
		rep.Size = size
		unknown(VoterProbe, "%v", err)
	} else {
		rep.Signatures = append(rep.Signatures, sigs...)
		rep.Size = size
	}

	// (b) wipefs -n --json.
	if p.Env.Tools == nil {
		unknown(VoterWipefs, "no tool runner")
	} else if sigs, err := runWipefs(ctx, p.Env.Tools, path); err != nil {
		unknown(VoterWipefs, "%v", err)
	} else {
		rep.Signatures = append(rep.Signatures, sigs...)
	}

	// (c) kernel state.
	sigs, reasons, block := kernelVote(p.Env, path)
	rep.BlockDevice = block
	rep.Signatures = append(rep.Signatures, sigs...)
	for _, r := range reasons {
		unknown(VoterKernel, "%s", r)
	}

	if ctx.Err() != nil {
		unknown(VoterProbe, "interrupted: %v", ctx.Err())
	}
	sort.SliceStable(rep.Signatures, func(i, j int) bool { return rep.Signatures[i].Offset < rep.Signatures[j].Offset })
	rep.Verdict = verdictOf(rep)
	rep.Seconds = time.Since(t0).Seconds()
	p.Env.Logger().Debug("wipe-probe", "device", path, "verdict", rep.Verdict, "signatures", len(rep.Signatures),
		"duration_seconds", rep.Seconds)
	return rep
}

// verdictOf: any unknown wins (fail closed), then any signature is data.
func verdictOf(r Report) Verdict {
	switch {
	case len(r.Unknown) > 0:
		return Unknown
	case len(r.Signatures) > 0:
		return Data
	}
	return Clean
}

// scanPath opens path read-only and runs Scan over it.
func scanPath(path string) ([]Signature, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("open: %w", err)
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, 0, fmt.Errorf("size: %w", err)
	}
	if size == 0 {
		return nil, 0, fmt.Errorf("device reports size 0 (no medium, or detached)")
	}
	sigs, err := Scan(f, size)
	return sigs, size, err
}
