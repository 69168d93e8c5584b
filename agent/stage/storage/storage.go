// Package storage is the Storage stage: the safety gates (allowlist by disk
// identity bound to dev_t, the three-voter wipe-probe, per-disk operator
// overrides), then badblocks and fio on every disk that passed, one worker per
// disk. See docs/safety.md and docs/storage.md.
package storage

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shakedown/shakedown/agent/event"
	"github.com/shakedown/shakedown/agent/spec"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/agent/stage/storage/wipeprobe"
)

func init() { stage.Register(&Stage{}) }

// Stage is the Storage stage. The zero value uses the real system; tests
// inject fakes for each field.
type Stage struct {
	Enum  Enumerator
	Open  Opener
	Probe Prober
	Boot  BootFinder
}

// Name implements stage.Stage.
func (*Stage) Name() string { return "Storage" }

// Destructive implements stage.Stage: badblocks -w and fio randrw write.
func (*Stage) Destructive() bool { return true }

// DefaultTimeout implements stage.Stage. A full write pass over a large HDD
// takes days; profiles and config shorten it.
func (*Stage) DefaultTimeout() time.Duration { return 96 * time.Hour }

// Parameter names.
const (
	ParamSurface  = "surface"
	ParamBudget   = "surface_budget"
	ParamSegments = "surface_segments"
	ParamIOSize   = "badblocks_io_size"
	ParamFioTime  = "fio_runtime"
	ParamFioSize  = "fio_size"
)

// Params implements stage.Parameterised.
func (*Stage) Params() []stage.Param {
	return []stage.Param{
		{Name: ParamSurface, Kind: stage.KindString, Default: "full",
			ByProfile: map[string]string{"quick": "bounded", "safe": "bounded"},
			Help:      "badblocks coverage: full (every block, 4 write patterns) or bounded (surface_budget spread over the disk)"},
		{Name: ParamBudget, Kind: stage.KindSize, Default: "8GiB", ByProfile: map[string]string{"quick": "2GiB", "safe": "2GiB"},
			Help: "bytes badblocks tests per disk when surface is bounded, split into surface_segments ranges from start to end"},
		{Name: ParamSegments, Kind: stage.KindInt, Default: "8", Help: "number of ranges a bounded surface test is spread over"},
		{Name: ParamIOSize, Kind: stage.KindSize, Default: "16MiB",
			Help: "bytes per badblocks I/O (-c = this / block size); larger is faster, up to the device's max transfer"},
		{Name: ParamFioTime, Kind: stage.KindDuration, Default: "60s", ByProfile: map[string]string{"quick": "20s", "safe": "20s"},
			Help: "fio runtime per disk"},
		{Name: ParamFioSize, Kind: stage.KindSize, Default: "1GiB", Help: "fio --size per disk (clipped to the disk)"},
	}
}

func (s *Stage) deps(env *stage.Env) (Enumerator, Opener, Prober, BootFinder) {
	e, o, p, b := s.Enum, s.Open, s.Probe, s.Boot
	if e == nil {
		e = sysfsEnumerator{env: env.Collector}
	}
	if o == nil {
		o = osOpener{env: env.Collector}
	}
	if p == nil {
		ce := env.Collector
		if ce.Tools == nil {
			ce.Tools = env.Tools
		}
		p = wipeprobe.Prober{Env: ce}
	}
	if b == nil {
		b = mountBoot{env: env.Collector}
	}
	return e, o, p, b
}

