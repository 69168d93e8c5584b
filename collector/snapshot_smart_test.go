package collector

import (
	"context"
	"slices"
	"testing"

	"github.com/shakedown/shakedown/collector/tool"
)

// TestRecordSmartctl checks what `snapshot --smart` records: one
// `smartctl -j -x /dev/NAME` run per disk, whatever its exit status, and a
// "missing" record (no runs) when smartctl is not installed.
func TestRecordSmartctl(t *testing.T) {
	disks := []Disk{{Name: "nvme0n1"}, {Name: "sda"}, {Name: "vda"}}
	fake := (&tool.Fake{}).
		Add(tool.Rule{Tool: "smartctl", Match: tool.ArgsContain("/dev/nvme0n1"), StdoutFile: "testdata/smartctl/nvme-samsung-970-evo-plus-healthy.json"}).
		Add(tool.Rule{Tool: "smartctl", Match: tool.ArgsContain("/dev/sda"), StdoutFile: "testdata/smartctl/sat-toshiba-exit7.json", ExitCode: 7}).
		Add(tool.Rule{Tool: "smartctl", Match: tool.ArgsContain("/dev/vda"), StdoutFile: "testdata/smartctl/local-virtio-unable-to-detect-exit1.json", ExitCode: 1})
	rec := &recorder{inner: fake}
	env := Env{Root: "/", Tools: rec}
	if err := recordSmartctl(context.Background(), env, rec, disks); err != nil {
		t.Fatal(err)
	}
	if len(rec.runs) != 3 {
		t.Fatalf("%d runs recorded, want 3: %+v", len(rec.runs), rec.runs)
	}
	for i, want := range []struct {
		dev  string
		exit int
	}{{"/dev/nvme0n1", 0}, {"/dev/sda", 7}, {"/dev/vda", 1}} {
		r := rec.runs[i]
		if r.rec.Tool != "smartctl" || !slices.Equal(r.rec.Args, []string{"-j", "-x", want.dev}) || r.rec.ExitCode != want.exit || len(r.stdout) == 0 || r.rec.Missing {
			t.Errorf("run %d = %+v (%d bytes)", i, r.rec, len(r.stdout))
		}
	}

	missing := &recorder{inner: &tool.Fake{Missing: map[string]bool{"smartctl": true}}}
	if err := recordSmartctl(context.Background(), Env{Root: "/", Tools: missing}, missing, disks); err != nil {
		t.Fatal(err)
	}
	if len(missing.runs) != 1 || !missing.runs[0].rec.Missing {
		t.Errorf("without smartctl: %+v, want one missing record", missing.runs)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	slow := &recorder{inner: (&tool.Fake{}).Add(tool.Rule{Tool: "smartctl", Delay: 1e9})}
	if err := recordSmartctl(ctx, Env{Root: "/", Tools: slow}, slow, disks); err == nil {
		t.Error("a cancelled context must end the recording with an error")
	}
}
