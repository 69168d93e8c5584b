package psu

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// SDRRow is one `ipmitool sdr` line: "PS1 Status | C8h | ok | 10.1 | Presence detected".
type SDRRow struct {
	Name    string `json:"name"`
	Status  string `json:"status"` // ok | nc | cr | nr | ns | lnc ...
	Entity  string `json:"entity,omitempty"`
	Reading string `json:"reading"`
	// Value and Unit are set for numeric readings ("12.10 Volts", "95 Watts").
	Value *float64 `json:"value,omitempty"`
	Unit  string   `json:"unit,omitempty"`
}

var reSupplySlot = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(ps|psu|power supply)\s*\d`) })

var reNumber = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(-?\d+(?:\.\d+)?)\s+(Volts|Watts|Amps|degrees C|RPM|percent)\b`)
})

// ParseSDR parses `ipmitool sdr [type X|elist]` output. Lines that do not
// have the five columns are skipped; an output with no row is an error.
func ParseSDR(r io.Reader) ([]SDRRow, error) {
	var rows []SDRRow
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "|")
		if len(f) != 5 {
			continue
		}
		row := SDRRow{Name: strings.TrimSpace(f[0]), Status: strings.TrimSpace(f[2]), Entity: strings.TrimSpace(f[3]), Reading: strings.TrimSpace(f[4])}
		if row.Name == "" {
			continue
		}
		if m := reNumber().FindStringSubmatch(row.Reading); m != nil {
			if v, err := strconv.ParseFloat(m[1], 64); err == nil {
				row.Value, row.Unit = &v, m[2]
			}
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return rows, fmt.Errorf("read ipmitool sdr: %w", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("parse ipmitool sdr: no sensor rows")
	}
	return rows, nil
}

// PSUProblem classifies a power-supply row: "" when healthy.
//   - failed: the supply reports a failure, lost input, or a critical status
//   - absent: a supply slot without "Presence detected"
//   - redundancy: the redundancy sensor says redundancy is lost
//   - predictive: predictive failure (warning)
func PSUProblem(r SDRRow) (kind, why string) {
	t := strings.ToLower(r.Reading)
	st := strings.ToLower(r.Status)
	switch {
	case strings.Contains(t, "failure detected"), strings.Contains(t, "ac lost"), strings.Contains(t, "input lost"),
		strings.Contains(t, "out-of-range"), strings.Contains(t, "config error"), strings.Contains(t, "configuration error"):
		return "failed", r.Reading
	case strings.Contains(t, "predictive failure"):
		return "predictive", r.Reading
	case strings.Contains(t, "redundancy lost"), strings.Contains(t, "non-redundant"), strings.Contains(t, "redundancy degraded"):
		return "redundancy", r.Reading
	case st == "cr" || st == "nr":
		return "failed", "status " + r.Status + " " + r.Reading
	case isSupplySlot(r.Name) && st != "ns" && !strings.Contains(t, "presence detected") && !strings.Contains(t, "watts") && t != "":
		return "absent", r.Reading
	case isSupplySlot(r.Name) && (t == "" || t == "no reading" || st == "ns") && !strings.Contains(strings.ToLower(r.Name), "redundan"):
		return "absent", "no reading"
	}
	return "", ""
}

// isSupplySlot: "PS1 Status", "Power Supply 2", "PSU1", not the aggregate
// "Power Supplies" / "PS Redundancy" / "Pwr Unit Stat".
func isSupplySlot(name string) bool {
	n := strings.ToLower(name)
	if strings.Contains(n, "redundan") || strings.Contains(n, "supplies") || strings.Contains(n, "unit") {
		return false
	}
	return reSupplySlot().MatchString(n)
}
