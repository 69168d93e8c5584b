package collector

import (
	"context"
	"fmt"

	"github.com/prometheus/procfs"
)

// memoryProbe fills Inventory.Memory: MemTotal from /proc/meminfo and every
// populated DIMM from SMBIOS type 17 in /sys/firmware/dmi/tables/DMI (root-only
// on real hardware; without it DIMMs is empty and InstalledBytes nil).
type memoryProbe struct{}

func init() { Register(memoryProbe{}) }

func (memoryProbe) Name() string { return "memory" }

func (memoryProbe) Files(Env) []string {
	return []string{"/proc/meminfo", "/sys/firmware/dmi/tables/DMI", "/sys/firmware/dmi/tables/smbios_entry_point"}
}

func (memoryProbe) Collect(ctx context.Context, env Env, inv *Inventory) error {
	fs, err := procfs.NewFS(env.Proc())
	if err != nil {
		return fmt.Errorf("open procfs: %w: %w", ErrNoData, err)
	}
	mi, err := fs.Meminfo()
	if err != nil {
		return fmt.Errorf("read meminfo: %w", err)
	}
	if mi.MemTotal == nil {
		return fmt.Errorf("read meminfo: no MemTotal")
	}
	m := &Memory{TotalBytes: *mi.MemTotal * 1024, DIMMs: []DIMM{}}
	inv.Memory = m
	tbl, err := sessionFrom(ctx, env).smbiosTable()
	if err != nil {
		// MemTotal is still valid; DIMMs are reported unknown.
		env.Logger().Debug("no SMBIOS table, DIMMs unknown", "err", err)
		return nil
	}
	m.ECC = tbl.ECC
	if len(tbl.DIMMs) > 0 {
		m.DIMMs = tbl.DIMMs
		var sum uint64
		for _, d := range tbl.DIMMs {
			sum += d.SizeBytes
		}
		m.InstalledBytes = &sum
	}
	return nil
}
