package corecmd

import (
	"context"
	"testing"

	"github.com/shakedown/shakedown/agent/cli"
)

// Linking corecmd (as bin/shakedown-agent-core does) leaves no declared command
// without a Run, and implementing one twice panics.
func TestEveryCommandImplemented(t *testing.T) {
	if un := cli.Unimplemented(); len(un) != 0 {
		t.Fatalf("declared in agent/cli but not implemented by corecmd: %q", un)
	}
	defer func() {
		if recover() == nil {
			t.Error("implementing run twice did not panic")
		}
	}()
	cli.Implement("run", func(context.Context, cli.IO, []string) error { return nil })
}
