package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shakedown/shakedown/agent/upload"
	"github.com/shakedown/shakedown/collector/testutil"
	"github.com/shakedown/shakedown/coordinator/bucket"
)

func presign(t *testing.T, c *coordinator, token string, body any) (int, map[string]any, http.Header) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, c.api+"/api/v1/presign", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.httpClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("presign answer is not JSON: %d %q", resp.StatusCode, raw)
	}
	return resp.StatusCode, out, resp.Header
}

func httpGet(t *testing.T, c *coordinator, path string) (int, string, http.Header) {
	t.Helper()
	resp, err := c.httpClient().Get(c.api + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func randomBytes(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return string(b)
}

// TestServeEndToEnd runs the real coordinator (embedded S3 over TLS) and the
// real agent uploader: upload and verify, checksum enforcement, scoping, the
// dashboard, a coordinator crash in the middle of a run with the spool
// draining after the restart, and s3cmd browsing the bucket.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	c := startCoordinator(t, dir)
	t.Logf("banner:\n%s", c.banner)
	if len(c.fp) != 64 {
		t.Fatalf("fingerprint %q", c.fp)
	}
	for _, f := range []string{"fleet-token", "s3-credentials.yaml", "tls/key.pem"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, fi.Mode(), err)
		}
	}
	if code, body, _ := httpGet(t, c, "/api/v1/ca"); code != 200 || !strings.Contains(body, c.fp) || !strings.Contains(body, "BEGIN CERTIFICATE") {
		t.Fatalf("/api/v1/ca: %d %s", code, body)
	}
	if code, body, _ := httpGet(t, c, "/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz: %d %q", code, body)
	}

	// Upload a run through the agent's uploader.
	spool := t.TempDir()
	u := newUploader(t, c, "node-a", spool)
	stopUploader := runUploader(t, u)
	src := t.TempDir()
	start := time.Now()
	run := []object{
		{"runs/node-a/r1/artifacts/fio-nvme0n1.json", randomBytes(6 << 20)},
		{"runs/node-a/r1/checkpoint.json", `{"run":{"id":"r1","host_id":"node-a","state":"Completed","result":"pass","profile":"quick","updated_at":"2026-11-28T10:00:00Z"}}`},
		{"runs/node-a/r1/report.json", `{"run":{"id":"r1","state":"Completed","result":"pass","profile":"quick","updated_at":"2026-11-28T10:00:01Z"}}`},
		{"runs/node-a/r1/report.html", "<!doctype html><title>r1</title><h1>node-a passed</h1>"},
		{"hosts/node-a/latest.json", `{"run_id":"r1"}`},
		{"runs/node-a/r1/artifacts/empty.log", ""},
	}
	for i, o := range run {
		p := filepath.Join(src, strconv.Itoa(i))
		os.WriteFile(p, []byte(o.body), 0o644)
		if err := u.Enqueue(o.key, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := flush(u, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("uploaded and verified %d objects (6 MiB + small) in %s", len(run), time.Since(start).Round(time.Millisecond))
	checkObjects(t, c.rootStore(), run)
	if b, err := u.Get(context.Background(), "hosts/node-a/latest.json"); err != nil || string(b) != `{"run_id":"r1"}` {
		t.Fatalf("Get: %q %v", b, err)
	}
	if _, err := u.Get(context.Background(), "hosts/node-a/spec.yaml"); !errors.Is(err, upload.ErrNotFound) {
		t.Fatalf("Get of a missing spec: %v", err)
	}

	t.Run("checksum mismatch refused", func(t *testing.T) {
		good := []byte("the declared body")
		code, p, _ := presign(t, c, c.fleetToken(), map[string]any{"host": "node-a", "key": "runs/node-a/r1/tampered", "method": "PUT", "sha256": sha(good), "size": len(good)})
		if code != 200 {
			t.Fatalf("presign: %d %v", code, p)
		}
		bad := []byte("another body, same size!")[:len(good)]
		req, _ := http.NewRequest(http.MethodPut, p["url"].(string), bytes.NewReader(bad))
		for k, v := range p["headers"].(map[string]any) {
			req.Header.Set(k, v.(string))
		}
		resp, err := c.httpClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("PUT of a body not matching the signed sha256: %d %s", resp.StatusCode, msg)
		}
		if _, err := c.rootStore().Get(context.Background(), "runs/node-a/r1/tampered", 1<<20); !errors.Is(err, bucket.ErrNotFound) {
			t.Fatalf("refused object exists: %v", err)
		}
		// The signed header cannot be swapped for the bad body's checksum.
		sum, _ := hex.DecodeString(sha(bad))
		req, _ = http.NewRequest(http.MethodPut, p["url"].(string), bytes.NewReader(bad))
		for k, v := range p["headers"].(map[string]any) {
			req.Header.Set(k, v.(string))
		}
		req.Header.Set("x-amz-checksum-sha256", base64.StdEncoding.EncodeToString(sum))
		resp, err = c.httpClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("PUT with a swapped checksum header: %d", resp.StatusCode)
		}
	})

	t.Run("scope and token", func(t *testing.T) {
		code, out, _ := presign(t, c, c.fleetToken(), map[string]any{"host": "node-a", "key": "runs/node-b/r1/checkpoint.json", "method": "GET"})
		if code != 403 || !strings.Contains(out["error"].(string), "outside") {
			t.Fatalf("other host's prefix: %d %v", code, out)
		}
		code, out, _ = presign(t, c, c.fleetToken(), map[string]any{"host": "node-a", "key": "runs/node-a/../node-b/x", "method": "GET"})
		if code != 403 {
			t.Fatalf("dot-dot key: %d %v", code, out)
		}
		code, out, _ = presign(t, c, c.fleetToken(), map[string]any{"host": "node-a", "key": "hosts/node-a/spec.yaml", "method": "PUT", "sha256": sha(nil), "size": 0})
		if code != 403 {
			t.Fatalf("agent writing its spec: %d %v", code, out)
		}
		code, out, hdr := presign(t, c, "not-the-token", map[string]any{"host": "node-a", "key": "runs/node-a/r1/x", "method": "GET"})
		if code != 401 || hdr.Get("WWW-Authenticate") == "" {
			t.Fatalf("wrong token: %d %v", code, out)
		}
	})

	t.Run("dashboard", func(t *testing.T) {
		code, body, _ := httpGet(t, c, "/")
		if code != 200 || !strings.Contains(body, `data-host="node-a"`) || !strings.Contains(body, `data-run="r1" data-verdict="pass"`) {
			t.Fatalf("dashboard: %d\n%s", code, body)
		}
		code, body, hdr := httpGet(t, c, "/o/runs/node-a/r1/report.html")
		if code != 200 || body != run[3].body || !strings.HasPrefix(hdr.Get("Content-Security-Policy"), "sandbox") {
			t.Fatalf("report.html: %d %q %v", code, body, hdr)
		}
	})

	// The coordinator dies in the middle of a run; the agent keeps going.
	c.kill()
	run2 := []object{
		{"runs/node-a/r2/checkpoint.json", `{"run":{"id":"r2","state":"Storage","profile":"full","updated_at":"2026-11-28T11:00:00Z"}}`},
		{"runs/node-a/r2/artifacts/smart-sda.txt", randomBytes(100 << 10)},
	}
	for _, o := range run2 {
		if err := u.EnqueueBytes(o.key, []byte(o.body)); err != nil {
			t.Fatal(err)
		}
	}
	// A later checkpoint supersedes the waiting one.
	run2[0].body = `{"run":{"id":"r2","state":"FailedHolding","failed_stage":"Storage","profile":"full","updated_at":"2026-11-28T11:05:00Z"}}`
	if err := u.EnqueueBytes(run2[0].key, []byte(run2[0].body)); err != nil {
		t.Fatal(err)
	}
	err := flush(u, 1500*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("flush while the coordinator is down: %v", err)
	}
	if n, _ := u.Pending(); n != 2 {
		t.Fatalf("pending during the outage %d, want 2", n)
	}
	t.Logf("during the outage: %v", err)
	// The agent itself restarts too (a reboot): a new uploader on the same spool.
	stopUploader()
	u = newUploader(t, c, "node-a", spool)
	runUploader(t, u)

	fp := c.fp
	c.start() // same data dir, same ports
	if c.fp != fp {
		t.Fatalf("certificate changed across restart: %s -> %s", fp, c.fp)
	}
	if err := flush(u, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	checkObjects(t, c.rootStore(), append(run, run2...))
	code, body, _ := httpGet(t, c, "/")
	if code != 200 || !strings.Contains(body, `data-run="r2" data-verdict="running"`) || !strings.Contains(body, "Storage") || !strings.Contains(body, `data-run="r1" data-verdict="pass"`) {
		t.Fatalf("dashboard after restart: %d\n%s", code, body)
	}
	// A clean restart keeps everything too.
	c.stop()
	c.start()
	checkObjects(t, c.rootStore(), append(run, run2...))

	t.Run("s3cmd", func(t *testing.T) {
		testutil.RequireTools(t, "s3cmd")
		creds, _ := bucket.EnsureCredentials(dir)
		hostport := strings.TrimPrefix(c.s3, "https://")
		cfg := filepath.Join(t.TempDir(), "s3cfg")
		os.WriteFile(cfg, []byte("[default]\naccess_key = "+creds.AccessKey+"\nsecret_key = "+creds.SecretKey+
			"\nhost_base = "+hostport+"\nhost_bucket = "+hostport+"\nuse_https = True\ncheck_ssl_certificate = True\nca_certs_file = "+
			filepath.Join(dir, "tls", "cert.pem")+"\nbucket_location = us-east-1\nsignature_v2 = False\n"), 0o600)
		s3cmd := func(args ...string) string {
			t.Helper()
			out, err := exec.Command("s3cmd", append([]string{"-c", cfg}, args...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("s3cmd %v: %v\n%s", args, err, out)
			}
			return string(out)
		}
		ls := s3cmd("ls", "-r", "s3://shakedown/runs/node-a/")
		for _, o := range append(run[:4], run2...) {
			if !strings.Contains(ls, "s3://shakedown/"+o.key) {
				t.Errorf("s3cmd ls misses %s:\n%s", o.key, ls)
			}
		}
		dst := filepath.Join(t.TempDir(), "fio.json")
		s3cmd("get", "s3://shakedown/"+run[0].key, dst)
		got, _ := os.ReadFile(dst)
		if sha(got) != sha([]byte(run[0].body)) {
			t.Fatalf("s3cmd get: %d bytes differ", len(got))
		}
	})
}

// TestServeExternalS3AndRateLimit runs a second coordinator whose bucket is
// the first one's S3 endpoint, configured as an external S3, with a tight
// presign rate limit.
func TestServeExternalS3AndRateLimit(t *testing.T) {
	dir1 := t.TempDir()
	c1 := startCoordinator(t, dir1)
	creds, _ := bucket.EnsureCredentials(dir1)
	dir2 := t.TempDir()
	os.WriteFile(filepath.Join(dir2, "secret"), []byte(creds.SecretKey+"\n"), 0o600)
	cfg := filepath.Join(dir2, "external.yaml")
	os.WriteFile(cfg, []byte("endpoint: "+c1.s3+"\nbucket: shakedown\naccess_key: "+creds.AccessKey+
		"\nsecret_key_file: secret\nca_file: "+filepath.Join(dir1, "tls", "cert.pem")+"\n"), 0o600)
	c2 := startCoordinator(t, dir2, "--external-s3", cfg, "--rate", "0.05", "--burst", "4")
	if c2.s3 != c1.s3 {
		t.Fatalf("external coordinator uses %s, want %s", c2.s3, c1.s3)
	}
	if _, err := os.Stat(filepath.Join(dir2, "objects")); !os.IsNotExist(err) {
		t.Fatalf("external mode created an embedded bucket: %v", err)
	}
	// The agent talks to coordinator 2 only (pinning coordinator 2's
	// certificate) and trusts the S3 endpoint through its CA.
	pem, _ := os.ReadFile(filepath.Join(dir1, "tls", "cert.pem"))
	u, err := upload.New(upload.Config{Coordinator: c2.api, Token: c2.fleetToken(), HostID: "node-x", SpoolDir: t.TempDir(),
		CAFingerprint: c2.fp, CAPEM: pem, MinBackoff: 20 * time.Millisecond, MaxBackoff: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	runUploader(t, u)
	obj := object{"runs/node-x/r9/report.json", `{"result":"fail","state":"Completed","failed_stage":"GPU"}`}
	u.EnqueueBytes(obj.key, []byte(obj.body))
	if err := flush(u, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	checkObjects(t, c1.rootStore(), []object{obj})
	if code, body, _ := httpGet(t, c2, "/"); code != 200 || !strings.Contains(body, `data-run="r9" data-verdict="fail"`) {
		t.Fatalf("external dashboard: %d\n%s", code, body)
	}

	// Rate limit: the upload used 2 of the fleet token's burst of 4.
	get := map[string]any{"host": "node-x", "key": "runs/node-x/r9/report.json", "method": "GET"}
	var codes []int
	for i := 0; i < 4; i++ {
		code, _, hdr := presign(t, c2, c2.fleetToken(), get)
		codes = append(codes, code)
		if code == 429 {
			if ra, _ := strconv.Atoi(hdr.Get("Retry-After")); ra < 1 {
				t.Fatalf("429 without Retry-After: %v", hdr)
			}
			break
		}
	}
	if codes[len(codes)-1] != 429 || len(codes) > 3 {
		t.Fatalf("presign status codes %v: want 429 once the burst is spent", codes)
	}
	// Another token has its own budget.
	hostTok := "0123456789abcdef0123456789abcdef"
	os.WriteFile(filepath.Join(dir2, "host-tokens.yaml"), []byte("hosts:\n  node-y: "+hostTok+"\n"), 0o600)
	if code, out, _ := presign(t, c2, hostTok, map[string]any{"host": "node-y", "key": "hosts/node-y/spec.yaml", "method": "GET"}); code != 200 {
		t.Fatalf("host token while the fleet token is limited: %d %v", code, out)
	}
}
