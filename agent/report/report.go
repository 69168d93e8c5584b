// Package report is the versioned run report (docs/report.md) and its three
// renderings: report.json (this package's Report type, encoded), report.html
// (one self-contained page: inline CSS and SVG, no script, no fetched font)
// and ocp.jsonl (the OCP Test & Validation output format, spec 2.0). It also
// holds the small bucket documents the agent writes beside a run
// (checkpoint.json, latest.json).
//
// The package depends on the standard library only, so the coordinator can
// read what the agent wrote without pulling in the agent. The report is built
// from the run journal by agent/stage/reporting.
package report

import (
	"math"
	"sort"
	"time"
)

// Schema names the report.json format; Version changes when a field changes
// meaning or disappears (adding a field does not change it).
const (
	Schema  = "shakedown.report"
	Version = 1
)

// Results of a run (Verdict.Result).
const (
	ResultPass       = "pass"       // Completed (or being reported) and not abandoned
	ResultFail       = "fail"       // abandoned by an operator, or closed after a crash
	ResultHeld       = "held"       // FailedHolding: a stage failed and waits for an operator
	ResultIncomplete = "incomplete" // still running a stage
)

// Report is report.json.
type Report struct {
	Schema      string    `json:"schema"`
	Version     int       `json:"version"`
	GeneratedAt time.Time `json:"generated_at"`
	// Generator is the program that wrote the report ("shakedown-agent v1.2").
	Generator string  `json:"generator"`
	Verdict   Verdict `json:"verdict"`
	Run       Run     `json:"run"`
	Host      Host    `json:"host"`
	// Inventory is a summary of the Inventory stage's inventory.json (nil
	// when the inventory never ran).
	Inventory *Inventory `json:"inventory,omitempty"`
	// Stages lists every stage of the fixed order except Reporting (the stage
	// that writes this report), with the latest attempt's verdict.
	Stages    []Stage    `json:"stages"`
	SpecDiffs []SpecDiff `json:"spec_diffs"`
	Actions   []Action   `json:"actions"`
	// Measurements aggregates every sample per stage, kind, subject and name.
	Measurements []Aggregate `json:"measurements"`
	// Series are the samples over time where the shape matters (thermal, psu,
	// fio, iperf), downsampled to at most MaxSeriesPoints points each.
	Series    []Series   `json:"series"`
	Artifacts []Artifact `json:"artifacts"`
	// Thresholds are the resolved pass/fail limits the run used.
	Thresholds map[string]string `json:"thresholds,omitempty"`
}

// Verdict is the run's outcome, first thing a reader sees.
type Verdict struct {
	// Result is pass, fail, held or incomplete.
	Result string `json:"result"`
	// Final is true when the result will not change (pass or fail).
	Final bool `json:"final"`
	// Headline is one sentence for an operator.
	Headline string `json:"headline"`
	// Reasons lists what made the result what it is: failed stages, the
	// abandon action, overrides that let a failure through, warnings.
	Reasons []string `json:"reasons,omitempty"`
	// Overrides lists operator overrides that accepted a failure (a pass with
	// overrides is a pass an operator vouched for, not a clean pass).
	Overrides []Action `json:"overrides,omitempty"`
}

