// Package cpustress is the CPUStress stage: stress-ng with every logical CPU
// busy (--cpu N) and about half as many memory workers (--vm M) exercising
// most of the free memory with --verify, for the profile's duration, while
// the thermal sidecar and the stage's own sampler watch the temperatures and
// the EDAC memory-controller counters are compared before and after.
// See docs/stages.md#cpustress.
package cpustress

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shakedown/shakedown/agent/sidecar"
	"github.com/shakedown/shakedown/agent/spec"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/tool"
)

// Name is the stage name.
const Name = "CPUStress"

// Parameter names.
const (
	ParamDuration   = "duration"
	ParamCPUWorkers = "cpu_workers"
	ParamVMWorkers  = "vm_workers"
	ParamVMPercent  = "vm_percent"
	ParamVMBytes    = "vm_bytes"
)

// Artifact names.
const (
	ArtifactYAML = "stress-ng.yaml"
	ArtifactLog  = "stress-ng.log"
)

func init() { stage.Register(&Stage{}) }

// Stage is the CPUStress stage. The zero value is the production stage.
type Stage struct {
	// SampleInterval is the stage's own sensor sampling period (default 2 s).
	SampleInterval time.Duration
	// ProgressInterval is how often progress is published (default 5 s).
	ProgressInterval time.Duration
	// NumCPU counts logical CPUs when the inventory has none (default runtime.NumCPU).
	NumCPU func() int
}

// Name implements stage.Stage.
func (*Stage) Name() string { return Name }

// Destructive implements stage.Stage: nothing is written to disks.
func (*Stage) Destructive() bool { return false }

// DefaultTimeout implements stage.Stage. It bounds the whole stage; the run
// itself is the duration parameter plus a 2-minute grace for stress-ng to
// stop its workers and write the report.
func (*Stage) DefaultTimeout() time.Duration { return 30 * time.Minute }

// Params implements stage.Parameterised.
func (*Stage) Params() []stage.Param {
	return []stage.Param{
		{Name: ParamDuration, Kind: stage.KindDuration, Default: "120s",
			ByProfile: map[string]string{"quick": "30s", "safe": "20s"},
			Help:      "how long stress-ng runs (-t)"},
		{Name: ParamCPUWorkers, Kind: stage.KindInt, Default: "0",
			Help: "stress-ng --cpu workers (0 = one per logical CPU)"},
		{Name: ParamVMWorkers, Kind: stage.KindInt, Default: "0",
			Help: "stress-ng --vm workers (0 = half the logical CPUs, at least 1)"},
		{Name: ParamVMPercent, Kind: stage.KindFloat, Default: "90", ByProfile: map[string]string{"quick": "30", "safe": "30"},
			Help: "percent of MemAvailable, after the OOM reserve, the vm workers exercise together (full: 90, as the seed; quick/safe: 30 so one pass fits the short run)"},
		{Name: ParamVMProbe, Kind: stage.KindBool, Default: "true",
			Help: "before the run, check with 3 s probes that stress-ng can map the planned memory, halving it until it can (the reduction is a warning)"},
		{Name: ParamVMBytes, Kind: stage.KindSize, Default: "0B",
			Help: "total bytes for the vm workers instead of vm_percent (0B = computed from MemAvailable)"},
	}
}

