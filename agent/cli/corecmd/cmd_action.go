package corecmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/shakedown/shakedown/agent/cli"
	"github.com/shakedown/shakedown/agent/engine"
	"github.com/shakedown/shakedown/agent/journal"
)

func init() {
	cli.Implement("action", actionCmd)
}

func defaultWho() string {
	name := os.Getenv("SUDO_USER")
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	host, _ := os.Hostname()
	if host != "" {
		return name + "@" + host
	}
	return name
}

func actionCmd(ctx context.Context, s cli.IO, args []string) error {
	fs := cli.NewFlagSet(s, "action", "retry|override|abandon|release --reason TEXT [--target IDENTITY] [--who NAME] [--state-dir DIR]",
		"Operator actions (each recorded with who, why and when):\n"+
			"  retry     re-run the failed stage of a held run\n"+
			"  override  accept the failure and continue; with --target, accept one item the stage flagged\n"+
			"            (e.g. a disk by its identity) and re-run the stage\n"+
			"  abandon   stop testing: go to Reporting with result fail\n"+
			"  release   hand a completed run's host back")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			_ = cli.Parse(fs, args)
			return nil
		}
		fs.Usage()
		return cli.UsageErrorf("name the action: retry, override, abandon or release")
	}
	kind := args[0]
	reason := fs.String("reason", "", "why (required; kept in the audit trail)")
	who := fs.String("who", defaultWho(), "who is acting")
	target := fs.String("target", "", "override only: the identity of the one item to accept (as the stage printed it)")
	stateDir := fs.String("state-dir", DefaultStateDir(), "the agent's state directory")
	if err := cli.Parse(fs, args[1:]); err != nil {
		return err
	}
	a := engine.Action{Kind: kind, Who: *who, Reason: *reason, Target: *target}
	c, err := engine.Dial(*stateDir)
	if err == nil {
		if err := c.Act(ctx, a); err != nil {
			return err
		}
		fmt.Fprintf(s.Stdout, "%s accepted\n", kind)
		return nil
	}
	if !errors.Is(err, engine.ErrNoAgent) {
		return err
	}
	j, err := journal.Open(JournalPath(*stateDir))
	if err != nil {
		return err
	}
	defer j.Close()
	r, err := engine.ApplyOffline(ctx, j, a, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Stdout, "%s recorded in the journal: run %s is %s\n", kind, r.ID, r.State)
	return nil
}
