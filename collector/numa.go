package collector

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// numaProbe fills Inventory.NUMA from /sys/devices/system/node/node*/cpulist
// and node*/meminfo (Documentation/ABI/stable/sysfs-devices-node). It reads
// the node directories itself: ghw's topology area also walks every memory
// block and costs ten times more for the same two facts.
type numaProbe struct{}

func init() { Register(numaProbe{}) }

func (numaProbe) Name() string { return "numa" }

func (numaProbe) Files(Env) []string {
	return []string{
		"/sys/devices/system/node/{online,possible,has_cpu,has_memory,has_normal_memory}",
		"/sys/devices/system/node/node*/{cpulist,distance,meminfo}",
	}
}

func (numaProbe) Collect(_ context.Context, env Env, inv *Inventory) error {
	base := env.Sys("devices", "system", "node")
	ents, err := os.ReadDir(base)
	if err != nil {
		return fmt.Errorf("read NUMA nodes: %w: %w", ErrNoData, err)
	}
	n := &NUMA{Nodes: []NUMANode{}}
	for _, e := range ents {
		id, err := strconv.Atoi(strings.TrimPrefix(e.Name(), "node"))
		if err != nil || !strings.HasPrefix(e.Name(), "node") {
			continue
		}
		dir := filepath.Join(base, e.Name())
		cpus, err := parseCPUList(readString(filepath.Join(dir, "cpulist")))
		if err != nil {
			return fmt.Errorf("read NUMA node %d: %w", id, err)
		}
		node := NUMANode{ID: id, CPUs: cpus}
		if b, err := readAll(filepath.Join(dir, "meminfo")); err == nil {
			node.MemoryBytes = nodeMemTotal(b)
		}
		n.Nodes = append(n.Nodes, node)
	}
	if len(n.Nodes) == 0 {
		return fmt.Errorf("read NUMA nodes: %w: no node directories", ErrNoData)
	}
	sort.Slice(n.Nodes, func(i, j int) bool { return n.Nodes[i].ID < n.Nodes[j].ID })
	inv.NUMA = n
	return nil
}

// parseCPUList parses the kernel's CPU list format ("0-3,8,10-11"; "" = none).
func parseCPUList(s string) ([]int, error) {
	out := []int{}
	s = strings.TrimSpace(s)
	if s == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("bad cpu list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a || b-a > 1<<16 {
				return nil, fmt.Errorf("bad cpu list %q", s)
			}
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out, nil
}

// nodeMemTotal reads "Node 0 MemTotal:  24683652 kB" from a node meminfo.
func nodeMemTotal(b []byte) *uint64 {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 4 && f[2] == "MemTotal:" {
			if v, err := strconv.ParseUint(f[3], 10, 64); err == nil {
				return ptr(v * 1024)
			}
		}
	}
	return nil
}