// Run is the run's journal row.
type Run struct {
	ID              string     `json:"id"`
	HostID          string     `json:"host_id"`
	Profile         string     `json:"profile"`
	State           string     `json:"state"`
	Result          string     `json:"result,omitempty"`
	FailedStage     string     `json:"failed_stage,omitempty"`
	Abandoned       bool       `json:"abandoned,omitempty"`
	AgentVersion    string     `json:"agent_version,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	CompletedAt     *time.Time `json:"completed_at,omitempty"`
	DurationSeconds float64    `json:"duration_seconds"`
}

// Host identifies the machine.
type Host struct {
	ID       string `json:"id"`
	IDSource string `json:"id_source,omitempty"` // dmi-uuid | chassis-serial | board-serial | mac | hostname
	Hostname string `json:"hostname,omitempty"`
	Vendor   string `json:"vendor,omitempty"`
	Product  string `json:"product,omitempty"`
	Serial   string `json:"serial,omitempty"`
	UUID     string `json:"uuid,omitempty"`
	BIOS     string `json:"bios,omitempty"` // vendor, version and date
}

// Inventory summarises the hardware found.
type Inventory struct {
	CPUModel      string   `json:"cpu_model,omitempty"`
	Sockets       int      `json:"sockets,omitempty"`
	Cores         int      `json:"cores,omitempty"`
	Threads       int      `json:"threads,omitempty"`
	MemoryBytes   uint64   `json:"memory_bytes,omitempty"`
	DIMMs         int      `json:"dimms"`
	Disks         []Disk   `json:"disks"`
	NICs          []NIC    `json:"nics"`
	GPUs          []GPU    `json:"gpus"`
	PCIDevices    int      `json:"pci_devices"`
	ProbesFailed  []string `json:"probes_failed,omitempty"`
	ProbesMissing []string `json:"probes_missing,omitempty"`
}

// Disk is one disk of the inventory.
type Disk struct {
	Name      string `json:"name"` // kernel name at inventory time, informational
	Identity  string `json:"identity"`
	Model     string `json:"model,omitempty"`
	Serial    string `json:"serial,omitempty"`
	WWN       string `json:"wwn,omitempty"`
	Class     string `json:"class,omitempty"`
	Transport string `json:"transport,omitempty"`
	SizeBytes uint64 `json:"size_bytes"`
}

// NIC is one network interface of the inventory.
type NIC struct {
	Name      string `json:"name"`
	MAC       string `json:"mac"`
	Driver    string `json:"driver,omitempty"`
	SpeedMbps *int   `json:"speed_mbps,omitempty"`
	Carrier   *bool  `json:"carrier,omitempty"`
}

// GPU is one GPU of the inventory.
type GPU struct {
	Model      string `json:"model,omitempty"`
	Vendor     string `json:"vendor,omitempty"`
	PCIAddress string `json:"pci_address,omitempty"`
	Serial     string `json:"serial,omitempty"`
}

// Stage is the latest attempt of one stage.
type Stage struct {
	Name            string     `json:"name"`
	Status          string     `json:"status"` // pending | running | pass | fail | warn | skip
	Attempts        int        `json:"attempts"`
	Reason          string     `json:"reason,omitempty"`
	Message         string     `json:"message,omitempty"`
	Overridden      bool       `json:"overridden,omitempty"`
	Destructive     bool       `json:"destructive,omitempty"`
	StartedAt       *time.Time `json:"started_at,omitempty"`
	CompletedAt     *time.Time `json:"completed_at,omitempty"`
	DurationSeconds *float64   `json:"duration_seconds,omitempty"`
	Findings        []Finding  `json:"findings,omitempty"`
	Summary         any        `json:"summary,omitempty"`
	// Earlier lists previous attempts (retries, interrupted attempts), oldest first.
	Earlier []Attempt `json:"earlier,omitempty"`
}

// Attempt is an earlier attempt of a stage.
type Attempt struct {
	Attempt     int        `json:"attempt"`
	Status      string     `json:"status"`
	Reason      string     `json:"reason,omitempty"`
	Message     string     `json:"message,omitempty"`
	StartedAt   time.Time  `json:"started_at"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
}

// Finding is one observation behind a verdict.
type Finding struct {
	Code     string `json:"code"`
	Severity string `json:"severity"` // critical | warning | info
	Subject  string `json:"subject,omitempty"`
	Message  string `json:"message"`
}

// SpecDiff is one expected-vs-actual divergence.
type SpecDiff struct {
	Field    string `json:"field"`
	Subject  string `json:"subject,omitempty"`
	Expected string `json:"expected"`
	Actual   string `json:"actual"`
	Class    string `json:"class"` // critical | warning | info
	Message  string `json:"message,omitempty"`
}

// Action is one operator action (retry, override, abandon, release).
type Action struct {
	Kind        string    `json:"kind"`
	Who         string    `json:"who"`
	Reason      string    `json:"reason"`
	Target      string    `json:"target,omitempty"`
	Stage       string    `json:"stage,omitempty"`
	StateBefore string    `json:"state_before"`
	At          time.Time `json:"at"`
}

