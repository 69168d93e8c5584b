// Package engine owns a validation run: the state machine of brief §3, the
// per-stage timeouts, the operator actions on a held run, and restart safety.
//
//	Booting → Inventory → SpecValidate → SMART → CPUStress → Storage → Network
//	        → GPU → PSU → Reporting → Completed → Released
//
// A stage whose verdict is fail (or that could not decide, or timed out) moves
// the run to FailedHolding; the operator then chooses retry, override or
// abandon. Every transition is written to the journal before it is acted on,
// so a restart finds an open stage and records it as interrupted instead of
// re-running it: destructive work never restarts without an operator.
package engine

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/shakedown/shakedown/agent/config"
	"github.com/shakedown/shakedown/agent/event"
	"github.com/shakedown/shakedown/agent/journal"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/tool"
)

// Run states that are not stages.
const (
	Booting       = "Booting"
	Reporting     = "Reporting"
	Completed     = "Completed"
	FailedHolding = "FailedHolding"
	Released      = "Released"
)

// Order is the fixed stage order (brief §3). Reporting is the last stage.
var Order = []string{"Inventory", "SpecValidate", "SMART", "CPUStress", "Storage", "Network", "GPU", "PSU", Reporting}

// IsStageState reports whether s names a stage in Order.
func IsStageState(s string) bool { return indexOf(s) >= 0 }

func indexOf(name string) int {
	for i, n := range Order {
		if n == name {
			return i
		}
	}
	return -1
}

// Operator actions.
const (
	Retry    = "retry"
	Override = "override"
	Abandon  = "abandon"
	Release  = "release"
)

// Reasons recorded on stage rows the engine closes itself.
const (
	ReasonTimeout        = "timeout"
	ReasonInterrupted    = "interrupted"
	ReasonCanceled       = "canceled"
	ReasonError          = "error"
	ReasonNotImplemented = "not_implemented"
	ReasonDisabled       = "disabled"
)

// ErrNotAllowed is returned when an action does not apply in the run's state.
var ErrNotAllowed = errors.New("action not allowed")

// Action is an operator request.
type Action struct {
	Kind   string `json:"kind"`
	Who    string `json:"who"`
	Reason string `json:"reason"`
	// Target, for override, names one item the stage flagged (a disk identity):
	// the stage is re-run with that item accepted, instead of being skipped.
	Target string `json:"target,omitempty"`
}

