// Package psu is the PSU stage: a synthetic load burst (every CPU, read-only
// disk reads, loopback socket traffic) while hwmon voltages and power are
// sampled every second, plus the BMC's power-supply and voltage sensors
// through in-band IPMI when the host has one. It fails when a rail dips more
// than psu_dip_percent below its nominal value or a supply is failed or
// absent; without any telemetry it is skipped, never passed.
// See docs/stages.md#psu.
package psu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shakedown/shakedown/agent/spec"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/agent/stage/cpustress"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/tool"
)

// Name is the stage name.
const Name = "PSU"

// Parameter names.
const (
	ParamDuration   = "duration"
	ParamDiskReads  = "disk_reads"
	ParamSocketLoad = "socket_workers"
)

func init() { stage.Register(&Stage{}) }

// Stage is the PSU stage.
type Stage struct {
	// SampleInterval is the sensor sampling period (default 1 s).
	SampleInterval time.Duration
	// Baseline is the idle sampling before the burst (default 3 samples).
	Baseline int
	NumCPU   func() int
}

// Name implements stage.Stage.
func (*Stage) Name() string { return Name }

// Destructive implements stage.Stage: the disk load is fio --readonly.
func (*Stage) Destructive() bool { return false }

// DefaultTimeout implements stage.Stage.
func (*Stage) DefaultTimeout() time.Duration { return 15 * time.Minute }

// Params implements stage.Parameterised.
func (*Stage) Params() []stage.Param {
	return []stage.Param{
		{Name: ParamDuration, Kind: stage.KindDuration, Default: "60s", ByProfile: map[string]string{"quick": "20s", "safe": "15s"},
			Help: "length of the load burst"},
		{Name: ParamDiskReads, Kind: stage.KindBool, Default: "true",
			Help: "read every expected disk with fio --readonly during the burst"},
		{Name: ParamSocketLoad, Kind: stage.KindInt, Default: "2",
			Help: "stress-ng --sock workers (TCP over loopback only)"},
	}
}

// ipmiDevices are the in-band IPMI device nodes (ipmi_devintf, older names).
var ipmiDevices = [][]string{{"ipmi0"}, {"ipmi", "0"}, {"ipmidev", "0"}}

