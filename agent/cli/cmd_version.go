package cli

import (
	"context"
	"fmt"
	"runtime"

	"github.com/shakedown/shakedown/agent/version"
)

func init() {
	Register(Command{Name: "version", Summary: "print the agent version", Quick: true, Run: func(ctx context.Context, s IO, args []string) error {
		fs := NewFlagSet(s, "version", "", "Prints the agent version, Go version and journal schema version.")
		if err := Parse(fs, args); err != nil {
			return err
		}
		fmt.Fprintf(s.Stdout, "shakedown-agent %s (%s, %s/%s, journal schema %d)\n", version.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH, version.JournalSchema)
		return nil
	}})
}
