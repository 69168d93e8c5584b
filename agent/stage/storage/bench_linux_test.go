//go:build linux

package storage

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shakedown/shakedown/agent/event"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/tool"
)

// BenchmarkSurface runs the stage's surface test (the same surface() the
// stage runs, full plan, write mode) on the block device named by
// SHAKEDOWN_BENCH_DEV (scripts/bench.d/30-storage.sh attaches a loop device
// over a file) and reports write and verify throughput per pass, timed from
// the badblocks phase changes in the progress stream. THIS WRITES THE DEVICE.
func BenchmarkSurface(b *testing.B) {
	dev := os.Getenv("SHAKEDOWN_BENCH_DEV")
	if dev == "" || !strings.Contains(dev, "loop") {
		b.Skip("set SHAKEDOWN_BENCH_DEV to a loop device (it is overwritten)")
	}
	quiet := slog.New(slog.DiscardHandler)
	cenv := collector.Env{Root: "/", Log: quiet}
	params := stage.Params{}
	for _, p := range (&Stage{}).Params() {
		params[p.Name] = p.DefaultFor("full")
	}
	if v := os.Getenv("SHAKEDOWN_BENCH_IO_SIZE"); v != "" {
		params[ParamIOSize] = v
	}
	for i := 0; i < b.N; i++ {
		sink := &fakeSink{facts: map[string][]byte{}}
		env := &stage.Env{Stage: "Storage", AllowDestructive: true, Params: params, Log: quiet,
			Tools: &tool.Exec{Log: quiet}, Collector: cenv, WorkDir: b.TempDir(), Sink: sink}
		h, err := osOpener{env: cenv}.Open(dev, true)
		if err != nil {
			b.Fatal(err)
		}
		devt, _ := h.DevT()
		size, _, err := h.State()
		if err != nil {
			b.Fatal(err)
		}
		gd := &gatedDisk{identity: "bench", cand: Candidate{Disk: collector.Disk{Name: "bench", DevT: devt, LogicalSectorSize: 512}, Path: dev}, handle: h}
		o := diskOutcome{d: gd, summary: map[string]any{}}
		t0 := time.Now()
		bad, lost, err := surface(context.Background(), env, gd, size, b.TempDir(), &o)
		end := time.Now()
		h.Close()
		if err != nil || lost != "" || bad != 0 {
			b.Fatalf("surface: bad %d lost %q err %v", bad, lost, err)
		}
		var write, read time.Duration
		var phase string
		var at time.Time
		flush := func(t time.Time) {
			switch {
			case strings.Contains(phase, "Testing with pattern"):
				write += t.Sub(at)
			case strings.Contains(phase, "Reading and comparing"):
				read += t.Sub(at)
			}
		}
		for _, e := range sink.events {
			p, ok := e.(event.Progress)
			if !ok {
				continue
			}
			ph := p.Message
			if i := strings.Index(ph, ": "); i >= 0 {
				ph = ph[i+2:]
			}
			if j := strings.LastIndex(ph, " "); j >= 0 {
				ph = strings.TrimSpace(ph[:strings.Index(ph, "%")])
				ph = ph[:strings.LastIndex(ph, " ")]
			}
			if ph != phase {
				flush(p.At)
				phase, at = ph, p.At
			}
		}
		flush(end)
		passBytes := float64(size / BlockSize(size, 512) * BlockSize(size, 512))
		b.ReportMetric(4*passBytes/write.Seconds()/1e6, "write_MB/s")
		b.ReportMetric(4*passBytes/read.Seconds()/1e6, "verify_MB/s")
		b.ReportMetric(8*passBytes/end.Sub(t0).Seconds()/1e6, "overall_MB/s")
		b.ReportMetric(end.Sub(t0).Seconds(), "total_s")
	}
}
