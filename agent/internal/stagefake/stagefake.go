// Package stagefake is a test double for stage.Sink and a stage.Env builder,
// shared by the tests of the SMART, CPUStress, GPU and PSU stages and the
// thermal sidecar. Facts are stored as JSON, like the journal stores them, so a
// test sees the same round trip a real run does.
package stagefake

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/shakedown/shakedown/agent/event"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/tool"
)

// Sink records everything a stage sends. It is safe for concurrent use.
type Sink struct {
	mu       sync.Mutex
	facts    map[string][]byte
	Events   []event.Event
	Measured []Measured
	// MeasureErr, if set, is returned by Measure.
	MeasureErr error
}

// Measured is one Measure call's row with the stage name it was filed under.
type Measured struct {
	Stage string
	stage.Measurement
}

// NewSink returns an empty sink.
func NewSink() *Sink { return &Sink{facts: map[string][]byte{}} }

// Emit implements stage.Sink.
func (s *Sink) Emit(e event.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Events = append(s.Events, e)
}

// Measure implements stage.Sink.
func (s *Sink) Measure(stageName string, ms ...stage.Measurement) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.MeasureErr != nil {
		return s.MeasureErr
	}
	for _, m := range ms {
		s.Measured = append(s.Measured, Measured{Stage: stageName, Measurement: m})
	}
	return nil
}

// PutFact implements stage.Sink.
func (s *Sink) PutFact(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode fact %s: %w", key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.facts == nil {
		s.facts = map[string][]byte{}
	}
	s.facts[key] = b
	return nil
}

// Fact implements stage.Sink.
func (s *Sink) Fact(key string, v any) (bool, error) {
	s.mu.Lock()
	b, ok := s.facts[key]
	s.mu.Unlock()
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(b, v)
}

// Rows returns a copy of the measurements recorded so far.
func (s *Sink) Rows() []Measured {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Measured(nil), s.Measured...)
}

// Progress returns the progress events recorded so far.
func (s *Sink) Progress() []event.Progress {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []event.Progress
	for _, e := range s.Events {
		if p, ok := e.(event.Progress); ok {
			out = append(out, p)
		}
	}
	return out
}

// Env returns a stage env for stageName with a fresh work dir, the given
// collector root and runner, default thresholds and the profile's params.
func Env(t testing.TB, stageName, root string, tools tool.Runner, params stage.Params) (*stage.Env, *Sink) {
	t.Helper()
	sink := NewSink()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if params == nil {
		params = stage.Params{}
	}
	return &stage.Env{
		Log: log, Collector: collector.Env{Root: root, Tools: tools, Log: log}, Tools: tools,
		RunID: "run-test", HostID: "host-test", Stage: stageName, Attempt: 1, Profile: "quick",
		AllowDestructive: true, Params: params, Thresholds: stage.ThresholdDefaults(),
		WorkDir: t.TempDir(), Sink: sink,
	}, sink
}

// DefaultParams returns a stage's declared defaults for profile.
func DefaultParams(s stage.Stage, profile string) stage.Params {
	p := stage.Params{}
	for _, x := range stage.ParamsOf(s) {
		p[x.Name] = x.DefaultFor(profile)
	}
	return p
}

// WriteTree writes files (path relative to root -> content) under root,
// creating directories; a path ending in "/" creates an empty directory.
func WriteTree(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(root, p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// HwmonTemp returns the files of one hwmon temperature channel in
// millidegrees, for WriteTree: hwmon is "hwmon0", chip "coretemp".
func HwmonTemp(files map[string]string, hwmon, chip string, index int, label string, milliC int) map[string]string {
	if files == nil {
		files = map[string]string{}
	}
	dir := "sys/class/hwmon/" + hwmon + "/"
	files[dir+"name"] = chip + "\n"
	files[dir+fmt.Sprintf("temp%d_input", index)] = fmt.Sprintf("%d\n", milliC)
	if label != "" {
		files[dir+fmt.Sprintf("temp%d_label", index)] = label + "\n"
	}
	return files
}

// SetHwmonTemp rewrites one channel's value (a moving fixture).
func SetHwmonTemp(t testing.TB, root, hwmon string, index, milliC int) {
	t.Helper()
	p := filepath.Join(root, "sys/class/hwmon", hwmon, fmt.Sprintf("temp%d_input", index))
	if err := os.WriteFile(p, []byte(fmt.Sprintf("%d\n", milliC)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Testdata reads testdata/<name> of the calling test's package, failing the test if it cannot.
func Testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
