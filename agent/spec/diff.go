package spec

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
)

// DiskSizeTolerance is the relative difference a disk's size may have from
// the spec: vendors label a "480GB" disk 480,103,981,056 bytes (IDEMA), and an
// operator writing 1.92TB means about 1.92e12 bytes.
const DiskSizeTolerance = 0.01

// Divergence is one difference with the rule that classed it.
type Divergence struct {
	Rule string `json:"rule"`
	stage.SpecDiff
}

// Diff compares an inventory with a spec and returns one row per divergence.
// No rows means the host is as expected.
func Diff(s *Spec, inv *collector.Inventory) []stage.SpecDiff {
	ds := Compare(s, inv)
	out := make([]stage.SpecDiff, len(ds))
	for i, d := range ds {
		out[i] = d.SpecDiff
	}
	return out
}

// Critical returns the critical rows.
func Critical(ds []stage.SpecDiff) []stage.SpecDiff {
	var out []stage.SpecDiff
	for _, d := range ds {
		if d.Class == stage.Critical {
			out = append(out, d)
		}
	}
	return out
}

type differ struct {
	inv *collector.Inventory
	out []Divergence
}

func (d *differ) add(rule, field, subject, expected, actual, msg string) {
	d.out = append(d.out, Divergence{Rule: rule, SpecDiff: stage.SpecDiff{
		Field: field, Subject: subject, Expected: expected, Actual: actual, Class: ruleClass(rule), Message: msg,
	}})
}

// probeFailed reports why a probe could not read its area, when it failed
// (absent hardware, ErrNoData, is not a failure).
func (d *differ) probeFailed(name string) (string, bool) {
	for _, p := range d.inv.Probes {
		if p.Name == name && !p.OK && !p.NoData {
			return p.Error, true
		}
	}
	return "", false
}

func (d *differ) unreadable(field, probe, why string) {
	if e, ok := d.probeFailed(probe); ok {
		why += " (probe " + probe + ": " + e + ")"
	}
	d.add(RuleUnreadable, field, "", "set in the spec", "could not be read", why)
}

// Compare is Diff with the rule of each row.
func Compare(s *Spec, inv *collector.Inventory) []Divergence {
	d := &differ{inv: inv}
	if !strings.EqualFold(Normalize(s.Host), Normalize(inv.HostID)) {
		d.add(RuleHost, "host", "", s.Host, inv.HostID, "this spec is for another host")
	}
	d.system(s.System)
	d.cpu(s.CPU)
	d.memory(s.Memory)
	d.disks(s.Disks)
	if s.HasNICs {
		d.nics(s.NICs)
	}
	d.gpus(s.GPUs)
	return d.out
}

func sameText(a, b string) bool { return strings.EqualFold(collapse(a), collapse(b)) }

func collapse(s string) string { return strings.Join(strings.Fields(Normalize(s)), " ") }

