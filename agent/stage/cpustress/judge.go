package cpustress

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shakedown/shakedown/agent/sidecar"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
)

// Outcome is everything the verdict is decided from.
type Outcome struct {
	Exit   int
	Signal string // set when stress-ng was killed
	Log    *Log
	Report *Report
	// ReportErr says why Report is nil.
	ReportErr error
	// OOMKills is the rise of /proc/vmstat oom_kill during the run (nil: unknown).
	OOMKills *uint64
	// EDAC readings before and after; EDACAvailable is false when the host
	// has no EDAC driver (or it could not be read).
	EDACAvailable         bool
	EDACBefore, EDACAfter []collector.EDACController
	// ECCExpected comes from the inventory (SMBIOS memory array).
	ECCExpected *bool
	Maxima      map[string]sidecar.Reading
	Samples     int
	Limits      sidecar.Limits

	CPUWorkers, VMWorkers int
	Duration              time.Duration
	Sizing                Sizing
	// Refused lists vm totals the memory probe found stress-ng could not map.
	Refused []uint64
}

// Reasons, most important first: the first one that applies is Result.Reason.
var reasonOrder = []string{"killed", "oom", "verification_failed", "memory_errors", "stressor_idle", "stress_failed", "overheat", "no_metrics"}

// Judge turns an outcome into the stage result (without artifacts).
func Judge(o Outcome, now time.Time) stage.Result {
	var (
		findings []stage.Finding
		fails    = map[string][]string{}
		warns    []string
	)
	fail := func(reason, code, subject, msg string) {
		fails[reason] = append(fails[reason], msg)
		findings = append(findings, stage.Finding{Code: code, Severity: stage.Critical, Subject: subject, Message: msg})
	}
	warn := func(code, subject, msg string) {
		warns = append(warns, msg)
		findings = append(findings, stage.Finding{Code: code, Severity: stage.Warning, Subject: subject, Message: msg})
	}
	info := func(code, subject, msg string) {
		findings = append(findings, stage.Finding{Code: code, Severity: stage.Info, Subject: subject, Message: msg})
	}
	if len(o.Refused) > 0 {
		var sizes []string
		for _, b := range o.Refused {
			sizes = append(sizes, humanBytes(b))
		}
		warn("MemoryReduced", "vm", fmt.Sprintf("stress-ng could not map %s (the kernel refused: MemAvailable overstates what this host backs); exercised %s instead", strings.Join(sizes, ", then "), humanBytes(o.Sizing.Total)))
	}
	lg := o.Log
	if lg == nil {
		lg = &Log{}
	}

	// stress-ng itself.
	if o.Signal != "" {
		fail("killed", "StressKilled", "stress-ng", fmt.Sprintf("stress-ng was killed (%s) before it finished", o.Signal))
	}
	if o.OOMKills != nil && *o.OOMKills > 0 {
		fail("oom", "OOMKill", "memory", fmt.Sprintf("the kernel OOM killer ran %d times during the stress; stress-ng restarts killed workers and still reports success, so the memory was not exercised as planned", *o.OOMKills))
	} else if lg.OOMRestarts > 0 {
		fail("oom", "OOMKill", "memory", fmt.Sprintf("stress-ng reports %d workers killed by the OOM killer", lg.OOMRestarts))
	}
	for _, f := range lg.Failures {
		subject, _, _ := strings.Cut(f, ":")
		fail("verification_failed", "StressVerifyFailed", strings.TrimSpace(subject), "stress-ng: "+f)
	}
	if o.Signal == "" && o.Exit != 0 && len(lg.Failures) == 0 {
		fail("stress_failed", "StressExit", "stress-ng", fmt.Sprintf("stress-ng exited %d (%s)", o.Exit, ExitMeaning(o.Exit)))
	}
	for _, w := range lg.Warnings {
		warn("StressWarning", "stress-ng", "stress-ng: "+w)
	}
	switch {
	case o.Report == nil && o.Signal == "":
		why := "missing"
		if o.ReportErr != nil {
			why = o.ReportErr.Error()
		}
		fail("no_metrics", "StressNoMetrics", "stress-ng", "stress-ng wrote no usable metrics report ("+why+"): the work done cannot be confirmed")
	case o.Report != nil:
		seen := map[string]bool{}
		for _, m := range o.Report.Metrics {
			seen[m.Stressor] = true
		}
		for _, want := range []string{"cpu", "vm"} {
			if !seen[want] {
				fail("no_metrics", "StressNoMetrics", want, "stress-ng's report has no metrics for the "+want+" stressor it was asked to run")
			}
		}
		for _, m := range o.Report.Metrics {
			if m.BogoOps > 0 {
				continue
			}
			// 0 bogo-ops: the workers were OOM-killed and restarted (caught
			// above when /proc/vmstat is readable), could not start (no CPU
			// time), or never finished one pass over their memory (a short
			// run with a large --vm-bytes on a busy machine).
			// Idle: under 2% of one CPU over the run (a worker whose
			// mmap keeps failing sleeps and retries: ~0.05 s in 20 s).
			idle := m.UserSeconds+m.SystemSeconds < max(0.01, 0.02*o.Duration.Seconds())
			if o.OOMKills == nil || idle {
				msg := fmt.Sprintf("the %s stressor completed 0 bogo-ops: its workers did no work (killed and restarted, or could not start)", m.Stressor)
				if m.Stressor == "vm" && idle {
					msg = fmt.Sprintf("the vm stressor did no work with %s of memory (%.2f s of CPU): stress-ng could not map it; lower --stage.cpustress.vm_percent (now %.0f%%) or set vm_bytes", humanBytes(o.Sizing.Total), m.UserSeconds+m.SystemSeconds, o.Sizing.Percent)
				}
				fail("stressor_idle", "StressorNoWork", m.Stressor, msg)
			} else if o.OOMKills != nil && *o.OOMKills == 0 {
				warn("StressorIncomplete", m.Stressor, fmt.Sprintf("the %s stressor used %.1f s of CPU but completed no full pass (0 bogo-ops): the duration is short for the memory size; its verification covered only part of a pass", m.Stressor, m.UserSeconds+m.SystemSeconds))
			}
		}
	}

	// Temperatures.
	hot, implausible := sidecar.Check(o.Maxima, o.Limits)
	for _, v := range hot {
		fail("overheat", "Overheat", v.Sensor, fmt.Sprintf("%s reached %.1f °C (limit %.0f °C) at %s", v.Sensor, v.C, v.LimitC, v.Time.UTC().Format(time.RFC3339)))
	}
	for _, r := range implausible {
		warn("ImplausibleTemperature", r.Sensor, fmt.Sprintf("%s reported %.1f °C: a broken sensor, not judged", r.Sensor, r.C))
	}
	if len(o.Maxima) == 0 {
		warn("NoThermalSensors", "", "no temperature sensor (hwmon or thermal zone) was readable: temperatures under load could not be checked")
	}

	// Memory controller errors.
	edac := edacSummary(o, fail, warn, info)

	res := stage.Result{Status: stage.Pass, Findings: findings}
	var failMsgs []string
	for _, r := range reasonOrder {
		if len(fails[r]) == 0 {
			continue
		}
		if res.Reason == "" {
			res.Reason = r
		}
		failMsgs = append(failMsgs, fails[r]...)
	}
	hottest, haveHot := sidecar.Hottest(o.Maxima)
	base := fmt.Sprintf("stress-ng %d cpu + %d vm workers (%s of memory, %s each) for %s",
		o.CPUWorkers, o.VMWorkers, humanBytes(o.Sizing.Total), humanBytes(o.Sizing.PerWorker), o.Duration)
	if haveHot {
		base += fmt.Sprintf("; hottest %s %.1f °C (limit %.0f °C)", hottest.Sensor, hottest.C, o.Limits.MaxC)
	}
	switch {
	case len(failMsgs) > 0:
		res.Status = stage.Fail
		res.Message = strings.Join(failMsgs, "; ") + " [" + base + "]"
	case len(warns) > 0:
		res.Status, res.Reason = stage.Warn, "warning"
		res.Message = base + ". Warnings: " + strings.Join(warns, "; ")
	default:
		res.Message = base + ", no verification failure, no new memory errors"
	}

	// Summary and measurements.
	sum := map[string]any{
		"cpu_workers": o.CPUWorkers, "vm_workers": o.VMWorkers, "duration_seconds": o.Duration.Seconds(),
		"vm_bytes_per_worker": o.Sizing.PerWorker, "vm_bytes_total": o.Sizing.Total, "memory_sizing": o.Sizing,
		"exit_code": o.Exit, "thermal_samples": o.Samples, "sensors": len(o.Maxima), "edac": edac,
	}
	if o.Signal != "" {
		sum["signal"] = o.Signal
	}
	if o.OOMKills != nil {
		sum["oom_kills"] = *o.OOMKills
	}
	if haveHot {
		sum["max_temp_c"], sum["max_temp_sensor"] = hottest.C, hottest.Sensor
	}
	if o.Report != nil {
		sum["stress_ng_version"] = o.Report.Version
		sum["metrics"] = o.Report.Metrics
		for _, m := range o.Report.Metrics {
			res.Measurements = append(res.Measurements,
				stage.Measurement{Kind: "stress", Subject: m.Stressor, Name: "bogo_ops", Value: m.BogoOps, Time: now},
				stage.Measurement{Kind: "stress", Subject: m.Stressor, Name: "bogo_ops_per_second", Value: m.BogoOpsPerSecReal, Unit: "1/s", Time: now})
		}
	}
	res.Measurements = append(res.Measurements, stage.Measurement{Kind: "stress", Subject: "vm", Name: "vm_bytes", Value: float64(o.Sizing.Total), Unit: "B", Time: now})
	ids := make([]string, 0, len(o.Maxima))
	for id := range o.Maxima {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r := o.Maxima[id]
		res.Measurements = append(res.Measurements, stage.Measurement{Kind: sidecar.Kind, Subject: id, Name: "max_temp", Value: r.C, Unit: sidecar.Unit, Time: r.Time})
	}
	res.Summary = sum
	return res
}

