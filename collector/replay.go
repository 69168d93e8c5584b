package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/shakedown/shakedown/collector/tool"
)

// SnapshotDir is the directory, under a snapshot's root, that holds the
// recorded outputs of the tools the probes ran when it was captured
// (tools.json plus one file per output). Probes reading a snapshot replay
// them instead of asking the host they run on.
const SnapshotDir = "shakedown-snapshot"

// ToolRecord is one recorded tool run.
type ToolRecord struct {
	Tool     string   `json:"tool"`
	Args     []string `json:"args"`
	Stdout   string   `json:"stdout_file,omitempty"` // file under SnapshotDir/tools
	ExitCode int      `json:"exit_code"`
	// Missing means the tool was not installed when the snapshot was taken.
	Missing bool `json:"missing,omitempty"`
}

// hostTools returns the runner probes use for tools that report on the host
// (ethtool, nvidia-smi): Env.Tools when reading the live system, the replay
// of the recorded outputs when Root is a snapshot that has them, else nil
// (the values those tools would give stay unknown).
func (e Env) hostTools() tool.Runner {
	if e.IsLiveRoot() {
		return e.Tools
	}
	if r := loadReplay(e.Path(SnapshotDir)); r != nil {
		return r
	}
	return nil
}

// replayRunner answers tool runs from a snapshot's recordings.
type replayRunner struct {
	dir  string
	recs []ToolRecord
}

var _ tool.Runner = (*replayRunner)(nil)

func loadReplay(dir string) *replayRunner {
	b, err := os.ReadFile(filepath.Join(dir, "tools.json"))
	if err != nil {
		return nil
	}
	var recs []ToolRecord
	if json.Unmarshal(b, &recs) != nil {
		return nil
	}
	return &replayRunner{dir: dir, recs: recs}
}

func (r *replayRunner) find(t string, args []string) (ToolRecord, bool) {
	for _, rec := range r.recs {
		if rec.Tool == t && slices.Equal(rec.Args, args) {
			return rec, true
		}
	}
	return ToolRecord{}, false
}

// LookPath implements tool.Runner: a tool is "installed" when any run of it was recorded.
func (r *replayRunner) LookPath(t string) (string, error) {
	for _, rec := range r.recs {
		if rec.Tool == t && !rec.Missing {
			return "replay:" + t, nil
		}
	}
	return "", fmt.Errorf("look up %s in snapshot: %w", t, tool.ErrNotFound)
}

// Run implements tool.Runner. A run that was not recorded is reported as not found.
func (r *replayRunner) Run(_ context.Context, c tool.Cmd) (tool.Output, error) {
	rec, ok := r.find(c.Tool, c.Args)
	if !ok || rec.Missing {
		return tool.Output{ExitCode: -1}, fmt.Errorf("replay %s: %w", c.String(), tool.ErrNotFound)
	}
	out := tool.Output{ExitCode: rec.ExitCode}
	if rec.Stdout != "" {
		b, err := os.ReadFile(filepath.Join(r.dir, "tools", filepath.Base(rec.Stdout)))
		if err != nil {
			return tool.Output{ExitCode: -1}, fmt.Errorf("replay %s: %w", c.String(), err)
		}
		out.Stdout = b
	}
	return out, nil
}

// recorder wraps a runner and keeps every run's output, for snapshots.
type recorder struct {
	inner tool.Runner
	mu    sync.Mutex
	runs  []recordedRun
}

type recordedRun struct {
	rec    ToolRecord
	stdout []byte
}

var _ tool.Runner = (*recorder)(nil)

func (r *recorder) LookPath(t string) (string, error) {
	p, err := r.inner.LookPath(t)
	if errors.Is(err, tool.ErrNotFound) {
		r.mu.Lock()
		r.runs = append(r.runs, recordedRun{rec: ToolRecord{Tool: t, Missing: true}})
		r.mu.Unlock()
	}
	return p, err
}

func (r *recorder) Run(ctx context.Context, c tool.Cmd) (tool.Output, error) {
	out, err := r.inner.Run(ctx, c)
	rec := ToolRecord{Tool: c.Tool, Args: slices.Clone(c.Args), ExitCode: out.ExitCode}
	switch {
	case errors.Is(err, tool.ErrNotFound):
		rec.Missing = true
	case err != nil:
		return out, err // context ended or could not start: not worth replaying
	}
	r.mu.Lock()
	r.runs = append(r.runs, recordedRun{rec: rec, stdout: bytes.Clone(out.Stdout)})
	r.mu.Unlock()
	return out, err
}

// toolTimeouts bound each host tool run, so a wedged device (nvidia-smi on a
// GPU that fell off the bus can hang for minutes) costs that one value, not
// the whole inventory.
var toolTimeouts = map[string]time.Duration{"ethtool": 10 * time.Second, "nvidia-smi": 60 * time.Second}

// runTool runs a host tool, returning its stdout when it ran and exited 0.
func runTool(ctx context.Context, r tool.Runner, name string, args ...string) ([]byte, error) {
	if r == nil {
		return nil, fmt.Errorf("run %s: %w (not reading the live system)", name, tool.ErrNotFound)
	}
	timeout := toolTimeouts[name]
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	out, err := r.Run(ctx, tool.Cmd{Tool: name, Args: args, MaxCapture: 16 << 20, Timeout: timeout})
	if err != nil {
		return nil, err
	}
	if out.ExitCode != 0 {
		return out.Stdout, fmt.Errorf("run %s %v: exit status %d", name, args, out.ExitCode)
	}
	return out.Stdout, nil
}
