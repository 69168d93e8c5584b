// Package reporting is the Reporting stage: it builds the run's report from
// the journal (agent/report: report.json, report.html, ocp.jsonl), keeps the
// three files as artifacts of the run, and, when the agent runs with a
// coordinator, uploads them with every artifact of the run and
// hosts/<host>/latest.json, then waits until the bucket has acknowledged all
// of it. If the bucket does not come back in time the stage fails with reason
// "upload": the run holds and the spool keeps everything.
//
// The run's result is known here: fail when an operator abandoned the run,
// else pass (with overrides listed). The engine records it when the run
// moves to Completed after this stage.
package reporting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shakedown/shakedown/agent/report"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/agent/version"
)

// Name is the stage name.
const Name = "Reporting"

// ReasonUpload is the failure reason when the bucket did not acknowledge the
// report in time.
const ReasonUpload = "upload"

// Stage is the Reporting stage.
type Stage struct{}

func init() { stage.Register(Stage{}) }

// Name implements stage.Stage.
func (Stage) Name() string { return Name }

// Destructive implements stage.Stage.
func (Stage) Destructive() bool { return false }

// DefaultTimeout implements stage.Stage: rendering takes a second; the rest
// is waiting for the bucket.
func (Stage) DefaultTimeout() time.Duration { return 10 * time.Minute }

// Params implements stage.Parameterised.
func (Stage) Params() []stage.Param {
	return []stage.Param{
		{Name: "bucket", Kind: stage.KindString, Default: "shakedown", Help: "bucket name used in ocp.jsonl file URIs (s3://BUCKET/runs/...)"},
		{Name: "progress_interval", Kind: stage.KindDuration, Default: "2s", Help: "how often the wait for the bucket reports what is pending"},
	}
}

// Run implements stage.Stage.
func (Stage) Run(ctx context.Context, env *stage.Env) (stage.Result, error) {
	j, ok := env.Journal.(Journal)
	if !ok {
		return stage.Result{}, stage.Errorf(Name, "no journal to build the report from (the engine passes it in stage.Env.Journal)")
	}
	rep, err := Build(ctx, j, env.RunID, BuildOptions{Generator: "shakedown-agent " + version.Version, Now: env.Clock()})
	if err != nil {
		return stage.Result{}, stage.Errorf(Name, "build report: %w", err)
	}
	files, err := report.WriteFiles(env.WorkDir, rep, report.OCPOptions{Bucket: env.Params.String("bucket")})
	if err != nil {
		return stage.Result{}, stage.Errorf(Name, "%w", err)
	}
	var arts []stage.Artifact
	for _, f := range []struct{ name, path, ct string }{
		{report.JSONName, files.JSON, "application/json"},
		{report.HTMLName, files.HTML, "text/html; charset=utf-8"},
		{report.OCPName, files.OCP, "application/x-ndjson"},
	} {
		a, err := env.FileArtifact(f.name, f.path, f.ct)
		if err != nil {
			return stage.Result{}, stage.Errorf(Name, "%w", err)
		}
		arts = append(arts, a)
	}
	summary := map[string]any{"result": rep.Verdict.Result, "headline": rep.Verdict.Headline,
		"overrides": len(rep.Verdict.Overrides), "report_dir": env.WorkDir}
	msg := fmt.Sprintf("report written: %s", rep.Verdict.Headline)

	if env.Bucket == nil {
		summary["uploaded"] = false
		return stage.Result{Status: stage.Pass, Message: msg + "; no coordinator configured, so nothing was uploaded (files in " + env.WorkDir + ")",
			Artifacts: arts, Summary: summary}, nil
	}
	if env.HostID == "" {
		return stage.Result{Status: stage.Fail, Reason: ReasonUpload, Artifacts: arts, Summary: summary,
			Message: msg + "; cannot upload: the host id is unknown (the Inventory stage never finished), so the bucket has no place for this run"}, nil
	}
	paths, err := artifactPaths(ctx, j, env.RunID)
	if err != nil {
		return stage.Result{}, stage.Errorf(Name, "%w", err)
	}
	n, err := enqueue(env, rep, files, paths)
	if err != nil {
		return stage.Result{Status: stage.Fail, Reason: ReasonUpload, Artifacts: arts, Summary: summary,
			Message: msg + "; could not spool the upload: " + err.Error()}, nil
	}
	summary["report_key"] = report.RunKey(env.HostID, env.RunID, report.HTMLName)
	if err := wait(ctx, env); err != nil {
		objs, bytes := env.Bucket.Pending()
		summary["pending_objects"], summary["pending_bytes"] = objs, bytes
		return stage.Result{Status: stage.Fail, Reason: ReasonUpload, Artifacts: arts, Summary: summary,
			Message: fmt.Sprintf("%s; upload: the bucket did not acknowledge everything (%d objects, %s still pending: %v); the spool keeps them: retry this stage once the coordinator is back",
				msg, objs, report.HumanBytes(uint64(max(bytes, 0))), err)}, nil
	}
	summary["uploaded"] = true
	summary["objects"] = n
	return stage.Result{Status: stage.Pass, Artifacts: arts, Summary: summary,
		Message: fmt.Sprintf("%s; %d objects in the bucket under %s/", msg, n, report.RunPrefix(env.HostID, env.RunID))}, nil
}

