package corecmd

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shakedown/shakedown/agent/cli"
	"github.com/shakedown/shakedown/agent/engine"
	"github.com/shakedown/shakedown/agent/stage"
)

type flakyStage struct{ calls atomic.Int32 }

func (f *flakyStage) Name() string                  { return "CPUStress" }
func (f *flakyStage) Destructive() bool             { return false }
func (f *flakyStage) DefaultTimeout() time.Duration { return time.Minute }
func (f *flakyStage) Run(ctx context.Context, env *stage.Env) (stage.Result, error) {
	if f.calls.Add(1) == 1 {
		return stage.Result{Status: stage.Fail, Message: "verification failed"}, nil
	}
	return stage.Result{Status: stage.Pass, Message: "ok"}, nil
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), args, cli.IO{Stdout: &out, Stderr: &errb})
	return code, out.String(), errb.String()
}

func statusJSON(t *testing.T, dir string) engine.Status {
	t.Helper()
	code, out, errs := runCLI("status", "--json", "--state-dir", dir)
	if code != 0 {
		t.Fatalf("status exit %d: %s", code, errs)
	}
	var st engine.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status JSON: %v\n%s", err, out)
	}
	return st
}

func TestRunHoldActionStatusRelease(t *testing.T) {
	t.Cleanup(stage.Replace(&flakyStage{}))
	dir := t.TempDir()
	// No journal yet: status explains what to do.
	if code, _, errs := runCLI("status", "--state-dir", dir); code != 1 || !strings.Contains(errs, "no journal") {
		t.Fatalf("status without journal: %d %s", code, errs)
	}
	out := &syncBuf{}
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(context.Background(), []string{"run", "--profile", "quick", "--state-dir", dir, "--stay", "--log.level", "error"}, cli.IO{Stdout: out, Stderr: out})
	}()
	var st engine.Status
	deadline := time.Now().Add(20 * time.Second)
	for {
		if code, o, _ := runCLI("status", "--json", "--state-dir", dir); code == 0 {
			_ = json.Unmarshal([]byte(o), &st)
			if st.Run != nil && st.Run.State == engine.FailedHolding {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("run never held; output:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st.Agent != "running" || st.Run.FailedStage != "CPUStress" || !strings.Contains(st.Next, "retry") {
		t.Fatalf("held status: %+v", st)
	}
	// A second agent on the same state dir is refused.
	if code, _, errs := runCLI("run", "--state-dir", dir); code == 0 || !strings.Contains(errs, "another agent") {
		t.Fatalf("second agent: %d %s", code, errs)
	}
	// Refused action, then missing reason, then the real retry.
	if code, _, errs := runCLI("action", "release", "--reason", "done", "--state-dir", dir); code != 1 || !strings.Contains(errs, "release applies only to a completed run") {
		t.Fatalf("release while held: %d %s", code, errs)
	}
	if code, _, errs := runCLI("action", "retry", "--state-dir", dir); code != 1 || !strings.Contains(errs, "reason is required") {
		t.Fatalf("retry without reason: %d %s", code, errs)
	}
	if code, _, errs := runCLI("action", "retry", "--reason", "reseated DIMM", "--who", "alice", "--state-dir", dir); code != 0 {
		t.Fatalf("retry: %d %s", code, errs)
	}
	deadline = time.Now().Add(20 * time.Second)
	for st = statusJSON(t, dir); st.Run.State != engine.Completed; st = statusJSON(t, dir) {
		if time.Now().After(deadline) {
			t.Fatalf("not completed: %+v", st.Run)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, _, errs := runCLI("action", "release", "--reason", "back to the cluster", "--state-dir", dir); code != 0 {
		t.Fatalf("release: %d %s", code, errs)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("run exit %d:\n%s", code, out.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not exit after release")
	}
	// The journal alone (no agent) tells the whole story.
	st = statusJSON(t, dir)
	if st.Agent != "not running" || st.Run.State != engine.Released || st.Run.Result != "pass" {
		t.Fatalf("final: %+v", st.Run)
	}
	if len(st.Actions) != 2 || st.Actions[0].Who != "alice" || st.Actions[0].Reason != "reseated DIMM" || st.Actions[1].Kind != "release" {
		t.Fatalf("actions: %+v", st.Actions)
	}
	for _, v := range st.Stages {
		if v.Name == "CPUStress" && (v.Status != "pass" || v.Attempts != 2) {
			t.Fatalf("CPUStress: %+v", v)
		}
		if v.Name == "GPU" && (v.Status != "skip" || v.Message != "not implemented") {
			t.Fatalf("GPU: %+v", v)
		}
	}
	if !strings.Contains(out.String(), "CPUStress    fail verification failed") {
		t.Errorf("run output lacks the stage line:\n%s", out.String())
	}
}

func TestOfflineReleaseAndRefusals(t *testing.T) {
	t.Cleanup(stage.Replace())
	dir := t.TempDir()
	if code, out, errs := runCLI("run", "--profile", "safe", "--state-dir", dir, "--log.level", "error"); code != 0 || !strings.Contains(out, "state Completed, result pass") {
		t.Fatalf("run: %d\n%s\n%s", code, out, errs)
	}
	if code, _, errs := runCLI("action", "retry", "--reason", "x", "--state-dir", dir); code != 1 || !strings.Contains(errs, "no agent is running") {
		t.Fatalf("offline retry: %d %s", code, errs)
	}
	if code, out, errs := runCLI("action", "release", "--reason", "ok", "--state-dir", dir); code != 0 || !strings.Contains(out, "Released") {
		t.Fatalf("offline release: %d %s %s", code, out, errs)
	}
	if code, _, errs := runCLI("action", "release", "--reason", "again", "--state-dir", dir); code != 1 || !strings.Contains(errs, "the run is in Released") {
		t.Fatalf("second release: %d %s", code, errs)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--profile", "turbo"},
		{"run", "--stage.nosuch.duration=1s"},
		{"action"},
		{"frobnicate"},
	} {
		if code, _, _ := runCLI(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, out, _ := runCLI("run", "--help"); code != 0 {
		t.Errorf("run --help exit %d %s", code, out)
	}
}
