package reporting

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/shakedown/shakedown/agent/engine"
	"github.com/shakedown/shakedown/agent/journal"
	"github.com/shakedown/shakedown/agent/report"
	"github.com/shakedown/shakedown/agent/spec"
	"github.com/shakedown/shakedown/collector"
)

// Journal is what building a report reads (*journal.Journal implements it).
type Journal interface {
	GetRun(ctx context.Context, id string) (journal.Run, error)
	Stages(ctx context.Context, runID string) ([]journal.StageRow, error)
	Measurements(ctx context.Context, runID, kind string) ([]journal.MeasurementRow, error)
	Artifacts(ctx context.Context, runID string) ([]journal.ArtifactRow, error)
	SpecDiffs(ctx context.Context, runID string) ([]journal.SpecDiffRow, error)
	Actions(ctx context.Context, runID string) ([]journal.Action, error)
	Fact(ctx context.Context, runID, key string, v any) (bool, error)
}

var _ Journal = (*journal.Journal)(nil)

// BuildOptions tune Build.
type BuildOptions struct {
	// Generator names the program ("shakedown-agent v1.2").
	Generator string
	// Now is the report's generation time (default time.Now).
	Now time.Time
}

// Build reads one run from the journal and assembles its report. The
// Reporting stage itself is left out of the stage list (it is writing the
// report); the verdict follows report.Decide.
func Build(ctx context.Context, j Journal, runID string, opt BuildOptions) (*report.Report, error) {
	r, err := j.GetRun(ctx, runID)
	if err != nil {
		return nil, fmt.Errorf("read run: %w", err)
	}
	rows, err := j.Stages(ctx, runID)
	if err != nil {
		return nil, err
	}
	ms, err := j.Measurements(ctx, runID, "")
	if err != nil {
		return nil, err
	}
	arts, err := j.Artifacts(ctx, runID)
	if err != nil {
		return nil, err
	}
	diffs, err := j.SpecDiffs(ctx, runID)
	if err != nil {
		return nil, err
	}
	acts, err := j.Actions(ctx, runID)
	if err != nil {
		return nil, err
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	rep := &report.Report{
		Schema: report.Schema, Version: report.Version, GeneratedAt: now.UTC(), Generator: opt.Generator,
		Run: runOf(r, now), Host: report.Host{ID: r.HostID},
		Stages: stagesOf(rows), SpecDiffs: []report.SpecDiff{}, Actions: []report.Action{}, Artifacts: []report.Artifact{},
	}
	if rep.Generator == "" {
		rep.Generator = "shakedown-agent " + r.AgentVersion
	}
	var inv collector.Inventory
	if ok, err := j.Fact(ctx, runID, "inventory", &inv); err != nil {
		return nil, err
	} else if ok {
		rep.Host, rep.Inventory = hostOf(&inv, r.HostID), inventoryOf(&inv)
	}
	for _, d := range diffs {
		rep.SpecDiffs = append(rep.SpecDiffs, report.SpecDiff{Field: d.Field, Subject: d.Subject, Expected: d.Expected,
			Actual: d.Actual, Class: string(d.Class), Message: d.Message})
	}
	for _, a := range acts {
		rep.Actions = append(rep.Actions, actionOf(a))
	}
	samples := make([]report.Sample, 0, len(ms))
	for _, m := range ms {
		samples = append(samples, report.Sample{Stage: m.Stage, Kind: m.Kind, Subject: m.Subject, Name: m.Name, Unit: m.Unit, Value: m.Value, At: m.Time})
	}
	rep.Measurements = report.Aggregates(samples)
	rep.Series = report.BuildSeries(samples, report.MaxSeriesPoints)
	if rep.Measurements == nil {
		rep.Measurements = []report.Aggregate{}
	}
	if rep.Series == nil {
		rep.Series = []report.Series{}
	}
	rep.Artifacts = artifactsOf(arts)
	var cfg struct {
		Thresholds map[string]string `json:"thresholds"`
	}
	if json.Unmarshal([]byte(r.ConfigJSON), &cfg) == nil {
		rep.Thresholds = cfg.Thresholds
	}
	// The host's spec may tighten thresholds (SpecValidate stores it as a fact).
	var sp spec.Spec
	if ok, _ := j.Fact(ctx, runID, spec.FactKey, &sp); ok && len(sp.Thresholds) > 0 {
		if rep.Thresholds == nil {
			rep.Thresholds = map[string]string{}
		}
		for k, v := range sp.Thresholds {
			rep.Thresholds[k] = v
		}
	}
	rep.Verdict = report.Decide(rep.Run, rep.Stages, rep.Actions)
	if rep.Verdict.Final && rep.Run.Result == "" {
		// Written by the Reporting stage: the engine records this result
		// when the run moves to Completed right after.
		rep.Run.Result = rep.Verdict.Result
	}
	return rep, nil
}

func runOf(r journal.Run, now time.Time) report.Run {
	out := report.Run{ID: r.ID, HostID: r.HostID, Profile: r.Profile, State: r.State, Result: r.Result,
		FailedStage: r.FailedStage, Abandoned: r.Abandoned, AgentVersion: r.AgentVersion,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, CompletedAt: r.CompletedAt}
	end := now
	if r.CompletedAt != nil {
		end = *r.CompletedAt
	}
	out.DurationSeconds = end.Sub(r.CreatedAt).Seconds()
	return out
}

// RunOf converts a journal run row (for checkpoints).
func RunOf(r journal.Run, now time.Time) report.Run { return runOf(r, now) }

// StagesOf converts journal stage rows into the report's stage list (the
// fixed order minus Reporting, latest attempt of each, earlier attempts kept).
func StagesOf(rows []journal.StageRow) []report.Stage { return stagesOf(rows) }

func stagesOf(rows []journal.StageRow) []report.Stage {
	byName := map[string][]journal.StageRow{}
	for _, row := range rows {
		byName[row.Name] = append(byName[row.Name], row)
	}
	var out []report.Stage
	for _, name := range engine.Order {
		if name == engine.Reporting {
			continue
		}
		s := report.Stage{Name: name, Status: "pending"}
		attempts := byName[name]
		if n := len(attempts); n > 0 {
			last := attempts[n-1]
			started := last.StartedAt
			s.Status, s.Attempts, s.Reason, s.Message = last.Status, n, last.Reason, last.Message
			s.Overridden, s.Destructive, s.StartedAt, s.CompletedAt = last.Overridden, last.Destructive, &started, last.CompletedAt
			if last.CompletedAt != nil {
				d := last.CompletedAt.Sub(last.StartedAt).Seconds()
				s.DurationSeconds = &d
			}
			for _, f := range last.Findings {
				s.Findings = append(s.Findings, report.Finding{Code: f.Code, Severity: string(f.Severity), Subject: f.Subject, Message: f.Message})
			}
			if len(last.Summary) > 0 && string(last.Summary) != "{}" && string(last.Summary) != "null" {
				var v any
				if json.Unmarshal(last.Summary, &v) == nil {
					s.Summary = v
				}
			}
			for _, a := range attempts[:n-1] {
				s.Earlier = append(s.Earlier, report.Attempt{Attempt: a.Attempt, Status: a.Status, Reason: a.Reason,
					Message: a.Message, StartedAt: a.StartedAt, CompletedAt: a.CompletedAt})
			}
		}
		out = append(out, s)
	}
	return out
}

func actionOf(a journal.Action) report.Action {
	return report.Action{Kind: a.Kind, Who: a.Who, Reason: a.Reason, Target: a.Target, Stage: a.Stage, StateBefore: a.StateBefore, At: a.At}
}

// artifactsOf lists artifacts with their bucket keys. A name that repeats
// (a stage retried) keeps artifacts/<name> for the newest file; older ones
// get artifacts/<work dir>-<name>, so no upload overwrites another.
func artifactsOf(arts []journal.ArtifactRow) []report.Artifact {
	last := map[string]int{}
	for i, a := range arts {
		last[a.Name] = i
	}
	out := []report.Artifact{}
	for i, a := range arts {
		key := report.ArtifactsDir + "/" + a.Name
		if last[a.Name] != i {
			key = report.ArtifactsDir + "/" + filepath.Base(filepath.Dir(a.Path)) + "-" + a.Name
		}
		out = append(out, report.Artifact{Stage: a.Stage, Name: a.Name, Size: a.Size, SHA256: a.SHA256, ContentType: a.ContentType, Key: key})
	}
	return out
}

func hostOf(inv *collector.Inventory, id string) report.Host {
	h := report.Host{ID: id, IDSource: inv.HostIDSource, Hostname: inv.Hostname}
	if h.ID == "" {
		h.ID = inv.HostID
	}
	if s := inv.System; s != nil {
		h.Vendor, h.Product, h.Serial, h.UUID = s.Vendor, s.Product, s.Serial, s.UUID
		h.BIOS = strings.TrimSpace(strings.Join([]string{s.BIOSVendor, s.BIOSVersion, s.BIOSDate}, " "))
	}
	return h
}

func inventoryOf(inv *collector.Inventory) *report.Inventory {
	out := &report.Inventory{Disks: []report.Disk{}, NICs: []report.NIC{}, GPUs: []report.GPU{}, PCIDevices: len(inv.PCI)}
	if c := inv.CPU; c != nil {
		out.CPUModel, out.Sockets, out.Cores, out.Threads = c.Model, c.Sockets, c.Cores, c.Threads
	}
	if m := inv.Memory; m != nil {
		out.MemoryBytes, out.DIMMs = m.TotalBytes, len(m.DIMMs)
		if m.InstalledBytes != nil {
			out.MemoryBytes = *m.InstalledBytes
		}
	}
	for _, d := range inv.Disks {
		out.Disks = append(out.Disks, report.Disk{Name: d.Name, Identity: spec.IdentityOf(d).String(), Model: d.Model,
			Serial: d.Serial, WWN: d.WWN, Class: d.Class, Transport: d.Transport, SizeBytes: d.SizeBytes})
	}
	for _, n := range inv.NICs {
		out.NICs = append(out.NICs, report.NIC{Name: n.Name, MAC: n.MAC, Driver: n.Driver, SpeedMbps: n.SpeedMbps, Carrier: n.Carrier})
	}
	for _, g := range inv.GPUs {
		out.GPUs = append(out.GPUs, report.GPU{Model: g.Model, Vendor: g.Vendor, PCIAddress: g.PCIAddress, Serial: g.Serial})
	}
	for _, p := range inv.Probes {
		switch {
		case p.NoData:
			out.ProbesMissing = append(out.ProbesMissing, p.Name)
		case !p.OK:
			out.ProbesFailed = append(out.ProbesFailed, p.Name)
		}
	}
	return out
}
