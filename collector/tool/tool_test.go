package tool

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func quiet() *Exec {
	return &Exec{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), KillGrace: 200 * time.Millisecond}
}

func TestExecExitStatusIsData(t *testing.T) {
	out, err := quiet().Run(context.Background(), Cmd{Tool: "sh", Args: []string{"-c", "echo out; echo err >&2; exit 3"}})
	if err != nil {
		t.Fatal(err)
	}
	if out.ExitCode != 3 || string(out.Stdout) != "out\n" || string(out.Stderr) != "err\n" || out.Signal != "" {
		t.Fatalf("%+v", out)
	}
}

func TestExecNotFound(t *testing.T) {
	_, err := quiet().Run(context.Background(), Cmd{Tool: "no-such-tool-shakedown"})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err %v", err)
	}
	if _, err := quiet().LookPath("no-such-tool-shakedown"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LookPath err %v", err)
	}
}

func TestExecBinaryOverrideFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "fake-fio")
	if err := os.WriteFile(p, []byte("#!/bin/sh\necho replaced \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SHAKEDOWN_TOOL_FIO", p)
	out, err := quiet().Run(context.Background(), Cmd{Tool: "fio", Args: []string{"--version"}})
	if err != nil || string(out.Stdout) != "replaced --version\n" {
		t.Fatalf("%q %v", out.Stdout, err)
	}
}

func TestExecContextEndKillsTheProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := quiet().Run(ctx, Cmd{Tool: "sh", Args: []string{"-c", "sleep 60 & echo $! > " + pidFile + "; wait"}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("Run did not return promptly after the context ended")
	}
	b, _ := os.ReadFile(pidFile)
	pid := strings.TrimSpace(string(b))
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil || strings.Contains(string(st), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("grandchild %s survived", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestExecCapsCapture(t *testing.T) {
	var live strings.Builder
	out, err := quiet().Run(context.Background(), Cmd{Tool: "sh", Args: []string{"-c", "head -c 10000 /dev/zero | tr '\\0' x"}, MaxCapture: 100, Stdout: &live})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Stdout) != 100 || !out.Truncated || live.Len() != 10000 {
		t.Fatalf("captured %d truncated %v live %d", len(out.Stdout), out.Truncated, live.Len())
	}
}

func TestFakeMatchesInOrderAndRefusesUnknownCalls(t *testing.T) {
	f := &Fake{Missing: map[string]bool{"nvidia-smi": true}}
	f.Add(Rule{Tool: "fio", Match: ArgsContain("--readonly"), Stdout: "ro", Times: 1})
	f.Add(Rule{Tool: "fio", Stdout: "rw", ExitCode: 1})
	ctx := context.Background()
	if out, _ := f.Run(ctx, Cmd{Tool: "fio", Args: []string{"--readonly"}}); string(out.Stdout) != "ro" {
		t.Fatalf("first: %q", out.Stdout)
	}
	if out, _ := f.Run(ctx, Cmd{Tool: "fio", Args: []string{"--readonly"}}); string(out.Stdout) != "rw" || out.ExitCode != 1 {
		t.Fatalf("Times not honoured: %+v", out)
	}
	if _, err := f.Run(ctx, Cmd{Tool: "iperf3"}); err == nil || !strings.Contains(err.Error(), "no recorded output") {
		t.Fatalf("unknown call: %v", err)
	}
	if _, err := f.Run(ctx, Cmd{Tool: "nvidia-smi"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing tool: %v", err)
	}
	if len(f.Calls) != 4 {
		t.Fatalf("calls %d", len(f.Calls))
	}
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	f.Add(Rule{Tool: "slow", Delay: time.Hour})
	if _, err := f.Run(ctx2, Cmd{Tool: "slow"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("delay ignores ctx: %v", err)
	}
}

func TestCmdString(t *testing.T) {
	c := Cmd{Tool: "sh", Args: []string{"-c", "echo 'hi' $HOME", ""}}
	if got := c.String(); got != `sh -c 'echo '\''hi'\'' $HOME' ''` {
		t.Fatalf("%s", got)
	}
}
