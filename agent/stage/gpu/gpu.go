// Package gpu is the GPU stage: skipped with the reason when the host has no
// GPU; otherwise `nvidia-smi -q -x` before, during and after a burn
// (gpu_burn when installed, else a stress-ng --gpu burst) sampled by
// `nvidia-smi dmon`, and a verdict on new ECC errors, pending row remaps or
// page retirements, temperature, the PCIe link, the workload's own verdict
// and the GPU count the spec expects. See docs/stages.md#gpu.
package gpu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
const Name = "GPU"

// ParamDuration is the burn duration parameter.
const ParamDuration = "duration"

// Artifact names.
const (
	ArtifactBefore = "nvidia-smi-before.xml"
	ArtifactDuring = "nvidia-smi-during.xml"
	ArtifactAfter  = "nvidia-smi-after.xml"
	ArtifactDmon   = "nvidia-smi-dmon.txt"
	ArtifactBurn   = "gpu_burn.log"
	ArtifactStress = "stress-ng-gpu.log"
)

func init() { stage.Register(&Stage{}) }

// Stage is the GPU stage.
type Stage struct{}

// Name implements stage.Stage.
func (*Stage) Name() string { return Name }

// Destructive implements stage.Stage.
func (*Stage) Destructive() bool { return false }

// DefaultTimeout implements stage.Stage.
func (*Stage) DefaultTimeout() time.Duration { return 20 * time.Minute }

// Params implements stage.Parameterised.
func (*Stage) Params() []stage.Param {
	return []stage.Param{{Name: ParamDuration, Kind: stage.KindDuration, Default: "120s",
		ByProfile: map[string]string{"quick": "30s", "safe": "20s"}, Help: "how long the GPU burn runs"}}
}

// Workload is what the burn reported.
type Workload struct {
	Tool     string   `json:"tool"` // gpu_burn | stress-ng | none
	Exit     int      `json:"exit"`
	Signal   string   `json:"signal,omitempty"`
	Burn     *Burn    `json:"burn,omitempty"`
	BurnErr  string   `json:"burn_error,omitempty"`
	Failures []string `json:"failures,omitempty"` // stress-ng fail: lines
	Idle     []string `json:"idle,omitempty"`     // stress-ng stressors with 0 bogo-ops
	// NotRun says why no load ran although the tool exited (stress-ng skips
	// its gpu stressor, exit 0, when there is no DRM render node).
	NotRun string `json:"not_run,omitempty"`
}

