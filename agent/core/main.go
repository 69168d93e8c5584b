// Command shakedown-agent-core is the whole agent: every command, including the
// ones that run the engine and write the journal (run, status, action, report).
// bin/shakedown-agent execs it for those; it can also be run directly. See
// docs/architecture.md, "Two executables".
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/shakedown/shakedown/agent/cli"
	_ "github.com/shakedown/shakedown/agent/cli/corecmd"
	_ "github.com/shakedown/shakedown/agent/register"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}
