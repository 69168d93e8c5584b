package spec

import (
	"fmt"

	"github.com/shakedown/shakedown/agent/stage"
)

// Version is the expected-spec format version this agent reads and writes.
const Version = 1

// FactKey is the stage fact SpecValidate stores the parsed spec under.
const FactKey = "spec"

// Spec is a host's expected hardware (docs/spec.md). A nil section pointer or
// list means the section was absent and is not checked; the parser refuses a
// spec without cpu, memory and disks.
type Spec struct {
	Version    int               `json:"version"`
	Host       string            `json:"host"`
	System     *System           `json:"system,omitempty"`
	CPU        *CPU              `json:"cpu,omitempty"`
	Memory     *Memory           `json:"memory,omitempty"`
	Disks      []Disk            `json:"disks"`
	NICs       []NIC             `json:"nics,omitempty"`
	GPUs       *GPUs             `json:"gpus,omitempty"`
	Thresholds map[string]string `json:"thresholds,omitempty"`
	// HasNICs is true when the spec had a nics: section (an empty one means
	// "this host has no NICs worth checking", absent means "not checked").
	HasNICs bool `json:"has_nics,omitempty"`
	// File is where the spec was read from (for messages).
	File string `json:"file,omitempty"`
}

// System is the expected DMI identity. Empty fields are not checked.
type System struct {
	Vendor  string `json:"vendor,omitempty"`
	Product string `json:"product,omitempty"`
	Serial  string `json:"serial,omitempty"`
}

// CPU is the expected processor configuration. Nil numbers are not checked.
type CPU struct {
	// Model is a pattern: '*' matches any run of characters; the comparison
	// ignores case and repeated spaces.
	Model   string `json:"model,omitempty"`
	Sockets *int   `json:"sockets,omitempty"`
	Cores   *int   `json:"cores,omitempty"`
	Threads *int   `json:"threads,omitempty"`
}

// Memory is the expected memory.
type Memory struct {
	// Total is installed memory in bytes, compared with the SMBIOS sum when
	// the host has SMBIOS, else with the kernel's MemTotal.
	Total *uint64 `json:"total,omitempty"`
	// TolerancePercent bounds |actual-total|/total (default DefaultMemoryTolerance).
	TolerancePercent float64 `json:"tolerance_percent"`
	DIMMs            *int    `json:"dimms,omitempty"`
	Slots            []Slot  `json:"slots,omitempty"`
}

// DefaultMemoryTolerance is memory.tolerance when the spec does not set it.
const DefaultMemoryTolerance = 3.0

// Slot is one DIMM slot the operator cares about.
type Slot struct {
	// Locator is the SMBIOS locator ("DIMM_A1"), or "BANK/LOCATOR" when the
	// locator alone is not unique.
	Locator  string  `json:"locator"`
	Size     *uint64 `json:"size,omitempty"`
	SpeedMTs *int    `json:"speed_mts,omitempty"`
	Part     string  `json:"part,omitempty"`
}

// Disk roles: what later stages may do with a disk.
const (
	RoleTest = "test" // destructive tests allowed (after the wipe-probe and the safe-profile rules)
	RoleKeep = "keep" // read-only checks only (SMART); never written
	RoleBoot = "boot" // the host's boot disk: read-only checks only, never written
)

// Disk classes.
const (
	ClassNVMe = "nvme"
	ClassSSD  = "ssd"
	ClassHDD  = "hdd"
)

// Disk is one expected disk.
type Disk struct {
	ID DiskIdentity `json:"id"`
	// Anonymous entries stand for disks with no usable identity (virtual
	// disks without serial or WWN). They match by size and class, and may
	// only have role keep or boot.
	Anonymous bool    `json:"anonymous,omitempty"`
	Size      *uint64 `json:"size,omitempty"`
	Class     string  `json:"class,omitempty"`
	Role      string  `json:"role"`
	Firmware  string  `json:"firmware,omitempty"`
}

// Subject names the disk in diffs and logs.
func (d Disk) Subject() string {
	if d.Anonymous {
		return "anonymous"
	}
	return d.ID.String()
}

// NIC is one expected network interface, named by MAC or PCI address.
type NIC struct {
	MAC          string `json:"mac,omitempty"`
	PCI          string `json:"pci,omitempty"`
	MinSpeedMbps *int   `json:"min_speed_mbps,omitempty"`
	Driver       string `json:"driver,omitempty"`
}

// Subject names the NIC in diffs.
func (n NIC) Subject() string {
	if n.MAC != "" {
		return "mac:" + canonMAC(n.MAC)
	}
	return "pci:" + canonPCI(n.PCI)
}

// GPUs is the expected accelerators.
type GPUs struct {
	Count int `json:"count"`
	// Model is a pattern like CPU.Model; every GPU must match it.
	Model string `json:"model,omitempty"`
}

// DisksWithRole returns the expected disks with the given role.
func (s *Spec) DisksWithRole(role string) []Disk {
	var out []Disk
	for _, d := range s.Disks {
		if d.Role == role {
			out = append(out, d)
		}
	}
	return out
}

// FromEnv returns the spec SpecValidate stored for this run. It is an error
// when SpecValidate did not run or found no spec: later stages that need the
// disk roles must not guess them.
func FromEnv(env *stage.Env) (*Spec, error) {
	var s Spec
	ok, err := env.Fact(FactKey, &s)
	if err != nil {
		return nil, fmt.Errorf("load fact %q: %w", FactKey, err)
	}
	if !ok {
		return nil, fmt.Errorf("no expected spec for this run: SpecValidate did not run or found no spec")
	}
	return &s, nil
}

// Thresholds returns the resolved thresholds for this host: the defaults in
// stage.Thresholds, overridden by env.Thresholds (the agent config), overridden
// by the host spec's thresholds when SpecValidate stored a spec.
func Thresholds(env *stage.Env) (stage.Params, error) {
	out := stage.ThresholdDefaults()
	for k, v := range env.Thresholds {
		out[k] = v
	}
	var s Spec
	ok, err := env.Fact(FactKey, &s)
	if err != nil {
		return nil, fmt.Errorf("load fact %q: %w", FactKey, err)
	}
	if ok {
		for k, v := range s.Thresholds {
			out[k] = v
		}
	}
	return out, nil
}
