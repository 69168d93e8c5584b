package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed report.html.tmpl
var htmlTemplate string

// tmpl is parsed on first use, not at program start: every shakedown-agent
// command links this package, and parsing costs about a millisecond.
var tmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"ts": func(t any) string {
			switch v := t.(type) {
			case time.Time:
				if v.IsZero() {
					return "-"
				}
				return v.UTC().Format("2006-01-02 15:04:05 UTC")
			case *time.Time:
				if v == nil || v.IsZero() {
					return "-"
				}
				return v.UTC().Format("2006-01-02 15:04:05 UTC")
			}
			return "-"
		},
		"dur": func(s any) string {
			var f float64
			switch v := s.(type) {
			case float64:
				f = v
			case *float64:
				if v == nil {
					return "-"
				}
				f = *v
			}
			return time.Duration(f * float64(time.Second)).Round(time.Second).String()
		},
		"bytes": func(n any) string {
			switch v := n.(type) {
			case int64:
				if v < 0 {
					return "-"
				}
				return HumanBytes(uint64(v))
			case uint64:
				return HumanBytes(v)
			}
			return "-"
		},
		"num":   fmtNum,
		"upper": strings.ToUpper,
		"lines": func(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") },
		"mbps": func(p *int) string {
			if p == nil {
				return "-"
			}
			return strconv.Itoa(*p) + " Mb/s"
		},
		"yesno": func(p *bool) string {
			if p == nil {
				return "-"
			}
			if *p {
				return "yes"
			}
			return "no"
		},
	}).Parse(htmlTemplate))
})

type htmlView struct {
	*Report
	Failing     []Stage
	Critical    []SpecDiff
	Charts      []template.HTML
	StageCounts map[string]int
}

// WriteHTML renders report.html: one self-contained page (inline CSS and SVG,
// no script, nothing fetched) with the verdict first, then what failed and
// why, then the evidence. It prints on A4/Letter.
func WriteHTML(w io.Writer, r *Report) error {
	v := htmlView{Report: r, StageCounts: map[string]int{}}
	for _, s := range r.Stages {
		v.StageCounts[s.Status]++
		if s.Status == "fail" || s.Status == "warn" || s.Status == "running" {
			v.Failing = append(v.Failing, s)
		}
	}
	for _, d := range r.SpecDiffs {
		if d.Class == "critical" {
			v.Critical = append(v.Critical, d)
		}
	}
	v.Charts = charts(r)
	if err := tmpl().Execute(w, v); err != nil {
		return fmt.Errorf("render report.html: %w", err)
	}
	return nil
}

func charts(r *Report) []template.HTML {
	var out []template.HTML
	limit := func(name string) *float64 {
		if raw, ok := r.Thresholds[name]; ok {
			if f, err := strconv.ParseFloat(raw, 64); err == nil && f > 0 {
				return &f
			}
		}
		return nil
	}
	var thermal, psuV, psuW []Series
	for _, s := range r.Series {
		switch {
		case s.Kind == "thermal":
			thermal = append(thermal, s)
		case s.Kind == "psu" && s.Unit == "V":
			psuV = append(psuV, s)
		case s.Kind == "psu" && s.Unit == "W":
			psuW = append(psuW, s)
		}
	}
	if c := LineChart("Temperatures over the run", "°C", thermal, limit("max_temp_c")); c != "" {
		out = append(out, c)
	}
	if c := LineChart("PSU voltage rails", "V", psuV, nil); c != "" {
		out = append(out, c)
	}
	if c := LineChart("Power draw", "W", psuW, nil); c != "" {
		out = append(out, c)
	}
	// Per-disk results: the fio IOPS and bad-block counts of each disk.
	bad := map[string]bool{}
	for _, s := range r.Stages {
		for _, f := range s.Findings {
			if f.Severity == "critical" && f.Subject != "" {
				bad[f.Subject] = true
			}
		}
	}
	perSubject := func(kind, name string) []Bar {
		var bars []Bar
		for _, a := range r.Measurements {
			if a.Kind == kind && a.Name == name && a.Subject != "" {
				bars = append(bars, Bar{Label: a.Subject, Value: a.Last, Bad: bad[a.Subject]})
			}
		}
		sort.SliceStable(bars, func(i, j int) bool { return bars[i].Label < bars[j].Label })
		return bars
	}
	if c := BarChart("Per-disk fio 4k random read/write (total IOPS)", "IOPS", perSubject("fio", "iops_total")); c != "" {
		out = append(out, c)
	}
	if c := BarChart("Per-disk fio p99 read latency", "µs", perSubject("fio", "p99_read_us")); c != "" {
		out = append(out, c)
	}
	if c := BarChart("Per-disk bad blocks (badblocks)", "blocks", perSubject("badblocks", "bad_blocks")); c != "" {
		out = append(out, c)
	}
	if c := BarChart("Network throughput per NIC (iperf3)", "bit/s", perSubject("iperf", "bits_per_second")); c != "" {
		out = append(out, c)
	}
	return out
}
