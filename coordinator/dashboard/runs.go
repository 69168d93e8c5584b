package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shakedown/shakedown/coordinator/bucket"
)

// RunView is one run as the dashboard shows it, rebuilt from the bucket:
// state, result and failed stage from runs/<host>/<run-id>/checkpoint.json
// (rewritten at every transition, so it has the run's last state), and from
// its report.json only what the checkpoint lacks (the report is written
// during Reporting, before the run completes, so its run.state is
// "Reporting").
type RunView struct {
	Host, ID    string
	State       string
	Result      string
	FailedStage string
	Profile     string
	Updated     time.Time
	// Keys of the run's files that exist in the bucket.
	ReportHTML, ReportJSON, Checkpoint string
	// Problem says why the run's JSON could not be read.
	Problem string
}

// Verdict is what the badge says: the result when there is one, else the
// state of a run still going.
func (r RunView) Verdict() string {
	switch {
	case r.Result != "":
		return r.Result
	case r.State != "":
		return "running"
	}
	return "unknown"
}

// Badge is the CSS class of the verdict badge.
func (r RunView) Badge() string {
	switch strings.ToLower(r.Verdict()) {
	case "pass", "passed", "ok":
		return "pass"
	case "fail", "failed", "error":
		return "fail"
	case "warn", "warning":
		return "warn"
	case "running":
		if strings.EqualFold(r.State, "FailedHolding") {
			return "fail"
		}
		return "running"
	}
	return "unknown"
}

// HostView is one host with its newest runs first.
type HostView struct {
	ID      string
	HasSpec bool
	SpecKey string
	Runs    []RunView
	Older   int // runs not shown
}

// Latest is the newest run, or nil.
func (h HostView) Latest() *RunView {
	if len(h.Runs) == 0 {
		return nil
	}
	return &h.Runs[0]
}

// Lister is the part of bucket.Store the dashboard reads.
type Lister interface {
	List(ctx context.Context, prefix string) ([]bucket.Object, error)
	Get(ctx context.Context, key string, limit int64) ([]byte, error)
}

// maxRunJSON bounds the report.json/checkpoint.json the dashboard reads.
const maxRunJSON = 8 << 20

