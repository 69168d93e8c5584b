package collector

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"sync"
	"time"
)

// Probe reads one area of the hardware into its section of an Inventory.
// A probe reads only under Env.Root and runs programs only through Env.Tools.
// It returns ErrNoData (wrapped) when the hardware or kernel interface is absent.
type Probe interface {
	Name() string
	Collect(ctx context.Context, env Env, inv *Inventory) error
}

// FileLister is implemented by probes that can say which files (glob patterns,
// absolute-style, relative to Env.Root) they read; `shakedown-agent snapshot`
// captures exactly those.
type FileLister interface {
	Files(env Env) []string
}

var (
	probeMu sync.RWMutex
	probes  = map[string]Probe{}
)

// Register adds a probe; call it from the probe file's init(). Duplicates panic.
func Register(p Probe) {
	probeMu.Lock()
	defer probeMu.Unlock()
	if _, dup := probes[p.Name()]; dup {
		panic(fmt.Sprintf("collector: probe %q registered twice", p.Name()))
	}
	probes[p.Name()] = p
}

// Probes returns the registered probes sorted by name.
func Probes() []Probe {
	probeMu.RLock()
	defer probeMu.RUnlock()
	out := make([]Probe, 0, len(probes))
	for _, p := range probes {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// Collect runs every registered probe and returns the inventory. Probes run
// concurrently, each into its own scratch Inventory whose sections are merged
// afterwards, so one slow or broken area never hides the others. A failing or
// absent area is recorded in Inventory.Probes; Collect returns an error only
// when the context ended before the probes finished.
func Collect(ctx context.Context, env Env) (*Inventory, error) {
	return CollectWith(ctx, env, Probes())
}

// CollectWith is Collect over an explicit probe list (tests, partial runs).
func CollectWith(ctx context.Context, env Env, ps []Probe) (*Inventory, error) {
	ctx = withSession(ctx, env)
	inv := &Inventory{SchemaVersion: SchemaVersion, CollectedAt: time.Now().UTC()}
	scratch := make([]*Inventory, len(ps))
	status := make([]ProbeStatus, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			scratch[i], status[i] = runProbe(ctx, env, p)
		}()
	}
	wg.Wait()
	for i := range ps {
		merge(inv, scratch[i])
	}
	inv.Probes = status
	if inv.Disks == nil {
		inv.Disks = []Disk{}
	}
	if inv.NICs == nil {
		inv.NICs = []NIC{}
	}
	if inv.PCI == nil {
		inv.PCI = []PCIDevice{}
	}
	if inv.GPUs == nil {
		inv.GPUs = []GPU{}
	}
	inv.Hostname = readHostname(env)
	inv.HostID, inv.HostIDSource = HostID(inv)
	if err := ctx.Err(); err != nil {
		return inv, fmt.Errorf("collect inventory: %w", err)
	}
	return inv, nil
}

func runProbe(ctx context.Context, env Env, p Probe) (inv *Inventory, st ProbeStatus) {
	log := env.Logger().With("probe", p.Name())
	inv = &Inventory{}
	st.Name = p.Name()
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			log.Error("probe panicked", "err", r, "stack", string(debug.Stack()))
			inv = &Inventory{}
			st.OK = false
			st.Error = fmt.Sprintf("panic: %v", r)
		}
		st.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	}()
	penv := env
	penv.Log = log
	err := p.Collect(ctx, penv, inv)
	switch {
	case err == nil:
		st.OK = true
	case errors.Is(err, ErrNoData):
		st.NoData = true
		st.Error = err.Error()
		log.Debug("probe found no data", "err", err)
	default:
		st.Error = err.Error()
		log.Warn("probe failed", "err", err)
	}
	return inv, st
}

// merge copies the sections src filled into dst.
func merge(dst, src *Inventory) {
	if src.System != nil {
		dst.System = src.System
	}
	if src.CPU != nil {
		dst.CPU = src.CPU
	}
	if src.Memory != nil {
		dst.Memory = src.Memory
	}
	if src.Disks != nil {
		dst.Disks = src.Disks
	}
	if src.NICs != nil {
		dst.NICs = src.NICs
	}
	if src.PCI != nil {
		dst.PCI = src.PCI
	}
	if src.GPUs != nil {
		dst.GPUs = src.GPUs
	}
	if src.NUMA != nil {
		dst.NUMA = src.NUMA
	}
	if src.Sensors != nil {
		dst.Sensors = src.Sensors
	}
}
