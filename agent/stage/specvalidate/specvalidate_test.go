package specvalidate

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shakedown/shakedown/agent/event"
	"github.com/shakedown/shakedown/agent/spec"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
)

// fakeSink keeps facts as JSON, like the journal does.
type fakeSink struct {
	facts  map[string][]byte
	events []event.Event
}

func (f *fakeSink) Emit(e event.Event)                         { f.events = append(f.events, e) }
func (f *fakeSink) Measure(string, ...stage.Measurement) error { return nil }
func (f *fakeSink) PutFact(k string, v any) (err error) {
	f.facts[k], err = json.Marshal(v)
	return err
}
func (f *fakeSink) Fact(k string, v any) (bool, error) {
	b, ok := f.facts[k]
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(b, v)
}

func (f *fakeSink) notices() []event.Notice {
	var out []event.Notice
	for _, e := range f.events {
		if n, ok := e.(event.Notice); ok {
			out = append(out, n)
		}
	}
	return out
}

const invFile = "../../spec/testdata/inventory-r640.json"

func loadInv(t *testing.T) *collector.Inventory {
	t.Helper()
	b, err := os.ReadFile(invFile)
	if err != nil {
		t.Fatal(err)
	}
	var inv collector.Inventory
	if err := json.Unmarshal(b, &inv); err != nil {
		t.Fatal(err)
	}
	return &inv
}

func newEnv(t *testing.T, inv *collector.Inventory, params stage.Params) (*stage.Env, *fakeSink) {
	t.Helper()
	sink := &fakeSink{facts: map[string][]byte{}}
	if inv != nil {
		if err := sink.PutFact(InventoryFact, inv); err != nil {
			t.Fatal(err)
		}
	}
	return &stage.Env{Stage: Name, HostID: "4c4c4544-0042-3510-8053-b4c04f4d3732", Params: params, Sink: sink,
		WorkDir: t.TempDir(), Thresholds: stage.Params{"max_temp_c": "88", "psu_dip_percent": "7"}}, sink
}

