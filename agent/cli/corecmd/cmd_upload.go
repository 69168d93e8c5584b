package corecmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/shakedown/shakedown/agent/cli"
	"github.com/shakedown/shakedown/agent/engine"
	"github.com/shakedown/shakedown/agent/event"
	"github.com/shakedown/shakedown/agent/journal"
	"github.com/shakedown/shakedown/agent/report"
	"github.com/shakedown/shakedown/agent/stage/reporting"
	"github.com/shakedown/shakedown/agent/upload"
)

// The upload hook joins `shakedown-agent run` to the coordinator's bucket
// (brief §3-5): it checkpoints the run (checkpoint.json, journal.db,
// hosts/<host>/latest.json) at every transition, hands the Reporting stage an
// uploader (stage.Env.Bucket), closes a run an earlier boot left open (the
// host crashed or rebooted under load), and fetches hosts/<host>/spec.yaml for
// SpecValidate when no local spec is configured.

func init() {
	RegisterRunHook(RunHook{Name: "upload", Flags: uploadFlags, Start: uploadStart})
}

var upFlags struct {
	coordinator, token, tokenFile, caFingerprint *string
}

func uploadFlags(fs FlagSet) {
	upFlags.coordinator = fs.String("coordinator", "", "coordinator URL (https://HOST:8443); also kernel command line shakedown.coordinator=")
	upFlags.token = fs.String("token", "", "boot token for the coordinator; also shakedown.token=")
	upFlags.tokenFile = fs.String("token-file", "", "read the boot token from this file")
	upFlags.caFingerprint = fs.String("ca-fingerprint", "", "SHA-256 fingerprint of the coordinator's certificate to pin; also shakedown.ca=")
}

// uploadSettings are the resolved connection settings.
type uploadSettings struct {
	Coordinator, Token, CAFingerprint string
}

// cmdlineSettings reads shakedown.coordinator=, shakedown.token= and
// shakedown.ca= from a kernel command line.
func cmdlineSettings(cmdline string) uploadSettings {
	var s uploadSettings
	for _, f := range strings.Fields(cmdline) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"`)
		switch k {
		case "shakedown.coordinator":
			s.Coordinator = v
		case "shakedown.token":
			s.Token = v
		case "shakedown.ca", "shakedown.ca_fingerprint":
			s.CAFingerprint = v
		}
	}
	return s
}

func uploadStart(ctx context.Context, e *engine.Engine, s cli.IO) error {
	var set uploadSettings
	if b, err := os.ReadFile(e.Collector.Proc("cmdline")); err == nil {
		set = cmdlineSettings(string(b))
	}
	if v := deref(upFlags.coordinator); v != "" {
		set.Coordinator = v
	}
	if v := deref(upFlags.token); v != "" {
		set.Token = v
	}
	if p := deref(upFlags.tokenFile); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("--token-file: %w", err)
		}
		set.Token = strings.TrimSpace(string(b))
	}
	if v := deref(upFlags.caFingerprint); v != "" {
		set.CAFingerprint = v
	}
	if set.Coordinator == "" {
		fmt.Fprintln(s.Stdout, "no coordinator (--coordinator or shakedown.coordinator=): results stay in the state dir")
		return nil
	}
	if set.Token == "" {
		return cli.UsageErrorf("--coordinator %s needs a boot token (--token, --token-file or shakedown.token=)", set.Coordinator)
	}
	log := e.Log
	if log == nil {
		log = slog.Default()
	}
	h := &uploadHook{e: e, out: s.Stdout, log: log.With("component", "upload"), stateDir: e.StateDir, coordinator: set.Coordinator,
		newRemote: func(host string) (remote, error) {
			return upload.New(upload.Config{Coordinator: set.Coordinator, Token: set.Token, HostID: host,
				CAFingerprint: set.CAFingerprint, SpoolDir: filepath.Join(e.StateDir, "spool"), Log: log.With("component", "upload")})
		}}
	if hc, err := upload.NewHTTPClient(nil, set.CAFingerprint); err != nil {
		log.Warn("no coordinator info client: the Network stage will not learn the coordinator's iperf3 server", "err", err)
	} else {
		hc.Timeout = 30 * time.Second
		h.info = infoFunc(hc, set.Coordinator, set.Token)
	}
	h.install(ctx)
	fmt.Fprintf(s.Stdout, "coordinator %s: checkpoints and the report go to its bucket once the host id is known\n", set.Coordinator)
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(*p)
}