// Run implements stage.Stage.
func (s *Stage) Run(ctx context.Context, env *stage.Env) (stage.Result, error) {
	th, err := spec.Thresholds(env)
	if err != nil {
		return stage.Result{}, stage.Errorf(Name, "%v", err)
	}
	log := env.Logger().With("stage", Name)
	interval := s.SampleInterval
	if interval <= 0 {
		interval = time.Second
	}
	baseline := s.Baseline
	if baseline <= 0 {
		baseline = 3
	}
	duration := env.Params.Duration(ParamDuration)
	if duration <= 0 {
		duration = 60 * time.Second
	}
	res := stage.Result{}
	var artMu sync.Mutex // keep runs in the load goroutines too
	keep := func(name string, b []byte) {
		if len(b) == 0 {
			return
		}
		if a, err := env.WriteArtifact(name, b, "text/plain"); err == nil {
			artMu.Lock()
			res.Artifacts = append(res.Artifacts, a)
			artMu.Unlock()
		}
	}

	// IPMI before the burst.
	hasIPMI := false
	for _, p := range ipmiDevices {
		if _, err := os.Stat(env.Collector.Dev(p...)); err == nil {
			hasIPMI = true
			break
		}
	}
	var ipmi IPMIReading
	if hasIPMI {
		if _, err := env.Tools.LookPath("ipmitool"); err != nil {
			log.Warn("the host has an IPMI device but ipmitool is not installed", "err", err)
			hasIPMI = false
		}
	}
	if hasIPMI {
		ipmi.PSU, ipmi.PSUErr = sdr(ctx, env, "Power Supply", "ipmi-psu-before.txt", keep)
		ipmi.VoltIdle, ipmi.VoltErr = sdr(ctx, env, "Voltage", "ipmi-voltage-before.txt", keep)
	}

	sampler := collector.NewSensorSampler(env.Collector)
	var cur collector.Sensors
	rec := newRecorder()
	sample := func(phase string) {
		_ = sampler.SampleInto(ctx, &cur)
		rec.add(phase, env.Clock(), &cur)
	}
	for i := 0; i < baseline; i++ {
		sample("idle")
		if i+1 < baseline {
			if !sleep(ctx, interval) {
				return res, stage.Errorf(Name, "%v", ctx.Err())
			}
		}
	}
	if !rec.any() && !hasIPMI {
		return stage.Result{Status: stage.Skip, Reason: "no_telemetry",
			Message: "no PSU telemetry exposed (no hwmon voltage or power sensor, no in-band IPMI device): the supply could not be judged"}, nil
	}

	// The burst: stress-ng (CPU + loopback sockets) and fio reads, sampled.
	lctx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var loadErrs []string
	loadCmds := s.loadCommands(env, duration)
	for _, c := range loadCmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := env.Tools.Run(lctx, c.cmd)
			keep(c.artifact, append(out.Stdout, out.Stderr...))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil && errors.Is(err, tool.ErrNotFound):
				loadErrs = append(loadErrs, c.cmd.Tool+" not installed")
			case err != nil && lctx.Err() == nil:
				loadErrs = append(loadErrs, fmt.Sprintf("%s: %v", c.cmd.Tool, err))
			case err == nil && (out.ExitCode != 0 || out.Signal != ""):
				loadErrs = append(loadErrs, fmt.Sprintf("%s exited %d %s", c.cmd.Tool, out.ExitCode, out.Signal))
			}
		}()
	}
	loadDone := make(chan struct{})
	go func() { wg.Wait(); close(loadDone) }()
	start := env.Clock()
	t := time.NewTicker(interval)
	midIPMI := hasIPMI
	for running := true; running; {
		select {
		case <-ctx.Done():
			stopLoad()
			<-loadDone
			return res, stage.Errorf(Name, "%v", ctx.Err())
		case <-loadDone:
			running = false
		case <-t.C:
			sample("load")
			el := env.Clock().Sub(start)
			env.Progress("psu", min(el, duration).Round(time.Second).Seconds(), duration.Seconds(), "s", "load burst")
			if midIPMI && el >= duration/2 {
				midIPMI = false
				ipmi.VoltLoad, _ = sdr(ctx, env, "Voltage", "ipmi-voltage-load.txt", keep)
			}
		}
	}
	t.Stop()
	stopLoad()
	sample("load")
	yamlPath := filepath.Join(env.WorkDir, "psu-stress-ng.yaml")
	if a, err := env.FileArtifact("psu-stress-ng.yaml", yamlPath, "application/yaml"); err == nil {
		res.Artifacts = append(res.Artifacts, a)
	}
	if len(loadErrs) == 0 {
		if e := checkStressReport(yamlPath); e != "" {
			loadErrs = append(loadErrs, e)
		}
	}
	if hasIPMI {
		ipmi.PSUAfter, _ = sdr(ctx, env, "Power Supply", "ipmi-psu-after.txt", keep)
	}

	out := Judge(Input{Recorder: rec, IPMI: ipmi, HasIPMI: hasIPMI, DipPercent: th.Float("psu_dip_percent"), LoadErrors: loadErrs,
		Load: describe(loadCmds), Duration: duration}, env.Clock())
	out.Artifacts = res.Artifacts
	ms := append(rec.rows(), out.Measurements...)
	if err := env.Measure(ms...); err != nil {
		log.Warn("record measurements", "err", err)
	}
	out.Measurements = ms
	return out, nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

type loadCmd struct {
	cmd      tool.Cmd
	artifact string
}

func (s *Stage) loadCommands(env *stage.Env, d time.Duration) []loadCmd {
	n := runtime.NumCPU()
	if s.NumCPU != nil {
		n = s.NumCPU()
	}
	secs := strconv.Itoa(max(1, int(d.Round(time.Second)/time.Second)))
	yamlPath := filepath.Join(env.WorkDir, "psu-stress-ng.yaml")
	args := []string{"--cpu", strconv.Itoa(n), "-t", secs + "s", "--metrics", "--yaml", yamlPath}
	if k := env.Params.Int(ParamSocketLoad); k > 0 {
		// stress-ng's sock stressor connects to localhost only.
		args = append(args, "--sock", strconv.Itoa(k))
	}
	cmds := []loadCmd{{cmd: tool.Cmd{Tool: "stress-ng", Args: args, Timeout: d + time.Minute}, artifact: "psu-stress-ng.log"}}
	if !env.Params.Bool(ParamDiskReads) {
		return cmds
	}
	for _, dev := range readDisks(env) {
		cmds = append(cmds, loadCmd{cmd: tool.Cmd{Tool: "fio", Timeout: d + time.Minute, Args: []string{
			"--name=psu-read", "--readonly", "--filename=" + env.Collector.Dev(dev), "--rw=read", "--bs=1M", "--direct=1",
			"--ioengine=psync", "--time_based", "--runtime=" + secs + "s", "--output-format=json"}},
			artifact: "psu-fio-" + dev + ".json"})
	}
	return cmds
}

