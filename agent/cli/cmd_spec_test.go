package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const specInventory = "../spec/testdata/inventory-r640.json"

func runSpecCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), append([]string{"spec"}, args...), IO{Stdout: &out, Stderr: &errb})
	return code, out.String(), errb.String()
}

func TestSpecCaptureCheckRoundTrip(t *testing.T) {
	code, captured, stderr := runSpecCmd(t, "capture", "--inventory", specInventory)
	if code != 0 {
		t.Fatalf("capture exit %d: %s", code, stderr)
	}
	p := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(p, []byte(captured), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runSpecCmd(t, "check", "--spec", p, "--inventory", specInventory)
	if code != 0 || !strings.HasSuffix(out, p+": 0 critical, 0 warning, 0 info\n") {
		t.Fatalf("check exit %d\nstdout: %s\nstderr: %s", code, out, stderr)
	}
	code, out, _ = runSpecCmd(t, "lint", p)
	if code != 0 || !strings.Contains(out, "ok (version 1, host 4c4c4544-0042-3510-8053-b4c04f4d3732, 3 disks: 0 test, 3 keep, 0 boot)") {
		t.Errorf("lint exit %d: %s", code, out)
	}
}

func TestSpecCheckCriticalExitsOne(t *testing.T) {
	// A spec that expects more cores and one more disk than the inventory has.
	code, captured, _ := runSpecCmd(t, "capture", "--inventory", specInventory)
	if code != 0 {
		t.Fatal("capture failed")
	}
	mod := strings.Replace(captured, "  cores: 32\n", "  cores: 40\n", 1)
	mod = strings.Replace(mod, "nics:\n", "  - wwn: \"0x5000c500ffffffff\"\n    role: test\nnics:\n", 1)
	if mod == captured {
		t.Fatal("test bug: nothing replaced")
	}
	p := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(p, []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runSpecCmd(t, "check", "--spec", p, "--inventory", specInventory)
	if code != 1 || !strings.Contains(out, "critical  cpu.cores") || !strings.Contains(out, "2 critical, 0 warning, 0 info") {
		t.Errorf("table check exit %d:\n%s", code, out)
	}
	code, out, _ = runSpecCmd(t, "check", "--json", "--spec", p, "--inventory", specInventory)
	var got struct {
		Critical int `json:"critical"`
		Diffs    []struct {
			Rule, Field, Class, Subject, Expected, Actual string
		} `json:"diffs"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if code != 1 || got.Critical != 2 || len(got.Diffs) != 2 || got.Diffs[0].Rule != "cpu.fewer" ||
		got.Diffs[1].Rule != "disk.missing" || got.Diffs[1].Subject != "wwn:0x5000c500ffffffff" {
		t.Errorf("json check exit %d: %+v", code, got)
	}
}

func TestSpecLintAndCheckInvalid(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(p, []byte("version: 1\nhost: h\ncpu: {cores: 4}\nmemory: {total: 16}\ndisks: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runSpecCmd(t, "lint", p)
	if code != 1 || !strings.Contains(out, p+":4:17: memory.total: size 16 has no unit") {
		t.Errorf("lint exit %d: %s", code, out)
	}
	code, _, stderr := runSpecCmd(t, "check", "--spec", p, "--inventory", specInventory)
	if code != 2 || !strings.Contains(stderr, "has no unit") {
		t.Errorf("check of invalid spec exit %d: %s", code, stderr)
	}
}

func TestSpecDefaults(t *testing.T) {
	code, out, _ := runSpecCmd(t, "defaults")
	if code != 0 || !strings.Contains(out, "max_temp_c") || !strings.Contains(out, "disk.missing") {
		t.Errorf("defaults exit %d: %s", code, out)
	}
	code, out, _ = runSpecCmd(t, "defaults", "--json")
	var got struct {
		Thresholds []struct{ Name, Default string }
		Rules      []struct{ ID, Class string }
	}
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil || len(got.Thresholds) < 10 || len(got.Rules) < 30 {
		t.Errorf("defaults --json exit %d err %v: %d thresholds %d rules", code, err, len(got.Thresholds), len(got.Rules))
	}
}

func TestSpecUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"check"}, {"lint"}, {"capture", "extra"}} {
		if code, _, _ := runSpecCmd(t, args...); code != 2 {
			t.Errorf("spec %v exit %d, want 2", args, code)
		}
	}
}

// On the live host, capture then check must agree with itself.
func TestSpecLiveCaptureCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("probes the live host")
	}
	code, captured, stderr := runSpecCmd(t, "capture")
	if code != 0 {
		t.Fatalf("live capture exit %d: %s", code, stderr)
	}
	p := filepath.Join(t.TempDir(), "live.yaml")
	if err := os.WriteFile(p, []byte(captured), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runSpecCmd(t, "check", "--spec", p)
	if code != 0 || !strings.Contains(out, ": 0 critical, 0 warning, 0 info") {
		t.Errorf("live check exit %d\n%s\n%s\nspec:\n%s", code, out, stderr, captured)
	}
}
