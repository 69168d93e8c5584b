package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shakedown/shakedown/agent/report/ocpschema"
)

var t0 = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

func tp(t time.Time) *time.Time { return &t }
func fp(f float64) *float64     { return &f }

var order = []string{"Inventory", "SpecValidate", "SMART", "CPUStress", "Storage", "Network", "GPU", "PSU"}

// sample builds a report of a run in a given state with one stage failing.
func sample(state string, abandoned bool, failed string, overridden bool) *Report {
	r := &Report{Schema: Schema, Version: Version, GeneratedAt: t0.Add(time.Hour), Generator: "shakedown-agent test",
		Run: Run{ID: "20261128T100000Z-abcdef", HostID: "4c4c4544-0042", Profile: "quick", State: state, Abandoned: abandoned,
			FailedStage: failed, AgentVersion: "test", CreatedAt: t0, UpdatedAt: t0.Add(time.Hour), DurationSeconds: 3600},
		Host: Host{ID: "4c4c4544-0042", IDSource: "dmi-uuid", Hostname: "pve3", Vendor: "Dell Inc.", Product: "PowerEdge R640", Serial: "ABC123", BIOS: "Dell 2.1 2024-01-01"},
		Inventory: &Inventory{CPUModel: "Xeon Gold 6130", Sockets: 2, Cores: 32, Threads: 64, MemoryBytes: 256 << 30, DIMMs: 8,
			Disks: []Disk{{Name: "nvme0n1", Identity: "eui.0025385b71b0a1b2", Model: "Samsung PM983", Serial: "S1", Class: "nvme", SizeBytes: 960e9},
				{Name: "sda", Identity: "wwn-0x5000c500a1b2c3d4", Model: "ST4000NM", Serial: "Z1", Class: "hdd", SizeBytes: 4e12}},
			NICs: []NIC{{Name: "eno1", MAC: "aa:bb:cc:dd:ee:01"}}, GPUs: []GPU{}, PCIDevices: 40},
		Thresholds: map[string]string{"max_temp_c": "90", "disk_max_temp_c": "70"},
		SpecDiffs:  []SpecDiff{}, Actions: []Action{}, Artifacts: []Artifact{},
	}
	at := t0
	for i, name := range order {
		s := Stage{Name: name, Status: "pass", Attempts: 1, Message: name + " ok", StartedAt: tp(at), CompletedAt: tp(at.Add(5 * time.Minute)), DurationSeconds: fp(300)}
		if name == "GPU" {
			s.Status, s.Reason, s.Message = "skip", "no_gpu", "no GPU present"
		}
		if name == failed {
			s.Status, s.Message = "fail", "reallocated sectors on <sda> & more\nsecond line"
			s.Findings = []Finding{{Code: "ReallocatedSectors", Severity: "critical", Subject: "wwn-0x5000c500a1b2c3d4", Message: "12 reallocated sectors (limit 0)"}}
			s.Overridden = overridden
		}
		reached := failed == "" || indexIn(order, name) <= indexIn(order, failed) || overridden || state == "Completed" && !abandoned
		if abandoned && indexIn(order, name) > indexIn(order, failed) {
			reached = false
		}
		if state == "FailedHolding" && indexIn(order, name) > indexIn(order, failed) {
			reached = false
		}
		if !reached {
			s = Stage{Name: name, Status: "pending"}
		}
		r.Stages = append(r.Stages, s)
		at = at.Add(5 * time.Minute)
		_ = i
	}
	r.Artifacts = append(r.Artifacts, Artifact{Stage: "Inventory", Name: "inventory.json", Size: 1234, SHA256: strings.Repeat("ab", 32), ContentType: "application/json", Key: "artifacts/inventory.json"},
		Artifact{Stage: "SMART", Name: "smart-sda.txt", Size: 99, SHA256: strings.Repeat("cd", 32), Key: "artifacts/smart-sda.txt"})
	r.SpecDiffs = append(r.SpecDiffs, SpecDiff{Field: "memory.total", Expected: "256GiB", Actual: "256GiB", Class: "info", Message: "ok"})
	var samples []Sample
	for i := 0; i < 600; i++ {
		at := t0.Add(time.Duration(i) * 5 * time.Second)
		stg := "CPUStress"
		if at.Before(t0.Add(15 * time.Minute)) {
			stg = "SMART"
		}
		samples = append(samples,
			Sample{Stage: stg, Kind: "thermal", Subject: "coretemp", Name: "Package id 0", Unit: "°C", Value: 40 + 30*math.Sin(float64(i)/50), At: at},
			Sample{Stage: stg, Kind: "thermal", Subject: "nvme", Name: "Composite", Unit: "°C", Value: 35 + float64(i%7), At: at})
	}
	samples = append(samples,
		Sample{Stage: "Storage", Kind: "fio", Subject: "eui.0025385b71b0a1b2", Name: "iops_total", Unit: "IOPS", Value: 350000, At: t0.Add(22 * time.Minute)},
		Sample{Stage: "Storage", Kind: "fio", Subject: "wwn-0x5000c500a1b2c3d4", Name: "iops_total", Unit: "IOPS", Value: 180, At: t0.Add(23 * time.Minute)},
		Sample{Stage: "Storage", Kind: "badblocks", Subject: "wwn-0x5000c500a1b2c3d4", Name: "bad_blocks", Unit: "", Value: 0, At: t0.Add(23 * time.Minute)})
	r.Measurements = Aggregates(samples)
	r.Series = BuildSeries(samples, MaxSeriesPoints)
	if abandoned {
		r.Actions = append(r.Actions, Action{Kind: "abandon", Who: "alice", Reason: "disk is dead, RMA", Stage: failed, StateBefore: "FailedHolding", At: t0.Add(50 * time.Minute)})
		r.Run.Result = "fail"
	}
	if overridden {
		r.Actions = append(r.Actions, Action{Kind: "override", Who: "bob", Reason: "known old disk, replaced next week", Stage: failed, StateBefore: "FailedHolding", At: t0.Add(50 * time.Minute)})
	}
	if state == "Completed" && !abandoned {
		r.Run.Result = "pass"
	}
	r.Verdict = Decide(r.Run, r.Stages, r.Actions)
	return r
}

