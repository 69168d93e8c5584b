package collector

import (
	"testing"
)

func TestPCIVendorClass(t *testing.T) {
	tr := newTree(t)
	d := "/sys/devices/pci0000:00/"
	tr.file(d+"a/modalias", "pci:v000010DEd000020B0sv000010DEsd00001450bc03sc02i00\n").
		file(d+"b/vendor", "0x1002\n").file(d+"b/class", "0x038000\n").
		file(d+"c/modalias", "garbage\n").file(d+"c/vendor", "0x8086\n").file(d+"c/class", "0x120000\n").
		file(d+"d/vendor", "0x8086\n")
	for _, tc := range []struct {
		dir, vendor, class string
		ok                 bool
	}{
		{"a", "10de", "0302", true},
		{"b", "1002", "0380", true},
		{"c", "8086", "1200", true},
		{"d", "", "", false},
	} {
		v, c, ok := pciVendorClass(tr.root + d + tc.dir)
		if v != tc.vendor || c != tc.class || ok != tc.ok {
			t.Errorf("%s: got %q %q %v, want %q %q %v", tc.dir, v, c, ok, tc.vendor, tc.class, tc.ok)
		}
	}
}

// TestGPUSourcesSkippedWithoutCandidates: a host whose PCI functions hold no
// display, 3D or accelerator class and no NVIDIA vendor asks neither ghw nor
// nvidia-smi (a recorded nvidia-smi output is then ignored), while an
// unreadable function makes every source asked.
func TestGPUSourcesSkippedWithoutCandidates(t *testing.T) {
	add := func(tr *tree, addr, modalias string) {
		d := "/sys/devices/pci0000:00/" + addr
		tr.file(d+"/modalias", modalias).link("/sys/bus/pci/devices/"+addr, "../../../devices/pci0000:00/"+addr)
	}
	virtio := "pci:v00001AF4d00001041sv00001AF4sd00001041bc02sc00i00"
	aspeed := "pci:v00001A03d00002000sv00001A03sd00002000bc03sc00i00"
	tr := newTree(t)
	add(tr, "0000:00:03.0", virtio)
	add(tr, "0000:00:04.0", aspeed)
	if c := scanGPUCandidates(tr.env()); c != (gpuCandidates{}) {
		t.Errorf("virtio NIC + BMC VGA: candidates %+v, want none", c)
	}
	tr.recordTool("nvidia-smi", []string{"-q", "-x"}, "testdata/tools/nvidia-smi/hadoop-2x-p100-v8.xml")
	inv, st := collectOne(t, tr.env(), "gpu")
	if !st.OK || len(inv.GPUs) != 0 || inv.GPUs == nil {
		t.Errorf("no candidate: GPUs %+v (status %+v), want an empty list", inv.GPUs, st)
	}

	add(tr, "0000:82:00.0", "pci:v000010DEd000015F7sv000010DEsd000011DAbc03sc02i00")
	if c := scanGPUCandidates(tr.env()); c != (gpuCandidates{accelerators: true, nvidia: true}) {
		t.Errorf("with a P100: candidates %+v", c)
	}
	inv, _ = collectOne(t, tr.env(), "gpu")
	// The recording names two P100s: both are reported, the one ghw found with its driver.
	if len(inv.GPUs) != 2 || inv.GPUs[1].PCIAddress != "0000:82:00.0" || inv.GPUs[1].Source != "nvidia-smi" || inv.GPUs[1].Serial == "" {
		t.Errorf("with a P100: GPUs %+v", inv.GPUs)
	}

	tr.link("/sys/class/drm/card0", "../../devices/pci0000:00/0000:00:04.0/drm/card0")
	if c := scanGPUCandidates(tr.env()); !c.drmCards {
		t.Errorf("card0 present: candidates %+v", c)
	}
	tr.file("/sys/devices/pci0000:00/0000:00:05.0/enable", "1\n").
		link("/sys/bus/pci/devices/0000:00:05.0", "../../../devices/pci0000:00/0000:00:05.0")
	if c := scanGPUCandidates(tr.env()); c != (gpuCandidates{accelerators: true, drmCards: true, nvidia: true}) {
		t.Errorf("unreadable function: candidates %+v, want all", c)
	}
}
