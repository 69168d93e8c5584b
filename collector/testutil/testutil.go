// Package testutil holds helpers shared by tests across the module: the policy
// for integration tests that need root or real tools, and small fixtures.
//
// Policy: a test that needs root or a real tool calls Require*. When the
// prerequisite is missing the test is skipped with a loud reason, unless
// SHAKEDOWN_INTEGRATION=require is set (make test sets it when running as root,
// and so does CI), in which case the test fails: a skipped integration test
// never counts as passing in CI.
package testutil

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Required reports whether missing prerequisites must fail tests.
func Required() bool { return os.Getenv("SHAKEDOWN_INTEGRATION") == "require" }

func missing(t testing.TB, why string) {
	t.Helper()
	if Required() {
		t.Fatalf("INTEGRATION PREREQUISITE MISSING (SHAKEDOWN_INTEGRATION=require): %s", why)
	}
	t.Skipf("SKIPPED INTEGRATION TEST: %s (run 'make test' as root after 'scripts/install-deps.sh' to run it)", why)
}

// RequireRoot skips (or fails, see package doc) unless running as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		missing(t, "needs root")
	}
}

// RequireTools skips (or fails) unless every named program is on PATH.
func RequireTools(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			missing(t, "needs "+n+" on PATH")
		}
	}
}

// RequireLong skips long integration tests under `go test -short`. It never
// fails: -short is an explicit request.
func RequireLong(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("SKIPPED: long integration test under -short")
	}
}

// U64 dereferences an optional counter for comparison and printing: nil (absent)
// stays nil, so an absent value never compares equal to a zero.
func U64(p *uint64) any {
	if p == nil {
		return nil
	}
	return *p
}

// HasString reports whether any element of list contains sub.
func HasString(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
