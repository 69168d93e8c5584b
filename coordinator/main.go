// Command shakedown-coordinator is the thin coordinator: the results bucket
// (embedded S3 or an external one), the presign API agents upload through,
// and the operator dashboard. See docs/coordinator.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/shakedown/shakedown/agent/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: shakedown-coordinator <command> [flags]

commands:
  serve     run the bucket, the presign API and the dashboard (serve -h for flags)
  token     add a per-host boot token: token --data DIR [--rotate] HOST
  version   print the version
`

// run is the whole program, testable: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "token":
		return token(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "shakedown-coordinator", version.Version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "unknown command %q\n%s", args[0], usage)
	return 2
}
