package collector

import (
	"context"
	"fmt"
	"sort"

	"github.com/jaypipes/ghw"
)

// numaProbe fills Inventory.NUMA through ghw's topology area
// (/sys/devices/system/node/node*: cpulist, meminfo).
type numaProbe struct{}

func init() { Register(numaProbe{}) }

func (numaProbe) Name() string { return "numa" }

func (numaProbe) Files(Env) []string {
	return []string{
		"/sys/devices/system/node/{online,possible,has_cpu,has_memory,has_normal_memory}",
		"/sys/devices/system/node/node*/{cpulist,cpumap,distance,meminfo}",
		"/sys/devices/system/node/node*/cpu*",
		"/sys/devices/system/node/node*/hugepages/hugepages-*/*",
		"/sys/devices/system/memory/block_size_bytes",
		"/sys/devices/system/memory/memory*/{online,state}",
		"/sys/devices/system/node/node*/memory*",
	}
}

func (numaProbe) Collect(ctx context.Context, env Env, inv *Inventory) error {
	opts, err := sessionFrom(ctx, env).ghwOpts(false)
	if err != nil {
		return err
	}
	t, err := ghw.Topology(opts...)
	if err != nil {
		return fmt.Errorf("read NUMA topology: %w", err)
	}
	if len(t.Nodes) == 0 {
		return fmt.Errorf("read NUMA topology: %w: no nodes", ErrNoData)
	}
	n := &NUMA{Nodes: make([]NUMANode, 0, len(t.Nodes))}
	for _, node := range t.Nodes {
		nn := NUMANode{ID: node.ID, CPUs: []int{}}
		for _, c := range node.Cores {
			nn.CPUs = append(nn.CPUs, c.LogicalProcessors...)
		}
		sort.Ints(nn.CPUs)
		if node.Memory != nil && node.Memory.TotalUsableBytes > 0 {
			nn.MemoryBytes = ptr(uint64(node.Memory.TotalUsableBytes))
		}
		n.Nodes = append(n.Nodes, nn)
	}
	sort.Slice(n.Nodes, func(i, j int) bool { return n.Nodes[i].ID < n.Nodes[j].ID })
	inv.NUMA = n
	return nil
}
