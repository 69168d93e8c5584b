package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/tool"
)

func init() {
	Register(Command{
		Name:    "snapshot",
		Summary: "capture the files and tool outputs the probes read into a tar.gz fixture",
		Run:     runSnapshot,
	})
}

func runSnapshot(ctx context.Context, s IO, args []string) error {
	fs := NewFlagSet(s, "snapshot", "OUT.tar.gz [--mask] [--mask-key KEY] [--smart]",
		"Captures exactly the files the collector probes read (sysfs, procfs, the SMBIOS table, udev\n"+
			"data) and the outputs of the tools they ran (ethtool, nvidia-smi) into OUT.tar.gz, which\n"+
			"`inventory --root OUT.tar.gz` and the tests read as a root. --mask replaces serials, UUIDs,\n"+
			"WWNs and MACs with stable fakes of the same shape so the file can be committed.\n"+
			"--smart also records `smartctl -j -x` for every disk, replayable from the snapshot.")
	mask := fs.Bool("mask", false, "replace serials, UUIDs, WWNs, MACs and the host name with stable fakes")
	maskKey := fs.String("mask-key", "", "key for the fakes (default: derived from the host identity)")
	root := fs.String("root", "/", "filesystem root to capture (default: the live system)")
	smart := fs.Bool("smart", false, "also record smartctl -j -x of every disk (live system only; slow on a failing drive)")
	// Flags may follow the output path.
	if err := Parse(fs, args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return UsageErrorf("snapshot needs an output file")
	}
	out := rest[0]
	if err := Parse(fs, rest[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return UsageErrorf("unexpected argument %q", fs.Arg(0))
	}
	log := slog.New(slog.NewTextHandler(s.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	env := collector.Env{Root: *root, Tools: &tool.Exec{Log: log}, Log: log}
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("create snapshot: %w", err)
	}
	st, err := collector.Snapshot(ctx, env, f, collector.SnapshotOptions{Mask: *mask, MaskKey: *maskKey, SMART: *smart})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	fmt.Fprintf(s.Stdout, "%s: %d files, %d links, %d dirs, %d tool runs, %d unreadable, %d masked, %d bytes\n",
		out, st.Files, st.Links, st.Dirs, st.ToolRuns, st.Unreadable, st.Masked, st.Bytes)
	return nil
}
