package reporting

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shakedown/shakedown/agent/journal"
	"github.com/shakedown/shakedown/agent/report"
	"github.com/shakedown/shakedown/agent/stage"
)

// BenchmarkReportLongRun builds and renders the report of a long full-profile
// run: 20 thermal sensors sampled every 5 s for 10 hours (144,000 samples), 8
// stages, 40 artifacts. It reports the three files' sizes.
func BenchmarkReportLongRun(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	j, err := journal.Open(filepath.Join(dir, "journal.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	t0 := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	run := journal.Run{ID: "bench", HostID: "host", Profile: "full", State: "Reporting", CreatedAt: t0, UpdatedAt: t0, ConfigJSON: `{"thresholds":{"max_temp_c":"90"}}`}
	if err := j.CreateRun(ctx, run); err != nil {
		b.Fatal(err)
	}
	names := []string{"Inventory", "SpecValidate", "SMART", "CPUStress", "Storage", "Network", "GPU", "PSU"}
	per := 10 * time.Hour / time.Duration(len(names))
	for i, n := range names {
		row, err := j.StartStage(ctx, run.ID, n, false, t0.Add(time.Duration(i)*per))
		if err != nil {
			b.Fatal(err)
		}
		var arts []stage.Artifact
		for k := 0; k < 5; k++ {
			arts = append(arts, stage.Artifact{Name: fmt.Sprintf("%s-%d.json", n, k), Path: "/nonexistent", Size: 1000, SHA256: "00"})
		}
		res := stage.Result{Status: stage.Pass, Message: n + " ok", Artifacts: arts,
			Findings: []stage.Finding{{Code: "Note", Severity: stage.Info, Message: "fine"}}}
		if err := j.FinishStage(ctx, row, res, t0.Add(time.Duration(i+1)*per)); err != nil {
			b.Fatal(err)
		}
	}
	var batch []stage.Measurement
	for i := 0; i < 7200; i++ {
		at := t0.Add(time.Duration(i) * 5 * time.Second)
		for s := 0; s < 20; s++ {
			batch = append(batch, stage.Measurement{Kind: "thermal", Subject: fmt.Sprintf("chip%d", s), Name: "temp1", Unit: "°C", Value: 40 + float64((i+s)%40), Time: at})
		}
		if len(batch) >= 5000 {
			if err := j.AddMeasurements(ctx, run.ID, names[i*len(names)/7200], batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := j.AddMeasurements(ctx, run.ID, "PSU", batch); err != nil {
		b.Fatal(err)
	}
	out := b.TempDir()
	b.ResetTimer()
	var files report.Files
	for i := 0; i < b.N; i++ {
		rep, err := Build(ctx, j, run.ID, BuildOptions{Now: t0.Add(10 * time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
		if files, err = report.WriteFiles(out, rep, report.OCPOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	for _, f := range []struct{ name, p string }{{"json_bytes", files.JSON}, {"html_bytes", files.HTML}, {"ocp_bytes", files.OCP}} {
		if fi, err := os.Stat(f.p); err == nil {
			b.ReportMetric(float64(fi.Size()), f.name)
		}
	}
}
