// Package iperf supervises the iperf3 server the coordinator hosts for the
// agents' Network stage (brief §2: `iperf3 -c <coordinator> -p <port> -t 10
// -J` on the agent side). It runs `iperf3 -s [-B host] -p port` through
// collector/tool (the module's only exec gateway, which kills the program's
// whole process group when the context ends), restarts it with backoff when
// it exits, and logs what it does.
package iperf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shakedown/shakedown/collector/tool"
)

// DefaultPort is iperf3's own default port.
const DefaultPort = 5201

// Config configures a Supervisor.
type Config struct {
	// Addr is host:port. An empty host (":5201") or an unspecified address
	// ("0.0.0.0", "::") listens on every address (no -B).
	Addr string
	// PIDFile, when set, is passed to iperf3 (--pidfile) and read by PID. It
	// must be absolute: the embedded S3 server changes the coordinator's
	// working directory.
	PIDFile string
	// Tools runs iperf3 (default: tool.Exec with Log).
	Tools tool.Runner
	Log   *slog.Logger
	// MinBackoff and MaxBackoff bound the wait before a restart (defaults 1 s
	// and 1 min); the wait doubles after each exit that came sooner than
	// StableAfter (default 30 s) after its start, and starts over after a run
	// that lasted longer.
	MinBackoff, MaxBackoff, StableAfter time.Duration
	// KillGrace is how long iperf3 gets between SIGTERM and SIGKILL when the
	// supervisor stops (default 2 s; only used for the default Tools).
	KillGrace time.Duration
}

// Status is a snapshot of the supervisor for status pages and the API.
type Status struct {
	Host string // "" when listening on every address
	Port int
	// Running is true while an iperf3 process has been started and has not
	// exited yet (it may still be binding its port).
	Running  bool
	Starts   int       // processes started so far
	Started  time.Time // start of the current (or last) process
	LastExit string    // how the last process ended, with the end of its output
}

// Supervisor keeps one iperf3 server running.
type Supervisor struct {
	cfg  Config
	host string
	port int

	mu sync.Mutex
	st Status
}

// ErrNotInstalled is returned by New when iperf3 is not on PATH.
var ErrNotInstalled = errors.New("iperf3 is not installed (apt-get install iperf3)")

// ParseAddr splits host:port for the server; an unspecified host becomes "".
func ParseAddr(addr string) (host string, port int, err error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("iperf3 listen address %q: want HOST:PORT or :PORT: %w", addr, err)
	}
	port, err = strconv.Atoi(p)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("iperf3 listen address %q: port must be 1-65535", addr)
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsUnspecified() {
		h = ""
	}
	if strings.HasPrefix(h, "-") {
		return "", 0, fmt.Errorf("iperf3 listen address %q: bad host", addr)
	}
	return h, port, nil
}

// New checks the configuration and that iperf3 is installed (errors.Is(err,
// ErrNotInstalled) when it is not).
func New(cfg Config) (*Supervisor, error) {
	host, port, err := ParseAddr(cfg.Addr)
	if err != nil {
		return nil, err
	}
	if cfg.PIDFile != "" && !filepath.IsAbs(cfg.PIDFile) {
		return nil, fmt.Errorf("iperf3 pid file %q: must be an absolute path", cfg.PIDFile)
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	cfg.Log = cfg.Log.With("component", "iperf3")
	if cfg.KillGrace <= 0 {
		cfg.KillGrace = 2 * time.Second
	}
	if cfg.Tools == nil {
		cfg.Tools = &tool.Exec{Log: cfg.Log, KillGrace: cfg.KillGrace}
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(time.Minute, cfg.MinBackoff)
	}
	if cfg.StableAfter <= 0 {
		cfg.StableAfter = 30 * time.Second
	}
	if _, err := cfg.Tools.LookPath("iperf3"); err != nil {
		if errors.Is(err, tool.ErrNotFound) {
			return nil, fmt.Errorf("%w: %v", ErrNotInstalled, err)
		}
		return nil, fmt.Errorf("look up iperf3: %w", err)
	}
	return &Supervisor{cfg: cfg, host: host, port: port, st: Status{Host: host, Port: port}}, nil
}

// Host is the address iperf3 binds, "" for every address.
func (s *Supervisor) Host() string { return s.host }

// Port is the port iperf3 listens on.
func (s *Supervisor) Port() int { return s.port }

// Status returns a snapshot.
func (s *Supervisor) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

// PID reads the running server's process id from the pid file (0 when there
// is no pid file or no process).
func (s *Supervisor) PID() int {
	if s.cfg.PIDFile == "" || !s.Status().Running {
		return 0
	}
	b, err := os.ReadFile(s.cfg.PIDFile)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(bytes.TrimRight(b, "\x00"))))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// Args is the iperf3 command line the supervisor runs.
