package collector

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// tree builds a fake root in t.TempDir().
type tree struct {
	t    *testing.T
	root string
}

func newTree(t *testing.T) *tree {
	t.Helper()
	return &tree{t: t, root: t.TempDir()}
}

// file writes content at an absolute-style path under the root.
func (tr *tree) file(p, content string) *tree {
	tr.t.Helper()
	full := filepath.Join(tr.root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		tr.t.Fatal(err)
	}
	return tr
}

// bytes writes binary content.
func (tr *tree) bytes(p string, b []byte) *tree {
	tr.t.Helper()
	return tr.file(p, string(b))
}

// link creates a symlink at p pointing to target (relative, as sysfs does).
func (tr *tree) link(p, target string) *tree {
	tr.t.Helper()
	full := filepath.Join(tr.root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.Symlink(target, full); err != nil {
		tr.t.Fatal(err)
	}
	return tr
}

// recordTool stores a recorded tool output the way `snapshot` does, so the
// probes replay it when reading this tree.
func (tr *tree) recordTool(tool string, args []string, stdoutFile string) *tree {
	tr.t.Helper()
	b, err := os.ReadFile(stdoutFile)
	if err != nil {
		tr.t.Fatal(err)
	}
	dir := filepath.Join(tr.root, SnapshotDir)
	var recs []ToolRecord
	if old, err := os.ReadFile(filepath.Join(dir, "tools.json")); err == nil {
		if err := json.Unmarshal(old, &recs); err != nil {
			tr.t.Fatal(err)
		}
	}
	name := filepath.Base(stdoutFile)
	tr.file(filepath.Join("/", SnapshotDir, "tools", name), string(b))
	recs = append(recs, ToolRecord{Tool: tool, Args: args, Stdout: name})
	out, _ := json.Marshal(recs)
	return tr.file(filepath.Join("/", SnapshotDir, "tools.json"), string(out))
}

func (tr *tree) env() Env { return Env{Root: tr.root} }

// collectOne runs one registered probe against the tree.
func collectOne(t *testing.T, env Env, name string) (*Inventory, ProbeStatus) {
	t.Helper()
	for _, p := range Probes() {
		if p.Name() == name {
			inv, err := CollectWith(context.Background(), env, []Probe{p})
			if err != nil {
				t.Fatalf("collect %s: %v", name, err)
			}
			return inv, inv.Probes[0]
		}
	}
	t.Fatalf("no probe %q", name)
	return nil, ProbeStatus{}
}
