package corecmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/shakedown/shakedown/agent/cli"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/nativesmart"
	"github.com/shakedown/shakedown/collector/tool"
)

func init() {
	cli.Implement("smart", runSmart)
}

// smartTools builds the tool runner the smart command uses (tests swap it).
var smartTools = func(log *slog.Logger) tool.Runner { return &tool.Exec{Log: log} }

// Exit statuses of `shakedown-agent smart`.
const (
	smartExitFailed  = 3
	smartExitUnknown = 4
)

func runSmart(ctx context.Context, s cli.IO, args []string) error {
	fs := cli.NewFlagSet(s, "smart", "[--json] [--smartctl] [-d TYPE] [--text] [--root DIR] DEVICE",
		"Reads SMART data of DEVICE (sda, nvme0n1, /dev/disk/by-id/...) with smart.go ioctls,\n"+
			"falling back to `smartctl -j -x` (SAS/SCSI, RAID HBAs, USB bridges, EPERM), and prints\n"+
			"a summary, or with --json the SmartReport (docs/sensors-and-smart.md). Nothing is written\n"+
			"to the disk. Exit status: 0 health passed, 3 failed, 4 unknown, 1 could not read, 2 usage.")
	asJSON := fs.Bool("json", false, "print the SmartReport as JSON")
	onlySmartctl := fs.Bool("smartctl", false, "skip smart.go and read with smartctl only")
	asText := fs.Bool("text", false, "print smartctl -x output (the smart-<disk>.txt artifact) instead of the summary")
	devType := fs.String("d", "", "smartctl device type (megaraid,N for a disk behind a RAID HBA, sat for a USB bridge); implies --smartctl")
	root := fs.String("root", "/", "filesystem root the device path is taken under (tests, fixtures)")
	verbose := fs.Bool("v", false, "log details to stderr")
	if err := cli.Parse(fs, smartReorderArgs(args)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return cli.UsageErrorf("name exactly one device")
	}
	dev := fs.Arg(0)
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(s.Stderr, &slog.HandlerOptions{Level: level}))
	env := collector.Env{Root: *root, Tools: smartTools(log), Log: log}

	var reader collector.SmartReader = nativesmart.NewReader(env)
	if *onlySmartctl || *devType != "" {
		reader = smartctlOnly{env: env, r: &collector.SmartctlReader{Tools: env.Tools, Log: log, DeviceType: *devType}}
	}
	rep, readErr := reader.Read(ctx, dev)
	if *asText {
		text, _, err := collector.SmartText(ctx, env, dev, rep)
		if err != nil {
			return errors.Join(err, readErr)
		}
		if _, err := s.Stdout.Write(text); err != nil {
			return err
		}
		return smartExit(rep, readErr)
	}
	if readErr != nil {
		return readErr
	}
	if *asJSON {
		enc := json.NewEncoder(s.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("write smart report: %w", err)
		}
	} else if err := collector.RenderSmartText(s.Stdout, rep); err != nil {
		return err
	}
	return smartExit(rep, nil)
}

func smartExit(rep *collector.SmartReport, readErr error) error {
	switch {
	case readErr != nil:
		return cli.Exit(1, readErr)
	case rep.Health == collector.SmartFailed:
		return cli.Exit(smartExitFailed, nil)
	case rep.Health == collector.SmartUnknown:
		return cli.Exit(smartExitUnknown, nil)
	}
	return nil
}

// smartctlOnly maps the device through Env, then reads with smartctl.
type smartctlOnly struct {
	env collector.Env
	r   *collector.SmartctlReader
}

func (o smartctlOnly) Read(ctx context.Context, dev string) (*collector.SmartReport, error) {
	return o.r.Read(ctx, collector.SmartDevicePath(o.env, dev))
}

// smartReorderArgs moves flags after the device name to the front, so both
// `smart sda --json` and `smart --json sda` work (flag stops at the first
// non-flag argument).
func smartReorderArgs(args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			rest = append(rest, args[i+1:]...)
			i = len(args)
		case len(a) > 1 && a[0] == '-':
			flags = append(flags, a)
			if (a == "--root" || a == "-root" || a == "-d" || a == "--d") && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		default:
			rest = append(rest, a)
		}
	}
	return append(flags, rest...)
}
