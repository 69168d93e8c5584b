// Package tool is the single gateway through which shakedown runs external
// programs (stress-ng, fio, badblocks, iperf3, smartctl, nvidia-smi, ipmitool,
// wipefs, ...). Nothing else in the module calls os/exec: stages and probes take
// a Runner, production wires Exec, and tests wire a Fake that replays recorded
// outputs.
//
// A non-zero exit status is data (Output.ExitCode), not an error: many of the
// tools we drive encode findings in their exit status (smartctl's bitmask) or lie
// with it (badblocks exits 0 with bad blocks). Run returns an error only when the
// program could not be started (ErrNotFound when it is not installed) or was ended
// by the context (the context's error is wrapped).
package tool

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"time"
)

// ErrNotFound means the tool is not installed (not on PATH and not configured).
var ErrNotFound = errors.New("tool not found")

// Cmd is one invocation of an external program.
type Cmd struct {
	// Tool is the logical tool key ("fio", "stress-ng"); the binary is looked up
	// through the name table (see Path), so tests and images can relocate it.
	Tool string
	Args []string
	// Env is added to the agent's environment (KEY=VALUE).
	Env []string
	// Dir is the working directory ("" = inherit).
	Dir string
	// Timeout bounds the run in addition to the context (0 = none).
	Timeout time.Duration
	// Stdin, if set, is fed to the program.
	Stdin io.Reader
	// Stdout and Stderr, if set, receive the output as it is produced (for
	// progress parsing) in addition to the captured copy in Output.
	Stdout io.Writer
	Stderr io.Writer
	// MaxCapture caps the bytes kept of each stream in Output (0 = 64 MiB).
	MaxCapture int
}

// String renders the command line, quoted where needed, for logs.
func (c Cmd) String() string {
	parts := []string{c.Tool}
	for _, a := range c.Args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// Output is what a finished program left behind.
type Output struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
	// Signal is set when the program was killed by a signal ("killed", ...).
	Signal   string
	Duration time.Duration
	// Truncated is true when a stream exceeded MaxCapture.
	Truncated bool
}

// Runner runs external programs. Exec is the production implementation; Fake
// replays recorded outputs in tests.
type Runner interface {
	// Run runs the command to completion.
	Run(ctx context.Context, c Cmd) (Output, error)
	// LookPath reports where the tool's binary is, or ErrNotFound.
	LookPath(tool string) (string, error)
}

// names maps a tool key to its default binary name. Every entry can be
// overridden at build time (-ldflags "-X .../tool.overrides=fio=/opt/fio,...")
// or at run time with SHAKEDOWN_TOOL_<KEY> (key upper-cased, '-' as '_'), e.g.
// SHAKEDOWN_TOOL_STRESS_NG=/usr/local/bin/stress-ng.
var names = map[string]string{
	"stress-ng":  "stress-ng",
	"fio":        "fio",
	"badblocks":  "badblocks",
	"iperf3":     "iperf3",
	"smartctl":   "smartctl",
	"nvidia-smi": "nvidia-smi",
	"gpu_burn":   "gpu_burn",
	"ipmitool":   "ipmitool",
	"wipefs":     "wipefs",
	"blkid":      "blkid",
	"lsblk":      "lsblk",
	"ethtool":    "ethtool",
	"nvme":       "nvme",
	"dmidecode":  "dmidecode",
	"lshw":       "lshw",
	"lspci":      "lspci",
	"lscpu":      "lscpu",
	"blockdev":   "blockdev",
}

// overrides is set by -ldflags -X as "key=path,key=path".
var overrides string

// Binary returns the binary name or path configured for a tool key. Unknown
// keys map to themselves.
func Binary(key string) string {
	env := "SHAKEDOWN_TOOL_" + strings.ToUpper(strings.ReplaceAll(key, "-", "_"))
	if v := os.Getenv(env); v != "" {
		return v
	}
	for _, kv := range strings.Split(overrides, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key && v != "" {
			return v
		}
	}
	if n, ok := names[key]; ok {
		return n
	}
	return key
}
