package corecmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shakedown/shakedown/agent/config"
	"github.com/shakedown/shakedown/agent/engine"
	"github.com/shakedown/shakedown/agent/event"
	"github.com/shakedown/shakedown/agent/journal"
	"github.com/shakedown/shakedown/agent/report"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/agent/stage/reporting"
	"github.com/shakedown/shakedown/agent/upload"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/tool"
)

// memRemote is an in-memory bucket behind the uploader's interface.
type memRemote struct {
	mu   sync.Mutex
	objs map[string][]byte
	puts []string
}

func (m *memRemote) Enqueue(key, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return m.EnqueueBytes(key, b)
}

func (m *memRemote) EnqueueBytes(key string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objs[key] = append([]byte(nil), data...)
	m.puts = append(m.puts, key)
	return nil
}

func (m *memRemote) Flush(context.Context) error { return nil }
func (m *memRemote) Pending() (int, int64)       { return 0, 0 }
func (m *memRemote) Run(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}
func (m *memRemote) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objs[key]
	if !ok {
		return nil, fmt.Errorf("get %s: %w", key, upload.ErrNotFound)
	}
	return b, nil
}

func (m *memRemote) json(t *testing.T, key string, v any) {
	t.Helper()
	m.mu.Lock()
	b, ok := m.objs[key]
	m.mu.Unlock()
	if !ok {
		t.Fatalf("%s not in the bucket", key)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
}

type fakeStage struct {
	name string
	fn   func(env *stage.Env) (stage.Result, error)
}

func (f fakeStage) Name() string                  { return f.name }
func (f fakeStage) Destructive() bool             { return false }
func (f fakeStage) DefaultTimeout() time.Duration { return time.Minute }
func (f fakeStage) Run(_ context.Context, env *stage.Env) (stage.Result, error) {
	return f.fn(env)
}

const testHost = "4c4c4544-0042-8010"

func invStage() fakeStage {
	return fakeStage{"Inventory", func(env *stage.Env) (stage.Result, error) {
		inv := collector.Inventory{HostID: testHost, HostIDSource: "dmi-uuid"}
		if err := env.PutFact("inventory", inv); err != nil {
			return stage.Result{}, err
		}
		a, err := env.WriteArtifact("inventory.json", []byte(`{"host_id":"`+testHost+`"}`), "application/json")
		return stage.Result{Status: stage.Pass, Message: "ok", Artifacts: []stage.Artifact{a}}, err
	}}
}

func runWithHook(t *testing.T, m *memRemote, stages ...stage.Stage) (*engine.Engine, *journal.Journal, []event.Event, string) {
	return runWithHookSetup(t, m, nil, stages...)
}

func runWithHookSetup(t *testing.T, m *memRemote, setup func(*journal.Journal), stages ...stage.Stage) (*engine.Engine, *journal.Journal, []event.Event, string) {
	t.Helper()
	return runWithHookOpts(t, m, setup, nil, stages...)
}

// runWithHookOpts also lets the test adjust the engine and the hook before
// the run starts.
func runWithHookOpts(t *testing.T, m *memRemote, setup func(*journal.Journal), configure func(*engine.Engine, *uploadHook), stages ...stage.Stage) (*engine.Engine, *journal.Journal, []event.Event, string) {
	t.Helper()
	t.Cleanup(stage.Replace(append(stages, reporting.Stage{})...))
	dir := t.TempDir()
	j, err := journal.Open(filepath.Join(dir, "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	if setup != nil {
		setup(j)
	}
	cfg, err := config.New(config.Quick, engine.Order)
	if err != nil {
		t.Fatal(err)
	}
	e := &engine.Engine{Journal: j, Config: cfg, Tools: &tool.Fake{}, StateDir: dir, Bus: event.NewBus(),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), ExitWhenComplete: true, TimeoutGrace: time.Second}
	var out bytes.Buffer
	h := &uploadHook{e: e, out: &out, log: slog.New(slog.NewTextHandler(io.Discard, nil)), stateDir: dir,
		newRemote: func(host string) (remote, error) {
			if host != testHost {
				return nil, fmt.Errorf("uploader for unexpected host %q", host)
			}
			return m, nil
		}}
	if configure != nil {
		configure(e, h)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h.install(ctx)
	ch, unsub := e.Bus.Subscribe(1024)
	var evs []event.Event
	done := make(chan struct{})
	go func() {
		for ev := range ch {
			evs = append(evs, ev)
		}
		close(done)
	}()
	if err := e.Run(ctx); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	unsub()
	<-done
	return e, j, evs, out.String()
}

func TestUploadHookCheckpointsAndReport(t *testing.T) {
	m := &memRemote{objs: map[string][]byte{}}
	e, _, _, out := runWithHook(t, m, invStage())
	run := e.Current()
	if run.State != engine.Completed || run.Result != "pass" {
		t.Fatalf("run %s/%s\n%s", run.State, run.Result, out)
	}
	pre := report.RunPrefix(testHost, run.ID) + "/"
	for _, k := range []string{pre + "checkpoint.json", pre + "journal.db", pre + "report.html", pre + "report.json", pre + "ocp.jsonl",
		pre + "artifacts/inventory.json", "hosts/" + testHost + "/latest.json"} {
		if _, ok := m.objs[k]; !ok {
			t.Errorf("%s not uploaded", k)
		}
	}
	var cp report.Checkpoint
	m.json(t, pre+"checkpoint.json", &cp)
	if cp.Schema != report.CheckpointSchema || cp.Run.State != engine.Completed || cp.Run.Result != "pass" || cp.Report != pre+"report.json" {
		t.Errorf("final checkpoint = %+v", cp.Run)
	}
	var l report.Latest
	m.json(t, "hosts/"+testHost+"/latest.json", &l)
	if l.RunID != run.ID || l.State != engine.Completed || l.HTML != pre+"report.html" {
		t.Errorf("latest = %+v", l)
	}
	// A checkpoint went up at every transition once the host was known:
	// SpecValidate ... PSU, Reporting, Completed.
	n := 0
	for _, k := range m.puts {
		if k == pre+"checkpoint.json" {
			n++
		}
	}
	if n != len(engine.Order) {
		t.Errorf("%d checkpoints, want %d (one per transition after Inventory)", n, len(engine.Order))
	}
	// The journal snapshot is a readable SQLite copy of the run.
	snap := filepath.Join(t.TempDir(), "j.db")
	if err := os.WriteFile(snap, m.objs[pre+"journal.db"], 0o644); err != nil {
		t.Fatal(err)
	}
	sj, err := journal.OpenReadOnly(snap)
	if err != nil {
		t.Fatal(err)
	}
	defer sj.Close()
	if r, err := sj.GetRun(context.Background(), run.ID); err != nil || r.HostID != testHost {
		t.Errorf("snapshot run = %+v, %v", r, err)
	}
}

func TestUploadHookClosesCrashedRun(t *testing.T) {
	m := &memRemote{objs: map[string][]byte{}}
	old := report.NewCheckpoint(time.Now().Add(-time.Hour), report.Run{ID: "20261127T100000Z-0ld000", HostID: testHost, Profile: "full", State: "CPUStress"},
		[]report.Stage{{Name: "Inventory", Status: "pass"}, {Name: "CPUStress", Status: "running"}})
	b, _ := json.Marshal(old)
	m.objs[report.RunKey(testHost, old.Run.ID, report.CheckpointName)] = b
	lb, _ := json.Marshal(report.LatestFor(old))
	m.objs[report.LatestKey(testHost)] = lb

	e, _, evs, out := runWithHook(t, m, invStage())
	var cp report.Checkpoint
	m.json(t, report.RunKey(testHost, old.Run.ID, report.CheckpointName), &cp)
	if cp.Run.State != engine.Completed || cp.Run.Result != "fail" || cp.Run.FailedStage != "CPUStress" || cp.Closed == nil {
		t.Fatalf("old run after the new boot: %+v closed %+v\n%s", cp.Run, cp.Closed, out)
	}
	if cp.Closed.Reason != "interrupted: host crashed or rebooted during CPUStress" || cp.Closed.By != "run "+e.Current().ID {
		t.Errorf("closed = %+v", cp.Closed)
	}
	for _, s := range cp.Stages {
		if s.Name == "CPUStress" && (s.Status != "fail" || s.Reason != engine.ReasonInterrupted) {
			t.Errorf("CPUStress in the closing checkpoint: %+v", s)
		}
	}
	lost := false
	for _, ev := range evs {
		if n, ok := ev.(event.Notice); ok && n.Kind == event.HostLost && strings.Contains(n.Message, old.Run.ID) {
			lost = true
		}
	}
	if !lost {
		t.Error("no HostLost notice")
	}
	// latest.json now points at the new run.
	var l report.Latest
	m.json(t, report.LatestKey(testHost), &l)
	if l.RunID != e.Current().ID {
		t.Errorf("latest points at %s", l.RunID)
	}
}

func TestUploadHookLeavesFinishedRunAlone(t *testing.T) {
	m := &memRemote{objs: map[string][]byte{}}
	old := report.NewCheckpoint(time.Now().Add(-time.Hour), report.Run{ID: "20261127T100000Z-0ld000", HostID: testHost, State: engine.Completed, Result: "pass"}, nil)
	b, _ := json.Marshal(old)
	m.objs[report.RunKey(testHost, old.Run.ID, report.CheckpointName)] = b
	lb, _ := json.Marshal(report.LatestFor(old))
	m.objs[report.LatestKey(testHost)] = lb
	runWithHook(t, m, invStage())
	for _, k := range m.puts {
		if strings.Contains(k, old.Run.ID) {
			t.Errorf("a finished run was rewritten: %s", k)
		}
	}
}

func TestUploadHookPublishesSupersededRun(t *testing.T) {
	m := &memRemote{objs: map[string][]byte{}}
	const oldID = "20261127T100000Z-0ld000"
	held := report.NewCheckpoint(time.Now().Add(-time.Hour), report.Run{ID: oldID, HostID: testHost, State: engine.FailedHolding, FailedStage: "SMART"}, nil)
	lb, _ := json.Marshal(report.LatestFor(held))
	m.objs[report.LatestKey(testHost)] = lb
	// The local journal closed that run when --new started this one.
	setup := func(j *journal.Journal) {
		now := time.Now().UTC()
		r := journal.Run{ID: oldID, HostID: testHost, Profile: "quick", State: engine.Completed, Result: "fail", Abandoned: true,
			FailedStage: "SMART", CreatedAt: now.Add(-time.Hour), UpdatedAt: now, CompletedAt: &now}
		if err := j.CreateRun(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	_, _, evs, _ := runWithHookSetup(t, m, setup, invStage())
	var cp report.Checkpoint
	m.json(t, report.RunKey(testHost, oldID, report.CheckpointName), &cp)
	if cp.Run.State != engine.Completed || cp.Run.Result != "fail" || !cp.Run.Abandoned || cp.Closed == nil || !strings.HasPrefix(cp.Closed.Reason, "superseded") {
		t.Errorf("superseded run in the bucket: %+v closed %+v", cp.Run, cp.Closed)
	}
	for _, ev := range evs {
		if n, ok := ev.(event.Notice); ok && n.Kind == event.HostLost {
			t.Errorf("a superseded run is not a lost host: %s", n.Message)
		}
	}
}

func TestUploadHookFetchesSpec(t *testing.T) {
	m := &memRemote{objs: map[string][]byte{}}
	const specText = "host: " + testHost + "\n# from the bucket\n"
	m.objs[report.SpecKey(testHost)] = []byte(specText)
	var seen string
	sv := fakeStage{"SpecValidate", func(env *stage.Env) (stage.Result, error) {
		b, err := os.ReadFile(env.Params.String("spec"))
		if err != nil {
			return stage.Result{Status: stage.Fail, Reason: "no_spec", Message: err.Error()}, nil
		}
		seen = string(b)
		return stage.Result{Status: stage.Pass, Message: "spec read"}, nil
	}}
	e, _, _, out := runWithHook(t, m, invStage(), sv)
	if seen != specText {
		t.Fatalf("SpecValidate read %q; want the bucket's spec\n%s", seen, out)
	}
	if e.Current().Result != "pass" || !strings.Contains(out, "expected spec fetched from the bucket") {
		t.Errorf("result %s, output:\n%s", e.Current().Result, out)
	}
}

func TestCmdlineSettings(t *testing.T) {
	got := cmdlineSettings(`BOOT_IMAGE=/vmlinuz quiet shakedown.coordinator=https://10.0.0.1:8443 shakedown.token="abc123" shakedown.ca=sha256:0011 console=ttyS0`)
	want := uploadSettings{Coordinator: "https://10.0.0.1:8443", Token: "abc123", CAFingerprint: "sha256:0011"}
	if got != want {
		t.Errorf("got %+v want %+v", got, want)
	}
	if got := cmdlineSettings("quiet splash"); got != (uploadSettings{}) {
		t.Errorf("no keys: %+v", got)
	}
}

func FuzzCmdlineSettings(f *testing.F) {
	f.Add(`quiet shakedown.coordinator=https://10.0.0.1:8443 shakedown.token="abc" shakedown.ca=sha256:00`)
	f.Add("shakedown.token= shakedown.coordinator")
	f.Fuzz(func(t *testing.T, s string) {
		got := cmdlineSettings(s)
		for _, v := range []string{got.Coordinator, got.Token, got.CAFingerprint} {
			if strings.ContainsAny(v, " \t\n") || !strings.Contains(s, strings.Trim(v, `"`)) {
				t.Fatalf("value %q not a field of %q", v, s)
			}
		}
	})
}