// remote is what the hook needs of the uploader (*upload.Uploader).
type remote interface {
	Enqueue(key, path string) error
	EnqueueBytes(key string, data []byte) error
	Flush(ctx context.Context) error
	Pending() (int, int64)
	Get(ctx context.Context, key string) ([]byte, error)
	Run(ctx context.Context) error
}

var _ remote = (*upload.Uploader)(nil)

// uploadHook holds the uploader, created when the host id becomes known.
type uploadHook struct {
	e         *engine.Engine
	out       io.Writer
	log       *slog.Logger
	stateDir  string
	newRemote func(host string) (remote, error)
	// FinalFlush bounds the wait for the last checkpoint at Completed/Released.
	finalFlush time.Duration
	// coordinator is the coordinator's base URL; info asks it for
	// GET /api/v1/info (nil: the iperf3 server fact is not set).
	coordinator string
	info        func(ctx context.Context) (coordInfo, error)

	mu        sync.Mutex
	r         remote
	host      string
	startErr  error
	checked   bool // the previous run of this host was looked at
	specTried bool
	// iperfRun is the run whose iperf3 server fact this process has set.
	iperfRun    string
	iperfWarned bool
}

func (h *uploadHook) install(ctx context.Context) {
	if h.finalFlush <= 0 {
		h.finalFlush = time.Minute
	}
	h.e.Bucket = (*hookBucket)(h)
	prev := h.e.OnTransition
	h.e.OnTransition = func(tctx context.Context, r journal.Run) {
		if prev != nil {
			prev(tctx, r)
		}
		h.transition(ctx, r)
	}
}

// ensure starts the uploader for host (once).
func (h *uploadHook) ensure(ctx context.Context, host string) remote {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.r != nil || h.startErr != nil {
		return h.r
	}
	r, err := h.newRemote(host)
	if err != nil {
		h.startErr = err
		h.log.Error("uploader not started: nothing will reach the bucket", "err", err)
		fmt.Fprintf(h.out, "upload: cannot start the uploader: %v\n", err)
		return nil
	}
	h.r, h.host = r, host
	go func() {
		if err := r.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			h.log.Error("uploader stopped", "err", err)
		}
	}()
	return r
}

func (h *uploadHook) transition(ctx context.Context, run journal.Run) {
	h.setIperfFact(ctx, run) // needs no host id: from the first transition (Booting)
	if run.HostID == "" {
		return // nowhere to put it yet: the bucket is keyed by host
	}
	r := h.ensure(ctx, run.HostID)
	if r == nil {
		return
	}
	if !h.checked {
		h.closePrevious(ctx, r, run)
	}
	if run.State == "SpecValidate" && !h.specTried {
		h.fetchSpec(ctx, r, run.HostID)
	}
	if err := h.checkpoint(ctx, r, run); err != nil {
		h.log.Warn("checkpoint not spooled", "run", run.ID, "state", run.State, "err", err)
	}
	if run.State == engine.Completed || run.State == engine.Released {
		// The agent may exit right after: wait (bounded) for the last checkpoint.
		fctx, cancel := context.WithTimeout(ctx, h.finalFlush)
		defer cancel()
		if err := r.Flush(fctx); err != nil {
			n, b := r.Pending()
			fmt.Fprintf(h.out, "upload: %d objects (%s) not yet in the bucket; they stay in %s and go up at the next start: %v\n",
				n, report.HumanBytes(uint64(max(b, 0))), filepath.Join(h.stateDir, "spool"), err)
		}
	}
}

