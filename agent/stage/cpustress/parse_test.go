package cpustress

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func open(t testing.TB, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestParseYAML(t *testing.T) {
	cases := []struct {
		file     string
		wantErr  string
		version  string
		bogo     map[string]float64
		rssVMKiB float64
	}{
		{file: "pass-cpu2-vm1.yaml", version: "0.15.06", bogo: map[string]float64{"cpu": 1395, "vm": 114}, rssVMKiB: 132992},
		{file: "oom-restart.yaml", version: "0.15.06", bogo: map[string]float64{"vm": 0}, rssVMKiB: 95656},
		{file: "oom-oomable.yaml", version: "0.15.06", bogo: map[string]float64{"vm": 0}, rssVMKiB: 95364},
		{file: "derived-truncated.yaml", wantErr: "parse stress-ng yaml"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			r, err := ParseYAML(open(t, c.file))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Version != c.version || len(r.Metrics) != len(c.bogo) {
				t.Fatalf("got %+v", r)
			}
			for _, m := range r.Metrics {
				if want, ok := c.bogo[m.Stressor]; !ok || m.BogoOps != want {
					t.Errorf("%s bogo-ops = %v, want %v", m.Stressor, m.BogoOps, want)
				}
				if m.Stressor == "vm" && m.MaxRSSKiB != c.rssVMKiB {
					t.Errorf("vm max-rss = %v, want %v", m.MaxRSSKiB, c.rssVMKiB)
				}
			}
		})
	}
	for _, bad := range []string{"", "---\nsystem-info:\n  cpus: 2\n...\n", "metrics:\n  - bogo-ops: 3\n", "metrics: [\n"} {
		if _, err := ParseYAML(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseYAML(%q) succeeded", bad)
		}
	}
}

func TestParseLog(t *testing.T) {
	yes, no := true, false
	cases := []struct {
		file      string
		failures  []string
		warnings  int
		completed *bool
	}{
		{file: "pass-cpu2-vm1.log", completed: &yes},
		{file: "derived-verify-fail.log", failures: []string{"vm: detected 523 bit errors while stressing memory"}, completed: &no},
		{file: "oom-restart.log", completed: &yes},
		{file: "oom-oomable.log", warnings: 1, completed: &yes},
		{file: "killed-sigkill.log"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			l, err := ParseLog(open(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(l.Failures, "|") != strings.Join(c.failures, "|") || len(l.Warnings) != c.warnings {
				t.Errorf("failures %q warnings %q", l.Failures, l.Warnings)
			}
			if (l.Completed == nil) != (c.completed == nil) || (l.Completed != nil && *l.Completed != *c.completed) {
				t.Errorf("completed = %v, want %v", l.Completed, c.completed)
			}
		})
	}
	l, _ := ParseLog(strings.NewReader("stress-ng: debug: [7] stress-ng-vm: assuming killed by OOM killer, restarting again (instance 0)\n"))
	if l.OOMRestarts != 1 {
		t.Errorf("OOM restart line not counted: %+v", l)
	}
}

func TestParseMemInfoAndSize(t *testing.T) {
	const meminfo = "MemTotal:       24683620 kB\nMemFree:        21978864 kB\nMemAvailable:   24216664 kB\n"
	m, err := ParseMemInfo(strings.NewReader(meminfo))
	if err != nil || m.Total != 24683620*1024 || m.Available != 24216664*1024 {
		t.Fatalf("ParseMemInfo = %+v, %v", m, err)
	}
	if _, err := ParseMemInfo(strings.NewReader("MemTotal: 100 kB\n")); err == nil {
		t.Error("meminfo without MemAvailable accepted")
	}
	minFree := uint64(67584 * 1024)
	s, err := Size(m, minFree, 90, 1)
	if err != nil {
		t.Fatal(err)
	}
	// 0.77% of 23.5 GiB (~185 MiB) beats min_free + 10 MiB (~76 MiB); + 128 MiB overhead.
	wantReserve := uint64(float64(m.Total)*0.0077) + overhead
	if s.Reserve != wantReserve {
		t.Errorf("reserve = %d, want %d", s.Reserve, wantReserve)
	}
	if s.PerWorker%pageSize != 0 || s.Total != s.PerWorker || s.Total > (m.Available-s.Reserve)*9/10 || s.Total < (m.Available-s.Reserve)*9/10-pageSize {
		t.Errorf("sizing %+v", s)
	}
	// Small host: min_free dominates.
	small := MemInfo{Total: 1 << 30, Available: 900 << 20}
	s, err = Size(small, 64<<20, 50, 2)
	if err != nil || s.Reserve != (64+10+128)<<20 || s.PerWorker != (900-202)<<20/2/2/pageSize*pageSize {
		t.Errorf("small host sizing %+v, %v", s, err)
	}
	for _, bad := range []struct {
		m       MemInfo
		pct     float64
		workers int
	}{
		{MemInfo{Total: 1 << 30, Available: 100 << 20}, 90, 1}, // below the reserve
		{m, 0, 1}, {m, 101, 1}, {m, 90, 0},
		{MemInfo{Total: 1 << 30, Available: 250 << 20}, 90, 64}, // under 4 MiB per worker
	} {
		if s, err := Size(bad.m, minFree, bad.pct, bad.workers); err == nil {
			t.Errorf("Size(%+v, %v, %d) = %+v, want an error", bad.m, bad.pct, bad.workers, s)
		}
	}
}

func FuzzParseYAML(f *testing.F) {
	for _, n := range []string{"pass-cpu2-vm1.yaml", "oom-restart.yaml", "derived-truncated.yaml"} {
		b, _ := os.ReadFile(filepath.Join("testdata", n))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseYAML(bytes.NewReader(b))
		if err == nil && (r == nil || len(r.Metrics) == 0) {
			t.Fatal("nil error without metrics")
		}
	})
}

func FuzzParseLog(f *testing.F) {
	for _, n := range []string{"pass-cpu2-vm1.log", "derived-verify-fail.log", "oom-oomable.log"} {
		b, _ := os.ReadFile(filepath.Join("testdata", n))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		l, _ := ParseLog(bytes.NewReader(b))
		if l == nil {
			t.Fatal("nil log")
		}
	})
}
