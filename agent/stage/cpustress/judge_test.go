package cpustress

import (
	"slices"
	"testing"
	"time"

	"github.com/shakedown/shakedown/agent/sidecar"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
)

func TestJudgeIdleStressor(t *testing.T) {
	zero, one := uint64(0), uint64(1)
	idle := func(cpu float64) *Report {
		return &Report{Metrics: []Metric{{Stressor: "cpu", BogoOps: 10}, {Stressor: "vm", BogoOps: 0, UserSeconds: cpu}}}
	}
	limits := sidecar.Limits{MaxC: 90}
	temps := map[string]sidecar.Reading{"coretemp/hwmon0/temp1": {Sensor: "coretemp/hwmon0/temp1", C: 50}}
	cases := []struct {
		name   string
		o      Outcome
		status stage.Status
		code   string
	}{
		{"no pass over a large buffer, no OOM", Outcome{Report: idle(0.8), OOMKills: &zero, Limits: limits, Maxima: temps, EDACAvailable: true}, stage.Warn, "StressorIncomplete"},
		{"no CPU time at all", Outcome{Report: idle(0), OOMKills: &zero, Limits: limits, Maxima: temps, EDACAvailable: true}, stage.Fail, "StressorNoWork"},
		{"OOM counter unreadable", Outcome{Report: idle(0.8), Limits: limits, Maxima: temps, EDACAvailable: true}, stage.Fail, "StressorNoWork"},
		// Seen on this CI machine kind: a vm worker whose mmap keeps failing
		// sleeps and retries for the whole 20 s run, using ~0.05 s of CPU.
		{"mmap retry loop for 20 s", Outcome{Report: idle(0.05), OOMKills: &zero, Duration: 20 * time.Second, Limits: limits, Maxima: temps, EDACAvailable: true}, stage.Fail, "StressorNoWork"},
		{"OOM kill", Outcome{Report: idle(0.8), OOMKills: &one, Limits: limits, Maxima: temps, EDACAvailable: true}, stage.Fail, "OOMKill"},
	}
	for _, c := range cases {
		res := Judge(c.o, time.Now())
		var codes []string
		for _, f := range res.Findings {
			codes = append(codes, f.Code)
		}
		if res.Status != c.status || !slices.Contains(codes, c.code) {
			t.Errorf("%s: %s %v: %s", c.name, res.Status, codes, res.Message)
		}
	}
}

func TestJudgeEDACCounterChanges(t *testing.T) {
	before := []collector.EDACController{{Name: "mc0", DIMMs: []collector.EDACMemory{{Name: "dimm0", CE: 5}}}}
	after := []collector.EDACController{{Name: "mc0", DIMMs: []collector.EDACMemory{{Name: "dimm0", CE: 2}}}, {Name: "mc1"}}
	ok := &Report{Metrics: []Metric{{Stressor: "cpu", BogoOps: 1}, {Stressor: "vm", BogoOps: 1}}}
	temps := map[string]sidecar.Reading{"t": {Sensor: "t", C: 40}}
	res := Judge(Outcome{Report: ok, EDACAvailable: true, EDACBefore: before, EDACAfter: after, Limits: sidecar.Limits{MaxC: 90}, Maxima: temps}, time.Now())
	n := 0
	for _, f := range res.Findings {
		if f.Code == "EDACCounterChanged" {
			n++
		}
	}
	if res.Status != stage.Warn || n != 2 {
		t.Errorf("reset + appeared controller: %s, %d EDACCounterChanged: %+v", res.Status, n, res.Findings)
	}
}
