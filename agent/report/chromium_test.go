package report

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shakedown/shakedown/collector/testutil"
)

// TestReportInChromium opens report.html from a file, as an operator opens a
// downloaded copy: the verdict is visible and coloured, the charts render,
// the page fetched nothing, and it prints to a PDF.
func TestReportInChromium(t *testing.T) {
	testutil.RequireTools(t, "chromium")
	for _, tc := range []struct {
		name, result, text, colour string
		r                          *Report
	}{
		{"held", "held", "HELD", "rgb(178, 106, 0)", sample("FailedHolding", false, "SMART", false)},
		{"pass", "pass", "PASS", "rgb(27, 127, 59)", sample("Completed", false, "", false)},
		{"abandoned", "fail", "FAIL", "rgb(198, 40, 40)", sample("Completed", true, "SMART", false)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteHTML(&buf, tc.r); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(t.TempDir(), "report.html")
			if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath("chromium"), chromedp.NoSandbox,
				chromedp.Headless, chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true))
			actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
			defer cancel()
			ctx, cancel := chromedp.NewContext(actx)
			defer cancel()
			ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
			defer cancel()
			if err := chromedp.Do(ctx, chromedp.Navigate("file://"+p), chromedp.WaitVisible(chromedp.CSS("#verdict"))); err != nil {
				t.Fatal(err)
			}
			eval := func(js string) string {
				t.Helper()
				v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
				if err != nil {
					t.Fatalf("%s: %v", js, err)
				}
				return v
			}
			if got := eval(`document.querySelector("#verdict .big").innerText`); got != tc.text {
				t.Errorf("verdict text %q, want %q", got, tc.text)
			}
			if got := eval(`getComputedStyle(document.querySelector("#verdict")).backgroundColor`); got != tc.colour {
				t.Errorf("verdict colour %s, want %s (inline CSS not applied?)", got, tc.colour)
			}
			// The verdict is on the first screen, above the fold.
			if got := eval(`String(document.querySelector("#verdict").getBoundingClientRect().top < 100)`); got != "true" {
				t.Error("verdict is not at the top of the page")
			}
			if got := eval(`String(document.querySelectorAll("figure.chart svg polyline").length > 0 && document.querySelector("figure.chart svg").getBoundingClientRect().width > 300)`); got != "true" {
				t.Error("temperature chart not rendered")
			}
			if got := eval(`String(performance.getEntriesByType("resource").length)`); got != "0" {
				t.Errorf("the page fetched %s resources: %s", got, eval(`performance.getEntriesByType("resource").map(e => e.name).join(" ")`))
			}
			if got := eval(`String(document.querySelectorAll("tr.stage").length)`); got != "8" {
				t.Errorf("%s stage rows, want 8", got)
			}
			pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFPrintBackground()))
			if err != nil {
				t.Fatal(err)
			}
			pages := len(regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(pdf, -1))
			if !bytes.HasPrefix(pdf, []byte("%PDF-")) || len(pdf) < 10000 || pages < 1 || pages > 12 {
				t.Errorf("PDF: %d bytes, %d pages", len(pdf), pages)
			}
			t.Logf("%s: PDF %d bytes, %d pages", tc.name, len(pdf), pages)
		})
	}
}