// artifactPaths maps each artifact's bucket key to its file on disk.
func artifactPaths(ctx context.Context, j Journal, runID string) (map[string]string, error) {
	rows, err := j.Artifacts(ctx, runID)
	if err != nil {
		return nil, err
	}
	keys := artifactsOf(rows)
	out := map[string]string{}
	for i, a := range keys {
		out[a.Key] = rows[i].Path
	}
	return out, nil
}

// enqueue spools the report files, every artifact and latest.json.
func enqueue(env *stage.Env, rep *report.Report, files report.Files, paths map[string]string) (int, error) {
	host, run := env.HostID, env.RunID
	n := 0
	put := func(key, path string) error {
		if err := env.Bucket.Enqueue(key, path); err != nil {
			return err
		}
		n++
		return nil
	}
	var missing []string
	for _, a := range rep.Artifacts {
		p := paths[a.Key]
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, a.Name)
			continue
		}
		if err := put(report.RunKey(host, run, a.Key), p); err != nil {
			return n, err
		}
	}
	if len(missing) > 0 {
		env.Logger().Warn("artifacts missing on disk, not uploaded", "artifacts", strings.Join(missing, ", "))
	}
	for _, f := range []struct{ name, path string }{
		{report.JSONName, files.JSON}, {report.OCPName, files.OCP}, {report.HTMLName, files.HTML},
	} {
		if err := put(report.RunKey(host, run, f.name), f.path); err != nil {
			return n, err
		}
	}
	latest := report.Latest{Schema: report.LatestSchema, Version: report.LatestVersion, HostID: host, RunID: run,
		State: rep.Run.State, Result: rep.Verdict.Result, FailedStage: rep.Run.FailedStage, UpdatedAt: env.Clock().UTC(),
		Checkpoint: report.RunKey(host, run, report.CheckpointName),
		Report:     report.RunKey(host, run, report.JSONName), HTML: report.RunKey(host, run, report.HTMLName)}
	b, err := json.MarshalIndent(latest, "", "  ")
	if err != nil {
		return n, err
	}
	lp := filepath.Join(env.WorkDir, "latest.json")
	if err := os.WriteFile(lp, append(b, '\n'), 0o644); err != nil {
		return n, fmt.Errorf("write latest.json: %w", err)
	}
	return n, put(report.LatestKey(host), lp)
}

// wait flushes the bucket, reporting progress, and gives up a little before
// the stage's own deadline so the failure is "upload", not "timeout".
func wait(ctx context.Context, env *stage.Env) error {
	wctx := ctx
	if dl, ok := ctx.Deadline(); ok {
		margin := time.Until(dl) / 20
		margin = min(max(margin, 2*time.Second), 15*time.Second)
		var cancel context.CancelFunc
		wctx, cancel = context.WithDeadline(ctx, dl.Add(-margin))
		defer cancel()
	}
	every := env.Params.Duration("progress_interval")
	if every <= 0 {
		every = 2 * time.Second
	}
	done := make(chan error, 1)
	go func() { done <- env.Bucket.Flush(wctx) }()
	total, _ := env.Bucket.Pending()
	report1 := func() {
		objs, bytes := env.Bucket.Pending()
		total = max(total, objs)
		env.Progress("bucket", float64(total-objs), float64(total), "objects",
			fmt.Sprintf("waiting for the bucket: %d objects, %.1f MB pending", objs, float64(bytes)/1e6))
	}
	report1()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case err := <-done:
			if err == nil {
				report1()
				return nil
			}
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				return fmt.Errorf("gave up waiting before the stage timeout")
			}
			return err
		case <-t.C:
			report1()
		}
	}
}
