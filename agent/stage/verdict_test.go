package stage

import "testing"

func TestVerdict(t *testing.T) {
	var v Verdict
	if v.Status() != Pass {
		t.Fatal("empty verdict is not pass")
	}
	v.Info("Note", "", "fyi")
	v.Warn("Slow", "eth0", "slow")
	if v.Status() != Warn || v.Reason != "" {
		t.Fatalf("%s %q", v.Status(), v.Reason)
	}
	v.Fail("overheat", "Overheat", "cpu0", "hot")
	v.Fail("ecc", "ECC", "gpu0", "ecc")
	if v.Status() != Fail || v.Reason != "overheat" || len(v.Findings) != 4 || v.Findings[2].Severity != Critical || len(v.Fails) != 2 {
		t.Fatalf("%+v", v)
	}
}
