package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/shakedown/shakedown/coordinator/api"
)

// token: `token --data DIR [--rotate] HOST` adds a per-host boot token.
func token(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "the coordinator's data directory (required)")
	rotate := fs.Bool("rotate", false, "replace the host's existing token")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: shakedown-coordinator token --data DIR [--rotate] HOST\n\nAdds a boot token valid only for HOST to DIR/host-tokens.yaml and prints it.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *data == "" || fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	dir, err := filepath.Abs(*data)
	if err != nil {
		fmt.Fprintln(stderr, "token:", err)
		return 1
	}
	tok, err := api.AddHostToken(dir, fs.Arg(0), *rotate)
	if err != nil {
		fmt.Fprintln(stderr, "token:", err)
		return 1
	}
	fmt.Fprintln(stdout, tok)
	return 0
}
