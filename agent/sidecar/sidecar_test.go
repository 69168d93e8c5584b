package sidecar

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shakedown/shakedown/agent/engine"
	"github.com/shakedown/shakedown/agent/event"
	"github.com/shakedown/shakedown/agent/internal/stagefake"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/tool"
)

// fakeHost is an engine.Host over a stagefake.Sink with a settable clock and stage.
type fakeHost struct {
	mu    sync.Mutex
	root  string
	sink  *stagefake.Sink
	now   time.Time
	stage string
	runID string
}

func (h *fakeHost) Sink() stage.Sink         { return h.sink }
func (h *fakeHost) RunID() string            { return h.runID }
func (h *fakeHost) Collector() collector.Env { return collector.Env{Root: h.root} }
func (h *fakeHost) Tools() tool.Runner       { return &tool.Fake{} }
func (h *fakeHost) Bus() *event.Bus          { return nil }
func (h *fakeHost) Log() *slog.Logger        { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
func (h *fakeHost) Now() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}
func (h *fakeHost) Stage() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stage
}
func (h *fakeHost) set(now time.Time, st string) {
	h.mu.Lock()
	h.now, h.stage = now, st
	h.mu.Unlock()
}

func serverTree(t *testing.T) string {
	root := t.TempDir()
	files := stagefake.HwmonTemp(nil, "hwmon0", "coretemp", 1, "Package id 0", 41000)
	stagefake.HwmonTemp(files, "hwmon0", "coretemp", 2, "Core 0", 39000)
	stagefake.HwmonTemp(files, "hwmon1", "nvme", 1, "Composite", 35850)
	files["sys/class/hwmon/hwmon1/in0_input"] = "12000\n" // a voltage: not a thermal row
	files["sys/class/thermal/thermal_zone0/type"] = "acpitz\n"
	files["sys/class/thermal/thermal_zone0/temp"] = "27800\n"
	stagefake.WriteTree(t, root, files)
	return root
}

// waitRows waits until the sink holds n rows (the service runs in a goroutine).
func waitRows(t *testing.T, s *stagefake.Sink, n int) []stagefake.Measured {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if rows := s.Rows(); len(rows) >= n {
			return rows
		}
		time.Sleep(2 * time.Millisecond)
	}
	rows := s.Rows()
	t.Fatalf("got %d rows, want %d: %+v", len(rows), n, rows)
	return nil
}

func TestSidecarSamplesOnTicksAndFollowsTheTree(t *testing.T) {
	root := serverTree(t)
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	h := &fakeHost{root: root, sink: stagefake.NewSink(), now: t0, stage: "Booting", runID: "r1"}
	ticks := make(chan time.Time)
	var gotInterval time.Duration
	svc := &Thermal{Ticker: func(d time.Duration) (<-chan time.Time, func()) { gotInterval = d; return ticks, func() {} }}
	w := StartWatch()
	defer w.Stop()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, h) }()

	// First sample at start: 4 temperatures, no voltage.
	rows := waitRows(t, h.sink, 4)
	if gotInterval != DefaultInterval {
		t.Errorf("interval = %s, want %s", gotInterval, DefaultInterval)
	}
	want := map[string]float64{
		"coretemp/hwmon0/temp1:Package id 0": 41, "coretemp/hwmon0/temp2:Core 0": 39,
		"nvme/hwmon1/temp1:Composite": 35.85, "thermal/thermal_zone0:acpitz": 27.8,
	}
	for _, r := range rows {
		if r.Stage != "Booting" || r.Kind != Kind || r.Name != Metric || r.Unit != Unit || !r.Time.Equal(t0) {
			t.Errorf("row %+v: wrong stage/kind/name/unit/time", r)
		}
		if v, ok := want[r.Subject]; !ok || v != r.Value {
			t.Errorf("row %s = %v, want %v (known %v)", r.Subject, r.Value, v, ok)
		}
	}

	// The fixture moves: CPU heats up, the NVMe sensor dies, the stage changes.
	stagefake.SetHwmonTemp(t, root, "hwmon0", 1, 88500)
	if err := os.Remove(filepath.Join(root, "sys/class/hwmon/hwmon1/temp1_input")); err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(5 * time.Second)
	h.set(t1, "CPUStress")
	ticks <- t1
	rows = waitRows(t, h.sink, 7)[4:]
	if len(rows) != 3 {
		t.Fatalf("second sample has %d rows, want 3 (dead NVMe sensor dropped): %+v", len(rows), rows)
	}
	for _, r := range rows {
		if r.Subject == "nvme/hwmon1/temp1:Composite" {
			t.Errorf("dead sensor still sampled: %+v", r)
		}
		if r.Stage != "CPUStress" || !r.Time.Equal(t1) {
			t.Errorf("row %+v: want stage CPUStress at %s", r, t1)
		}
		if r.Subject == "coretemp/hwmon0/temp1:Package id 0" && r.Value != 88.5 {
			t.Errorf("package temp = %v, want 88.5", r.Value)
		}
	}
	max, n := w.Max()
	if n != 2 || max["coretemp/hwmon0/temp1:Package id 0"].C != 88.5 || max["nvme/hwmon1/temp1:Composite"].C != 35.85 {
		t.Errorf("watch saw %d samples, max %+v", n, max)
	}

	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
}

