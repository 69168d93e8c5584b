package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shakedown/shakedown/agent/config"
	"github.com/shakedown/shakedown/agent/journal"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector/tool"
)

// fakeStage returns scripted results, one per attempt (the last repeats).
type fakeStage struct {
	name        string
	destructive bool
	timeout     time.Duration
	script      []func(ctx context.Context, env *stage.Env) (stage.Result, error)
	calls       atomic.Int32
	mu          sync.Mutex
	envs        []*stage.Env
}

func (f *fakeStage) Name() string                  { return f.name }
func (f *fakeStage) Destructive() bool             { return f.destructive }
func (f *fakeStage) DefaultTimeout() time.Duration { return f.timeout }
func (f *fakeStage) Params() []stage.Param {
	return []stage.Param{{Name: "duration", Kind: stage.KindDuration, Default: "120s", ByProfile: map[string]string{"quick": "30s"}}}
}
func (f *fakeStage) Run(ctx context.Context, env *stage.Env) (stage.Result, error) {
	n := int(f.calls.Add(1))
	f.mu.Lock()
	f.envs = append(f.envs, env)
	f.mu.Unlock()
	if len(f.script) == 0 {
		return stage.Result{Status: stage.Pass, Message: "ok"}, nil
	}
	i := n - 1
	if i >= len(f.script) {
		i = len(f.script) - 1
	}
	return f.script[i](ctx, env)
}

func pass(context.Context, *stage.Env) (stage.Result, error) {
	return stage.Result{Status: stage.Pass, Message: "ok"}, nil
}
func fail(context.Context, *stage.Env) (stage.Result, error) {
	return stage.Result{Status: stage.Fail, Message: "broken", Findings: []stage.Finding{{Code: "Broken", Severity: stage.Critical, Message: "it broke"}}}, nil
}
func block(ctx context.Context, _ *stage.Env) (stage.Result, error) {
	<-ctx.Done()
	return stage.Result{}, ctx.Err()
}

type harness struct {
	t        *testing.T
	dir      string
	j        *journal.Journal
	e        *Engine
	cancel   context.CancelFunc
	done     chan error
	ended    bool
	endErr   error
	profile  string
	complete bool
}

func newHarness(t *testing.T, stages ...stage.Stage) *harness {
	t.Helper()
	restore := stage.Replace(stages...)
	t.Cleanup(restore)
	h := &harness{t: t, dir: t.TempDir(), profile: config.Quick, complete: true}
	return h
}

func (h *harness) start(opts ...func(*Engine)) {
	h.t.Helper()
	j, err := journal.Open(filepath.Join(h.dir, "journal.db"))
	if err != nil {
		h.t.Fatal(err)
	}
	cfg, err := config.New(h.profile, Order)
	if err != nil {
		h.t.Fatal(err)
	}
	h.j = j
	h.e = &Engine{Journal: j, Config: cfg, Tools: &tool.Fake{}, StateDir: h.dir,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), ExitWhenComplete: h.complete, TimeoutGrace: 2 * time.Second}
	for _, o := range opts {
		o(h.e)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	h.ended = false
	go func() { h.done <- h.e.Run(ctx) }()
}

// stop cancels the engine, waits for it and closes the journal (a "restart").
func (h *harness) stop() error {
	h.t.Helper()
	h.cancel()
	if !h.ended {
		select {
		case h.endErr = <-h.done:
		case <-time.After(10 * time.Second):
			h.t.Fatal("engine did not stop")
		}
	}
	h.ended = false
	h.j.Close()
	return h.endErr
}

func (h *harness) wait() error {
	h.t.Helper()
	select {
	case err := <-h.done:
		h.ended, h.endErr = true, err
		return err
	case <-time.After(10 * time.Second):
		h.t.Fatalf("engine did not finish; state %s", h.e.Current().State)
	}
	return nil
}

func (h *harness) waitState(want string) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		h.e.mu.Lock()
		st, pending := h.e.run.State, h.e.pending
		h.e.mu.Unlock()
		if st == want && pending == nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("state %s never reached; at %s", want, h.e.Current().State)
}

func (h *harness) act(kind, target string) error {
	return h.e.Act(context.Background(), Action{Kind: kind, Who: "tester", Reason: "test " + kind, Target: target})
}

