package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/shakedown/shakedown/agent/stage/storage/wipeprobe"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/tool"
)

func init() {
	Register(Command{
		Name:    "wipe-probe",
		Summary: "check block devices or image files for data before a destructive test (read-only)",
		Run:     runWipeProbe,
	})
}

// Exit statuses of wipe-probe.
const (
	wipeProbeData    = 3
	wipeProbeUnknown = 4
)

func runWipeProbe(ctx context.Context, s IO, args []string) error {
	fs := NewFlagSet(s, "wipe-probe", "PATH... [--json]",
		"Runs the three wipe-probe voters (our signature scan of the start, end, partitions and LVM data\n"+
			"area; wipefs -n --json; kernel holders/mounts/O_EXCL/read-only) on each path. Never writes.\n"+
			"Exit status: 0 all clean, 3 some path has data, 4 some path could not be decided (wins over 3).")
	asJSON := fs.Bool("json", false, "print a JSON array with one report per path")
	root := fs.String("root", "/", "filesystem root for sysfs/procfs (tests)")
	// Flags may follow the paths: parse, take one path, parse again.
	var paths []string
	rest := args
	for {
		if err := Parse(fs, rest); err != nil {
			return err
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		paths = append(paths, rest[0])
		rest = rest[1:]
	}
	if len(paths) == 0 {
		return UsageErrorf("wipe-probe needs at least one PATH")
	}
	log := slog.New(slog.NewTextHandler(s.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	p := wipeprobe.Prober{Env: collector.Env{Root: *root, Tools: &tool.Exec{Log: log}, Log: log}}
	reports := make([]wipeprobe.Report, 0, len(paths))
	for _, path := range paths {
		reports = append(reports, p.Probe(ctx, path))
	}
	if *asJSON {
		enc := json.NewEncoder(s.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(reports); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	} else {
		printWipeReports(s.Stdout, reports)
	}
	return wipeProbeExit(reports)
}

// wipeProbeExit maps verdicts to the exit status: unknown (4) wins over data (3).
func wipeProbeExit(reports []wipeprobe.Report) error {
	code := 0
	for _, r := range reports {
		switch r.Verdict {
		case wipeprobe.Unknown:
			code = wipeProbeUnknown
		case wipeprobe.Data:
			if code == 0 {
				code = wipeProbeData
			}
		}
	}
	if code == 0 {
		return nil
	}
	return Exit(code, nil)
}

func printWipeReports(w io.Writer, reports []wipeprobe.Report) {
	for _, r := range reports {
		fmt.Fprintf(w, "%s: %s (%d bytes)\n", r.Path, r.Verdict, r.Size)
		for _, sg := range r.Signatures {
			off := "-"
			if sg.Offset >= 0 {
				off = fmt.Sprintf("%#x", sg.Offset)
			}
			fmt.Fprintf(w, "  %-22s %-12s %-7s %s\n", sg.Type, off, sg.Voter, sg.Detail)
		}
		for _, u := range r.Unknown {
			fmt.Fprintf(w, "  could not decide (%s): %s\n", u.Voter, u.Reason)
		}
	}
}
