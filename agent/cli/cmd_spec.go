package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shakedown/shakedown/agent/spec"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/tool"
)

func init() {
	Register(Command{
		Name:    "spec",
		Summary: "expected hardware spec: capture, check, lint, defaults (docs/spec.md)",
		Run:     runSpec,
	})
}

const specUsage = `usage: shakedown-agent spec SUBCOMMAND [flags]

  capture [--inventory F]                   write a commented spec of this host to stdout
  check --spec F [--inventory F] [--json]   compare this host with a spec; exit 1 on critical diffs
  lint F...                                 check spec files; exit 1 if any is invalid
  defaults [--json]                         print threshold defaults and the diff rule table

Without --inventory, capture and check read the live host (collector probes).
Exit status 2 means bad arguments or an invalid spec.
`

func runSpec(ctx context.Context, s IO, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(s.Stderr, specUsage)
		return UsageErrorf("spec needs a subcommand")
	}
	switch args[0] {
	case "capture":
		return specCapture(ctx, s, args[1:])
	case "check":
		return specCheck(ctx, s, args[1:])
	case "lint":
		return specLint(s, args[1:])
	case "defaults":
		return specDefaults(s, args[1:])
	case "-h", "--help", "help":
		fmt.Fprint(s.Stdout, specUsage)
		return nil
	}
	fmt.Fprint(s.Stderr, specUsage)
	return UsageErrorf("unknown spec subcommand %q", args[0])
}

// maxInventorySize caps an inventory JSON file.
const maxInventorySize = 64 << 20

// loadInventory reads an inventory JSON file, or runs the probes on the live
// host when path is empty.
func loadInventory(ctx context.Context, s IO, path string) (*collector.Inventory, string, error) {
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, "", fmt.Errorf("open inventory: %w", err)
		}
		defer f.Close()
		var inv collector.Inventory
		dec := json.NewDecoder(io.LimitReader(f, maxInventorySize))
		if err := dec.Decode(&inv); err != nil {
			return nil, "", fmt.Errorf("decode inventory %s: %w", path, err)
		}
		return &inv, path, nil
	}
	log := slog.New(slog.NewTextHandler(s.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	inv, err := collector.Collect(ctx, collector.Env{Root: "/", Tools: &tool.Exec{Log: log}, Log: log})
	if err != nil {
		return nil, "", fmt.Errorf("collect inventory: %w", err)
	}
	return inv, "live host", nil
}

func specCapture(ctx context.Context, s IO, args []string) error {
	fs := NewFlagSet(s, "spec capture", "[--inventory F] > spec.yaml",
		"Writes a commented expected spec describing this host (the golden-host workflow).\n"+
			"Every disk gets role: keep; change the disks that may be wiped to role: test.")
	invPath := fs.String("inventory", "", "read this inventory.json instead of probing the live host")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return UsageErrorf("spec capture takes no arguments (got %q)", fs.Args())
	}
	inv, src, err := loadInventory(ctx, s, *invPath)
	if err != nil {
		return err
	}
	return spec.Capture(s.Stdout, inv, spec.CaptureOptions{Now: time.Now(), Source: src})
}

func specCheck(ctx context.Context, s IO, args []string) error {
	fs := NewFlagSet(s, "spec check", "--spec F [--inventory F] [--json]",
		"Compares this host (or an inventory.json) with an expected spec and prints every divergence\n"+
			"with its class. Exit status: 0 no critical divergence, 1 critical divergences, 2 invalid spec.")
	specPath := fs.String("spec", "", "the expected spec file (required)")
	invPath := fs.String("inventory", "", "read this inventory.json instead of probing the live host")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if *specPath == "" || fs.NArg() > 0 {
		return UsageErrorf("spec check needs --spec FILE and no other arguments")
	}
	sp, err := spec.ParseFile(*specPath)
	if err != nil {
		return Exit(2, err)
	}
	inv, _, err := loadInventory(ctx, s, *invPath)
	if err != nil {
		return err
	}
	diffs := spec.Compare(sp, inv)
	counts := map[stage.Severity]int{}
	for _, d := range diffs {
		counts[d.Class]++
	}
	if *asJSON {
		if diffs == nil {
			diffs = []spec.Divergence{}
		}
		enc := json.NewEncoder(s.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{
			"spec": *specPath, "host": inv.HostID, "diffs": diffs,
			"critical": counts[stage.Critical], "warning": counts[stage.Warning], "info": counts[stage.Info],
		}); err != nil {
			return fmt.Errorf("write json: %w", err)
		}
	} else {
		writeDiffTable(s.Stdout, diffs)
		fmt.Fprintf(s.Stdout, "%s: %d critical, %d warning, %d info\n", *specPath,
			counts[stage.Critical], counts[stage.Warning], counts[stage.Info])
	}
	if counts[stage.Critical] > 0 {
		return Exit(1, nil)
	}
	return nil
}

