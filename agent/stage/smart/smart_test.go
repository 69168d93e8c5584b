package smart

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shakedown/shakedown/agent/internal/stagefake"
	"github.com/shakedown/shakedown/agent/spec"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/tool"
)

// exitOf reads smartctl.exit_status from a recorded JSON (-1 when absent).
func exitOf(t *testing.T, file string) int {
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Smartctl struct {
			ExitStatus *int `json:"exit_status"`
		} `json:"smartctl"`
	}
	if json.Unmarshal(b, &d) != nil || d.Smartctl.ExitStatus == nil {
		return 0
	}
	return *d.Smartctl.ExitStatus
}

// smartctlFake answers `smartctl -j -x <root>/dev/<name>` with a recorded
// JSON per device and `smartctl -x` with a text line.
func smartctlFake(t *testing.T, root string, byDev map[string]string) *tool.Fake {
	f := &tool.Fake{}
	for dev, file := range byDev {
		path := filepath.Join(root, "dev", dev)
		f.Add(tool.Rule{Tool: "smartctl", Match: tool.ArgsContain("-j", "-x", path), StdoutFile: filepath.Join("testdata", file), ExitCode: exitOf(t, file)})
		f.Add(tool.Rule{Tool: "smartctl", Match: tool.ArgsContain("-x", path), Stdout: "smartctl 7.3 text of " + dev + "\n", ExitCode: exitOf(t, file)})
	}
	return f
}

func disk(name, transport, serial string) collector.Disk {
	return collector.Disk{Name: name, Transport: transport, Vendor: "ATA", Model: "M-" + name, Serial: serial, SizeBytes: 1 << 40}
}

func newEnv(t *testing.T, fake *tool.Fake, root string, inv []collector.Disk, sp *spec.Spec, profile string) (*stage.Env, *stagefake.Sink) {
	s := &Stage{}
	env, sink := stagefake.Env(t, Name, root, fake, stagefake.DefaultParams(s, profile))
	if err := sink.PutFact("inventory", collector.Inventory{Disks: inv}); err != nil {
		t.Fatal(err)
	}
	if sp != nil {
		if err := sink.PutFact(spec.FactKey, sp); err != nil {
			t.Fatal(err)
		}
	}
	return env, sink
}

func codes(r stage.Result) []string {
	var c []string
	for _, f := range r.Findings {
		c = append(c, f.Code)
	}
	return c
}

