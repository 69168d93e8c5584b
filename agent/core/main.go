// Command shakedown-agent-core is the whole agent: every command, including the
// ones that run the engine and write the journal (run, status, action, report).
// bin/shakedown-agent execs it for those; it can also be run directly. See
// docs/architecture.md, "Two executables".
package main

import (
	"context"
	"os"
	"syscall"

	"github.com/shakedown/shakedown/agent/cli"
	_ "github.com/shakedown/shakedown/agent/cli/corecmd"
	_ "github.com/shakedown/shakedown/agent/register"
)

func main() {
	code := cli.Main(context.Background(), os.Args[1:], cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr},
		cli.WithSignals(os.Interrupt, syscall.SIGTERM))
	os.Exit(code)
}
