package collector

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteSummary prints a human-readable summary of an inventory.
func WriteSummary(w io.Writer, inv *Inventory) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format+"\n", a...) }
	p("Host ID:\t%s (%s)", orUnknown(inv.HostID), orUnknown(inv.HostIDSource))
	p("Hostname:\t%s", orUnknown(inv.Hostname))
	if s := inv.System; s != nil {
		p("System:\t%s", join(s.Vendor, s.Product, s.Version))
		p("  serial / UUID:\t%s / %s", orUnknown(s.Serial), orUnknown(s.UUID))
		p("Board:\t%s (serial %s)", join(s.BoardVendor, s.BoardProduct, s.BoardVersion), orUnknown(s.BoardSerial))
		p("Chassis:\t%s (serial %s)", join(s.ChassisVendor, s.ChassisType), orUnknown(s.ChassisSerial))
		p("BIOS:\t%s", join(s.BIOSVendor, s.BIOSVersion, s.BIOSDate))
	} else {
		p("System:\tunknown (no DMI)")
	}
	if c := inv.CPU; c != nil {
		p("CPU:\t%s", c.Model)
		p("  sockets/cores/threads:\t%d / %d / %d", c.Sockets, c.Cores, c.Threads)
		mhz := "unknown"
		if c.MaxMHz != nil {
			mhz = fmt.Sprintf("%.0f MHz", *c.MaxMHz)
		}
		p("  microcode / max:\t%s / %s (%d flags)", orUnknown(c.Microcode), mhz, len(c.Flags))
	}
	if m := inv.Memory; m != nil {
		inst := "unknown (no SMBIOS)"
		if m.InstalledBytes != nil {
			inst = humanBytes(*m.InstalledBytes)
		}
		ecc := "unknown"
		if m.ECC != nil {
			ecc = fmt.Sprint(*m.ECC)
		}
		p("Memory:\t%s usable, %s installed in %d DIMMs, ECC %s", humanBytes(m.TotalBytes), inst, len(m.DIMMs), ecc)
		for _, d := range m.DIMMs {
			speed := "?"
			if d.SpeedMTs != nil {
				speed = fmt.Sprint(*d.SpeedMTs)
			}
			p("  %s\t%s %s %s MT/s %s %s serial %s", d.Locator, humanBytes(d.SizeBytes), d.Type, speed, d.Manufacturer, d.PartNumber, orUnknown(d.Serial))
		}
	}
	p("Disks:\t%d", len(inv.Disks))
	for _, d := range inv.Disks {
		p("  %s (%s)\t%s %s %s %s serial %s fw %s", d.Name, d.DevT, humanBytes(d.SizeBytes), d.Transport, d.Class,
			orUnknown(d.Model), orUnknown(d.Serial), orUnknown(d.Firmware))
	}
	p("NICs:\t%d", len(inv.NICs))
	for _, n := range inv.NICs {
		sp, mx := "unknown", "unknown"
		if n.SpeedMbps != nil {
			sp = fmt.Sprintf("%d Mb/s", *n.SpeedMbps)
		}
		if n.MaxSpeedMbps != nil {
			mx = fmt.Sprintf("%d Mb/s", *n.MaxSpeedMbps)
		}
		p("  %s\t%s perm %s %s %s link %s max %s", n.Name, n.MAC, orUnknown(n.PermanentMAC), n.Driver, n.PCIAddress, sp, mx)
	}
	p("PCI devices:\t%d", len(inv.PCI))
	p("GPUs:\t%d", len(inv.GPUs))
	for _, g := range inv.GPUs {
		p("  %d %s\t%s %s (%s)", g.Index, g.PCIAddress, g.Vendor, g.Model, g.Source)
	}
	if inv.NUMA != nil {
		p("NUMA nodes:\t%d", len(inv.NUMA.Nodes))
	}
	var probes []string
	for _, st := range inv.Probes {
		state := "ok"
		switch {
		case st.NoData:
			state = "no data"
		case !st.OK:
			state = "FAILED: " + st.Error
		}
		probes = append(probes, fmt.Sprintf("%s %s (%.1f ms)", st.Name, state, st.DurationMS))
	}
	p("Probes:\t%s", strings.Join(probes, ", "))
	return tw.Flush()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func join(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return "unknown"
	}
	return strings.Join(out, " ")
}

func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
