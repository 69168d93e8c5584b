// Package smart is the SMART stage: for every expected disk (every role:
// SMART only reads) it reads the drive's health through collector's SMART
// reader (smart.go ioctls, smartctl fallback), applies the thresholds, and
// optionally runs a short drive self-test on the disks with role test, all in
// parallel. A disk whose SMART cannot be read is a finding, never a pass.
// See docs/stages.md#smart.
package smart

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shakedown/shakedown/agent/spec"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/nativesmart"
)

// Name is the stage name.
const Name = "SMART"

// Parameter names.
const (
	ParamSelfTest     = "self_test"
	ParamSelfTestPoll = "self_test_poll"
)

func init() { stage.Register(&Stage{}) }

// Stage is the SMART stage. The zero value is the production stage.
type Stage struct {
	// NewReader builds the SMART reader (nil = nativesmart.NewReader).
	NewReader func(collector.Env) collector.SmartReader
}

// Name implements stage.Stage.
func (*Stage) Name() string { return Name }

// Destructive implements stage.Stage: reads and drive self-tests only.
func (*Stage) Destructive() bool { return false }

// DefaultTimeout implements stage.Stage: a short self-test takes about two
// minutes; a drive busy retrying bad sectors is slower.
func (*Stage) DefaultTimeout() time.Duration { return 20 * time.Minute }

// Params implements stage.Parameterised.
func (*Stage) Params() []stage.Param {
	return []stage.Param{
		{Name: ParamSelfTest, Kind: stage.KindBool, Default: "true", ByProfile: map[string]string{"quick": "false", "safe": "false"},
			Help: "run a short drive self-test on every disk with role test (in parallel) before reading SMART"},
		{Name: ParamSelfTestPoll, Kind: stage.KindDuration, Default: "15s",
			Help: "how often a running self-test is polled for progress"},
	}
}

// readReserve is kept from the stage deadline for the SMART reads after the
// self-tests.
const readReserve = 3 * time.Minute

// Run implements stage.Stage.
func (s *Stage) Run(ctx context.Context, env *stage.Env) (stage.Result, error) {
	th, err := spec.Thresholds(env)
	if err != nil {
		return stage.Result{}, stage.Errorf(Name, "%v", err)
	}
	sp, specErr := spec.FromEnv(env)
	if specErr != nil {
		sp = nil
	}
	disks, err := inventoryDisks(ctx, env)
	if err != nil {
		return stage.Result{}, stage.Errorf(Name, "%v", err)
	}
	sel := Select(sp, disks)
	if len(sel.Targets) == 0 && len(sel.Missing) == 0 {
		return stage.Result{Status: stage.Skip, Reason: "no_disks", Message: "no disk found to read SMART from"}, nil
	}
	cenv := env.Collector
	if cenv.Tools == nil {
		cenv.Tools = env.Tools
	}
	if cenv.Log == nil {
		cenv.Log = env.Logger()
	}
	newReader := s.NewReader
	if newReader == nil {
		newReader = nativesmart.NewReader
	}
	reader := newReader(cenv)

	selfTests := map[string]*selfTestOutcome{}
	if env.Params.Bool(ParamSelfTest) {
		selfTests = s.runSelfTests(ctx, env, cenv, sel.Targets)
	}

	verdicts := make([]diskVerdict, len(sel.Targets))
	var wg sync.WaitGroup
	for i, t := range sel.Targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			verdicts[i] = checkDisk(ctx, env, cenv, reader, t, selfTests[t.Disk.Name], th)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return stage.Result{}, stage.Errorf(Name, "%v", ctx.Err())
	}
	res := compose(sel, verdicts, env.Params.Bool(ParamSelfTest))
	for _, v := range verdicts {
		res.Artifacts = append(res.Artifacts, v.artifacts...)
	}
	if err := env.Measure(res.Measurements...); err != nil {
		env.Logger().Warn("record measurements", "stage", Name, "err", err)
	}
	return res, nil
}

func inventoryDisks(ctx context.Context, env *stage.Env) ([]collector.Disk, error) {
	var inv collector.Inventory
	ok, err := env.Fact("inventory", &inv)
	if err != nil {
		return nil, fmt.Errorf("load inventory: %w", err)
	}
	if ok {
		return inv.Disks, nil
	}
	// Inventory did not run (skipped): probe the disks alone.
	var probes []collector.Probe
	for _, p := range collector.Probes() {
		if p.Name() == "disks" {
			probes = append(probes, p)
		}
	}
	cenv := env.Collector
	if cenv.Tools == nil {
		cenv.Tools = env.Tools
	}
	got, err := collector.CollectWith(ctx, cenv, probes)
	if err != nil {
		return nil, fmt.Errorf("probe disks: %w", err)
	}
	return got.Disks, nil
}

