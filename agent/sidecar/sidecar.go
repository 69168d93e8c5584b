// Package sidecar is the thermal sidecar: a service (engine.RegisterService)
// that runs beside the stages for the agent's whole life and, every 5 s,
// samples hwmon and thermal-zone temperatures and records them as
// measurements (kind "thermal", one row per sensor) for the stage running at
// that moment ("" between stages). It has no verdict of its own: CPUStress
// and PSU read what it saw during their run through Watch.
//
// Cost: the sysfs layout is scanned once (and again every
// collector.DefaultSensorRescan); each sample re-reads only the value files
// into reused buffers (collector.SensorSampler) and writes one batch of rows.
// A sensor whose file cannot be read drops out of that sample.
package sidecar

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shakedown/shakedown/agent/engine"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
)

// Name is the service name.
const Name = "thermal-sidecar"

// DefaultInterval is the sampling period (the seed's 5 s).
const DefaultInterval = 5 * time.Second

// Measurement fields of every row the sidecar writes.
const (
	Kind = "thermal"
	Unit = "°C"
	// Metric is the measurement name of a temperature sample.
	Metric = "temp"
)

func init() { engine.RegisterService(Name, func() engine.Service { return &Thermal{} }) }

// Ticker yields ticks every d until stop is called. Tests inject a channel
// they feed by hand (the fake clock).
type Ticker func(d time.Duration) (ticks <-chan time.Time, stop func())

func realTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// Sampler fills dst with a fresh hwmon/thermal reading
// (*collector.SensorSampler implements it).
type Sampler interface {
	SampleInto(ctx context.Context, dst *collector.Sensors) error
}

// Thermal is the sidecar service. The zero value samples the real sysfs
// (under Host.Collector().Root) every DefaultInterval.
type Thermal struct {
	Interval time.Duration
	Ticker   Ticker
	// NewSampler builds the sampler (nil = collector.NewSensorSampler).
	NewSampler func(collector.Env) Sampler

	// state reused across samples
	cur  collector.Sensors
	rows []stage.Measurement
	// failing is true after a Measure error until one succeeds (log once).
	failing bool
	noData  bool
}

// Name implements engine.Service.
func (t *Thermal) Name() string { return Name }

// Run implements engine.Service: sample now, then on every tick until ctx ends.
func (t *Thermal) Run(ctx context.Context, h engine.Host) error {
	interval := t.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	tick := t.Ticker
	if tick == nil {
		tick = realTicker
	}
	var s Sampler
	if t.NewSampler != nil {
		s = t.NewSampler(h.Collector())
	} else {
		s = collector.NewSensorSampler(h.Collector())
	}
	ticks, stop := tick(interval)
	defer stop()
	h.Log().Info("thermal sidecar started", "service", Name, "interval_seconds", interval.Seconds())
	t.Sample(ctx, h, s)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case _, ok := <-ticks:
			if !ok {
				return nil
			}
			t.Sample(ctx, h, s)
		}
	}
}

// Sample takes one reading, records it and hands it to the active watches.
// It returns the number of temperature rows recorded.
func (t *Thermal) Sample(ctx context.Context, h engine.Host, s Sampler) int {
	err := s.SampleInto(ctx, &t.cur)
	if ctx.Err() != nil {
		return 0
	}
	log := h.Log()
	switch {
	case errors.Is(err, collector.ErrNoData):
		if !t.noData {
			log.Info("no hwmon or thermal zones: the thermal sidecar records nothing", "service", Name)
			t.noData = true
		}
	case err != nil:
		log.Debug("sensor sample incomplete", "service", Name, "err", err)
	default:
		t.noData = false
	}
	now := h.Now()
	t.rows = Rows(&t.cur, now, t.rows)
	publish(t.rows)
	if len(t.rows) == 0 || h.RunID() == "" {
		return 0
	}
	if err := h.Sink().Measure(h.Stage(), t.rows...); err != nil {
		if !t.failing {
			log.Warn("record thermal samples", "service", Name, "err", err)
			t.failing = true
		}
		return 0
	}
	t.failing = false
	return len(t.rows)
}

// ZoneID is the subject of a thermal-zone row, the same as
// collector.Temperature.ID: "thermal/<zone>[:<type>]".
func ZoneID(z collector.ThermalZone) string {
	if z.Type == "" {
		return "thermal/" + z.Name
	}
	return "thermal/" + z.Name + ":" + z.Type
}

// ---- watches: what stages read of the sidecar's samples ----

// Reading is the hottest value one sensor reported while a watch was active.
type Reading struct {
	Sensor string    `json:"sensor"`
	C      float64   `json:"c"`
	Time   time.Time `json:"time"`
}

