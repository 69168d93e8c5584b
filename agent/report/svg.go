package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"sort"
	"strings"
	"time"
)

// Inline SVG charts for report.html. They are plain markup (no script, no
// external reference), sized by viewBox so they scale on screen and in print.

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"}

const (
	chartW, chartH = 760.0, 260.0
	padL, padR     = 56.0, 16.0
	padT, padB     = 16.0, 40.0
	maxLines       = 8
)

// LineChart draws series over time with an optional horizontal limit line.
// Only the maxLines series with the highest peaks are drawn; the caption says
// how many were left out.
func LineChart(title, unit string, series []Series, limit *float64) template.HTML {
	var drawn []Series
	for _, s := range series {
		if len(s.Points) > 0 {
			drawn = append(drawn, s)
		}
	}
	if len(drawn) == 0 {
		return ""
	}
	peak := func(s Series) float64 {
		m := math.Inf(-1)
		for _, p := range s.Points {
			m = math.Max(m, p.V)
		}
		return m
	}
	sort.SliceStable(drawn, func(i, j int) bool { return peak(drawn[i]) > peak(drawn[j]) })
	left := 0
	if len(drawn) > maxLines {
		left = len(drawn) - maxLines
		drawn = drawn[:maxLines]
	}
	t0, t1 := drawn[0].Points[0].T, drawn[0].Points[0].T
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range drawn {
		for _, p := range s.Points {
			if p.T.Before(t0) {
				t0 = p.T
			}
			if p.T.After(t1) {
				t1 = p.T
			}
			lo, hi = math.Min(lo, p.V), math.Max(hi, p.V)
		}
	}
	if limit != nil {
		lo, hi = math.Min(lo, *limit), math.Max(hi, *limit)
	}
	lo, hi = niceRange(lo, hi)
	span := t1.Sub(t0).Seconds()
	if span <= 0 {
		span = 1
	}
	x := func(t time.Time) float64 { return padL + (chartW-padL-padR)*t.Sub(t0).Seconds()/span }
	y := func(v float64) float64 { return padT + (chartH-padT-padB)*(1-(v-lo)/(hi-lo)) }

	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="chart"><svg viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, chartW, chartH, esc(title))
	axes(&b, lo, hi, unit, y)
	// Time ticks in minutes from the first sample.
	for i := 0; i <= 4; i++ {
		sec := span * float64(i) / 4
		xx := padL + (chartW-padL-padR)*float64(i)/4
		anchor := map[int]string{0: "start", 4: "end"}[i]
		if anchor == "" {
			anchor = "middle"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tick" text-anchor="%s">%s</text>`, xx, chartH-padB+16, anchor, esc(fmtElapsed(sec)))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tick" text-anchor="middle">time since %s UTC</text>`, padL+(chartW-padL-padR)/2, chartH-4, esc(t0.UTC().Format("15:04:05")))
	if limit != nil {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="limit"/><text x="%.1f" y="%.1f" class="limit-label" text-anchor="end">limit %s</text>`,
			padL, chartW-padR, y(*limit), y(*limit), chartW-padR-2, y(*limit)-4, esc(fmtNum(*limit)+" "+unit))
	}
	for i, s := range drawn {
		color := palette[i%len(palette)]
		var pts []string
		for _, p := range s.Points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.T), y(p.V)))
		}
		if len(pts) == 1 {
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="3" fill="%s"/>`, strings.Split(pts[0], ",")[0], strings.Split(pts[0], ",")[1], color)
		} else {
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, color, strings.Join(pts, " "))
		}
	}
	b.WriteString(`</svg><figcaption>`)
	fmt.Fprintf(&b, `<strong>%s</strong>`, esc(title))
	for i, s := range drawn {
		fmt.Fprintf(&b, ` <span class="key"><span class="swatch" style="background:%s"></span>%s (max %s)</span>`,
			palette[i%len(palette)], esc(seriesLabel(s)), esc(fmtNum(peak(s))+" "+unit))
	}
	if left > 0 {
		fmt.Fprintf(&b, ` <span class="key">and %d more series (in report.json)</span>`, left)
	}
	b.WriteString(`</figcaption></figure>`)
	return template.HTML(b.String()) //nolint:gosec // every text piece above is escaped
}

// Bar is one bar of a bar chart.
type Bar struct {
	Label string
	Value float64
	Bad   bool // drawn in the failure colour
}

// BarChart draws horizontal bars, one per subject (per-disk results).
func BarChart(title, unit string, bars []Bar) template.HTML {
	if len(bars) == 0 {
		return ""
	}
	const rowH, labelW = 24.0, 260.0
	h := padT + rowH*float64(len(bars)) + 24
	max := 0.0
	for _, b := range bars {
		max = math.Max(max, b.Value)
	}
	if max <= 0 {
		max = 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="chart"><svg viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, chartW, h, esc(title))
	for i, bar := range bars {
		yy := padT + rowH*float64(i)
		w := (chartW - labelW - 120) * bar.Value / max
		color := palette[0]
		if bar.Bad {
			color = "#c62828"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tick" text-anchor="end">%s</text>`, labelW-6, yy+rowH/2+4, esc(truncate(bar.Label, 40)))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, labelW, yy+3, math.Max(w, 1), rowH-6, color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tick">%s</text>`, labelW+math.Max(w, 1)+6, yy+rowH/2+4, esc(fmtNum(bar.Value)+" "+unit))
	}
	fmt.Fprintf(&b, `</svg><figcaption><strong>%s</strong></figcaption></figure>`, esc(title))
	return template.HTML(b.String()) //nolint:gosec // every text piece above is escaped
}

func axes(b *strings.Builder, lo, hi float64, unit string, y func(float64) float64) {
	fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="plot"/>`, padL, padT, chartW-padL-padR, chartH-padT-padB)
	for i := 0; i <= 4; i++ {
		v := lo + (hi-lo)*float64(i)/4
		fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="grid"/>`, padL, chartW-padR, y(v), y(v))
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" class="tick" text-anchor="end">%s</text>`, padL-4, y(v)+4, esc(fmtNum(v)))
	}
	fmt.Fprintf(b, `<text x="12" y="%.1f" class="tick" transform="rotate(-90 12 %.1f)" text-anchor="middle">%s</text>`, padT+(chartH-padT-padB)/2, padT+(chartH-padT-padB)/2, esc(unit))
}

func niceRange(lo, hi float64) (float64, float64) {
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return 0, 1
	}
	if hi-lo < 1e-9 {
		return lo - 1, hi + 1
	}
	pad := (hi - lo) * 0.08
	return math.Floor(lo - pad), math.Ceil(hi + pad)
}

func fmtElapsed(sec float64) string {
	d := time.Duration(sec * float64(time.Second)).Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Seconds()))
	}
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}

func fmtNum(v float64) string {
	switch {
	case math.Abs(v) >= 1e9:
		return fmt.Sprintf("%.2fG", v/1e9)
	case math.Abs(v) >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case math.Abs(v) >= 1e4:
		return fmt.Sprintf("%.0f", v)
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func seriesLabel(s Series) string {
	if s.Subject == "" {
		return s.Name
	}
	return s.Subject + " " + s.Name
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func esc(s string) string { return html.EscapeString(s) }