func writeDiffTable(w io.Writer, diffs []spec.Divergence) {
	if len(diffs) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLASS\tFIELD\tSUBJECT\tEXPECTED\tACTUAL\tRULE\tNOTE")
	for _, d := range diffs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Class, d.Field, dash(d.Subject), cell(d.Expected), cell(d.Actual), d.Rule, cell(d.Message))
	}
	tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return cell(s)
}

// cell keeps one table cell on one line.
func cell(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

func specLint(s IO, args []string) error {
	fs := NewFlagSet(s, "spec lint", "FILE...", "Checks spec files strictly; prints every problem with file:line:column.")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return UsageErrorf("spec lint needs at least one FILE")
	}
	bad := 0
	for _, f := range fs.Args() {
		sp, err := spec.ParseFile(f)
		if err != nil {
			bad++
			fmt.Fprintln(s.Stdout, err)
			continue
		}
		roles := map[string]int{}
		for _, d := range sp.Disks {
			roles[d.Role]++
		}
		fmt.Fprintf(s.Stdout, "%s: ok (version %d, host %s, %d disks: %d test, %d keep, %d boot)\n", f, sp.Version, sp.Host,
			len(sp.Disks), roles[spec.RoleTest], roles[spec.RoleKeep], roles[spec.RoleBoot])
	}
	if bad > 0 {
		return Exit(1, fmt.Errorf("%d of %d spec files invalid", bad, fs.NArg()))
	}
	return nil
}

func specDefaults(s IO, args []string) error {
	fs := NewFlagSet(s, "spec defaults", "[--json]",
		"Prints the threshold defaults (override them in the agent config or a host spec's thresholds:)\n"+
			"and the diff rule table that classes each divergence.")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if *asJSON {
		type th struct {
			Name    string `json:"name"`
			Kind    string `json:"kind"`
			Default string `json:"default"`
			Unit    string `json:"unit"`
			Help    string `json:"help"`
		}
		type rule struct {
			ID    string `json:"id"`
			Class string `json:"class"`
			Text  string `json:"text"`
		}
		out := struct {
			Thresholds []th   `json:"thresholds"`
			Rules      []rule `json:"rules"`
		}{}
		for _, t := range stage.Thresholds {
			out.Thresholds = append(out.Thresholds, th{t.Name, string(t.Kind), t.Default, t.Unit, t.Help})
		}
		for _, r := range spec.Rules {
			out.Rules = append(out.Rules, rule{r.ID, string(r.Class), r.Text})
		}
		enc := json.NewEncoder(s.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return fmt.Errorf("write json: %w", err)
		}
		return nil
	}
	tw := tabwriter.NewWriter(s.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "# thresholds: defaults < agent config thresholds: < host spec thresholds:")
	fmt.Fprintln(tw, "NAME\tDEFAULT\tUNIT\tMEANING")
	for _, t := range stage.Thresholds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Default, t.Unit, t.Help)
	}
	fmt.Fprintln(tw, "\t\t\t")
	fmt.Fprintln(tw, "# diff rules: how SpecValidate classes each divergence (critical fails the run)")
	fmt.Fprintln(tw, "RULE\tCLASS\tMEANING\t")
	for _, r := range spec.Rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", r.ID, r.Class, r.Text)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}
