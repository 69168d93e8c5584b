package collector

import (
	"context"
	"path/filepath"
	"sort"
	"strings"
)

// Thermal zones: <root>/sys/class/thermal/thermal_zone<N>/{type,temp}, the
// kernel's generic thermal framework (Documentation/driver-api/thermal/
// sysfs-api.rst): "type" names the zone ("x86_pkg_temp", "acpitz",
// "cpu-thermal"), "temp" is in m°C. A zone whose temp cannot be read (some
// drivers return EINVAL or ENODATA while the device sleeps) is dropped from
// that sample, never reported as 0. cooling_device<N> entries are ignored.

// thermalZoneFile is one zone found by a scan.
type thermalZoneFile struct {
	name, typ string
	temp      sensorFile
}

// scanThermal lists the zones under <root>/sys/class/thermal.
func scanThermal(env Env, read sensorReadFunc) ([]thermalZoneFile, error) {
	class := env.Sys("class", "thermal")
	names, err := readDirNames(class)
	if err != nil {
		return nil, err
	}
	sort.Slice(names, func(i, j int) bool { return naturalLess(names[i], names[j]) })
	var out []thermalZoneFile
	for _, n := range names {
		if !strings.HasPrefix(n, "thermal_zone") {
			continue
		}
		dir := filepath.Join(class, n)
		typ, _ := readSensorString(read, filepath.Join(dir, "type"))
		out = append(out, thermalZoneFile{name: n, typ: typ, temp: newSensorFile(filepath.Join(dir, "temp"))})
	}
	return out, nil
}

// sample reads the zone temperature; ok is false when it must be dropped.
func (z *thermalZoneFile) sample(read sensorReadFunc, buf []byte) (ThermalZone, bool) {
	n, err := read(&z.temp, buf)
	if err != nil {
		return ThermalZone{}, false
	}
	v, ok := parseSensorInt(buf[:n])
	if !ok {
		return ThermalZone{}, false
	}
	return ThermalZone{Name: z.name, Type: z.typ, TempC: float64(v) / 1e3}, true
}

// ReadThermalZones reads every readable thermal zone once. A missing
// /sys/class/thermal returns ErrNoData (wrapped).
func ReadThermalZones(ctx context.Context, env Env) ([]ThermalZone, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	zones, err := scanThermal(env, readSensorFileRaw)
	if err != nil {
		return nil, noDataIfMissing("read thermal zones", err)
	}
	var buf [sensorBufSize]byte
	out := make([]ThermalZone, 0, len(zones))
	for i := range zones {
		if z, ok := zones[i].sample(readSensorFileRaw, buf[:]); ok {
			out = append(out, z)
		}
	}
	return out, nil
}
