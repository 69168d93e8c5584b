// Command shakedown-agent validates a repaired server's hardware. See docs/.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/shakedown/shakedown/agent/cli"
	_ "github.com/shakedown/shakedown/agent/register"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}