// captured writes a spec captured from inv into dir/<host>.yaml.
func captured(t *testing.T, inv *collector.Inventory, dir string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := spec.Capture(&buf, inv, spec.CaptureOptions{}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, inv.HostID+".yaml")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRegisteredName(t *testing.T) {
	if s, ok := stage.Lookup("SpecValidate"); !ok || s.Name() != "SpecValidate" || s.Destructive() {
		t.Fatalf("SpecValidate not registered as a read-only stage")
	}
}

func TestPassAndFacts(t *testing.T) {
	inv := loadInv(t)
	dir := t.TempDir()
	captured(t, inv, dir)
	env, sink := newEnv(t, inv, stage.Params{"spec_dir": dir})
	res, err := Stage{}.Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != stage.Pass || len(res.SpecDiffs) != 0 || len(res.Artifacts) != 1 || res.Artifacts[0].Name != ArtifactName {
		t.Fatalf("result = %+v", res)
	}
	if len(sink.notices()) != 0 {
		t.Errorf("notice on a clean host: %+v", sink.notices())
	}
	s, err := spec.FromEnv(env)
	if err != nil || len(s.Disks) != 3 || s.Host != inv.HostID {
		t.Fatalf("FromEnv = %+v, %v", s, err)
	}
	th, err := spec.Thresholds(env)
	if err != nil {
		t.Fatal(err)
	}
	// Capture writes no thresholds: config values win over defaults.
	if th["max_temp_c"] != "88" || th["psu_dip_percent"] != "7" || th["fio_iops_floor_hdd"] != "100" {
		t.Errorf("thresholds = %v", th)
	}
}

func TestThresholdPrecedence(t *testing.T) {
	inv := loadInv(t)
	p := filepath.Join(t.TempDir(), "s.yaml")
	b, err := os.ReadFile("../../spec/testdata/example.yaml") // sets max_temp_c 85, fio_iops_floor_hdd 150
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	env, _ := newEnv(t, inv, stage.Params{"spec": p})
	if _, err := (Stage{}).Run(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	th, err := spec.Thresholds(env)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"max_temp_c": "85", "fio_iops_floor_hdd": "150", "psu_dip_percent": "7", "smart_reallocated_max": "0"}
	for k, v := range want {
		if th[k] != v {
			t.Errorf("threshold %s = %q, want %q (spec > config > default)", k, th[k], v)
		}
	}
	if len(th) != len(stage.Thresholds) {
		t.Errorf("%d thresholds, want %d", len(th), len(stage.Thresholds))
	}
}

func TestCriticalFails(t *testing.T) {
	inv := loadInv(t)
	dir := t.TempDir()
	captured(t, inv, dir)
	inv.Disks = inv.Disks[:1]   // two disks gone
	inv.NICs[0].SpeedMbps = nil // link lost
	env, sink := newEnv(t, inv, stage.Params{"spec_dir": dir})
	res, err := Stage{}.Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != stage.Fail || res.Reason != ReasonMismatch || len(res.SpecDiffs) != 3 {
		t.Fatalf("result = %+v", res)
	}
	for _, want := range []string{"3 critical", "disks[1] (wwn:0x5000c500a1b2c3d4): expected", "nics[0].speed"} {
		if !strings.Contains(res.Message, want) {
			t.Errorf("message %q lacks %q", res.Message, want)
		}
	}
	ns := sink.notices()
	if len(ns) != 1 || ns[0].Kind != event.SpecMismatch || ns[0].Stage != Name {
		t.Errorf("notices = %+v", ns)
	}
}

func TestWarningWarns(t *testing.T) {
	inv := loadInv(t)
	dir := t.TempDir()
	captured(t, inv, dir)
	inv.GPUs = append(inv.GPUs, collector.GPU{Index: 1, Model: "NVIDIA A2"})
	env, sink := newEnv(t, inv, stage.Params{"spec_dir": dir})
	res, err := Stage{}.Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != stage.Warn || len(res.SpecDiffs) != 1 || len(sink.notices()) != 1 {
		t.Fatalf("result = %+v", res)
	}
}

func TestNoSpecHolds(t *testing.T) {
	inv := loadInv(t)
	for name, params := range map[string]stage.Params{
		"nothing configured": {},
		"empty spec_dir":     {"spec_dir": t.TempDir()},
		"missing spec file":  {"spec": filepath.Join(t.TempDir(), "nope.yaml")},
	} {
		t.Run(name, func(t *testing.T) {
			env, _ := newEnv(t, inv, params)
			res, err := Stage{}.Run(context.Background(), env)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != stage.Fail || res.Reason != ReasonNoSpec ||
				!strings.HasPrefix(res.Message, "no expected spec for host 4c4c4544-0042-3510-8053-b4c04f4d3732; capture one with `shakedown-agent spec capture > ") {
				t.Errorf("result = %+v", res)
			}
			if _, err := spec.FromEnv(env); err == nil {
				t.Error("FromEnv succeeded without a spec")
			}
		})
	}
}

func TestInvalidAndEmptySpec(t *testing.T) {
	inv := loadInv(t)
	for name, body := range map[string]string{
		"empty":   "",
		"typo":    "version: 1\nhost: x\ncpus: {}\n",
		"garbage": "\x00\x01",
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "s.yaml")
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			env, _ := newEnv(t, inv, stage.Params{"spec": p})
			res, err := Stage{}.Run(context.Background(), env)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != stage.Fail || res.Reason != ReasonInvalid || !strings.Contains(res.Message, p+":") {
				t.Errorf("result = %+v", res)
			}
		})
	}
}

func TestNoInventoryIsAnError(t *testing.T) {
	env, _ := newEnv(t, nil, stage.Params{})
	_, err := Stage{}.Run(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), "Inventory stage did not run") {
		t.Errorf("err = %v", err)
	}
}

func TestSpecDirRefusesPathHostID(t *testing.T) {
	if _, err := specPath(stage.Params{"spec_dir": "/x"}, "../etc/passwd"); err == nil {
		t.Error("host id with a slash accepted")
	}
	p, err := specPath(stage.Params{"spec_dir": "/x", "spec": "/y.yaml"}, "h")
	if err != nil || p != "/y.yaml" {
		t.Errorf("spec param should win: %q %v", p, err)
	}
}
