package nativesmart

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/testutil"
	"github.com/shakedown/shakedown/collector/tool"
)

// TestSmartLiveLoopDevice runs the production reader end to end against a
// loop device (the only block device tests may touch): smart.go's ioctls fail,
// the real smartctl answers exit 1 "Unable to detect device type", and the
// result is "could not read", never a verdict.
func TestSmartLiveLoopDevice(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "smartctl", "losetup")
	ctx := context.Background()
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 16<<20); err != nil {
		t.Fatal(err)
	}
	run := &tool.Exec{}
	out, err := run.Run(ctx, tool.Cmd{Tool: "losetup", Args: []string{"-f", "--show", img}})
	if err != nil || out.ExitCode != 0 {
		if testutil.Required() {
			t.Fatalf("losetup failed (SHAKEDOWN_INTEGRATION=require): %v %s", err, out.Stderr)
		}
		t.Skipf("SKIPPED INTEGRATION TEST: losetup unavailable here: %v %s", err, out.Stderr)
	}
	loop := strings.TrimSpace(string(out.Stdout))
	t.Cleanup(func() { _, _ = run.Run(context.Background(), tool.Cmd{Tool: "losetup", Args: []string{"-d", loop}}) })

	env := collector.Env{Root: "/", Tools: run}
	_, err = NewReader(env).Read(ctx, loop)
	if !errors.Is(err, collector.ErrSmartUnreadable) || !strings.Contains(err.Error(), "smart.go") || !strings.Contains(err.Error(), "Unable to detect device type") {
		t.Fatalf("loop device: %v", err)
	}
	text, src, err := collector.SmartText(ctx, env, loop, nil)
	if err != nil || src != "smartctl" || !strings.Contains(string(text), "# smartctl exit status 1 (bit 0: command line did not parse or device type unknown)") {
		t.Fatalf("text: %v %s\n%s", err, src, text)
	}
}
