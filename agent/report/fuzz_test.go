package report

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/shakedown/shakedown/agent/report/ocpschema"
)

// FuzzDownsample checks the downsampling invariants on arbitrary series: at
// most max points, time order kept, every kept point is an input point, and
// the global minimum and maximum survive.
func FuzzDownsample(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, 4)
	f.Add(bytes.Repeat([]byte{0, 255}, 300), 10)
	f.Fuzz(func(t *testing.T, raw []byte, max int) {
		if max < 0 || max > 1000 {
			return
		}
		var pts []Point
		for i := 0; i+2 <= len(raw); i += 2 {
			v := float64(int16(binary.LittleEndian.Uint16(raw[i:])))
			pts = append(pts, Point{T: t0.Add(time.Duration(i) * time.Second), V: v})
		}
		got := Downsample(pts, max)
		limit := max
		if limit < 2 {
			limit = 2
		}
		if len(pts) > limit && len(got) > limit {
			t.Fatalf("%d points kept, max %d", len(got), limit)
		}
		in := map[Point]bool{}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, p := range pts {
			in[p] = true
			lo, hi = math.Min(lo, p.V), math.Max(hi, p.V)
		}
		glo, ghi := math.Inf(1), math.Inf(-1)
		for i, p := range got {
			if !in[p] {
				t.Fatalf("point %v not in the input", p)
			}
			if i > 0 && p.T.Before(got[i-1].T) {
				t.Fatal("out of order")
			}
			glo, ghi = math.Min(glo, p.V), math.Max(ghi, p.V)
		}
		if len(pts) > 0 && (glo != lo || ghi != hi) {
			t.Fatalf("extremes lost: input [%v,%v], kept [%v,%v]", lo, hi, glo, ghi)
		}
	})
}

// FuzzOCPText puts arbitrary text in every free-text field of a report:
// every ocp.jsonl line must stay valid, and report.html must render.
func FuzzOCPText(f *testing.F) {
	f.Add("disk <b>sda</b> & \"quoted\"", "sda", "Weird\x00Code")
	f.Add("\u2028\u2029 line\nbreaks", "", "")
	f.Fuzz(func(t *testing.T, msg, subject, code string) {
		r := sample("FailedHolding", false, "SMART", false)
		for i := range r.Stages {
			r.Stages[i].Message = msg
			for j := range r.Stages[i].Findings {
				r.Stages[i].Findings[j].Subject = subject
				r.Stages[i].Findings[j].Code = code
				r.Stages[i].Findings[j].Message = msg
			}
		}
		r.Host.Hostname, r.Host.Product = msg, subject
		var buf bytes.Buffer
		if err := WriteOCP(&buf, r, OCPOptions{CommandLine: msg}); err != nil {
			t.Fatal(err)
		}
		if _, err := ocpschema.ValidateStream(&buf); err != nil {
			t.Fatal(err)
		}
		buf.Reset()
		if err := WriteHTML(&buf, r); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(buf.Bytes(), []byte("<b>sda")) {
			t.Fatal("unescaped markup in report.html")
		}
	})
}