// Aggregate summarises the samples of one (stage, kind, subject, name).
type Aggregate struct {
	Stage   string    `json:"stage,omitempty"`
	Kind    string    `json:"kind"`
	Subject string    `json:"subject,omitempty"`
	Name    string    `json:"name"`
	Unit    string    `json:"unit,omitempty"`
	Count   int       `json:"count"`
	Min     float64   `json:"min"`
	Max     float64   `json:"max"`
	Mean    float64   `json:"mean"`
	Last    float64   `json:"last"`
	First   time.Time `json:"first_at"`
	LastAt  time.Time `json:"last_at"`
}

// Series is a time series of one (kind, subject, name), across stages.
type Series struct {
	Kind    string  `json:"kind"`
	Subject string  `json:"subject,omitempty"`
	Name    string  `json:"name"`
	Unit    string  `json:"unit,omitempty"`
	Count   int     `json:"count"` // samples before downsampling
	Points  []Point `json:"points"`
}

// Point is one sample of a series.
type Point struct {
	T time.Time `json:"t"`
	V float64   `json:"v"`
}

// Artifact is a file the run produced.
type Artifact struct {
	Stage       string `json:"stage,omitempty"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	ContentType string `json:"content_type,omitempty"`
	// Key is the object key in the bucket, relative to the run's prefix
	// runs/<host>/<run-id>/ (e.g. "artifacts/inventory.json").
	Key string `json:"key"`
}

// Sample is one measurement as the journal stores it (the input of Aggregate
// and BuildSeries).
type Sample struct {
	Stage   string
	Kind    string
	Subject string
	Name    string
	Unit    string
	Value   float64
	At      time.Time
}

// SeriesKinds are the measurement kinds whose shape over time is kept.
var SeriesKinds = map[string]bool{"thermal": true, "psu": true, "fio": true, "iperf": true}

// MaxSeriesPoints bounds the points kept per series.
const MaxSeriesPoints = 400

// Aggregates groups samples by stage, kind, subject and name, in a stable order.
func Aggregates(samples []Sample) []Aggregate {
	type key struct{ stage, kind, subject, name string }
	idx := map[key]int{}
	var out []Aggregate
	sums := []float64{}
	for _, s := range samples {
		if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
			continue
		}
		k := key{s.Stage, s.Kind, s.Subject, s.Name}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, Aggregate{Stage: s.Stage, Kind: s.Kind, Subject: s.Subject, Name: s.Name, Unit: s.Unit,
				Min: s.Value, Max: s.Value, First: s.At, LastAt: s.At})
			sums = append(sums, 0)
		}
		a := &out[i]
		a.Count++
		sums[i] += s.Value
		a.Min = math.Min(a.Min, s.Value)
		a.Max = math.Max(a.Max, s.Value)
		if !s.At.Before(a.LastAt) {
			a.LastAt, a.Last = s.At, s.Value
		}
		if s.At.Before(a.First) {
			a.First = s.At
		}
		if a.Unit == "" {
			a.Unit = s.Unit
		}
	}
	for i := range out {
		out[i].Mean = sums[i] / float64(out[i].Count)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Stage != b.Stage {
			return a.Stage < b.Stage
		}
		if a.Subject != b.Subject {
			return a.Subject < b.Subject
		}
		return a.Name < b.Name
	})
	return out
}

// BuildSeries returns the series of the kinds in SeriesKinds, each in time
// order and downsampled to at most max points (both the lowest and the
// highest sample of each time bucket are kept, so a temperature peak or a
// voltage dip survives downsampling).
func BuildSeries(samples []Sample, max int) []Series {
	type key struct{ kind, subject, name string }
	idx := map[key]int{}
	var out []Series
	for _, s := range samples {
		if !SeriesKinds[s.Kind] || math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
			continue
		}
		k := key{s.Kind, s.Subject, s.Name}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, Series{Kind: s.Kind, Subject: s.Subject, Name: s.Name, Unit: s.Unit})
		}
		out[i].Points = append(out[i].Points, Point{T: s.At, V: s.Value})
	}
	for i := range out {
		pts := out[i].Points
		sort.SliceStable(pts, func(a, b int) bool { return pts[a].T.Before(pts[b].T) })
		out[i].Count = len(pts)
		out[i].Points = Downsample(pts, max)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Subject != b.Subject {
			return a.Subject < b.Subject
		}
		return a.Name < b.Name
	})
	return out
}

// Downsample reduces time-ordered points to at most max (max >= 2), keeping
// the lowest and highest point of each of max/2 equal-count buckets in time
// order. Fewer points than max are returned unchanged.
func Downsample(pts []Point, max int) []Point {
	if max < 2 {
		max = 2
	}
	if len(pts) <= max {
		return pts
	}
	buckets := max / 2
	out := make([]Point, 0, max)
	for b := 0; b < buckets; b++ {
		lo := b * len(pts) / buckets
		hi := (b + 1) * len(pts) / buckets
		if lo >= hi {
			continue
		}
		mn, mx := lo, lo
		for i := lo; i < hi; i++ {
			if pts[i].V < pts[mn].V {
				mn = i
			}
			if pts[i].V > pts[mx].V {
				mx = i
			}
		}
		switch {
		case mn == mx:
			out = append(out, pts[mn])
		case mn < mx:
			out = append(out, pts[mn], pts[mx])
		default:
			out = append(out, pts[mx], pts[mn])
		}
	}
	return out
}

// Decide computes the verdict from the run's state and the stages. It is the
// one place that says what a report's result is:
//
//   - abandoned (or closed with result fail) → fail;
//   - Completed or Reporting, not abandoned → pass, with overrides and
//     warnings listed;
//   - FailedHolding → held (not final);
//   - any other state → incomplete (not final).
func Decide(run Run, stages []Stage, actions []Action) Verdict {
	var v Verdict
	var failed, warned, overriddenStages []string
	for _, s := range stages {
		switch {
		case s.Status == "fail" && s.Overridden:
			overriddenStages = append(overriddenStages, s.Name)
		case s.Status == "fail":
			failed = append(failed, s.Name+": "+oneLine(s.Message))
		case s.Status == "warn":
			warned = append(warned, s.Name+" warned: "+oneLine(s.Message))
		}
	}
	for _, a := range actions {
		if a.Kind == "override" {
			v.Overrides = append(v.Overrides, a)
		}
	}
	var abandon *Action
	for i := range actions {
		if actions[i].Kind == "abandon" {
			abandon = &actions[i]
		}
	}
	switch {
	case run.Abandoned || run.Result == ResultFail:
		v.Result, v.Final = ResultFail, true
		v.Headline = "FAIL: this host must not rejoin the cluster"
		if run.FailedStage != "" {
			v.Headline = "FAIL at " + run.FailedStage + ": this host must not rejoin the cluster"
		}
		v.Reasons = append(v.Reasons, failed...)
		if abandon != nil {
			v.Reasons = append(v.Reasons, "abandoned by "+abandon.Who+": "+oneLine(abandon.Reason))
		}
	case run.State == "Completed" || run.State == "Released" || run.State == "Reporting":
		v.Result, v.Final = ResultPass, true
		v.Headline = "PASS: every stage passed"
		if len(v.Overrides) > 0 {
			v.Headline = "PASS with operator overrides: see the overrides below"
		} else if len(warned) > 0 {
			v.Headline = "PASS with warnings"
		}
	case run.State == "FailedHolding":
		v.Result = ResultHeld
		v.Headline = "HELD: " + run.FailedStage + " failed; the run waits for an operator (retry, override or abandon)"
		v.Reasons = append(v.Reasons, failed...)
	default:
		v.Result = ResultIncomplete
		v.Headline = "INCOMPLETE: the run is in " + run.State + "; this is not a verdict"
		v.Reasons = append(v.Reasons, failed...)
	}
	for _, s := range overriddenStages {
		v.Reasons = append(v.Reasons, s+" failed and was accepted by an operator override")
	}
	for _, o := range v.Overrides {
		if o.Target != "" {
			v.Reasons = append(v.Reasons, "override of "+o.Target+" in "+o.Stage+" by "+o.Who+": "+oneLine(o.Reason))
		}
	}
	v.Reasons = append(v.Reasons, warned...)
	return v
}

func oneLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i] + " …"
		}
	}
	return s
}