// Run implements stage.Stage.
func (s *Stage) Run(ctx context.Context, env *stage.Env) (stage.Result, error) {
	th, err := spec.Thresholds(env)
	if err != nil {
		return stage.Result{}, stage.Errorf(Name, "%v", err)
	}
	expected := -1
	if sp, err := spec.FromEnv(env); err == nil && sp.GPUs != nil {
		expected = sp.GPUs.Count
	}
	invNvidia := inventoryNvidia(env)
	res := stage.Result{}
	if _, err := env.Tools.LookPath("nvidia-smi"); err != nil {
		switch {
		case expected > 0:
			return missing(expected, "nvidia-smi is not installed and no GPU can be tested"), nil
		case invNvidia > 0:
			return res, stage.Errorf(Name, "the inventory lists %d NVIDIA GPUs but nvidia-smi is not installed: cannot test them", invNvidia)
		}
		return stage.Result{Status: stage.Skip, Reason: "no_gpu", Message: "no GPU: the inventory lists no NVIDIA GPU and nvidia-smi is not installed"}, nil
	}
	before, why, art, err := query(ctx, env, ArtifactBefore)
	if err != nil {
		return res, stage.Errorf(Name, "%v", err)
	}
	addArt(&res, art)
	if before == nil || len(before.GPUs) == 0 {
		switch {
		case expected > 0:
			r := missing(expected, "nvidia-smi sees none ("+why+")")
			r.Artifacts = res.Artifacts
			return r, nil
		case invNvidia > 0:
			return stage.Result{Status: stage.Fail, Reason: "gpu_not_visible", Artifacts: res.Artifacts,
				Findings: []stage.Finding{{Code: "GPUNotVisible", Severity: stage.Critical, Message: fmt.Sprintf("the PCI inventory lists %d NVIDIA GPUs but nvidia-smi sees none (%s)", invNvidia, why)}},
				Message:  fmt.Sprintf("%d NVIDIA GPUs on the PCI bus, none usable: %s", invNvidia, why)}, nil
		}
		return stage.Result{Status: stage.Skip, Reason: "no_gpu", Artifacts: res.Artifacts, Message: "no GPU: nvidia-smi found no device (" + why + ")"}, nil
	}

	duration := env.Params.Duration(ParamDuration)
	if duration <= 0 {
		duration = 120 * time.Second
	}
	secs := max(1, int(duration.Round(time.Second)/time.Second))
	var (
		wg     sync.WaitGroup
		dmon   tool.Output
		during *Snapshot
	)
	bctx, stopAux := context.WithCancel(ctx)
	wg.Add(2)
	go func() {
		defer wg.Done()
		dmon, _ = env.Tools.Run(bctx, tool.Cmd{Tool: "nvidia-smi", Args: []string{"dmon", "-s", "pu", "-d", "1", "-c", strconv.Itoa(secs + 5)}, Timeout: duration + time.Minute})
	}()
	go func() {
		defer wg.Done()
		select {
		case <-bctx.Done():
			return
		case <-time.After(duration / 2):
		}
		snap, _, a, err := query(bctx, env, ArtifactDuring)
		if err == nil {
			during = snap
			if a != nil {
				addArtLocked(&res, a)
			}
		}
	}()
	env.Progress("gpu", 0, duration.Seconds(), "s", fmt.Sprintf("burning %d GPUs", len(before.GPUs)))
	wl, arts, err := burn(ctx, env, secs, len(before.GPUs), duration)
	stopAux()
	wg.Wait()
	for _, a := range arts {
		addArt(&res, a)
	}
	if err != nil {
		return res, stage.Errorf(Name, "%v", err)
	}
	env.Progress("gpu", duration.Seconds(), duration.Seconds(), "s", "burn finished")
	if len(dmon.Stdout) > 0 {
		if a, err := env.WriteArtifact(ArtifactDmon, dmon.Stdout, "text/plain"); err == nil {
			addArt(&res, &a)
		}
	}
	samples, _ := ParseDmon(bytes.NewReader(dmon.Stdout))
	after, why, art, err := query(context.WithoutCancel(ctx), env, ArtifactAfter)
	if err != nil {
		return res, stage.Errorf(Name, "%v", err)
	}
	addArt(&res, art)
	if after == nil {
		after = &Snapshot{}
		env.Logger().Warn("nvidia-smi after the burn found no GPU", "stage", Name, "why", why)
	}
	out := Judge(Input{Before: before, During: during, After: after, Dmon: samples, Workload: wl,
		Expected: expected, MaxTempC: th.Float("gpu_max_temp_c"), Duration: duration}, env.Clock())
	out.Artifacts = res.Artifacts
	if err := env.Measure(out.Measurements...); err != nil {
		env.Logger().Warn("record measurements", "stage", Name, "err", err)
	}
	return out, nil
}

var artMu sync.Mutex

func addArt(r *stage.Result, a *stage.Artifact) {
	if a != nil {
		addArtLocked(r, a)
	}
}

func addArtLocked(r *stage.Result, a *stage.Artifact) {
	artMu.Lock()
	r.Artifacts = append(r.Artifacts, *a)
	artMu.Unlock()
}

func missing(expected int, why string) stage.Result {
	msg := fmt.Sprintf("the expected spec lists %d GPUs but %s", expected, why)
	return stage.Result{Status: stage.Fail, Reason: "gpu_missing", Message: msg,
		Findings: []stage.Finding{{Code: "GPUMissing", Severity: stage.Critical, Message: msg}}}
}

