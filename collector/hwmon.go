package collector

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// hwmon reader: walks <root>/sys/class/hwmon/hwmon* following the kernel's
// Documentation/hwmon/sysfs-interface.rst:
//
//	name               chip name ("coretemp", "nct6775", "nvme", "amdgpu", ...)
//	temp<N>_input      m°C      -> °C
//	in<N>_input        mV       -> V
//	fan<N>_input       RPM
//	power<N>_input     µW       -> W  (power<N>_average when there is no _input)
//	curr<N>_input      mA       -> A
//	energy<N>_input    µJ       -> J
//	<kind><N>_label    label ("Package id 0", "Composite", "+12V", "VCORE")
//	<kind><N>_min/_max/_crit             limits, same unit as the value
//	<kind><N>_alarm, _min_alarm, _max_alarm, _crit_alarm, _lcrit_alarm,
//	    _emergency_alarm, _cap_alarm      1 = alarm raised
//	<kind><N>_fault    1 = sensor broken (e.g. open thermal diode): value is junk
//	<kind><N>_enable   0 = channel disabled
//
// A channel whose value read fails (hwmon drivers return EIO, ENODATA, EAGAIN
// for absent or sleeping sensors), whose value does not parse, or whose _fault
// reads 1 is dropped from that sample. It is never reported as 0.
//
// Labels and limits are read once per scan (they are static); only the value,
// the alarm and the fault files are re-read per sample.

// hwmonKind is the unit conversion for one hwmon attribute family.
type hwmonKind struct {
	unit  string
	scale float64 // sysfs integer / scale = value in unit
}

var hwmonKinds = map[string]hwmonKind{
	"temp":   {"°C", 1e3},
	"in":     {"V", 1e3},
	"fan":    {"RPM", 1},
	"power":  {"W", 1e6},
	"curr":   {"A", 1e3},
	"energy": {"J", 1e6},
}

// hwmonKindOrder sorts channels in a stable, readable order.
var hwmonKindOrder = map[string]int{"temp": 0, "in": 1, "fan": 2, "power": 3, "curr": 4, "energy": 5}

var hwmonAlarmSuffixes = []string{"alarm", "min_alarm", "max_alarm", "crit_alarm", "lcrit_alarm", "emergency_alarm", "cap_alarm"}

// hwmonChannel is one hwmon sensor found by a scan.
type hwmonChannel struct {
	chip, device, kind, label, unit string
	index                           int
	scale                           float64
	input                           sensorFile
	alarms                          []sensorFile
	fault                           *sensorFile
	// Limits read at scan time. They are never written after the scan, so
	// every sample may point at them.
	min, max, crit *float64
}

// Package-level alarm values that samples point at, so a sample needs no
// allocation per alarm. Never assign through Sensor.Alarm.
var (
	sensorAlarmOn  = true
	sensorAlarmOff = false
)

// scanHwmon lists every readable channel under <root>/sys/class/hwmon.
// A missing class directory returns os.ErrNotExist (wrapped).
func scanHwmon(env Env, read sensorReadFunc) ([]hwmonChannel, error) {
	class := env.Sys("class", "hwmon")
	names, err := readDirNames(class)
	if err != nil {
		return nil, err
	}
	var devs []string
	for _, n := range names {
		if strings.HasPrefix(n, "hwmon") {
			devs = append(devs, n)
		}
	}
	sort.Slice(devs, func(i, j int) bool { return naturalLess(devs[i], devs[j]) })
	var out []hwmonChannel
	for _, dev := range devs {
		dir := filepath.Join(class, dev)
		chans := scanHwmonDir(dir, dev, read)
		if len(chans) == 0 {
			// Drivers from before Linux 3.x keep the attributes in device/.
			if legacy := filepath.Join(dir, "device"); sensorIsDir(legacy) {
				chans = scanHwmonDir(legacy, dev, read)
			}
		}
		out = append(out, chans...)
	}
	return out, nil
}

type hwmonAttrKey struct {
	kind  string
	index int
}