// Engine runs one run at a time over a journal.
type Engine struct {
	Journal   *journal.Journal
	Config    *config.Config
	Bus       *event.Bus
	Collector collector.Env
	Tools     tool.Runner
	// StateDir holds per-attempt work directories (artifacts).
	StateDir string
	Log      *slog.Logger
	Now      func() time.Time
	// AgentVersion is stored with each run.
	AgentVersion string
	// ExitWhenComplete makes Run return once the run is Completed instead of
	// waiting for the release action.
	ExitWhenComplete bool
	// NewRun closes an unfinished run found at start (as abandoned) and starts
	// a new one, instead of resuming it.
	NewRun bool
	// OnTransition, if set, is called after every state change has been
	// journaled (the bucket checkpoint hook). It must not block for long.
	OnTransition func(ctx context.Context, r journal.Run)
	// Bucket, if set, is handed to every stage (the Reporting stage uploads
	// the report and artifacts through it).
	Bucket stage.Bucket
	// TimeoutGrace is how long a stage may take to return after its deadline
	// before the engine stops waiting for it (default 30s).
	TimeoutGrace time.Duration

	mu       sync.Mutex
	run      journal.Run
	started  bool
	pending  *Action
	wake     chan struct{}
	progress *event.Progress
	current  *journal.StageRow
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

func (e *Engine) log() *slog.Logger {
	if e.Log == nil {
		return slog.Default()
	}
	return e.Log
}

func (e *Engine) check() error {
	var missing []string
	if e.Journal == nil {
		missing = append(missing, "Journal")
	}
	if e.Config == nil {
		missing = append(missing, "Config")
	}
	if e.StateDir == "" {
		missing = append(missing, "StateDir")
	}
	if e.Tools == nil {
		missing = append(missing, "Tools")
	}
	if len(missing) > 0 {
		return fmt.Errorf("engine: fields %s must be set before Run", strings.Join(missing, ", "))
	}
	if e.Bus == nil {
		e.Bus = event.NewBus()
	}
	if e.TimeoutGrace <= 0 {
		e.TimeoutGrace = 30 * time.Second
	}
	return nil
}

// Current returns a copy of the run being driven (zero before Run starts).
func (e *Engine) Current() journal.Run {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.run
}

// LastProgress returns the latest progress event of the current stage, if any.
func (e *Engine) LastProgress() *event.Progress {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.progress == nil {
		return nil
	}
	p := *e.progress
	return &p
}

// NewRunID returns a sortable run id: UTC timestamp plus random suffix.
func NewRunID(t time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%02x%02x%02x", t.UTC().Format("20060102T150405Z"), b[0], b[1], b[2])
}

// bg returns a context for journal writes that survives the run's cancellation.
func bg(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// Run drives the run until it is Released (or Completed with
// ExitWhenComplete), or ctx ends. It resumes an unfinished run from the
// journal, applying the restart rule first.
func (e *Engine) Run(ctx context.Context) error {
	if err := e.check(); err != nil {
		return err
	}
	e.mu.Lock()
	if e.started {
		e.mu.Unlock()
		return errors.New("engine: Run called twice")
	}
	e.started = true
	e.wake = make(chan struct{}, 1)
	e.mu.Unlock()

	if err := e.resumeOrCreate(ctx); err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := e.Current()
		switch {
		case r.State == Booting:
			if err := e.transition(ctx, Order[0]); err != nil {
				return err
			}
		case r.State == Released:
			return nil
		case r.State == Completed:
			if e.ExitWhenComplete {
				return nil
			}
			if err := e.waitAction(ctx); err != nil {
				return err
			}
		case r.State == FailedHolding:
			if err := e.waitAction(ctx); err != nil {
				return err
			}
		case IsStageState(r.State):
			if err := e.runStage(ctx, r.State); err != nil {
				return err
			}
		default:
			return fmt.Errorf("engine: run %s is in unknown state %q", r.ID, r.State)
		}
	}
}

func (e *Engine) resumeOrCreate(ctx context.Context) error {
	latest, err := e.Journal.LatestRun(ctx)
	switch {
	case errors.Is(err, journal.ErrNotFound):
	case err != nil:
		return fmt.Errorf("read journal: %w", err)
	case latest.State != Completed && latest.State != Released:
		if e.NewRun {
			if err := e.supersede(ctx, latest); err != nil {
				return err
			}
			break
		}
		return e.resume(ctx, latest)
	}
	now := e.now()
	r := journal.Run{
		ID: NewRunID(now), Profile: e.Config.Profile, State: Booting, AgentVersion: e.AgentVersion,
		ConfigJSON: e.Config.JSON(), CreatedAt: now, UpdatedAt: now,
	}
	if err := e.Journal.CreateRun(ctx, r); err != nil {
		return err
	}
	e.mu.Lock()
	e.run = r
	e.mu.Unlock()
	e.log().Info("run created", "run", r.ID, "profile", r.Profile)
	e.publish(event.StateChanged{Base: e.base(), From: "", To: Booting})
	e.notify(ctx)
	return nil
}

// supersede closes an unfinished run as abandoned (the operator asked for a new run).
func (e *Engine) supersede(ctx context.Context, r journal.Run) error {
	now := e.now()
	open, err := e.Journal.OpenStages(ctx, r.ID)
	if err != nil {
		return err
	}
	for _, row := range open {
		res := stage.Result{Status: stage.Fail, Reason: ReasonInterrupted, Message: "interrupted: superseded by a new run before " + row.Name + " finished"}
		if err := e.Journal.FinishStage(ctx, row, res, now); err != nil {
			return err
		}
	}
	if _, err := e.Journal.AddAction(ctx, journal.Action{RunID: r.ID, Kind: Abandon, Who: "shakedown-agent", Reason: "superseded: a new run was requested with --new", StateBefore: r.State, At: now}); err != nil {
		return err
	}
	r.State, r.Result, r.Abandoned, r.UpdatedAt, r.CompletedAt = Completed, "fail", true, now, &now
	return e.Journal.UpdateRun(ctx, r)
}

// resume applies the restart rule to an unfinished run and continues it.
func (e *Engine) resume(ctx context.Context, r journal.Run) error {
	e.mu.Lock()
	e.run = r
	e.mu.Unlock()
	open, err := e.Journal.OpenStages(ctx, r.ID)
	if err != nil {
		return err
	}
	if len(open) == 0 {
		e.log().Info("run resumed", "run", r.ID, "state", r.State)
		return nil
	}
	now := e.now()
	for _, row := range open {
		msg := "interrupted: agent or host restarted during " + row.Name
		if row.Destructive {
			msg += " (destructive: not re-run without an operator action)"
		}
		res := stage.Result{Status: stage.Fail, Reason: ReasonInterrupted, Message: msg}
		if err := e.Journal.FinishStage(ctx, row, res, now); err != nil {
			return err
		}
		e.publish(event.StageFinished{Base: e.base(), Stage: row.Name, Attempt: row.Attempt, Status: string(stage.Fail), Reason: ReasonInterrupted, Message: msg})
		e.log().Warn("open stage found at start", "run", r.ID, "stage", row.Name, "attempt", row.Attempt)
	}
	last := open[len(open)-1]
	e.mu.Lock()
	e.run.FailedStage = last.Name
	e.mu.Unlock()
	e.publish(event.Notice{Base: e.base(), Kind: event.StageFailed, Stage: last.Name,
		Message: "interrupted: agent or host restarted during " + last.Name + "; the run holds for an operator"})
	return e.transition(ctx, FailedHolding)
}

func (e *Engine) base() event.Base {
	e.mu.Lock()
	id := e.run.ID
	e.mu.Unlock()
	return event.Base{At: e.now(), RunID: id}
}

func (e *Engine) publish(ev event.Event) {
	if p, ok := ev.(event.Progress); ok {
		e.mu.Lock()
		e.progress = &p
		e.mu.Unlock()
	}
	e.Bus.Publish(ev)
}

func (e *Engine) notify(ctx context.Context) {
	if e.OnTransition != nil {
		e.OnTransition(ctx, e.Current())
	}
}

// transition journals a state change, publishes it and calls the hook.
func (e *Engine) transition(ctx context.Context, to string) error {
	// Journal first, memory second: whoever sees the new state in memory
	// (status, actions) also finds it on disk.
	e.mu.Lock()
	r := e.run
	e.mu.Unlock()
	from := r.State
	r.State = to
	r.UpdatedAt = e.now()
	if to == Completed {
		t := r.UpdatedAt
		r.CompletedAt = &t
		r.Result = "pass"
		if r.Abandoned {
			r.Result = "fail"
		}
	}
	if err := e.Journal.UpdateRun(bg(ctx), r); err != nil {
		return err
	}
	e.mu.Lock()
	e.run = r
	e.mu.Unlock()
	e.log().Info("state changed", "run", r.ID, "from", from, "to", to)
	e.publish(event.StateChanged{Base: e.base(), From: from, To: to})
	if to == Completed {
		e.publish(event.Notice{Base: e.base(), Kind: event.RunCompleted, Message: fmt.Sprintf("run %s completed: %s", r.ID, r.Result)})
	}
	e.notify(ctx)
	return nil
}

func next(name string) string {
	i := indexOf(name)
	if i < 0 || i+1 >= len(Order) {
		return Completed
	}
	return Order[i+1]
}

type outcome struct {
	res stage.Result
	err error
}

// runStage runs one attempt of a stage and moves the run on.
func (e *Engine) runStage(ctx context.Context, name string) error {
	settings := e.Config.Stage(name)
	s, registered := stage.Lookup(name)
	destructive := registered && s.Destructive()
	row, err := e.Journal.StartStage(bg(ctx), e.Current().ID, name, destructive, e.now())
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.current, e.progress = &row, nil
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.current = nil
		e.mu.Unlock()
	}()
	e.publish(event.StageStarted{Base: e.base(), Stage: name, Attempt: row.Attempt})
	log := e.log().With("run", row.RunID, "stage", name, "attempt", row.Attempt)

	var res stage.Result
	switch {
	case !registered:
		res = stage.Result{Status: stage.Skip, Reason: ReasonNotImplemented, Message: "not implemented"}
	case settings == nil || !settings.Enabled:
		res = stage.Result{Status: stage.Skip, Reason: ReasonDisabled, Message: "disabled by config"}
	default:
		res = e.execute(ctx, s, row, settings, log)
	}
	if err := validate(&res); err != nil {
		res = stage.Result{Status: stage.Fail, Reason: ReasonError, Message: "could not decide: " + err.Error()}
	}
	stopping := ctx.Err() != nil
	if stopping {
		res = stage.Result{Status: stage.Fail, Reason: ReasonCanceled, Message: "canceled: the agent was stopped during " + name,
			Measurements: res.Measurements, Artifacts: res.Artifacts}
	}
	if err := e.Journal.FinishStage(bg(ctx), row, res, e.now()); err != nil {
		return err
	}
	log.Info("stage finished", "status", res.Status, "reason", res.Reason, "message", res.Message)
	e.publish(event.StageFinished{Base: e.base(), Stage: name, Attempt: row.Attempt, Status: string(res.Status), Reason: res.Reason, Message: res.Message})
	e.learnHostID(ctx)

	if res.Status.Passed() {
		if stopping {
			return ctx.Err()
		}
		return e.transition(ctx, next(name))
	}
	e.mu.Lock()
	e.run.FailedStage = name
	e.mu.Unlock()
	e.publish(event.Notice{Base: e.base(), Kind: event.StageFailed, Stage: name, Message: name + " failed: " + res.Message})
	if err := e.transition(bg(ctx), FailedHolding); err != nil {
		return err
	}
	if stopping {
		return ctx.Err()
	}
	return nil
}

