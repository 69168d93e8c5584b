package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shakedown/shakedown/coordinator/bucket"
)

type fakePresigner struct {
	mu   sync.Mutex
	reqs []bucket.PresignRequest
}

func (f *fakePresigner) Presign(_ context.Context, r bucket.PresignRequest) (bucket.Presigned, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, r)
	return bucket.Presigned{Method: r.Method, URL: "https://" + r.PublicHost + ":9000/shakedown/" + r.Key + "?sig", Expires: time.Unix(0, 0).Add(r.TTL)}, nil
}

type fixture struct {
	h     http.Handler
	fleet string
	ps    *fakePresigner
	dir   string
	now   *time.Time
}

func newFixture(t *testing.T, rate float64, burst int) *fixture {
	t.Helper()
	dir := t.TempDir()
	tok, err := LoadTokens(dir)
	if err != nil {
		t.Fatal(err)
	}
	fleet, err := os.ReadFile(filepath.Join(dir, FleetTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := &fixture{fleet: strings.TrimSpace(string(fleet)), ps: &fakePresigner{}, dir: dir, now: &now}
	f.h = New(Config{Tokens: tok, Presigner: f.ps, CertPEM: []byte("PEM"), Fingerprint: "ab12", Rate: rate, Burst: burst,
		Now: func() time.Time { return *f.now }})
	return f
}

func (f *fixture) post(t *testing.T, token, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "https://10.0.0.1:8443/api/v1/presign", strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("response is not JSON: %q", rec.Body.String())
	}
	return rec.Code, out
}

const sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func TestPresignScope(t *testing.T) {
	f := newFixture(t, 0, 0)
	tests := []struct {
		name string
		body string
		code int
	}{
		{"put run artifact", `{"host":"h1","key":"runs/h1/r1/artifacts/inventory.json","method":"PUT","sha256":"` + sha + `","size":0}`, 200},
		{"put latest", `{"host":"h1","key":"hosts/h1/latest.json","method":"put","sha256":"` + strings.ToUpper(sha) + `","size":0}`, 200},
		{"get spec", `{"host":"h1","key":"hosts/h1/spec.yaml","method":"GET"}`, 200},
		{"head", `{"host":"h1","key":"runs/h1/r1/report.html","method":"HEAD"}`, 200},
		{"mac host", `{"host":"aa:bb:cc:dd:ee:ff","key":"runs/aa:bb:cc:dd:ee:ff/r/x","method":"GET"}`, 200},
		{"put spec refused", `{"host":"h1","key":"hosts/h1/spec.yaml","method":"PUT","sha256":"` + sha + `","size":0}`, 403},
		{"other host", `{"host":"h1","key":"runs/h2/r1/checkpoint.json","method":"GET"}`, 403},
		{"dotdot", `{"host":"h1","key":"runs/h1/../h2/r1/x","method":"GET"}`, 403},
		{"dot", `{"host":"h1","key":"runs/h1/./x","method":"GET"}`, 403},
		{"absolute", `{"host":"h1","key":"/runs/h1/r1/x","method":"GET"}`, 403},
		{"double slash", `{"host":"h1","key":"runs/h1//x","method":"GET"}`, 403},
		{"backslash", `{"host":"h1","key":"runs/h1/a\\..\\b","method":"GET"}`, 403},
		{"control", `{"host":"h1","key":"runs/h1/a\nb","method":"GET"}`, 403},
		{"prefix only", `{"host":"h1","key":"runs/h1","method":"GET"}`, 403},
		{"trailing slash", `{"host":"h1","key":"runs/h1/r1/","method":"GET"}`, 403},
		{"elsewhere", `{"host":"h1","key":"h1/x","method":"GET"}`, 403},
		{"host with slash", `{"host":"h1/../h2","key":"runs/h1/../h2/x","method":"GET"}`, 403},
		{"host dotdot", `{"host":"..","key":"runs/../x","method":"GET"}`, 403},
		{"delete", `{"host":"h1","key":"runs/h1/r1/x","method":"DELETE"}`, 400},
		{"put without sha", `{"host":"h1","key":"runs/h1/r1/x","method":"PUT","size":1}`, 400},
		{"put short sha", `{"host":"h1","key":"runs/h1/r1/x","method":"PUT","sha256":"abc","size":1}`, 400},
		{"put without size", `{"host":"h1","key":"runs/h1/r1/x","method":"PUT","sha256":"` + sha + `"}`, 400},
		{"unknown field", `{"host":"h1","key":"runs/h1/r1/x","method":"GET","acl":"public"}`, 400},
		{"not json", `host=h1`, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out := f.post(t, f.fleet, tc.body)
			if code != tc.code {
				t.Fatalf("status %d, want %d: %v", code, tc.code, out)
			}
			if code != 200 && out["error"] == "" {
				t.Fatalf("error response without a message: %v", out)
			}
		})
	}
	// Only the 200s reached the presigner, with the request's host and a 15 min TTL.
	if len(f.ps.reqs) != 5 {
		t.Fatalf("presigner called %d times, want 5", len(f.ps.reqs))
	}
	r := f.ps.reqs[1]
	if r.PublicHost != "10.0.0.1" || r.TTL != 15*time.Minute || r.Method != "PUT" || r.SHA256 != sha {
		t.Fatalf("presign request %+v", r)
	}
}