// Run implements stage.Stage.
func (s *Stage) Run(ctx context.Context, env *stage.Env) (stage.Result, error) {
	th, err := spec.Thresholds(env)
	if err != nil {
		return stage.Result{}, stage.Errorf(Name, "%v", err)
	}
	inv := loadInventory(env)
	cpu, vm := s.workers(env, inv)
	duration := env.Params.Duration(ParamDuration)
	if duration <= 0 {
		duration = 120 * time.Second
	}
	sz, err := sizeMemory(env, vm)
	if err != nil {
		return stage.Result{}, stage.Errorf(Name, "%v", err)
	}
	// Keep every vm worker at or under MaxPerWorker: on stress-ng 0.15 a
	// single worker asked for much more (6 GiB and up on a 24 GiB host) exits
	// at once having done nothing. With vm_workers automatic, add workers.
	if env.Params.Int(ParamVMWorkers) <= 0 && sz.PerWorker > MaxPerWorker {
		vm = int((sz.Total + MaxPerWorker - 1) / MaxPerWorker)
		if sz, err = sizeMemory(env, vm); err != nil {
			return stage.Result{}, stage.Errorf(Name, "%v", err)
		}
	}
	log := env.Logger().With("stage", Name)
	var refused []uint64
	if env.Params.Bool(ParamVMProbe) && vm > 0 {
		if err := os.MkdirAll(env.WorkDir, 0o755); err != nil {
			return stage.Result{}, stage.Errorf(Name, "create work dir: %v", err)
		}
		var got uint64
		got, refused, err = probeMemory(ctx, env, vm, sz.Total)
		if err != nil {
			return stage.Result{}, stage.Errorf(Name, "%v", err)
		}
		if got != sz.Total {
			sz.PerWorker = got / uint64(vm) / pageSize * pageSize
			sz.Total = sz.PerWorker * uint64(vm)
		}
	}

	oomBefore, oomErr := readOOMKills(env.Collector)
	edacBefore, edacErr := collector.ReadEDAC(ctx, env.Collector)
	watch := sidecar.StartWatch()
	defer watch.Stop()
	sampler := collector.NewSensorSampler(env.Collector)
	var sensors collector.Sensors
	var rows []stage.Measurement
	sample := func() {
		_ = sampler.SampleInto(ctx, &sensors)
		rows = sidecar.Rows(&sensors, env.Clock(), rows)
		watch.Observe(rows)
	}
	sample()

	yamlPath := filepath.Join(env.WorkDir, ArtifactYAML)
	if err := os.MkdirAll(env.WorkDir, 0o755); err != nil {
		return stage.Result{}, stage.Errorf(Name, "create work dir: %v", err)
	}
	_ = os.Remove(yamlPath)
	secs := int(duration.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	// stress-ng 0.15 (Debian 12, the live image) divides --vm-bytes among the
	// vm instances, whatever its man page says: --vm 2 --vm-bytes 1000M gives
	// each worker ~500 MiB of RSS (measured). So pass the total.
	args := []string{
		"--cpu", strconv.Itoa(cpu), "--vm", strconv.Itoa(vm), "--vm-bytes", strconv.FormatUint(sz.Total, 10) + "b",
		"--verify", "--metrics", "--yaml", yamlPath, "-t", strconv.Itoa(secs) + "s",
	}
	log.Info("stress-ng starting", "tool", "stress-ng", "cpu_workers", cpu, "vm_workers", vm,
		"vm_bytes_per_worker", sz.PerWorker, "duration_seconds", secs)

	// Monitor: own sensor samples and progress while stress-ng runs.
	start := env.Clock()
	mctx, stopMonitor := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.monitor(mctx, env, start, duration, cpu, vm, sample)
	}()
	out, runErr := env.Tools.Run(ctx, tool.Cmd{Tool: "stress-ng", Args: args, Timeout: duration + 2*time.Minute, MaxCapture: 8 << 20})
	stopMonitor()
	wg.Wait()
	sample()

	res := stage.Result{}
	logText := append(append([]byte{}, out.Stdout...), out.Stderr...)
	if len(logText) > 0 {
		if a, err := env.WriteArtifact(ArtifactLog, logText, "text/plain"); err == nil {
			res.Artifacts = append(res.Artifacts, a)
		} else {
			log.Warn("write artifact", "err", err)
		}
	}
	if _, err := os.Stat(yamlPath); err == nil {
		if a, err := env.FileArtifact(ArtifactYAML, yamlPath, "application/yaml"); err == nil {
			res.Artifacts = append(res.Artifacts, a)
		}
	}
	if runErr != nil {
		switch {
		case errors.Is(runErr, tool.ErrNotFound):
			return res, stage.Errorf(Name, "stress-ng is not installed: %v", runErr)
		case ctx.Err() != nil:
			return res, stage.Errorf(Name, "%v", runErr)
		case errors.Is(runErr, context.DeadlineExceeded):
			out.Signal = "killed after not finishing within " + (duration + 2*time.Minute).String()
		default:
			return res, stage.Errorf(Name, "%v", runErr)
		}
	}

	o := Outcome{
		Exit: out.ExitCode, Signal: out.Signal, CPUWorkers: cpu, VMWorkers: vm, Duration: duration, Sizing: sz,
		Refused: refused,
		Limits:  sidecar.Limits{MaxC: th.Float("max_temp_c"), DiskMaxC: th.Float("disk_max_temp_c")},
	}
	o.Log, _ = ParseLog(bytes.NewReader(logText))
	if f, err := os.Open(yamlPath); err == nil {
		o.Report, o.ReportErr = ParseYAML(f)
		f.Close()
	} else {
		o.ReportErr = fmt.Errorf("no --yaml report: %w", err)
	}
	if oomErr == nil {
		if after, err := readOOMKills(env.Collector); err == nil {
			d := uint64(0)
			if after > oomBefore {
				d = after - oomBefore
			}
			o.OOMKills = &d
		}
	}
	o.EDACAvailable = edacErr == nil
	if o.EDACAvailable {
		after, err := collector.ReadEDAC(context.WithoutCancel(ctx), env.Collector)
		if err != nil {
			o.EDACAvailable = false
			log.Warn("read edac after stress", "err", err)
		}
		o.EDACBefore, o.EDACAfter = edacBefore, after
	} else if !errors.Is(edacErr, collector.ErrNoData) {
		log.Warn("read edac before stress", "err", edacErr)
	}
	if inv != nil && inv.Memory != nil {
		o.ECCExpected = inv.Memory.ECC
	}
	o.Maxima, o.Samples = watch.Max()
	judged := Judge(o, env.Clock())
	judged.Artifacts = res.Artifacts
	if err := env.Measure(judged.Measurements...); err != nil {
		log.Warn("record measurements", "err", err)
	}
	return judged, nil
}

