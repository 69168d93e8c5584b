package corecmd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shakedown/shakedown/agent/engine"
	"github.com/shakedown/shakedown/agent/journal"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/agent/stage/network"
	"github.com/shakedown/shakedown/agent/upload"
	"github.com/shakedown/shakedown/collector/testutil"
	"github.com/shakedown/shakedown/collector/tool"
	"github.com/shakedown/shakedown/coordinator/iperf"
)

const infoToken = "fleet-token-for-tests-0123456789"

// fakeCoordinator serves GET /api/v1/info over TLS like the coordinator:
// 401 without the boot token, else body.
func fakeCoordinator(t *testing.T, body string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/api/v1/info" {
			http.NotFound(w, r)
			return
		}
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+infoToken {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"missing or unknown boot token (Authorization: Bearer <token>)","code":"unauthorized"}`)
			return
		}
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// withInfo points the hook at srv through the agent's pinned client.
func withInfo(t *testing.T, srv *httptest.Server, token string) func(*engine.Engine, *uploadHook) {
	sum := sha256.Sum256(srv.Certificate().Raw)
	hc, err := upload.NewHTTPClient(nil, "sha256:"+hex.EncodeToString(sum[:]))
	if err != nil {
		t.Fatal(err)
	}
	return func(_ *engine.Engine, h *uploadHook) {
		h.coordinator = srv.URL
		h.info = infoFunc(hc, srv.URL, token)
	}
}

// netProbe is a Network stage that reports the server fact it was given.
func netProbe(seen *string) fakeStage {
	return fakeStage{"Network", func(env *stage.Env) (stage.Result, error) {
		if _, err := env.Fact(network.FactServer, seen); err != nil {
			return stage.Result{}, err
		}
		if *seen == "" {
			return stage.Result{Status: stage.Skip, Reason: "no_server", Message: "no server"}, nil
		}
		return stage.Result{Status: stage.Pass, Message: "measured " + *seen}, nil
	}}
}

func TestUploadHookIperfFact(t *testing.T) {
	for _, tc := range []struct {
		name, body, token string
		want, out         string
		calls             func(n int32) bool
	}{
		{"coordinator host", `{"version":"v1","iperf_port":5999,"iperf_running":true}`, infoToken,
			"127.0.0.1:5999", "the Network stage measures against its iperf3 server 127.0.0.1:5999\n", func(n int32) bool { return n == 1 }},
		{"bound address", `{"iperf_port":5201,"iperf_host":"10.9.8.7","iperf_running":false}`, infoToken,
			"10.9.8.7:5201", "iperf3 server 10.9.8.7:5201 (not running right now", func(n int32) bool { return n == 1 }},
		{"ipv6 bound address", `{"iperf_port":5201,"iperf_host":"fd00::1","iperf_running":true}`, infoToken,
			"[fd00::1]:5201", "iperf3 server [fd00::1]:5201\n", func(n int32) bool { return n == 1 }},
		{"no server", `{"iperf_port":0,"iperf_running":false}`, infoToken,
			"", "no iperf3 server there", func(n int32) bool { return n == 1 }},
		// A refused token is tried again at each transition up to Network
		// (Booting, Inventory ... Network), and said once.
		{"bad token", `{}`, "wrong-token", "", "401 Unauthorized: missing or unknown boot token", func(n int32) bool { return n == 7 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, calls := fakeCoordinator(t, tc.body)
			var seen string
			m := &memRemote{objs: map[string][]byte{}}
			e, _, _, out := runWithHookOpts(t, m, nil, withInfo(t, srv, tc.token), invStage(), netProbe(&seen))
			if seen != tc.want || !strings.Contains(out, tc.out) {
				t.Errorf("Network saw %q, want %q; output:\n%s", seen, tc.want, out)
			}
			if n := calls.Load(); !tc.calls(n) {
				t.Errorf("%d info requests", n)
			}
			if strings.Count(out, "the Network stage") != 1 {
				t.Errorf("said more than once:\n%s", out)
			}
			if e.Current().State != engine.Completed {
				t.Errorf("run ended in %s", e.Current().State)
			}
		})
	}
}

func TestBeforeNetwork(t *testing.T) {
	for _, tc := range []struct {
		state, failed string
		want          bool
	}{
		{engine.Booting, "", true}, {"Inventory", "", true}, {"Network", "", true}, {"GPU", "", false},
		{"Reporting", "", false}, {engine.Completed, "", false}, {engine.FailedHolding, "SMART", true},
		{engine.FailedHolding, "Network", true}, {engine.FailedHolding, "PSU", false},
	} {
		if got := beforeNetwork(journal.Run{State: tc.state, FailedStage: tc.failed}); got != tc.want {
			t.Errorf("beforeNetwork(%s/%s) = %v", tc.state, tc.failed, got)
		}
	}
}

// TestUploadHookRealNetworkStage: the coordinator's iperf3 supervisor on
// loopback, the info endpoint naming its port, the hook setting the fact and
// the real Network stage measuring against it (pass, or warn when the
// loopback's speed is unknown): the stage does not skip.
func TestUploadHookRealNetworkStage(t *testing.T) {
	testutil.RequireTools(t, "iperf3")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sup, err := iperf.New(iperf.Config{Addr: "127.0.0.1:" + strconv.Itoa(port), Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { _ = sup.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", l.Addr().String(), 200*time.Millisecond); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("iperf3 server not listening")
		}
		time.Sleep(50 * time.Millisecond)
	}
	srv, _ := fakeCoordinator(t, `{"iperf_port":`+strconv.Itoa(port)+`,"iperf_running":true}`)
	info := withInfo(t, srv, infoToken)
	m := &memRemote{objs: map[string][]byte{}}
	e, j, _, out := runWithHookOpts(t, m, nil, func(e *engine.Engine, h *uploadHook) {
		info(e, h)
		e.Tools = &tool.Exec{Log: quiet}
		e.Config.Stage("Network").Params["duration"] = "1s"
	}, invStage(), network.Stage{})
	rows, err := j.Stages(context.Background(), e.Current().ID)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		if r.Name != "Network" {
			continue
		}
		found = true
		if (r.Status != "pass" && r.Status != "warn") || !strings.Contains(r.Message, "127.0.0.1:"+strconv.Itoa(port)) {
			t.Errorf("Network %s: %s\n%s", r.Status, r.Message, out)
		}
		t.Logf("Network %s: %s", r.Status, r.Message)
	}
	if !found {
		t.Fatalf("no Network stage row:\n%s", out)
	}
}
