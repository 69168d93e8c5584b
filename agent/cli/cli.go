// Package cli is the shakedown-agent command line. Each subcommand lives in its
// own file and registers itself in init(); Main dispatches. main() is two lines.
//
// There is one registry for two executables (docs/architecture.md, "Two
// executables"): the commands that need the engine or the journal are declared
// here with Core set (cmd_core.go) and implemented in agent/cli/corecmd, which
// only bin/shakedown-agent-core links. In bin/shakedown-agent such a command has
// no Run, and Main hands it to the hook given with WithCore (an exec of the core).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
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
	Run RunFunc
	// Core marks a command implemented in the core executable: it is declared
	// with a nil Run, and agent/cli/corecmd supplies Run with Implement.
	Core bool
	// Quick marks a short read-only command with nothing to clean up: Main
	// does not route WithSignals' signals into its context, so they keep Go's
	// default (the process ends at once) and no signal-handling goroutine and
	// thread are started. That is ~1.3 ms of the ~20 ms `inventory` takes on
	// the development VM. A program it started through tool.Exec runs in its
	// own process group and is left to finish (nvidia-smi, a second at most).
	Quick bool
}

// RunFunc runs a command with its arguments (after the command name).
type RunFunc func(ctx context.Context, s IO, args []string) error

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

// Register adds a subcommand; duplicates panic. A command needs a Run unless it
// is a Core one, which must not have one yet (Implement sets it).
func Register(c Command) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := commands[c.Name]; dup {
		panic("command registered twice: " + c.Name)
	}
	if c.Core != (c.Run == nil) {
		panic("command " + c.Name + ": a Core command is declared without Run (Implement sets it), any other needs one")
	}
	commands[c.Name] = c
}

// Implement supplies the Run of a Core command declared with Register; the core
// package calls it from init(). It panics if name was not declared as a Core
// command or is already implemented.
func Implement(name string, run RunFunc) {
	mu.Lock()
	defer mu.Unlock()
	c, ok := commands[name]
	switch {
	case !ok:
		panic("cli.Implement: command " + name + " is not declared (add it to agent/cli/cmd_core.go)")
	case !c.Core:
		panic("cli.Implement: command " + name + " is not a Core command")
	case c.Run != nil:
		panic("cli.Implement: command " + name + " implemented twice")
	case run == nil:
		panic("cli.Implement: nil Run for " + name)
	}
	c.Run = run
	commands[name] = c
}

// Unimplemented lists the declared commands that have no Run in this binary
// (the Core commands, unless agent/cli/corecmd is linked).
func Unimplemented() []string {
	var out []string
	for _, n := range names() {
		if c, _ := lookup(n); c.Run == nil {
			out = append(out, n)
		}
	}
	return out
}

// CoreFunc runs a command this binary does not implement, with Main's whole
// argument list (the command name first), and returns the exit status. The
// front executable's hook replaces the process with the core and returns only
// when it could not.
type CoreFunc func(args []string, s IO) int

// Option configures Main.
type Option func(*options)

type options struct {
	core    CoreFunc
	signals []os.Signal
}

// WithCore makes Main hand every command without a Run to core.
func WithCore(core CoreFunc) Option { return func(o *options) { o.core = core } }

// WithSignals makes Main cancel a command's context when one of sigs arrives
// (signal.NotifyContext), except for Quick commands.
func WithSignals(sigs ...os.Signal) Option { return func(o *options) { o.signals = sigs } }

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

// ExitNoCore is Main's exit status for a command whose implementation is not
// in this binary and could not be reached (like a shell's "command not found").
const ExitNoCore = 127

// Main runs the command line and returns the process exit status.
func Main(ctx context.Context, args []string, s IO, opts ...Option) int {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) == 2 && args[0] == "help" {
			if c, ok := lookup(args[1]); ok {
				return Main(ctx, []string{c.Name, "--help"}, s, opts...)
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
	if c.Run == nil {
		if o.core == nil {
			fmt.Fprintf(s.Stderr, "shakedown-agent %s: not implemented in this binary (it is in shakedown-agent-core)\n", c.Name)
			return ExitNoCore
		}
		return o.core(args, s)
	}
	if len(o.signals) > 0 && !c.Quick {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, o.signals...)
		defer stop()
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
