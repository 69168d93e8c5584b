// Command shakedown-agent validates a repaired server's hardware. See docs/.
//
// This is the front executable: the read-only commands (inventory, snapshot,
// spec, wipe-probe, version) run here; run, status, action, report and smart
// exec bin/shakedown-agent-core (execcore.go). It links no engine, journal,
// SQLite, smart.go or stage (only the stage framework and the read-only wipe
// probe), so it starts faster and cannot write a disk (docs/architecture.md,
// "Two executables"); main_test.go checks its dependencies.
package main

import (
	"context"
	"os"
	"syscall"

	"github.com/shakedown/shakedown/agent/cli"
)

func main() {
	code := cli.Main(context.Background(), os.Args[1:], cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr},
		cli.WithCore(execCore), cli.WithSignals(os.Interrupt, syscall.SIGTERM))
	os.Exit(code)
}
