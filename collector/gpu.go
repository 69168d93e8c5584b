package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/jaypipes/ghw"
	"github.com/jaypipes/ghw/pkg/pci"

	"github.com/shakedown/shakedown/collector/tool"
)

// gpuProbe fills Inventory.GPUs from ghw's accelerator area (PCI classes
// 0x0302 3D controller, 0x0380 display controller, 0x1200 processing
// accelerator: the headless datacenter GPUs) and ghw's GPU area
// (/sys/class/drm/card*), minus the BMC and virtual display adapters every
// server has (ASPEED, Matrox, QEMU/virtio, VMware, Cirrus). When nvidia-smi
// is installed (live system) or was recorded (snapshot), `nvidia-smi -q -x`
// adds model, serial, UUID, VBIOS and memory size, matched by PCI address.
type gpuProbe struct{}

func init() { Register(gpuProbe{}) }

func (gpuProbe) Name() string { return "gpu" }

func (gpuProbe) Files(Env) []string {
	return append([]string{
		"/sys/class/drm",
		"/sys/class/drm/*",
		"/sys/class/drm/card*/device",
	}, pciFiles...)
}

// displayOnlyVendors are PCI vendors whose VGA functions are BMC or virtual
// consoles, never a GPU to validate.
var displayOnlyVendors = map[string]bool{
	"1a03": true, // ASPEED (BMC VGA)
	"102b": true, // Matrox (BMC VGA on Dell/HPE/Lenovo)
	"1234": true, // QEMU bochs
	"1af4": true, // virtio-gpu
	"15ad": true, // VMware SVGA
	"1013": true, // Cirrus Logic (emulated)
	"1b36": true, // Red Hat QXL
	"19a2": true, // Emulex/ServerEngines BMC VGA
}

func (gpuProbe) Collect(ctx context.Context, env Env, inv *Inventory) error {
	opts, err := sessionFrom(ctx, env).ghwOpts(true)
	if err != nil {
		return fmt.Errorf("load PCI database: %w", err)
	}
	byAddr := map[string]*GPU{}
	add := func(addr string, d *pci.Device) {
		if _, seen := byAddr[addr]; seen || d == nil || d.Vendor == nil {
			return
		}
		if displayOnlyVendors[d.Vendor.ID] {
			return
		}
		g := &GPU{PCIAddress: addr, Vendor: known(d.Vendor.Name), Driver: d.Driver, Source: "ghw"}
		if d.Product != nil {
			g.Model = known(d.Product.Name)
		}
		byAddr[addr] = g
	}
	var errs []error
	if acc, err := ghw.Accelerator(opts...); err == nil {
		for _, a := range acc.Devices {
			add(a.Address, a.PCIDevice)
		}
	} else {
		errs = append(errs, fmt.Errorf("read accelerators: %w", err))
	}
	if gi, err := ghw.GPU(opts...); err == nil {
		for _, c := range gi.GraphicsCards {
			add(c.Address, c.DeviceInfo)
		}
	} else {
		errs = append(errs, fmt.Errorf("read DRM cards: %w", err))
	}
	if err := addNvidiaSMI(ctx, env, byAddr); err != nil {
		env.Logger().Debug("nvidia-smi not used", "tool", "nvidia-smi", "err", err)
	}
	gpus := make([]GPU, 0, len(byAddr))
	for _, g := range byAddr {
		gpus = append(gpus, *g)
	}
	sort.Slice(gpus, func(i, j int) bool { return gpus[i].PCIAddress < gpus[j].PCIAddress })
	for i := range gpus {
		gpus[i].Index = i
	}
	inv.GPUs = gpus
	if len(gpus) == 0 && len(errs) == 2 {
		return errors.Join(errs...)
	}
	return nil
}

// addNvidiaSMI completes (or adds) GPUs from `nvidia-smi -q -x`.
func addNvidiaSMI(ctx context.Context, env Env, byAddr map[string]*GPU) error {
	r := env.hostTools()
	if r == nil {
		return fmt.Errorf("not reading the live system: %w", tool.ErrNotFound)
	}
	if _, err := r.LookPath("nvidia-smi"); err != nil {
		return err
	}
	out, err := runTool(ctx, r, "nvidia-smi", "-q", "-x")
	if err != nil {
		return err
	}
	_, gs, err := parseNvidiaSMI(bytes.NewReader(out))
	if err != nil {
		return err
	}
	for _, ng := range gs {
		g, ok := byAddr[ng.PCIAddress]
		if !ok {
			g = &GPU{PCIAddress: ng.PCIAddress, Vendor: "NVIDIA Corporation", Driver: "nvidia"}
			byAddr[ng.PCIAddress] = g
		}
		g.Source = "nvidia-smi"
		if ng.Model != "" {
			g.Model = ng.Model
		}
		g.Serial, g.UUID, g.VBIOS, g.MemoryBytes = ng.Serial, ng.UUID, ng.VBIOS, ng.MemoryBytes
	}
	return nil
}