// selfTestOutcome is one disk's self-test.
type selfTestOutcome struct {
	Started bool                        `json:"started"`
	Error   string                      `json:"error,omitempty"`
	Log     *collector.SmartSelfTestLog `json:"log,omitempty"`
	// Incomplete: the stage deadline came before the test finished.
	Incomplete bool `json:"incomplete,omitempty"`
}

func (s *Stage) runSelfTests(ctx context.Context, env *stage.Env, cenv collector.Env, targets []Target) map[string]*selfTestOutcome {
	poll := env.Params.Duration(ParamSelfTestPoll)
	if poll <= 0 {
		poll = 15 * time.Second
	}
	tctx := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		tctx, cancel = context.WithDeadline(ctx, dl.Add(-readReserve))
		defer cancel()
	}
	out := map[string]*selfTestOutcome{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, t := range targets {
		if t.Role != spec.RoleTest {
			continue // keep and boot disks: reads only
		}
		o := &selfTestOutcome{}
		out[t.Disk.Name] = o
		wg.Add(1)
		go func() {
			defer wg.Done()
			log := env.Logger().With("stage", Name, "device", t.Disk.Name)
			if err := collector.StartSelfTest(tctx, cenv, t.Disk.Name, collector.SelfTestShort); err != nil {
				mu.Lock()
				o.Error = err.Error()
				mu.Unlock()
				log.Warn("self-test not started", "err", err)
				return
			}
			o.Started = true
			env.Progress(t.Identity, 0, 100, "%", "short self-test started on "+t.Disk.Name)
			l, err := collector.WaitSelfTest(tctx, cenv, t.Disk.Name, poll, func(l *collector.SmartSelfTestLog) {
				if l.InProgress && l.RemainingPercent != nil {
					env.Progress(t.Identity, float64(100-*l.RemainingPercent), 100, "%", "short self-test on "+t.Disk.Name)
				}
			})
			mu.Lock()
			defer mu.Unlock()
			o.Log = l
			if err != nil {
				if tctx.Err() != nil && ctx.Err() == nil {
					o.Incomplete = true
				} else {
					o.Error = err.Error()
				}
				return
			}
			env.Progress(t.Identity, 100, 100, "%", "short self-test finished on "+t.Disk.Name)
		}()
	}
	wg.Wait()
	return out
}

// diskVerdict is one disk's evaluation.
type diskVerdict struct {
	target    Target
	fails     []stage.Finding
	warns     []stage.Finding
	infos     []stage.Finding
	measures  []stage.Measurement
	artifacts []stage.Artifact
	summary   map[string]any
}

func checkDisk(ctx context.Context, env *stage.Env, cenv collector.Env, reader collector.SmartReader, t Target, st *selfTestOutcome, th stage.Params) diskVerdict {
	log := env.Logger().With("stage", Name, "device", t.Disk.Name)
	rep, readErr := reader.Read(ctx, t.Disk.Name)
	v := Evaluate(t, rep, readErr, st, th, env.Clock())

	// Artifacts: smart-<disk>.txt (smartctl -x text, or rendered) and .json.
	base := "smart-" + artifactName(t.Disk.Name)
	text, src, terr := collector.SmartText(ctx, cenv, t.Disk.Name, rep)
	if terr != nil {
		text = []byte(fmt.Sprintf("SMART of %s (%s) could not be read.\nread: %v\ntext: %v\n", t.Disk.Name, t.Identity, readErr, terr))
		src = "error"
	}
	if a, err := env.WriteArtifact(base+".txt", text, "text/plain"); err == nil {
		v.artifacts = append(v.artifacts, a)
	} else {
		log.Warn("write artifact", "err", err)
	}
	doc := map[string]any{"device": t.Disk.Name, "identity": t.Identity, "role": t.Role, "report": rep, "text_source": src}
	if readErr != nil {
		doc["error"] = readErr.Error()
	}
	if st != nil {
		doc["self_test"] = st
	}
	if b, err := json.MarshalIndent(doc, "", "  "); err == nil {
		if a, err := env.WriteArtifact(base+".json", append(b, '\n'), "application/json"); err == nil {
			v.artifacts = append(v.artifacts, a)
		}
	}
	return v
}

func artifactName(dev string) string {
	r := strings.NewReplacer("/", "_", "\\", "_", "\x00", "")
	n := r.Replace(strings.TrimPrefix(dev, "/dev/"))
	if n == "" || n == "." || n == ".." {
		n = "disk"
	}
	return n
}

// physical transports: a SMART read failure there is a failure, elsewhere
// (virtio, USB bridges, RAID volumes) a warning.
var physical = map[string]bool{"nvme": true, "sata": true, "sas": true}