// Watch collects, per sensor, the maximum of every sample taken while it is
// active: the sidecar's, and the ones a stage adds with Observe.
type Watch struct {
	mu      sync.Mutex
	max     map[string]Reading
	samples int
}

var (
	hubMu   sync.Mutex
	watches = map[*Watch]struct{}{}
)

// StartWatch begins collecting; call Stop when done.
func StartWatch() *Watch {
	w := &Watch{max: map[string]Reading{}}
	hubMu.Lock()
	watches[w] = struct{}{}
	hubMu.Unlock()
	return w
}

// Stop detaches the watch from the sidecar (Observe still works).
func (w *Watch) Stop() {
	hubMu.Lock()
	delete(watches, w)
	hubMu.Unlock()
}

func publish(rows []stage.Measurement) {
	hubMu.Lock()
	defer hubMu.Unlock()
	for w := range watches {
		w.Observe(rows)
	}
}

// Observe folds one sample (thermal rows) into the watch.
func (w *Watch) Observe(rows []stage.Measurement) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.samples++
	for _, r := range rows {
		if r.Kind != Kind {
			continue
		}
		if cur, ok := w.max[r.Subject]; !ok || r.Value > cur.C {
			w.max[r.Subject] = Reading{Sensor: r.Subject, C: r.Value, Time: r.Time}
		}
	}
}

// Max returns the per-sensor maxima and the number of samples seen.
func (w *Watch) Max() (map[string]Reading, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]Reading, len(w.max))
	for k, v := range w.max {
		out[k] = v
	}
	return out, w.samples
}

// Rows converts a sensor reading into thermal rows at time now (for a stage's
// own samples, fed to Observe).
func Rows(s *collector.Sensors, now time.Time, dst []stage.Measurement) []stage.Measurement {
	dst = dst[:0]
	for i := range s.Hwmon {
		if x := &s.Hwmon[i]; x.Kind == "temp" {
			dst = append(dst, stage.Measurement{Kind: Kind, Subject: x.ID(), Name: Metric, Value: x.Value, Unit: Unit, Time: now})
		}
	}
	for i := range s.Thermal {
		z := &s.Thermal[i]
		dst = append(dst, stage.Measurement{Kind: Kind, Subject: ZoneID(*z), Name: Metric, Value: z.TempC, Unit: Unit, Time: now})
	}
	return dst
}

// Limits are the temperature ceilings a watch is checked against.
type Limits struct {
	// MaxC applies to every sensor (threshold max_temp_c).
	MaxC float64
	// DiskMaxC applies to disk sensors (hwmon chips nvme, drivetemp; threshold
	// disk_max_temp_c); 0 means MaxC.
	DiskMaxC float64
}

// Violation is one sensor at or above its ceiling.
type Violation struct {
	Reading
	LimitC float64 `json:"limit_c"`
}

// Implausible bounds: readings outside them are a broken sensor, not heat.
const (
	implausibleLowC  = -40
	implausibleHighC = 200
)

// Check returns the sensors whose maximum reached their ceiling, and the
// sensors whose readings are implausible (reported, never judged as heat).
func Check(maxima map[string]Reading, l Limits) (hot []Violation, implausible []Reading) {
	for _, r := range maxima {
		if r.C <= implausibleLowC || r.C >= implausibleHighC {
			implausible = append(implausible, r)
			continue
		}
		limit := l.MaxC
		if l.DiskMaxC > 0 && IsDiskSensor(r.Sensor) {
			limit = l.DiskMaxC
		}
		if r.C >= limit {
			hot = append(hot, Violation{Reading: r, LimitC: limit})
		}
	}
	sort.Slice(implausible, func(i, j int) bool { return implausible[i].Sensor < implausible[j].Sensor })
	sort.Slice(hot, func(i, j int) bool { return hot[i].Sensor < hot[j].Sensor })
	return hot, implausible
}

// Hottest returns the hottest plausible reading.
func Hottest(maxima map[string]Reading) (Reading, bool) {
	var best Reading
	ok := false
	for _, r := range maxima {
		if r.C <= implausibleLowC || r.C >= implausibleHighC {
			continue
		}
		if !ok || r.C > best.C || (r.C == best.C && r.Sensor < best.Sensor) {
			best, ok = r, true
		}
	}
	return best, ok
}

// IsDiskSensor reports whether a sensor id names a disk's own sensor.
func IsDiskSensor(id string) bool {
	chip, _, _ := strings.Cut(id, "/")
	return chip == "nvme" || chip == "drivetemp"
}
