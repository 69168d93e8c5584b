package upload

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeBucket is a coordinator and an S3 endpoint in one TLS test server. Its
// S3 side checks x-amz-checksum-sha256 against the body like a real bucket.
type fakeBucket struct {
	srv *httptest.Server

	mu         sync.Mutex
	objects    map[string][]byte
	puts       map[string]int
	down       bool // every request 503
	noChecksum bool // HEAD returns no stored checksum
	corrupt    bool // store a different body than received
	refuse     string
	token      string
}

func newFakeBucket(t *testing.T) *fakeBucket {
	f := &fakeBucket{objects: map[string][]byte{}, puts: map[string]int{}, token: "tok"}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/presign", f.presign)
	mux.HandleFunc("/s3/", f.s3)
	f.srv = httptest.NewTLSServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeBucket) set(fn func(f *fakeBucket)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeBucket) get(key string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.objects[key]
	return b, ok
}

func (f *fakeBucket) presign(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	down, refuse, token := f.down, f.refuse, f.token
	f.mu.Unlock()
	if down {
		http.Error(w, `{"error":"down"}`, http.StatusServiceUnavailable)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+token {
		http.Error(w, `{"error":"bad token"}`, http.StatusUnauthorized)
		return
	}
	var b presignBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		http.Error(w, `{"error":"json"}`, http.StatusBadRequest)
		return
	}
	if b.Key == refuse || !strings.HasPrefix(b.Key, "runs/"+b.Host+"/") && !strings.HasPrefix(b.Key, "hosts/"+b.Host+"/") {
		w.WriteHeader(http.StatusForbidden)
		json.NewEncoder(w).Encode(map[string]string{"error": "outside prefix"})
		return
	}
	p := presigned{Method: b.Method, URL: f.srv.URL + "/s3/" + b.Key + "?X-Amz-Signature=secret", Headers: map[string]string{}}
	switch b.Method {
	case http.MethodPut:
		sum, _ := hex.DecodeString(b.SHA256)
		p.Headers["x-amz-checksum-sha256"] = base64.StdEncoding.EncodeToString(sum)
	case http.MethodHead:
		p.Headers["x-amz-checksum-mode"] = "ENABLED"
	}
	json.NewEncoder(w).Encode(p)
}

func (f *fakeBucket) s3(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, "/s3/")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	switch r.Method {
	case http.MethodPut:
		body, _ := io.ReadAll(r.Body)
		sum := sha256.Sum256(body)
		if r.Header.Get("x-amz-checksum-sha256") != base64.StdEncoding.EncodeToString(sum[:]) {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, "<Error><Code>BadDigest</Code><Message>The SHA256 you specified did not match the calculated checksum.</Message></Error>")
			return
		}
		if f.corrupt && len(body) > 0 {
			body = append([]byte{}, body...)
			body[len(body)-1] ^= 1 // same size: only a checksum can tell
		}
		f.objects[key] = body
		f.puts[key]++
	case http.MethodHead, http.MethodGet:
		b, ok := f.objects[key]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		sum := sha256.Sum256(b)
		if !f.noChecksum && r.Header.Get("x-amz-checksum-mode") == "ENABLED" {
			w.Header().Set("x-amz-checksum-sha256", base64.StdEncoding.EncodeToString(sum[:]))
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		if r.Method == http.MethodGet {
			w.Write(b)
		}
	}
}