func indexIn(l []string, s string) int {
	for i, x := range l {
		if x == s {
			return i
		}
	}
	return -1
}

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name       string
		r          *Report
		result     string
		final      bool
		headline   string
		reasonPart string
	}{
		{"clean pass", sample("Completed", false, "", false), ResultPass, true, "PASS: every stage passed", ""},
		{"reporting", sample("Reporting", false, "", false), ResultPass, true, "PASS", ""},
		{"override", sample("Completed", false, "SMART", true), ResultPass, true, "PASS with operator overrides", "SMART failed and was accepted by an operator override"},
		{"abandoned", sample("Completed", true, "SMART", false), ResultFail, true, "FAIL at SMART", "abandoned by alice: disk is dead, RMA"},
		{"held", sample("FailedHolding", false, "SMART", false), ResultHeld, false, "HELD: SMART failed", "SMART: reallocated sectors on <sda> & more …"},
		{"running", sample("Storage", false, "", false), ResultIncomplete, false, "INCOMPLETE", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.r.Verdict
			if v.Result != tc.result || v.Final != tc.final || !strings.HasPrefix(v.Headline, tc.headline) {
				t.Fatalf("verdict = %+v; want result %s final %v headline %q...", v, tc.result, tc.final, tc.headline)
			}
			if tc.reasonPart != "" && !strings.Contains(strings.Join(v.Reasons, "\n"), tc.reasonPart) {
				t.Errorf("reasons %q lack %q", v.Reasons, tc.reasonPart)
			}
		})
	}
	// A warning stage is a pass with warnings.
	r := sample("Completed", false, "", false)
	r.Stages[3].Status, r.Stages[3].Message = "warn", "ran hot"
	v := Decide(r.Run, r.Stages, r.Actions)
	if v.Result != ResultPass || v.Headline != "PASS with warnings" || !strings.Contains(strings.Join(v.Reasons, ";"), "CPUStress warned: ran hot") {
		t.Errorf("warn verdict = %+v", v)
	}
}

func TestDownsampleKeepsExtremes(t *testing.T) {
	var pts []Point
	for i := 0; i < 10000; i++ {
		v := 50.0
		switch i {
		case 4321:
			v = 99 // a short spike
		case 7777:
			v = 1 // a dip
		}
		pts = append(pts, Point{T: t0.Add(time.Duration(i) * time.Second), V: v})
	}
	got := Downsample(pts, 100)
	if len(got) > 100 {
		t.Fatalf("%d points, want <= 100", len(got))
	}
	var hi, lo bool
	for i, p := range got {
		hi = hi || p.V == 99
		lo = lo || p.V == 1
		if i > 0 && p.T.Before(got[i-1].T) {
			t.Fatalf("points out of order at %d", i)
		}
	}
	if !hi || !lo {
		t.Errorf("spike kept %v, dip kept %v: downsampling must keep extremes", hi, lo)
	}
	short := pts[:50]
	if d := cmp.Diff(short, Downsample(short, 100)); d != "" {
		t.Errorf("short series changed: %s", d)
	}
}

