package spec

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/shakedown/shakedown/collector"
)

// CaptureOptions tunes Capture.
type CaptureOptions struct {
	// Now is written in the header comment (zero: omitted).
	Now time.Time
	// Source names where the inventory came from, for the header comment.
	Source string
}

// Capture writes a commented spec describing inv exactly: the "golden host"
// workflow. Every disk gets role keep; the operator changes the disks that may
// be tested to role test. Disks without a usable identity become anonymous
// entries (they can never be tested). Checking inv against the result gives
// no divergences.
func Capture(w io.Writer, inv *collector.Inventory, opt CaptureOptions) error {
	e := &emitter{w: w}
	e.line("# shakedown expected spec (docs/spec.md), captured by `shakedown-agent spec capture`")
	if opt.Source != "" {
		e.line("# source: %s", opt.Source)
	}
	if !opt.Now.IsZero() {
		e.line("# captured at %s", opt.Now.UTC().Format(time.RFC3339))
	}
	e.line("# Review it: every disk is role: keep (never written). Change the disks that")
	e.line("# may be wiped and stress-tested to role: test. Remove what you do not care about.")
	e.line("version: %d", Version)
	host := inv.HostID
	e.line("host: %s   # host id from %s", q(host), orUnknown(inv.HostIDSource))
	if inv.HostID == "" {
		e.line("# WARNING: the inventory has no host id; this spec will not match any host until you set host:")
	}

	if s := inv.System; s != nil && (s.Vendor != "" || s.Product != "" || s.Serial != "") {
		e.line("system:")
		e.kv(1, "vendor", s.Vendor)
		e.kv(1, "product", s.Product)
		e.kv(1, "serial", s.Serial)
	}

	e.line("cpu:")
	if c := inv.CPU; c != nil {
		if Normalize(c.Model) != "" {
			e.line("  model: %s   # '*' matches anything, e.g. \"Intel(R) Xeon(R) Gold 6130*\"", q(c.Model))
		}
		for _, x := range []struct {
			k string
			v int
		}{{"sockets", c.Sockets}, {"cores", c.Cores}, {"threads", c.Threads}} {
			if x.v > 0 {
				e.line("  %s: %d", x.k, x.v)
			}
		}
	} else {
		e.line("  # the cpu probe could not read this host: fill in model, sockets, cores, threads")
	}

	e.line("memory:")
	if m := inv.Memory; m != nil {
		if m.InstalledBytes != nil && *m.InstalledBytes > 0 {
			e.line("  total: %s   # installed (SMBIOS)", FormatBinary(*m.InstalledBytes))
		} else {
			e.line("  total: %s   # usable (MemTotal): this host has no SMBIOS memory list", FormatBinary(m.TotalBytes))
		}
		e.line("  tolerance: %g%%", DefaultMemoryTolerance)
		if (m.InstalledBytes != nil && *m.InstalledBytes > 0) || len(m.DIMMs) > 0 {
			e.line("  dimms: %d", len(m.DIMMs))
			var slots []collector.DIMM
			seen := map[string]bool{}
			for _, d := range m.DIMMs {
				name := slotName(d, m.DIMMs)
				key := strings.ToLower(collapse(name))
				if key == "" || seen[key] {
					e.line("  # a DIMM in slot %s has no unique locator and cannot be listed", q(name))
					continue
				}
				seen[key] = true
				slots = append(slots, d)
			}
			if len(slots) > 0 {
				e.line("  slots:")
			}
			for _, d := range slots {
				e.line("    - locator: %s", q(slotName(d, m.DIMMs)))
				e.line("      size: %s", FormatBinary(d.SizeBytes))
				if sp := dimmSpeed(d); sp != nil {
					e.line("      speed_mts: %d", *sp)
				}
				if p := Normalize(d.PartNumber); p != "" {
					e.line("      part: %s", q(p))
				}
			}
		}
	} else {
		e.line("  # the memory probe could not read this host: fill in total")
	}

	if len(inv.Disks) == 0 {
		e.line("disks: []")
	} else {
		e.line("disks:")
	}
	var written []DiskIdentity
	var writtenBy []string
disks:
	for _, d := range inv.Disks {
		id := IdentityOf(d)
		e.line("  # %s (%s)%s", d.Name, orUnknown(d.Transport), removable(d))
		for i, o := range written {
			if MatchIdentity(o, id) {
				e.line("  # %s has the same identity as %s (multipath?): not listed twice; the check will halt on it", d.Name, writtenBy[i])
				continue disks
			}
		}
		if !id.IsZero() {
			written, writtenBy = append(written, id), append(writtenBy, d.Name)
		}
		if id.IsZero() {
			e.line("  - anonymous: true   # no WWN and no vendor+model+serial: matched by size and class only, never tested")
		} else {
			first := true
			item := func(k, v string) {
				if v == "" {
					return
				}
				prefix := "    "
				if first {
					prefix, first = "  - ", false
				}
				e.line("%s%s: %s", prefix, k, q(v))
			}
			// Write every identifier found: extra ones make the match stricter.
			item("wwn", id.WWN)
			item("eui64", id.EUI64)
			item("nguid", id.NGUID)
			if id.hasSerialTriple() {
				item("vendor", id.Vendor)
				item("model", id.Model)
				item("serial", id.Serial)
			}
		}
		e.line("    size: %s", FormatDecimal(d.SizeBytes))
		if d.Class != "" {
			e.line("    class: %s", d.Class)
		}
		e.line("    role: keep   # keep | boot | test (test = may be wiped)")
		if f := Normalize(d.Firmware); f != "" {
			e.line("    firmware: %s", q(f))
		}
	}

	if len(inv.NICs) == 0 {
		e.line("nics: []")
	} else {
		e.line("nics:")
	}
	seenNIC := map[string]bool{}
	for _, n := range inv.NICs {
		e.line("  # %s", n.Name)
		mac := nicMAC(n)
		pci := canonPCI(n.PCIAddress)
		switch {
		case macRE().MatchString(mac) && mac != "00:00:00:00:00:00" && !seenNIC["mac:"+mac]:
			seenNIC["mac:"+mac] = true
		case pciRE().MatchString(n.PCIAddress) && !seenNIC["pci:"+pci]:
			seenNIC["pci:"+pci] = true
			mac = ""
		default:
			e.line("  # %s has no MAC or PCI address of its own and cannot be listed", n.Name)
			continue
		}
		if mac != "" {
			e.line("  - mac: %s", q(mac))
			if n.PCIAddress != "" && pciRE().MatchString(n.PCIAddress) {
				e.line("    pci: %s", q(canonPCI(n.PCIAddress)))
			}
		} else {
			e.line("  - pci: %s", q(pci))
		}
		if n.SpeedMbps != nil && *n.SpeedMbps > 0 {
			if n.MaxSpeedMbps != nil && *n.MaxSpeedMbps > *n.SpeedMbps {
				e.line("    min_speed_mbps: %d   # negotiated at capture; the port can do %d: check the cable/switch", *n.SpeedMbps, *n.MaxSpeedMbps)
			} else {
				e.line("    min_speed_mbps: %d   # negotiated at capture", *n.SpeedMbps)
			}
		}
		if n.Driver != "" {
			e.line("    driver: %s", q(n.Driver))
		}
	}

	e.line("gpus:")
	e.line("  count: %d", len(inv.GPUs))
	if model := commonGPUModel(inv.GPUs); model != "" {
		e.line("  model: %s", q(model))
	}

	e.line("# thresholds: override defaults for this host (list: shakedown-agent spec defaults)")
	e.line("#   max_temp_c: 85")
	return e.err
}

