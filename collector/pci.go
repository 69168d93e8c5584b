package collector

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/jaypipes/ghw"
)

// pciProbe fills Inventory.PCI through ghw's PCI area
// (/sys/bus/pci/devices/*: modalias, driver link) with names from pci.ids (the
// one under Root if present, else the copy embedded in the binary), plus the
// PCIe link state and NUMA node from the same sysfs directories
// (Documentation/ABI/testing/sysfs-bus-pci).
type pciProbe struct{}

func init() { Register(pciProbe{}) }

func (pciProbe) Name() string { return "pci" }

// Files adds the host's pci.ids when it is the one the names come from (newer
// than the embedded copy), so that a snapshot replays the same names.
func (pciProbe) Files(env Env) []string {
	if c, use := hostPCIIDs(env); use {
		return append(slices.Clip(pciFiles), c)
	}
	return pciFiles
}

// pciFiles are the per-function files ghw and this probe read; the
// /sys/bus/pci/devices/* entries are symlinks into /sys/devices/pci*.
var pciFiles = []string{
	"/sys/bus/pci/devices/*",
	"/sys/bus/pci/devices/*/{modalias,vendor,device,class,subsystem_vendor,subsystem_device,revision,numa_node,local_cpulist,enable,boot_vga,label,index}",
	"/sys/bus/pci/devices/*/{current_link_speed,current_link_width,max_link_speed,max_link_width}",
	"/sys/bus/pci/devices/*/{driver,iommu_group,physfn}",
}

func (pciProbe) Collect(ctx context.Context, env Env, inv *Inventory) error {
	opts, err := sessionFrom(ctx, env).ghwOpts(true)
	if err != nil {
		return fmt.Errorf("load PCI database: %w", err)
	}
	info, err := ghw.PCI(opts...)
	if err != nil {
		return fmt.Errorf("read PCI devices: %w", err)
	}
	if len(info.Devices) == 0 {
		return fmt.Errorf("read PCI devices: %w: /sys/bus/pci/devices is empty or absent", ErrNoData)
	}
	out := make([]PCIDevice, 0, len(info.Devices))
	for _, d := range info.Devices {
		p := PCIDevice{Address: d.Address, Driver: d.Driver}
		if d.Vendor != nil {
			p.VendorID, p.Vendor = d.Vendor.ID, known(d.Vendor.Name)
		}
		if d.Product != nil {
			p.DeviceID, p.Product = d.Product.ID, known(d.Product.Name)
		}
		if d.Class != nil {
			p.ClassID, p.Class = d.Class.ID, known(d.Class.Name)
		}
		if d.Subclass != nil {
			p.ClassID += d.Subclass.ID
			p.Subclass = known(d.Subclass.Name)
		}
		dir := env.Sys("bus", "pci", "devices", d.Address)
		if n, ok := readInt(filepath.Join(dir, "numa_node")); ok && n >= 0 {
			p.NUMANode = ptr(int(n))
		}
		p.LinkSpeed = readString(filepath.Join(dir, "current_link_speed"))
		p.LinkWidth = readString(filepath.Join(dir, "current_link_width"))
		p.MaxSpeed = readString(filepath.Join(dir, "max_link_speed"))
		p.MaxWidth = readString(filepath.Join(dir, "max_link_width"))
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	inv.PCI = out
	return nil
}

// known maps ghw's "unknown" placeholder to "".
func known(s string) string {
	if strings.EqualFold(s, "unknown") {
		return ""
	}
	return s
}