func TestAggregates(t *testing.T) {
	s := []Sample{
		{Stage: "CPUStress", Kind: "thermal", Subject: "coretemp", Name: "temp", Unit: "°C", Value: 50, At: t0},
		{Stage: "CPUStress", Kind: "thermal", Subject: "coretemp", Name: "temp", Unit: "°C", Value: 70, At: t0.Add(2 * time.Second)},
		{Stage: "CPUStress", Kind: "thermal", Subject: "coretemp", Name: "temp", Unit: "°C", Value: 60, At: t0.Add(time.Second)},
		{Stage: "CPUStress", Kind: "thermal", Subject: "coretemp", Name: "temp", Unit: "°C", Value: math.NaN(), At: t0.Add(3 * time.Second)},
		{Stage: "Storage", Kind: "fio", Subject: "d1", Name: "iops_total", Value: 1000, At: t0},
	}
	got := Aggregates(s)
	want := []Aggregate{
		{Stage: "Storage", Kind: "fio", Subject: "d1", Name: "iops_total", Count: 1, Min: 1000, Max: 1000, Mean: 1000, Last: 1000, First: t0, LastAt: t0},
		{Stage: "CPUStress", Kind: "thermal", Subject: "coretemp", Name: "temp", Unit: "°C", Count: 3, Min: 50, Max: 70, Mean: 60, Last: 70, First: t0, LastAt: t0.Add(2 * time.Second)},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("aggregates (-want +got):\n%s", d)
	}
}

func states() map[string]*Report {
	return map[string]*Report{
		"pass":      sample("Completed", false, "", false),
		"override":  sample("Completed", false, "SMART", true),
		"abandoned": sample("Completed", true, "SMART", false),
		"held":      sample("FailedHolding", false, "SMART", false),
		"running":   sample("Storage", false, "", false),
	}
}

func TestOCPValidAgainstSchema(t *testing.T) {
	for name, r := range states() {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteOCP(&buf, r, OCPOptions{}); err != nil {
				t.Fatal(err)
			}
			n, err := ocpschema.ValidateStream(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if n != len(lines) || n < 20 {
				t.Fatalf("validated %d of %d lines", n, len(lines))
			}
			// Shape: version first, run start, one step per stage, run end last.
			var first, last map[string]any
			_ = json.Unmarshal([]byte(lines[0]), &first)
			_ = json.Unmarshal([]byte(lines[len(lines)-1]), &last)
			if _, ok := first["schemaVersion"]; !ok {
				t.Errorf("first line is not schemaVersion: %s", lines[0])
			}
			end, _ := last["testRunArtifact"].(map[string]any)["testRunEnd"].(map[string]any)
			wantResult := map[string]string{"pass": "PASS", "override": "PASS", "abandoned": "FAIL", "held": "NOT_APPLICABLE", "running": "NOT_APPLICABLE"}[name]
			if end["result"] != wantResult {
				t.Errorf("testRunEnd = %v, want result %s", end, wantResult)
			}
			if c := strings.Count(buf.String(), `"testStepStart"`); c != len(r.Stages) {
				t.Errorf("%d testStepStart, want %d", c, len(r.Stages))
			}
			for i, l := range lines {
				var m map[string]any
				_ = json.Unmarshal([]byte(l), &m)
				if m["sequenceNumber"] != float64(i) {
					t.Fatalf("line %d has sequenceNumber %v", i, m["sequenceNumber"])
				}
			}
			out := buf.String()
			for _, want := range []string{`"dutInfoId":"4c4c4544-0042"`, `"validators":[{"name":"max_temp_c","type":"LESS_THAN","value":90}]`,
				`"measurementSeriesStart"`, `"uri":"s3://shakedown/runs/4c4c4544-0042/20261128T100000Z-abcdef/artifacts/inventory.json"`} {
				if !strings.Contains(out, want) {
					t.Errorf("ocp.jsonl lacks %s", want)
				}
			}
			if name == "held" && !strings.Contains(out, `"type":"FAIL","verdict":"ReallocatedSectors"`) {
				t.Errorf("held run: no FAIL diagnosis for the finding")
			}
			if name == "held" && !strings.Contains(out, `"hardwareInfoId":"disk-1"`) {
				t.Errorf("finding on the HDD not tied to its hardwareInfo")
			}
		})
	}
}

