package collector

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Sensors API (docs/sensors-and-smart.md):
//
//   - ReadSensors(ctx, env): one full reading of hwmon, thermal zones and EDAC,
//     for the inventory and for before/after comparisons (EDAC counters).
//   - NewSensorSampler(env): for periodic sampling (the CPUStress thermal
//     sidecar every 5 s, the PSU stage during a load burst). It scans the sysfs
//     layout once and afterwards re-reads only the value files, into reused
//     slices, with no allocation per sample (SampleInto). It rescans every
//     RescanEvery so hot-plugged sensors appear.
//   - Helpers on *Sensors: Temperatures, MaxTemperature, Voltages (with a
//     nominal-voltage guess), Powers, EDACCounts, EDACTotals, and EDACDelta for
//     before/after comparisons.
//
// A sensor that cannot be read is dropped from the sample, never reported as 0.

// ReadSensors reads hwmon, thermal zones and EDAC once. The result is never
// nil. When none of the three kernel interfaces exists, the error wraps
// ErrNoData. Other read errors are returned next to a partial result.
//
// It is cheap enough to call every few seconds: the hwmon/thermal layout is
// scanned once per Env.Root and reused for DefaultSensorRescan (values,
// alarms and faults are re-read on every call; limits and labels at each
// rescan). Only EDAC is walked in full on every call.
func ReadSensors(ctx context.Context, env Env) (*Sensors, error) {
	key := filepath.Clean(env.root())
	v, ok := sharedSamplers.Load(key)
	if !ok {
		v, _ = sharedSamplers.LoadOrStore(key, NewSensorSampler(env))
	}
	return readSensorsWith(ctx, env, v.(*SensorSampler), readSensorFileRaw)
}

// sharedSamplers caches one SensorSampler per root for ReadSensors.
var sharedSamplers sync.Map

func readSensors(ctx context.Context, env Env, read sensorReadFunc) (*Sensors, error) {
	return readSensorsWith(ctx, env, newSensorSampler(env, read), read)
}

func readSensorsWith(ctx context.Context, env Env, s *SensorSampler, read sensorReadFunc) (*Sensors, error) {
	out := &Sensors{Hwmon: []Sensor{}, Thermal: []ThermalZone{}, EDAC: []EDACController{}}
	sampleErr := s.SampleInto(ctx, out)
	if ctx.Err() != nil {
		return out, ctx.Err()
	}
	edac, edacErr := readEDAC(ctx, env, read)
	if edac != nil {
		out.EDAC = edac
	}
	if errors.Is(sampleErr, ErrNoData) && errors.Is(edacErr, ErrNoData) {
		return out, fmt.Errorf("read sensors: no hwmon, thermal or edac in sysfs: %w", ErrNoData)
	}
	var errs []error
	if sampleErr != nil && !errors.Is(sampleErr, ErrNoData) {
		errs = append(errs, sampleErr)
	}
	if edacErr != nil && !errors.Is(edacErr, ErrNoData) {
		errs = append(errs, edacErr)
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("read sensors: %w", errors.Join(errs...))
	}
	return out, nil
}

// SensorFiles lists the glob patterns (absolute-style, relative to Env.Root)
// the sensor readers read, for `shakedown-agent snapshot`.
func SensorFiles(Env) []string {
	return []string{
		"/sys/class/hwmon/hwmon*/name",
		"/sys/class/hwmon/hwmon*/*_input",
		"/sys/class/hwmon/hwmon*/*_average",
		"/sys/class/hwmon/hwmon*/*_label",
		"/sys/class/hwmon/hwmon*/*_min",
		"/sys/class/hwmon/hwmon*/*_max",
		"/sys/class/hwmon/hwmon*/*_crit",
		"/sys/class/hwmon/hwmon*/*_alarm",
		"/sys/class/hwmon/hwmon*/*_fault",
		"/sys/class/hwmon/hwmon*/*_enable",
		"/sys/class/thermal/thermal_zone*/type",
		"/sys/class/thermal/thermal_zone*/temp",
		"/sys/devices/system/edac/mc/mc*/*_count",
		"/sys/devices/system/edac/mc/mc*/mc_name",
		"/sys/devices/system/edac/mc/mc*/dimm*/*",
		"/sys/devices/system/edac/mc/mc*/rank*/*",
		"/sys/devices/system/edac/mc/mc*/csrow*/*",
	}
}

