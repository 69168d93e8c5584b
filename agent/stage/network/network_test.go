package network

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/testutil"
	"github.com/shakedown/shakedown/collector/tool"
)

func TestParseIperf(t *testing.T) {
	cases := []struct {
		file        string
		wantErr     string
		wantIperErr string
		reverse     bool
		minBps      float64
	}{
		{file: "loopback-ok.json", minBps: 1e9},
		{file: "loopback-reverse.json", reverse: true, minBps: 1e9},
		{file: "refused.json", wantIperErr: "unable to connect to server: Connection refused"},
		{file: "truncated.json", wantErr: "parse iperf3 JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open("testdata/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r, err := parseIperf(f)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Error != tc.wantIperErr || r.Reverse != tc.reverse {
				t.Fatalf("%+v", r)
			}
			if tc.wantIperErr == "" && (r.ReceivedBps < tc.minBps || r.Retransmits == nil || len(r.IntervalBps) == 0 || r.RemoteHost != "127.0.0.1") {
				t.Fatalf("%+v", r)
			}
		})
	}
	// A warning line before the JSON is tolerated.
	b, _ := os.ReadFile("testdata/loopback-ok.json")
	if r, err := parseIperf(strings.NewReader("iperf3: warning: foo\n" + string(b))); err != nil || r.ReceivedBps == 0 {
		t.Fatalf("prefixed: %v %+v", err, r)
	}
}

func FuzzParseIperf(f *testing.F) {
	for _, n := range []string{"loopback-ok.json", "refused.json", "truncated.json"} {
		b, _ := os.ReadFile("testdata/" + n)
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseIperf(strings.NewReader(s))
		if err == nil && r.Error == "" && r.Seconds == 0 && r.ReceivedBps != 0 {
			t.Fatalf("throughput without duration: %+v", r)
		}
	})
}

func newEnv(t *testing.T, fake tool.Runner, params stage.Params, speed *int) *stage.Env {
	t.Helper()
	th := stage.ThresholdDefaults()
	p := stage.Params{"duration": "1s", "parallel": "1", "reverse": "true"}
	for k, v := range params {
		p[k] = v
	}
	inv := collector.Inventory{NICs: []collector.NIC{{Name: "eth0", SpeedMbps: speed}}}
	return &stage.Env{Stage: "Network", Tools: fake, Params: p, Thresholds: th, WorkDir: t.TempDir(), Sink: &factSink{inv: inv}}
}

func intp(i int) *int { return &i }

func TestStageVerdicts(t *testing.T) {
	ok := "testdata/loopback-ok.json"
	rev := "testdata/loopback-reverse.json"
	cases := []struct {
		name       string
		speed      *int
		params     stage.Params
		rules      []tool.Rule
		want       stage.Status
		wantReason string
		wantInMsg  string
	}{
		{"no server", nil, stage.Params{}, nil, stage.Skip, "no_server", "no iperf3 server"},
		{"fast enough", intp(1000), stage.Params{"server": "10.0.0.1", "nic": "eth0"}, []tool.Rule{
			{Tool: "iperf3", Match: tool.ArgsContain("-R"), StdoutFile: rev},
			{Tool: "iperf3", StdoutFile: ok}}, stage.Pass, "", ">= floor 900"},
		{"below floor on 100G", intp(100000), stage.Params{"server": "10.0.0.1:5202", "nic": "eth0"}, []tool.Rule{
			{Tool: "iperf3", Match: tool.ArgsContain("-R"), StdoutFile: rev},
			{Tool: "iperf3", Match: tool.ArgsContain("-p", "5202"), StdoutFile: ok}}, stage.Fail, "below_floor", "< floor 90000"},
		{"unknown speed", nil, stage.Params{"server": "10.0.0.1", "nic": "eth0", "reverse": "false"}, []tool.Rule{
			{Tool: "iperf3", StdoutFile: ok}}, stage.Warn, "", "not judged"},
		{"refused", intp(1000), stage.Params{"server": "10.0.0.1", "nic": "eth0", "reverse": "false"}, []tool.Rule{
			{Tool: "iperf3", StdoutFile: "testdata/refused.json", ExitCode: 1}}, stage.Fail, "unreachable", "Connection refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := &tool.Fake{Rules: tc.rules}
			env := newEnv(t, fake, tc.params, tc.speed)
			res, err := Stage{}.Run(context.Background(), env)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.want || res.Reason != tc.wantReason || !strings.Contains(res.Message, tc.wantInMsg) {
				t.Fatalf("got %s/%s %q", res.Status, res.Reason, res.Message)
			}
			if tc.want != stage.Skip && len(res.Artifacts) == 0 {
				t.Fatal("no iperf artifact")
			}
		})
	}
	// Truncated output is "could not decide", never a verdict.
	fake := &tool.Fake{Rules: []tool.Rule{{Tool: "iperf3", StdoutFile: "testdata/truncated.json"}}}
	if _, err := (Stage{}).Run(context.Background(), newEnv(t, fake, stage.Params{"server": "h", "reverse": "false"}, intp(1000))); err == nil {
		t.Fatal("truncated output gave a verdict")
	}
}

// TestRealIperf3OnLoopback runs the real iperf3 client and server.
func TestRealIperf3OnLoopback(t *testing.T) {
	testutil.RequireTools(t, "iperf3")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ex := &tool.Exec{}
	srv := make(chan error, 1)
	go func() {
		_, err := ex.Run(ctx, tool.Cmd{Tool: "iperf3", Args: []string{"-s", "-B", "127.0.0.1", "-p", fmt.Sprint(port)}})
		srv <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("iperf3 server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	env := newEnv(t, ex, stage.Params{"server": fmt.Sprintf("127.0.0.1:%d", port), "nic": "eth0"}, intp(1000))
	res, err := Stage{}.Run(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != stage.Pass || len(res.Measurements) < 2 || res.Summary["send_mbps"].(float64) < 900 {
		t.Fatalf("%s %q %+v", res.Status, res.Message, res.Summary)
	}
	cancel()
	<-srv
}
