package tool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Exec runs programs for real. The zero value is usable; Log defaults to
// slog.Default().
//
// Each program runs in its own process group. When the context ends (stage
// timeout, cancellation) the whole group gets SIGTERM, then SIGKILL after
// KillGrace, so no stress-ng worker or fio job outlives its stage.
type Exec struct {
	Log *slog.Logger
	// KillGrace is how long a cancelled program gets between SIGTERM and
	// SIGKILL (default 5s).
	KillGrace time.Duration
	// ExtraPath is searched before PATH (the image puts tools in /opt/...).
	ExtraPath []string
}

var _ Runner = (*Exec)(nil)

// LookPath implements Runner.
func (e *Exec) LookPath(key string) (string, error) {
	bin := Binary(key)
	for _, dir := range e.ExtraPath {
		p := dir + "/" + bin
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath(bin)
	if err != nil {
		return "", fmt.Errorf("look up %s (%s): %w", key, bin, ErrNotFound)
	}
	return p, nil
}

// capWriter keeps at most max bytes and remembers whether it dropped some.
type capWriter struct {
	buf       bytes.Buffer
	max       int
	truncated bool
}

func (w *capWriter) Write(p []byte) (int, error) {
	room := w.max - w.buf.Len()
	if room <= 0 {
		w.truncated = w.truncated || len(p) > 0
		return len(p), nil
	}
	if len(p) > room {
		w.buf.Write(p[:room])
		w.truncated = true
		return len(p), nil
	}
	w.buf.Write(p)
	return len(p), nil
}

// Run implements Runner.
func (e *Exec) Run(ctx context.Context, c Cmd) (Output, error) {
	log := e.Log
	if log == nil {
		log = slog.Default()
	}
	path, err := e.LookPath(c.Tool)
	if err != nil {
		return Output{ExitCode: -1}, err
	}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	max := c.MaxCapture
	if max <= 0 {
		max = 64 << 20
	}
	stdout := &capWriter{max: max}
	stderr := &capWriter{max: max}
	cmd := exec.CommandContext(ctx, path, c.Args...)
	cmd.Dir = c.Dir
	if len(c.Env) > 0 {
		cmd.Env = append(os.Environ(), c.Env...)
	}
	cmd.Stdin = c.Stdin
	cmd.Stdout = stdout
	if c.Stdout != nil {
		cmd.Stdout = io.MultiWriter(stdout, c.Stdout)
	}
	cmd.Stderr = stderr
	if c.Stderr != nil {
		cmd.Stderr = io.MultiWriter(stderr, c.Stderr)
	}
	setProcessGroup(cmd)
	grace := e.KillGrace
	if grace <= 0 {
		grace = 5 * time.Second
	}
	cmd.Cancel = func() error { return terminateGroup(cmd) }
	cmd.WaitDelay = grace

	log.Info("tool started", "tool", c.Tool, "cmd", c.String())
	start := time.Now()
	runErr := cmd.Run()
	out := Output{
		Stdout:    stdout.buf.Bytes(),
		Stderr:    stderr.buf.Bytes(),
		Duration:  time.Since(start),
		Truncated: stdout.truncated || stderr.truncated,
		ExitCode:  -1,
	}
	if cmd.ProcessState != nil {
		out.ExitCode = cmd.ProcessState.ExitCode()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			out.Signal = ws.Signal().String()
		}
	}
	// Make sure nothing of the group survives, even on a normal exit
	// (daemonising children, stress-ng workers left behind).
	killGroup(cmd)
	if ctx.Err() != nil {
		log.Warn("tool ended by context", "tool", c.Tool, "duration_seconds", out.Duration.Seconds(), "err", ctx.Err())
		return out, fmt.Errorf("run %s: %w", c.Tool, ctx.Err())
	}
	var exitErr *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exitErr) {
		log.Error("tool failed to run", "tool", c.Tool, "err", runErr)
		return out, fmt.Errorf("run %s: %w", c.Tool, runErr)
	}
	log.Info("tool finished", "tool", c.Tool, "exit", out.ExitCode, "signal", out.Signal, "duration_seconds", out.Duration.Seconds())
	return out, nil
}
