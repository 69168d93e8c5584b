package gpu

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shakedown/shakedown/agent/stage"
)

// Input is everything the GPU verdict is decided from.
type Input struct {
	Before, During, After *Snapshot
	Dmon                  []DmonSample
	Workload              Workload
	// Expected is the spec's GPU count (-1: not checked).
	Expected int
	MaxTempC float64
	Duration time.Duration
}

// Judge decides the stage result (without artifacts).
func Judge(in Input, now time.Time) stage.Result {
	var v stage.Verdict
	fail, warn := v.Fail, v.Warn
	info := v.Info

	n := len(in.Before.GPUs)
	if in.Expected >= 0 && n != in.Expected {
		fail("gpu_count", "GPUCountMismatch", "", fmt.Sprintf("nvidia-smi sees %d GPUs, the expected spec lists %d", n, in.Expected))
	}

	// Workload verdict.
	w := in.Workload
	switch w.Tool {
	case "gpu_burn":
		switch {
		case w.Signal != "":
			fail("workload_failed", "GPUWorkloadFailed", "gpu_burn", fmt.Sprintf("gpu_burn was killed (%s)", w.Signal))
		case w.Burn == nil || w.BurnErr != "":
			fail("workload_failed", "GPUBurnIncomplete", "gpu_burn", "gpu_burn gave no per-GPU verdict: "+w.BurnErr)
		default:
			for _, r := range w.Burn.Results {
				if !r.OK {
					fail("gpu_faulty", "GPUBurnFaulty", busOf(in.Before, r.GPU), fmt.Sprintf("gpu_burn: GPU %d (%s) FAULTY: wrong results under load (max %d errors)", r.GPU, busOf(in.Before, r.GPU), w.Burn.MaxErrors))
				}
			}
			if len(w.Burn.Results) < n {
				fail("workload_failed", "GPUBurnIncomplete", "gpu_burn", fmt.Sprintf("gpu_burn reported on %d of %d GPUs", len(w.Burn.Results), n))
			}
		}
		if w.Exit != 0 && w.Signal == "" {
			fail("workload_failed", "GPUWorkloadFailed", "gpu_burn", fmt.Sprintf("gpu_burn exited %d", w.Exit))
		}
	case "stress-ng":
		if w.NotRun != "" && w.Signal == "" && w.Exit == 0 {
			warn("NoGPUWorkload", "stress-ng", "no GPU load ran ("+w.NotRun+"); install gpu_burn in the image to load datacenter GPUs: only the health counters were checked")
		}
		for _, f := range w.Failures {
			fail("workload_failed", "GPUWorkloadFailed", "stress-ng", "stress-ng: "+f)
		}
		if w.Signal != "" {
			fail("workload_failed", "GPUWorkloadFailed", "stress-ng", fmt.Sprintf("stress-ng --gpu was killed (%s)", w.Signal))
		} else if w.Exit != 0 {
			fail("workload_failed", "GPUWorkloadFailed", "stress-ng", fmt.Sprintf("stress-ng --gpu exited %d (%s)", w.Exit, exitMeaning(w.Exit)))
		}
		for _, s := range w.Idle {
			fail("workload_failed", "GPUWorkloadFailed", "stress-ng", "stress-ng's "+s+" stressor did no work")
		}
	default:
		warn("NoGPUWorkload", "", "neither gpu_burn nor stress-ng is installed: only the health counters were checked, the GPUs were not loaded")
	}

	// Per-GPU health.
	after := map[string]State{}
	for _, g := range in.After.GPUs {
		after[g.BusID] = g
	}
	maxTemp := map[int]float64{}
	maxPower := map[int]float64{}
	for _, s := range in.Dmon {
		if s.TempC != nil && *s.TempC > maxTemp[s.GPU] {
			maxTemp[s.GPU] = *s.TempC
		}
		if s.PowerW != nil && *s.PowerW > maxPower[s.GPU] {
			maxPower[s.GPU] = *s.PowerW
		}
	}
	perGPU := map[string]any{}
	var meas []stage.Measurement
	for _, b := range in.Before.GPUs {
		id := b.BusID
		a, ok := after[id]
		if !ok {
			fail("gpu_lost", "GPULost", id, fmt.Sprintf("GPU %s (%s) disappeared during the burn (fell off the bus or the driver lost it)", id, b.Product))
			continue
		}
		label := fmt.Sprintf("GPU %s (%s)", id, b.Product)
		if d := delta(b.VolatileUncorrected, a.VolatileUncorrected); d > 0 {
			fail("ecc_errors", "GPUECCUncorrected", id, fmt.Sprintf("%s: %d new uncorrectable ECC errors during the burn", label, d))
		}
		if d := delta(b.VolatileCorrected, a.VolatileCorrected); d > 0 {
			fail("ecc_errors", "GPUECCCorrected", id, fmt.Sprintf("%s: %d new correctable ECC errors during the burn", label, d))
		}
		if is(a.RemapPending) {
			fail("remap_pending", "RowRemapPending", id, label+": a memory row remap is pending (the GPU needs a reset; the memory had uncorrectable errors)")
		}
		if is(a.RemapFailure) {
			fail("remap_pending", "RowRemapFailure", id, label+": row remapping failed (no spare rows left): replace the GPU")
		}
		if is(a.RetirementPending) {
			fail("remap_pending", "PageRetirementPending", id, label+": a memory page retirement is pending")
		}
		if a.AggregateUncorrected != nil && *a.AggregateUncorrected > 0 {
			warn("GPUECCHistory", id, fmt.Sprintf("%s: %d uncorrectable ECC errors in the lifetime counters", label, *a.AggregateUncorrected))
		}
		if a.RemapUncorrectable != nil && *a.RemapUncorrectable > 0 {
			warn("GPUECCHistory", id, fmt.Sprintf("%s: %d rows remapped for uncorrectable errors in its lifetime", label, *a.RemapUncorrectable))
		}
		if a.RetiredDBE != nil && *a.RetiredDBE > 0 {
			warn("GPUECCHistory", id, fmt.Sprintf("%s: %d pages retired for double-bit errors", label, *a.RetiredDBE))
		}
		if a.ECCEnabled != nil && !*a.ECCEnabled {
			info("GPUECCDisabled", id, label+": ECC is disabled: memory errors are not detected")
		}
		// Temperature: dmon during the burn and the snapshots.
		t := maxTemp[b.Index]
		for _, s := range []*Snapshot{in.Before, in.During, in.After} {
			if g, ok := find(s, id); ok && g.TempC != nil && *g.TempC > t {
				t = *g.TempC
			}
		}
		if t >= in.MaxTempC {
			fail("overheat", "GPUOverheat", id, fmt.Sprintf("%s reached %.0f °C (limit %.0f °C)", label, t, in.MaxTempC))
		}
		// PCIe link: the best link seen (the link trains down when idle).
		gen, width := 0, 0
		var maxGen, maxWidth *int
		for _, s := range []*Snapshot{in.Before, in.During, in.After} {
			if g, ok := find(s, id); ok {
				if g.LinkGen != nil && *g.LinkGen > gen {
					gen = *g.LinkGen
				}
				if g.LinkWidth != nil && *g.LinkWidth > width {
					width = *g.LinkWidth
				}
				if g.MaxLinkGen != nil {
					maxGen = g.MaxLinkGen
				}
				if g.MaxLinkWidth != nil {
					maxWidth = g.MaxLinkWidth
				}
			}
		}
		if maxWidth != nil && width > 0 && width < *maxWidth {
			warn("PCIeLinkDegraded", id, fmt.Sprintf("%s: PCIe link x%d, the GPU supports x%d (seating, riser or slot problem)", label, width, *maxWidth))
		}
		if maxGen != nil && gen > 0 && gen < *maxGen && in.During != nil {
			warn("PCIeLinkDegraded", id, fmt.Sprintf("%s: PCIe gen %d under load, the link supports gen %d", label, gen, *maxGen))
		}
		perGPU[id] = map[string]any{"product": b.Product, "max_temp_c": t, "max_power_w": maxPower[b.Index],
			"volatile_corrected": a.VolatileCorrected, "volatile_uncorrected": a.VolatileUncorrected,
			"remap_pending": a.RemapPending, "link_gen": gen, "link_width": width}
		meas = append(meas, stage.Measurement{Kind: "gpu", Subject: id, Name: "max_temp", Value: t, Unit: "°C", Time: now})
		if p, ok := maxPower[b.Index]; ok {
			meas = append(meas, stage.Measurement{Kind: "gpu", Subject: id, Name: "max_power", Value: p, Unit: "W", Time: now})
		}
	}

	res := stage.Result{Status: stage.Pass, Findings: v.Findings, Measurements: meas,
		Summary: map[string]any{"gpus": perGPU, "count": n, "expected": in.Expected, "workload": w,
			"driver": in.Before.Driver, "dmon_samples": len(in.Dmon), "duration_seconds": in.Duration.Seconds()}}
	base := fmt.Sprintf("%d GPUs, %s for %s", n, w.Tool, in.Duration)
	sort.Strings(v.Warns)
	switch {
	case len(v.Fails) > 0:
		res.Status, res.Reason = stage.Fail, v.Reason
		res.Message = strings.Join(v.Fails, "; ") + " [" + base + "]"
	case len(v.Warns) > 0:
		res.Status, res.Reason = stage.Warn, "warning"
		res.Message = base + ". Warnings: " + strings.Join(v.Warns, "; ")
	default:
		res.Message = base + ": no new ECC errors, no pending remap, temperatures under the limit"
	}
	return res
}

func delta(before, after *uint64) uint64 {
	if after == nil {
		return 0
	}
	b := uint64(0)
	if before != nil {
		b = *before
	}
	if *after > b {
		return *after - b
	}
	return 0
}

func is(b *bool) bool { return b != nil && *b }

func find(s *Snapshot, bus string) (State, bool) {
	if s == nil {
		return State{}, false
	}
	for _, g := range s.GPUs {
		if g.BusID == bus {
			return g, true
		}
	}
	return State{}, false
}

func busOf(s *Snapshot, idx int) string {
	for _, g := range s.GPUs {
		if g.Index == idx {
			return g.BusID
		}
	}
	return fmt.Sprintf("GPU %d", idx)
}

func exitMeaning(code int) string {
	switch code {
	case 3:
		return "no usable GPU device for stress-ng's OpenGL stressor"
	case 4:
		return "the gpu stressor is not built into this stress-ng"
	}
	return "see stress-ng(1)"
}