// The validator must reject what the spec forbids, or the test above proves nothing.
func TestOCPSchemaRejects(t *testing.T) {
	for _, bad := range []string{
		`{"testRunArtifact":{"testRunEnd":{"status":"COMPLETE","result":"MAYBE"}},"sequenceNumber":1,"timestamp":"2026-11-28T10:00:00Z"}`,
		`{"testStepArtifact":{"testStepId":"1","diagnosis":{"verdict":"x","type":"BROKEN"}},"sequenceNumber":1,"timestamp":"2026-11-28T10:00:00Z"}`,
		`{"testRunArtifact":{"testRunStart":{"name":"x"}},"sequenceNumber":1,"timestamp":"2026-11-28T10:00:00Z"}`,
		`{"schemaVersion":{"major":3,"minor":0},"sequenceNumber":0,"timestamp":"2026-11-28T10:00:00Z"}`,
		`{"schemaVersion":{"major":2,"minor":0},"sequenceNumber":0,"timestamp":"yesterday"}`,
		`{"testStepArtifact":{"testStepId":"1","measurement":{"name":"x","value":1,"colour":"red"}},"sequenceNumber":1,"timestamp":"2026-11-28T10:00:00Z"}`,
	} {
		if err := ocpschema.ValidateLine([]byte(bad)); err == nil {
			t.Errorf("schema accepted %s", bad)
		}
	}
}

var externalRef = regexp.MustCompile(`(?i)(src|href|action|xlink:href)\s*=\s*["']?\s*(https?:|//|ftp:|file:)|<script|@import|url\s*\(|<link[^>]+stylesheet|<iframe|<object|<embed`)

func TestHTMLSelfContained(t *testing.T) {
	for name, r := range states() {
		t.Run(name, func(t *testing.T) {
			r.Stages[0].Message = `<script>alert("x")</script> <img src="http://evil.example/x.png">`
			var buf bytes.Buffer
			if err := WriteHTML(&buf, r); err != nil {
				t.Fatal(err)
			}
			page := buf.String()
			if m := externalRef.FindString(page); m != "" {
				t.Fatalf("report.html has an external reference or script: %q", m)
			}
			want := fmt.Sprintf(`data-result="%s"`, r.Verdict.Result)
			if !strings.Contains(page, want) || !strings.Contains(page, strings.ToUpper(r.Verdict.Result)) {
				t.Errorf("verdict %s not shown", r.Verdict.Result)
			}
			for _, s := range r.Stages {
				if !strings.Contains(page, fmt.Sprintf(`data-stage="%s" data-status="%s"`, s.Name, s.Status)) {
					t.Errorf("stage %s (%s) missing", s.Name, s.Status)
				}
			}
			// Verdict first: before the stage table and the evidence.
			if v, st, ev := strings.Index(page, `id="verdict"`), strings.Index(page, `id="stages"`), strings.Index(page, `id="evidence"`); !(v < st && st < ev) {
				t.Errorf("order verdict %d, stages %d, evidence %d", v, st, ev)
			}
			if !strings.Contains(page, "<svg") || !strings.Contains(page, "Temperatures over the run") || !strings.Contains(page, "Per-disk fio") {
				t.Errorf("charts missing")
			}
			if name == "held" && !strings.Contains(page, "12 reallocated sectors (limit 0)") {
				t.Errorf("the failing finding is not explained")
			}
			if name == "override" && !strings.Contains(page, "known old disk, replaced next week") {
				t.Errorf("override reason not shown")
			}
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	r := sample("Completed", true, "SMART", false)
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Schema != Schema || back.Version != Version || back.Verdict.Result != ResultFail || len(back.Stages) != len(order) {
		t.Errorf("round trip: %+v", back.Verdict)
	}
	var thermal []Series
	for _, s := range back.Series {
		if s.Kind == "thermal" {
			thermal = append(thermal, s)
		}
	}
	if len(back.Series) != 4 || len(thermal) != 2 || len(thermal[0].Points) > MaxSeriesPoints || thermal[0].Count != 600 {
		t.Errorf("series: %d, thermal %d", len(back.Series), len(thermal))
	}
}

func TestKeys(t *testing.T) {
	if got := RunKey("h1", "r1", JSONName); got != "runs/h1/r1/report.json" {
		t.Error(got)
	}
	if got := ArtifactKey("h1", "r1", "fio-x.json"); got != "runs/h1/r1/artifacts/fio-x.json" {
		t.Error(got)
	}
	if got := LatestKey("h1"); got != "hosts/h1/latest.json" {
		t.Error(got)
	}
	c := NewCheckpoint(t0, Run{ID: "r1", HostID: "h1", State: "SMART"}, nil)
	l := LatestFor(c)
	if l.Checkpoint != "runs/h1/r1/checkpoint.json" || l.State != "SMART" || l.Schema != LatestSchema {
		t.Errorf("latest = %+v", l)
	}
}
