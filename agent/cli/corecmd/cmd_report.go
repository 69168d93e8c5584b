package corecmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/shakedown/shakedown/agent/cli"
	"github.com/shakedown/shakedown/agent/journal"
	"github.com/shakedown/shakedown/agent/report"
	"github.com/shakedown/shakedown/agent/stage/reporting"
	"github.com/shakedown/shakedown/agent/version"
)

func init() {
	cli.Implement("report", reportCmd)
}

func reportCmd(ctx context.Context, s cli.IO, args []string) error {
	fs := cli.NewFlagSet(s, "report", "[--state-dir DIR] [--run ID] [--out DIR]",
		"Renders a run's report from the journal, offline: report.json (docs/report.md), report.html (one\n"+
			"self-contained page) and ocp.jsonl (OCP Test & Validation 2.0). Works on a finished, held or\n"+
			"running run (the verdict then says held or incomplete) and on a copy of journal.db from the bucket.")
	stateDir := fs.String("state-dir", DefaultStateDir(), "the agent's state directory (its journal.db is read)")
	journalPath := fs.String("journal", "", "read this journal file instead (e.g. a journal.db downloaded from the bucket)")
	runID := fs.String("run", "", "run id (default: the latest run)")
	out := fs.String("out", "", "output directory (default: <state-dir>/reports/<run-id>)")
	bucket := fs.String("bucket", "shakedown", "bucket name for the s3:// file URIs in ocp.jsonl")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.UsageErrorf("unexpected arguments: %v", fs.Args())
	}
	p := *journalPath
	if p == "" {
		p = JournalPath(*stateDir)
	}
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no journal at %s (use --state-dir or --journal)", p)
	}
	j, err := journal.OpenReadOnly(p)
	if err != nil {
		return err
	}
	defer j.Close()
	id := *runID
	if id == "" {
		r, err := j.LatestRun(ctx)
		if err != nil {
			return fmt.Errorf("journal %s: %w", p, err)
		}
		id = r.ID
	}
	rep, err := reporting.Build(ctx, j, id, reporting.BuildOptions{Generator: "shakedown-agent " + version.Version + " (report command)", Now: time.Now()})
	if err != nil {
		return err
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join(*stateDir, "reports", id)
	}
	files, err := report.WriteFiles(dir, rep, report.OCPOptions{Bucket: *bucket})
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Stdout, "run %s: %s\n%s\n%s\n%s\n", id, rep.Verdict.Headline, files.HTML, files.JSON, files.OCP)
	return nil
}
