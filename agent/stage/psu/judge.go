package psu

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
)

// IPMIReading is what the BMC said through ipmitool.
type IPMIReading struct {
	PSU      []SDRRow `json:"psu,omitempty"`
	PSUAfter []SDRRow `json:"psu_after,omitempty"`
	PSUErr   error    `json:"-"`
	VoltIdle []SDRRow `json:"voltage_idle,omitempty"`
	VoltLoad []SDRRow `json:"voltage_load,omitempty"`
	VoltErr  error    `json:"-"`
}

// Input is everything the PSU verdict is decided from.
type Input struct {
	Recorder   *recorder
	IPMI       IPMIReading
	HasIPMI    bool
	DipPercent float64
	LoadErrors []string
	Load       []string
	Duration   time.Duration
}

func isBattery(id string) bool {
	l := strings.ToLower(id)
	return strings.Contains(l, "bat")
}

// Judge decides the PSU result (measurements: the envelope per rail).
func Judge(in Input, now time.Time) stage.Result {
	var v stage.Verdict
	fail, warn := v.Fail, v.Warn
	judged := 0
	var meas []stage.Measurement
	rails := []*Rail{}
	if in.Recorder != nil {
		rails = in.Recorder.sorted()
	}
	for _, r := range rails {
		meas = append(meas,
			stage.Measurement{Kind: "psu", Subject: r.ID, Name: r.Kind + "_min", Value: r.Min, Unit: r.Unit, Time: now},
			stage.Measurement{Kind: "psu", Subject: r.ID, Name: r.Kind + "_max", Value: r.Max, Unit: r.Unit, Time: now})
		if r.Alarm {
			warn("SensorAlarm", r.ID, fmt.Sprintf("%s raised its hwmon alarm during the stage", r.ID))
		}
		if r.Kind != "voltage" {
			continue
		}
		switch {
		case r.Nominal != nil && r.NominalSource == "label":
			judged++
			dip := (*r.Nominal - r.Min) / *r.Nominal * 100
			if dip <= in.DipPercent {
				continue
			}
			msg := fmt.Sprintf("%s dipped to %.3f V, %.1f%% below its nominal %.3g V (limit %.0f%%)%s", r.ID, r.Min, dip, *r.Nominal, in.DipPercent, idleNote(r))
			if isBattery(r.ID) {
				warn("CMOSBatteryLow", r.ID, msg)
			} else {
				fail("voltage_dip", "VoltageDip", r.ID, msg)
			}
		case r.MinLimit != nil && *r.MinLimit > 0:
			judged++
			if r.Min < *r.MinLimit {
				fail("voltage_dip", "VoltageBelowMin", r.ID, fmt.Sprintf("%s fell to %.3f V, below its hwmon minimum %.3f V%s", r.ID, r.Min, *r.MinLimit, idleNote(r)))
			}
		}
	}

	// BMC voltages: the lowest of the idle and load readings per sensor.
	low := map[string]float64{}
	for _, rows := range [][]SDRRow{in.IPMI.VoltIdle, in.IPMI.VoltLoad} {
		for _, r := range rows {
			if r.Value == nil || r.Unit != "Volts" {
				continue
			}
			if v, ok := low[r.Name]; !ok || *r.Value < v {
				low[r.Name] = *r.Value
			}
		}
	}
	names := make([]string, 0, len(low))
	for n := range low {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := low[n]
		id := "ipmi/" + n
		meas = append(meas, stage.Measurement{Kind: "psu", Subject: id, Name: "voltage_min", Value: v, Unit: "V", Time: now})
		nom, src, ok := collector.GuessNominalVoltage(n, nil, nil)
		if !ok || src != "label" {
			continue // AC input and unlabeled rails: recorded, not judged
		}
		judged++
		dip := (nom - v) / nom * 100
		if dip <= in.DipPercent {
			continue
		}
		msg := fmt.Sprintf("%s (BMC) read %.3f V, %.1f%% below its nominal %.3g V (limit %.0f%%)", n, v, dip, nom, in.DipPercent)
		if isBattery(n) {
			warn("CMOSBatteryLow", id, msg)
		} else {
			fail("voltage_dip", "VoltageDip", id, msg)
		}
	}

	// Power supplies: the state after the burst wins over the one before.
	psu := map[string]SDRRow{}
	for _, rows := range [][]SDRRow{in.IPMI.PSU, in.IPMI.PSUAfter} {
		for _, r := range rows {
			psu[r.Name] = r
		}
	}
	supplies := 0
	pnames := make([]string, 0, len(psu))
	for n := range psu {
		pnames = append(pnames, n)
	}
	sort.Strings(pnames)
	for _, n := range pnames {
		r := psu[n]
		if isSupplySlot(n) {
			supplies++
		}
		switch kind, why := PSUProblem(r); kind {
		case "failed":
			fail("psu_failed", "PSUFailed", n, fmt.Sprintf("%s: %s", n, why))
		case "absent":
			fail("psu_failed", "PSUAbsent", n, fmt.Sprintf("%s: supply absent (%s)", n, why))
		case "redundancy":
			warn("PSURedundancyLost", n, fmt.Sprintf("%s: %s", n, why))
		case "predictive":
			warn("PSUPredictiveFailure", n, fmt.Sprintf("%s: %s", n, why))
		}
	}
	if in.HasIPMI && in.IPMI.PSUErr != nil {
		warn("IPMIUnreadable", "ipmi", "the BMC's power-supply sensors could not be read: "+in.IPMI.PSUErr.Error())
	}
	for _, e := range in.LoadErrors {
		warn("LoadIncomplete", "load", "load burst: "+e)
	}

	sort.SliceStable(v.Findings, func(i, j int) bool {
		return v.Findings[i].Severity == stage.Critical && v.Findings[j].Severity != stage.Critical
	})
	sum := map[string]any{"rails": rails, "rails_judged": judged, "supplies": supplies, "ipmi": in.HasIPMI, "ipmi_readings": in.IPMI,
		"dip_percent": in.DipPercent, "load": in.Load, "duration_seconds": in.Duration.Seconds()}
	res := stage.Result{Status: stage.Pass, Findings: v.Findings, Measurements: meas, Summary: sum}
	base := fmt.Sprintf("%d rails judged (%d hwmon channels recorded), %d supplies via IPMI, %s burst", judged, len(rails), supplies, in.Duration)
	switch {
	case len(v.Fails) > 0:
		res.Status, res.Reason = stage.Fail, v.Reason
		res.Message = strings.Join(v.Fails, "; ") + " [" + base + "]"
	case judged == 0 && supplies == 0:
		res.Status, res.Reason = stage.Skip, "no_telemetry"
		res.Message = "no PSU telemetry exposed: no voltage rail with a known nominal value and no IPMI power-supply sensor (" + base + ")"
		if len(v.Warns) > 0 {
			res.Message += ". Warnings: " + strings.Join(v.Warns, "; ")
		}
	case len(v.Warns) > 0:
		res.Status, res.Reason = stage.Warn, "warning"
		res.Message = base + ". Warnings: " + strings.Join(v.Warns, "; ")
	default:
		res.Message = base + fmt.Sprintf(": no rail dipped more than %.0f%% below nominal, supplies healthy", in.DipPercent)
	}
	return res
}

func idleNote(r *Rail) string {
	if r.IdleMean == nil {
		return ""
	}
	return fmt.Sprintf(" (idle %.3f V)", *r.IdleMean)
}