// checkpoint spools checkpoint.json, a journal snapshot and latest.json.
func (h *uploadHook) checkpoint(ctx context.Context, r remote, run journal.Run) error {
	j := h.e.Journal
	rows, err := j.Stages(ctx, run.ID)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if h.e.Now != nil {
		now = h.e.Now().UTC()
	}
	cp := report.NewCheckpoint(now, reporting.RunOf(run, now), reporting.StagesOf(rows))
	if run.State == engine.Completed || run.State == engine.Released {
		cp.Report = report.RunKey(run.HostID, run.ID, report.JSONName)
	}
	b, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		return err
	}
	if err := r.EnqueueBytes(report.RunKey(run.HostID, run.ID, report.CheckpointName), append(b, '\n')); err != nil {
		return err
	}
	snap := filepath.Join(h.stateDir, "journal-snapshot.db")
	if err := j.Backup(ctx, snap); err != nil {
		h.log.Warn("journal snapshot failed", "err", err)
	} else {
		if err := r.Enqueue(report.RunKey(run.HostID, run.ID, report.JournalName), snap); err != nil {
			return err
		}
		_ = os.Remove(snap)
	}
	l := report.LatestFor(cp)
	if cp.Report != "" {
		l.HTML = report.RunKey(run.HostID, run.ID, report.HTMLName)
	}
	lb, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	return r.EnqueueBytes(report.LatestKey(run.HostID), append(lb, '\n'))
}

// closePrevious looks at the host's newest run in the bucket: if its last
// checkpoint was written with a stage open and it is not this run, the host
// crashed or rebooted during that stage. That run is closed as failed with a
// closing checkpoint (or, when this state dir knows the run, with what the
// journal says happened to it) and a HostLost notice.
func (h *uploadHook) closePrevious(ctx context.Context, r remote, run journal.Run) {
	gctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	raw, err := r.Get(gctx, report.LatestKey(run.HostID))
	switch {
	case errors.Is(err, upload.ErrNotFound):
		h.checked = true
		return
	case err != nil:
		h.log.Warn("cannot read the host's latest run from the bucket (will retry at the next transition)", "err", err)
		return
	}
	h.checked = true
	var l report.Latest
	if err := json.Unmarshal(raw, &l); err != nil {
		h.log.Warn("hosts/<host>/latest.json unreadable", "err", err)
		return
	}
	if l.RunID == "" || l.RunID == run.ID {
		return
	}
	now := time.Now().UTC()
	var cp report.Checkpoint
	prev, err := h.e.Journal.GetRun(ctx, l.RunID)
	local := err == nil && (prev.State == engine.Completed || prev.State == engine.Released)
	switch {
	case local && prev.State != l.State:
		// This state dir closed it (a new run was started with --new):
		// publish what the journal says, not a crash.
		rows, _ := h.e.Journal.Stages(ctx, prev.ID)
		cp = report.NewCheckpoint(now, reporting.RunOf(prev, now), reporting.StagesOf(rows))
		if prev.Abandoned {
			cp.Closed = &report.Closed{Stage: l.State, Reason: "superseded: a new run was started while this one was in " + l.State, By: "run " + run.ID, At: now}
		}
	case local || !engine.IsStageState(l.State):
		return // the bucket already has its final state, or it was held, not running
	default:
		if raw, err := r.Get(gctx, orKey(l.Checkpoint, report.RunKey(run.HostID, l.RunID, report.CheckpointName))); err == nil {
			_ = json.Unmarshal(raw, &cp)
		}
		reason := "interrupted: host crashed or rebooted during " + l.State
		cp.Schema, cp.Version, cp.At = report.CheckpointSchema, report.CheckpointVersion, now
		if cp.Run.ID == "" {
			cp.Run = report.Run{ID: l.RunID, HostID: run.HostID, UpdatedAt: l.UpdatedAt}
		}
		cp.Run.State, cp.Run.Result, cp.Run.FailedStage, cp.Run.UpdatedAt, cp.Run.CompletedAt = engine.Completed, "fail", l.State, now, &now
		found := false
		for i := range cp.Stages {
			if cp.Stages[i].Name == l.State {
				cp.Stages[i].Status, cp.Stages[i].Reason, cp.Stages[i].Message, cp.Stages[i].CompletedAt = "fail", engine.ReasonInterrupted, reason, &now
				found = true
			}
		}
		if !found {
			cp.Stages = append(cp.Stages, report.Stage{Name: l.State, Status: "fail", Reason: engine.ReasonInterrupted, Message: reason, CompletedAt: &now})
		}
		cp.Closed = &report.Closed{Stage: l.State, Reason: reason, By: "run " + run.ID, At: now}
		msg := fmt.Sprintf("host %s: run %s was still in %s when the host booted again: the host crashed or rebooted under load; that run is closed as failed", run.HostID, l.RunID, l.State)
		h.e.Bus.Publish(event.Notice{Base: event.Base{At: now, RunID: run.ID}, Kind: event.HostLost, Stage: l.State, Message: msg})
		h.log.Warn("previous run closed as failed", "host", run.HostID, "previous_run", l.RunID, "stage", l.State)
	}
	b, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		return
	}
	if err := r.EnqueueBytes(report.RunKey(run.HostID, l.RunID, report.CheckpointName), append(b, '\n')); err != nil {
		h.log.Warn("closing checkpoint not spooled", "err", err)
	}
}