// scanHwmonDir scans one hwmonN directory.
func scanHwmonDir(dir, dev string, read sensorReadFunc) []hwmonChannel {
	names, err := readDirNames(dir)
	if err != nil {
		return nil
	}
	chip, _ := readSensorString(read, filepath.Join(dir, "name"))
	attrs := map[hwmonAttrKey]map[string]bool{}
	for _, n := range names {
		kind, index, suffix, ok := splitHwmonAttr(n)
		if !ok {
			continue
		}
		k := hwmonAttrKey{kind, index}
		if attrs[k] == nil {
			attrs[k] = map[string]bool{}
		}
		attrs[k][suffix] = true
	}
	var out []hwmonChannel
	for k, suffixes := range attrs {
		spec := hwmonKinds[k.kind]
		base := filepath.Join(dir, k.kind+strconv.Itoa(k.index)+"_")
		valueSuffix := ""
		switch {
		case suffixes["input"]:
			valueSuffix = "input"
		case k.kind == "power" && suffixes["average"]:
			valueSuffix = "average"
		default:
			continue
		}
		if suffixes["enable"] {
			if v, ok := readSensorInt(read, base+"enable"); ok && v == 0 {
				continue
			}
		}
		ch := hwmonChannel{
			chip: chip, device: dev, kind: k.kind, index: k.index,
			unit: spec.unit, scale: spec.scale,
			input: newSensorFile(base + valueSuffix),
		}
		if suffixes["label"] {
			ch.label, _ = readSensorString(read, base+"label")
		}
		limit := func(suffix string) *float64 {
			if !suffixes[suffix] {
				return nil
			}
			v, ok := readSensorInt(read, base+suffix)
			if !ok {
				return nil
			}
			f := float64(v) / spec.scale
			return &f
		}
		ch.min, ch.max, ch.crit = limit("min"), limit("max"), limit("crit")
		for _, s := range hwmonAlarmSuffixes {
			if suffixes[s] {
				ch.alarms = append(ch.alarms, newSensorFile(base+s))
			}
		}
		if suffixes["fault"] {
			f := newSensorFile(base + "fault")
			ch.fault = &f
		}
		out = append(out, ch)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].kind != out[j].kind {
			return hwmonKindOrder[out[i].kind] < hwmonKindOrder[out[j].kind]
		}
		return out[i].index < out[j].index
	})
	return out
}

// splitHwmonAttr splits "temp12_crit_alarm" into ("temp", 12, "crit_alarm").
// Only the kinds in hwmonKinds are accepted.
func splitHwmonAttr(name string) (kind string, index int, suffix string, ok bool) {
	i := 0
	for i < len(name) && name[i] >= 'a' && name[i] <= 'z' {
		i++
	}
	kind = name[:i]
	if _, known := hwmonKinds[kind]; !known {
		return "", 0, "", false
	}
	j := i
	for j < len(name) && name[j] >= '0' && name[j] <= '9' {
		j++
	}
	if j == i || j >= len(name) || name[j] != '_' || j-i > 6 {
		return "", 0, "", false
	}
	index, err := strconv.Atoi(name[i:j])
	if err != nil {
		return "", 0, "", false
	}
	return kind, index, name[j+1:], true
}

// sample reads the channel's current value. ok is false when the sensor must
// be dropped from this sample (unreadable, unparsable or faulted).
func (c *hwmonChannel) sample(read sensorReadFunc, buf []byte) (s Sensor, ok bool) {
	if c.fault != nil {
		if n, err := read(c.fault, buf); err == nil {
			if v, ok := parseSensorInt(buf[:n]); ok && v != 0 {
				return Sensor{}, false
			}
		}
	}
	n, err := read(&c.input, buf)
	if err != nil {
		return Sensor{}, false
	}
	v, ok := parseSensorInt(buf[:n])
	if !ok {
		return Sensor{}, false
	}
	s = Sensor{
		Chip: c.chip, Device: c.device, Kind: c.kind, Index: c.index, Label: c.label,
		Value: float64(v) / c.scale, Unit: c.unit,
		Min: c.min, Max: c.max, Crit: c.crit,
	}
	if len(c.alarms) > 0 {
		readable, raised := false, false
		for i := range c.alarms {
			n, err := read(&c.alarms[i], buf)
			if err != nil {
				continue
			}
			if a, ok := parseSensorInt(buf[:n]); ok {
				readable = true
				raised = raised || a != 0
			}
		}
		if readable {
			if raised {
				s.Alarm = &sensorAlarmOn
			} else {
				s.Alarm = &sensorAlarmOff
			}
		}
	}
	return s, true
}

// readDirNames lists a directory's entry names (unsorted).
func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

func sensorIsDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// naturalLess orders "hwmon2" before "hwmon10" and "mc2" before "mc10".
func naturalLess(a, b string) bool {
	pa, na := splitTrailingNumber(a)
	pb, nb := splitTrailingNumber(b)
	if pa != pb {
		return pa < pb
	}
	if na != nb {
		return na < nb
	}
	return a < b
}

func splitTrailingNumber(s string) (string, int) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	n, err := strconv.Atoi(s[i:])
	if err != nil {
		return s, -1
	}
	return s[:i], n
}