// DefaultSensorRescan is how long a SensorSampler reuses one sysfs layout.
const DefaultSensorRescan = 5 * time.Minute

// SensorSampler samples hwmon and thermal zones repeatedly and cheaply. It is
// safe for concurrent use (calls are serialised). EDAC is not sampled: read it
// with ReadEDAC or ReadSensors before and after a stage.
type SensorSampler struct {
	// RescanEvery bounds how long a scanned layout is reused; 0 means
	// DefaultSensorRescan, a negative value rescans on every sample.
	RescanEvery time.Duration

	env  Env
	read sensorReadFunc
	now  func() time.Time

	mu         sync.Mutex
	scanned    time.Time
	hasScan    bool
	hwmon      []hwmonChannel
	zones      []thermalZoneFile
	hwmonErr   error
	thermalErr error
	buf        [sensorBufSize]byte
}

// NewSensorSampler returns a sampler reading under env.Root.
func NewSensorSampler(env Env) *SensorSampler { return newSensorSampler(env, readSensorFileRaw) }

func newSensorSampler(env Env, read sensorReadFunc) *SensorSampler {
	return &SensorSampler{env: env, read: read, now: time.Now}
}

// Rescan forces a new scan of the sysfs layout on the next sample.
func (s *SensorSampler) Rescan() {
	s.mu.Lock()
	s.hasScan = false
	s.mu.Unlock()
}

// Sample returns a fresh reading of hwmon and thermal zones (EDAC is nil).
func (s *SensorSampler) Sample(ctx context.Context) (*Sensors, error) {
	out := &Sensors{}
	err := s.SampleInto(ctx, out)
	return out, err
}

// SampleInto overwrites dst.Hwmon and dst.Thermal with a fresh reading,
// reusing their capacity; dst.EDAC is left alone. Once the slices have grown
// to the number of sensors it allocates nothing. The Min/Max/Crit/Alarm
// pointers in the result are shared and must be treated as read-only.
// The error wraps ErrNoData when neither /sys/class/hwmon nor
// /sys/class/thermal exists.
func (s *SensorSampler) SampleInto(ctx context.Context, dst *Sensors) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	every := s.RescanEvery
	if every == 0 {
		every = DefaultSensorRescan
	}
	if !s.hasScan || every < 0 || s.now().Sub(s.scanned) >= every {
		s.scan()
	}
	buf := s.buf[:]
	dst.Hwmon = dst.Hwmon[:0]
	for i := range s.hwmon {
		if v, ok := s.hwmon[i].sample(s.read, buf); ok {
			dst.Hwmon = append(dst.Hwmon, v)
		}
	}
	dst.Thermal = dst.Thermal[:0]
	for i := range s.zones {
		if z, ok := s.zones[i].sample(s.read, buf); ok {
			dst.Thermal = append(dst.Thermal, z)
		}
	}
	if dst.Hwmon == nil {
		dst.Hwmon = []Sensor{}
	}
	if dst.Thermal == nil {
		dst.Thermal = []ThermalZone{}
	}
	hwNone := errors.Is(s.hwmonErr, ErrNoData)
	thNone := errors.Is(s.thermalErr, ErrNoData)
	if hwNone && thNone {
		return fmt.Errorf("sample sensors: %w", ErrNoData)
	}
	var errs []error
	if s.hwmonErr != nil && !hwNone {
		errs = append(errs, s.hwmonErr)
	}
	if s.thermalErr != nil && !thNone {
		errs = append(errs, s.thermalErr)
	}
	return errors.Join(errs...)
}