// Evaluate applies the thresholds to one disk's report (pure).
func Evaluate(t Target, rep *collector.SmartReport, readErr error, st *selfTestOutcome, th stage.Params, now time.Time) diskVerdict {
	v := diskVerdict{target: t, summary: map[string]any{"device": t.Disk.Name, "role": t.Role, "transport": t.Disk.Transport}}
	subj := t.Identity
	fail := func(code, msg string) {
		v.fails = append(v.fails, stage.Finding{Code: code, Severity: stage.Critical, Subject: subj, Message: t.Disk.Name + ": " + msg})
	}
	warn := func(code, msg string) {
		v.warns = append(v.warns, stage.Finding{Code: code, Severity: stage.Warning, Subject: subj, Message: t.Disk.Name + ": " + msg})
	}
	if st != nil {
		v.summary["self_test"] = st
		switch {
		case st.Error != "":
			warn("SelfTestUnavailable", "short self-test could not run: "+st.Error)
		case st.Incomplete:
			warn("SelfTestIncomplete", "short self-test still running at the stage deadline")
		case st.Log != nil:
			if last, ok := st.Log.Last(); ok {
				switch last.Result {
				case "failed":
					fail("SelfTestFailed", fmt.Sprintf("short self-test failed (%s)", last.Status))
				case "aborted":
					warn("SelfTestAborted", fmt.Sprintf("short self-test was aborted (%s)", last.Status))
				}
			}
		}
	}
	if readErr != nil || rep == nil {
		why := "no report"
		if readErr != nil {
			why = readErr.Error()
		}
		v.summary["health"] = "unreadable"
		v.summary["error"] = why
		msg := "SMART could not be read (" + why + ")"
		if physical[t.Disk.Transport] {
			fail("SMARTUnavailable", msg)
		} else {
			warn("SMARTUnavailable", msg+"; transport "+orUnknown(t.Disk.Transport)+" usually does not pass SMART through, so the disk's health is unknown")
		}
		return v
	}
	v.summary["health"] = rep.Health
	v.summary["source"] = rep.Source
	v.summary["protocol"] = rep.Protocol
	c := rep.Counters()
	v.summary["counters"] = c
	switch rep.Health {
	case collector.SmartFailed:
		fail("SMARTHealthFailed", "overall SMART health FAILED: "+strings.Join(rep.HealthReasons, "; "))
	case collector.SmartUnknown, "":
		warn("SMARTHealthUnknown", "the drive gives no overall SMART verdict: "+strings.Join(rep.HealthReasons, "; "))
	}
	maxRealloc := uint64(th.Int("smart_reallocated_max"))
	maxPending := uint64(th.Int("smart_pending_max"))
	if c.Reallocated != nil && *c.Reallocated > maxRealloc {
		fail("ReallocatedSectors", fmt.Sprintf("%d reallocated sectors (limit %d)", *c.Reallocated, maxRealloc))
	}
	if c.Pending != nil && *c.Pending > maxPending {
		fail("PendingSectors", fmt.Sprintf("%d pending sectors (limit %d)", *c.Pending, maxPending))
	}
	if c.OfflineUncorrectable != nil && *c.OfflineUncorrectable > maxPending {
		fail("OfflineUncorrectable", fmt.Sprintf("%d offline-uncorrectable sectors (limit %d)", *c.OfflineUncorrectable, maxPending))
	}
	maxMedia := uint64(th.Int("nvme_media_errors_max"))
	if c.MediaErrors != nil && *c.MediaErrors > maxMedia {
		fail("MediaErrors", fmt.Sprintf("%d media and data integrity errors (limit %d)", *c.MediaErrors, maxMedia))
	}
	if n := rep.NVMe; n != nil {
		if n.CriticalWarning != 0 {
			fail("NVMeCriticalWarning", fmt.Sprintf("critical warning 0x%02x: %s", n.CriticalWarning, strings.Join(n.CriticalWarnings, ", ")))
		}
		if n.AvailableSpareThresholdPct > 0 && n.AvailableSparePct < n.AvailableSpareThresholdPct {
			fail("SpareBelowThreshold", fmt.Sprintf("available spare %d%% below the drive's threshold %d%%", n.AvailableSparePct, n.AvailableSpareThresholdPct))
		}
		if lim := th.Int("nvme_percent_used_max"); n.PercentUsed >= lim {
			fail("EnduranceUsed", fmt.Sprintf("%d%% of rated endurance used (limit %d%%)", n.PercentUsed, lim))
		}
	}
	if rep.TemperatureC != nil {
		if lim := th.Float("disk_max_temp_c"); *rep.TemperatureC >= lim {
			fail("DiskOverheat", fmt.Sprintf("temperature %.0f °C (limit %.0f °C)", *rep.TemperatureC, lim))
		}
	}
	// The reader's own notes (UDMA CRC errors, error-log entries, failed
	// self-tests in the history, counters not zero but within the limits) are
	// info: most healthy drives have some, and the thresholds above decide.
	for _, w := range rep.Warnings {
		v.infos = append(v.infos, stage.Finding{Code: "SMARTNote", Severity: stage.Info, Subject: subj, Message: t.Disk.Name + ": " + w})
	}
	add := func(name string, val *uint64, unit string) {
		if val != nil {
			v.measures = append(v.measures, stage.Measurement{Kind: "smart", Subject: subj, Name: name, Value: float64(*val), Unit: unit, Time: now})
		}
	}
	if rep.TemperatureC != nil {
		v.measures = append(v.measures, stage.Measurement{Kind: "smart", Subject: subj, Name: "temperature", Value: *rep.TemperatureC, Unit: "°C", Time: now})
	}
	add("reallocated", c.Reallocated, "sectors")
	add("pending", c.Pending, "sectors")
	add("offline_uncorrectable", c.OfflineUncorrectable, "sectors")
	add("media_errors", c.MediaErrors, "errors")
	add("power_on_hours", rep.PowerOnHours, "h")
	if n := rep.NVMe; n != nil {
		pu, sp := uint64(n.PercentUsed), uint64(n.AvailableSparePct)
		add("percent_used", &pu, "%")
		add("available_spare", &sp, "%")
	}
	return v
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// compose builds the stage result from the per-disk verdicts.
func compose(sel Selection, vs []diskVerdict, selfTest bool) stage.Result {
	res := stage.Result{Status: stage.Pass}
	var failMsgs, warnMsgs []string
	perDisk := map[string]any{}
	for _, m := range sel.Missing {
		msg := "expected disk " + m + " was not found: its SMART could not be read"
		res.Findings = append(res.Findings, stage.Finding{Code: "DiskMissing", Severity: stage.Critical, Subject: m, Message: msg})
		failMsgs = append(failMsgs, msg)
	}
	healthy := 0
	for _, v := range vs {
		res.Findings = append(res.Findings, v.fails...)
		res.Findings = append(res.Findings, v.warns...)
		res.Findings = append(res.Findings, v.infos...)
		res.Measurements = append(res.Measurements, v.measures...)
		perDisk[v.target.Identity] = v.summary
		for _, f := range v.fails {
			failMsgs = append(failMsgs, f.Message)
		}
		for _, f := range v.warns {
			warnMsgs = append(warnMsgs, f.Message)
		}
		if len(v.fails) == 0 && len(v.warns) == 0 {
			healthy++
		}
	}
	scope := fmt.Sprintf("%d disks from the expected spec", len(vs))
	if !sel.FromSpec {
		scope = fmt.Sprintf("%d disks (no expected spec: every disk in the inventory)", len(vs))
	}
	res.Summary = map[string]any{"disks": perDisk, "from_spec": sel.FromSpec, "missing": sel.Missing, "self_test": selfTest}
	switch {
	case len(failMsgs) > 0:
		res.Status = stage.Fail
		res.Reason = reasonOf(res.Findings)
		res.Message = fmt.Sprintf("SMART of %s: %s", scope, strings.Join(failMsgs, "; "))
	case len(warnMsgs) > 0:
		res.Status, res.Reason = stage.Warn, "warning"
		res.Message = fmt.Sprintf("SMART of %s: %d healthy; warnings: %s", scope, healthy, strings.Join(warnMsgs, "; "))
	default:
		res.Message = fmt.Sprintf("SMART of %s: all healthy", scope)
	}
	sort.SliceStable(res.Findings, func(i, j int) bool { return rank(res.Findings[i].Severity) < rank(res.Findings[j].Severity) })
	return res
}

func rank(s stage.Severity) int {
	switch s {
	case stage.Critical:
		return 0
	case stage.Warning:
		return 1
	}
	return 2
}

// reasonOf is the reason code of a failed result: disk_missing, else
// disk_unhealthy, else smart_unreadable.
func reasonOf(fs []stage.Finding) string {
	has := map[string]bool{}
	for _, f := range fs {
		if f.Severity != stage.Critical {
			continue
		}
		switch f.Code {
		case "DiskMissing":
			has["disk_missing"] = true
		case "SMARTUnavailable":
			has["smart_unreadable"] = true
		default:
			has["disk_unhealthy"] = true
		}
	}
	for _, r := range []string{"disk_missing", "disk_unhealthy", "smart_unreadable"} {
		if has[r] {
			return r
		}
	}
	return "disk_unhealthy"
}
