package stage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/shakedown/shakedown/agent/event"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/tool"
)

// Sink is where a running stage sends what it produces while it runs. The
// engine implements it over the journal and the event bus; tests use a fake.
type Sink interface {
	// Emit publishes an event.
	Emit(event.Event)
	// Measure stores measurements immediately (they survive a crash).
	Measure(stage string, m ...Measurement) error
	// PutFact stores a JSON-encodable value for later stages (survives restarts).
	PutFact(key string, v any) error
	// Fact loads a stored value into v; ok is false when none was stored.
	Fact(key string, v any) (ok bool, err error)
}

// Override is an operator's acceptance of one item for this stage, for example
// a disk the wipe-probe flagged, named by its identity.
type Override struct {
	Target string    `json:"target"`
	Who    string    `json:"who"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// Env is everything a stage may use.
type Env struct {
	Log       *slog.Logger
	Collector collector.Env
	Tools     tool.Runner
	RunID     string
	HostID    string
	Stage     string
	Attempt   int
	Profile   string
	// AllowDestructive is false in the safe profile: no stage may write to a disk.
	AllowDestructive bool
	// Params are this stage's resolved parameters (defaults, profile, config, flags).
	Params Params
	// Thresholds are the resolved pass/fail limits (defaults < config < host spec).
	Thresholds Params
	// WorkDir is this attempt's private directory for artifacts and scratch files.
	WorkDir string
	// Overrides lists operator overrides that name targets of this stage.
	Overrides []Override
	Sink      Sink
	// Now is the clock (tests freeze it).
	Now func() time.Time
	// Journal is a read-only view of the whole run for the Reporting stage:
	// the engine's *journal.Journal (this package cannot name the type); a
	// stage asserts the small interface it needs. Nil outside the engine.
	Journal any
	// Bucket uploads run files when the agent runs with a coordinator; nil
	// otherwise.
	Bucket Bucket
}

// Bucket delivers files to the coordinator's bucket (brief §4). Enqueue copies
// the file into the agent's spool and returns at once; Flush waits until every
// enqueued object is acknowledged by the bucket or ctx ends.
type Bucket interface {
	Enqueue(key, path string) error
	Flush(ctx context.Context) error
	// Pending counts what is still waiting for the bucket.
	Pending() (objects int, bytes int64)
}

// Clock returns the current time from Env.Now, or time.Now.
func (e *Env) Clock() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Env) base() event.Base { return event.Base{At: e.Clock(), RunID: e.RunID} }

// Emit publishes an event (no-op without a sink).
func (e *Env) Emit(ev event.Event) {
	if e.Sink != nil {
		e.Sink.Emit(ev)
	}
}

// Progress publishes progress of a long step. total 0 means unknown.
func (e *Env) Progress(subject string, done, total float64, unit, msg string) {
	e.Emit(event.Progress{Base: e.base(), Stage: e.Stage, Subject: subject, Done: done, Total: total, Unit: unit, Message: msg})
}

// Notice publishes an operator notice (SpecMismatch, UnexpectedData, ...).
func (e *Env) Notice(kind, msg string) {
	e.Emit(event.Notice{Base: e.base(), Kind: kind, Stage: e.Stage, Message: msg})
}

// Measure records measurements now (journal + event stream).
func (e *Env) Measure(ms ...Measurement) error {
	for i := range ms {
		if ms[i].Time.IsZero() {
			ms[i].Time = e.Clock()
		}
	}
	if e.Sink == nil {
		return nil
	}
	if err := e.Sink.Measure(e.Stage, ms...); err != nil {
		return fmt.Errorf("record measurements: %w", err)
	}
	for _, m := range ms {
		e.Sink.Emit(event.Measurement{Base: event.Base{At: m.Time, RunID: e.RunID}, Stage: e.Stage,
			Kind: m.Kind, Subject: m.Subject, Name: m.Name, Value: m.Value, Unit: m.Unit})
	}
	return nil
}

// PutFact stores a value for later stages.
func (e *Env) PutFact(key string, v any) error {
	if e.Sink == nil {
		return fmt.Errorf("put fact %q: no sink", key)
	}
	return e.Sink.PutFact(key, v)
}

// Fact loads a value stored by an earlier stage.
func (e *Env) Fact(key string, v any) (bool, error) {
	if e.Sink == nil {
		return false, nil
	}
	return e.Sink.Fact(key, v)
}

// Logger returns the stage logger.
func (e *Env) Logger() *slog.Logger {
	if e.Log == nil {
		return slog.Default()
	}
	return e.Log
}

// WriteArtifact writes data as an artifact file in the work directory and
// returns its description (size and SHA-256 filled in).
func (e *Env) WriteArtifact(name string, data []byte, contentType string) (Artifact, error) {
	if err := checkArtifactName(name); err != nil {
		return Artifact{}, err
	}
	if err := os.MkdirAll(e.WorkDir, 0o755); err != nil {
		return Artifact{}, fmt.Errorf("create work dir: %w", err)
	}
	p := filepath.Join(e.WorkDir, name)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return Artifact{}, fmt.Errorf("write artifact %s: %w", name, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return Artifact{}, fmt.Errorf("write artifact %s: %w", name, err)
	}
	sum := sha256.Sum256(data)
	return Artifact{Name: name, Path: p, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), ContentType: contentType}, nil
}

// FileArtifact describes an existing file in the work directory as an artifact.
func (e *Env) FileArtifact(name, path, contentType string) (Artifact, error) {
	if err := checkArtifactName(name); err != nil {
		return Artifact{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return Artifact{}, fmt.Errorf("open artifact %s: %w", name, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return Artifact{}, fmt.Errorf("hash artifact %s: %w", name, err)
	}
	return Artifact{Name: name, Path: path, Size: n, SHA256: hex.EncodeToString(h.Sum(nil)), ContentType: contentType}, nil
}

func checkArtifactName(name string) error {
	if name == "" || strings.ContainsAny(name, "/\\\x00") || name == "." || name == ".." {
		return fmt.Errorf("artifact name %q: must be a plain file name", name)
	}
	return nil
}

// Params holds a stage's resolved parameter values as text; they were checked
// against their Kind when the config was loaded, so accessors do not fail.
type Params map[string]string

// String returns a parameter.
func (p Params) String(name string) string { return p[name] }

// Duration returns a duration parameter (0 when unset).
func (p Params) Duration(name string) time.Duration {
	d, _ := time.ParseDuration(p[name])
	return d
}

// Int returns an integer parameter (0 when unset).
func (p Params) Int(name string) int {
	i, _ := strconv.Atoi(p[name])
	return i
}

// Float returns a float parameter (0 when unset).
func (p Params) Float(name string) float64 {
	f, _ := strconv.ParseFloat(p[name], 64)
	return f
}

// Bool returns a boolean parameter (false when unset).
func (p Params) Bool(name string) bool {
	b, _ := strconv.ParseBool(p[name])
	return b
}

// Size returns a size parameter in bytes (0 when unset).
func (p Params) Size(name string) uint64 {
	n, _ := ParseSize(p[name])
	return n
}

// CheckValue parses v as kind k and returns a descriptive error if it does not fit.
func CheckValue(k Kind, v string) error {
	var err error
	switch k {
	case KindDuration:
		var d time.Duration
		d, err = time.ParseDuration(v)
		if err == nil && d < 0 {
			err = fmt.Errorf("negative")
		}
		if err != nil {
			return fmt.Errorf("%q is not a duration (write e.g. 90s, 5m, 1h30m)", v)
		}
	case KindInt:
		if _, err = strconv.Atoi(v); err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
	case KindFloat:
		if _, err = strconv.ParseFloat(v, 64); err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
	case KindBool:
		if _, err = strconv.ParseBool(v); err != nil {
			return fmt.Errorf("%q is not a boolean (write true or false)", v)
		}
	case KindSize:
		if _, err = ParseSize(v); err != nil {
			return err
		}
	case KindString:
	default:
		return fmt.Errorf("unknown parameter kind %q", k)
	}
	return nil
}

// ParseSize parses a byte size with a unit: 512B, 4KiB, 1.5GB, 480GiB, 1.92TB.
// Decimal units (kB, MB, GB, TB, PB) are powers of 1000, binary units (KiB,
// MiB, GiB, TiB, PiB) powers of 1024. A bare number is refused: a size without
// a unit is ambiguous.
func ParseSize(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] == '.' || (t[i] >= '0' && t[i] <= '9')) {
		i++
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	if num == "" {
		return 0, fmt.Errorf("%q is not a size (write e.g. 512GB, 480GiB, 1.92TB)", s)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size (write e.g. 512GB, 480GiB, 1.92TB)", s)
	}
	mult := map[string]float64{
		"b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "pb": 1e15,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40, "pib": 1 << 50,
		"k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12,
	}
	if unit == "" {
		return 0, fmt.Errorf("%q has no unit (write e.g. %sGB or %sGiB)", s, num, num)
	}
	m, ok := mult[strings.ToLower(unit)]
	if !ok {
		return 0, fmt.Errorf("%q has unknown unit %q (use B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)", s, unit)
	}
	v := f * m
	if v > float64(^uint64(0)>>1) {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return uint64(v + 0.5), nil
}
