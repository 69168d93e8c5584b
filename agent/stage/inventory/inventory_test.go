package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shakedown/shakedown/agent/event"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/tool"
)

type fakeSink struct{ facts map[string][]byte }

func (f *fakeSink) Emit(event.Event)                           {}
func (f *fakeSink) Measure(string, ...stage.Measurement) error { return nil }
func (f *fakeSink) Fact(key string, v any) (bool, error) {
	b, ok := f.facts[key]
	return ok, json.Unmarshal(b, v)
}
func (f *fakeSink) PutFact(key string, v any) (err error) {
	if f.facts == nil {
		f.facts = map[string][]byte{}
	}
	f.facts[key], err = json.Marshal(v)
	return err
}

func newEnv(t *testing.T, root string) (*stage.Env, *fakeSink) {
	sink := &fakeSink{}
	return &stage.Env{Stage: "Inventory", WorkDir: t.TempDir(), Sink: sink, Tools: &tool.Fake{},
		Collector: collector.Env{Root: root}}, sink
}

// TestRunOnSnapshot runs the real probes on the committed VM snapshot.
func TestRunOnSnapshot(t *testing.T) {
	root := t.TempDir()
	if err := collector.UnpackSnapshotFile("../../../collector/testdata/snapshots/qemu-virtio-epyc-2cpu.tar.gz", root); err != nil {
		t.Fatal(err)
	}
	env, _ := newEnv(t, root)
	res, err := Stage{}.Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != stage.Pass {
		t.Fatalf("status %s: %s", res.Status, res.Message)
	}
	// No DMI on the VM: tolerated, listed, not a failure.
	if !strings.Contains(res.Message, "not present: dmi") {
		t.Errorf("message does not list the missing area: %q", res.Message)
	}
	if len(res.Artifacts) != 1 || res.Artifacts[0].Name != "inventory.json" || res.Artifacts[0].Size == 0 {
		t.Fatalf("artifacts %+v", res.Artifacts)
	}
	b, err := os.ReadFile(filepath.Join(env.WorkDir, "inventory.json"))
	if err != nil {
		t.Fatal(err)
	}
	var onDisk collector.Inventory
	if err := json.Unmarshal(b, &onDisk); err != nil || onDisk.SchemaVersion != collector.SchemaVersion || onDisk.CPU == nil {
		t.Fatalf("inventory.json: %v %+v", err, onDisk.CPU)
	}
	var fact collector.Inventory
	if ok, err := env.Fact(FactKey, &fact); !ok || err != nil || fact.HostID != onDisk.HostID || len(fact.Disks) != 1 {
		t.Fatalf("fact: ok=%v err=%v %+v", ok, err, fact.Disks)
	}
	probes, _ := res.Summary["probes"].(map[string]any)
	if len(probes) != len(collector.Probes()) {
		t.Errorf("summary lists %d probes, %d registered", len(probes), len(collector.Probes()))
	}
	if res.Summary["cpu_threads"] != 2 {
		t.Errorf("summary %+v", res.Summary)
	}
}

func TestFailsWithoutCPUAndMemory(t *testing.T) {
	env, sink := newEnv(t, t.TempDir())
	res, err := Stage{}.Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != stage.Fail || res.Reason != "no_inventory" {
		t.Fatalf("empty root: %s %s %q", res.Status, res.Reason, res.Message)
	}
	// The evidence is still kept.
	if len(res.Artifacts) != 1 || sink.facts[FactKey] == nil {
		t.Error("inventory artifact and fact must be written even on failure")
	}
	for _, f := range res.Findings {
		if !stage.ValidCode(f.Code) {
			t.Errorf("bad finding code %q", f.Code)
		}
	}
}

func TestPassesWithOnlyMemory(t *testing.T) {
	env, _ := newEnv(t, "")
	s := Stage{Collect: func(context.Context, collector.Env) (*collector.Inventory, error) {
		return &collector.Inventory{Memory: &collector.Memory{TotalBytes: 1 << 30},
			Probes: []collector.ProbeStatus{{Name: "memory", OK: true}, {Name: "cpu", Error: "read CPU: boom"}, {Name: "gpu", NoData: true}}}, nil
	}}
	res, err := s.Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != stage.Pass || !strings.Contains(res.Message, "failed: cpu (read CPU: boom)") || !strings.Contains(res.Message, "not present: gpu") {
		t.Fatalf("%s %q", res.Status, res.Message)
	}
	codes := map[string]bool{}
	for _, f := range res.Findings {
		codes[f.Code] = true
	}
	if !codes["ProbeFailed"] || !codes["AreaMissing"] {
		t.Errorf("findings %+v", res.Findings)
	}
}

func TestContextEndIsAnError(t *testing.T) {
	env, _ := newEnv(t, "")
	s := Stage{Collect: func(ctx context.Context, _ collector.Env) (*collector.Inventory, error) {
		return &collector.Inventory{}, context.DeadlineExceeded
	}}
	if _, err := s.Run(context.Background(), env); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func TestRegistered(t *testing.T) {
	s, ok := stage.Lookup("Inventory")
	if !ok || s.Destructive() || s.DefaultTimeout().Minutes() != 2 {
		t.Fatalf("registered stage %+v %v", s, ok)
	}
}
