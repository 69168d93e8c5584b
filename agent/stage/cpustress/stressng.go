package cpustress

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// Metric is one stressor's line of the --yaml metrics section.
type Metric struct {
	Stressor           string  `yaml:"stressor" json:"stressor"`
	BogoOps            float64 `yaml:"bogo-ops" json:"bogo_ops"`
	BogoOpsPerSecReal  float64 `yaml:"bogo-ops-per-second-real-time" json:"bogo_ops_per_second_real"`
	BogoOpsPerSecUsage float64 `yaml:"bogo-ops-per-second-usr-sys-time" json:"bogo_ops_per_second_usr_sys"`
	WallClockSeconds   float64 `yaml:"wall-clock-time" json:"wall_clock_seconds"`
	UserSeconds        float64 `yaml:"user-time" json:"user_seconds"`
	SystemSeconds      float64 `yaml:"system-time" json:"system_seconds"`
	CPUUsagePercent    float64 `yaml:"cpu-usage-per-instance" json:"cpu_usage_percent"`
	MaxRSSKiB          float64 `yaml:"max-rss" json:"max_rss_kib"`
}

// Report is the parsed --yaml file.
type Report struct {
	Version string   `json:"version,omitempty"`
	CPUs    int      `json:"cpus,omitempty"`
	Metrics []Metric `json:"metrics"`
}

type yamlDoc struct {
	SystemInfo struct {
		Version string `yaml:"stress-ng-version"`
		CPUs    int    `yaml:"cpus"`
	} `yaml:"system-info"`
	Metrics []Metric `yaml:"metrics"`
}

// ParseYAML parses stress-ng's --yaml output. A document without its "..."
// end marker or without a metrics list is an error.
func ParseYAML(r io.Reader) (*Report, error) {
	b, err := io.ReadAll(io.LimitReader(r, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("read stress-ng yaml: %w", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("parse stress-ng yaml: empty")
	}
	// stress-ng ends the document with "..."; without it the file was cut
	// off (stress-ng killed while writing, disk full) and a partial metrics
	// list would look like a run with fewer stressors.
	if !bytes.HasSuffix(bytes.TrimRight(b, " \t\r\n"), []byte("\n...")) {
		return nil, fmt.Errorf("parse stress-ng yaml: truncated (no \"...\" document end)")
	}
	var d yamlDoc
	if err := yaml.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("parse stress-ng yaml: %w", err)
	}
	if len(d.Metrics) == 0 {
		return nil, fmt.Errorf("parse stress-ng yaml: no metrics section (truncated or incomplete output)")
	}
	for i, m := range d.Metrics {
		if m.Stressor == "" {
			return nil, fmt.Errorf("parse stress-ng yaml: metrics[%d] has no stressor name", i)
		}
	}
	return &Report{Version: d.SystemInfo.Version, CPUs: d.SystemInfo.CPUs, Metrics: d.Metrics}, nil
}

// Log is what the stage reads from stress-ng's text output (stderr).
type Log struct {
	// Failures are "fail:" lines: a stressor detected wrong results
	// (--verify), e.g. "vm: detected 523 bit errors while stressing memory".
	Failures []string `json:"failures,omitempty"`
	// Warnings are "warn:" lines ("vm: WARNING: finished prematurely").
	Warnings []string `json:"warnings,omitempty"`
	// Errors are "error:" lines (harness problems).
	Errors []string `json:"errors,omitempty"`
	// OOMRestarts counts "killed by OOM killer" lines (printed with -v only).
	OOMRestarts int `json:"oom_restarts,omitempty"`
	// Completed: "successful run completed" (true), "unsuccessful run
	// completed" (false); nil when neither line is present (killed).
	Completed *bool `json:"completed,omitempty"`
}

// "stress-ng: fail:  [16960] vm: detected ..." -> level "fail", text "vm: detected ..."
var logLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^stress-ng:\s+([a-z]+):\s+\[\d+\]\s?(.*)$`) })

// ParseLog reads stress-ng's log lines; unknown lines are ignored.
func ParseLog(r io.Reader) (*Log, error) {
	l := &Log{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		m := logLine().FindStringSubmatch(line)
		if m == nil {
			continue
		}
		text := strings.TrimSpace(m[2])
		switch m[1] {
		case "fail":
			l.Failures = append(l.Failures, text)
		case "warn":
			l.Warnings = append(l.Warnings, text)
		case "error":
			l.Errors = append(l.Errors, text)
		}
		low := strings.ToLower(text)
		if strings.Contains(low, "killed by oom killer") {
			l.OOMRestarts++
		}
		switch {
		case strings.HasPrefix(low, "unsuccessful run completed"):
			f := false
			l.Completed = &f
		case strings.HasPrefix(low, "successful run completed"):
			t := true
			l.Completed = &t
		}
	}
	if err := sc.Err(); err != nil {
		return l, fmt.Errorf("read stress-ng log: %w", err)
	}
	return l, nil
}

// ExitMeaning explains stress-ng's exit status (stress-ng(1) EXIT STATUS).
func ExitMeaning(code int) string {
	switch code {
	case 0:
		return "success"
	case 1:
		return "error: bad options or a fatal resource problem in the harness"
	case 2:
		return "one or more stressors failed"
	case 3:
		return "one or more stressors could not start for lack of resources"
	case 4:
		return "a stressor is not implemented on this system"
	case 5:
		return "a stressor was killed by an unexpected signal"
	case 6:
		return "a stressor exited unexpectedly; metrics could not be gathered"
	case 7:
		return "bogo-ops metrics may be untrustworthy"
	default:
		return fmt.Sprintf("unknown exit status %d", code)
	}
}
