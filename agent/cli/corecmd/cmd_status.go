package corecmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/shakedown/shakedown/agent/cli"
	"github.com/shakedown/shakedown/agent/engine"
	"github.com/shakedown/shakedown/agent/journal"
)

func init() {
	cli.Implement("status", statusCmd)
}

func statusCmd(ctx context.Context, s cli.IO, args []string) error {
	fs := cli.NewFlagSet(s, "status", "[--json] [--state-dir DIR]",
		"Shows the latest run: state, result, every stage with its verdict, and operator actions.\n"+
			"Asks the running agent when there is one, else reads the journal.")
	asJSON := fs.Bool("json", false, "print JSON")
	stateDir := fs.String("state-dir", DefaultStateDir(), "the agent's state directory")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	st, err := loadStatus(ctx, *stateDir)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(s.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	printStatus(s.Stdout, st)
	return nil
}

func loadStatus(ctx context.Context, stateDir string) (engine.Status, error) {
	if c, err := engine.Dial(stateDir); err == nil {
		return c.Status(ctx)
	}
	p := JournalPath(stateDir)
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return engine.Status{}, fmt.Errorf("no journal at %s: no run was started with this state dir (start one with `shakedown-agent run --state-dir %s`)", p, stateDir)
	}
	j, err := journal.OpenReadOnly(p)
	if err != nil {
		return engine.Status{}, err
	}
	defer j.Close()
	st, err := engine.ReadStatus(ctx, j, "")
	if errors.Is(err, journal.ErrNotFound) {
		return st, fmt.Errorf("journal %s has no run yet", p)
	}
	return st, err
}

func printStatus(w io.Writer, st engine.Status) {
	r := st.Run
	fmt.Fprintf(w, "run %s (profile %s, agent %s)\n", r.ID, r.Profile, st.Agent)
	if r.HostID != "" {
		fmt.Fprintf(w, "host %s\n", r.HostID)
	}
	line := "state " + r.State
	if r.Result != "" {
		line += ", result " + r.Result
	}
	if r.FailedStage != "" {
		line += ", failed stage " + r.FailedStage
	}
	fmt.Fprintln(w, line)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nSTAGE\tSTATUS\tTRIES\tTIME\tMESSAGE")
	for _, v := range st.Stages {
		dur := ""
		if v.DurationSeconds != nil {
			dur = fmt.Sprintf("%.1fs", *v.DurationSeconds)
		}
		status := v.Status
		if v.Overridden {
			status += " (overridden)"
		}
		tries := ""
		if v.Attempts > 0 {
			tries = fmt.Sprint(v.Attempts)
		}
		msg := v.Message
		if v.Reason != "" && !strings.HasPrefix(msg, v.Reason) {
			msg = v.Reason + ": " + msg
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", v.Name, status, tries, dur, oneLine(msg, 100))
	}
	tw.Flush()
	if st.Progress != nil {
		p := st.Progress
		fmt.Fprintf(w, "\nprogress %s %s: %.0f/%.0f %s %s\n", p.Stage, p.Subject, p.Done, p.Total, p.Unit, p.Message)
	}
	if len(st.Actions) > 0 {
		fmt.Fprintln(w, "\nACTIONS")
		for _, a := range st.Actions {
			t := ""
			if a.Target != "" {
				t = " target " + a.Target
			}
			fmt.Fprintf(w, "  %s %s%s by %s (in %s): %s\n", a.At.Local().Format("2006-01-02 15:04:05"), a.Kind, t, a.Who, a.StateBefore, a.Reason)
		}
	}
	if st.Next != "" {
		fmt.Fprintf(w, "\nnext: %s\n", st.Next)
	}
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		return s[:max-1] + "…"
	}
	return s
}