// learnHostID copies the host id from the inventory fact into the run.
func (e *Engine) learnHostID(ctx context.Context) {
	if e.Current().HostID != "" {
		return
	}
	var inv struct {
		HostID string `json:"host_id"`
	}
	ok, err := e.Journal.Fact(bg(ctx), e.Current().ID, "inventory", &inv)
	if err != nil || !ok || inv.HostID == "" {
		return
	}
	e.mu.Lock()
	e.run.HostID = inv.HostID
	r := e.run
	e.mu.Unlock()
	if err := e.Journal.UpdateRun(bg(ctx), r); err != nil {
		e.log().Warn("record host id", "err", err)
	}
}

func validate(r *stage.Result) error {
	if !r.Status.Valid() {
		return fmt.Errorf("stage returned invalid status %q", r.Status)
	}
	for _, f := range r.Findings {
		if !stage.ValidCode(f.Code) {
			return fmt.Errorf("stage returned finding code %q (must match ^[A-Za-z]+$)", f.Code)
		}
	}
	return nil
}

func (e *Engine) execute(ctx context.Context, s stage.Stage, row journal.StageRow, settings *config.StageSettings, log *slog.Logger) stage.Result {
	timeout := settings.Timeout
	if timeout <= 0 {
		timeout = s.DefaultTimeout()
	}
	if timeout <= 0 {
		timeout = time.Hour
	}
	env, err := e.stageEnv(ctx, s, row, settings, log)
	if err != nil {
		return stage.Result{Status: stage.Fail, Reason: ReasonError, Message: "could not decide: " + err.Error()}
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- outcome{err: fmt.Errorf("stage panicked: %v", p)}
			}
		}()
		res, err := s.Run(sctx, env)
		done <- outcome{res, err}
	}()
	var o outcome
	select {
	case o = <-done:
	case <-sctx.Done():
		grace := time.NewTimer(e.TimeoutGrace)
		select {
		case o = <-done:
		case <-grace.C:
			log.Error("stage did not return after its context ended", "grace_seconds", e.TimeoutGrace.Seconds())
			o = outcome{err: fmt.Errorf("stage did not stop within %s of its deadline", e.TimeoutGrace)}
		}
		grace.Stop()
	}
	if ctx.Err() == nil && errors.Is(sctx.Err(), context.DeadlineExceeded) {
		return stage.Result{Status: stage.Fail, Reason: ReasonTimeout,
			Message:      fmt.Sprintf("timeout: %s did not finish within %s", s.Name(), timeout),
			Measurements: o.res.Measurements, Artifacts: o.res.Artifacts, Findings: o.res.Findings}
	}
	if o.err != nil {
		return stage.Result{Status: stage.Fail, Reason: ReasonError, Message: "could not decide: " + o.err.Error(),
			Measurements: o.res.Measurements, Artifacts: o.res.Artifacts}
	}
	return o.res
}