func (s *Stage) monitor(ctx context.Context, env *stage.Env, start time.Time, total time.Duration, cpu, vm int, sample func()) {
	si, pi := s.SampleInterval, s.ProgressInterval
	if si <= 0 {
		si = 2 * time.Second
	}
	if pi <= 0 {
		pi = 5 * time.Second
	}
	st, pt := time.NewTicker(si), time.NewTicker(pi)
	defer st.Stop()
	defer pt.Stop()
	msg := fmt.Sprintf("stress-ng: %d cpu + %d vm workers", cpu, vm)
	env.Progress("stress-ng", 0, total.Seconds(), "s", msg)
	for {
		select {
		case <-ctx.Done():
			return
		case <-st.C:
			sample()
		case <-pt.C:
			el := env.Clock().Sub(start)
			if el > total {
				el = total
			}
			env.Progress("stress-ng", el.Round(time.Second).Seconds(), total.Seconds(), "s", msg)
		}
	}
}

func (s *Stage) workers(env *stage.Env, inv *collector.Inventory) (cpu, vm int) {
	logical := 0
	if inv != nil && inv.CPU != nil && inv.CPU.Threads > 0 {
		logical = inv.CPU.Threads
	}
	if logical == 0 {
		n := s.NumCPU
		if n == nil {
			n = runtime.NumCPU
		}
		logical = n()
	}
	cpu = env.Params.Int(ParamCPUWorkers)
	if cpu <= 0 {
		cpu = logical
	}
	vm = env.Params.Int(ParamVMWorkers)
	if vm <= 0 {
		vm = max(1, logical/2)
	}
	return cpu, vm
}

func sizeMemory(env *stage.Env, vm int) (Sizing, error) {
	f, err := os.Open(env.Collector.Proc("meminfo"))
	if err != nil {
		return Sizing{}, fmt.Errorf("read meminfo: %w", err)
	}
	m, err := ParseMemInfo(f)
	f.Close()
	if err != nil {
		return Sizing{}, err
	}
	var minFree uint64
	if b, err := os.ReadFile(env.Collector.Proc("sys", "vm", "min_free_kbytes")); err == nil {
		if k, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil {
			minFree = k * 1024
		}
	}
	if total := env.Params.Size(ParamVMBytes); total > 0 {
		s := Sizing{MemTotal: m.Total, MemAvailable: m.Available, MinFree: minFree, Workers: vm}
		s.PerWorker = total / uint64(vm) / pageSize * pageSize
		if s.PerWorker < minPerWorker {
			return s, fmt.Errorf("vm_bytes %d is under %d MiB per vm worker", total, minPerWorker/mib)
		}
		s.Total = s.PerWorker * uint64(vm)
		return s, nil
	}
	pct := env.Params.Float(ParamVMPercent)
	if pct == 0 {
		pct = 90
	}
	return Size(m, minFree, pct, vm)
}

// readOOMKills reads the kernel's oom_kill counter from /proc/vmstat (4.13+).
func readOOMKills(env collector.Env) (uint64, error) {
	b, err := os.ReadFile(env.Proc("vmstat"))
	if err != nil {
		return 0, fmt.Errorf("read vmstat: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("read vmstat: no oom_kill counter")
}

func loadInventory(env *stage.Env) *collector.Inventory {
	var inv collector.Inventory
	ok, err := env.Fact("inventory", &inv)
	if err != nil || !ok {
		return nil
	}
	return &inv
}
