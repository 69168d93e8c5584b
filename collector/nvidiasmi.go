package collector

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// nvidiaGPU is what shakedown takes from one <gpu> of `nvidia-smi -q -x`.
type nvidiaGPU struct {
	PCIAddress  string // normalised to the sysfs form 0000:04:00.0
	Model       string
	Serial      string
	UUID        string
	VBIOS       string
	MemoryBytes *uint64
	Minor       *int
}

type nvsmiLog struct {
	XMLName       xml.Name `xml:"nvidia_smi_log"`
	DriverVersion string   `xml:"driver_version"`
	GPUs          []struct {
		ID          string `xml:"id,attr"`
		ProductName string `xml:"product_name"`
		Serial      string `xml:"serial"`
		UUID        string `xml:"uuid"`
		MinorNumber string `xml:"minor_number"`
		VBIOS       string `xml:"vbios_version"`
		PCIBusID    string `xml:"pci>pci_bus_id"`
		FBTotal     string `xml:"fb_memory_usage>total"`
	} `xml:"gpu"`
}

// parseNvidiaSMI parses `nvidia-smi -q -x` output (any nvsmi_device_vN DTD:
// only long-standing elements are read). "N/A" values are treated as absent.
func parseNvidiaSMI(r io.Reader) (driver string, gpus []nvidiaGPU, err error) {
	dec := xml.NewDecoder(r)
	dec.Strict = false
	// nvidia-smi declares an external DTD; there is nothing to resolve.
	dec.Entity = xml.HTMLEntity
	var l nvsmiLog
	if err := dec.Decode(&l); err != nil {
		return "", nil, fmt.Errorf("parse nvidia-smi XML: %w", err)
	}
	for _, g := range l.GPUs {
		ng := nvidiaGPU{
			Model:  na(g.ProductName),
			Serial: na(g.Serial),
			UUID:   na(g.UUID),
			VBIOS:  na(g.VBIOS),
		}
		addr := na(g.PCIBusID)
		if addr == "" {
			addr = na(g.ID)
		}
		ng.PCIAddress = normPCIAddr(addr)
		ng.MemoryBytes = parseMiB(g.FBTotal)
		if n, err := strconv.Atoi(strings.TrimSpace(g.MinorNumber)); err == nil {
			ng.Minor = &n
		}
		gpus = append(gpus, ng)
	}
	return na(l.DriverVersion), gpus, nil
}

func na(s string) string {
	s = strings.TrimSpace(s)
	if s == "N/A" || s == "[N/A]" || strings.HasPrefix(s, "[Not Supported") || strings.HasPrefix(s, "Unknown Error") {
		return ""
	}
	return s
}

// parseMiB parses "81559 MiB" into bytes.
func parseMiB(s string) *uint64 {
	f := strings.Fields(na(s))
	if len(f) != 2 || f[1] != "MiB" {
		return nil
	}
	n, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil {
		return nil
	}
	return ptr(n << 20)
}

// normPCIAddr turns nvidia-smi's "00000000:3B:00.0" into sysfs's "0000:3b:00.0".
func normPCIAddr(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	dom, rest, ok := strings.Cut(s, ":")
	if !ok || strings.Count(rest, ":") != 1 {
		return s
	}
	if len(dom) > 4 {
		dom = dom[len(dom)-4:]
	}
	return dom + ":" + rest
}
