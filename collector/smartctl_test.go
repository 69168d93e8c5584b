package collector

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shakedown/shakedown/collector/testutil"
	"github.com/shakedown/shakedown/collector/tool"
)

func smartctlFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "smartctl", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var u64, hasString = testutil.U64, testutil.HasString

func TestParseSmartctlFixtures(t *testing.T) {
	type want struct {
		err       error // errors.Is target; nil = success
		errText   string
		protocol  string
		health    SmartHealth
		basis     string
		model     string
		tempC     float64
		poh       any
		reasons   []string // substrings that must appear in HealthReasons
		warnings  []string // substrings that must appear in Warnings
		noWarning []string // substrings that must not appear
		check     func(t *testing.T, r *SmartReport)
	}
	cases := []struct {
		file string
		exit int
		want want
	}{
		{"nvme-samsung-970-evo-plus-healthy.json", -1, want{
			protocol: "nvme", health: SmartPassed, basis: SmartBasisDevice, model: "Samsung SSD 970 EVO Plus 250GB", tempC: 35, poh: uint64(3149),
			warnings: []string{"22 error information log entries"}, noWarning: []string{"media"},
			check: func(t *testing.T, r *SmartReport) {
				n := r.NVMe
				if n == nil || n.AvailableSparePct != 100 || n.AvailableSpareThresholdPct != 10 || u64(n.MediaErrors) != uint64(0) || u64(n.UnsafeShutdowns) != uint64(12) || n.CriticalWarning != 0 {
					t.Errorf("nvme = %+v", n)
				}
				if u64(r.CapacityBytes) != uint64(250059350016) || u64(r.PowerCycles) != uint64(16) {
					t.Errorf("capacity %v cycles %v", u64(r.CapacityBytes), u64(r.PowerCycles))
				}
				if c := r.Counters(); u64(c.MediaErrors) != uint64(0) || c.Reallocated != nil {
					t.Errorf("counters = %+v", c)
				}
			},
		}},
		{"sas-seagate-st600mp0036-healthy.json", -1, want{
			protocol: "scsi", health: SmartPassed, basis: SmartBasisDevice, model: "SEAGATE ST600MP0036", tempC: 29, poh: uint64(4665),
			check: func(t *testing.T, r *SmartReport) {
				if r.Firmware != "KT3A" || r.WWN != "0x5000c50accaccacc" || u64(r.CapacityBytes) != uint64(600127266816) {
					t.Errorf("identity = %q %q %v", r.Firmware, r.WWN, u64(r.CapacityBytes))
				}
				c := r.Counters()
				if u64(c.Reallocated) != uint64(0) || u64(c.MediaErrors) != uint64(0) {
					t.Errorf("counters = %+v", c)
				}
				if r.SelfTest == nil || len(r.SelfTest.Entries) != 2 || r.SelfTest.Entries[1].Type != "Background short" || r.SelfTest.Entries[1].Result != "passed" || r.SelfTest.Failed != 0 {
					t.Errorf("self-test = %+v", r.SelfTest)
				}
			},
		}},
		{"sat-hitachi-hds5c3020-healthy.json", -1, want{
			protocol: "ata", health: SmartPassed, basis: SmartBasisDevice, model: "Hitachi HDS5C3020ALA632", tempC: 38, poh: uint64(102088),
			warnings:  []string{"4 UDMA CRC errors"},
			noWarning: []string{"reallocated", "pending", "threshold"},
			check: func(t *testing.T, r *SmartReport) {
				if len(r.ATA.Attributes) != 17 {
					t.Errorf("attributes = %d", len(r.ATA.Attributes))
				}
				a, ok := r.ATAAttribute(ATATemperature)
				if !ok || a.Raw != 223339479078 || a.RawString != "38 (Min/Max 18/52)" || a.Prefail {
					t.Errorf("194 = %+v", a)
				}
				c := r.Counters()
				if u64(c.Reallocated) != uint64(0) || u64(c.Pending) != uint64(0) || u64(c.UDMACRCErrors) != uint64(4) || c.ReportedUncorrect != nil {
					t.Errorf("counters = %+v", c)
				}
				if r.WWN != "0x5000cca0075bcd15" {
					t.Errorf("wwn = %s", r.WWN)
				}
				if r.SelfTest != nil {
					t.Errorf("no self-test log in -a output, got %+v", r.SelfTest)
				}
			},
		}},
		{"sat-usbjmicron-wd3200bevt-failing-exit216.json", -1, want{
			protocol: "ata", health: SmartFailed, basis: SmartBasisDevice, model: "WDC WD3200BEVT-60ZCT0", tempC: 27, poh: uint64(16402),
			reasons: []string{"overall-health FAILED", "exit bit 3", "exit bit 4", "pre-fail attribute 5 Reallocated_Sector_Ct: value 133 at or below threshold 140"},
			warnings: []string{"exit bit 6", "exit bit 7", "535 reallocated sectors", "1 pending sectors", "84 reported uncorrectable",
				"attribute 190 Airflow_Temperature_Cel was at or below threshold in the past", "84 errors in the ATA error log", "last self-test (Short offline) failed: Completed: read failure"},
			check: func(t *testing.T, r *SmartReport) {
				c := r.Counters()
				if u64(c.Reallocated) != uint64(535) || u64(c.Pending) != uint64(1) || u64(c.OfflineUncorrectable) != uint64(0) || u64(c.ReportedUncorrect) != uint64(84) || u64(c.CommandTimeout) != uint64(132) {
					t.Errorf("counters = %+v", c)
				}
				if r.SelfTest == nil || len(r.SelfTest.Entries) != 3 || r.SelfTest.Failed != 3 || r.SelfTest.InProgress {
					t.Errorf("self-test = %+v", r.SelfTest)
				}
				if got := r.Summary(); got != "/dev/sdb ata WDC WD3200BEVT-60ZCT0 (WD-WXE708D44602): FAILED: drive reports SMART overall-health FAILED (+3 more)" {
					t.Errorf("summary = %q", got)
				}
				if r.Smartctl.ExitStatus != 216 || len(r.Smartctl.ExitBits) != 4 {
					t.Errorf("smartctl run = %+v", r.Smartctl)
				}
			},
		}},
		{"sat-toshiba-exit32.json", -1, want{
			protocol: "ata", health: SmartPassed, basis: SmartBasisDevice, tempC: 32, poh: uint64(29029),
			warnings: []string{"in the past (exit bit 5)"},
		}},
		{"sat-toshiba-exit7.json", -1, want{err: ErrSmartUnreadable, errText: "exit 7"}},
		{"sat-toshiba-format-version-0.json", -1, want{err: ErrSmartctlParse, errText: "json_format_version [0 0]"}},
		{"sat-toshiba-malformed.json", -1, want{err: ErrSmartctlParse, errText: "invalid character"}},
		{"derived-sat-hitachi-truncated.json", -1, want{err: ErrSmartctlParse, errText: "unexpected end of JSON"}},
		{"local-virtio-unable-to-detect-exit1.json", 1, want{err: ErrSmartUnreadable, errText: "Unable to detect device type"}},
		{"local-sat-open-eperm-exit2.json", 2, want{err: ErrSmartUnreadable, errText: "Operation not permitted"}},
		{"derived-usb-unknown-bridge-exit1.json", 1, want{err: ErrSmartUnreadable, errText: "Unknown USB bridge"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			r, err := ParseSmartctlJSON(bytes.NewReader(smartctlFixture(t, c.file)), c.exit)
			w := c.want
			if w.err != nil {
				if !errors.Is(err, w.err) || !strings.Contains(err.Error(), w.errText) {
					t.Fatalf("err = %v, want %v containing %q", err, w.err, w.errText)
				}
				if r != nil {
					t.Fatalf("report on error: %+v", r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Protocol != w.protocol || r.Health != w.health || r.HealthBasis != w.basis || r.Source != SmartSourceSmartctl {
				t.Errorf("protocol/health/basis/source = %s %s %s %s", r.Protocol, r.Health, r.HealthBasis, r.Source)
			}
			if w.model != "" && r.Model != w.model {
				t.Errorf("model = %q", r.Model)
			}
			if r.TemperatureC == nil || *r.TemperatureC != w.tempC {
				t.Errorf("temperature = %v", r.TemperatureC)
			}
			if u64(r.PowerOnHours) != w.poh {
				t.Errorf("power-on hours = %v", u64(r.PowerOnHours))
			}
			for _, s := range w.reasons {
				if !hasString(r.HealthReasons, s) {
					t.Errorf("reasons %q lack %q", r.HealthReasons, s)
				}
			}
			if w.health == SmartPassed && len(r.HealthReasons) != 0 {
				t.Errorf("passed with reasons %q", r.HealthReasons)
			}
			for _, s := range w.warnings {
				if !hasString(r.Warnings, s) {
					t.Errorf("warnings %q lack %q", r.Warnings, s)
				}
			}
			for _, s := range w.noWarning {
				if hasString(r.Warnings, s) {
					t.Errorf("warnings %q must not mention %q", r.Warnings, s)
				}
			}
			if w.check != nil {
				w.check(t, r)
			}
			var text bytes.Buffer
			if err := RenderSmartText(&text, r); err != nil || !strings.Contains(text.String(), strings.ToUpper(string(w.health))) {
				t.Errorf("render: %v\n%s", err, text.String())
			}
		})
	}
}

// The process exit status is authoritative and decoded bit by bit; the same
// healthy document gives every verdict the bits imply.
func TestParseSmartctlExitBits(t *testing.T) {
	doc := smartctlFixture(t, "sat-hitachi-hds5c3020-healthy.json")
	cases := []struct {
		exit     int
		health   SmartHealth
		err      error
		reason   string
		warning  string
		exitBits int
	}{
		{0, SmartPassed, nil, "", "", 0},
		{4, SmartPassed, nil, "", "exit bit 2", 1},
		{8, SmartFailed, nil, "DISK FAILING", "", 1},
		{16, SmartFailed, nil, "exit bit 4", "", 1},
		{32, SmartPassed, nil, "", "exit bit 5", 1},
		{64, SmartPassed, nil, "", "exit bit 6", 1},
		{128, SmartPassed, nil, "", "exit bit 7", 1},
		{192, SmartPassed, nil, "", "exit bit 7", 2},
		{1, "", ErrSmartUnreadable, "", "", 0},
		{2, "", ErrSmartUnreadable, "", "", 0},
		{3, "", ErrSmartUnreadable, "", "", 0},
		{256, "", ErrSmartUnreadable, "", "", 0},
	}
	for _, c := range cases {
		r, err := ParseSmartctlJSON(bytes.NewReader(doc), c.exit)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("exit %d: err = %v, want %v", c.exit, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("exit %d: %v", c.exit, err)
			continue
		}
		if r.Health != c.health || (c.reason != "" && !hasString(r.HealthReasons, c.reason)) || (c.warning != "" && !hasString(r.Warnings, c.warning)) || len(r.Smartctl.ExitBits) != c.exitBits {
			t.Errorf("exit %d: health %s reasons %q warnings %q bits %q", c.exit, r.Health, r.HealthReasons, r.Warnings, r.Smartctl.ExitBits)
		}
		if c.exit != 0 && !hasString(r.Warnings, "differs from the 0 in its JSON") {
			t.Errorf("exit %d: mismatch with JSON exit_status not noted: %q", c.exit, r.Warnings)
		}
	}
}

func TestSmartctlExitDescribe(t *testing.T) {
	e := SmartctlExit(216)
	if !e.Has(SmartctlDiskFailing) || !e.Has(SmartctlPrefailFailing) || e.Has(SmartctlPastThreshold) || e.Unreadable() {
		t.Fatalf("216 decoded wrong")
	}
	if got := strings.Join(e.Describe(), "|"); got != "bit 3: SMART status: DISK FAILING|bit 4: pre-fail attribute at or below threshold|bit 6: device error log contains errors|bit 7: self-test log contains errors" {
		t.Errorf("describe = %s", got)
	}
	if !SmartctlExit(2).Unreadable() || SmartctlExit(4).Unreadable() {
		t.Error("unreadable bits wrong")
	}
}

func TestParseSmartctlLimits(t *testing.T) {
	if _, err := ParseSmartctlJSON(strings.NewReader(""), 0); !errors.Is(err, ErrSmartctlParse) {
		t.Errorf("empty: %v", err)
	}
	big := bytes.Repeat([]byte(" "), MaxSmartctlOutput+1)
	if _, err := ParseSmartctlJSON(bytes.NewReader(big), 0); !errors.Is(err, ErrSmartctlParse) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized: %v", err)
	}
	// A 128-bit NVMe counter that does not fit uint64 must not sink the report.
	doc := strings.Replace(string(smartctlFixture(t, "nvme-samsung-970-evo-plus-healthy.json")),
		`"data_units_read": 2025034`, `"data_units_read": 340282366920938463463374607431768211455`, 1)
	r, err := ParseSmartctlJSON(strings.NewReader(doc), 0)
	if err != nil || r.NVMe.DataUnitsRead != nil || u64(r.NVMe.DataUnitsWritten) != uint64(1969459) {
		t.Errorf("128-bit counter: %v %+v", err, r)
	}
	// No exit status anywhere.
	if _, err := ParseSmartctlJSON(strings.NewReader(`{"json_format_version":[1,0],"smartctl":{}}`), -1); !errors.Is(err, ErrSmartctlParse) {
		t.Errorf("no exit status: %v", err)
	}
	// Exit 0 but no device and no SMART data (e.g. smartctl --scan-like output).
	if _, err := ParseSmartctlJSON(strings.NewReader(`{"json_format_version":[1,0],"smartctl":{"exit_status":0}}`), -1); !errors.Is(err, ErrSmartUnreadable) {
		t.Errorf("no data: %v", err)
	}
	// ATA with attributes but no overall status: the attributes decide, as on
	// the smart.go path, and the basis says so.
	r, err = ParseSmartctlJSON(strings.NewReader(`{"json_format_version":[1,0],"smartctl":{"exit_status":0},"device":{"name":"/dev/sdz","protocol":"ATA"},
		"ata_smart_attributes":{"table":[{"id":5,"name":"Reallocated_Sector_Ct","value":100,"worst":100,"thresh":10,"flags":{"prefailure":true},"raw":{"value":0,"string":"0"}}]}}`), -1)
	if err != nil || r.Health != SmartPassed || r.HealthBasis != SmartBasisAttributes {
		t.Errorf("no smart_status: %v %+v", err, r)
	}
}

func TestParseSmartctlSmartDisabled(t *testing.T) {
	r, err := ParseSmartctlJSON(strings.NewReader(`{"json_format_version":[1,0],"smartctl":{"version":[7,3],"exit_status":0},
		"device":{"name":"/dev/sdd","protocol":"ATA"},"model_name":"X","smart_support":{"available":true,"enabled":false},"temperature":{"current":30}}`), 0)
	if err != nil || r.Health != SmartUnknown || !hasString(r.HealthReasons, "SMART is disabled") {
		t.Errorf("smart disabled: %v %+v", err, r)
	}
}

func TestSmartctlReaderWithFake(t *testing.T) {
	fake := (&tool.Fake{}).Add(tool.Rule{Tool: "smartctl", Match: tool.ArgsContain("-j", "-x", "/dev/sdb"),
		StdoutFile: "testdata/smartctl/sat-usbjmicron-wd3200bevt-failing-exit216.json", ExitCode: 216})
	r, err := (&SmartctlReader{Tools: fake}).Read(context.Background(), "/dev/sdb")
	if err != nil || r.Health != SmartFailed || r.Device != "/dev/sdb" {
		t.Fatalf("%v %+v", err, r)
	}
	if c := fake.Calls[0]; c.MaxCapture != MaxSmartctlOutput || c.Timeout <= 0 {
		t.Errorf("call = %+v", c)
	}
	// A disk behind a RAID HBA: -d megaraid,N is passed through.
	hba := (&tool.Fake{}).Add(tool.Rule{Tool: "smartctl", Match: tool.ArgsContain("-j", "-x", "-d", "megaraid,2", "/dev/sda"),
		StdoutFile: "testdata/smartctl/sas-seagate-st600mp0036-healthy.json"})
	if r, err := (&SmartctlReader{Tools: hba, DeviceType: "megaraid,2"}).Read(context.Background(), "/dev/sda"); err != nil || r.Protocol != "scsi" {
		t.Errorf("megaraid: %v %+v", err, r)
	}
	// smartctl missing.
	missing := &tool.Fake{Missing: map[string]bool{"smartctl": true}}
	if _, err := (&SmartctlReader{Tools: missing}).Read(context.Background(), "/dev/sdb"); !errors.Is(err, tool.ErrNotFound) {
		t.Errorf("missing smartctl: %v", err)
	}
	// Output cut at MaxCapture: refused rather than half-parsed.
	trunc := (&tool.Fake{}).Add(tool.Rule{Tool: "smartctl", Func: func(context.Context, tool.Cmd) (tool.Output, error) {
		return tool.Output{Stdout: []byte("{"), Truncated: true}, nil
	}})
	if _, err := (&SmartctlReader{Tools: trunc}).Read(context.Background(), "/dev/sdb"); !errors.Is(err, ErrSmartctlParse) {
		t.Errorf("truncated capture: %v", err)
	}
}

func TestSmartText(t *testing.T) {
	ctx := context.Background()
	fake := (&tool.Fake{}).Add(tool.Rule{Tool: "smartctl", Match: tool.ArgsContain("-x", "/dev/sda"), Stdout: "smartctl 7.3 ...\nSMART overall-health self-assessment test result: PASSED\n", ExitCode: 64})
	text, src, err := SmartText(ctx, Env{Tools: fake}, "sda", nil)
	if err != nil || src != "smartctl" || !strings.Contains(string(text), "PASSED") || !strings.Contains(string(text), "# smartctl exit status 64 (bit 6: device error log contains errors)") {
		t.Fatalf("%v %s\n%s", err, src, text)
	}
	for _, a := range fake.Calls[0].Args {
		if a == "-j" {
			t.Error("the text artifact must be smartctl's human output, not JSON")
		}
	}
	rep, err := ParseSmartctlJSON(bytes.NewReader(smartctlFixture(t, "nvme-samsung-970-evo-plus-healthy.json")), -1)
	if err != nil {
		t.Fatal(err)
	}
	missing := &tool.Fake{Missing: map[string]bool{"smartctl": true}}
	text, src, err = SmartText(ctx, Env{Tools: missing}, "nvme0", rep)
	if err != nil || src != "rendered" || !strings.Contains(string(text), "PASSED (device)") || !strings.Contains(string(text), "100% (threshold 10%)") {
		t.Fatalf("%v %s\n%s", err, src, text)
	}
	if _, _, err := SmartText(ctx, Env{Tools: missing}, "nvme0", nil); err == nil {
		t.Error("no smartctl and no report must be an error")
	}
}

const ataSelfTestRunning = `{"json_format_version":[1,0],"smartctl":{"version":[7,3],"exit_status":0},
 "device":{"name":"/dev/sda","protocol":"ATA"},
 "ata_smart_data":{"self_test":{"status":{"value":249,"string":"in progress, 90% remaining","remaining_percent":90}}},
 "ata_smart_self_test_log":{"standard":{"revision":1,"table":[{"type":{"value":1,"string":"Short offline"},"status":{"value":0,"string":"Completed without error","passed":true},"lifetime_hours":100}],"count":1}}}`

const ataSelfTestDone = `{"json_format_version":[1,0],"smartctl":{"version":[7,3],"exit_status":0},
 "device":{"name":"/dev/sda","protocol":"ATA"},
 "ata_smart_data":{"self_test":{"status":{"value":0,"string":"completed without error","passed":true}}},
 "ata_smart_self_test_log":{"standard":{"revision":1,"table":[{"type":{"value":1,"string":"Short offline"},"status":{"value":0,"string":"Completed without error","passed":true},"lifetime_hours":101},{"type":{"value":1,"string":"Short offline"},"status":{"value":0,"string":"Completed without error","passed":true},"lifetime_hours":100}],"count":2}}}`

const nvmeSelfTestRunning = `{"json_format_version":[1,0],"smartctl":{"version":[7,3],"exit_status":0},
 "device":{"name":"/dev/nvme0","protocol":"NVMe"},
 "nvme_self_test_log":{"current_self_test_operation":{"value":1,"string":"Short self-test in progress"},"current_self_test_completion_percent":30,
  "table":[{"self_test_code":{"value":1,"string":"Short"},"self_test_result":{"value":7,"string":"Completed: failed segments"},"power_on_hours":800},
           {"self_test_code":{"value":1,"string":"Short"},"self_test_result":{"value":15,"string":"Unused"},"power_on_hours":0}]}}`

func TestSelfTestProgressAndWait(t *testing.T) {
	l, err := parseSelfTestProgress([]byte(ataSelfTestRunning), 0)
	if err != nil || !l.InProgress || l.RemainingPercent == nil || *l.RemainingPercent != 90 || len(l.Entries) != 1 || l.Entries[0].Result != "passed" {
		t.Fatalf("ata running: %v %+v", err, l)
	}
	l, err = parseSelfTestProgress([]byte(nvmeSelfTestRunning), 0)
	if err != nil || !l.InProgress || *l.RemainingPercent != 70 || len(l.Entries) != 1 || l.Failed != 1 {
		t.Fatalf("nvme running: %v %+v", err, l)
	}
	if _, err := parseSelfTestProgress([]byte(`{"json_format_version":[1,0],"smartctl":{"exit_status":2}}`), 2); !errors.Is(err, ErrSmartUnreadable) {
		t.Errorf("exit 2: %v", err)
	}

	fake := (&tool.Fake{}).
		Add(tool.Rule{Tool: "smartctl", Match: tool.ArgsContain("-t", "short"), Stdout: `{"json_format_version":[1,0],"smartctl":{"exit_status":0}}`}).
		Add(tool.Rule{Tool: "smartctl", Match: tool.ArgsContain("-c", "-l", "selftest"), Stdout: ataSelfTestRunning, Times: 2}).
		Add(tool.Rule{Tool: "smartctl", Match: tool.ArgsContain("-c", "-l", "selftest"), Stdout: ataSelfTestDone})
	env := Env{Tools: fake}
	ctx := context.Background()
	if err := StartSelfTest(ctx, env, "sda", SelfTestShort); err != nil {
		t.Fatal(err)
	}
	polls := 0
	final, err := WaitSelfTest(ctx, env, "sda", time.Millisecond, func(*SmartSelfTestLog) { polls++ })
	if err != nil || final.InProgress || polls != 3 || len(final.Entries) != 2 {
		t.Fatalf("wait: %v polls %d %+v", err, polls, final)
	}
	if err := StartSelfTest(ctx, env, "sda", "destructive"); err == nil {
		t.Error("unknown kind accepted")
	}
	refused := (&tool.Fake{}).Add(tool.Rule{Tool: "smartctl", ExitCode: 4,
		Stdout: `{"json_format_version":[1,0],"smartctl":{"exit_status":4,"messages":[{"string":"Execute SMART Short self-test routine immediately in off-line mode failed: Input/output error","severity":"error"}]}}`})
	if err := StartSelfTest(ctx, Env{Tools: refused}, "sda", SelfTestShort); !errors.Is(err, ErrSmartUnreadable) || !strings.Contains(err.Error(), "Input/output error") {
		t.Errorf("refused start: %v", err)
	}
	// smartctl 7.3 exits 0 on -t for NVMe without running anything.
	nvme73 := (&tool.Fake{}).Add(tool.Rule{Tool: "smartctl", Match: tool.ArgsContain("-t", "short"),
		Stdout: `{"json_format_version":[1,0],"smartctl":{"version":[7,3],"exit_status":0},"device":{"name":"/dev/nvme0n1","type":"nvme","protocol":"NVMe"}}`})
	if err := StartSelfTest(ctx, Env{Tools: nvme73}, "nvme0n1", SelfTestShort); !errors.Is(err, ErrSelfTestUnsupported) {
		t.Errorf("nvme with smartctl 7.3: %v", err)
	}
	nvme74 := (&tool.Fake{}).Add(tool.Rule{Tool: "smartctl", Match: tool.ArgsContain("-t", "short"),
		Stdout: `{"json_format_version":[1,0],"smartctl":{"version":[7,4],"exit_status":0},"device":{"name":"/dev/nvme0n1","type":"nvme","protocol":"NVMe"}}`})
	if err := StartSelfTest(ctx, Env{Tools: nvme74}, "nvme0n1", SelfTestShort); err != nil {
		t.Errorf("nvme with smartctl 7.4: %v", err)
	}
	unsupported := (&tool.Fake{}).Add(tool.Rule{Tool: "smartctl", Match: tool.ArgsContain("-t", "short"),
		Stdout: `{"json_format_version":[1,0],"smartctl":{"version":[7,4],"exit_status":0,"messages":[{"string":"Self-tests not supported","severity":"error"}]},"device":{"protocol":"NVMe"}}`})
	if err := StartSelfTest(ctx, Env{Tools: unsupported}, "nvme0n1", SelfTestShort); !errors.Is(err, ErrSelfTestUnsupported) {
		t.Errorf("not supported: %v", err)
	}
	// WaitSelfTest stops with its context.
	forever := (&tool.Fake{}).Add(tool.Rule{Tool: "smartctl", Stdout: ataSelfTestRunning})
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := WaitSelfTest(cctx, Env{Tools: forever}, "sda", 5*time.Millisecond, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled wait: %v", err)
	}
}

// Real `smartctl -j -c -l selftest` outputs from QEMU's SATA disk before and
// after a short self-test (which QEMU completes at once), and from its NVMe
// controller, which has no self-test support (empty output, exit 0).
func TestSelfTestProgressQEMU(t *testing.T) {
	before, err := parseSelfTestProgress(smartctlFixture(t, "qemu-sata-selftest-c-l-before.json"), 0)
	if err != nil || before.InProgress || len(before.Entries) != 0 {
		t.Errorf("before: %v %+v", err, before)
	}
	after, err := parseSelfTestProgress(smartctlFixture(t, "qemu-sata-selftest-c-l-after-short.json"), 0)
	if err != nil || after.InProgress || len(after.Entries) != 1 || after.Entries[0].Type != "Short offline" || after.Entries[0].Result != "passed" || u64(after.Entries[0].PowerOnHours) != uint64(4660) {
		t.Errorf("after: %v %+v", err, after)
	}
	if _, err := parseSelfTestProgress(smartctlFixture(t, "qemu-nvme-selftest-c-l-unsupported.json"), 0); !errors.Is(err, ErrSmartUnreadable) {
		t.Errorf("nvme without self-test: %v", err)
	}
}

func FuzzParseSmartctlJSON(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "smartctl", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b, -1)
		}
	}
	f.Add([]byte(ataSelfTestRunning), 0)
	f.Add([]byte(nvmeSelfTestRunning), 4)
	f.Fuzz(func(t *testing.T, b []byte, exit int) {
		r, err := ParseSmartctlJSON(bytes.NewReader(b), exit)
		if err != nil {
			if r != nil {
				t.Fatal("report returned with an error")
			}
			return
		}
		switch r.Health {
		case SmartPassed, SmartFailed, SmartUnknown:
		default:
			t.Fatalf("health %q", r.Health)
		}
		if r.Health == SmartFailed && len(r.HealthReasons) == 0 {
			t.Fatal("failed without a reason")
		}
		if r.Smartctl == nil || SmartctlExit(r.Smartctl.ExitStatus).Unreadable() {
			t.Fatalf("unreadable exit accepted: %+v", r.Smartctl)
		}
		var out bytes.Buffer
		if err := RenderSmartText(&out, r); err != nil {
			t.Fatal(err)
		}
	})
}