// collect lists hosts and runs from the bucket. Errors reading a single run
// are shown on that run; an error listing the bucket is returned.
func collect(ctx context.Context, b Lister, perHost int) ([]HostView, error) {
	hosts := map[string]*HostView{}
	host := func(id string) *HostView {
		h, ok := hosts[id]
		if !ok {
			h = &HostView{ID: id}
			hosts[id] = h
		}
		return h
	}
	specs, err := b.List(ctx, "hosts/")
	if err != nil {
		return nil, err
	}
	for _, o := range specs {
		parts := strings.Split(o.Key, "/")
		if len(parts) == 3 && parts[2] == "spec.yaml" && parts[1] != "" {
			h := host(parts[1])
			h.HasSpec, h.SpecKey = true, o.Key
		}
	}
	objs, err := b.List(ctx, "runs/")
	if err != nil {
		return nil, err
	}
	type runKey struct{ host, run string }
	runs := map[runKey]*RunView{}
	for _, o := range objs {
		parts := strings.SplitN(o.Key, "/", 4)
		if len(parts) != 4 || parts[1] == "" || parts[2] == "" {
			continue
		}
		k := runKey{parts[1], parts[2]}
		r, ok := runs[k]
		if !ok {
			r = &RunView{Host: k.host, ID: k.run}
			runs[k] = r
		}
		if o.LastModified.After(r.Updated) {
			r.Updated = o.LastModified
		}
		switch parts[3] {
		case "report.html":
			r.ReportHTML = o.Key
		case "report.json":
			r.ReportJSON = o.Key
		case "checkpoint.json":
			r.Checkpoint = o.Key
		}
	}
	for _, r := range runs {
		h := host(r.Host)
		h.Runs = append(h.Runs, *r)
	}
	// Newest first by the time the bucket last saw a file of the run, then
	// keep perHost runs and read their JSON (bounded concurrency).
	var todo []*RunView
	for _, h := range hosts {
		sort.Slice(h.Runs, func(i, j int) bool {
			if !h.Runs[i].Updated.Equal(h.Runs[j].Updated) {
				return h.Runs[i].Updated.After(h.Runs[j].Updated)
			}
			return h.Runs[i].ID > h.Runs[j].ID
		})
		if len(h.Runs) > perHost {
			h.Older = len(h.Runs) - perHost
			h.Runs = h.Runs[:perHost]
		}
		for i := range h.Runs {
			todo = append(todo, &h.Runs[i])
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, r := range todo {
		if r.Checkpoint == "" && r.ReportJSON == "" {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(r *RunView) {
			defer wg.Done()
			defer func() { <-sem }()
			readRun(ctx, b, r)
		}(r)
	}
	wg.Wait()
	out := make([]HostView, 0, len(hosts))
	for _, h := range hosts {
		out = append(out, *h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// readRun fills r from the run's checkpoint.json, then fills what that lacks
// (or all of it, when it is missing or unreadable) from its report.json.
func readRun(ctx context.Context, b Lister, r *RunView) {
	var cpErr error
	if r.Checkpoint != "" {
		raw, err := b.Get(ctx, r.Checkpoint, maxRunJSON)
		if err == nil {
			err = parseRun(raw, r)
		}
		cpErr = err
	}
	complete := cpErr == nil && r.Checkpoint != "" && r.State != "" && r.Profile != "" &&
		(r.Result != "" || !isFinal(r.State))
	if complete || r.ReportJSON == "" {
		if cpErr != nil {
			r.Problem = cpErr.Error()
		}
		return
	}
	var rep RunView
	raw, err := b.Get(ctx, r.ReportJSON, maxRunJSON)
	if err == nil {
		err = parseRun(raw, &rep)
	}
	switch {
	case err != nil && cpErr != nil:
		r.Problem = cpErr.Error()
	case err != nil && r.Checkpoint == "":
		r.Problem = err.Error()
	case err != nil:
		// The checkpoint was read; the report adds nothing.
	default:
		if cpErr != nil {
			r.Problem = "checkpoint.json: " + cpErr.Error()
		}
		fill(&r.State, rep.State)
		fill(&r.Result, rep.Result)
		fill(&r.FailedStage, rep.FailedStage)
		fill(&r.Profile, rep.Profile)
		if cpErr != nil && !rep.Updated.IsZero() {
			r.Updated = rep.Updated
		}
	}
}

func fill(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// isFinal reports whether a run in this state has a result.
func isFinal(state string) bool { return state == "Completed" || state == "Released" }

// parseRun fills r from a report.json or checkpoint.json. It reads the few
// fields the dashboard shows, at the top level or under "run" (the journal's
// run row), so the report schema can grow without breaking the dashboard.
func parseRun(raw []byte, r *RunView) error {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("parse JSON: %w", err)
	}
	layers := []map[string]json.RawMessage{doc}
	for _, k := range []string{"run", "checkpoint"} {
		var sub map[string]json.RawMessage
		if v, ok := doc[k]; ok && json.Unmarshal(v, &sub) == nil {
			layers = append(layers, sub)
		}
	}
	str := func(keys ...string) string {
		for _, l := range layers {
			for _, k := range keys {
				var s string
				if v, ok := l[k]; ok && json.Unmarshal(v, &s) == nil && s != "" {
					return s
				}
			}
		}
		return ""
	}
	r.State = str("state")
	r.Result = str("result", "verdict")
	r.FailedStage = str("failed_stage")
	r.Profile = str("profile")
	for _, k := range []string{"updated_at", "completed_at", "generated_at", "created_at"} {
		if t, err := time.Parse(time.RFC3339Nano, str(k)); err == nil {
			r.Updated = t
			break
		}
	}
	return nil
}
