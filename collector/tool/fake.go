package tool

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Fake replays recorded outputs. Rules are matched in order; the first rule
// whose Tool matches and whose Match (if any) accepts the arguments wins.
// Unmatched calls fail the run with an error that lists the call, so a test
// never silently gets empty output.
type Fake struct {
	mu    sync.Mutex
	Rules []Rule
	// Missing lists tools that LookPath and Run report as not installed.
	Missing map[string]bool
	// Calls records every Run, in order.
	Calls []Cmd
}

// Rule is one recorded answer.
type Rule struct {
	Tool string
	// Match, if set, must return true for the arguments.
	Match func(args []string) bool
	// Stdout/Stderr are the recorded streams; StdoutFile, if set, is read
	// instead of Stdout (testdata/<tool>/<case>.json).
	Stdout     string
	StdoutFile string
	Stderr     string
	ExitCode   int
	// Delay simulates run time; it respects the context.
	Delay time.Duration
	// Func, if set, computes the answer (for outputs that depend on args).
	Func func(ctx context.Context, c Cmd) (Output, error)
	// Times limits how often the rule matches (0 = unlimited).
	Times int
	used  int
}

var _ Runner = (*Fake)(nil)

// ArgsContain returns a matcher that accepts argument lists containing all of want.
func ArgsContain(want ...string) func([]string) bool {
	return func(args []string) bool {
		joined := "\x00" + strings.Join(args, "\x00") + "\x00"
		for _, w := range want {
			if !strings.Contains(joined, "\x00"+w+"\x00") {
				return false
			}
		}
		return true
	}
}

// Add appends a rule and returns the fake for chaining.
func (f *Fake) Add(r Rule) *Fake {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Rules = append(f.Rules, r)
	return f
}

// LookPath implements Runner.
func (f *Fake) LookPath(key string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Missing[key] {
		return "", fmt.Errorf("look up %s: %w", key, ErrNotFound)
	}
	return "/fake/bin/" + key, nil
}

// Run implements Runner.
func (f *Fake) Run(ctx context.Context, c Cmd) (Output, error) {
	f.mu.Lock()
	f.Calls = append(f.Calls, c)
	if f.Missing[c.Tool] {
		f.mu.Unlock()
		return Output{ExitCode: -1}, fmt.Errorf("run %s: %w", c.Tool, ErrNotFound)
	}
	var rule *Rule
	for i := range f.Rules {
		r := &f.Rules[i]
		if r.Tool != c.Tool || (r.Match != nil && !r.Match(c.Args)) || (r.Times > 0 && r.used >= r.Times) {
			continue
		}
		r.used++
		rule = r
		break
	}
	f.mu.Unlock()
	if rule == nil {
		return Output{ExitCode: -1}, fmt.Errorf("fake runner: no recorded output for %q", c.String())
	}
	if rule.Func != nil {
		return rule.Func(ctx, c)
	}
	if rule.Delay > 0 {
		t := time.NewTimer(rule.Delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return Output{ExitCode: -1, Signal: "killed"}, fmt.Errorf("run %s: %w", c.Tool, ctx.Err())
		case <-t.C:
		}
	}
	out := Output{Stdout: []byte(rule.Stdout), Stderr: []byte(rule.Stderr), ExitCode: rule.ExitCode, Duration: rule.Delay}
	if rule.StdoutFile != "" {
		b, err := os.ReadFile(filepath.Clean(rule.StdoutFile))
		if err != nil {
			return Output{ExitCode: -1}, fmt.Errorf("fake runner: read recorded output: %w", err)
		}
		out.Stdout = b
	}
	if c.Stdout != nil {
		_, _ = c.Stdout.Write(out.Stdout)
	}
	if c.Stderr != nil {
		_, _ = c.Stderr.Write(out.Stderr)
	}
	return out, nil
}