func newUploader(t *testing.T, f *fakeBucket, spool string) *Uploader {
	t.Helper()
	u, err := New(Config{
		Coordinator: f.srv.URL, Token: "tok", HostID: "h1", SpoolDir: spool,
		CAFingerprint: "sha256:" + fingerprint(f.srv.Certificate().Raw),
		MinBackoff:    5 * time.Millisecond, MaxBackoff: 40 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func fingerprint(der []byte) string {
	s := sha256.Sum256(der)
	return hex.EncodeToString(s[:])
}

func run(t *testing.T, u *Uploader) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { u.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func flush(t *testing.T, u *Uploader, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return u.Flush(ctx)
}

func spoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	des, _ := os.ReadDir(dir)
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return out
}

func TestUploadAndVerify(t *testing.T) {
	f := newFakeBucket(t)
	spool := t.TempDir()
	u := newUploader(t, f, spool)
	src := filepath.Join(t.TempDir(), "inventory.json")
	os.WriteFile(src, []byte(`{"cpus":2}`), 0o644)
	if err := u.Enqueue("runs/h1/r1/artifacts/inventory.json", src); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(src, []byte("changed after enqueue"), 0o644) // the spool has its own copy
	if err := u.EnqueueBytes("runs/h1/r1/empty", nil); err != nil {
		t.Fatal(err)
	}
	if n, b := u.Pending(); n != 2 || b != 10 {
		t.Fatalf("pending %d %d, want 2 10", n, b)
	}
	run(t, u)
	if err := flush(t, u, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if b, _ := f.get("runs/h1/r1/artifacts/inventory.json"); string(b) != `{"cpus":2}` {
		t.Fatalf("stored %q", b)
	}
	if b, ok := f.get("runs/h1/r1/empty"); !ok || len(b) != 0 {
		t.Fatalf("empty object: %q %v", b, ok)
	}
	if files := spoolFiles(t, filepath.Join(spool, queueDir)); len(files) != 0 {
		t.Fatalf("spool not empty: %v", files)
	}
	if st := u.Status(); st.Uploaded != 2 || st.Pending != 0 || st.LastError != "" {
		t.Fatalf("status %+v", st)
	}
}

func TestSupersedeKeepsNewest(t *testing.T) {
	f := newFakeBucket(t)
	u := newUploader(t, f, t.TempDir())
	for _, s := range []string{"Inventory", "SMART", "CPUStress"} {
		if err := u.EnqueueBytes("runs/h1/r1/checkpoint.json", []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	u.EnqueueBytes("runs/h1/r1/other", []byte("x"))
	if n, _ := u.Pending(); n != 2 {
		t.Fatalf("pending %d, want 2 (older checkpoints superseded)", n)
	}
	run(t, u)
	if err := flush(t, u, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if b, _ := f.get("runs/h1/r1/checkpoint.json"); string(b) != "CPUStress" || f.puts["runs/h1/r1/checkpoint.json"] != 1 {
		t.Fatalf("checkpoint %q after %d puts", b, f.puts["runs/h1/r1/checkpoint.json"])
	}
}

func TestOutageThenDrain(t *testing.T) {
	f := newFakeBucket(t)
	u := newUploader(t, f, t.TempDir())
	f.set(func(f *fakeBucket) { f.down = true })
	run(t, u)
	u.EnqueueBytes("runs/h1/r1/report.json", []byte(`{"result":"pass"}`))
	err := flush(t, u, 300*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "1 object(s) still pending") || !strings.Contains(err.Error(), "503") {
		t.Fatalf("flush during outage: %v", err)
	}
	if st := u.Status(); st.Pending != 1 || st.LastError == "" {
		t.Fatalf("status during outage %+v", st)
	}
	f.set(func(f *fakeBucket) { f.down = false })
	if err := flush(t, u, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if b, _ := f.get("runs/h1/r1/report.json"); string(b) != `{"result":"pass"}` {
		t.Fatalf("stored %q", b)
	}
}

func TestBadTokenIsRetriedNotDropped(t *testing.T) {
	f := newFakeBucket(t)
	u := newUploader(t, f, t.TempDir())
	f.set(func(f *fakeBucket) { f.token = "rotated" })
	run(t, u)
	u.EnqueueBytes("runs/h1/r1/x", []byte("x"))
	if err := flush(t, u, 200*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("flush with a bad token: %v", err)
	}
	f.set(func(f *fakeBucket) { f.token = "tok" })
	if err := flush(t, u, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestRefusedKeyGoesToRejected(t *testing.T) {
	f := newFakeBucket(t)
	spool := t.TempDir()
	u := newUploader(t, f, spool)
	run(t, u)
	u.EnqueueBytes("runs/h2/r1/x", []byte("not my prefix"))
	u.EnqueueBytes("runs/h1/r1/y", []byte("mine"))
	err := flush(t, u, 5*time.Second)
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("flush: %v, want ErrRejected", err)
	}
	if b, _ := f.get("runs/h1/r1/y"); string(b) != "mine" {
		t.Fatal("a refused entry blocked the queue")
	}
	files := spoolFiles(t, filepath.Join(spool, rejectedDir))
	if len(files) != 2 {
		t.Fatalf("rejected dir %v", files)
	}
	var m Manifest
	b, _ := os.ReadFile(filepath.Join(spool, rejectedDir, files[1]))
	json.Unmarshal(b, &m)
	if m.Key != "runs/h2/r1/x" || !strings.Contains(m.Rejected, "403") {
		t.Fatalf("rejected manifest %+v", m)
	}
	// A new uploader on the same spool still reports the rejected entry.
	if st := newUploader(t, f, spool).Status(); st.Rejected != 1 {
		t.Fatalf("status after restart %+v", st)
	}
}

func TestSpoolSurvivesRestart(t *testing.T) {
	f := newFakeBucket(t)
	spool := t.TempDir()
	u := newUploader(t, f, spool)
	u.EnqueueBytes("runs/h1/r1/a", []byte("A1"))
	u.EnqueueBytes("runs/h1/r1/b", []byte("B"))
	u.EnqueueBytes("runs/h1/r1/a", []byte("A2"))
	q := filepath.Join(spool, queueDir)
	// Leftovers of an Enqueue interrupted by a crash: never acknowledged, so removed.
	os.WriteFile(filepath.Join(q, tmpPrefix+"123"), []byte("partial"), 0o600)
	os.WriteFile(filepath.Join(q, "0000000000000099.data"), []byte("no manifest"), 0o600)
	// A crash after a superseding entry was written but before the older one
	// was removed leaves two entries for the key: the newest wins.
	os.WriteFile(filepath.Join(q, "0000000000000001.data"), []byte("A0"), 0o600)
	os.WriteFile(filepath.Join(q, "0000000000000001.json"), []byte(`{"key":"runs/h1/r1/a","sha256":"00","size":2}`), 0o600)
	u2 := newUploader(t, f, spool)
	if n, b := u2.Pending(); n != 2 || b != 3 {
		t.Fatalf("pending after restart %d %d, want 2 3", n, b)
	}
	run(t, u2)
	if err := flush(t, u2, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if a, _ := f.get("runs/h1/r1/a"); string(a) != "A2" {
		t.Fatalf("a = %q", a)
	}
	if files := spoolFiles(t, q); len(files) != 0 {
		t.Fatalf("spool not empty: %v", files)
	}
	// New entries continue the sequence after the leftover's number.
	u2.EnqueueBytes("runs/h1/r1/c", []byte("C"))
	if files := spoolFiles(t, q); len(files) != 2 || files[0] <= "0000000000000099" {
		t.Fatalf("sequence did not continue: %v", files)
	}
}

func TestVerifyFailureIsRetried(t *testing.T) {
	f := newFakeBucket(t)
	u := newUploader(t, f, t.TempDir())
	f.set(func(f *fakeBucket) { f.corrupt = true })
	run(t, u)
	u.EnqueueBytes("runs/h1/r1/x", []byte("data"))
	if err := flush(t, u, 300*time.Millisecond); err == nil || !strings.Contains(err.Error(), "stored sha256") {
		t.Fatalf("flush with a corrupting bucket: %v", err)
	}
	f.set(func(f *fakeBucket) { f.corrupt = false })
	if err := flush(t, u, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if b, _ := f.get("runs/h1/r1/x"); string(b) != "data" {
		t.Fatalf("stored %q", b)
	}
}

func TestVerifyByReadBackWithoutStoredChecksum(t *testing.T) {
	f := newFakeBucket(t)
	u := newUploader(t, f, t.TempDir())
	f.set(func(f *fakeBucket) { f.noChecksum = true; f.corrupt = true })
	run(t, u)
	u.EnqueueBytes("runs/h1/r1/x", []byte("data"))
	if err := flush(t, u, 300*time.Millisecond); err == nil || !strings.Contains(err.Error(), "read back sha256") {
		t.Fatalf("flush: %v", err)
	}
	f.set(func(f *fakeBucket) { f.corrupt = false })
	if err := flush(t, u, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestLocalCorruptionIsRejected(t *testing.T) {
	f := newFakeBucket(t)
	spool := t.TempDir()
	u := newUploader(t, f, spool)
	u.EnqueueBytes("runs/h1/r1/x", []byte("original"))
	data := filepath.Join(spool, queueDir, "0000000000000001.data")
	if err := os.WriteFile(data, []byte("bitrot!!"), 0o600); err != nil {
		t.Fatal(err)
	}
	u.EnqueueBytes("runs/h1/r1/y", []byte("will be truncated"))
	if err := os.Truncate(filepath.Join(spool, queueDir, "0000000000000002.data"), 4); err != nil {
		t.Fatal(err)
	}
	run(t, u)
	if err := flush(t, u, 5*time.Second); !errors.Is(err, ErrRejected) {
		t.Fatalf("flush: %v", err)
	}
	if st := u.Status(); st.Rejected != 2 {
		t.Fatalf("status %+v", st)
	}
	if _, ok := f.get("runs/h1/r1/x"); ok {
		t.Fatal("corrupted spool data was stored")
	}
}

func TestGet(t *testing.T) {
	f := newFakeBucket(t)
	u := newUploader(t, f, t.TempDir())
	f.set(func(f *fakeBucket) { f.objects["hosts/h1/spec.yaml"] = []byte("cpu: {}\n") })
	b, err := u.Get(context.Background(), "hosts/h1/spec.yaml")
	if err != nil || string(b) != "cpu: {}\n" {
		t.Fatalf("get: %q %v", b, err)
	}
	if _, err := u.Get(context.Background(), "runs/h1/old/checkpoint.json"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing object: %v", err)
	}
	if _, err := u.Get(context.Background(), "hosts/h2/spec.yaml"); err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("other host: %v", err)
	}
}

func TestCertificatePinning(t *testing.T) {
	f := newFakeBucket(t)
	ctx := context.Background()
	wrong := strings.Repeat("ab", 32)
	u, err := New(Config{Coordinator: f.srv.URL, Token: "tok", HostID: "h1", SpoolDir: t.TempDir(), CAFingerprint: wrong})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Get(ctx, "hosts/h1/spec.yaml"); err == nil || !strings.Contains(err.Error(), "pinned") {
		t.Fatalf("wrong pin: %v", err)
	}
	// No pin, no CA: the test server's certificate is not trusted.
	u, _ = New(Config{Coordinator: f.srv.URL, Token: "tok", HostID: "h1", SpoolDir: t.TempDir()})
	if _, err := u.Get(ctx, "hosts/h1/spec.yaml"); err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("untrusted certificate accepted: %v", err)
	}
	if _, err := New(Config{Coordinator: f.srv.URL, HostID: "h1", SpoolDir: t.TempDir(), CAFingerprint: "abc"}); err == nil {
		t.Fatal("short fingerprint accepted")
	}
	// Presigned URLs (with their signatures) never appear in errors.
	f.set(func(f *fakeBucket) { f.objects["hosts/h1/x"] = []byte("1") })
	u = newUploader(t, f, t.TempDir())
	f.srv.CloseClientConnections()
	f.set(func(f *fakeBucket) { f.down = true })
	if _, err := u.Get(ctx, "hosts/h1/x"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("error leaks the signature: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	for n := 1; n < 20; n++ {
		d := backoff(n, 100*time.Millisecond, 3*time.Second)
		lo := min(100*time.Millisecond<<(n-1), 3*time.Second) / 2
		if d < lo || d >= 2*lo {
			t.Fatalf("backoff(%d) = %s, want in [%s, %s)", n, d, lo, 2*lo)
		}
	}
}
