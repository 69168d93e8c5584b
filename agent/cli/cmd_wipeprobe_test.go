package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/shakedown/shakedown/agent/stage/storage/diskfixture"
	"github.com/shakedown/shakedown/collector/testutil"
)

func TestWipeProbeCommandExitStatus(t *testing.T) {
	testutil.RequireTools(t, "wipefs")
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean.img")
	if err := os.WriteFile(clean, make([]byte, 4<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	md := filepath.Join(dir, "md.img")
	f, err := os.Create(md)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(10 << 20); err != nil {
		t.Fatal(err)
	}
	if err := diskfixture.WriteMD090(f, 10<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	missing := filepath.Join(dir, "missing.img")

	run := func(args ...string) (int, []byte) {
		var out, errb bytes.Buffer
		code := Main(context.Background(), append([]string{"wipe-probe"}, args...), IO{Stdout: &out, Stderr: &errb})
		return code, out.Bytes()
	}
	if code, out := run(clean); code != 0 {
		t.Errorf("clean image: exit %d, want 0\n%s", code, out)
	}
	if code, out := run(clean, md); code != 3 {
		t.Errorf("clean + md 0.90 image: exit %d, want 3\n%s", code, out)
	}
	if code, out := run(md, missing); code != 4 {
		t.Errorf("md + missing: exit %d, want 4 (unknown wins)\n%s", code, out)
	}
	code, out := run(md, "--json")
	if code != 3 {
		t.Errorf("--json after the path: exit %d, want 3", code)
	}
	var reps []struct {
		Path       string `json:"path"`
		Verdict    string `json:"verdict"`
		Signatures []struct {
			Type   string `json:"type"`
			Offset int64  `json:"offset"`
			Voter  string `json:"voter"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(out, &reps); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if len(reps) != 1 || reps[0].Path != md || reps[0].Verdict != "data" || len(reps[0].Signatures) == 0 ||
		reps[0].Signatures[0].Type != "linux_raid_member" || reps[0].Signatures[0].Offset != 0x9f0000 {
		t.Errorf("--json report = %+v", reps)
	}
	if code, _ := run(); code != 2 {
		t.Errorf("no paths: exit %d, want 2 (usage)", code)
	}
}