func TestPresignTokens(t *testing.T) {
	f := newFixture(t, 0, 0)
	get := `{"host":"h1","key":"runs/h1/r1/x","method":"GET"}`
	if code, out := f.post(t, "", get); code != 401 || out["code"] != "unauthorized" {
		t.Fatalf("no token: %d %v", code, out)
	}
	if code, _ := f.post(t, f.fleet+"x", get); code != 401 {
		t.Fatalf("wrong token: %d", code)
	}
	hostTok := GenerateToken()
	if err := os.WriteFile(filepath.Join(f.dir, HostTokensFile), []byte("hosts:\n  h1: "+hostTok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := f.post(t, hostTok, get); code != 200 {
		t.Fatalf("host token, own prefix: %d %v", code, out)
	}
	if code, _ := f.post(t, hostTok, `{"host":"h2","key":"runs/h2/r1/x","method":"GET"}`); code != 403 {
		t.Fatalf("host token used for another host: %d", code)
	}
	if code, out := f.post(t, f.fleet, get); code != 403 || !strings.Contains(out["error"].(string), "own token") {
		t.Fatalf("fleet token for a host with its own token: %d %v", code, out)
	}
	if code, _ := f.post(t, f.fleet, `{"host":"h2","key":"runs/h2/r1/x","method":"GET"}`); code != 200 {
		t.Fatalf("fleet token, unlisted host: %d", code)
	}
	// A world-readable token file is refused at load.
	os.Chmod(filepath.Join(f.dir, FleetTokenFile), 0o644)
	if _, err := LoadTokens(f.dir); err == nil {
		t.Fatal("world-readable fleet token accepted")
	}
}

func TestPresignRateLimit(t *testing.T) {
	f := newFixture(t, 2, 3)
	get := `{"host":"h1","key":"runs/h1/r1/x","method":"GET"}`
	for i := 0; i < 3; i++ {
		if code, _ := f.post(t, f.fleet, get); code != 200 {
			t.Fatalf("request %d within burst: %d", i, code)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/api/v1/presign", strings.NewReader(get))
	req.Header.Set("Authorization", "Bearer "+f.fleet)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("over the burst: %d Retry-After=%q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	// A wrong token does not consume the fleet's budget, and 0.5 s later one token is back.
	*f.now = f.now.Add(500 * time.Millisecond)
	if code, _ := f.post(t, f.fleet, get); code != 200 {
		t.Fatalf("after refill: %d", code)
	}
	if code, _ := f.post(t, f.fleet, get); code != 429 {
		t.Fatalf("second after refill: %d", code)
	}
}

func TestCAAndHealth(t *testing.T) {
	f := newFixture(t, 0, 0)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/ca", nil))
	var ca CA
	if err := json.Unmarshal(rec.Body.Bytes(), &ca); err != nil || ca.PEM != "PEM" || ca.Fingerprint != "ab12" {
		t.Fatalf("ca: %s %v", rec.Body, err)
	}
	rec = httptest.NewRecorder()
	f.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/ca?format=pem", nil))
	if rec.Body.String() != "PEM" {
		t.Fatalf("ca pem: %q", rec.Body)
	}
	tok, _ := LoadTokens(f.dir)
	for _, tc := range []struct {
		err  error
		code int
	}{{nil, 200}, {errors.New("connection refused"), 503}} {
		h := New(Config{Tokens: tok, Presigner: f.ps, Health: func(context.Context) error { return tc.err }})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		b, _ := io.ReadAll(rec.Body)
		if rec.Code != tc.code || (tc.err != nil && !bytes.Contains(b, []byte("connection refused"))) {
			t.Fatalf("healthz with %v: %d %s", tc.err, rec.Code, b)
		}
	}
}

func FuzzCheckKey(f *testing.F) {
	for _, k := range []string{"runs/h/r/x", "hosts/h/spec.yaml", "runs/h/../x", "/runs/h/x", "runs/h//x", "runs/h/a\\b"} {
		f.Add("h", k)
	}
	f.Fuzz(func(t *testing.T, host, key string) {
		if CheckKey(host, key, http.MethodGet) != nil {
			return
		}
		// Anything accepted stays inside the host's prefixes after path cleaning.
		clean := filepath.Clean("/" + key)[1:]
		if clean != key || !(strings.HasPrefix(key, "runs/"+host+"/") || strings.HasPrefix(key, "hosts/"+host+"/")) || strings.Contains(host, "/") {
			t.Fatalf("accepted %q for host %q", key, host)
		}
	})
}

func TestAddHostToken(t *testing.T) {
	f := newFixture(t, 0, 0)
	tok, err := AddHostToken(f.dir, "node7", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AddHostToken(f.dir, "node7", false); err == nil {
		t.Fatal("second token for a host without rotate accepted")
	}
	if _, err := AddHostToken(f.dir, "../x", false); err == nil {
		t.Fatal("invalid host accepted")
	}
	other, err := AddHostToken(f.dir, "node8", false)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(f.dir, HostTokensFile))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %o", fi.Mode().Perm())
	}
	if code, out := f.post(t, tok, `{"host":"node7","key":"runs/node7/r/x","method":"GET"}`); code != 200 {
		t.Fatalf("new host token: %d %v", code, out)
	}
	rotated, err := AddHostToken(f.dir, "node7", true)
	if err != nil || rotated == tok {
		t.Fatalf("rotate: %v", err)
	}
	// The file is re-read on change: the old token is gone, the other host's stays.
	if code, _ := f.post(t, tok, `{"host":"node7","key":"runs/node7/r/x","method":"GET"}`); code != 401 {
		t.Fatalf("rotated-out token: %d", code)
	}
	if code, _ := f.post(t, other, `{"host":"node8","key":"runs/node8/r/x","method":"GET"}`); code != 200 {
		t.Fatalf("other host's token after rotation: %d", code)
	}
}

func TestInfo(t *testing.T) {
	f := newFixture(t, 0, 0)
	tok, _ := LoadTokens(f.dir)
	hostTok, err := AddHostToken(f.dir, "node9", false)
	if err != nil {
		t.Fatal(err)
	}
	h := New(Config{Tokens: tok, Presigner: f.ps, Info: func() Info {
		return Info{Version: "v1.2", IperfPort: 5201, IperfRunning: true}
	}})
	get := func(h http.Handler, token string) (int, string) {
		req := httptest.NewRequest(http.MethodGet, "https://10.0.0.1:8443/api/v1/info", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, strings.TrimSpace(rec.Body.String())
	}
	for _, tc := range []struct {
		name, token string
		code        int
		body        string
	}{
		{"fleet token", f.fleet, 200, `{"version":"v1.2","iperf_port":5201,"iperf_running":true}`},
		{"host token", hostTok, 200, `{"version":"v1.2","iperf_port":5201,"iperf_running":true}`},
		{"no token", "", 401, `{"error":"missing or unknown boot token (Authorization: Bearer <token>)","code":"unauthorized"}`},
		{"wrong token", "not-a-token-at-all", 401, `{"error":"missing or unknown boot token (Authorization: Bearer <token>)","code":"unauthorized"}`},
	} {
		if code, body := get(h, tc.token); code != tc.code || body != tc.body {
			t.Errorf("%s: %d %s", tc.name, code, body)
		}
	}
	// No Info function: no iperf3 server.
	if code, body := get(f.h, f.fleet); code != 200 || body != `{"iperf_port":0,"iperf_running":false}` {
		t.Errorf("without Info: %d %s", code, body)
	}
}