// reopen opens the journal from disk read-only and returns the latest status.
func (h *harness) status() Status {
	h.t.Helper()
	j, err := journal.OpenReadOnly(filepath.Join(h.dir, "journal.db"))
	if err != nil {
		h.t.Fatal(err)
	}
	defer j.Close()
	st, err := ReadStatus(context.Background(), j, "")
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

func stageStatus(st Status, name string) StageView {
	for _, v := range st.Stages {
		if v.Name == name {
			return v
		}
	}
	return StageView{}
}

func TestAllPassWithUnimplementedStagesSkipped(t *testing.T) {
	inv := &fakeStage{name: "Inventory", script: []func(context.Context, *stage.Env) (stage.Result, error){
		func(ctx context.Context, env *stage.Env) (stage.Result, error) {
			if err := env.PutFact("inventory", map[string]string{"host_id": "host-123"}); err != nil {
				return stage.Result{}, err
			}
			return stage.Result{Status: stage.Pass, Message: "inventory ok"}, nil
		}}}
	h := newHarness(t, inv, &fakeStage{name: "SMART"})
	h.start()
	if err := h.wait(); err != nil {
		t.Fatal(err)
	}
	st := h.status()
	if st.Run.State != Completed || st.Run.Result != "pass" {
		t.Fatalf("run ended %s/%s, want Completed/pass", st.Run.State, st.Run.Result)
	}
	if st.Run.HostID != "host-123" {
		t.Errorf("host id %q not learned from the inventory fact", st.Run.HostID)
	}
	for _, v := range st.Stages {
		switch v.Name {
		case "Inventory", "SMART":
			if v.Status != "pass" {
				t.Errorf("%s: %s, want pass", v.Name, v.Status)
			}
		default:
			if v.Status != "skip" || v.Reason != ReasonNotImplemented || v.Message != "not implemented" {
				t.Errorf("%s: %s/%s %q, want skip/not_implemented", v.Name, v.Status, v.Reason, v.Message)
			}
		}
	}
}

func TestFailHoldsThenEachActionAndItsEffect(t *testing.T) {
	cases := []struct {
		action     string
		target     string
		script     []func(context.Context, *stage.Env) (stage.Result, error)
		wantState  string
		wantResult string
		wantCalls  int32
		check      func(t *testing.T, st Status, f *fakeStage)
	}{
		{action: Retry, script: []func(context.Context, *stage.Env) (stage.Result, error){fail, pass}, wantState: Completed, wantResult: "pass", wantCalls: 2,
			check: func(t *testing.T, st Status, f *fakeStage) {
				if v := stageStatus(st, "CPUStress"); v.Status != "pass" || v.Attempts != 2 {
					t.Errorf("CPUStress after retry: %+v", v)
				}
			}},
		{action: Override, script: []func(context.Context, *stage.Env) (stage.Result, error){fail}, wantState: Completed, wantResult: "pass", wantCalls: 1,
			check: func(t *testing.T, st Status, f *fakeStage) {
				if v := stageStatus(st, "CPUStress"); v.Status != "fail" || !v.Overridden {
					t.Errorf("CPUStress after override: %+v", v)
				}
				if st.Run.FailedStage != "" {
					t.Errorf("failed_stage %q not cleared by override", st.Run.FailedStage)
				}
			}},
		{action: Override, target: "wwn:0x5000c500a1b2c3d4", script: []func(context.Context, *stage.Env) (stage.Result, error){fail,
			func(ctx context.Context, env *stage.Env) (stage.Result, error) {
				if len(env.Overrides) != 1 || env.Overrides[0].Target != "wwn:0x5000c500a1b2c3d4" || env.Overrides[0].Who != "tester" {
					return stage.Result{Status: stage.Fail, Message: fmt.Sprintf("overrides not passed: %+v", env.Overrides)}, nil
				}
				return stage.Result{Status: stage.Pass, Message: "accepted"}, nil
			}}, wantState: Completed, wantResult: "pass", wantCalls: 2},
		{action: Abandon, script: []func(context.Context, *stage.Env) (stage.Result, error){fail}, wantState: Completed, wantResult: "fail", wantCalls: 1,
			check: func(t *testing.T, st Status, f *fakeStage) {
				if v := stageStatus(st, "Storage"); v.Status != "pending" {
					t.Errorf("Storage ran after abandon: %+v", v)
				}
				if v := stageStatus(st, Reporting); v.Status == "pending" {
					t.Errorf("Reporting did not run after abandon")
				}
				if !st.Run.Abandoned {
					t.Error("run not marked abandoned")
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.action+tc.target, func(t *testing.T) {
			cpu := &fakeStage{name: "CPUStress", script: tc.script}
			h := newHarness(t, cpu)
			h.start()
			h.waitState(FailedHolding)
			st := h.status()
			if st.Run.FailedStage != "CPUStress" {
				t.Fatalf("failed_stage = %q", st.Run.FailedStage)
			}
			if v := stageStatus(st, "CPUStress"); v.Status != "fail" || v.Message != "broken" {
				t.Fatalf("CPUStress: %+v", v)
			}
			if err := h.act(tc.action, tc.target); err != nil {
				t.Fatal(err)
			}
			if err := h.wait(); err != nil {
				t.Fatal(err)
			}
			st = h.status()
			if st.Run.State != tc.wantState || st.Run.Result != tc.wantResult {
				t.Fatalf("ended %s/%s, want %s/%s", st.Run.State, st.Run.Result, tc.wantState, tc.wantResult)
			}
			if got := cpu.calls.Load(); got != tc.wantCalls {
				t.Errorf("stage ran %d times, want %d", got, tc.wantCalls)
			}
			if len(st.Actions) != 1 || st.Actions[0].Kind != tc.action || st.Actions[0].Who != "tester" || st.Actions[0].StateBefore != FailedHolding || st.Actions[0].Stage != "CPUStress" {
				t.Errorf("audit trail: %+v", st.Actions)
			}
			if tc.check != nil {
				tc.check(t, st, cpu)
			}
		})
	}
}

func TestActionsRefusedOrAllowedInEveryState(t *testing.T) {
	actions := []string{Retry, Override, Abandon, Release}
	type setup struct {
		state string
		make  func(t *testing.T) *harness
	}
	running := make(chan struct{}, 1)
	setups := []setup{
		{"running stage", func(t *testing.T) *harness {
			h := newHarness(t, &fakeStage{name: "Inventory", timeout: time.Minute, script: []func(context.Context, *stage.Env) (stage.Result, error){
				func(ctx context.Context, env *stage.Env) (stage.Result, error) {
					running <- struct{}{}
					return block(ctx, env)
				}}})
			h.start()
			<-running
			return h
		}},
		{FailedHolding, func(t *testing.T) *harness {
			h := newHarness(t, &fakeStage{name: "Inventory", script: []func(context.Context, *stage.Env) (stage.Result, error){fail}})
			h.start()
			h.waitState(FailedHolding)
			return h
		}},
		{Completed, func(t *testing.T) *harness {
			h := newHarness(t)
			h.complete = false
			h.start()
			h.waitState(Completed)
			return h
		}},
		{Released, func(t *testing.T) *harness {
			h := newHarness(t)
			h.complete = false
			h.start()
			h.waitState(Completed)
			if err := h.act(Release, ""); err != nil {
				t.Fatal(err)
			}
			if err := h.wait(); err != nil {
				t.Fatal(err)
			}
			return h
		}},
	}
	allowedIn := map[string]map[string]bool{
		"running stage": {},
		FailedHolding:   {Retry: true, Override: true, Abandon: true},
		Completed:       {Release: true},
		Released:        {},
	}
	for _, su := range setups {
		for _, a := range actions {
			t.Run(su.state+"/"+a, func(t *testing.T) {
				h := su.make(t)
				defer h.stop()
				err := h.act(a, "")
				want := allowedIn[su.state][a]
				if want && err != nil {
					t.Fatalf("%s in %s refused: %v", a, su.state, err)
				}
				if !want {
					if err == nil || !errors.Is(err, ErrNotAllowed) {
						t.Fatalf("%s in %s: err = %v, want ErrNotAllowed", a, su.state, err)
					}
					if !strings.Contains(err.Error(), a) {
						t.Errorf("refusal does not name the action: %v", err)
					}
				}
			})
		}
	}
}

func TestActionNeedsReasonAndKnownKind(t *testing.T) {
	h := newHarness(t, &fakeStage{name: "Inventory", script: []func(context.Context, *stage.Env) (stage.Result, error){fail}})
	h.start()
	defer h.stop()
	h.waitState(FailedHolding)
	for _, a := range []Action{
		{Kind: Retry, Who: "x"},
		{Kind: "reboot", Who: "x", Reason: "r"},
		{Kind: Retry, Reason: "r"},
		{Kind: Retry, Who: "x", Reason: "r", Target: "disk"},
	} {
		if err := h.e.Act(context.Background(), a); err == nil {
			t.Errorf("%+v accepted", a)
		}
	}
}

func TestTimeoutFailsStageAndEndsChildProcesses(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	st := &fakeStage{name: "CPUStress", timeout: 300 * time.Millisecond, script: []func(context.Context, *stage.Env) (stage.Result, error){
		func(ctx context.Context, env *stage.Env) (stage.Result, error) {
			ex := &tool.Exec{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), KillGrace: 200 * time.Millisecond}
			// A shell that records its child's pid and waits on it: both must die.
			_, err := ex.Run(ctx, tool.Cmd{Tool: "sh", Args: []string{"-c", "sleep 60 & echo $! > " + pidFile + "; wait"}})
			return stage.Result{Status: stage.Pass, Message: "should not be used"}, err
		}}}
	h := newHarness(t, st)
	h.start()
	h.waitState(FailedHolding)
	defer h.stop()
	v := stageStatus(h.status(), "CPUStress")
	if v.Status != "fail" || v.Reason != ReasonTimeout || !strings.Contains(v.Message, "timeout") {
		t.Fatalf("CPUStress: %+v", v)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(string(b))
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat("/proc/" + pid); errors.Is(err, os.ErrNotExist) {
			break
		}
		if s, _ := os.ReadFile("/proc/" + pid + "/stat"); strings.Contains(string(s), ") Z ") {
			break // zombie: dead, waiting to be reaped by init
		}
		if time.Now().After(deadline) {
			t.Fatalf("child process %s still alive after the stage timed out", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStageThatIgnoresItsDeadlineIsAbandoned(t *testing.T) {
	st := &fakeStage{name: "GPU", timeout: 100 * time.Millisecond, script: []func(context.Context, *stage.Env) (stage.Result, error){
		func(ctx context.Context, env *stage.Env) (stage.Result, error) {
			time.Sleep(time.Hour) // ignores ctx
			return stage.Result{}, nil
		}}}
	h := newHarness(t, st)
	h.start(func(e *Engine) { e.TimeoutGrace = 100 * time.Millisecond })
	h.waitState(FailedHolding)
	defer h.stop()
	if v := stageStatus(h.status(), "GPU"); v.Reason != ReasonTimeout {
		t.Fatalf("GPU: %+v", v)
	}
}

func TestCouldNotDecideAndBadResultsHold(t *testing.T) {
	cases := map[string]func(context.Context, *stage.Env) (stage.Result, error){
		"error": func(context.Context, *stage.Env) (stage.Result, error) {
			return stage.Result{}, errors.New("fio not installed")
		},
		"panic": func(context.Context, *stage.Env) (stage.Result, error) { panic("boom") },
		"bad status": func(context.Context, *stage.Env) (stage.Result, error) {
			return stage.Result{Status: "great"}, nil
		},
		"bad finding code": func(context.Context, *stage.Env) (stage.Result, error) {
			return stage.Result{Status: stage.Warn, Findings: []stage.Finding{{Code: "bad code!", Message: "x"}}}, nil
		},
	}
	for name, fn := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, &fakeStage{name: "SMART", script: []func(context.Context, *stage.Env) (stage.Result, error){fn}})
			h.start()
			h.waitState(FailedHolding)
			defer h.stop()
			v := stageStatus(h.status(), "SMART")
			if v.Status != "fail" || v.Reason != ReasonError || !strings.HasPrefix(v.Message, "could not decide") {
				t.Fatalf("SMART: %+v", v)
			}
		})
	}
}

func TestCancellationHoldsAndResumes(t *testing.T) {
	started := make(chan struct{}, 1)
	st := &fakeStage{name: "Storage", destructive: true, timeout: time.Minute, script: []func(context.Context, *stage.Env) (stage.Result, error){
		func(ctx context.Context, env *stage.Env) (stage.Result, error) {
			started <- struct{}{}
			return block(ctx, env)
		}, pass}}
	h := newHarness(t, st)
	h.start()
	<-started
	if err := h.stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
	s := h.status()
	if s.Run.State != FailedHolding || s.Run.FailedStage != "Storage" {
		t.Fatalf("after cancel: %s failed=%s", s.Run.State, s.Run.FailedStage)
	}
	if v := stageStatus(s, "Storage"); v.Reason != ReasonCanceled {
		t.Fatalf("Storage: %+v", v)
	}
	// Restart: the run is still held and the destructive stage is not re-run.
	h.start()
	h.waitState(FailedHolding)
	time.Sleep(50 * time.Millisecond)
	if n := st.calls.Load(); n != 1 {
		t.Fatalf("destructive stage re-run without an operator: %d calls", n)
	}
	if err := h.act(Retry, ""); err != nil {
		t.Fatal(err)
	}
	if err := h.wait(); err != nil {
		t.Fatal(err)
	}
	if s := h.status(); s.Run.State != Completed || st.calls.Load() != 2 {
		t.Fatalf("after retry: %s, calls %d", s.Run.State, st.calls.Load())
	}
}

// TestRestartRule simulates a crash: a stage row left open in the journal.
func TestRestartRuleRecordsInterruptedAndHolds(t *testing.T) {
	for _, destructive := range []bool{false, true} {
		t.Run(fmt.Sprint("destructive=", destructive), func(t *testing.T) {
			name := "CPUStress"
			if destructive {
				name = "Storage"
			}
			st := &fakeStage{name: name, destructive: destructive}
			h := newHarness(t, st)
			// Write the state a crashed agent leaves behind.
			j, err := journal.Open(filepath.Join(h.dir, "journal.db"))
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			r := journal.Run{ID: "run-crashed", Profile: "quick", State: name, CreatedAt: now, UpdatedAt: now}
			if err := j.CreateRun(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			if _, err := j.StartStage(context.Background(), r.ID, name, destructive, now); err != nil {
				t.Fatal(err)
			}
			j.Close()

			h.start()
			h.waitState(FailedHolding)
			s := h.status()
			if s.Run.ID != "run-crashed" || s.Run.FailedStage != name {
				t.Fatalf("run %s failed_stage %q", s.Run.ID, s.Run.FailedStage)
			}
			v := stageStatus(s, name)
			want := "interrupted: agent or host restarted during " + name
			if v.Status != "fail" || v.Reason != ReasonInterrupted || !strings.HasPrefix(v.Message, want) {
				t.Fatalf("%s: %+v", name, v)
			}
			if n := st.calls.Load(); n != 0 {
				t.Fatalf("stage re-run automatically after restart: %d", n)
			}
			// Journal reopened again (second restart) while holding: still held, still not run.
			h.stop()
			h.start()
			h.waitState(FailedHolding)
			if n := st.calls.Load(); n != 0 {
				t.Fatalf("stage re-run on second restart: %d", n)
			}
			if err := h.act(Retry, ""); err != nil {
				t.Fatal(err)
			}
			if err := h.wait(); err != nil {
				t.Fatal(err)
			}
			if st.calls.Load() != 1 {
				t.Fatalf("retry did not run the stage once: %d", st.calls.Load())
			}
		})
	}
}

func TestEveryTransitionIsJournaledInOrder(t *testing.T) {
	var all []stage.Stage
	for _, n := range Order {
		all = append(all, &fakeStage{name: n})
	}
	h := newHarness(t, all...)
	var seen []string
	h.start(func(e *Engine) {
		e.OnTransition = func(ctx context.Context, r journal.Run) { seen = append(seen, r.State) }
	})
	if err := h.wait(); err != nil {
		t.Fatal(err)
	}
	want := append([]string{Booting}, Order...)
	want = append(want, Completed)
	if strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Fatalf("transitions\n got %v\nwant %v", seen, want)
	}
}

func TestConfigDisablesStageAndPassesParams(t *testing.T) {
	cpu := &fakeStage{name: "CPUStress"}
	gpu := &fakeStage{name: "GPU"}
	h := newHarness(t, cpu, gpu)
	h.start(func(e *Engine) { e.Config.Stage("GPU").Enabled = false })
	if err := h.wait(); err != nil {
		t.Fatal(err)
	}
	s := h.status()
	if v := stageStatus(s, "GPU"); v.Status != "skip" || v.Reason != ReasonDisabled || gpu.calls.Load() != 0 {
		t.Fatalf("GPU: %+v calls %d", v, gpu.calls.Load())
	}
	env := cpu.envs[0]
	if env.Params.Duration("duration") != 30*time.Second {
		t.Errorf("quick profile param = %v, want 30s", env.Params.Duration("duration"))
	}
	if env.Thresholds.Float("max_temp_c") != 90 || !env.AllowDestructive || env.Profile != "quick" {
		t.Errorf("env: thresholds %v destructive %v profile %s", env.Thresholds, env.AllowDestructive, env.Profile)
	}
}

func TestSafeProfileForbidsDestructive(t *testing.T) {
	st := &fakeStage{name: "Storage", destructive: true}
	h := newHarness(t, st)
	h.profile = config.Safe
	h.start()
	if err := h.wait(); err != nil {
		t.Fatal(err)
	}
	if st.envs[0].AllowDestructive {
		t.Fatal("safe profile allowed destructive work")
	}
}

func TestNewRunSupersedesHeldRun(t *testing.T) {
	h := newHarness(t, &fakeStage{name: "Inventory", script: []func(context.Context, *stage.Env) (stage.Result, error){fail, pass}})
	h.start()
	h.waitState(FailedHolding)
	first := h.e.Current().ID
	h.stop()
	h.start(func(e *Engine) { e.NewRun = true })
	if err := h.wait(); err != nil {
		t.Fatal(err)
	}
	j, _ := journal.OpenReadOnly(filepath.Join(h.dir, "journal.db"))
	defer j.Close()
	old, err := j.GetRun(context.Background(), first)
	if err != nil {
		t.Fatal(err)
	}
	if old.State != Completed || old.Result != "fail" || !old.Abandoned {
		t.Fatalf("superseded run: %+v", old)
	}
	if cur := h.e.Current(); cur.ID == first || cur.State != Completed || cur.Result != "pass" {
		t.Fatalf("new run: %+v", cur)
	}
}

func TestMeasurementsFactsAndArtifactsAreJournaled(t *testing.T) {
	st := &fakeStage{name: "CPUStress", script: []func(context.Context, *stage.Env) (stage.Result, error){
		func(ctx context.Context, env *stage.Env) (stage.Result, error) {
			if err := env.Measure(stage.Measurement{Kind: "thermal", Subject: "coretemp", Name: "temp", Value: 55.5, Unit: "C"}); err != nil {
				return stage.Result{}, err
			}
			a, err := env.WriteArtifact("stress.yaml", []byte("metrics: []\n"), "application/yaml")
			if err != nil {
				return stage.Result{}, err
			}
			return stage.Result{Status: stage.Pass, Message: "ok", Artifacts: []stage.Artifact{a},
				Measurements: []stage.Measurement{{Kind: "stress", Name: "bogo_ops", Value: 1234, Time: env.Clock()}},
				SpecDiffs:    []stage.SpecDiff{{Field: "cpu.cores", Expected: "8", Actual: "8", Class: stage.Info}}}, nil
		}}}
	h := newHarness(t, st)
	h.start()
	if err := h.wait(); err != nil {
		t.Fatal(err)
	}
	j, _ := journal.OpenReadOnly(filepath.Join(h.dir, "journal.db"))
	defer j.Close()
	ctx := context.Background()
	id := h.e.Current().ID
	ms, _ := j.Measurements(ctx, id, "")
	if len(ms) != 2 || ms[0].Value != 55.5 || ms[1].Name != "bogo_ops" {
		t.Fatalf("measurements: %+v", ms)
	}
	as, _ := j.Artifacts(ctx, id)
	if len(as) != 1 || as[0].Size != 12 || len(as[0].SHA256) != 64 {
		t.Fatalf("artifacts: %+v", as)
	}
	if b, err := os.ReadFile(as[0].Path); err != nil || string(b) != "metrics: []\n" {
		t.Fatalf("artifact file: %q %v", b, err)
	}
	ds, _ := j.SpecDiffs(ctx, id)
	if len(ds) != 1 || ds[0].Field != "cpu.cores" {
		t.Fatalf("spec diffs: %+v", ds)
	}
}