// query runs `nvidia-smi -q -x` and keeps its output as an artifact. A nil
// snapshot with a reason means nvidia-smi reports no device or no driver.
func query(ctx context.Context, env *stage.Env, artifact string) (*Snapshot, string, *stage.Artifact, error) {
	out, err := env.Tools.Run(ctx, tool.Cmd{Tool: "nvidia-smi", Args: []string{"-q", "-x"}, Timeout: 2 * time.Minute, MaxCapture: 32 << 20})
	if err != nil {
		return nil, "", nil, fmt.Errorf("nvidia-smi -q -x: %w", err)
	}
	var art *stage.Artifact
	if len(out.Stdout) > 0 {
		if a, err := env.WriteArtifact(artifact, out.Stdout, "application/xml"); err == nil {
			art = &a
		}
	}
	text := strings.TrimSpace(string(out.Stdout) + " " + string(out.Stderr))
	if out.ExitCode != 0 {
		// 6: no device found; 9: driver not loaded (nvidia-smi(1) RETURN VALUE).
		if out.ExitCode == 6 || out.ExitCode == 9 || strings.Contains(text, "No devices were found") || strings.Contains(text, "couldn't communicate with the NVIDIA driver") {
			return nil, fmt.Sprintf("nvidia-smi exit %d: %s", out.ExitCode, firstLine(text)), art, nil
		}
		return nil, "", art, fmt.Errorf("nvidia-smi -q -x exited %d: %s", out.ExitCode, firstLine(text))
	}
	snap, err := ParseXML(bytes.NewReader(out.Stdout))
	if err != nil {
		return nil, "", art, err
	}
	return snap, "no GPU in nvidia-smi's report", art, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// burn runs gpu_burn, else stress-ng --gpu, else nothing.
func burn(ctx context.Context, env *stage.Env, secs, gpus int, duration time.Duration) (Workload, []*stage.Artifact, error) {
	var arts []*stage.Artifact
	keep := func(name string, b []byte) {
		if len(b) == 0 {
			return
		}
		if a, err := env.WriteArtifact(name, b, "text/plain"); err == nil {
			arts = append(arts, &a)
		}
	}
	if p, err := env.Tools.LookPath("gpu_burn"); err == nil {
		// gpu_burn loads compare.ptx from its working directory.
		out, err := env.Tools.Run(ctx, tool.Cmd{Tool: "gpu_burn", Args: []string{strconv.Itoa(secs)}, Dir: filepath.Dir(p), Timeout: duration + 2*time.Minute, MaxCapture: 64 << 20})
		keep(ArtifactBurn, append(out.Stdout, out.Stderr...))
		if err := runErr(ctx, err); err != nil {
			return Workload{}, arts, err
		}
		w := Workload{Tool: "gpu_burn", Exit: out.ExitCode, Signal: out.Signal}
		if err != nil && w.Signal == "" {
			w.Signal = "timeout"
		}
		b, perr := ParseGPUBurn(bytes.NewReader(out.Stdout))
		w.Burn = b
		if perr != nil {
			w.BurnErr = perr.Error()
		}
		return w, arts, nil
	}
	if _, err := env.Tools.LookPath("stress-ng"); err == nil {
		yamlPath := filepath.Join(env.WorkDir, "stress-ng-gpu.yaml")
		_ = os.MkdirAll(env.WorkDir, 0o755)
		out, err := env.Tools.Run(ctx, tool.Cmd{Tool: "stress-ng", Args: []string{"--gpu", strconv.Itoa(gpus), "-t", strconv.Itoa(secs) + "s", "--metrics", "--yaml", yamlPath}, Timeout: duration + 2*time.Minute})
		keep(ArtifactStress, append(out.Stdout, out.Stderr...))
		if err := runErr(ctx, err); err != nil {
			return Workload{}, arts, err
		}
		w := Workload{Tool: "stress-ng", Exit: out.ExitCode, Signal: out.Signal}
		if err != nil && w.Signal == "" {
			w.Signal = "timeout"
		}
		if l, err := cpustress.ParseLog(bytes.NewReader(append(out.Stdout, out.Stderr...))); err == nil {
			w.Failures = l.Failures
			for _, e := range l.Errors {
				if strings.Contains(e, "No stress workers invoked") {
					w.NotRun = "stress-ng: " + e
				}
			}
		}
		f, err := os.Open(yamlPath)
		if err != nil && w.NotRun == "" && out.Signal == "" && out.ExitCode == 0 {
			w.NotRun = "stress-ng wrote no metrics report"
		}
		if err == nil {
			if r, err := cpustress.ParseYAML(f); err == nil {
				for _, m := range r.Metrics {
					if m.BogoOps <= 0 {
						w.Idle = append(w.Idle, m.Stressor)
					}
				}
			}
			f.Close()
		}
		return w, arts, nil
	}
	return Workload{Tool: "none"}, arts, nil
}

func runErr(ctx context.Context, err error) error {
	if err == nil || (errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil) {
		return nil // the tool's own timeout: judged as a killed workload
	}
	return err
}

func inventoryNvidia(env *stage.Env) int {
	var inv collector.Inventory
	if ok, err := env.Fact("inventory", &inv); err != nil || !ok {
		return 0
	}
	n := 0
	for _, g := range inv.GPUs {
		if strings.Contains(strings.ToUpper(g.Vendor), "NVIDIA") || g.Source == "nvidia-smi" {
			n++
		}
	}
	return n
}
