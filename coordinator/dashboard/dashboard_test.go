package dashboard

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/shakedown/shakedown/coordinator/bucket"
)

type memBucket struct {
	objs    map[string][]byte
	mod     map[string]time.Time
	listErr error
}

func (m *memBucket) Bucket() string { return "shakedown" }

func (m *memBucket) List(_ context.Context, prefix string) ([]bucket.Object, error) {
	if m.listErr != nil {
		return nil, m.listErr
	}
	var out []bucket.Object
	for k, v := range m.objs {
		if strings.HasPrefix(k, prefix) {
			out = append(out, bucket.Object{Key: k, Size: int64(len(v)), LastModified: m.mod[k]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (m *memBucket) Get(_ context.Context, key string, _ int64) ([]byte, error) {
	b, ok := m.objs[key]
	if !ok {
		return nil, bucket.ErrNotFound
	}
	return b, nil
}

func (m *memBucket) Open(_ context.Context, key string) (io.ReadCloser, int64, error) {
	b, ok := m.objs[key]
	if !ok {
		return nil, 0, bucket.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
}

// fleet is a bucket with a few hosts and runs, as agents would leave it.
func fleet() *memBucket {
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	m := &memBucket{objs: map[string][]byte{}, mod: map[string]time.Time{}}
	put := func(key, body string, at time.Duration) { m.objs[key] = []byte(body); m.mod[key] = t0.Add(at) }
	put("hosts/node1/spec.yaml", "cpu: {}\n", 0)
	put("hosts/node3/spec.yaml", "cpu: {}\n", 0)
	// node1: an older passed run with a report, a newer run still in CPUStress.
	put("runs/node1/r-old/checkpoint.json", `{"run":{"id":"r-old","state":"Completed","result":"pass","profile":"full","updated_at":"2026-11-01T10:30:00Z"}}`, 30*time.Minute)
	put("runs/node1/r-old/report.json", `{"run":{"id":"r-old","state":"Completed","result":"pass","profile":"full","updated_at":"2026-11-01T10:31:00Z"}}`, 31*time.Minute)
	put("runs/node1/r-old/report.html", `<html><body><h1>report r-old</h1><script>document.title='x'</script></body></html>`, 31*time.Minute)
	put("runs/node1/r-new/checkpoint.json", `{"state":"CPUStress","profile":"quick","updated_at":"2026-11-02T08:00:00Z"}`, 22*time.Hour)
	put("runs/node1/r-new/artifacts/inventory.json", `{}`, 22*time.Hour)
	// node2: failed in Storage, held.
	put("runs/node2/r1/checkpoint.json", `{"state":"FailedHolding","failed_stage":"Storage","profile":"full","updated_at":"2026-11-01T12:00:00Z"}`, 2*time.Hour)
	// node4: a hostile run id and a broken checkpoint.
	put("runs/node4/<img src=x onerror=alert(1)>/checkpoint.json", `{"state":"<b>SMART</b>"}`, time.Hour)
	put("runs/node4/broken/checkpoint.json", `{"state":`, 2*time.Hour)
	return m
}

func newServer(t *testing.T, b Bucket) *httptest.Server {
	t.Helper()
	h, err := New(Config{Bucket: b, Now: func() time.Time { return time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

type row struct{ host, run, verdict, badge, cells string }

func TestDashboardPage(t *testing.T) {
	srv := newServer(t, fleet())
	resp, body := get(t, srv.URL+"/")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("GET /: %d %v", resp.StatusCode, resp.Header)
	}
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var rows []row
	var hosts []string
	var hostBadge = map[string]string{}
	links := map[string]string{}
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.Data {
		case "img", "b", "script":
			t.Errorf("element <%s> injected into the page", n.Data)
		case "section":
			hosts = append(hosts, attr(n, "data-host"))
			walk(n, func(c *html.Node) {
				if c.Type == html.ElementNode && c.Data == "span" && strings.HasPrefix(attr(c, "class"), "badge") && hostBadge[attr(n, "data-host")] == "" {
					hostBadge[attr(n, "data-host")] = text(c)
				}
				if c.Type == html.ElementNode && c.Data == "tr" && attr(c, "class") == "run" {
					r := row{host: attr(n, "data-host"), run: attr(c, "data-run"), verdict: attr(c, "data-verdict"), cells: text(c)}
					walk(c, func(s *html.Node) {
						if s.Type == html.ElementNode && s.Data == "span" && strings.HasPrefix(attr(s, "class"), "badge") {
							r.badge = attr(s, "class")
						}
					})
					rows = append(rows, r)
				}
			})
		case "a":
			links[text(n)+" "+attr(n, "href")] = attr(n, "href")
		}
	})
	if got := strings.Join(hosts, ","); got != "node1,node2,node3,node4" {
		t.Fatalf("hosts %s", got)
	}
	want := []row{
		{"node1", "r-new", "running", "badge running", "r-new running CPUStress – quick 2026-11-02 08:00:00Z checkpoint.json"},
		{"node1", "r-old", "pass", "badge pass", "r-old pass Completed – full 2026-11-01 10:30:00Z report.html report.json checkpoint.json"},
		{"node2", "r1", "running", "badge fail", "r1 running FailedHolding Storage full 2026-11-01 12:00:00Z checkpoint.json"},
		{"node4", "broken", "unknown", "badge unknown", ""},
		{"node4", "<img src=x onerror=alert(1)>", "running", "badge running", "<img src=x onerror=alert(1)> running <b>SMART</b> – 2026-11-01 11:00:00Z checkpoint.json"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %+v", rows)
	}
	for i, w := range want {
		g := rows[i]
		if g.host != w.host || g.run != w.run || g.verdict != w.verdict || g.badge != w.badge || (w.cells != "" && g.cells != w.cells) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	if !strings.Contains(rows[3].cells, "unreadable: parse JSON") {
		t.Errorf("broken checkpoint not reported: %q", rows[3].cells)
	}
	if hostBadge["node3"] != "no runs" || hostBadge["node1"] != "running" {
		t.Errorf("host badges %v", hostBadge)
	}
	href := links["report.html /o/runs/node1/r-old/report.html"]
	if href == "" {
		t.Fatalf("no report link in %v", links)
	}
	if links["checkpoint.json /o/runs/node4/%3Cimg%20src=x%20onerror=alert%281%29%3E/checkpoint.json"] == "" {
		t.Errorf("hostile key not escaped in link: %v", links)
	}
	// The report opens through the coordinator, sandboxed.
	resp, body = get(t, srv.URL+href)
	if resp.StatusCode != 200 || !strings.Contains(body, "report r-old") || !strings.HasPrefix(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("report: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	resp, body = get(t, srv.URL+"/o/runs/node4/%3Cimg%20src=x%20onerror=alert%281%29%3E/checkpoint.json")
	if resp.StatusCode != 200 || body != `{"state":"<b>SMART</b>"}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("hostile key object: %d %q", resp.StatusCode, body)
	}
	resp, _ = get(t, srv.URL+"/static/shakedown.css")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("css: %d %v", resp.StatusCode, resp.Header)
	}
}

// rowsOf parses the page's run rows.
func rowsOf(t *testing.T, body string) map[string]row {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]row{}
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "tr" && attr(n, "class") == "run" {
			r := row{run: attr(n, "data-run"), verdict: attr(n, "data-verdict"), cells: text(n)}
			walk(n, func(s *html.Node) {
				if s.Type == html.ElementNode && s.Data == "span" && strings.HasPrefix(attr(s, "class"), "badge") {
					r.badge = attr(s, "class")
				}
				if s.Type == html.ElementNode && s.Data == "a" && attr(s, "class") == "report" {
					r.host = attr(s, "href") // the report.html link
				}
			})
			rows[r.run] = r
		}
	})
	return rows
}

// TestDashboardPrefersCheckpoint: report.json is written during Reporting,
// before the run completes, so its run.state stays "Reporting"; the
// checkpoint, rewritten at every transition, has the final state. The row
// takes state, result and failed stage from the checkpoint, fills only what
// it lacks from the report, and links report.html.
func TestDashboardPrefersCheckpoint(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	m := &memBucket{objs: map[string][]byte{}, mod: map[string]time.Time{}}
	put := func(key, body string) { m.objs[key] = []byte(body); m.mod[key] = t0 }
	// As the agent leaves it: report written in Reporting, final checkpoint at Completed.
	put("runs/h1/done/report.json", `{"schema":"shakedown.report","run":{"id":"done","host_id":"h1","profile":"safe","state":"Reporting","updated_at":"2026-11-28T10:04:00Z"}}`)
	put("runs/h1/done/report.html", `<html></html>`)
	put("runs/h1/done/checkpoint.json", `{"schema":"shakedown.checkpoint","version":1,"at":"2026-11-28T10:05:00Z","run":{"id":"done","host_id":"h1","profile":"safe","state":"Completed","result":"pass","updated_at":"2026-11-28T10:05:00Z"},"report":"runs/h1/done/report.json"}`)
	// Closed by a later boot: the checkpoint says failed in CPUStress, the report never came.
	put("runs/h1/lost/checkpoint.json", `{"run":{"id":"lost","state":"Completed","result":"fail","failed_stage":"CPUStress","profile":"full","updated_at":"2026-11-28T09:00:00Z"},"closed":{"stage":"CPUStress"}}`)
	// A checkpoint without a profile: the report supplies it, not the state.
	put("runs/h1/noprof/checkpoint.json", `{"run":{"id":"noprof","state":"Completed","result":"fail","failed_stage":"SMART","updated_at":"2026-11-28T08:00:00Z"}}`)
	put("runs/h1/noprof/report.json", `{"run":{"id":"noprof","state":"Reporting","profile":"quick","failed_stage":"Storage","updated_at":"2026-11-28T07:59:00Z"}}`)
	// An unreadable checkpoint: the report is shown, with the problem.
	put("runs/h1/badcp/checkpoint.json", `{"run":`)
	put("runs/h1/badcp/report.json", `{"run":{"id":"badcp","state":"Reporting","profile":"full","updated_at":"2026-11-28T06:00:00Z"}}`)
	srv := newServer(t, m)
	resp, body := get(t, srv.URL+"/")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /: %d", resp.StatusCode)
	}
	rows := rowsOf(t, body)
	for run, w := range map[string]row{
		"done":   {host: "/o/runs/h1/done/report.html", verdict: "pass", badge: "badge pass", cells: "done pass Completed – safe 2026-11-28 10:05:00Z report.html report.json checkpoint.json"},
		"lost":   {verdict: "fail", badge: "badge fail", cells: "lost fail Completed CPUStress full 2026-11-28 09:00:00Z checkpoint.json"},
		"noprof": {verdict: "fail", badge: "badge fail", cells: "noprof fail Completed SMART quick 2026-11-28 08:00:00Z report.json checkpoint.json"},
		"badcp":  {verdict: "running", badge: "badge running", cells: "badcp running Reporting – full 2026-11-28 06:00:00Z report.json checkpoint.json (unreadable: checkpoint.json: parse JSON: unexpected end of JSON input)"},
	} {
		g, ok := rows[run]
		if !ok {
			t.Errorf("no row for %s", run)
			continue
		}
		if g.host != w.host || g.verdict != w.verdict || g.badge != w.badge || g.cells != w.cells {
			t.Errorf("%s:\n got %+v\nwant %+v", run, g, w)
		}
	}
}

func TestObjectRoute(t *testing.T) {
	m := fleet()
	m.objs["secrets/root.yaml"] = []byte("no")
	m.objs["runs/node1/r-old/artifacts/blob.svg"] = []byte("<svg onload=alert(1)>")
	srv := newServer(t, m)
	for _, tc := range []struct {
		path string
		code int
		ct   string
	}{
		{"/o/secrets/root.yaml", 404, ""},
		{"/o/runs/node1/r-old/../../../secrets/root.yaml", 404, ""},
		{"/o/runs/node1/nope.json", 404, ""},
		{"/o/hosts/node1/spec.yaml", 200, "text/plain; charset=utf-8"},
		{"/o/runs/node1/r-old/artifacts/blob.svg", 200, "application/octet-stream"},
	} {
		resp, body := get(t, srv.URL+tc.path)
		if resp.StatusCode != tc.code || (tc.ct != "" && resp.Header.Get("Content-Type") != tc.ct) {
			t.Errorf("%s: %d %s %q", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
}

func TestDashboardBucketDown(t *testing.T) {
	srv := newServer(t, &memBucket{listErr: errors.New("dial tcp 127.0.0.1:9000: connection refused")})
	resp, body := get(t, srv.URL+"/")
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "connection refused") || !strings.Contains(body, `role="alert"`) {
		t.Fatalf("bucket down: %d %s", resp.StatusCode, body)
	}
}

func TestDashboardEmptyAndCapped(t *testing.T) {
	srv := newServer(t, &memBucket{objs: map[string][]byte{}})
	if _, body := get(t, srv.URL+"/"); !strings.Contains(body, `id="empty"`) {
		t.Fatalf("empty bucket page: %s", body)
	}
	m := &memBucket{objs: map[string][]byte{}, mod: map[string]time.Time{}}
	for i := 0; i < 25; i++ {
		k := "runs/h/r" + string(rune('a'+i)) + "/checkpoint.json"
		m.objs[k] = []byte(`{"state":"Completed","result":"pass"}`)
		m.mod[k] = time.Unix(int64(i), 0)
	}
	h, _ := New(Config{Bucket: m, RunsPerHost: 20})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if n := strings.Count(rec.Body.String(), `<tr class="run"`); n != 20 || !strings.Contains(rec.Body.String(), "5 older runs not shown") {
		t.Fatalf("%d rows", n)
	}
	if !strings.Contains(rec.Body.String(), `data-run="ry"`) || strings.Contains(rec.Body.String(), `data-run="ra"`) {
		t.Fatal("not the newest 20 runs")
	}
}

func FuzzParseRun(f *testing.F) {
	for _, s := range []string{
		`{"run":{"id":"r","state":"Completed","result":"pass","updated_at":"2026-11-01T10:31:00Z"}}`,
		`{"state":"CPUStress","profile":"quick"}`, `{"state":`, `[]`, `null`, `{"run":"x","result":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var r RunView
		if err := parseRun(raw, &r); err != nil {
			return
		}
		switch r.Badge() {
		case "pass", "fail", "warn", "running", "unknown":
		default:
			t.Fatalf("badge %q", r.Badge())
		}
	})
}
