// Package stage defines what a validation stage is (the Stage interface), what
// it returns (a Result: a verdict with findings, measurements and artifacts),
// the environment it runs in (Env), and the registry every stage package adds
// itself to in init(). The order of stages is not decided here: it is the fixed
// list in agent/engine (brief §3).
//
// A hardware verdict is never a Go error. A stage that finds broken hardware
// returns Result{Status: Fail} and a nil error; a non-nil error means the stage
// could not decide (tool missing where it is required, output it cannot parse),
// which the engine records as a failure with reason "error" and holds the run.
package stage

import (
	"context"
	"fmt"
	"time"
)

// Status is a stage verdict.
type Status string

// Verdicts.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	Warn Status = "warn"
	Skip Status = "skip"
)

// Passed reports whether the verdict lets the run continue without an operator.
func (s Status) Passed() bool { return s == Pass || s == Warn || s == Skip }

// Valid reports whether s is one of the four verdicts.
func (s Status) Valid() bool { return s == Pass || s == Fail || s == Warn || s == Skip }

// Severity of a finding.
type Severity string

// Severities.
const (
	Critical Severity = "critical"
	Warning  Severity = "warning"
	Info     Severity = "info"
)

// Finding is one observation that explains a verdict.
type Finding struct {
	// Code is machine-readable, ^[A-Za-z]+$ (e.g. "ReallocatedSectors").
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	// Subject names the component: a disk identity, a sensor, a DIMM.
	Subject string `json:"subject,omitempty"`
	Message string `json:"message"`
}

// ValidCode reports whether c is an acceptable finding code (^[A-Za-z]+$; a
// loop, not a regexp compiled at init in every binary that links this package).
func ValidCode(c string) bool {
	for i := 0; i < len(c); i++ {
		if b := c[i] | 0x20; b < 'a' || b > 'z' {
			return false
		}
	}
	return c != ""
}

// Measurement is one numeric sample.
type Measurement struct {
	Kind    string    `json:"kind"`              // thermal | psu | fio | iperf | stress | smart | ...
	Subject string    `json:"subject,omitempty"` // disk identity, NIC, sensor chip
	Name    string    `json:"name"`              // metric name: temp, iops_read, p99_us, bits_per_second
	Value   float64   `json:"value"`
	Unit    string    `json:"unit,omitempty"`
	Time    time.Time `json:"time"`
}

// Artifact is a file a stage produced (raw tool output, inventory.json).
type Artifact struct {
	Name        string `json:"name"` // file name, unique within the run: smart-sda.json
	Path        string `json:"path"` // where it is on the agent's disk
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	ContentType string `json:"content_type,omitempty"`
}

// SpecDiff is one expected-vs-actual divergence (the seed's spec_diffs row).
type SpecDiff struct {
	Field    string   `json:"field"`             // e.g. "memory.total", "disks[2].serial"
	Subject  string   `json:"subject,omitempty"` // e.g. the disk identity
	Expected string   `json:"expected"`
	Actual   string   `json:"actual"`
	Class    Severity `json:"class"` // critical | warning | info
	Message  string   `json:"message,omitempty"`
}

// Result is a stage's verdict with its evidence.
type Result struct {
	Status Status `json:"status"`
	// Reason is a short machine code for non-pass verdicts: "timeout",
	// "interrupted", "not_implemented", "no_gpu", "error", ...
	Reason       string         `json:"reason,omitempty"`
	Message      string         `json:"message"`
	Findings     []Finding      `json:"findings,omitempty"`
	Measurements []Measurement  `json:"measurements,omitempty"`
	Artifacts    []Artifact     `json:"artifacts,omitempty"`
	SpecDiffs    []SpecDiff     `json:"spec_diffs,omitempty"`
	Summary      map[string]any `json:"summary,omitempty"`
}

// Stage is one step of the run.
type Stage interface {
	// Name is the stage's state name, exactly as in the brief ("CPUStress").
	Name() string
	// Destructive stages write to disks; they never run in the safe profile
	// with writes, and are never re-run after a restart without an operator.
	Destructive() bool
	// DefaultTimeout bounds one attempt; config and profiles may override it.
	DefaultTimeout() time.Duration
	// Run performs the stage. Hardware verdicts go in Result; a non-nil error
	// means "could not decide".
	Run(ctx context.Context, env *Env) (Result, error)
}

// Parameterised stages declare their tunables; the registry turns them into
// config keys (stages.<name>.<param>) and flags (--stage.<name>.<param>).
type Parameterised interface {
	Params() []Param
}

// Kind is a parameter's type.
type Kind string

// Parameter kinds.
const (
	KindDuration Kind = "duration" // Go duration: 120s, 5m
	KindInt      Kind = "int"
	KindFloat    Kind = "float"
	KindBool     Kind = "bool"
	KindString   Kind = "string"
	KindSize     Kind = "size" // bytes with unit: 1GiB, 512MB
)

// Param is one tunable of a stage.
type Param struct {
	Name string // lower_snake_case
	Kind Kind
	Help string
	// Default is used in every profile unless ByProfile names the profile.
	Default   string
	ByProfile map[string]string
}

// DefaultFor returns the default value for a profile.
func (p Param) DefaultFor(profile string) string {
	if v, ok := p.ByProfile[profile]; ok {
		return v
	}
	return p.Default
}

// Errorf is a convenience for "could not decide" errors that name the stage.
func Errorf(stage, format string, args ...any) error {
	return fmt.Errorf(stage+": "+format, args...)
}