func orKey(k, def string) string {
	if k == "" {
		return def
	}
	return k
}

// fetchSpec downloads hosts/<host>/spec.yaml into the state dir and points
// SpecValidate at it, unless a local spec (spec or spec_dir) is configured.
func (h *uploadHook) fetchSpec(ctx context.Context, r remote, host string) {
	ss := h.e.Config.Stage("SpecValidate")
	if ss == nil || ss.Params == nil {
		h.specTried = true
		return
	}
	if ss.Params["spec"] != "" || ss.Params["spec_dir"] != "" {
		h.specTried = true
		return
	}
	gctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	raw, err := r.Get(gctx, report.SpecKey(host))
	switch {
	case errors.Is(err, upload.ErrNotFound):
		h.specTried = true
		fmt.Fprintf(h.out, "upload: no expected spec in the bucket at %s (SpecValidate will hold: upload one with s3cmd, or pass --stage.specvalidate.spec)\n", report.SpecKey(host))
		return
	case err != nil:
		h.log.Warn("cannot fetch the expected spec from the bucket", "key", report.SpecKey(host), "err", err)
		fmt.Fprintf(h.out, "upload: cannot fetch %s: %v\n", report.SpecKey(host), err)
		return // tried again when SpecValidate is retried
	}
	dir := filepath.Join(h.stateDir, "spec")
	p := filepath.Join(dir, host+".yaml")
	err = os.MkdirAll(dir, 0o755)
	if err == nil {
		err = os.WriteFile(p, raw, 0o644)
	}
	if err != nil {
		h.log.Warn("cannot store the fetched spec", "err", err)
		return
	}
	h.specTried = true
	ss.Params["spec"] = p
	fmt.Fprintf(h.out, "upload: expected spec fetched from the bucket (%s) into %s\n", report.SpecKey(host), p)
}

// hookBucket is the stage.Bucket the Reporting stage sees: the uploader once
// it exists.
type hookBucket uploadHook

func (b *hookBucket) remote() (remote, error) {
	h := (*uploadHook)(b)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.r == nil {
		if h.startErr != nil {
			return nil, fmt.Errorf("uploader not started: %w", h.startErr)
		}
		return nil, errors.New("uploader not started: the host id is not known yet")
	}
	return h.r, nil
}

func (b *hookBucket) Enqueue(key, path string) error {
	r, err := b.remote()
	if err != nil {
		return err
	}
	return r.Enqueue(key, path)
}

func (b *hookBucket) Flush(ctx context.Context) error {
	r, err := b.remote()
	if err != nil {
		return err
	}
	return r.Flush(ctx)
}

func (b *hookBucket) Pending() (int, int64) {
	r, err := b.remote()
	if err != nil {
		return 0, 0
	}
	return r.Pending()
}
