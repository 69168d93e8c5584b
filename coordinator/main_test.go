package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shakedown/shakedown/agent/upload"
	"github.com/shakedown/shakedown/coordinator/bucket"
)

// The embedded S3 server changes the working directory and runs once per
// process, so integration tests run the coordinator as a child process: this
// test binary re-executed with SHAKEDOWN_COORDINATOR_CHILD set to the JSON of
// its arguments.
const childEnv = "SHAKEDOWN_COORDINATOR_CHILD"

func TestMain(m *testing.M) {
	if a := os.Getenv(childEnv); a != "" {
		var args []string
		if err := json.Unmarshal([]byte(a), &args); err != nil {
			fmt.Fprintln(os.Stderr, "bad", childEnv, err)
			os.Exit(2)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, args, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

type coordinator struct {
	t       testing.TB
	cmd     *exec.Cmd
	dir     string
	api     string // https://127.0.0.1:port
	s3      string
	fp      string // certificate fingerprint, hex
	banner  string
	stderr  *bytes.Buffer
	exited  chan struct{}
	args    []string
	apiAddr string
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startCoordinator runs `serve --data dir` with fixed loopback ports and
// waits for its "ready" line.
func startCoordinator(t testing.TB, dir string, extra ...string) *coordinator {
	t.Helper()
	c := &coordinator{t: t, dir: dir, apiAddr: freePort(t)}
	// No iperf3 server unless a test asks for one (extra flags come later and win).
	c.args = append([]string{"serve", "--data", dir, "--listen", c.apiAddr, "--s3-listen", freePort(t), "--iperf-listen", "off"}, extra...)
	c.start()
	t.Cleanup(c.stop)
	return c
}

func (c *coordinator) start() {
	t := c.t
	t.Helper()
	a, _ := json.Marshal(c.args)
	c.cmd = exec.Command(os.Args[0], "-test.run=^$")
	c.cmd.Env = append(os.Environ(), childEnv+"="+string(a))
	c.stderr = &bytes.Buffer{}
	c.cmd.Stderr = c.stderr
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c.exited = make(chan struct{})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	go func() { c.cmd.Wait(); close(c.exited) }()
	var banner strings.Builder
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				<-c.exited
				t.Fatalf("coordinator exited before ready:\n%s\n%s", banner.String(), c.stderr)
			}
			banner.WriteString(l + "\n")
			if v, ok := strings.CutPrefix(l, "api: "); ok {
				c.api = v
			}
			if v, ok := strings.CutPrefix(l, "s3: "); ok {
				c.s3, _, _ = strings.Cut(v, " ")
			}
			if v, ok := strings.CutPrefix(l, "certificate: "); ok {
				_, c.fp, _ = strings.Cut(v, " sha256:")
			}
			if l == "ready" {
				c.banner = banner.String()
				go func() {
					for range lines {
					}
				}()
				return
			}
		case <-timeout:
			c.cmd.Process.Kill()
			t.Fatalf("coordinator not ready after 60 s:\n%s\n%s", banner.String(), c.stderr)
		}
	}
}

// stop ends the coordinator with SIGTERM (a clean shutdown).
func (c *coordinator) stop() {
	select {
	case <-c.exited:
		return
	default:
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(20 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
		c.t.Errorf("coordinator did not stop on SIGTERM; stderr:\n%s", c.stderr)
	}
}

// kill ends it with SIGKILL: a crash or a power cut of the coordinator.
func (c *coordinator) kill() {
	c.cmd.Process.Kill()
	<-c.exited
}

func (c *coordinator) fleetToken() string {
	b, err := os.ReadFile(filepath.Join(c.dir, "fleet-token"))
	if err != nil {
		c.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// rootStore opens the bucket with the root credentials, as an operator tool would.
func (c *coordinator) rootStore() *bucket.Store {
	c.t.Helper()
	creds, err := bucket.EnsureCredentials(c.dir)
	if err != nil {
		c.t.Fatal(err)
	}
	pem, _ := os.ReadFile(filepath.Join(c.dir, "tls", "cert.pem"))
	s, err := bucket.NewStore(bucket.Endpoint{URL: c.s3, AccessKey: creds.AccessKey, SecretKey: creds.SecretKey, CAPEM: pem})
	if err != nil {
		c.t.Fatal(err)
	}
	return s
}

func (c *coordinator) httpClient() *http.Client {
	pem, _ := os.ReadFile(filepath.Join(c.dir, "tls", "cert.pem"))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func newUploader(t testing.TB, c *coordinator, host, spool string) *upload.Uploader {
	t.Helper()
	u, err := upload.New(upload.Config{
		Coordinator: c.api, Token: c.fleetToken(), HostID: host, SpoolDir: spool,
		CAFingerprint: "sha256:" + c.fp,
		MinBackoff:    20 * time.Millisecond, MaxBackoff: 300 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func runUploader(t testing.TB, u *upload.Uploader) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { u.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func flush(u *upload.Uploader, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return u.Flush(ctx)
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

type object struct{ key, body string }

func checkObjects(t *testing.T, s *bucket.Store, want []object) {
	t.Helper()
	for _, o := range want {
		got, err := s.Get(context.Background(), o.key, 1<<30)
		if err != nil {
			t.Errorf("%s: %v", o.key, err)
			continue
		}
		if sha(got) != sha([]byte(o.body)) {
			t.Errorf("%s: content differs (%d bytes, want %d)", o.key, len(got), len(o.body))
		}
	}
}

func TestRunCommands(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "usage") {
		t.Fatalf("no args: %d %q", code, errb.String())
	}
	if code := run(context.Background(), []string{"bogus"}, &out, &errb); code != 2 {
		t.Fatalf("bogus: %d", code)
	}
	if code := run(context.Background(), []string{"serve"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "--data DIR is required") {
		t.Fatalf("serve without --data: %d %q", code, errb.String())
	}
	dir := t.TempDir()
	out.Reset()
	if code := run(context.Background(), []string{"token", "--data", dir, "node1"}, &out, &errb); code != 0 || len(strings.TrimSpace(out.String())) != 64 {
		t.Fatalf("token: %d %q %q", code, out.String(), errb.String())
	}
	if code := run(context.Background(), []string{"token", "--data", dir, "node1"}, &out, &errb); code != 1 {
		t.Fatalf("second token without --rotate: %d", code)
	}
}
