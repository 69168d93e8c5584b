package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shakedown/shakedown/collector/testutil"
	"github.com/shakedown/shakedown/collector/tool"
	"github.com/shakedown/shakedown/coordinator/api"
)

func TestIperfListenDefault(t *testing.T) {
	for _, tc := range []struct{ flag, listen, want string }{
		{"", ":8443", ":5201"},
		{"", "127.0.0.1:8443", "127.0.0.1:5201"},
		{"", "[::1]:8443", "[::1]:5201"},
		{"off", "127.0.0.1:8443", ""},
		{"OFF", ":8443", ""},
		{"10.0.1.5:5301", ":8443", "10.0.1.5:5301"},
	} {
		got, err := iperfListen(tc.flag, tc.listen)
		if err != nil || got != tc.want {
			t.Errorf("iperfListen(%q, %q) = %q, %v; want %q", tc.flag, tc.listen, got, err, tc.want)
		}
	}
	for _, bad := range []string{"5201", "host:0", "host:port"} {
		if _, err := iperfListen(bad, ":8443"); err == nil {
			t.Errorf("--iperf-listen %q accepted", bad)
		}
	}
}

func info(t *testing.T, c *coordinator) api.Info {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.api+"/api/v1/info", nil)
	req.Header.Set("Authorization", "Bearer "+c.fleetToken())
	resp, err := c.httpClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var in api.Info
	if err := json.NewDecoder(resp.Body).Decode(&in); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/api/v1/info: %d %v", resp.StatusCode, err)
	}
	return in
}

func pidIn(file string) int {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func dials(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// TestServeIperf runs the real coordinator with its iperf3 server on
// loopback: the banner and /api/v1/info name it, it serves a real client, and
// it goes away with the coordinator, on SIGTERM and on SIGKILL.
func TestServeIperf(t *testing.T) {
	testutil.RequireTools(t, "iperf3")
	dir := t.TempDir()
	addr := freePort(t)
	_, port, _ := net.SplitHostPort(addr)
	c := startCoordinator(t, dir, "--iperf-listen", addr)
	if !strings.Contains(c.banner, "iperf3: "+addr+"\n") {
		t.Fatalf("banner:\n%s", c.banner)
	}
	pidFile := filepath.Join(dir, "iperf3.pid")
	deadline := time.Now().Add(10 * time.Second)
	for !(dials(addr) && pidIn(pidFile) > 0) {
		if time.Now().After(deadline) {
			t.Fatalf("iperf3 not listening on %s:\n%s", addr, c.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	in := info(t, c)
	if strconv.Itoa(in.IperfPort) != port || in.IperfHost != "127.0.0.1" || !in.IperfRunning || in.Version == "" {
		t.Errorf("info %+v", in)
	}
	// The pid file is where the data dir is, although the embedded S3 server
	// changed the coordinator's working directory.
	pid := pidIn(pidFile)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := (&tool.Exec{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Run(ctx,
		tool.Cmd{Tool: "iperf3", Args: []string{"-c", "127.0.0.1", "-p", port, "-t", "1", "-J"}})
	var res struct {
		Error string `json:"error"`
		End   struct {
			SumReceived struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err == nil {
		err = json.Unmarshal(out.Stdout, &res)
	}
	if err != nil || res.Error != "" || res.End.SumReceived.BitsPerSecond <= 0 {
		t.Fatalf("iperf3 client: %v %q\n%s", err, res.Error, out.Stdout)
	}
	t.Logf("iperf3 over loopback through the coordinator's server: %.1f Gbit/s", res.End.SumReceived.BitsPerSecond/1e9)

	c.stop()
	if syscall.Kill(pid, 0) == nil {
		t.Errorf("iperf3 %d outlived the coordinator's SIGTERM", pid)
	}
	if dials(addr) {
		t.Errorf("%s still accepts connections after the coordinator stopped", addr)
	}

	// A crash of the coordinator takes iperf3 with it (parent-death signal).
	c.start()
	deadline = time.Now().Add(10 * time.Second)
	for !(dials(addr) && pidIn(pidFile) > 0 && pidIn(pidFile) != pid) {
		if time.Now().After(deadline) {
			t.Fatalf("iperf3 not back after the restart:\n%s", c.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	pid = pidIn(pidFile)
	c.kill()
	deadline = time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("iperf3 %d outlived a SIGKILL of the coordinator", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeIperfNotInstalled: without iperf3 the coordinator still serves,
// says why in its banner and log, and tells agents there is no server.
func TestServeIperfNotInstalled(t *testing.T) {
	t.Setenv("SHAKEDOWN_TOOL_IPERF3", filepath.Join(t.TempDir(), "no-iperf3"))
	c := startCoordinator(t, t.TempDir(), "--iperf-listen", freePort(t))
	if !strings.Contains(c.banner, "iperf3: not installed (apt-get install iperf3)") {
		t.Errorf("banner:\n%s", c.banner)
	}
	if in := info(t, c); in.IperfPort != 0 || in.IperfRunning {
		t.Errorf("info %+v", in)
	}
	c.stop()
	if !strings.Contains(c.stderr.String(), "apt-get install iperf3") {
		t.Errorf("no install hint in the log:\n%s", c.stderr)
	}
}