// MatchPattern reports whether text matches pattern: '*' matches any run of
// characters, everything else is literal; case and repeated spaces are ignored.
func MatchPattern(pattern, text string) bool {
	p, t := strings.ToLower(collapse(pattern)), strings.ToLower(collapse(text))
	parts := strings.Split(p, "*")
	if len(parts) == 1 {
		return p == t
	}
	if !strings.HasPrefix(t, parts[0]) {
		return false
	}
	t = t[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, part := range parts[1 : len(parts)-1] {
		i := strings.Index(t, part)
		if i < 0 {
			return false
		}
		t = t[i+len(part):]
	}
	return strings.HasSuffix(t, last)
}

func (d *differ) system(want *System) {
	if want == nil {
		return
	}
	have := d.inv.System
	if have == nil {
		d.unreadable("system", "dmi", "DMI/SMBIOS system identity")
		return
	}
	if want.Vendor != "" && !sameText(want.Vendor, have.Vendor) {
		d.add(RuleSystemIdentity, "system.vendor", "", want.Vendor, have.Vendor, "")
	}
	if want.Product != "" && !sameText(want.Product, have.Product) {
		d.add(RuleSystemIdentity, "system.product", "", want.Product, have.Product, "")
	}
	if want.Serial != "" && !sameText(want.Serial, have.Serial) {
		d.add(RuleSystemSerial, "system.serial", "", want.Serial, have.Serial, "")
	}
}

func (d *differ) cpu(want *CPU) {
	if want == nil {
		return
	}
	have := d.inv.CPU
	if have == nil {
		d.unreadable("cpu", "cpu", "CPU model and topology")
		return
	}
	if want.Model != "" && !MatchPattern(want.Model, have.Model) {
		d.add(RuleCPUModel, "cpu.model", "", want.Model, have.Model, "")
	}
	for _, c := range []struct {
		field string
		want  *int
		have  int
	}{{"cpu.sockets", want.Sockets, have.Sockets}, {"cpu.cores", want.Cores, have.Cores}, {"cpu.threads", want.Threads, have.Threads}} {
		switch {
		case c.want == nil || *c.want == c.have:
		case c.have < *c.want:
			d.add(RuleCPUFewer, c.field, "", strconv.Itoa(*c.want), strconv.Itoa(c.have), "")
		default:
			d.add(RuleCPUMore, c.field, "", strconv.Itoa(*c.want), strconv.Itoa(c.have), "")
		}
	}
}

func (d *differ) memory(want *Memory) {
	if want == nil {
		return
	}
	have := d.inv.Memory
	if have == nil {
		d.unreadable("memory", "memory", "memory size")
		return
	}
	smbios := have.InstalledBytes != nil && *have.InstalledBytes > 0
	if want.Total != nil {
		actual, src := have.TotalBytes, "usable (MemTotal)"
		if smbios {
			actual, src = *have.InstalledBytes, "installed (SMBIOS)"
		}
		exp := float64(*want.Total)
		dev := (float64(actual) - exp) / math.Max(exp, 1) * 100
		msg := fmt.Sprintf("%s memory differs by %+.1f%% (tolerance %g%%)", src, dev, want.TolerancePercent)
		if h := unitHint(*want.Total, actual, want.TolerancePercent/100); h != "" {
			msg += "; " + h
		}
		switch {
		case dev < -want.TolerancePercent:
			d.add(RuleMemLess, "memory.total", "", FormatBinary(*want.Total), FormatBinary(actual), msg)
		case dev > want.TolerancePercent:
			d.add(RuleMemMore, "memory.total", "", FormatBinary(*want.Total), FormatBinary(actual), msg)
		}
	}
	if want.DIMMs == nil && len(want.Slots) == 0 {
		return
	}
	if !smbios && len(have.DIMMs) == 0 {
		d.unreadable("memory.dimms", "memory", "DIMM list (SMBIOS type 17)")
		return
	}
	if want.DIMMs != nil {
		n := len(have.DIMMs)
		switch {
		case n < *want.DIMMs:
			d.add(RuleDIMMFewer, "memory.dimms", "", strconv.Itoa(*want.DIMMs), strconv.Itoa(n), "")
		case n > *want.DIMMs:
			d.add(RuleDIMMMore, "memory.dimms", "", strconv.Itoa(*want.DIMMs), strconv.Itoa(n), "")
		}
	}
	for i, sl := range want.Slots {
		field := fmt.Sprintf("memory.slots[%d]", i)
		dimm, n := findDIMM(have.DIMMs, sl.Locator)
		if n > 1 {
			d.add(RuleSlotAmbiguous, field, sl.Locator, "one DIMM", fmt.Sprintf("%d DIMMs", n),
				"several DIMMs have this locator: write BANK/LOCATOR as `spec capture` does")
			continue
		}
		if n == 0 {
			d.add(RuleSlotEmpty, field, sl.Locator, "populated", "empty", "")
			continue
		}
		if sl.Size != nil && dimm.SizeBytes != *sl.Size {
			rule := RuleSlotSmaller
			if dimm.SizeBytes > *sl.Size {
				rule = RuleSlotLarger
			}
			d.add(rule, field+".size", sl.Locator, FormatBinary(*sl.Size), FormatBinary(dimm.SizeBytes), "")
		}
		if sl.SpeedMTs != nil {
			speed := dimmSpeed(dimm)
			switch {
			case speed == nil:
				d.add(RuleSlotSlower, field+".speed_mts", sl.Locator, strconv.Itoa(*sl.SpeedMTs), "unknown", "")
			case *speed < *sl.SpeedMTs:
				d.add(RuleSlotSlower, field+".speed_mts", sl.Locator, strconv.Itoa(*sl.SpeedMTs), strconv.Itoa(*speed), "")
			case *speed > *sl.SpeedMTs:
				d.add(RuleSlotFaster, field+".speed_mts", sl.Locator, strconv.Itoa(*sl.SpeedMTs), strconv.Itoa(*speed), "")
			}
		}
		if sl.Part != "" && !sameText(sl.Part, dimm.PartNumber) {
			d.add(RuleSlotPart, field+".part", sl.Locator, sl.Part, Normalize(dimm.PartNumber), "")
		}
	}
}

// dimmSpeed is the configured speed, else the rated speed.
func dimmSpeed(m collector.DIMM) *int {
	if m.ConfiguredSpeedMTs != nil && *m.ConfiguredSpeedMTs > 0 {
		return m.ConfiguredSpeedMTs
	}
	if m.SpeedMTs != nil && *m.SpeedMTs > 0 {
		return m.SpeedMTs
	}
	return nil
}

// findDIMM finds the DIMM a spec slot names: by locator, or by
// "BANK/LOCATOR". It returns how many DIMMs matched; only 1 is usable.
func findDIMM(ds []collector.DIMM, loc string) (collector.DIMM, int) {
	var found collector.DIMM
	n := 0
	for _, m := range ds {
		if sameText(m.Locator, loc) || (m.BankLocator != "" && sameText(Normalize(m.BankLocator)+"/"+Normalize(m.Locator), loc)) {
			found = m
			n++
		}
	}
	return found, n
}

// unitHint explains a size difference that is exactly a decimal/binary unit
// mix-up (480GiB written for a 480GB disk), or returns "".
func unitHint(want, actual uint64, tol float64) string {
	for k := 1; k <= 5; k++ {
		r := math.Pow(1000.0/1024.0, float64(k))
		switch {
		case within(actual, uint64(float64(want)*r), tol) == 0:
			return "the spec size reads as binary units (GiB, TiB) but the device matches the same number in decimal units: write " + FormatDecimal(actual)
		case within(actual, uint64(float64(want)/r), tol) == 0:
			return "the spec size reads as decimal units (GB, TB) but the device matches the same number in binary units: write " + FormatBinary(actual)
		}
	}
	return ""
}

func within(actual, want uint64, tol float64) int {
	a, w := float64(actual), float64(want)
	switch {
	case a < w*(1-tol):
		return -1
	case a > w*(1+tol):
		return 1
	}
	return 0
}

func (d *differ) disks(want []Disk) {
	if want == nil {
		return
	}
	if e, failed := d.probeFailed("disks"); failed && len(d.inv.Disks) == 0 {
		d.add(RuleUnreadable, "disks", "", "set in the spec", "could not be read", "disk list (probe disks: "+e+")")
		return
	}
	have := d.inv.Disks
	b := BindDisks(want, have)
	for _, i := range b.Missing {
		w := want[i]
		why := ""
		if w.Anonymous {
			why = "no device without identity has this size and class"
		}
		d.add(RuleDiskMissing, fmt.Sprintf("disks[%d]", i), w.Subject(), describeDisk(w), "not present", why)
	}
	for _, dup := range b.Duplicates {
		var devs []string
		for _, j := range dup.Have {
			devs = append(devs, have[j].Name+" ("+have[j].DevT+")")
		}
		field := "disks"
		if dup.Want >= 0 {
			field = fmt.Sprintf("disks[%d]", dup.Want)
		}
		d.add(RuleDiskDuplicate, field, dup.Identity, "one device", strings.Join(devs, ", "),
			"one identity on several devices (multipath?): halt until an operator resolves it")
	}
	for _, c := range b.Conflicts {
		var entries []string
		for _, w := range c.Want {
			entries = append(entries, fmt.Sprintf("disks[%d]", w))
		}
		d.add(RuleDiskConflict, entries[0], IdentityOf(have[c.Have]).String(), "one entry per disk",
			strings.Join(entries, ", ")+" all match "+have[c.Have].Name, "fix the spec: one entry per disk")
	}
	for _, bd := range b.Bound {
		d.disk(bd.Spec, want[bd.Spec], have[bd.Have])
	}
	for _, j := range b.Unexpected {
		hd := have[j]
		rule := RuleDiskUnexpected
		if hd.Removable {
			rule = RuleDiskRemovable
		}
		d.add(rule, "disks", IdentityOf(hd).String(), "not listed", describeFound(hd), "")
	}
}

func (d *differ) disk(i int, w Disk, hd collector.Disk) {
	field := fmt.Sprintf("disks[%d]", i)
	subj := w.Subject()
	if w.Anonymous {
		subj = "anonymous:" + hd.Name
	}
	if w.Size != nil {
		switch within(hd.SizeBytes, *w.Size, DiskSizeTolerance) {
		case -1:
			d.add(RuleDiskSmaller, field+".size", subj, FormatDecimal(*w.Size), FormatDecimal(hd.SizeBytes), unitHint(*w.Size, hd.SizeBytes, DiskSizeTolerance))
		case 1:
			d.add(RuleDiskLarger, field+".size", subj, FormatDecimal(*w.Size), FormatDecimal(hd.SizeBytes), unitHint(*w.Size, hd.SizeBytes, DiskSizeTolerance))
		}
	}
	if w.Class != "" && w.Class != hd.Class {
		actual := hd.Class
		if actual == "" {
			actual = "unknown"
		}
		d.add(RuleDiskClass, field+".class", subj, w.Class, actual, "")
	}
	if w.Firmware != "" && !sameText(w.Firmware, hd.Firmware) {
		d.add(RuleDiskFirmware, field+".firmware", subj, w.Firmware, Normalize(hd.Firmware), "")
	}
}

func describeDisk(w Disk) string {
	s := w.Role + " disk"
	if w.Class != "" {
		s = w.Class + " " + s
	}
	if w.Size != nil {
		s += " of " + FormatDecimal(*w.Size)
	}
	return s
}

func describeFound(hd collector.Disk) string {
	s := hd.Name
	if hd.Class != "" {
		s += " " + hd.Class
	}
	s += " " + FormatDecimal(hd.SizeBytes)
	if m := Normalize(hd.Model); m != "" {
		s += " " + m
	}
	return s
}

func nicMAC(n collector.NIC) string {
	if n.PermanentMAC != "" {
		return canonMAC(n.PermanentMAC)
	}
	return canonMAC(n.MAC)
}

func (d *differ) nics(want []NIC) {
	if e, failed := d.probeFailed("nics"); failed && len(d.inv.NICs) == 0 {
		d.add(RuleUnreadable, "nics", "", "set in the spec", "could not be read", "NIC list (probe nics: "+e+")")
		return
	}
	used := make([]bool, len(d.inv.NICs))
	for i, w := range want {
		field := fmt.Sprintf("nics[%d]", i)
		found := -1
		for j, n := range d.inv.NICs {
			if used[j] {
				continue
			}
			if (w.MAC != "" && (nicMAC(n) == w.MAC || canonMAC(n.MAC) == w.MAC)) ||
				(w.MAC == "" && n.PCIAddress != "" && canonPCI(n.PCIAddress) == w.PCI) {
				found = j
				break
			}
		}
		if found < 0 {
			d.add(RuleNICMissing, field, w.Subject(), "present", "not present", "")
			continue
		}
		used[found] = true
		n := d.inv.NICs[found]
		subj := w.Subject() + " (" + n.Name + ")"
		if w.MAC != "" && w.PCI != "" && canonPCI(n.PCIAddress) != w.PCI {
			d.add(RuleNICMoved, field+".pci", subj, w.PCI, n.PCIAddress, "")
		}
		if w.Driver != "" && w.Driver != n.Driver {
			d.add(RuleNICDriver, field+".driver", subj, w.Driver, n.Driver, "")
		}
		if w.MinSpeedMbps != nil {
			switch {
			case n.SpeedMbps == nil || *n.SpeedMbps <= 0:
				d.add(RuleNICNoLink, field+".speed", subj, fmt.Sprintf(">= %d Mb/s", *w.MinSpeedMbps), "no link", "")
			case *n.SpeedMbps < *w.MinSpeedMbps:
				d.add(RuleNICSlow, field+".speed", subj, fmt.Sprintf(">= %d Mb/s", *w.MinSpeedMbps), fmt.Sprintf("%d Mb/s", *n.SpeedMbps), "")
			}
		}
	}
	for j, n := range d.inv.NICs {
		if !used[j] {
			d.add(RuleNICUnexpected, "nics", "mac:"+nicMAC(n)+" ("+n.Name+")", "not listed", n.Name+" "+n.PCIAddress, "")
		}
	}
}

func (d *differ) gpus(want *GPUs) {
	if want == nil {
		return
	}
	if e, failed := d.probeFailed("gpu"); failed && len(d.inv.GPUs) == 0 {
		d.add(RuleUnreadable, "gpus", "", "set in the spec", "could not be read", "GPU list (probe gpu: "+e+")")
		return
	}
	n := len(d.inv.GPUs)
	switch {
	case n < want.Count:
		d.add(RuleGPUFewer, "gpus.count", "", strconv.Itoa(want.Count), strconv.Itoa(n), "")
	case n > want.Count:
		d.add(RuleGPUMore, "gpus.count", "", strconv.Itoa(want.Count), strconv.Itoa(n), "")
	}
	if want.Model == "" {
		return
	}
	for _, g := range d.inv.GPUs {
		if !MatchPattern(want.Model, g.Model) {
			subj := g.PCIAddress
			if subj == "" {
				subj = "gpu" + strconv.Itoa(g.Index)
			}
			d.add(RuleGPUModel, "gpus.model", subj, want.Model, g.Model, "")
		}
	}
}

// FormatDecimal writes a byte count in decimal units, as disk vendors do
// (480.1GB), with up to four significant digits after the point trimmed.
func FormatDecimal(b uint64) string {
	units := []struct {
		name string
		v    float64
	}{{"PB", 1e15}, {"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3}}
	for _, u := range units {
		if float64(b) >= u.v {
			return trimFloat(float64(b)/u.v, 3) + u.name
		}
	}
	return strconv.FormatUint(b, 10) + "B"
}

// FormatBinary writes a byte count in binary units: exactly when it is a whole
// number of TiB, GiB or MiB (384GiB), else to two decimals (23.54GiB).
func FormatBinary(b uint64) string {
	units := []struct {
		name  string
		shift uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}}
	for _, u := range units[:3] {
		if b >= 1<<u.shift && b%(1<<u.shift) == 0 {
			return strconv.FormatUint(b>>u.shift, 10) + u.name
		}
	}
	for _, u := range units[1:] {
		if b >= 1<<u.shift {
			return trimFloat(float64(b)/float64(uint64(1)<<u.shift), 2) + u.name
		}
	}
	return strconv.FormatUint(b, 10) + "B"
}

func trimFloat(f float64, prec int) string {
	s := strconv.FormatFloat(f, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