func TestRunOneDisk(t *testing.T) {
	cases := []struct {
		name       string
		file       string
		transport  string
		thresholds map[string]string
		status     stage.Status
		reason     string
		codes      []string
	}{
		{name: "healthy NVMe", file: "nvme-samsung-970-evo-plus-healthy.json", transport: "nvme", status: stage.Pass},
		{name: "healthy SATA with UDMA CRC note", file: "sat-hitachi-hds5c3020-healthy.json", transport: "sata", status: stage.Pass, codes: []string{"SMARTNote"}},
		{name: "healthy SAS", file: "sas-seagate-st600mp0036-healthy.json", transport: "sas", status: stage.Pass},
		{name: "failing SATA behind USB", file: "sat-usbjmicron-wd3200bevt-failing-exit216.json", transport: "usb", status: stage.Fail, reason: "disk_unhealthy",
			codes: []string{"SMARTHealthFailed", "ReallocatedSectors", "PendingSectors"}},
		{name: "reallocated within a raised limit", file: "sat-usbjmicron-wd3200bevt-failing-exit216.json", transport: "usb",
			thresholds: map[string]string{"smart_reallocated_max": "1000", "smart_pending_max": "5"}, status: stage.Fail, reason: "disk_unhealthy",
			codes: []string{"SMARTHealthFailed"}},
		{name: "worn NVMe with critical warning", file: "derived-nvme-worn-critical-exit8.json", transport: "nvme", status: stage.Fail, reason: "disk_unhealthy",
			codes: []string{"SMARTHealthFailed", "MediaErrors", "NVMeCriticalWarning", "SpareBelowThreshold", "EnduranceUsed"}},
		{name: "pending and offline-uncorrectable", file: "derived-sat-hitachi-pending8.json", transport: "sata", status: stage.Fail, reason: "disk_unhealthy",
			codes: []string{"PendingSectors", "OfflineUncorrectable"}},
		{name: "virtio without SMART", file: "local-virtio-unable-to-detect-exit1.json", transport: "virtio", status: stage.Warn, reason: "warning",
			codes: []string{"SMARTUnavailable"}},
		{name: "SATA whose SMART cannot be read", file: "local-virtio-unable-to-detect-exit1.json", transport: "sata", status: stage.Fail, reason: "smart_unreadable",
			codes: []string{"SMARTUnavailable"}},
		{name: "truncated smartctl output", file: "derived-sat-hitachi-truncated.json", transport: "sata", status: stage.Fail, reason: "smart_unreadable",
			codes: []string{"SMARTUnavailable"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			d := disk("sda", c.transport, "S1")
			sp := &spec.Spec{Disks: []spec.Disk{{ID: spec.IdentityOf(d), Role: spec.RoleKeep}}, Thresholds: c.thresholds}
			env, _ := newEnv(t, smartctlFake(t, root, map[string]string{"sda": c.file}), root, []collector.Disk{d}, sp, "quick")
			res, err := (&Stage{}).Run(context.Background(), env)
			if err != nil {
				t.Fatal(err)
			}
			got := codes(res)
			var gotNonNote []string
			for _, g := range got {
				if g != "SMARTNote" {
					gotNonNote = append(gotNonNote, g)
				}
			}
			var want []string
			for _, w := range c.codes {
				if w != "SMARTNote" {
					want = append(want, w)
				}
				if !slices.Contains(got, w) {
					t.Errorf("codes %v lack %s", got, w)
				}
			}
			if res.Status != c.status || res.Reason != c.reason || len(gotNonNote) != len(want) {
				t.Errorf("got %s/%s %v: %s", res.Status, res.Reason, got, res.Message)
			}
			var names []string
			for _, a := range res.Artifacts {
				names = append(names, a.Name)
			}
			if !slices.Equal(names, []string{"smart-sda.txt", "smart-sda.json"}) {
				t.Errorf("artifacts %v", names)
			}
			txt, _ := os.ReadFile(res.Artifacts[0].Path)
			if !strings.Contains(string(txt), "sda") {
				t.Errorf("text artifact: %q", txt)
			}
		})
	}
}

func TestRunSelectionSpecAndInventory(t *testing.T) {
	root := t.TempDir()
	a, b, extra := disk("sda", "sata", "A"), disk("nvme0n1", "nvme", "B"), disk("sdz", "sata", "Z")
	gone := disk("sdq", "sata", "Q")
	fake := smartctlFake(t, root, map[string]string{"sda": "sat-hitachi-hds5c3020-healthy.json", "nvme0n1": "nvme-samsung-970-evo-plus-healthy.json", "sdz": "sat-hitachi-hds5c3020-healthy.json"})

	// With a spec: the extra disk is not read, the missing one fails the stage.
	sp := &spec.Spec{Disks: []spec.Disk{
		{ID: spec.IdentityOf(a), Role: spec.RoleTest}, {ID: spec.IdentityOf(b), Role: spec.RoleBoot}, {ID: spec.IdentityOf(gone), Role: spec.RoleKeep},
	}}
	env, _ := newEnv(t, fake, root, []collector.Disk{a, b, extra}, sp, "quick")
	res, err := (&Stage{}).Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != stage.Fail || res.Reason != "disk_missing" || !strings.Contains(res.Message, spec.IdentityOf(gone).String()) {
		t.Errorf("got %s/%s: %s", res.Status, res.Reason, res.Message)
	}
	for _, c := range fake.Calls {
		if strings.Contains(strings.Join(c.Args, " "), "sdz") {
			t.Errorf("unexpected disk read: %v", c.Args)
		}
	}
	disks := res.Summary["disks"].(map[string]any)
	if len(disks) != 2 {
		t.Errorf("summary disks %v", disks)
	}

	// Without a spec: every inventory disk, and the message says so.
	fake.Calls = nil
	env, _ = newEnv(t, fake, root, []collector.Disk{a, b, extra}, nil, "quick")
	res, err = (&Stage{}).Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != stage.Pass || !strings.Contains(res.Message, "no expected spec") || len(res.Summary["disks"].(map[string]any)) != 3 {
		t.Errorf("got %s: %s", res.Status, res.Message)
	}
}

