package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// EDAC reader: <root>/sys/devices/system/edac/mc/mc<N>, the memory-controller
// error counters described in the kernel's Documentation/admin-guide/ras.rst
// ("EDAC - Error Detection And Correction"):
//
//	mc<N>/mc_name                       controller type ("Skylake Socket#0 IMC#0")
//	mc<N>/ce_count, ue_count            corrected / uncorrected errors since reset
//	mc<N>/ce_noinfo_count, ue_noinfo_count
//	                                    errors the driver could not attribute to a DIMM
//	mc<N>/dimm<K>/ or rank<K>/          per memory (the API since Linux 3.6):
//	    dimm_label, dimm_location, size (MiB), dimm_ce_count, dimm_ue_count
//	mc<N>/csrow<K>/                     legacy API (EDAC_LEGACY_SYSFS):
//	    ce_count, ue_count, size_mb, ch<C>_dimm_label
//
// dimm/rank directories are used when present; csrow only when a controller
// has neither. A controller whose ce_count/ue_count cannot be read is left out
// (and logged): a counter that cannot be read is never reported as 0.

// ReadEDAC reads every EDAC memory controller once. A missing EDAC tree
// (no EDAC driver loaded, a VM, a desktop without ECC) returns ErrNoData
// (wrapped) and no controllers.
func ReadEDAC(ctx context.Context, env Env) ([]EDACController, error) {
	return readEDAC(ctx, env, readSensorFileRaw)
}

func readEDAC(ctx context.Context, env Env, read sensorReadFunc) ([]EDACController, error) {
	base := env.Sys("devices", "system", "edac", "mc")
	names, err := readDirNames(base)
	if err != nil {
		return nil, noDataIfMissing("read edac", err)
	}
	sort.Slice(names, func(i, j int) bool { return naturalLess(names[i], names[j]) })
	log := env.Logger()
	var out []EDACController
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if !isIndexed(n, "mc") {
			continue
		}
		dir := filepath.Join(base, n)
		c, err := readEDACController(dir, n, read)
		if err != nil {
			log.Warn("edac controller unreadable", "probe", "sensors", "device", n, "err", err)
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

func readEDACController(dir, name string, read sensorReadFunc) (EDACController, error) {
	c := EDACController{Name: name}
	ce, okCE := readSensorUint(read, filepath.Join(dir, "ce_count"))
	ue, okUE := readSensorUint(read, filepath.Join(dir, "ue_count"))
	if !okCE || !okUE {
		return c, fmt.Errorf("read %s: ce_count/ue_count unreadable", dir)
	}
	c.CE, c.UE = ce, ue
	c.Type, _ = readSensorString(read, filepath.Join(dir, "mc_name"))
	if v, ok := readSensorUint(read, filepath.Join(dir, "ce_noinfo_count")); ok {
		c.CENoInfo = &v
	}
	if v, ok := readSensorUint(read, filepath.Join(dir, "ue_noinfo_count")); ok {
		c.UENoInfo = &v
	}
	entries, err := readDirNames(dir)
	if err != nil {
		return c, fmt.Errorf("list %s: %w", dir, err)
	}
	sort.Slice(entries, func(i, j int) bool { return naturalLess(entries[i], entries[j]) })
	var csrows []string
	for _, e := range entries {
		switch {
		case isIndexed(e, "dimm"), isIndexed(e, "rank"):
			if m, ok := readEDACDimm(filepath.Join(dir, e), e, read); ok {
				c.DIMMs = append(c.DIMMs, m)
			}
		case isIndexed(e, "csrow"):
			csrows = append(csrows, e)
		}
	}
	if len(c.DIMMs) == 0 {
		for _, e := range csrows {
			if m, ok := readEDACCsrow(filepath.Join(dir, e), e, read); ok {
				c.DIMMs = append(c.DIMMs, m)
			}
		}
	}
	return c, nil
}

func readEDACDimm(dir, name string, read sensorReadFunc) (EDACMemory, bool) {
	ce, okCE := readSensorUint(read, filepath.Join(dir, "dimm_ce_count"))
	ue, okUE := readSensorUint(read, filepath.Join(dir, "dimm_ue_count"))
	if !okCE || !okUE {
		return EDACMemory{}, false
	}
	m := EDACMemory{Name: name, CE: ce, UE: ue}
	m.Label, _ = readSensorString(read, filepath.Join(dir, "dimm_label"))
	m.Location, _ = readSensorString(read, filepath.Join(dir, "dimm_location"))
	if v, ok := readSensorInt(read, filepath.Join(dir, "size")); ok {
		mb := int(v)
		m.SizeMB = &mb
	}
	return m, true
}

func readEDACCsrow(dir, name string, read sensorReadFunc) (EDACMemory, bool) {
	ce, okCE := readSensorUint(read, filepath.Join(dir, "ce_count"))
	ue, okUE := readSensorUint(read, filepath.Join(dir, "ue_count"))
	if !okCE || !okUE {
		return EDACMemory{}, false
	}
	m := EDACMemory{Name: name, CE: ce, UE: ue}
	if v, ok := readSensorInt(read, filepath.Join(dir, "size_mb")); ok {
		mb := int(v)
		m.SizeMB = &mb
	}
	var labels []string
	for ch := 0; ch < 16; ch++ {
		l, ok := readSensorString(read, filepath.Join(dir, "ch"+strconv.Itoa(ch)+"_dimm_label"))
		if !ok {
			break
		}
		if l != "" {
			labels = append(labels, l)
		}
	}
	m.Label = strings.Join(labels, ",")
	return m, true
}

func readSensorUint(read sensorReadFunc, path string) (uint64, bool) {
	v, ok := readSensorInt(read, path)
	if !ok || v < 0 {
		return 0, false
	}
	return uint64(v), true
}

// isIndexed reports whether name is prefix followed by decimal digits only.
func isIndexed(name, prefix string) bool {
	if !strings.HasPrefix(name, prefix) || len(name) == len(prefix) {
		return false
	}
	for _, c := range name[len(prefix):] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// noDataIfMissing wraps err with ErrNoData when it means "absent".
func noDataIfMissing(action string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w (%v)", action, ErrNoData, err)
	}
	return fmt.Errorf("%s: %w", action, err)
}