func (s *SensorSampler) scan() {
	start := s.now()
	hw, err := scanHwmon(s.env, s.read)
	s.hwmon, s.hwmonErr = hw, nil
	if err != nil {
		s.hwmonErr = noDataIfMissing("scan hwmon", err)
	}
	zones, err := scanThermal(s.env, s.read)
	s.zones, s.thermalErr = zones, nil
	if err != nil {
		s.thermalErr = noDataIfMissing("scan thermal zones", err)
	}
	s.scanned, s.hasScan = start, true
	s.env.Logger().Debug("sensors scanned", "hwmon_channels", len(hw), "thermal_zones", len(zones),
		"duration_seconds", s.now().Sub(start).Seconds())
}

// Temperature is one temperature reading from hwmon or a thermal zone.
type Temperature struct {
	// ID is Sensor.ID() for hwmon, "thermal/<zone>[:<type>]" for zones.
	ID     string   `json:"id"`
	Source string   `json:"source"` // hwmon | thermal
	Chip   string   `json:"chip,omitempty"`
	Label  string   `json:"label,omitempty"` // hwmon label or zone type
	C      float64  `json:"c"`
	MaxC   *float64 `json:"max_c,omitempty"`
	CritC  *float64 `json:"crit_c,omitempty"`
	Alarm  *bool    `json:"alarm,omitempty"`
}

// Temperatures returns every temperature: hwmon temp channels, then zones.
func (s *Sensors) Temperatures() []Temperature {
	if s == nil {
		return nil
	}
	var out []Temperature
	for _, h := range s.Hwmon {
		if h.Kind != "temp" {
			continue
		}
		out = append(out, Temperature{ID: h.ID(), Source: "hwmon", Chip: h.Chip, Label: h.Label, C: h.Value, MaxC: h.Max, CritC: h.Crit, Alarm: h.Alarm})
	}
	for _, z := range s.Thermal {
		id := "thermal/" + z.Name
		if z.Type != "" {
			id += ":" + z.Type
		}
		out = append(out, Temperature{ID: id, Source: "thermal", Label: z.Type, C: z.TempC})
	}
	return out
}

// MaxTemperature returns the hottest reading; ok is false when there is none.
func (s *Sensors) MaxTemperature() (t Temperature, ok bool) {
	for _, x := range s.Temperatures() {
		if !ok || x.C > t.C {
			t, ok = x, true
		}
	}
	return t, ok
}

// Powers returns the hwmon power channels (W): ACPI power meters, CPU/GPU
// package power, PSU readings the BMC exposes.
func (s *Sensors) Powers() []Sensor { return s.kind("power") }

func (s *Sensors) kind(k string) []Sensor {
	if s == nil {
		return nil
	}
	var out []Sensor
	for _, h := range s.Hwmon {
		if h.Kind == k {
			out = append(out, h)
		}
	}
	return out
}

// Voltage is one hwmon voltage channel with a guess of its nominal value.
type Voltage struct {
	Sensor
	ID string `json:"id"`
	// Nominal is the rail's design voltage when it can be guessed from the
	// label ("+12V", "3VSB", "P1V8", "Vbat") or, failing that, from the middle
	// of the min/max limits. Nil when neither is available (e.g. "in3" without
	// limits): then only the raw value and alarms can be judged.
	Nominal *float64 `json:"nominal,omitempty"`
	// NominalSource is "label" or "limits" ("" when Nominal is nil).
	NominalSource string `json:"nominal_source,omitempty"`
}

// Deviation returns (value - nominal) / nominal; ok is false without a nominal.
func (v Voltage) Deviation() (frac float64, ok bool) {
	if v.Nominal == nil || *v.Nominal == 0 {
		return 0, false
	}
	return (v.Value - *v.Nominal) / *v.Nominal, true
}

