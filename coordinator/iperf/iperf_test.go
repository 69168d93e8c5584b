package iperf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shakedown/shakedown/collector/testutil"
	"github.com/shakedown/shakedown/collector/tool"
)

func TestParseAddr(t *testing.T) {
	for _, tc := range []struct {
		in   string
		host string
		port int
		bad  bool
	}{
		{"127.0.0.1:5201", "127.0.0.1", 5201, false},
		{":5201", "", 5201, false},
		{"0.0.0.0:5202", "", 5202, false},
		{"[::]:5201", "", 5201, false},
		{"[::1]:5201", "::1", 5201, false},
		{"coord.lab:5201", "coord.lab", 5201, false},
		{"127.0.0.1", "", 0, true},
		{"127.0.0.1:0", "", 0, true},
		{"127.0.0.1:70000", "", 0, true},
		{"127.0.0.1:http", "", 0, true},
		{"-D:5201", "", 0, true},
	} {
		h, p, err := ParseAddr(tc.in)
		if (err != nil) != tc.bad || h != tc.host || p != tc.port {
			t.Errorf("ParseAddr(%q) = %q, %d, %v", tc.in, h, p, err)
		}
	}
}

func TestNewNotInstalled(t *testing.T) {
	_, err := New(Config{Addr: ":5201", Tools: &tool.Fake{Missing: map[string]bool{"iperf3": true}}})
	if !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), "apt-get install iperf3") {
		t.Fatalf("err = %v", err)
	}
	if _, err := New(Config{Addr: ":5201", PIDFile: "iperf3.pid", Tools: &tool.Fake{}}); err == nil {
		t.Fatal("relative pid file accepted")
	}
}

func TestArgs(t *testing.T) {
	s, err := New(Config{Addr: "10.0.0.1:5301", PIDFile: "/run/x.pid", Tools: &tool.Fake{}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Args(), " "); got != "-s -B 10.0.0.1 -p 5301 --forceflush --pidfile /run/x.pid" {
		t.Errorf("args %q", got)
	}
	s, _ = New(Config{Addr: ":5201", Tools: &tool.Fake{}})
	if got := strings.Join(s.Args(), " "); got != "-s -p 5201 --forceflush" {
		t.Errorf("args %q", got)
	}
}

// syncBuf is a log sink safe for the supervisor's goroutines.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestBackoff replays iperf3's real answer when its port is taken (captured
// on Debian 12, iperf 3.12): each exit is logged with that line and the wait
// before the next start doubles up to MaxBackoff.
func TestBackoff(t *testing.T) {
	var starts []time.Time
	var mu sync.Mutex
	f := &tool.Fake{}
	f.Add(tool.Rule{Tool: "iperf3", Func: func(_ context.Context, c tool.Cmd) (tool.Output, error) {
		mu.Lock()
		starts = append(starts, time.Now())
		mu.Unlock()
		stderr := "iperf3: error - unable to start listener for connections: Address already in use\niperf3: exiting\n"
		_, _ = io.WriteString(c.Stderr, stderr)
		return tool.Output{Stderr: []byte(stderr), ExitCode: 1}, nil
	}})
	logs := &syncBuf{}
	s, err := New(Config{Addr: "127.0.0.1:5201", Tools: f, Log: slog.New(slog.NewTextHandler(logs, nil)),
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 80 * time.Millisecond, StableAfter: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(starts)
		mu.Unlock()
		if n >= 6 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(starts) < 6 {
		t.Fatalf("%d starts in 5 s", len(starts))
	}
	// Waits: 20, 40, 80, 80, 80 ms (timers may fire late, never early).
	want := []time.Duration{20, 40, 80, 80, 80}
	for i, w := range want {
		gap := starts[i+1].Sub(starts[i])
		if gap < w*time.Millisecond || gap > w*time.Millisecond+time.Second {
			t.Errorf("wait before start %d = %v, want about %v ms", i+2, gap, w)
		}
	}
	st := s.Status()
	if st.Running || st.Starts < 6 || !strings.Contains(st.LastExit, "exit status 1: iperf3: error - unable to start listener for connections: Address already in use") {
		t.Errorf("status %+v", st)
	}
	if !strings.Contains(logs.String(), "iperf3 server exited; restarting") {
		t.Errorf("logs:\n%s", logs.String())
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitFor(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func alive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

// measure runs a real one-second iperf3 client against addr and returns the
// received bit rate.
func measure(t *testing.T, port int) float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := (&tool.Exec{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Run(ctx, tool.Cmd{Tool: "iperf3",
		Args: []string{"-c", "127.0.0.1", "-p", strconv.Itoa(port), "-t", "1", "-J"}})
	if err != nil {
		t.Fatalf("iperf3 client: %v", err)
	}
	var r struct {
		Error string `json:"error"`
		End   struct {
			SumReceived struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal(out.Stdout, &r); err != nil {
		t.Fatalf("iperf3 client output: %v\n%s\n%s", err, out.Stdout, out.Stderr)
	}
	if r.Error != "" {
		t.Fatalf("iperf3 client: %s", r.Error)
	}
	return r.End.SumReceived.BitsPerSecond
}

// TestSupervisorRealIperf3 runs the real iperf3 on loopback: the server
// answers a client, comes back after being SIGKILLed, and is gone (its whole
// process group) once the supervisor stops.
func TestSupervisorRealIperf3(t *testing.T) {
	testutil.RequireTools(t, "iperf3")
	port := freePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	pidFile := filepath.Join(t.TempDir(), "iperf3.pid")
	logs := &syncBuf{}
	s, err := New(Config{Addr: addr, PIDFile: pidFile, Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		MinBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	waitFor(t, "iperf3 listening on "+addr, 10*time.Second, func() bool { return listening(addr) && s.PID() > 0 })
	pid1 := s.PID()
	if bps := measure(t, port); bps <= 0 {
		t.Fatalf("first server: %v bit/s", bps)
	}

	// Killed from outside: the supervisor starts a new one.
	if err := syscall.Kill(pid1, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a second iperf3", 10*time.Second, func() bool {
		return s.Status().Starts == 2 && s.PID() > 0 && s.PID() != pid1 && listening(addr)
	})
	pid2 := s.PID()
	if alive(pid1) {
		t.Errorf("killed iperf3 %d still alive", pid1)
	}
	if !strings.Contains(s.Status().LastExit, "ended by signal: killed") {
		t.Errorf("last exit %q", s.Status().LastExit)
	}
	if bps := measure(t, port); bps <= 0 {
		t.Fatalf("restarted server: %v bit/s", bps)
	}

	// Stop: Run returns, the process is gone and the port is free.
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if alive(pid2) {
		t.Errorf("iperf3 %d survived the supervisor", pid2)
	}
	if listening(addr) {
		t.Errorf("%s still accepts connections", addr)
	}
	if st := s.Status(); st.Running || st.Starts != 2 {
		t.Errorf("status after stop %+v", st)
	}
	for _, want := range []string{"iperf3 server starting", "Accepted connection from 127.0.0.1", "iperf3 server exited; restarting", "iperf3 server stopped"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"127.0.0.1:5201", ":5201", "[::]:1", "[fe80::1%eth0]:5201", "h:0", "-x:1", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		host, port, err := ParseAddr(addr)
		if err != nil {
			return
		}
		if port < 1 || port > 65535 || strings.HasPrefix(host, "-") {
			t.Fatalf("ParseAddr(%q) = %q, %d", addr, host, port)
		}
		h2, p2, err := ParseAddr(net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil || h2 != host || p2 != port {
			t.Fatalf("round trip of %q: %q %d %v", addr, h2, p2, err)
		}
	})
}