// readDisks are the spec's disks found in the inventory (any role: fio is
// --readonly), or every inventory disk without a spec.
func readDisks(env *stage.Env) []string {
	var inv collector.Inventory
	if ok, err := env.Fact("inventory", &inv); err != nil || !ok {
		return nil
	}
	sp, err := spec.FromEnv(env)
	var out []string
	for _, d := range inv.Disks {
		if d.Name == "" || strings.ContainsAny(d.Name, "/\x00") {
			continue
		}
		if err == nil {
			match := false
			for _, w := range sp.Disks {
				if !w.Anonymous && spec.Matches(w.ID, d) {
					match = true
				}
			}
			if !match {
				continue
			}
		}
		out = append(out, d.Name)
	}
	sort.Strings(out)
	return out
}

func describe(cmds []loadCmd) []string {
	var out []string
	for _, c := range cmds {
		out = append(out, c.cmd.String())
	}
	return out
}

// sdr runs `ipmitool sdr type T` and keeps the output.
func sdr(ctx context.Context, env *stage.Env, typ, artifact string, keep func(string, []byte)) ([]SDRRow, error) {
	out, err := env.Tools.Run(ctx, tool.Cmd{Tool: "ipmitool", Args: []string{"sdr", "type", typ}, Timeout: time.Minute})
	keep(artifact, append(out.Stdout, out.Stderr...))
	if err != nil {
		return nil, fmt.Errorf("ipmitool sdr type %s: %w", typ, err)
	}
	if out.ExitCode != 0 {
		return nil, fmt.Errorf("ipmitool sdr type %s exited %d: %s", typ, out.ExitCode, strings.TrimSpace(string(out.Stderr)))
	}
	return ParseSDR(bytes.NewReader(out.Stdout))
}

// ---- sample recording ----

// Rail is one voltage or power channel's envelope.
type Rail struct {
	ID            string   `json:"id"`
	Kind          string   `json:"kind"` // voltage | power
	Unit          string   `json:"unit"`
	Nominal       *float64 `json:"nominal,omitempty"`
	NominalSource string   `json:"nominal_source,omitempty"`
	Min           float64  `json:"min"`
	Max           float64  `json:"max"`
	IdleMean      *float64 `json:"idle_mean,omitempty"`
	LoadMin       *float64 `json:"load_min,omitempty"`
	Samples       int      `json:"samples"`
	Alarm         bool     `json:"alarm,omitempty"`
	MinLimit      *float64 `json:"min_limit,omitempty"`

	idleSum float64
	idleN   int
}

type recorder struct {
	rails   map[string]*Rail
	samples []stage.Measurement
}

func newRecorder() *recorder { return &recorder{rails: map[string]*Rail{}} }

func (r *recorder) any() bool { return len(r.rails) > 0 }

func (r *recorder) add(phase string, now time.Time, s *collector.Sensors) {
	for _, v := range s.Voltages() {
		r.put(phase, now, v.ID, "voltage", "V", v.Value, v.Nominal, v.NominalSource, v.Alarm, v.Min)
	}
	for _, p := range s.Powers() {
		r.put(phase, now, p.ID(), "power", "W", p.Value, nil, "", p.Alarm, nil)
	}
}

func (r *recorder) put(phase string, now time.Time, id, kind, unit string, v float64, nominal *float64, src string, alarm *bool, minLimit *float64) {
	x, ok := r.rails[id]
	if !ok {
		x = &Rail{ID: id, Kind: kind, Unit: unit, Nominal: nominal, NominalSource: src, Min: v, Max: v, MinLimit: minLimit}
		r.rails[id] = x
	}
	x.Samples++
	x.Min, x.Max = min(x.Min, v), max(x.Max, v)
	if alarm != nil && *alarm {
		x.Alarm = true
	}
	switch phase {
	case "idle":
		x.idleSum += v
		x.idleN++
		m := x.idleSum / float64(x.idleN)
		x.IdleMean = &m
	case "load":
		if x.LoadMin == nil || v < *x.LoadMin {
			lm := v
			x.LoadMin = &lm
		}
	}
	name := "voltage"
	if kind == "power" {
		name = "power"
	}
	r.samples = append(r.samples, stage.Measurement{Kind: "psu", Subject: id, Name: name + "_" + phase, Value: v, Unit: unit, Time: now})
}

func (r *recorder) rows() []stage.Measurement { return r.samples }

func (r *recorder) sorted() []*Rail {
	out := make([]*Rail, 0, len(r.rails))
	for _, x := range r.rails {
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// checkStressReport confirms from stress-ng's --yaml report that every
// stressor did work; it returns a problem or "".
func checkStressReport(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "stress-ng wrote no --yaml report: the load cannot be confirmed"
	}
	defer f.Close()
	r, err := cpustress.ParseYAML(f)
	if err != nil {
		return err.Error()
	}
	var idle []string
	for _, m := range r.Metrics {
		if m.BogoOps <= 0 {
			idle = append(idle, m.Stressor)
		}
	}
	if len(idle) > 0 {
		return "stress-ng stressors did no work: " + strings.Join(idle, ", ")
	}
	return ""
}