// Voltages returns the hwmon voltage channels with nominal guesses.
func (s *Sensors) Voltages() []Voltage {
	var out []Voltage
	for _, h := range s.kind("in") {
		v := Voltage{Sensor: h, ID: h.ID()}
		if n, src, ok := GuessNominalVoltage(h.Label, h.Min, h.Max); ok {
			v.Nominal, v.NominalSource = &n, src
		}
		out = append(out, v)
	}
	return out
}

var (
	reVoltSplit  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(\d{1,2})V(\d{1,2})`) })        // 3V3, P1V8, 1V05
	reVoltSuffix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(\d{1,2}(?:\.\d{1,3})?)V`) })   // 12V, +3.3V, P5V
	reVoltPrefix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^V(\d{1,2}(?:\.\d{1,3})?)$`) }) // V12, V3.3
	voltByName   = map[string]float64{"VBAT": 3, "VBATT": 3, "BAT": 3, "CMOSBATTERY": 3, "BATTERY": 3, "3VSB": 3.3, "3VCC": 3.3, "AVCC": 3.3, "VCC3": 3.3, "5VSB": 5, "5VCC": 5, "VCC5": 5}
	voltMaxGuess = 60.0
)

// GuessNominalVoltage guesses a rail's nominal voltage from its hwmon label,
// else from the midpoint of its min/max limits (both set, 0 < min < max).
// Label rules: well-known names (Vbat 3.0, 3VSB/3VCC/AVCC 3.3, 5VSB 5.0); the
// "3V3"/"1V8" notation; a number followed by V ("+12V", "+3.3V", "P5V"), where
// a bare 3 V means the 3.3 V rail; "V12". Labels like "VCORE" or "in0" carry no
// voltage and fall back to the limits.
func GuessNominalVoltage(label string, min, max *float64) (nominal float64, source string, ok bool) {
	l := strings.ToUpper(label)
	l = strings.NewReplacer(" ", "", "+", "", "_", "", "-", "").Replace(l)
	if v, found := voltByName[l]; found {
		return v, "label", true
	}
	if m := reVoltSplit().FindStringSubmatch(l); m != nil {
		if v, err := strconv.ParseFloat(m[1]+"."+m[2], 64); err == nil && v > 0 && v <= voltMaxGuess {
			return v, "label", true
		}
	}
	if m := reVoltSuffix().FindStringSubmatch(l); m != nil {
		if v, err := strconv.ParseFloat(m[1], 64); err == nil && v > 0 && v <= voltMaxGuess {
			if v == 3 {
				v = 3.3
			}
			return v, "label", true
		}
	}
	if m := reVoltPrefix().FindStringSubmatch(l); m != nil {
		if v, err := strconv.ParseFloat(m[1], 64); err == nil && v > 0 && v <= voltMaxGuess {
			return v, "label", true
		}
	}
	if min != nil && max != nil && *min > 0 && *max > *min && !math.IsInf(*max, 0) {
		return math.Round((*min+*max)/2*1000) / 1000, "limits", true
	}
	return 0, "", false
}

// EDACCount is the corrected/uncorrected error count of one memory (DIMM,
// rank or csrow), or of a controller's unattributed ("noinfo") errors, or of
// a controller without per-memory entries ("total").
type EDACCount struct {
	// Key is stable across readings: "mc0/dimm3", "mc0/noinfo", "mc1/total".
	Key        string `json:"key"`
	Controller string `json:"controller"`
	Memory     string `json:"memory"` // dimm3 | rank2 | csrow0 | noinfo | total
	Label      string `json:"label,omitempty"`
	CE         uint64 `json:"ce"`
	UE         uint64 `json:"ue"`
}

// EDACCounts flattens the EDAC controllers into per-memory counters.
func (s *Sensors) EDACCounts() []EDACCount {
	if s == nil {
		return nil
	}
	var out []EDACCount
	for _, c := range s.EDAC {
		for _, m := range c.DIMMs {
			label := m.Label
			if label == "" {
				label = m.Location
			}
			out = append(out, EDACCount{Key: c.Name + "/" + m.Name, Controller: c.Name, Memory: m.Name, Label: label, CE: m.CE, UE: m.UE})
		}
		if len(c.DIMMs) == 0 {
			out = append(out, EDACCount{Key: c.Name + "/total", Controller: c.Name, Memory: "total", Label: c.Type, CE: c.CE, UE: c.UE})
			continue
		}
		if c.CENoInfo != nil || c.UENoInfo != nil {
			n := EDACCount{Key: c.Name + "/noinfo", Controller: c.Name, Memory: "noinfo", Label: "errors not attributed to a DIMM"}
			if c.CENoInfo != nil {
				n.CE = *c.CENoInfo
			}
			if c.UENoInfo != nil {
				n.UE = *c.UENoInfo
			}
			out = append(out, n)
		}
	}
	return out
}

// EDACTotals sums the controller-level counters (which include the
// unattributed errors).
func (s *Sensors) EDACTotals() (ce, ue uint64) {
	if s == nil {
		return 0, 0
	}
	for _, c := range s.EDAC {
		ce += c.CE
		ue += c.UE
	}
	return ce, ue
}

// EDACChange is how one EDAC counter moved between two readings.
type EDACChange struct {
	Key      string `json:"key"`
	Label    string `json:"label,omitempty"`
	CEBefore uint64 `json:"ce_before"`
	CEAfter  uint64 `json:"ce_after"`
	UEBefore uint64 `json:"ue_before"`
	UEAfter  uint64 `json:"ue_after"`
	// Appeared/Vanished: the counter exists in only one reading (driver
	// loaded or unloaded, DIMM disabled). Such a change cannot be trusted as
	// "no new errors".
	Appeared bool `json:"appeared,omitempty"`
	Vanished bool `json:"vanished,omitempty"`
}

// NewCE returns the corrected errors added between the readings (0 on reset).
func (c EDACChange) NewCE() uint64 {
	if c.CEAfter > c.CEBefore {
		return c.CEAfter - c.CEBefore
	}
	return 0
}

// NewUE returns the uncorrected errors added between the readings (0 on reset).
func (c EDACChange) NewUE() uint64 {
	if c.UEAfter > c.UEBefore {
		return c.UEAfter - c.UEBefore
	}
	return 0
}

// Reset reports a counter present in both readings that went down (reset,
// or driver reloaded).
func (c EDACChange) Reset() bool {
	return !c.Appeared && !c.Vanished && (c.CEAfter < c.CEBefore || c.UEAfter < c.UEBefore)
}

// EDACDelta compares two readings and returns every counter that changed,
// appeared or vanished, sorted by key. Equal counters are left out, so an
// empty result means "no new memory errors" only when both readings had EDAC.
func EDACDelta(before, after *Sensors) []EDACChange {
	b := map[string]EDACCount{}
	for _, c := range before.EDACCounts() {
		b[c.Key] = c
	}
	var out []EDACChange
	seen := map[string]bool{}
	for _, a := range after.EDACCounts() {
		seen[a.Key] = true
		p, ok := b[a.Key]
		switch {
		case !ok:
			out = append(out, EDACChange{Key: a.Key, Label: a.Label, CEAfter: a.CE, UEAfter: a.UE, Appeared: true})
		case p.CE != a.CE || p.UE != a.UE:
			out = append(out, EDACChange{Key: a.Key, Label: a.Label, CEBefore: p.CE, CEAfter: a.CE, UEBefore: p.UE, UEAfter: a.UE})
		}
	}
	for k, p := range b {
		if !seen[k] {
			out = append(out, EDACChange{Key: k, Label: p.Label, CEBefore: p.CE, UEBefore: p.UE, Vanished: true})
		}
	}
	sort.Slice(out, func(i, j int) bool { return naturalLess(out[i].Key, out[j].Key) })
	return out
}