func TestSidecarNoSensorsRecordsNothing(t *testing.T) {
	h := &fakeHost{root: t.TempDir(), sink: stagefake.NewSink(), runID: "r1"}
	svc := &Thermal{}
	if n := svc.Sample(context.Background(), h, collector.NewSensorSampler(h.Collector())); n != 0 {
		t.Errorf("recorded %d rows without sensors", n)
	}
	if len(h.sink.Rows()) != 0 {
		t.Errorf("rows: %+v", h.sink.Rows())
	}
}

func TestSidecarWithoutRunOrWithFailingJournal(t *testing.T) {
	root := serverTree(t)
	h := &fakeHost{root: root, sink: stagefake.NewSink()}
	svc := &Thermal{}
	s := collector.NewSensorSampler(h.Collector())
	if n := svc.Sample(context.Background(), h, s); n != 0 || len(h.sink.Rows()) != 0 {
		t.Errorf("recorded %d rows with no run id", n)
	}
	h.runID = "r1"
	h.sink.MeasureErr = errors.New("journal closed")
	if n := svc.Sample(context.Background(), h, s); n != 0 || !svc.failing {
		t.Errorf("n=%d failing=%v after a journal error", n, svc.failing)
	}
	h.sink.MeasureErr = nil
	if n := svc.Sample(context.Background(), h, s); n != 4 || svc.failing {
		t.Errorf("n=%d failing=%v after the journal recovered", n, svc.failing)
	}
}

func TestWatchObserveAndStop(t *testing.T) {
	w := StartWatch()
	now := time.Now()
	w.Observe([]stage.Measurement{{Kind: Kind, Subject: "a", Value: 50, Time: now}, {Kind: "psu", Subject: "a", Value: 99}})
	w.Observe([]stage.Measurement{{Kind: Kind, Subject: "a", Value: 45, Time: now}})
	w.Stop()
	publish([]stage.Measurement{{Kind: Kind, Subject: "a", Value: 100}}) // after Stop: not seen
	max, n := w.Max()
	if n != 2 || max["a"].C != 50 {
		t.Errorf("max %+v after %d samples, want a=50 after 2", max, n)
	}
}

// BenchmarkSidecarSample measures one sidecar sample on a server-like tree
// (scan cached, values re-read, rows handed to the sink).
func BenchmarkSidecarSample(b *testing.B) {
	root := b.TempDir()
	files := map[string]string{}
	for c := 0; c < 2; c++ {
		dev := "hwmon" + string(rune('0'+c))
		for i := 1; i <= 24; i++ {
			stagefake.HwmonTemp(files, dev, "coretemp", i, "Core", 40000+i*100)
		}
	}
	stagefake.WriteTree(b, root, files)
	h := &fakeHost{root: root, sink: stagefake.NewSink(), runID: ""} // no run: no sink growth
	svc := &Thermal{}
	s := collector.NewSensorSampler(h.Collector())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		svc.Sample(ctx, h, s)
	}
}

func TestCheckLimits(t *testing.T) {
	max := map[string]Reading{
		"coretemp/hwmon0/temp1:Package id 0": {Sensor: "coretemp/hwmon0/temp1:Package id 0", C: 89.9},
		"nvme/hwmon1/temp1:Composite":        {Sensor: "nvme/hwmon1/temp1:Composite", C: 70},
		"drivetemp/hwmon2/temp1":             {Sensor: "drivetemp/hwmon2/temp1", C: 69},
		"thermal/thermal_zone0:acpitz":       {Sensor: "thermal/thermal_zone0:acpitz", C: 90},
		"broken/hwmon3/temp1":                {Sensor: "broken/hwmon3/temp1", C: 255},
	}
	hot, bad := Check(max, Limits{MaxC: 90, DiskMaxC: 70})
	if len(hot) != 2 || hot[0].Sensor != "nvme/hwmon1/temp1:Composite" || hot[0].LimitC != 70 || hot[1].Sensor != "thermal/thermal_zone0:acpitz" || hot[1].LimitC != 90 {
		t.Errorf("hot = %+v", hot)
	}
	if len(bad) != 1 || bad[0].C != 255 {
		t.Errorf("implausible = %+v", bad)
	}
	if h, ok := Hottest(max); !ok || h.C != 90 {
		t.Errorf("hottest = %+v", h)
	}
	// Without a disk limit the general one applies.
	if hot, _ := Check(max, Limits{MaxC: 90}); len(hot) != 1 {
		t.Errorf("no disk limit: %+v", hot)
	}
}

func TestRegisteredAsService(t *testing.T) {
	for _, s := range engine.Services() {
		if s.Name() == Name {
			if _, ok := s.(*Thermal); !ok {
				t.Errorf("service %s is %T", Name, s)
			}
			return
		}
	}
	t.Errorf("%s not among engine.Services()", Name)
}
