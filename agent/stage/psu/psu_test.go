package psu

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shakedown/shakedown/agent/internal/stagefake"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/testutil"
	"github.com/shakedown/shakedown/collector/tool"
)

// read is stagefake.Testdata under a short name.
var read = stagefake.Testdata

func TestParseSDRAndClassify(t *testing.T) {
	rows, err := ParseSDR(bytes.NewReader(read(t, "hpe-elist-psu-failed.txt")))
	if err != nil || len(rows) != 5 {
		t.Fatalf("rows %+v, %v", rows, err)
	}
	if rows[3].Name != "Power Supply 2" || *rows[3].Value != 95 || rows[3].Unit != "Watts" {
		t.Errorf("row 3 = %+v", rows[3])
	}
	want := map[string]string{"VRM 1": "", "Power Supply 1": "failed", "Power Supply 2": "", "Power Supplies": "redundancy"}
	for _, r := range rows {
		if w, ok := want[r.Name]; ok {
			if k, _ := PSUProblem(r); k != w {
				t.Errorf("%s classified %q, want %q", r.Name, k, w)
			}
		}
	}
	for file, exp := range map[string]map[string]string{
		"dell-psu-redundant.txt":       {"PS1 Status": "", "PS2 Status": "", "Pwr Unit Stat": "", "Power Redundancy": ""},
		"dell-psu-redundancy-lost.txt": {"PS1 Status": "", "PS2 Status": "failed", "PS Redundancy": "redundancy"},
	} {
		rows, err := ParseSDR(bytes.NewReader(read(t, file)))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if k, _ := PSUProblem(r); k != exp[r.Name] {
				t.Errorf("%s: %s classified %q, want %q", file, r.Name, k, exp[r.Name])
			}
		}
	}
	for _, r := range []SDRRow{
		{Name: "PS2 Status", Status: "ns", Reading: "No Reading"},
		{Name: "PSU2", Status: "ok", Reading: "Device Absent"},
	} {
		if k, _ := PSUProblem(r); k != "absent" {
			t.Errorf("%+v classified %q, want absent", r, k)
		}
	}
	v, _ := ParseSDR(bytes.NewReader(read(t, "derived-board-voltage.txt")))
	if len(v) != 6 || *v[1].Value != 5.04 || v[5].Value != nil {
		t.Errorf("voltages %+v", v)
	}
	if _, err := ParseSDR(strings.NewReader("Could not open device at /dev/ipmi0\n")); err == nil {
		t.Error("no rows accepted")
	}
}

func FuzzParseSDR(f *testing.F) {
	for _, n := range []string{"hpe-elist-psu-failed.txt", "dell-voltage.txt", "derived-board-voltage.txt"} {
		f.Add(read(f, n))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := ParseSDR(bytes.NewReader(b))
		if err == nil && len(rows) == 0 {
			t.Fatal("no rows, no error")
		}
		for _, r := range rows {
			PSUProblem(r)
		}
	})
}

// boardTree: a Super I/O chip with labelled rails, a limits-only VCORE, the
// CMOS battery, and an ACPI power meter.
func boardTree(t *testing.T) string {
	root := t.TempDir()
	d := "sys/class/hwmon/hwmon0/"
	p := "sys/class/hwmon/hwmon1/"
	stagefake.WriteTree(t, root, map[string]string{
		d + "name":      "nct6775\n",
		d + "in0_input": "12000\n", d + "in0_label": "+12V\n",
		d + "in1_input": "3312\n", d + "in1_label": "3VSB\n",
		d + "in2_input": "1200\n", d + "in2_label": "VCORE\n", d + "in2_min": "1000\n", d + "in2_max": "1500\n",
		d + "in3_input": "3050\n", d + "in3_label": "Vbat\n",
		p + "name": "power_meter\n", p + "power1_average": "150000000\n",
	})
	return root
}

func setFile(t *testing.T, root, rel, v string) {
	if err := os.WriteFile(filepath.Join(root, rel), []byte(v), 0o644); err != nil {
		t.Fatal(err)
	}
}

// loadFake answers stress-ng with the recorded burst (its --yaml report
// copied to the path asked for), calling during() while it "runs".
func loadFake(during func()) *tool.Fake {
	return loadFakeReport(during, "stress-ng-cpu1-sock1.yaml")
}

func loadFakeReport(during func(), report string) *tool.Fake {
	return (&tool.Fake{}).Add(tool.Rule{Tool: "stress-ng", Func: func(ctx context.Context, c tool.Cmd) (tool.Output, error) {
		if during != nil {
			during()
		}
		if i := slices.Index(c.Args, "--yaml"); i >= 0 && report != "" {
			b, err := os.ReadFile(filepath.Join("testdata", report))
			if err != nil {
				return tool.Output{}, err
			}
			if err := os.WriteFile(c.Args[i+1], b, 0o644); err != nil {
				return tool.Output{}, err
			}
		}
		time.Sleep(40 * time.Millisecond)
		log, _ := os.ReadFile(filepath.Join("testdata", "stress-ng-cpu1-sock1.log"))
		return tool.Output{Stderr: log}, nil
	}})
}

