package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

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
	sc := scanGPUCandidates(env)
	if !sc.accelerators && !sc.drmCards && !sc.nvidia {
		// No function ghw or nvidia-smi could report: skip ghw's two PCI
		// scans and the wait for the PCI database (most of this probe's time).
		inv.GPUs = []GPU{}
		return nil
	}
	var opts []any
	if sc.accelerators || sc.drmCards {
		var err error
		if opts, err = sessionFrom(ctx, env).ghwOpts(true); err != nil {
			return fmt.Errorf("load PCI database: %w", err)
		}
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
	if sc.accelerators {
		if acc, err := ghw.Accelerator(opts...); err == nil {
			for _, a := range acc.Devices {
				add(a.Address, a.PCIDevice)
			}
		} else {
			errs = append(errs, fmt.Errorf("read accelerators: %w", err))
		}
	}
	if sc.drmCards {
		if gi, err := ghw.GPU(opts...); err == nil {
			for _, c := range gi.GraphicsCards {
				add(c.Address, c.DeviceInfo)
			}
		} else {
			errs = append(errs, fmt.Errorf("read DRM cards: %w", err))
		}
	}
	if sc.nvidia {
		if err := addNvidiaSMI(ctx, env, byAddr); err != nil {
			env.Logger().Debug("nvidia-smi not used", "tool", "nvidia-smi", "err", err)
		}
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
	if len(gpus) == 0 && len(errs) > 0 && len(errs) == btoi(sc.accelerators)+btoi(sc.drmCards) {
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

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// gpuCandidates says which GPU sources can have anything to report.
type gpuCandidates struct {
	accelerators bool // a PCI function of a class ghw's accelerator area keeps
	drmCards     bool // /sys/class/drm has a card* entry (ghw's GPU area)
	nvidia       bool // an NVIDIA PCI function (nvidia-smi could report it)
}

// scanGPUCandidates reads each PCI function's modalias (class file when
// there is none) to decide which sources are worth asking. When the PCI
// functions cannot be listed or one cannot be read, every source is asked.
func scanGPUCandidates(env Env) gpuCandidates {
	all := gpuCandidates{accelerators: true, drmCards: true, nvidia: true}
	var c gpuCandidates
	if ents, err := os.ReadDir(env.Sys("class", "drm")); err == nil {
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "card") {
				c.drmCards = true
				break
			}
		}
	}
	ents, err := os.ReadDir(env.Sys("bus", "pci", "devices"))
	if err != nil {
		return all
	}
	for _, e := range ents {
		vendor, class, ok := pciVendorClass(env.Sys("bus", "pci", "devices", e.Name()))
		if !ok {
			return all
		}
		switch class[:2] {
		case "03":
			c.accelerators = c.accelerators || class[2:] == "02" || class[2:] == "80"
		case "12":
			c.accelerators = c.accelerators || class[2:] == "00"
		}
		c.nvidia = c.nvidia || vendor == "10de"
	}
	return c
}

// pciVendorClass returns a PCI function's vendor ID and class+subclass
// ("0302"), lower-case hex, from its modalias
// ("pci:v000010DEd000015F7sv000010DEsd000011DAbc03sc02i00", what ghw reads)
// or else its vendor and class files.
func pciVendorClass(dir string) (vendor, class string, ok bool) {
	m := strings.ToLower(readString(filepath.Join(dir, "modalias")))
	if len(m) >= 50 && strings.HasPrefix(m, "pci:v") && m[42:44] == "bc" && m[46:48] == "sc" {
		return m[9:13], m[44:46] + m[48:50], true
	}
	v := strings.ToLower(readString(filepath.Join(dir, "vendor")))
	cl := strings.ToLower(readString(filepath.Join(dir, "class")))
	if len(v) != 6 || len(cl) != 8 || !strings.HasPrefix(v, "0x") || !strings.HasPrefix(cl, "0x") {
		return "", "", false
	}
	return v[2:], cl[2:6], true
}