func (e *Engine) stageEnv(ctx context.Context, s stage.Stage, row journal.StageRow, settings *config.StageSettings, log *slog.Logger) (*stage.Env, error) {
	r := e.Current()
	work := filepath.Join(e.StateDir, "runs", r.ID, fmt.Sprintf("%s-%d", stage.Key(row.Name), row.Attempt))
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, fmt.Errorf("create work dir: %w", err)
	}
	actions, err := e.Journal.Actions(bg(ctx), r.ID)
	if err != nil {
		return nil, err
	}
	var overrides []stage.Override
	for _, a := range actions {
		if a.Kind == Override && a.Target != "" && a.Stage == row.Name {
			overrides = append(overrides, stage.Override{Target: a.Target, Who: a.Who, Reason: a.Reason, At: a.At})
		}
	}
	params := stage.Params{}
	for k, v := range settings.Params {
		params[k] = v
	}
	thresholds := stage.Params{}
	for k, v := range e.Config.Thresholds {
		thresholds[k] = v
	}
	return &stage.Env{
		Log: log, Collector: e.Collector, Tools: e.Tools, RunID: r.ID, HostID: r.HostID,
		Stage: row.Name, Attempt: row.Attempt, Profile: e.Config.Profile,
		AllowDestructive: e.Config.Profile != config.Safe,
		Params:           params, Thresholds: thresholds, WorkDir: work, Overrides: overrides,
		Sink: &sink{e: e, runID: r.ID, ctx: bg(ctx)}, Now: e.Now,
		Journal: e.Journal, Bucket: e.Bucket,
	}, nil
}

