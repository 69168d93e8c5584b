// Package specvalidate is the SpecValidate stage: it loads the host's expected
// spec (docs/spec.md), compares the inventory the Inventory stage stored with
// it, stores the parsed spec as the fact "spec" for later stages (disk roles,
// thresholds), and fails on any critical divergence. No spec is a hold, never
// a pass: an empty expectation would let any hardware through.
package specvalidate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shakedown/shakedown/agent/event"
	"github.com/shakedown/shakedown/agent/spec"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
)

// Name is the stage name.
const Name = "SpecValidate"

// InventoryFact is the fact the Inventory stage stores the inventory under.
const InventoryFact = "inventory"

// Reasons for a failing result.
const (
	ReasonNoSpec   = "no_spec"
	ReasonInvalid  = "spec_invalid"
	ReasonMismatch = "spec_mismatch"
)

// ArtifactName is the copy of the spec the verdict was made against.
const ArtifactName = "expected-spec.yaml"

// Stage is the SpecValidate stage.
type Stage struct{}

func init() { stage.Register(Stage{}) }

// Name implements stage.Stage.
func (Stage) Name() string { return Name }

// Destructive implements stage.Stage: it only reads.
func (Stage) Destructive() bool { return false }

// DefaultTimeout implements stage.Stage.
func (Stage) DefaultTimeout() time.Duration { return 30 * time.Second }

// Params implements stage.Parameterised.
func (Stage) Params() []stage.Param {
	return []stage.Param{
		{Name: "spec", Kind: stage.KindString, Help: "path of this host's expected spec file (wins over spec_dir)"},
		{Name: "spec_dir", Kind: stage.KindString, Help: "directory holding one spec per host, named <host-id>.yaml"},
	}
}

// Run implements stage.Stage.
func (Stage) Run(ctx context.Context, env *stage.Env) (stage.Result, error) {
	var inv collector.Inventory
	ok, err := env.Fact(InventoryFact, &inv)
	if err != nil {
		return stage.Result{}, stage.Errorf(Name, "load fact %q: %w", InventoryFact, err)
	}
	if !ok {
		return stage.Result{}, stage.Errorf(Name, "Inventory stage did not run (no %q fact)", InventoryFact)
	}
	host := env.HostID
	if host == "" {
		host = inv.HostID
	}
	path, err := specPath(env.Params, host)
	if err != nil {
		return stage.Result{}, stage.Errorf(Name, "%w", err)
	}
	raw, err := readSpec(path)
	if errors.Is(err, fs.ErrNotExist) || path == "" {
		msg := fmt.Sprintf("no expected spec for host %s; capture one with `shakedown-agent spec capture > %s`", host, path)
		if path == "" {
			msg = fmt.Sprintf("no expected spec for host %s; capture one with `shakedown-agent spec capture > %s.yaml` "+
				"and set stages.specvalidate.spec to it (or spec_dir to its directory)", host, host)
		}
		return stage.Result{
			Status: stage.Fail, Reason: ReasonNoSpec,
			Message: msg,
			Summary: map[string]any{"host": host, "spec": path},
		}, nil
	}
	if err != nil {
		return stage.Result{}, stage.Errorf(Name, "%w", err)
	}
	art, err := env.WriteArtifact(ArtifactName, raw, "application/yaml")
	if err != nil {
		return stage.Result{}, stage.Errorf(Name, "%w", err)
	}
	s, err := spec.Parse(bytes.NewReader(raw), path)
	if err != nil {
		return stage.Result{
			Status: stage.Fail, Reason: ReasonInvalid,
			Message:   fmt.Sprintf("expected spec %s is invalid (check it with `shakedown-agent spec lint %s`):\n%v", path, path, err),
			Artifacts: []stage.Artifact{art},
			Summary:   map[string]any{"host": host, "spec": path},
		}, nil
	}
	if err := env.PutFact(spec.FactKey, s); err != nil {
		return stage.Result{}, stage.Errorf(Name, "store spec fact: %w", err)
	}
	diffs := spec.Diff(s, &inv)
	return verdict(env, s, path, host, diffs, art), nil
}

// specPath resolves where this host's spec is: the spec param, else
// <spec_dir>/<host>.yaml, else "" (none configured).
func specPath(p stage.Params, host string) (string, error) {
	if f := strings.TrimSpace(p.String("spec")); f != "" {
		return f, nil
	}
	dir := strings.TrimSpace(p.String("spec_dir"))
	if dir == "" {
		return "", nil
	}
	if host == "" || host == "." || host == ".." || strings.ContainsAny(host, "/\\\x00") {
		return "", fmt.Errorf("host id %q cannot name a spec file in %s", host, dir)
	}
	return filepath.Join(dir, host+".yaml"), nil
}

func readSpec(path string) ([]byte, error) {
	if path == "" {
		return nil, fs.ErrNotExist
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open spec: %w", err)
	}
	defer f.Close()
	// One byte over the cap so the parser reports the oversized file.
	raw, err := io.ReadAll(io.LimitReader(f, spec.MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read spec %s: %w", path, err)
	}
	return raw, nil
}

func verdict(env *stage.Env, s *spec.Spec, path, host string, diffs []stage.SpecDiff, art stage.Artifact) stage.Result {
	counts := map[stage.Severity]int{}
	for _, d := range diffs {
		counts[d.Class]++
	}
	roles := map[string]int{}
	for _, d := range s.Disks {
		roles[d.Role]++
	}
	r := stage.Result{
		Status:    stage.Pass,
		SpecDiffs: diffs,
		Artifacts: []stage.Artifact{art},
		Summary: map[string]any{
			"host": host, "spec": path,
			"critical": counts[stage.Critical], "warning": counts[stage.Warning], "info": counts[stage.Info],
			"disks_test": roles[spec.RoleTest], "disks_keep": roles[spec.RoleKeep], "disks_boot": roles[spec.RoleBoot],
		},
	}
	switch {
	case counts[stage.Critical] > 0:
		r.Status, r.Reason = stage.Fail, ReasonMismatch
		r.Message = fmt.Sprintf("%d critical spec difference(s): %s", counts[stage.Critical], list(diffs, stage.Critical))
		env.Notice(event.SpecMismatch, "host "+host+": "+r.Message)
	case counts[stage.Warning] > 0:
		r.Status = stage.Warn
		r.Message = fmt.Sprintf("%d spec warning(s): %s", counts[stage.Warning], list(diffs, stage.Warning))
		env.Notice(event.SpecMismatch, "host "+host+": "+r.Message)
	default:
		r.Message = fmt.Sprintf("host matches %s (%d info difference(s))", path, counts[stage.Info])
	}
	return r
}

// list writes the rows of one class, ten at most.
func list(diffs []stage.SpecDiff, class stage.Severity) string {
	var parts []string
	n := 0
	for _, d := range diffs {
		if d.Class != class {
			continue
		}
		n++
		if n > 10 {
			continue
		}
		s := d.Field
		if d.Subject != "" {
			s += " (" + d.Subject + ")"
		}
		parts = append(parts, fmt.Sprintf("%s: expected %s, found %s", s, d.Expected, d.Actual))
	}
	if n > 10 {
		parts = append(parts, fmt.Sprintf("and %d more", n-10))
	}
	return strings.Join(parts, "; ")
}
