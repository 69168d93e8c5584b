package corecmd

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shakedown/shakedown/agent/cli"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/tool"
)

func withSmartFake(t *testing.T, f *tool.Fake) {
	t.Helper()
	old := smartTools
	smartTools = func(*slog.Logger) tool.Runner { return f }
	t.Cleanup(func() { smartTools = old })
}

func smartFixture(name string) string {
	return filepath.Join("..", "..", "..", "collector", "testdata", "smartctl", name)
}

func TestSmartCommand(t *testing.T) {
	root := t.TempDir() // no device nodes: smart.go cannot open, smartctl (fake) answers
	dev := filepath.Join(root, "dev", "sdb")
	cases := []struct {
		name    string
		args    []string
		fixture string
		exit    int
		code    int
		out     []string
	}{
		{"failing summary", []string{"sdb", "--root", root}, "sat-usbjmicron-wd3200bevt-failing-exit216.json", 216, 3,
			[]string{"Overall health:", "FAILED (device)", "Reallocated_Sector_Ct", "smart.go"}},
		{"healthy json", []string{"--json", "--root", root, "sdb"}, "sat-hitachi-hds5c3020-healthy.json", 0, 0,
			[]string{`"health": "passed"`, `"protocol": "ata"`, `"source": "smartctl"`}},
		{"smartctl only", []string{"--smartctl", "--root", root, "sdb"}, "sas-seagate-st600mp0036-healthy.json", 0, 0,
			[]string{"PASSED", "Grown defects:"}},
		{"unreadable", []string{"--root", root, "sdb"}, "derived-usb-unknown-bridge-exit1.json", 1, 1, nil},
		{"device type", []string{"sdb", "-d", "megaraid,0", "--root", root}, "sas-seagate-st600mp0036-healthy.json", 0, 0, []string{"PASSED", "(scsi, read with smartctl)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			match := tool.ArgsContain("-j", "-x", dev)
			if c.name == "device type" {
				match = tool.ArgsContain("-j", "-x", "-d", "megaraid,0", dev)
			}
			fake := (&tool.Fake{}).Add(tool.Rule{Tool: "smartctl", Match: match, StdoutFile: smartFixture(c.fixture), ExitCode: c.exit})
			withSmartFake(t, fake)
			var out, errOut bytes.Buffer
			code := cli.Main(context.Background(), append([]string{"smart"}, c.args...), cli.IO{Stdout: &out, Stderr: &errOut})
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, out.String(), errOut.String())
			}
			for _, s := range c.out {
				if !strings.Contains(out.String(), s) {
					t.Errorf("output lacks %q:\n%s", s, out.String())
				}
			}
			if c.name == "healthy json" {
				var r collector.SmartReport
				if err := json.Unmarshal(out.Bytes(), &r); err != nil || r.Model != "Hitachi HDS5C3020ALA632" {
					t.Errorf("json: %v %+v", err, r)
				}
			}
			if c.code == 1 && !strings.Contains(errOut.String(), "Unknown USB bridge") {
				t.Errorf("stderr lacks the reason: %s", errOut.String())
			}
		})
	}
}

func TestSmartCommandText(t *testing.T) {
	root := t.TempDir()
	fake := (&tool.Fake{}).
		Add(tool.Rule{Tool: "smartctl", Match: tool.ArgsContain("-j", "-x"), StdoutFile: smartFixture("nvme-samsung-970-evo-plus-healthy.json")}).
		Add(tool.Rule{Tool: "smartctl", Match: tool.ArgsContain("-x"), Stdout: "=== START OF SMART DATA SECTION ===\nSMART overall-health self-assessment test result: PASSED\n"})
	withSmartFake(t, fake)
	var out, errOut bytes.Buffer
	if code := cli.Main(context.Background(), []string{"smart", "--text", "--root", root, "nvme0"}, cli.IO{Stdout: &out, Stderr: &errOut}); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "START OF SMART DATA SECTION") || !strings.Contains(out.String(), "# smartctl exit status 0") {
		t.Errorf("text:\n%s", out.String())
	}
}

func TestSmartCommandUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := cli.Main(context.Background(), []string{"smart"}, cli.IO{Stdout: &out, Stderr: &errOut}); code != 2 {
		t.Errorf("no device: exit %d", code)
	}
	if code := cli.Main(context.Background(), []string{"smart", "sda", "sdb"}, cli.IO{Stdout: &out, Stderr: &errOut}); code != 2 {
		t.Errorf("two devices: exit %d", code)
	}
}
