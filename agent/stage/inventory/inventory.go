// Package inventory is the Inventory stage: it runs every collector probe,
// stores the result as the artifact inventory.json and as the fact
// "inventory" for later stages (SpecValidate, SMART, Storage, Network, GPU),
// and passes when the probes ran. Missing optional areas (no DMI, no GPU, no
// ethtool) are tolerated and listed; it fails only when neither the CPU nor
// the memory could be read, because then nothing later can be trusted.
package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
)

// FactKey is the fact the inventory is stored under.
const FactKey = "inventory"

// ArtifactName is the inventory artifact's file name.
const ArtifactName = "inventory.json"

// Stage is the Inventory stage.
type Stage struct {
	// Collect runs the probes; nil means collector.Collect.
	Collect func(ctx context.Context, env collector.Env) (*collector.Inventory, error)
}

func init() { stage.Register(Stage{}) }

// Name implements stage.Stage.
func (Stage) Name() string { return "Inventory" }

// Destructive implements stage.Stage: the probes only read.
func (Stage) Destructive() bool { return false }

// DefaultTimeout implements stage.Stage.
func (Stage) DefaultTimeout() time.Duration { return 2 * time.Minute }

// Run implements stage.Stage.
func (s Stage) Run(ctx context.Context, env *stage.Env) (stage.Result, error) {
	collect := s.Collect
	if collect == nil {
		collect = collector.Collect
	}
	cenv := env.Collector
	if cenv.Tools == nil {
		cenv.Tools = env.Tools
	}
	if cenv.Log == nil {
		cenv.Log = env.Logger()
	}
	inv, err := collect(ctx, cenv)
	if err != nil {
		// Only a context end gets here (timeout, interruption): not a verdict.
		return stage.Result{}, stage.Errorf("Inventory", "collect: %w", err)
	}
	data, err := json.MarshalIndent(inv, "", "  ")
	if err != nil {
		return stage.Result{}, stage.Errorf("Inventory", "encode inventory: %w", err)
	}
	art, err := env.WriteArtifact(ArtifactName, append(data, '\n'), "application/json")
	if err != nil {
		return stage.Result{}, stage.Errorf("Inventory", "%w", err)
	}
	if err := env.PutFact(FactKey, inv); err != nil {
		return stage.Result{}, stage.Errorf("Inventory", "store inventory fact: %w", err)
	}
	return verdict(inv, art), nil
}

// verdict turns an inventory into the stage result.
func verdict(inv *collector.Inventory, art stage.Artifact) stage.Result {
	probes := map[string]any{}
	var missing, failed, ran []string
	for _, p := range inv.Probes {
		state := "ok"
		switch {
		case p.NoData:
			state = "no_data"
			missing = append(missing, p.Name)
		case !p.OK:
			state = "error"
			failed = append(failed, fmt.Sprintf("%s (%s)", p.Name, p.Error))
		default:
			ran = append(ran, p.Name)
		}
		probes[p.Name] = map[string]any{"state": state, "duration_ms": p.DurationMS, "error": p.Error}
	}
	summary := map[string]any{
		"probes":         probes,
		"host_id":        inv.HostID,
		"host_id_source": inv.HostIDSource,
		"disks":          len(inv.Disks),
		"nics":           len(inv.NICs),
		"gpus":           len(inv.GPUs),
		"pci_devices":    len(inv.PCI),
	}
	if inv.Memory != nil {
		summary["memory_bytes"] = inv.Memory.TotalBytes
		summary["dimms"] = len(inv.Memory.DIMMs)
	}
	if inv.CPU != nil {
		summary["cpu_model"] = inv.CPU.Model
		summary["cpu_threads"] = inv.CPU.Threads
	}
	res := stage.Result{Artifacts: []stage.Artifact{art}, Summary: summary}
	var findings []stage.Finding
	for _, m := range missing {
		findings = append(findings, stage.Finding{Code: "AreaMissing", Severity: stage.Info, Subject: m,
			Message: fmt.Sprintf("%s: not present or not readable on this host", m)})
	}
	for _, f := range failed {
		findings = append(findings, stage.Finding{Code: "ProbeFailed", Severity: stage.Warning, Subject: f,
			Message: "probe failed: " + f})
	}
	res.Findings = findings
	if inv.CPU == nil && inv.Memory == nil {
		res.Status = stage.Fail
		res.Reason = "no_inventory"
		res.Message = "could not read the CPU or the memory: nothing can be validated (" + strings.Join(failed, "; ") + ")"
		return res
	}
	res.Status = stage.Pass
	msg := fmt.Sprintf("inventory taken by %d probes (%s)", len(ran), strings.Join(ran, ", "))
	if len(missing) > 0 {
		msg += "; not present: " + strings.Join(missing, ", ")
	}
	if len(failed) > 0 {
		msg += "; failed: " + strings.Join(failed, "; ")
	}
	res.Message = msg
	return res
}
