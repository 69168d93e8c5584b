package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/tool"
)

func init() {
	Register(Command{
		Name:    "inventory",
		Summary: "print the hardware inventory (read-only; --json for the versioned schema)",
		Run:     runInventory,
		Quick:   true,
	})
}

func runInventory(ctx context.Context, s IO, args []string) error {
	fs := NewFlagSet(s, "inventory", "[--root DIR|SNAPSHOT.tar.gz] [--json]",
		"Runs every collector probe and prints what it found: a summary, or with --json the\n"+
			"inventory document described in docs/inventory.md. --root reads a fixture tree or an\n"+
			"unpacked snapshot instead of the live system: external tools are then not run, a\n"+
			"snapshot's recorded outputs (ethtool, nvidia-smi) are replayed instead.")
	root := fs.String("root", "/", "filesystem root to read (a directory or a snapshot .tar.gz)")
	asJSON := fs.Bool("json", false, "print the inventory as JSON (schema in docs/inventory.md)")
	pciIDs := fs.String("pci-ids", "", "pci.ids file to use (default: the one under --root, else the embedded copy)")
	verbose := fs.Bool("v", false, "log probe details to stderr")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return UsageErrorf("unexpected argument %q", fs.Arg(0))
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(s.Stderr, &slog.HandlerOptions{Level: level}))
	dir := *root
	if strings.HasSuffix(dir, ".tar.gz") || strings.HasSuffix(dir, ".tgz") {
		tmp, err := os.MkdirTemp("", "shakedown-snapshot-")
		if err != nil {
			return fmt.Errorf("unpack snapshot: %w", err)
		}
		defer os.RemoveAll(tmp)
		if err := collector.UnpackSnapshotFile(dir, tmp); err != nil {
			return err
		}
		dir = tmp
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return UsageErrorf("--root %s: not a directory or snapshot", *root)
	}
	env := collector.Env{Root: dir, Tools: &tool.Exec{Log: log}, Log: log, PCIIDs: *pciIDs}
	inv, err := collector.Collect(ctx, env)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(s.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(inv); err != nil {
			return fmt.Errorf("write inventory: %w", err)
		}
		return nil
	}
	return collector.WriteSummary(s.Stdout, inv)
}
