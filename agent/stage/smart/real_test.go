package smart

import (
	"context"
	"testing"

	"github.com/shakedown/shakedown/agent/internal/stagefake"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector/testutil"
	"github.com/shakedown/shakedown/collector/tool"
)

// TestRealDisksOfThisMachine runs the stage against the live root with the
// real smartctl (reads only: SMART ioctls and `smartctl -x`). Whatever the
// disks are, each must end up either read or reported as a finding: never a
// silent pass. On the development VM the one virtio disk cannot pass SMART:
// the stage warns (SMARTUnavailable).
func TestRealDisksOfThisMachine(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "smartctl")
	s := &Stage{}
	env, _ := stagefake.Env(t, Name, "/", &tool.Exec{}, stagefake.DefaultParams(s, "quick"))
	res, err := s.Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s/%s: %s", res.Status, res.Reason, res.Message)
	if res.Status == stage.Skip {
		t.Skip("no disk on this machine")
	}
	disks, _ := res.Summary["disks"].(map[string]any)
	if len(disks) == 0 || len(res.Artifacts) != 2*len(disks) {
		t.Fatalf("%d disks, %d artifacts", len(disks), len(res.Artifacts))
	}
	for id, v := range disks {
		d := v.(map[string]any)
		if d["health"] == "unreadable" {
			found := false
			for _, f := range res.Findings {
				if f.Subject == id && f.Code == "SMARTUnavailable" {
					found = true
				}
			}
			if !found || res.Status == stage.Pass {
				t.Errorf("%s unreadable but no SMARTUnavailable finding / stage passed: %+v", id, res.Findings)
			}
		}
	}
}