// Run implements stage.Stage.
func (s *Stage) Run(ctx context.Context, env *stage.Env) (stage.Result, error) {
	enum, opener, prober, boot := s.deps(env)
	sp, err := spec.FromEnv(env)
	if err != nil {
		return stage.Result{}, stage.Errorf("Storage", "%v", err)
	}
	thresholds, err := spec.Thresholds(env)
	if err != nil {
		return stage.Result{}, stage.Errorf("Storage", "%v", err)
	}
	want := sp.DisksWithRole(spec.RoleTest)
	if len(want) == 0 {
		return stage.Result{Status: stage.Skip, Reason: "no_test_disks",
			Message: "the expected spec names no disk with role test: nothing may be written"}, nil
	}

	g := &gate{env: env, enum: enum, opener: opener, prober: prober, boot: boot, spec: sp, write: env.AllowDestructive}
	disks, failures, err := g.check(ctx, want)
	defer func() {
		for _, d := range disks {
			d.handle.Close()
		}
	}()
	if err != nil {
		return stage.Result{}, stage.Errorf("Storage", "%v", err)
	}
	if len(failures) > 0 {
		return g.halt(failures), nil
	}
	return s.test(ctx, env, disks, thresholds)
}

// halt builds the result for a run stopped by the gates: nothing was written.
func (g *gate) halt(failures []gateFailure) stage.Result {
	res := stage.Result{Status: stage.Fail, Reason: "disk_gate"}
	var dataMsgs, otherMsgs []string
	for _, f := range failures {
		res.Findings = append(res.Findings, stage.Finding{Code: f.code, Severity: stage.Critical, Subject: f.identity, Message: f.message})
		if f.code == "UnexpectedData" {
			dataMsgs = append(dataMsgs, f.message)
		} else {
			otherMsgs = append(otherMsgs, f.message)
		}
	}
	var b strings.Builder
	b.WriteString("Storage halted before writing anything. ")
	if len(dataMsgs) > 0 {
		res.Reason = "unexpected_data"
		b.WriteString(strings.Join(dataMsgs, " "))
		if len(otherMsgs) > 0 {
			b.WriteString(" Also: ")
		}
	}
	b.WriteString(strings.Join(otherMsgs, " "))
	res.Message = strings.TrimSpace(b.String())
	if len(dataMsgs) > 0 {
		g.env.Notice(event.UnexpectedData, res.Message)
	}
	res.Summary = map[string]any{"written_bytes": 0, "gate_failures": len(failures)}
	return res
}

// diskOutcome is one disk's test result.
type diskOutcome struct {
	d         *gatedDisk
	failed    []string // reasons, empty = pass
	findings  []stage.Finding
	artifacts []stage.Artifact
	summary   map[string]any
	err       error // could not decide
}

func (s *Stage) test(ctx context.Context, env *stage.Env, disks []*gatedDisk, th stage.Params) (stage.Result, error) {
	outs := make([]diskOutcome, len(disks))
	done := make(chan int, len(disks))
	for i, d := range disks {
		go func() {
			outs[i] = testDisk(ctx, env, d, th)
			done <- i
		}()
	}
	for range disks {
		<-done
	}
	res := stage.Result{Status: stage.Pass, Summary: map[string]any{}}
	var fails []string
	perDisk := map[string]any{}
	for _, o := range outs {
		if o.err != nil {
			return stage.Result{}, stage.Errorf("Storage", "%s: %v", o.d.identity, o.err)
		}
		res.Findings = append(res.Findings, o.findings...)
		res.Artifacts = append(res.Artifacts, o.artifacts...)
		perDisk[o.d.identity] = o.summary
		if len(o.failed) > 0 {
			fails = append(fails, fmt.Sprintf("%s (%s): %s", o.d.identity, o.d.cand.Disk.Name, strings.Join(o.failed, "; ")))
		}
	}
	res.Summary["disks"] = perDisk
	res.Summary["mode"] = map[bool]string{true: "write", false: "read-only"}[env.AllowDestructive]
	sort.Strings(fails)
	if len(fails) > 0 {
		res.Status = stage.Fail
		res.Reason = "disk_failed"
		res.Message = fmt.Sprintf("%d of %d disks failed: %s", len(fails), len(disks), strings.Join(fails, " | "))
		return res, nil
	}
	mode := "badblocks write test and fio randrw"
	if !env.AllowDestructive {
		mode = "read-only badblocks and fio randread (safe profile)"
	}
	res.Message = fmt.Sprintf("%d disks passed %s", len(disks), mode)
	return res, nil
}