// sink implements stage.Sink over the journal and the bus.
type sink struct {
	e     *Engine
	runID string
	ctx   context.Context
}

func (s *sink) Emit(ev event.Event) { s.e.publish(ev) }
func (s *sink) Measure(stageName string, ms ...stage.Measurement) error {
	return s.e.Journal.AddMeasurements(s.ctx, s.runID, stageName, ms)
}
func (s *sink) PutFact(key string, v any) error {
	return s.e.Journal.PutFact(s.ctx, s.runID, key, v, s.e.now())
}
func (s *sink) Fact(key string, v any) (bool, error) {
	return s.e.Journal.Fact(s.ctx, s.runID, key, v)
}

// Sink returns a stage.Sink for the current run (for the thermal sidecar,
// which records measurements outside any stage).
func (e *Engine) Sink(ctx context.Context) stage.Sink {
	return &sink{e: e, runID: e.Current().ID, ctx: bg(ctx)}
}

// Act applies an operator action. It returns an error wrapping ErrNotAllowed
// when the action does not apply in the run's current state.
func (e *Engine) Act(ctx context.Context, a Action) error {
	if err := checkAction(a); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.started || e.run.ID == "" {
		return fmt.Errorf("%w: no run is active yet", ErrNotAllowed)
	}
	if e.pending != nil {
		return fmt.Errorf("%w: another action (%s) is being applied", ErrNotAllowed, e.pending.Kind)
	}
	if err := allowed(a.Kind, e.run.State, e.run.FailedStage); err != nil {
		return err
	}
	stageName := e.run.FailedStage
	if a.Kind == Release {
		stageName = ""
	}
	if _, err := e.Journal.AddAction(bg(ctx), journal.Action{RunID: e.run.ID, Kind: a.Kind, Who: a.Who, Reason: a.Reason,
		Target: a.Target, Stage: stageName, StateBefore: e.run.State, At: e.now()}); err != nil {
		return err
	}
	act := a
	e.pending = &act
	select {
	case e.wake <- struct{}{}:
	default:
	}
	return nil
}

func checkAction(a Action) error {
	switch a.Kind {
	case Retry, Override, Abandon, Release:
	default:
		return fmt.Errorf("unknown action %q (use retry, override, abandon or release)", a.Kind)
	}
	if strings.TrimSpace(a.Reason) == "" {
		return fmt.Errorf("%s: a reason is required (--reason TEXT): it is kept in the audit trail", a.Kind)
	}
	if len(a.Reason) > 2000 {
		return fmt.Errorf("%s: reason longer than 2000 characters", a.Kind)
	}
	if strings.TrimSpace(a.Who) == "" {
		return fmt.Errorf("%s: who is required", a.Kind)
	}
	if a.Target != "" && a.Kind != Override {
		return fmt.Errorf("%s: --target applies only to override", a.Kind)
	}
	return nil
}