// slotName is the DIMM's locator, or BANK/LOCATOR when another DIMM has the
// same locator.
func slotName(d collector.DIMM, all []collector.DIMM) string {
	n := 0
	for _, o := range all {
		if sameText(o.Locator, d.Locator) {
			n++
		}
	}
	if n > 1 && Normalize(d.BankLocator) != "" {
		return Normalize(d.BankLocator) + "/" + Normalize(d.Locator)
	}
	return Normalize(d.Locator)
}

func commonGPUModel(gs []collector.GPU) string {
	if len(gs) == 0 {
		return ""
	}
	m := gs[0].Model
	for _, g := range gs[1:] {
		if !sameText(g.Model, m) {
			return ""
		}
	}
	m = collapse(m)
	if strings.Contains(m, "*") {
		return ""
	}
	return m
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func removable(d collector.Disk) string {
	if d.Removable {
		return ", removable: delete this entry unless the device stays in the host"
	}
	return ""
}

type emitter struct {
	w   io.Writer
	err error
}

func (e *emitter) line(format string, a ...any) {
	if e.err != nil {
		return
	}
	_, e.err = fmt.Fprintf(e.w, format+"\n", a...)
}

func (e *emitter) kv(indent int, k, v string) {
	if Normalize(v) == "" {
		return
	}
	e.line("%s%s: %s", strings.Repeat("  ", indent), k, q(Normalize(v)))
}

// q writes a YAML double-quoted scalar. Go's escapes (\n, \t, \uNNNN) are
// valid YAML escapes; bytes that are not UTF-8 become U+FFFD first (as
// Normalize does), because Go would write them as \xNN, which YAML reads as a
// code point.
func q(s string) string { return strconv.Quote(strings.ToValidUTF8(s, "\uFFFD")) }