func TestRunLoadNotConfirmed(t *testing.T) {
	res := run(t, boardTree(t), loadFakeReport(nil, ""), nil)
	if res.Status != stage.Warn || !slices.Equal(codes(res), []string{"LoadIncomplete"}) || !strings.Contains(res.Message, "no --yaml report") {
		t.Errorf("got %s %v: %s", res.Status, codes(res), res.Message)
	}
}

func run(t *testing.T, root string, fake *tool.Fake, inv *collector.Inventory) stage.Result {
	t.Helper()
	s := &Stage{SampleInterval: 5 * time.Millisecond, Baseline: 2, NumCPU: func() int { return 4 }}
	p := stagefake.DefaultParams(s, "quick")
	env, sink := stagefake.Env(t, Name, root, fake, p)
	if inv != nil {
		_ = sink.PutFact("inventory", inv)
	}
	res, err := s.Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func codes(r stage.Result) []string {
	var c []string
	for _, f := range r.Findings {
		c = append(c, f.Code)
	}
	return c
}

func TestRunHwmon(t *testing.T) {
	cases := []struct {
		name   string
		during func(t *testing.T, root string)
		status stage.Status
		codes  []string
		in     string
	}{
		{name: "steady rails", status: stage.Pass, in: "4 rails judged"},
		{name: "12 V sags under load", during: func(t *testing.T, root string) { setFile(t, root, "sys/class/hwmon/hwmon0/in0_input", "11300\n") },
			status: stage.Fail, codes: []string{"VoltageDip"}, in: "nct6775/hwmon0/in0:+12V dipped to 11.300 V, 5.8% below its nominal 12 V (limit 5%) (idle 12.000 V)"},
		{name: "4 percent is within the limit", during: func(t *testing.T, root string) { setFile(t, root, "sys/class/hwmon/hwmon0/in0_input", "11520\n") },
			status: stage.Pass},
		{name: "VCORE under its hwmon minimum", during: func(t *testing.T, root string) { setFile(t, root, "sys/class/hwmon/hwmon0/in2_input", "950\n") },
			status: stage.Fail, codes: []string{"VoltageBelowMin"}},
		{name: "weak CMOS battery is a warning", during: func(t *testing.T, root string) { setFile(t, root, "sys/class/hwmon/hwmon0/in3_input", "2600\n") },
			status: stage.Warn, codes: []string{"CMOSBatteryLow"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := boardTree(t)
			var during func()
			if c.during != nil {
				during = func() { c.during(t, root) }
			}
			res := run(t, root, loadFake(during), nil)
			if res.Status != c.status || !slices.Equal(codes(res), c.codes) || !strings.Contains(res.Message, c.in) {
				t.Errorf("got %s %v: %s", res.Status, codes(res), res.Message)
			}
			var loadRows, envRows int
			for _, m := range res.Measurements {
				if m.Kind != "psu" {
					t.Errorf("measurement kind %q", m.Kind)
				}
				if m.Name == "voltage_load" {
					loadRows++
				}
				if m.Subject == "power_meter/hwmon1/power1" && m.Name == "power_max" && m.Value != 150 {
					t.Errorf("power envelope %+v", m)
				}
				if strings.HasSuffix(m.Name, "_min") || strings.HasSuffix(m.Name, "_max") {
					envRows++
				}
			}
			if loadRows < 4 || envRows != 10 {
				t.Errorf("%d load samples, %d envelope rows", loadRows, envRows)
			}
		})
	}
}

func TestRunNoTelemetry(t *testing.T) {
	res := run(t, t.TempDir(), loadFake(nil), nil)
	if res.Status != stage.Skip || res.Reason != "no_telemetry" || !strings.Contains(res.Message, "no PSU telemetry exposed") {
		t.Errorf("got %+v", res)
	}
	// Power readings only: recorded, but nothing to judge: skip, not pass.
	root := t.TempDir()
	stagefake.WriteTree(t, root, map[string]string{"sys/class/hwmon/hwmon0/name": "power_meter\n", "sys/class/hwmon/hwmon0/power1_average": "90000000\n"})
	res = run(t, root, loadFake(nil), nil)
	if res.Status != stage.Skip || len(res.Measurements) == 0 {
		t.Errorf("power only: %s, %d rows: %s", res.Status, len(res.Measurements), res.Message)
	}
}

func TestRunIPMI(t *testing.T) {
	cases := []struct {
		name     string
		psu      string
		volt     string
		status   stage.Status
		codes    []string
		wantText string
	}{
		{name: "redundant supplies, good rails", psu: "dell-psu-redundant.txt", volt: "derived-board-voltage.txt", status: stage.Pass},
		{name: "HPE supply failed", psu: "hpe-elist-psu-failed.txt", volt: "dell-voltage.txt", status: stage.Fail,
			codes: []string{"PSUFailed", "PSURedundancyLost"}, wantText: "Power Supply 1: 0 Watts, Presence detected, Failure detected"},
		{name: "Dell redundancy lost", psu: "dell-psu-redundancy-lost.txt", volt: "dell-voltage.txt", status: stage.Fail,
			codes: []string{"PSUFailed", "PSURedundancyLost"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			stagefake.WriteTree(t, root, map[string]string{"dev/ipmi0": ""})
			fake := loadFake(nil)
			fake.Add(tool.Rule{Tool: "ipmitool", Match: tool.ArgsContain("sdr", "type", "Power Supply"), Stdout: string(read(t, c.psu))})
			fake.Add(tool.Rule{Tool: "ipmitool", Match: tool.ArgsContain("sdr", "type", "Voltage"), Stdout: string(read(t, c.volt))})
			res := run(t, root, fake, nil)
			if res.Status != c.status || !slices.Equal(codes(res), c.codes) || !strings.Contains(res.Message, c.wantText) {
				t.Errorf("got %s %v: %s", res.Status, codes(res), res.Message)
			}
		})
	}
	// A 12 V rail the BMC reads low.
	root := t.TempDir()
	stagefake.WriteTree(t, root, map[string]string{"dev/ipmi0": ""})
	fake := loadFake(nil)
	fake.Add(tool.Rule{Tool: "ipmitool", Match: tool.ArgsContain("Power Supply"), Stdout: string(read(t, "dell-psu-redundant.txt"))})
	fake.Add(tool.Rule{Tool: "ipmitool", Match: tool.ArgsContain("Voltage"), Stdout: "12V | 30h | ok | 7.17 | 11.20 Volts\n"})
	res := run(t, root, fake, nil)
	if res.Status != stage.Fail || !slices.Equal(codes(res), []string{"VoltageDip"}) {
		t.Errorf("BMC 12 V at 11.2: %s %v: %s", res.Status, codes(res), res.Message)
	}
}

func TestDiskReadsAreReadOnly(t *testing.T) {
	root := boardTree(t)
	fake := loadFake(nil)
	fake.Add(tool.Rule{Tool: "fio", Stdout: "{}"})
	inv := &collector.Inventory{Disks: []collector.Disk{{Name: "sda"}, {Name: "nvme0n1"}}}
	res := run(t, root, fake, inv)
	var fio []tool.Cmd
	for _, c := range fake.Calls {
		if c.Tool == "fio" {
			fio = append(fio, c)
		}
	}
	if len(fio) != 2 || res.Status != stage.Pass {
		t.Fatalf("%d fio runs, %s: %s", len(fio), res.Status, res.Message)
	}
	for _, c := range fio {
		if !slices.Contains(c.Args, "--readonly") || !slices.Contains(c.Args, "--rw=read") {
			t.Errorf("fio not read-only: %v", c.Args)
		}
	}
	for _, c := range fake.Calls {
		a := strings.Join(c.Args, " ")
		if c.Tool == "stress-ng" && (!strings.HasPrefix(a, "--cpu 4 -t 20s --metrics --yaml ") || !strings.HasSuffix(a, " --sock 2")) {
			t.Errorf("stress-ng args %v", c.Args)
		}
	}
}

// TestRealLoadBurst runs the real stress-ng CPU + loopback-socket burst for
// 2 s, with the sensors read from a fixture tree (this machine has no hwmon).
func TestRealLoadBurst(t *testing.T) {
	testutil.RequireTools(t, "stress-ng")
	s := &Stage{Baseline: 1, NumCPU: func() int { return 1 }}
	p := stagefake.DefaultParams(s, "quick")
	p[ParamDuration], p[ParamDiskReads], p[ParamSocketLoad] = "2s", "false", "1"
	env, _ := stagefake.Env(t, Name, boardTree(t), &tool.Exec{}, p)
	start := time.Now()
	res, err := s.Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s in %s: %s", res.Status, time.Since(start).Round(time.Millisecond), res.Message)
	if res.Status != stage.Pass || len(res.Artifacts) == 0 || time.Since(start) < 2*time.Second {
		t.Errorf("real burst: %s %v, %d artifacts", res.Status, codes(res), len(res.Artifacts))
	}
	// On this machine the real root has no PSU telemetry: skip, never pass.
	env, _ = stagefake.Env(t, Name, "/", &tool.Exec{}, p)
	if res, err := s.Run(context.Background(), env); err != nil || (res.Status == stage.Pass && len(res.Measurements) == 0) {
		t.Errorf("live root: %s, %v", res.Status, err)
	}
}