// allowed says whether an action applies in a state, with an operator-facing reason.
func allowed(kind, state, failedStage string) error {
	switch kind {
	case Retry, Override, Abandon:
		if state != FailedHolding {
			return fmt.Errorf("%w: %s applies only to a held run (FailedHolding); the run is in %s", ErrNotAllowed, kind, state)
		}
	case Release:
		if state != Completed {
			hint := ""
			if state == FailedHolding {
				hint = fmt.Sprintf(" (it is held after %s failed: retry, override or abandon it first)", failedStage)
			}
			return fmt.Errorf("%w: release applies only to a completed run; the run is in %s%s", ErrNotAllowed, state, hint)
		}
	}
	return nil
}

// waitAction blocks until an action is pending, then applies it.
func (e *Engine) waitAction(ctx context.Context) error {
	for {
		e.mu.Lock()
		a := e.pending
		e.mu.Unlock()
		if a != nil {
			err := e.apply(ctx, *a)
			e.mu.Lock()
			e.pending = nil
			e.mu.Unlock()
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-e.wake:
		}
	}
}

func (e *Engine) apply(ctx context.Context, a Action) error {
	r := e.Current()
	e.publish(event.Action{Base: e.base(), Kind: a.Kind, Who: a.Who, Reason: a.Reason, Target: a.Target})
	e.log().Info("operator action", "run", r.ID, "action", a.Kind, "who", a.Who, "reason", a.Reason, "target", a.Target, "state", r.State)
	switch a.Kind {
	case Retry:
		failed := r.FailedStage
		e.mu.Lock()
		e.run.FailedStage = ""
		e.mu.Unlock()
		return e.transition(ctx, failed)
	case Override:
		failed := r.FailedStage
		if a.Target != "" {
			// Accept one item and re-run the stage with it allowed.
			e.mu.Lock()
			e.run.FailedStage = ""
			e.mu.Unlock()
			return e.transition(ctx, failed)
		}
		rows, err := e.Journal.Stages(bg(ctx), r.ID)
		if err != nil {
			return err
		}
		for i := len(rows) - 1; i >= 0; i-- {
			if rows[i].Name == failed {
				if err := e.Journal.MarkOverridden(bg(ctx), rows[i].ID); err != nil {
					return err
				}
				break
			}
		}
		e.mu.Lock()
		e.run.FailedStage = ""
		e.mu.Unlock()
		return e.transition(ctx, next(failed))
	case Abandon:
		e.mu.Lock()
		e.run.Abandoned = true
		e.run.Result = "fail"
		e.mu.Unlock()
		return e.transition(ctx, Reporting)
	case Release:
		return e.transition(ctx, Released)
	}
	return fmt.Errorf("unknown action %q", a.Kind)
}

// ApplyOffline applies release to a completed run directly in the journal
// when no agent is running (the only action that needs no running stage).
func ApplyOffline(ctx context.Context, j *journal.Journal, a Action, now time.Time) (journal.Run, error) {
	if err := checkAction(a); err != nil {
		return journal.Run{}, err
	}
	r, err := j.LatestRun(ctx)
	if err != nil {
		return r, fmt.Errorf("no run in the journal: %w", err)
	}
	if a.Kind != Release {
		return r, fmt.Errorf("%w: no agent is running for this state dir, and %s needs one: start `shakedown-agent run` with the same --state-dir (it resumes the held run), then repeat the action", ErrNotAllowed, a.Kind)
	}
	if err := allowed(a.Kind, r.State, r.FailedStage); err != nil {
		return r, err
	}
	if _, err := j.AddAction(ctx, journal.Action{RunID: r.ID, Kind: a.Kind, Who: a.Who, Reason: a.Reason, StateBefore: r.State, At: now}); err != nil {
		return r, err
	}
	r.State, r.UpdatedAt = Released, now
	return r, j.UpdateRun(ctx, r)
}