// edacSummary applies the EDAC rules and returns the summary entry.
func edacSummary(o Outcome, fail func(reason, code, subject, msg string), warn, info func(code, subject, msg string)) map[string]any {
	if !o.EDACAvailable {
		if o.ECCExpected != nil && *o.ECCExpected {
			warn("EDACUnavailable", "memory", "the memory is ECC (SMBIOS) but no EDAC driver exposes its error counters: corrected and uncorrected memory errors could not be checked")
		} else {
			info("EDACUnavailable", "memory", "no EDAC memory-controller counters on this host: only stress-ng's own verification checked the memory")
		}
		return map[string]any{"available": false}
	}
	before := &collector.Sensors{EDAC: o.EDACBefore}
	after := &collector.Sensors{EDAC: o.EDACAfter}
	var newCE, newUE uint64
	for _, c := range collector.EDACDelta(before, after) {
		where := c.Key
		if c.Label != "" {
			where += " (" + c.Label + ")"
		}
		switch {
		case c.Appeared || c.Vanished:
			state := "appeared"
			if c.Vanished {
				state = "vanished"
			}
			warn("EDACCounterChanged", c.Key, fmt.Sprintf("EDAC counter %s %s during the stress: its errors cannot be compared", where, state))
			continue
		case c.Reset():
			warn("EDACCounterChanged", c.Key, fmt.Sprintf("EDAC counter %s went down during the stress (reset or driver reload)", where))
			continue
		}
		if n := c.NewUE(); n > 0 {
			newUE += n
			fail("memory_errors", "MemoryUncorrectedErrors", subjectOf(c), fmt.Sprintf("%d new uncorrected memory errors on %s during the stress", n, where))
		}
		if n := c.NewCE(); n > 0 {
			newCE += n
			fail("memory_errors", "MemoryCorrectedErrors", subjectOf(c), fmt.Sprintf("%d new corrected memory errors on %s during the stress", n, where))
		}
	}
	ce, ue := after.EDACTotals()
	return map[string]any{"available": true, "controllers": len(o.EDACAfter), "new_ce": newCE, "new_ue": newUE, "ce_total": ce, "ue_total": ue}
}

// subjectOf names the DIMM when the kernel does, else the counter key.
func subjectOf(c collector.EDACChange) string {
	if c.Label != "" && !strings.HasSuffix(c.Key, "/noinfo") {
		return c.Label
	}
	return c.Key
}

func humanBytes(b uint64) string {
	const gib = 1 << 30
	if b >= gib {
		return fmt.Sprintf("%.1f GiB", float64(b)/gib)
	}
	return fmt.Sprintf("%d MiB", b/mib)
}
