package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeTree writes files (path relative to root -> content) under root.
// A content of "<dir>" makes a directory instead: reading it fails with
// EISDIR, which stands in for a hwmon attribute whose read fails.
func writeTree(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(root, p)
		if content == "<dir>" {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// serverSensorTree is a hand-built server-like sysfs: coretemp (package + 8
// cores), a Nuvoton Super-I/O (nct6775) with voltages, fans and temps, two
// NVMe controllers (values as QEMU's emulated NVMe reports them, see
// notes/lab.md), an ACPI power meter, a current/energy channel, three thermal
// zones and EDAC. 62 hwmon channels in total.
func serverSensorTree(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	f := map[string]string{}
	hw := func(dev, attr, v string) { f["sys/class/hwmon/"+dev+"/"+attr] = v + "\n" }

	hw("hwmon0", "name", "coretemp")
	hw("hwmon0", "temp1_label", "Package id 0")
	hw("hwmon0", "temp1_input", "45000")
	hw("hwmon0", "temp1_max", "84000")
	hw("hwmon0", "temp1_crit", "100000")
	hw("hwmon0", "temp1_crit_alarm", "0")
	for c := 0; c < 8; c++ {
		i := strconv.Itoa(c + 2)
		hw("hwmon0", "temp"+i+"_label", "Core "+strconv.Itoa(c))
		hw("hwmon0", "temp"+i+"_input", strconv.Itoa(40000+1000*c))
		hw("hwmon0", "temp"+i+"_max", "84000")
		hw("hwmon0", "temp"+i+"_crit", "100000")
		hw("hwmon0", "temp"+i+"_crit_alarm", "0")
	}

	hw("hwmon1", "name", "nct6775")
	volts := []struct{ label, mv, min, max string }{
		{"Vcore", "904", "600", "1550"},
		{"+12V", "12096", "10800", "13200"},
		{"AVCC", "3360", "2976", "3632"},
		{"+3.3V", "3344", "2976", "3632"},
		{"+5V", "5040", "4500", "5500"},
		{"3VSB", "3424", "2976", "3632"},
		{"Vbat", "3184", "2704", "3632"},
		{"VTT", "1048", "0", "0"},
		{"", "1200", "1080", "1320"}, // in8 without a label: nominal from limits
		{"P1V8", "1792", "", ""},
		{"", "1016", "", ""}, // in10: no label, no limits
		{"VDDQ", "1216", "", ""},
		{"5VSB", "5080", "4500", "5500"},
		{"+1.05V", "1056", "", ""},
		{"V12", "12000", "", ""},
	}
	for i, v := range volts {
		n := "in" + strconv.Itoa(i)
		hw("hwmon1", n+"_input", v.mv)
		if v.label != "" {
			hw("hwmon1", n+"_label", v.label)
		}
		if v.min != "" {
			hw("hwmon1", n+"_min", v.min)
			hw("hwmon1", n+"_max", v.max)
		}
		hw("hwmon1", n+"_alarm", "0")
	}
	hw("hwmon1", "in1_alarm", "1") // +12V alarm raised
	for i := 1; i <= 5; i++ {
		n := "fan" + strconv.Itoa(i)
		hw("hwmon1", n+"_input", strconv.Itoa(1000+100*i))
		hw("hwmon1", n+"_min", "300")
		hw("hwmon1", n+"_alarm", "0")
	}
	hw("hwmon1", "fan6_input", "0") // a fan header with nothing plugged in still reads
	for i := 1; i <= 6; i++ {
		n := "temp" + strconv.Itoa(i)
		hw("hwmon1", n+"_input", strconv.Itoa(30000+500*i))
		hw("hwmon1", n+"_label", []string{"SYSTIN", "CPUTIN", "AUXTIN0", "AUXTIN1", "AUXTIN2", "PECI Agent 0"}[i-1])
	}
	hw("hwmon1", "temp7_input", "-128000") // Super-I/O reports disconnected diodes this way
	hw("hwmon1", "temp7_label", "AUXTIN3")
	hw("hwmon1", "temp7_fault", "1") // ... and flags them as faulty: dropped
	hw("hwmon1", "temp8_input", "25000")
	hw("hwmon1", "temp8_enable", "0") // disabled channel: not listed
	hw("hwmon1", "intrusion0_alarm", "0")
	hw("hwmon1", "pwm1", "128")

	for i, dev := range []string{"hwmon2", "hwmon3"} {
		hw(dev, "name", "nvme")
		hw(dev, "temp1_label", "Composite")
		hw(dev, "temp1_input", strconv.Itoa(49850+i*1000))
		hw(dev, "temp1_max", "69850")
		hw(dev, "temp1_crit", "99850")
		hw(dev, "temp1_min", "-273150")
		hw(dev, "temp1_alarm", strconv.Itoa(i)) // hwmon3 has the alarm raised
		hw(dev, "temp2_label", "Sensor 1")
		hw(dev, "temp2_input", "41850")
		hw(dev, "temp3_label", "Sensor 2")
		f["sys/class/hwmon/"+dev+"/temp3_input"] = "<dir>" // unreadable (EISDIR): dropped
	}

	hw("hwmon4", "name", "power_meter")
	hw("hwmon4", "power1_average", "245000000")
	hw("hwmon4", "power1_average_interval", "1000")
	hw("hwmon4", "power1_cap", "750000000")

	hw("hwmon5", "name", "ina3221")
	hw("hwmon5", "curr1_input", "1500")
	hw("hwmon5", "curr1_label", "VDD_IN")
	hw("hwmon5", "curr1_crit", "4000")
	hw("hwmon5", "energy1_input", "123456789")
	hw("hwmon5", "in1_input", "garbage") // unparsable: dropped
	hw("hwmon5", "power1_input", "5250000")
	hw("hwmon5", "power1_average", "1") // _input wins over _average

	// hwmon10 sorts after hwmon5 (natural order).
	hw("hwmon10", "name", "acpitz")
	hw("hwmon10", "temp1_input", "27800")
	hw("hwmon10", "temp1_crit", "119000")

	f["sys/class/thermal/thermal_zone0/type"] = "acpitz\n"
	f["sys/class/thermal/thermal_zone0/temp"] = "27800\n"
	f["sys/class/thermal/thermal_zone1/type"] = "x86_pkg_temp\n"
	f["sys/class/thermal/thermal_zone1/temp"] = "45000\n"
	f["sys/class/thermal/thermal_zone2/type"] = "iwlwifi_1\n"
	f["sys/class/thermal/thermal_zone2/temp"] = "<dir>"
	f["sys/class/thermal/cooling_device0/type"] = "Processor\n"

	e := "sys/devices/system/edac/mc/"
	f[e+"mc0/mc_name"] = "Skylake Socket#0 IMC#0\n"
	f[e+"mc0/ce_count"] = "3\n"
	f[e+"mc0/ue_count"] = "0\n"
	f[e+"mc0/ce_noinfo_count"] = "1\n"
	f[e+"mc0/ue_noinfo_count"] = "0\n"
	f[e+"mc0/dimm0/dimm_label"] = "CPU_SrcID#0_MC#0_Chan#0_DIMM#0\n"
	f[e+"mc0/dimm0/dimm_location"] = "channel 0 slot 0 \n"
	f[e+"mc0/dimm0/size"] = "32768\n"
	f[e+"mc0/dimm0/dimm_ce_count"] = "2\n"
	f[e+"mc0/dimm0/dimm_ue_count"] = "0\n"
	f[e+"mc0/dimm1/dimm_label"] = "CPU_SrcID#0_MC#0_Chan#1_DIMM#0\n"
	f[e+"mc0/dimm1/size"] = "32768\n"
	f[e+"mc0/dimm1/dimm_ce_count"] = "0\n"
	f[e+"mc0/dimm1/dimm_ue_count"] = "0\n"
	f[e+"mc0/csrow0/ce_count"] = "99\n" // legacy view of the same: ignored when dimm* exist
	f[e+"mc0/csrow0/ue_count"] = "0\n"
	f[e+"mc1/mc_name"] = "i5000\n"
	f[e+"mc1/ce_count"] = "0\n"
	f[e+"mc1/ue_count"] = "1\n"
	f[e+"mc1/csrow0/ce_count"] = "0\n"
	f[e+"mc1/csrow0/ue_count"] = "1\n"
	f[e+"mc1/csrow0/size_mb"] = "4096\n"
	f[e+"mc1/csrow0/ch0_dimm_label"] = "DIMM_A1\n"
	f[e+"mc1/csrow0/ch1_dimm_label"] = "DIMM_B1\n"
	f[e+"mc2/mc_name"] = "broken\n"
	f[e+"mc2/ce_count"] = "0\n" // no ue_count: controller left out
	f[e+"power/control"] = "auto\n"
	writeTree(t, root, f)
	return root
}

func findSensor(s []Sensor, chip, dev, kind string, index int) (Sensor, bool) {
	for _, x := range s {
		if x.Chip == chip && x.Device == dev && x.Kind == kind && x.Index == index {
			return x, true
		}
	}
	return Sensor{}, false
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestReadSensorsServerTree(t *testing.T) {
	root := serverSensorTree(t)
	s, err := ReadSensors(context.Background(), Env{Root: root})
	if err != nil {
		t.Fatalf("ReadSensors: %v", err)
	}
	// 9 coretemp + 15 in + 6 fans + 6 temps (nct6775) + 2x2 nvme + 1 power
	// meter + curr + energy + power (ina3221) + 1 acpitz = 45 channels.
	if got := len(s.Hwmon); got != 45 {
		for _, x := range s.Hwmon {
			t.Log(x.ID(), x.Value)
		}
		t.Fatalf("hwmon channels = %d, want 45", got)
	}
	cases := []struct {
		chip, dev, kind string
		index           int
		label           string
		value           float64
		unit            string
	}{
		{"coretemp", "hwmon0", "temp", 1, "Package id 0", 45, "°C"},
		{"coretemp", "hwmon0", "temp", 9, "Core 7", 47, "°C"},
		{"nct6775", "hwmon1", "in", 1, "+12V", 12.096, "V"},
		{"nct6775", "hwmon1", "fan", 3, "", 1300, "RPM"},
		{"nct6775", "hwmon1", "fan", 6, "", 0, "RPM"},
		{"nvme", "hwmon2", "temp", 1, "Composite", 49.85, "°C"},
		{"power_meter", "hwmon4", "power", 1, "", 245, "W"},
		{"ina3221", "hwmon5", "curr", 1, "VDD_IN", 1.5, "A"},
		{"ina3221", "hwmon5", "energy", 1, "", 123.456789, "J"},
		{"ina3221", "hwmon5", "power", 1, "", 5.25, "W"},
		{"acpitz", "hwmon10", "temp", 1, "", 27.8, "°C"},
	}
	for _, c := range cases {
		got, ok := findSensor(s.Hwmon, c.chip, c.dev, c.kind, c.index)
		if !ok {
			t.Errorf("%s/%s/%s%d missing", c.chip, c.dev, c.kind, c.index)
			continue
		}
		if got.Label != c.label || !near(got.Value, c.value) || got.Unit != c.unit {
			t.Errorf("%s = label %q value %v unit %q, want %q %v %q", got.ID(), got.Label, got.Value, got.Unit, c.label, c.value, c.unit)
		}
	}
	// Dropped, never zero: unreadable (EISDIR), faulted, unparsable, disabled.
	for _, c := range []struct {
		chip, dev, kind string
		index           int
	}{{"nvme", "hwmon2", "temp", 3}, {"nvme", "hwmon3", "temp", 3}, {"nct6775", "hwmon1", "temp", 7}, {"ina3221", "hwmon5", "in", 1}, {"nct6775", "hwmon1", "temp", 8}} {
		if got, ok := findSensor(s.Hwmon, c.chip, c.dev, c.kind, c.index); ok {
			t.Errorf("%s should have been dropped, got %v", got.ID(), got.Value)
		}
	}
	// Limits and alarms.
	pkg, _ := findSensor(s.Hwmon, "coretemp", "hwmon0", "temp", 1)
	if pkg.Max == nil || *pkg.Max != 84 || pkg.Crit == nil || *pkg.Crit != 100 || pkg.Min != nil {
		t.Errorf("coretemp limits = %v %v %v", pkg.Min, pkg.Max, pkg.Crit)
	}
	if pkg.Alarm == nil || *pkg.Alarm {
		t.Errorf("coretemp crit_alarm 0 should be Alarm=false, got %v", pkg.Alarm)
	}
	v12, _ := findSensor(s.Hwmon, "nct6775", "hwmon1", "in", 1)
	if v12.Alarm == nil || !*v12.Alarm || v12.Min == nil || !near(*v12.Min, 10.8) {
		t.Errorf("+12V alarm/min = %v %v", v12.Alarm, v12.Min)
	}
	nv3, _ := findSensor(s.Hwmon, "nvme", "hwmon3", "temp", 1)
	if nv3.Alarm == nil || !*nv3.Alarm || nv3.Min == nil || !near(*nv3.Min, -273.15) {
		t.Errorf("nvme hwmon3 alarm/min = %v %v", nv3.Alarm, nv3.Min)
	}
	pm, _ := findSensor(s.Hwmon, "power_meter", "hwmon4", "power", 1)
	if pm.Alarm != nil {
		t.Errorf("power meter has no alarm files, Alarm = %v", *pm.Alarm)
	}
	// Order: by hwmon number (natural), then kind, then index.
	if s.Hwmon[0].ID() != "coretemp/hwmon0/temp1:Package id 0" || s.Hwmon[len(s.Hwmon)-1].Device != "hwmon10" {
		t.Errorf("order: first %s last %s", s.Hwmon[0].ID(), s.Hwmon[len(s.Hwmon)-1].ID())
	}

	// Thermal zones: the unreadable one is dropped, cooling devices ignored.
	if len(s.Thermal) != 2 || s.Thermal[1] != (ThermalZone{Name: "thermal_zone1", Type: "x86_pkg_temp", TempC: 45}) {
		t.Errorf("thermal = %+v", s.Thermal)
	}

	// EDAC: mc2 (no ue_count) left out; mc0 per dimm; mc1 from legacy csrow.
	if len(s.EDAC) != 2 {
		t.Fatalf("edac = %+v", s.EDAC)
	}
	mc0 := s.EDAC[0]
	if mc0.Name != "mc0" || mc0.Type != "Skylake Socket#0 IMC#0" || mc0.CE != 3 || mc0.UE != 0 || mc0.CENoInfo == nil || *mc0.CENoInfo != 1 || len(mc0.DIMMs) != 2 {
		t.Errorf("mc0 = %+v", mc0)
	}
	if d := mc0.DIMMs[0]; d.Label != "CPU_SrcID#0_MC#0_Chan#0_DIMM#0" || d.Location != "channel 0 slot 0" || d.SizeMB == nil || *d.SizeMB != 32768 || d.CE != 2 {
		t.Errorf("mc0/dimm0 = %+v", d)
	}
	mc1 := s.EDAC[1]
	if len(mc1.DIMMs) != 1 || mc1.DIMMs[0].Label != "DIMM_A1,DIMM_B1" || mc1.DIMMs[0].UE != 1 || mc1.CENoInfo != nil {
		t.Errorf("mc1 = %+v", mc1)
	}
}

func TestReadSensorsInjectedReadErrors(t *testing.T) {
	root := serverSensorTree(t)
	// EIO and ENODATA cannot be produced with plain files: inject them.
	fail := map[string]error{
		"hwmon0/temp2_input":      syscall.EIO,
		"hwmon1/in0_input":        syscall.ENODATA,
		"hwmon1/in1_alarm":        syscall.EIO, // alarm unreadable: Alarm nil, value kept
		"thermal_zone0/temp":      syscall.EAGAIN,
		"mc0/dimm1/dimm_ce_count": syscall.EIO,
	}
	read := func(f *sensorFile, buf []byte) (int, error) {
		for suffix, err := range fail {
			if strings.HasSuffix(f.path, suffix) {
				return 0, err
			}
		}
		return readSensorFileRaw(f, buf)
	}
	s, err := readSensors(context.Background(), Env{Root: root}, read)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := findSensor(s.Hwmon, "coretemp", "hwmon0", "temp", 2); ok {
		t.Error("EIO sensor reported")
	}
	if _, ok := findSensor(s.Hwmon, "nct6775", "hwmon1", "in", 0); ok {
		t.Error("ENODATA sensor reported")
	}
	v12, ok := findSensor(s.Hwmon, "nct6775", "hwmon1", "in", 1)
	if !ok || v12.Alarm != nil {
		t.Errorf("+12V with unreadable alarm: ok=%v alarm=%v", ok, v12.Alarm)
	}
	if len(s.Thermal) != 1 || s.Thermal[0].Name != "thermal_zone1" {
		t.Errorf("thermal = %+v", s.Thermal)
	}
	if len(s.EDAC[0].DIMMs) != 1 || s.EDAC[0].DIMMs[0].Name != "dimm0" {
		t.Errorf("dimm with unreadable counter must be left out: %+v", s.EDAC[0].DIMMs)
	}
}

func TestReadSensorsPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("SKIPPED: root reads mode-000 files; the injected-EIO test covers unreadable values")
	}
	root := serverSensorTree(t)
	p := filepath.Join(root, "sys/class/hwmon/hwmon0/temp1_input")
	if err := os.Chmod(p, 0); err != nil {
		t.Fatal(err)
	}
	s, err := ReadSensors(context.Background(), Env{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := findSensor(s.Hwmon, "coretemp", "hwmon0", "temp", 1); ok {
		t.Error("permission-denied sensor reported")
	}
}

func TestReadSensorsNoData(t *testing.T) {
	s, err := ReadSensors(context.Background(), Env{Root: t.TempDir()})
	if !errors.Is(err, ErrNoData) {
		t.Fatalf("err = %v, want ErrNoData", err)
	}
	if s == nil || s.Hwmon == nil || s.Thermal == nil || s.EDAC == nil {
		t.Fatalf("result must be non-nil with empty slices: %+v", s)
	}
	// Only thermal present (the QEMU lab: cooling_device0 only): not an error.
	root := t.TempDir()
	writeTree(t, root, map[string]string{"sys/class/thermal/cooling_device0/type": "Processor\n"})
	s, err = ReadSensors(context.Background(), Env{Root: root})
	if err != nil || len(s.Thermal) != 0 {
		t.Fatalf("thermal-only root: %+v, %v", s, err)
	}
}

func TestReadSensorsCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadSensors(ctx, Env{Root: serverSensorTree(t)}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestReadSensorsLegacyDeviceDir(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"sys/class/hwmon/hwmon0/device/name":        "w83627ehf\n",
		"sys/class/hwmon/hwmon0/device/temp1_input": "38000\n",
		// acpi_power_meter (the usual server power reading) registers its
		// attributes on the ACPI device, i.e. under hwmonN/device/.
		"sys/class/hwmon/hwmon1/device/name":                    "power_meter\n",
		"sys/class/hwmon/hwmon1/device/power1_average":          "312000000\n",
		"sys/class/hwmon/hwmon1/device/power1_average_interval": "1000\n",
		"sys/class/hwmon/hwmon1/device/power1_model_number":     "DELL\n",
	})
	s, err := ReadSensors(context.Background(), Env{Root: root})
	if err != nil || len(s.Hwmon) != 2 || s.Hwmon[0].Chip != "w83627ehf" || s.Hwmon[0].Value != 38 {
		t.Fatalf("%+v %v", s, err)
	}
	if p := s.Powers(); len(p) != 1 || p[0].Chip != "power_meter" || p[0].Value != 312 || p[0].Unit != "W" {
		t.Fatalf("power meter = %+v", p)
	}
}

func TestSensorSamplerReuseAndRescan(t *testing.T) {
	root := serverSensorTree(t)
	now := time.Unix(1000, 0)
	s := newSensorSampler(Env{Root: root}, readSensorFileRaw)
	s.now = func() time.Time { return now }
	var dst Sensors
	if err := s.SampleInto(context.Background(), &dst); err != nil {
		t.Fatal(err)
	}
	if len(dst.Hwmon) != 45 || dst.EDAC != nil {
		t.Fatalf("first sample: %d hwmon, edac %v", len(dst.Hwmon), dst.EDAC)
	}
	// A value change is seen on the next sample without a rescan.
	writeTree(t, root, map[string]string{"sys/class/hwmon/hwmon0/temp1_input": "91000\n"})
	// A new hwmon device is not seen until the layout is rescanned.
	writeTree(t, root, map[string]string{
		"sys/class/hwmon/hwmon6/name":        "k10temp\n",
		"sys/class/hwmon/hwmon6/temp1_input": "55000\n",
	})
	if err := s.SampleInto(context.Background(), &dst); err != nil {
		t.Fatal(err)
	}
	if pkg, _ := findSensor(dst.Hwmon, "coretemp", "hwmon0", "temp", 1); pkg.Value != 91 {
		t.Errorf("value not re-read: %v", pkg.Value)
	}
	if _, ok := findSensor(dst.Hwmon, "k10temp", "hwmon6", "temp", 1); ok {
		t.Error("new device seen before rescan")
	}
	now = now.Add(DefaultSensorRescan)
	if err := s.SampleInto(context.Background(), &dst); err != nil {
		t.Fatal(err)
	}
	if _, ok := findSensor(dst.Hwmon, "k10temp", "hwmon6", "temp", 1); !ok {
		t.Error("new device not seen after RescanEvery")
	}
	// A sensor that starts failing drops out of the next sample (no rescan).
	p := filepath.Join(root, "sys/class/hwmon/hwmon6/temp1_input")
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := s.SampleInto(context.Background(), &dst); err != nil {
		t.Fatal(err)
	}
	if _, ok := findSensor(dst.Hwmon, "k10temp", "hwmon6", "temp", 1); ok {
		t.Error("vanished sensor still reported")
	}
}

func TestSensorSamplerSteadyStateAllocs(t *testing.T) {
	s := NewSensorSampler(Env{Root: serverSensorTree(t)})
	var dst Sensors
	ctx := context.Background()
	if err := s.SampleInto(ctx, &dst); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(20, func() {
		if err := s.SampleInto(ctx, &dst); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("SampleInto allocates %.1f times per sample, want 0", allocs)
	}
}

func TestParseSensorInt(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"49850\n", 49850, true},
		{"-273150\n", -273150, true},
		{"+5", 5, true},
		{" 7 \x00", 7, true},
		{"0", 0, true},
		{"9223372036854775807", math.MaxInt64, true},
		{"-9223372036854775808", math.MinInt64, true},
		{"9223372036854775808", 0, false},
		{"", 0, false},
		{"-", 0, false},
		{"12a", 0, false},
		{"1 2", 0, false},
		{"N/A\n", 0, false},
	}
	for _, c := range cases {
		got, ok := parseSensorInt([]byte(c.in))
		if got != c.want || ok != c.ok {
			t.Errorf("parseSensorInt(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func FuzzParseSensorInt(f *testing.F) {
	for _, s := range []string{"49850\n", "-1", "+0", "", "x", "99999999999999999999", " 3\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := parseSensorInt(b)
		s := strings.Trim(string(b), " \n\t\r\x00")
		want, err := strconv.ParseInt(s, 10, 64)
		// strconv accepts "+"/"-" signs and digits only, like sysfs; it also
		// accepts underscores only with base 0, so the two must agree.
		if ok != (err == nil) || (ok && got != want) {
			t.Fatalf("parseSensorInt(%q) = %d, %v; strconv = %d, %v", b, got, ok, want, err)
		}
	})
}

func FuzzSplitHwmonAttr(f *testing.F) {
	for _, s := range []string{"temp1_input", "in0_label", "fan12_min_alarm", "power1_average", "pwm1", "temp_input", "temp99999999999_x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		kind, index, suffix, ok := splitHwmonAttr(name)
		if !ok {
			return
		}
		if _, known := hwmonKinds[kind]; !known || index < 0 {
			t.Fatalf("%q -> %q %d", name, kind, index)
		}
		if kind+strconv.Itoa(index)+"_"+suffix != name && !strings.HasPrefix(name[len(kind):], "0") {
			t.Fatalf("%q does not round-trip: %q %d %q", name, kind, index, suffix)
		}
	})
}

func TestGuessNominalVoltage(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	cases := []struct {
		label    string
		min, max *float64
		want     float64
		source   string
	}{
		{"+12V", nil, nil, 12, "label"},
		{"12V", nil, nil, 12, "label"},
		{"P12V", nil, nil, 12, "label"},
		{"+3.3V", nil, nil, 3.3, "label"},
		{"3.3V", nil, nil, 3.3, "label"},
		{"+3V", nil, nil, 3.3, "label"},
		{"P3V3", nil, nil, 3.3, "label"},
		{"P1V8", nil, nil, 1.8, "label"},
		{"1V05", nil, nil, 1.05, "label"},
		{"+5V", nil, nil, 5, "label"},
		{"5VSB", nil, nil, 5, "label"},
		{"3VSB", nil, nil, 3.3, "label"},
		{"AVCC", nil, nil, 3.3, "label"},
		{"Vbat", nil, nil, 3, "label"},
		{"V12", nil, nil, 12, "label"},
		{"+1.05V", nil, nil, 1.05, "label"},
		{"VCORE", f(0.6), f(1.55), 1.075, "limits"},
		{"", f(1.08), f(1.32), 1.2, "limits"},
		{"in3", nil, nil, 0, ""},
		{"VDDQ", nil, nil, 0, ""},
		{"VTT", f(0), f(0), 0, ""},
		{"", f(2), f(1), 0, ""},
		{"99V", nil, nil, 0, ""},
	}
	for _, c := range cases {
		got, src, ok := GuessNominalVoltage(c.label, c.min, c.max)
		if ok != (c.source != "") || !near(got, c.want) || src != c.source {
			t.Errorf("GuessNominalVoltage(%q) = %v %q %v, want %v %q", c.label, got, src, ok, c.want, c.source)
		}
	}
}

func TestSensorHelpers(t *testing.T) {
	s, err := ReadSensors(context.Background(), Env{Root: serverSensorTree(t)})
	if err != nil {
		t.Fatal(err)
	}
	temps := s.Temperatures()
	// 9 coretemp + 6 nct + 2x2 nvme + acpitz + 2 zones.
	if len(temps) != 22 {
		t.Errorf("temperatures = %d", len(temps))
	}
	hot, ok := s.MaxTemperature()
	if !ok || hot.C != 50.85 || hot.ID != "nvme/hwmon3/temp1:Composite" || hot.Alarm == nil || !*hot.Alarm {
		t.Errorf("max temperature = %+v", hot)
	}
	if z := temps[len(temps)-1]; z.ID != "thermal/thermal_zone1:x86_pkg_temp" || z.Source != "thermal" {
		t.Errorf("last temperature = %+v", z)
	}
	volts := s.Voltages()
	if len(volts) != 15 {
		t.Fatalf("voltages = %d", len(volts))
	}
	byLabel := map[string]Voltage{}
	for _, v := range volts {
		byLabel[v.Label+"/"+strconv.Itoa(v.Index)] = v
	}
	v12 := byLabel["+12V/1"]
	if v12.Nominal == nil || *v12.Nominal != 12 || v12.NominalSource != "label" {
		t.Fatalf("+12V = %+v", v12)
	}
	if d, ok := v12.Deviation(); !ok || !near(d, 0.008) {
		t.Errorf("+12V deviation = %v %v", d, ok)
	}
	if v := byLabel["/10"]; v.Nominal != nil {
		t.Errorf("in10 without label or limits got nominal %v", *v.Nominal)
	}
	if v := byLabel["/8"]; v.Nominal == nil || *v.Nominal != 1.2 || v.NominalSource != "limits" {
		t.Errorf("in8 = %+v", v)
	}
	if p := s.Powers(); len(p) != 2 || p[0].Value != 245 {
		t.Errorf("powers = %+v", p)
	}
	if ce, ue := s.EDACTotals(); ce != 3 || ue != 1 {
		t.Errorf("edac totals = %d %d", ce, ue)
	}
	counts := s.EDACCounts()
	keys := []string{}
	for _, c := range counts {
		keys = append(keys, fmt.Sprintf("%s=%d/%d", c.Key, c.CE, c.UE))
	}
	if got := strings.Join(keys, " "); got != "mc0/dimm0=2/0 mc0/dimm1=0/0 mc0/noinfo=1/0 mc1/csrow0=0/1" {
		t.Errorf("edac counts = %s", got)
	}
}

func TestEDACDelta(t *testing.T) {
	before := &Sensors{EDAC: []EDACController{
		{Name: "mc0", CE: 2, DIMMs: []EDACMemory{{Name: "dimm0", Label: "A1", CE: 2}, {Name: "dimm1", Label: "A2"}, {Name: "dimm2", Label: "A3", CE: 5}}},
		{Name: "mc1", CE: 7, UE: 0},
	}}
	after := &Sensors{EDAC: []EDACController{
		{Name: "mc0", CE: 9, DIMMs: []EDACMemory{{Name: "dimm0", Label: "A1", CE: 2}, {Name: "dimm1", Label: "A2", CE: 6, UE: 1}, {Name: "dimm2", Label: "A3", CE: 1}}},
		{Name: "mc2", CE: 0},
	}}
	d := EDACDelta(before, after)
	var got []string
	for _, c := range d {
		got = append(got, fmt.Sprintf("%s ce+%d ue+%d reset=%v app=%v van=%v", c.Key, c.NewCE(), c.NewUE(), c.Reset(), c.Appeared, c.Vanished))
	}
	want := []string{
		"mc0/dimm1 ce+6 ue+1 reset=false app=false van=false",
		"mc0/dimm2 ce+0 ue+0 reset=true app=false van=false",
		"mc1/total ce+0 ue+0 reset=false app=false van=true",
		"mc2/total ce+0 ue+0 reset=false app=true van=false",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("EDACDelta:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(EDACDelta(after, after)) != 0 {
		t.Error("identical readings must give no changes")
	}
}

func BenchmarkReadSensors(b *testing.B) {
	env := Env{Root: serverSensorTree(b), Log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadSensors(ctx, env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadSensorsFresh(b *testing.B) {
	env := Env{Root: serverSensorTree(b), Log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := readSensors(ctx, env, readSensorFileRaw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSensorSamplerSampleInto(b *testing.B) {
	s := NewSensorSampler(Env{Root: serverSensorTree(b)})
	ctx := context.Background()
	var dst Sensors
	b.ReportAllocs()
	for b.Loop() {
		if err := s.SampleInto(ctx, &dst); err != nil {
			b.Fatal(err)
		}
	}
}
