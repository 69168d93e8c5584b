// Package cli is the shakedown-agent command line. Each subcommand lives in its
// own file and registers itself in init(); Main dispatches. main() is two lines.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// IO is a command's standard streams.
type IO struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Command is one subcommand.
type Command struct {
	Name    string
	Summary string // one line for the command list
	// Run runs the command with its arguments (after the command name).
	Run func(ctx context.Context, s IO, args []string) error
}

// ExitError carries a specific exit status (e.g. wipe-probe's 3 and 4).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Exit returns an error that makes Main exit with code after printing err (if non-nil).
func Exit(code int, err error) error { return &ExitError{Code: code, Err: err} }

var (
	mu       sync.Mutex
	commands = map[string]Command{}
)

// Register adds a subcommand; duplicates panic.
func Register(c Command) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := commands[c.Name]; dup {
		panic("command registered twice: " + c.Name)
	}
	commands[c.Name] = c
}

func lookup(name string) (Command, bool) {
	mu.Lock()
	defer mu.Unlock()
	c, ok := commands[name]
	return c, ok
}

func names() []string {
	mu.Lock()
	defer mu.Unlock()
	out := make([]string, 0, len(commands))
	for n := range commands {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: shakedown-agent COMMAND [flags]")
	fmt.Fprintln(w, "\nPost-repair hardware validation agent. Commands:")
	for _, n := range names() {
		c, _ := lookup(n)
		fmt.Fprintf(w, "  %-12s %s\n", n, c.Summary)
	}
	fmt.Fprintln(w, "\nRun 'shakedown-agent COMMAND --help' for a command's flags.")
}

// Main runs the command line and returns the process exit status.
func Main(ctx context.Context, args []string, s IO) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) == 2 && args[0] == "help" {
			if c, ok := lookup(args[1]); ok {
				return Main(ctx, []string{c.Name, "--help"}, s)
			}
		}
		usage(s.Stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(s.Stderr, "shakedown-agent: unknown command %q\n\n", args[0])
		usage(s.Stderr)
		return 2
	}
	err := c.Run(ctx, s, args[1:])
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil && !errors.Is(ee.Err, flag.ErrHelp) {
			fmt.Fprintf(s.Stderr, "shakedown-agent %s: %v\n", c.Name, ee.Err)
		}
		return ee.Code
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(s.Stderr, "shakedown-agent %s: %v\n", c.Name, err)
		return 2
	}
	fmt.Fprintf(s.Stderr, "shakedown-agent %s: %v\n", c.Name, err)
	return 1
}

type usageError struct{ error }

// UsageErrorf reports bad arguments (exit status 2).
func UsageErrorf(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// NewFlagSet returns a flag set for a command that prints its usage to s.Stderr
// and returns errors instead of exiting. summary and argsUsage feed --help.
func NewFlagSet(s IO, name, argsUsage, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(s.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(s.Stderr, "usage: shakedown-agent %s %s\n\n%s\n", name, argsUsage, summary)
		var b strings.Builder
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(s.Stderr)
		if b.Len() > 0 {
			fmt.Fprintf(s.Stderr, "\nflags:\n%s", b.String())
		}
	}
	return fs
}

// Parse parses flags, turning flag errors into usage errors.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return flag.ErrHelp
		}
		return usageError{err}
	}
	return nil
}
