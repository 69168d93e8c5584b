// Package collector holds shakedown's read-only hardware probes: one probe per
// file, each registered by name, each reading only under Env.Root ("/" in
// production, an unpacked fixture tree in tests) and running external programs
// only through Env.Tools. Probes never write anything.
package collector

import (
	"errors"
	"log/slog"
	"path/filepath"

	"github.com/shakedown/shakedown/collector/tool"
)

// ErrNoData means the hardware or kernel interface a probe reads is absent.
// It is reported in Inventory.Probes, never treated as zero.
var ErrNoData = errors.New("no data")

// Env is what every probe gets: where the root is, how to run tools, where to log.
type Env struct {
	// Root is the filesystem root the probe reads under ("/" in production).
	Root string
	// Tools runs external programs (tool.Exec in production, tool.Fake in tests).
	Tools tool.Runner
	// Log is the probe's logger; nil means slog.Default().
	Log *slog.Logger
	// PCIIDs is the path of a pci.ids file; "" means search the usual places
	// under Root and then the copy embedded in the binary.
	PCIIDs string
}

func (e Env) root() string {
	if e.Root == "" {
		return "/"
	}
	return e.Root
}

// Path joins p under the root. p is an absolute-style path like "/etc/os-release".
func (e Env) Path(p ...string) string {
	return filepath.Join(append([]string{e.root()}, p...)...)
}

// Sys returns a path under <root>/sys.
func (e Env) Sys(p ...string) string { return e.Path(append([]string{"sys"}, p...)...) }

// Proc returns a path under <root>/proc.
func (e Env) Proc(p ...string) string { return e.Path(append([]string{"proc"}, p...)...) }

// Dev returns a path under <root>/dev.
func (e Env) Dev(p ...string) string { return e.Path(append([]string{"dev"}, p...)...) }

// Udev returns a path under <root>/run/udev.
func (e Env) Udev(p ...string) string {
	return e.Path(append([]string{"run", "udev"}, p...)...)
}

// Logger returns the probe logger.
func (e Env) Logger() *slog.Logger {
	if e.Log == nil {
		return slog.Default()
	}
	return e.Log
}

// IsLiveRoot reports whether probes read the running system (so tools that
// report on the host, like ethtool or smartctl, may be consulted).
func (e Env) IsLiveRoot() bool { return filepath.Clean(e.root()) == "/" }
