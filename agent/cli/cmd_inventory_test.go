package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shakedown/shakedown/collector"
)

const inventoryFixture = "../../collector/testdata/snapshots/qemu-virtio-epyc-2cpu.tar.gz"

func invCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb})
	return code, out.String(), errb.String()
}

func TestInventoryAndSnapshotCommands(t *testing.T) {
	code, out, errs := invCLI(t, "inventory", "--root", inventoryFixture, "--json")
	if code != 0 {
		t.Fatalf("inventory --json: exit %d: %s", code, errs)
	}
	var inv collector.Inventory
	if err := json.Unmarshal([]byte(out), &inv); err != nil {
		t.Fatalf("inventory --json is not the schema: %v", err)
	}
	if inv.SchemaVersion != collector.SchemaVersion || inv.CPU == nil || len(inv.Disks) != 1 || inv.HostIDSource != "mac" {
		t.Fatalf("inventory: %+v", inv)
	}

	// Re-snapshot the unpacked fixture and read that back: same host.
	dir := t.TempDir()
	if err := collector.UnpackSnapshotFile(inventoryFixture, dir); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(t.TempDir(), "again.tar.gz")
	if code, _, errs := invCLI(t, "snapshot", snap, "--root", dir); code != 0 {
		t.Fatalf("snapshot: exit %d: %s", code, errs)
	}
	code, out, errs = invCLI(t, "inventory", "--root", snap)
	if code != 0 || !strings.Contains(out, "Host ID:") || !strings.Contains(out, inv.HostID) || !strings.Contains(out, "AMD EPYC") {
		t.Fatalf("inventory of the re-snapshot: exit %d\n%s%s", code, out, errs)
	}

	for _, bad := range [][]string{{"snapshot"}, {"inventory", "x"}, {"inventory", "--root", filepath.Join(dir, "nope")}} {
		if code, _, _ := invCLI(t, bad...); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
}
