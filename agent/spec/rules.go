package spec

import "github.com/shakedown/shakedown/agent/stage"

// Rule is one kind of divergence the diff engine reports and how serious it
// is. docs/spec.md lists this table (a test keeps the two in step), and
// `shakedown-agent spec defaults` prints it.
type Rule struct {
	ID    string
	Class stage.Severity
	Text  string
}

// Rule IDs.
const (
	RuleHost           = "host"
	RuleUnreadable     = "unreadable"
	RuleSystemIdentity = "system.vendor/product"
	RuleSystemSerial   = "system.serial"
	RuleCPUModel       = "cpu.model"
	RuleCPUFewer       = "cpu.fewer"
	RuleCPUMore        = "cpu.more"
	RuleMemLess        = "memory.total.less"
	RuleMemMore        = "memory.total.more"
	RuleDIMMFewer      = "memory.dimms.fewer"
	RuleDIMMMore       = "memory.dimms.more"
	RuleSlotEmpty      = "memory.slot.empty"
	RuleSlotAmbiguous  = "memory.slot.ambiguous"
	RuleSlotSmaller    = "memory.slot.size.smaller"
	RuleSlotLarger     = "memory.slot.size.larger"
	RuleSlotSlower     = "memory.slot.speed.slower"
	RuleSlotFaster     = "memory.slot.speed.faster"
	RuleSlotPart       = "memory.slot.part"
	RuleDiskMissing    = "disk.missing"
	RuleDiskDuplicate  = "disk.duplicate"
	RuleDiskConflict   = "disk.conflict"
	RuleDiskUnexpected = "disk.unexpected"
	RuleDiskRemovable  = "disk.unexpected.removable"
	RuleDiskSmaller    = "disk.size.smaller"
	RuleDiskLarger     = "disk.size.larger"
	RuleDiskClass      = "disk.class"
	RuleDiskFirmware   = "disk.firmware"
	RuleNICMissing     = "nic.missing"
	RuleNICSlow        = "nic.speed.below_floor"
	RuleNICNoLink      = "nic.no_link"
	RuleNICUnexpected  = "nic.unexpected"
	RuleNICMoved       = "nic.pci.moved"
	RuleNICDriver      = "nic.driver"
	RuleGPUFewer       = "gpu.fewer"
	RuleGPUMore        = "gpu.more"
	RuleGPUModel       = "gpu.model"
)

// Rules is the classification table.
var Rules = []Rule{
	{RuleHost, stage.Critical, "the spec's host differs from this host's id: it is another host's spec"},
	{RuleUnreadable, stage.Critical, "the spec sets a section the inventory could not read (probe failed): nothing proves the hardware is as expected"},
	{RuleSystemIdentity, stage.Critical, "DMI system vendor or product differs: not the machine the spec describes"},
	{RuleSystemSerial, stage.Warning, "DMI system serial differs (board swapped, or serial re-programmed after repair)"},
	{RuleCPUModel, stage.Critical, "a CPU model does not match the pattern"},
	{RuleCPUFewer, stage.Critical, "fewer sockets, cores or threads than expected (failed CPU, disabled cores, SMT off)"},
	{RuleCPUMore, stage.Warning, "more sockets, cores or threads than expected"},
	{RuleMemLess, stage.Critical, "less memory than expected, beyond the tolerance"},
	{RuleMemMore, stage.Warning, "more memory than expected, beyond the tolerance"},
	{RuleDIMMFewer, stage.Critical, "fewer DIMMs than expected"},
	{RuleDIMMMore, stage.Warning, "more DIMMs than expected"},
	{RuleSlotEmpty, stage.Critical, "a slot the spec lists is empty"},
	{RuleSlotAmbiguous, stage.Critical, "a slot's locator names several DIMMs, so the slot cannot be checked (write BANK/LOCATOR)"},
	{RuleSlotSmaller, stage.Critical, "a DIMM is smaller than the spec says"},
	{RuleSlotLarger, stage.Warning, "a DIMM is larger than the spec says"},
	{RuleSlotSlower, stage.Warning, "a DIMM's speed is below the spec"},
	{RuleSlotFaster, stage.Info, "a DIMM's speed is above the spec"},
	{RuleSlotPart, stage.Warning, "a DIMM's part number differs (replaced with another part)"},
	{RuleDiskMissing, stage.Critical, "an expected disk is not present (matched by WWN/EUI/NGUID or vendor+model+serial, never by name)"},
	{RuleDiskDuplicate, stage.Critical, "one identity is seen on two or more devices (multipath, or a cloned identity): halt"},
	{RuleDiskConflict, stage.Critical, "two spec entries match the same device (the spec names one disk twice)"},
	{RuleDiskUnexpected, stage.Warning, "a fixed disk is present that the spec does not list (it is never tested)"},
	{RuleDiskRemovable, stage.Info, "a removable disk (USB stick, card reader) is present that the spec does not list"},
	{RuleDiskSmaller, stage.Critical, "a disk is smaller than the spec says beyond 1% (HPA/DCO set, namespace shrunk, wrong part)"},
	{RuleDiskLarger, stage.Warning, "a disk is larger than the spec says beyond 1%"},
	{RuleDiskClass, stage.Warning, "a disk's class (nvme/ssd/hdd) differs"},
	{RuleDiskFirmware, stage.Info, "a disk's firmware revision differs"},
	{RuleNICMissing, stage.Critical, "an expected NIC (by MAC or PCI address) is not present"},
	{RuleNICSlow, stage.Critical, "a NIC negotiated below its min_speed_mbps"},
	{RuleNICNoLink, stage.Critical, "a NIC with min_speed_mbps has no link or no known speed"},
	{RuleNICUnexpected, stage.Warning, "a NIC is present that the spec does not list (only when the spec has nics:)"},
	{RuleNICMoved, stage.Info, "a NIC found by MAC sits at another PCI address than the spec says"},
	{RuleNICDriver, stage.Info, "a NIC's kernel driver differs"},
	{RuleGPUFewer, stage.Critical, "fewer GPUs than expected"},
	{RuleGPUMore, stage.Warning, "more GPUs than expected (not broken hardware, but not what was ordered)"},
	{RuleGPUModel, stage.Critical, "a GPU's model does not match the pattern"},
}

// ruleClass returns the class of a rule; an unknown id is a programming error
// and classed critical so that it can never hide a divergence.
func ruleClass(id string) stage.Severity {
	for _, r := range Rules {
		if r.ID == id {
			return r.Class
		}
	}
	return stage.Critical
}
