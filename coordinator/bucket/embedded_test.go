package bucket

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The embedded server changes the working directory and can run once per
// process, so every test in this package shares one, started on first use.
var (
	embOnce sync.Once
	emb     *Embedded
	embDir  string
	embTLS  *TLSFiles
	embErr  error
)

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func embedded(t *testing.T) (*Embedded, *TLSFiles) {
	t.Helper()
	embOnce.Do(func() {
		embDir, embErr = os.MkdirTemp("", "shakedown-bucket-test-")
		if embErr != nil {
			return
		}
		embTLS, embErr = EnsureTLS(embDir, nil)
		if embErr != nil {
			return
		}
		creds, err := EnsureCredentials(embDir)
		if err != nil {
			embErr = err
			return
		}
		emb, embErr = StartEmbedded(context.Background(), EmbeddedConfig{Dir: embDir, Listen: freePort(t), Creds: creds, TLS: embTLS})
	})
	if embErr != nil {
		t.Fatalf("start embedded s3: %v", embErr)
	}
	return emb, embTLS
}

func TestMain(m *testing.M) {
	code := m.Run()
	if embDir != "" {
		os.RemoveAll(embDir)
	}
	os.Exit(code)
}

func pinnedClient(tf *TLSFiles) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(tf.CertPEM)
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func do(t *testing.T, c *http.Client, p Presigned, body []byte, override map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(p.Method, p.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range p.Headers {
		req.Header.Set(k, v)
	}
	for k, v := range override {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", p.Method, p.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestPresignedPutChecksumIsEnforced(t *testing.T) {
	e, tf := embedded(t)
	ctx := context.Background()
	hc := pinnedClient(tf)
	body := []byte("checkpoint {\"state\":\"SMART\"}\n")
	sum := sha256.Sum256(body)
	key := "runs/host-a/run-1/checkpoint.json"

	put, err := e.Store.Presign(ctx, PresignRequest{Method: http.MethodPut, Key: key, SHA256: hex.EncodeToString(sum[:]), TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}

	// A body that does not match the declared SHA-256 is refused and not stored.
	bad := append([]byte{}, body...)
	bad[0] ^= 1
	resp, msg := do(t, hc, put, bad, nil)
	if resp.StatusCode/100 == 2 {
		t.Fatalf("PUT with a body not matching x-amz-checksum-sha256 accepted: %d %s", resp.StatusCode, msg)
	}
	t.Logf("mismatching body refused: %d %s", resp.StatusCode, firstLine(msg))
	if _, err := e.Store.Get(ctx, key, 1<<20); err == nil {
		t.Fatal("object exists after a refused PUT")
	}

	// Changing the signed checksum header to match the bad body breaks the signature.
	badSum := sha256.Sum256(bad)
	resp, msg = do(t, hc, put, bad, map[string]string{"x-amz-checksum-sha256": base64.StdEncoding.EncodeToString(badSum[:])})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("PUT with a re-declared checksum: got %d %s, want 403", resp.StatusCode, msg)
	}

	// The right body is stored.
	resp, msg = do(t, hc, put, body, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %d %s", resp.StatusCode, msg)
	}
	got, err := e.Store.Get(ctx, key, 1<<20)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("read back: %q, %v", got, err)
	}

	// HEAD with checksum mode returns the stored SHA-256.
	head, err := e.Store.Presign(ctx, PresignRequest{Method: http.MethodHead, Key: key, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = do(t, hc, head, nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HEAD: %d", resp.StatusCode)
	}
	if got, want := resp.Header.Get("x-amz-checksum-sha256"), put.Headers["x-amz-checksum-sha256"]; got != want {
		t.Fatalf("HEAD checksum %q, want %q (headers %v)", got, want, resp.Header)
	}

	// The object is a plain file under DIR/objects/shakedown/<key>.
	onDisk, err := os.ReadFile(filepath.Join(embDir, "objects", DefaultBucket, key))
	if err != nil || !bytes.Equal(onDisk, body) {
		t.Fatalf("object file: %q, %v", onDisk, err)
	}
}

func TestPresignedGetAndExpiry(t *testing.T) {
	e, tf := embedded(t)
	ctx := context.Background()
	hc := pinnedClient(tf)
	body := []byte("spec: {}\n")
	sum := sha256.Sum256(body)
	key := "hosts/host-b/spec.yaml"
	put, err := e.Store.Presign(ctx, PresignRequest{Method: http.MethodPut, Key: key, SHA256: hex.EncodeToString(sum[:]), TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if resp, msg := do(t, hc, put, body, nil); resp.StatusCode != 200 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, msg)
	}
	get, err := e.Store.Presign(ctx, PresignRequest{Method: http.MethodGet, Key: key, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	resp, got := do(t, hc, get, nil, nil)
	if resp.StatusCode != 200 || !bytes.Equal(got, body) {
		t.Fatalf("GET: %d %q", resp.StatusCode, got)
	}
	// A URL presigned for one key does not open another.
	other := get
	other.URL = strings.Replace(get.URL, "spec.yaml", "latest.json", 1)
	if resp, _ := do(t, hc, other, nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("GET with a changed key: %d, want 403", resp.StatusCode)
	}
	// An expired URL is refused.
	short, err := e.Store.Presign(ctx, PresignRequest{Method: http.MethodGet, Key: key, TTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond)
	if resp, _ := do(t, hc, short, nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("expired GET: %d, want 403", resp.StatusCode)
	}
	objs, err := e.Store.List(ctx, "hosts/")
	if err != nil || len(objs) != 1 || objs[0].Key != key {
		t.Fatalf("list: %v %v", objs, err)
	}
}

func TestCredentialsAndTLSArePersistent(t *testing.T) {
	dir := t.TempDir()
	c1, err := EnsureCredentials(dir)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := EnsureCredentials(dir)
	if err != nil || c1 != c2 {
		t.Fatalf("second load: %+v %v, want %+v", c2, err, c1)
	}
	fi, _ := os.Stat(filepath.Join(dir, "s3-credentials.yaml"))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials mode %o", fi.Mode().Perm())
	}
	os.Chmod(filepath.Join(dir, "s3-credentials.yaml"), 0o644)
	if _, err := EnsureCredentials(dir); err == nil {
		t.Fatal("world-readable credentials accepted")
	}
	t1, err := EnsureTLS(dir, []string{"shakedown.example", "10.9.8.7"})
	if err != nil {
		t.Fatal(err)
	}
	t2, err := EnsureTLS(dir, nil)
	if err != nil || t1.Fingerprint != t2.Fingerprint || len(t1.Fingerprint) != 64 {
		t.Fatalf("fingerprints %s %s %v", t1.Fingerprint, t2.Fingerprint, err)
	}
	leaf, _ := x509.ParseCertificate(t1.Cert.Certificate[0])
	if err := leaf.VerifyHostname("10.9.8.7"); err != nil {
		t.Fatal(err)
	}
	if err := leaf.VerifyHostname("shakedown.example"); err != nil {
		t.Fatal(err)
	}
	fi, _ = os.Stat(t1.KeyFile)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %o", fi.Mode().Perm())
	}
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// Presigned URLs use the host the agent reached the coordinator at, with the
// S3 port, and work there (the signature covers the host).
func TestPresignUsesRequestHost(t *testing.T) {
	e, tf := embedded(t)
	ctx := context.Background()
	body := []byte("via localhost")
	sum := sha256.Sum256(body)
	put, err := e.Store.Presign(ctx, PresignRequest{Method: http.MethodPut, Key: "runs/h/r/x", SHA256: hex.EncodeToString(sum[:]), TTL: time.Minute, PublicHost: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(e.Store.URL(), "https://"))
	if !strings.HasPrefix(put.URL, "https://localhost:"+port+"/shakedown/runs/h/r/x?") {
		t.Fatalf("url %s", put.URL)
	}
	if resp, msg := do(t, pinnedClient(tf), put, body, nil); resp.StatusCode != 200 {
		t.Fatalf("PUT via localhost: %d %s", resp.StatusCode, msg)
	}
	// The same signature sent to another host name is refused.
	other := put
	other.URL = strings.Replace(put.URL, "https://localhost:", "https://127.0.0.1:", 1)
	if resp, _ := do(t, pinnedClient(tf), other, body, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("PUT with the host changed: %d, want 403", resp.StatusCode)
	}
}
