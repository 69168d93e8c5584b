package dashboard

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shakedown/shakedown/collector/testutil"
)

// TestDashboardInChromium renders the page in a real browser: the stylesheet
// loads under the page's CSP, badges get their colours, and nothing hostile
// from the bucket runs.
func TestDashboardInChromium(t *testing.T) {
	testutil.RequireTools(t, "chromium")
	srv := newServer(t, fleet())
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath("chromium"), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("section.host"))); err != nil {
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
	rows := eval(`String(document.querySelectorAll("tr.run").length)`)
	failColor := eval(`getComputedStyle(document.querySelector("tr[data-run=r1] .badge")).backgroundColor`)
	passColor := eval(`getComputedStyle(document.querySelector("tr[data-run=r-old] .badge")).backgroundColor`)
	injected := eval(`String(document.querySelectorAll("img, b, script").length)`)
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	if rows != "5" || title != "shakedown coordinator" {
		t.Fatalf("rows %s title %q", rows, title)
	}
	if failColor != "rgb(198, 40, 40)" || passColor != "rgb(26, 127, 55)" {
		t.Fatalf("badge colours fail=%s pass=%s: stylesheet not applied", failColor, passColor)
	}
	if injected != "0" {
		t.Fatal("markup from the bucket became elements")
	}
}