func (s *Supervisor) Args() []string {
	args := []string{"-s"}
	if s.host != "" {
		args = append(args, "-B", s.host)
	}
	args = append(args, "-p", strconv.Itoa(s.port), "--forceflush")
	if s.cfg.PIDFile != "" {
		args = append(args, "--pidfile", s.cfg.PIDFile)
	}
	return args
}

// Run keeps iperf3 running until ctx ends, then stops it (SIGTERM to its
// process group, SIGKILL after KillGrace) and returns nil.
func (s *Supervisor) Run(ctx context.Context) error {
	log := s.cfg.Log.With("addr", net.JoinHostPort(s.host, strconv.Itoa(s.port)))
	wait := s.cfg.MinBackoff
	for {
		if ctx.Err() != nil {
			return nil
		}
		if s.cfg.PIDFile != "" {
			// A pid file left by a killed iperf3 makes the next one refuse
			// to start when its pid has been reused.
			_ = os.Remove(s.cfg.PIDFile)
		}
		start := time.Now()
		s.mu.Lock()
		s.st.Running, s.st.Started = true, start
		s.st.Starts++
		n := s.st.Starts
		s.mu.Unlock()
		log.Info("iperf3 server starting", "start", n, "args", strings.Join(s.Args(), " "))
		lw := &lineLog{log: log}
		out, err := s.cfg.Tools.Run(ctx, tool.Cmd{Tool: "iperf3", Args: s.Args(), Dir: "/",
			Stdout: lw, Stderr: lw, MaxCapture: 16 << 10})
		lw.flush()
		ran := time.Since(start)
		why := exitText(out, err, lw.summary())
		s.mu.Lock()
		s.st.Running, s.st.LastExit = false, why
		s.mu.Unlock()
		if ctx.Err() != nil {
			log.Info("iperf3 server stopped", "duration_seconds", ran.Seconds())
			return nil
		}
		if ran >= s.cfg.StableAfter {
			wait = s.cfg.MinBackoff
		}
		log.Warn("iperf3 server exited; restarting", "duration_seconds", ran.Seconds(), "restart_in", wait.String(), "err", why)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		wait = min(wait*2, s.cfg.MaxBackoff)
	}
}

func exitText(out tool.Output, err error, last string) string {
	var b strings.Builder
	switch {
	case err != nil:
		b.WriteString(err.Error())
	case out.Signal != "":
		b.WriteString("ended by signal: " + out.Signal)
	default:
		fmt.Fprintf(&b, "exit status %d", out.ExitCode)
	}
	if last != "" {
		b.WriteString(": " + last)
	}
	return b.String()
}

// lineLog logs iperf3's output line by line: connections and errors at info
// and warn, the per-second report lines at debug. It keeps the last
// non-empty line and the last error line for the exit message.
type lineLog struct {
	log           *slog.Logger
	mu            sync.Mutex
	buf           []byte
	last, lastErr string
}

// summary is the line that best says why iperf3 exited.
func (w *lineLog) summary() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lastErr != "" {
		return w.lastErr
	}
	return w.last
}

func (w *lineLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > 4096 { // a line that never ends
		w.line(string(w.buf))
		w.buf = w.buf[:0]
	}
	return len(p), nil
}

func (w *lineLog) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.line(string(w.buf))
		w.buf = nil
	}
}

func (w *lineLog) line(l string) {
	l = strings.TrimSpace(l)
	if l == "" || strings.Trim(l, "-") == "" {
		return
	}
	w.last = l
	switch {
	case strings.Contains(l, "error"):
		w.lastErr = l
		w.log.Warn("iperf3 output", "line", l)
	case strings.HasPrefix(l, "Accepted connection from"), strings.HasPrefix(l, "Server listening on"):
		w.log.Info("iperf3 output", "line", l)
	default:
		w.log.Debug("iperf3 output", "line", l)
	}
}