func TestRunSelfTests(t *testing.T) {
	root := t.TempDir()
	a, k := disk("sda", "sata", "A"), disk("sdb", "sata", "K")
	pa, pk := filepath.Join(root, "dev", "sda"), filepath.Join(root, "dev", "sdb")
	const inProgress = `{"json_format_version":[1,0],"smartctl":{"exit_status":0},"device":{"protocol":"NVMe"},
		"nvme_self_test_log":{"current_self_test_operation":{"value":1,"string":"Short"},"current_self_test_completion_percent":40,"table":[]}}`
	const failed = `{"json_format_version":[1,0],"smartctl":{"exit_status":0},"device":{"protocol":"NVMe"},
		"nvme_self_test_log":{"current_self_test_operation":{"value":0,"string":"No self-test in progress"},
		"table":[{"self_test_code":{"value":1,"string":"Short"},"self_test_result":{"value":7,"string":"Completed: failed segments"},"power_on_hours":3150}]}}`
	fake := &tool.Fake{}
	fake.Add(tool.Rule{Tool: "smartctl", Match: tool.ArgsContain("-t", "short", pa), Stdout: `{"json_format_version":[1,0],"smartctl":{"exit_status":0}}`})
	fake.Add(tool.Rule{Tool: "smartctl", Match: tool.ArgsContain("-l", "selftest", pa), Stdout: inProgress, Times: 1})
	fake.Add(tool.Rule{Tool: "smartctl", Match: tool.ArgsContain("-l", "selftest", pa), Stdout: failed})
	for _, r := range smartctlFake(t, root, map[string]string{"sda": "nvme-samsung-970-evo-plus-healthy.json", "sdb": "nvme-samsung-970-evo-plus-healthy.json"}).Rules {
		fake.Add(r)
	}
	sp := &spec.Spec{Disks: []spec.Disk{{ID: spec.IdentityOf(a), Role: spec.RoleTest}, {ID: spec.IdentityOf(k), Role: spec.RoleKeep}}}
	env, sink := newEnv(t, fake, root, []collector.Disk{a, k}, sp, "full")
	env.Params[ParamSelfTestPoll] = "1ms"
	res, err := (&Stage{}).Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != stage.Fail || !slices.Contains(codes(res), "SelfTestFailed") {
		t.Errorf("got %s %v: %s", res.Status, codes(res), res.Message)
	}
	for _, c := range fake.Calls {
		if slices.Contains(c.Args, "-t") && slices.Contains(c.Args, pk) {
			t.Errorf("self-test started on a keep disk: %v", c.Args)
		}
	}
	var sawProgress bool
	for _, p := range sink.Progress() {
		if p.Done == 40 && p.Total == 100 { // 40% complete
			sawProgress = true
		}
	}
	if !sawProgress {
		t.Errorf("no 40%% progress event: %+v", sink.Progress())
	}
}

func TestRunNoDisks(t *testing.T) {
	env, _ := newEnv(t, &tool.Fake{}, t.TempDir(), nil, nil, "quick")
	res, err := (&Stage{}).Run(context.Background(), env)
	if err != nil || res.Status != stage.Skip {
		t.Errorf("got %+v, %v", res, err)
	}
}

func TestSelectBindsAnonymousDiskLikeSpecValidate(t *testing.T) {
	sp, err := spec.Parse(strings.NewReader("version: 1\nhost: h\ncpu:\n  model: \"*\"\nmemory:\n  total: 24GiB\ndisks:\n  - anonymous: true\n    size: 274.878GB\n    class: hdd\n    role: keep\n"), "spec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := Select(sp, []collector.Disk{{Name: "vda", SizeBytes: 274877906944, Class: "hdd", Transport: "virtio"}})
	if len(s.Missing) != 0 || len(s.Targets) != 1 || s.Targets[0].Disk.Name != "vda" || s.Targets[0].Role != "keep" {
		t.Fatalf("selection %+v", s)
	}
}
