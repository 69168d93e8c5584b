package collector

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// RenderSmartText writes a human-readable summary of a SmartReport, used for
// `shakedown-agent smart` and for the smart-<disk>.txt artifact when smartctl
// is not installed.
func RenderSmartText(w io.Writer, r *SmartReport) error {
	b := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(b, format+"\n", a...) }
	opt := func(label string, v *uint64) {
		if v != nil {
			p("  %-26s %d", label+":", *v)
		}
	}
	p("SMART report for %s (%s, read with %s)", r.Device, r.Protocol, r.Source)
	if r.SourceNote != "" {
		p("  fallback reason: %s", r.SourceNote)
	}
	if r.Model != "" {
		p("  %-26s %s", "Model:", r.Model)
	}
	if r.Serial != "" {
		p("  %-26s %s", "Serial:", r.Serial)
	}
	if r.Firmware != "" {
		p("  %-26s %s", "Firmware:", r.Firmware)
	}
	if r.WWN != "" {
		p("  %-26s %s", "WWN:", r.WWN)
	}
	opt("Capacity (bytes)", r.CapacityBytes)
	basis := ""
	if r.HealthBasis != "" {
		basis = " (" + r.HealthBasis + ")"
	}
	p("  %-26s %s%s", "Overall health:", strings.ToUpper(string(r.Health)), basis)
	for _, s := range r.HealthReasons {
		p("    reason: %s", s)
	}
	for _, s := range r.Warnings {
		p("    warning: %s", s)
	}
	if r.TemperatureC != nil {
		p("  %-26s %g °C", "Temperature:", *r.TemperatureC)
	}
	opt("Power-on hours", r.PowerOnHours)
	opt("Power cycles", r.PowerCycles)
	if n := r.NVMe; n != nil {
		p("NVMe SMART/Health log:")
		p("  %-26s 0x%02x %s", "Critical warning:", n.CriticalWarning, strings.Join(n.CriticalWarnings, ", "))
		p("  %-26s %d%% (threshold %d%%)", "Available spare:", n.AvailableSparePct, n.AvailableSpareThresholdPct)
		p("  %-26s %d%%", "Percentage used:", n.PercentUsed)
		opt("Media errors", n.MediaErrors)
		opt("Error log entries", n.ErrorLogEntries)
		opt("Unsafe shutdowns", n.UnsafeShutdowns)
		opt("Data units read", n.DataUnitsRead)
		opt("Data units written", n.DataUnitsWritten)
	}
	if a := r.ATA; a != nil {
		p("ATA SMART attributes:")
		p("  %3s %-26s %5s %5s %6s %-8s %-5s %s", "ID", "NAME", "VALUE", "WORST", "THRESH", "TYPE", "FAIL", "RAW")
		for _, x := range a.Attributes {
			th := "-"
			if x.Threshold != nil {
				th = fmt.Sprint(*x.Threshold)
			}
			typ := "Old_age"
			if x.Prefail {
				typ = "Pre-fail"
			}
			raw := x.RawString
			if raw == "" {
				raw = fmt.Sprint(x.Raw)
			}
			wf := x.WhenFailed
			if wf == "" {
				wf = "-"
			}
			p("  %3d %-26s %5d %5d %6s %-8s %-5s %s", x.ID, x.Name, x.Current, x.Worst, th, typ, wf, raw)
		}
		opt("ATA error log count", a.ErrorLogCount)
	}
	if s := r.SCSI; s != nil {
		p("SCSI counters:")
		opt("Grown defects", s.GrownDefects)
		opt("Uncorrected read errors", s.UncorrectedRead)
		opt("Uncorrected write errors", s.UncorrectedWrite)
		opt("Uncorrected verify errors", s.UncorrectedVerify)
	}
	if l := r.SelfTest; l != nil {
		p("Self-tests:")
		if l.InProgress {
			rem := "?"
			if l.RemainingPercent != nil {
				rem = fmt.Sprintf("%d%%", *l.RemainingPercent)
			}
			p("  a self-test is running, %s remaining", rem)
		}
		p("  %d logged, %d failed", len(l.Entries), l.Failed)
		for i, e := range l.Entries {
			if i == 5 {
				p("  ...")
				break
			}
			h := "-"
			if e.PowerOnHours != nil {
				h = fmt.Sprint(*e.PowerOnHours)
			}
			p("  %-18s %-12s at %6s h  %s", e.Type, e.Result, h, e.Status)
		}
	}
	if s := r.Smartctl; s != nil {
		p("smartctl %s exit status %d", s.Version, s.ExitStatus)
		for _, x := range s.ExitBits {
			p("  %s", x)
		}
		for _, m := range s.Messages {
			p("  message: %s", m)
		}
	}
	return b.Flush()
}
