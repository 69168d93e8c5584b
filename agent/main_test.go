package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// forbidden says why the front executable must not link pkg ("" if it may).
// The front is copied onto production hosts to take an inventory or a
// snapshot: it must contain no engine, journal, report or disk-writing code,
// and it must start fast (no SQLite, html/template, smart.go or net/http init).
func forbidden(pkg string) string {
	const m = "github.com/shakedown/shakedown/"
	switch {
	case pkg == "modernc.org/sqlite" || strings.HasPrefix(pkg, "modernc.org/sqlite/"):
		return "SQLite"
	case pkg == "html/template":
		return "html/template"
	case pkg == "github.com/anatol/smart.go" || pkg == m+"collector/nativesmart":
		return "smart.go (its drive database is built at init: ~2 ms of every start)"
	case pkg == "net/http" || pkg == "crypto/tls":
		return "an HTTP client (the front makes no network connection; its init costs ~3 ms of every start; see collector/third_party/pcidb/PATCHES.md)"
	case pkg == m+"agent/stage/storage/wipeprobe":
		return "" // read-only probe, shared with the Storage stage
	case strings.HasPrefix(pkg, m+"agent/stage/"):
		return "a stage (Storage writes disks)"
	}
	for _, p := range []string{"agent/engine", "agent/journal", "agent/config", "agent/report", "agent/upload",
		"agent/register", "agent/sidecar", "agent/cli/corecmd"} {
		if pkg == m+p || strings.HasPrefix(pkg, m+p+"/") {
			return "core-only package " + p
		}
	}
	return ""
}

func goList(t *testing.T, pkg string) []string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("SKIPPED: the go tool is not on PATH, cannot check what the front links (CI has it)")
	}
	cmd := exec.Command("go", "list", "-deps", pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, ee.Stderr)
		}
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func TestFrontLinksNoCore(t *testing.T) {
	const m = "github.com/shakedown/shakedown/"
	deps := goList(t, m+"agent")
	seen := map[string]bool{}
	for _, d := range deps {
		seen[d] = true
		if why := forbidden(d); why != "" {
			t.Errorf("bin/shakedown-agent links %s (%s); it belongs in agent/cli/corecmd, only the core may import it", d, why)
		}
	}
	// The list is real: the front has its light commands, and the same check
	// on the core finds what the front must not have.
	for _, want := range []string{m + "agent/cli", m + "collector", m + "agent/stage/storage/wipeprobe"} {
		if !seen[want] {
			t.Errorf("front deps lack %s: go list output looks wrong", want)
		}
	}
	core := map[string]bool{}
	for _, d := range goList(t, m+"agent/core") {
		if forbidden(d) != "" {
			core[d] = true
		}
	}
	for _, want := range []string{"modernc.org/sqlite", "html/template", "github.com/anatol/smart.go", "net/http", m + "agent/journal", m + "agent/engine", m + "agent/stage/storage"} {
		if !core[want] {
			t.Errorf("core deps lack %s: the check would not notice it", want)
		}
	}
}

// TestTwoExecutables builds both binaries and runs the front the way a user
// does: read-only commands run in it, the rest exec the core (same PID).
func TestTwoExecutables(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED: builds both agent binaries (go build); not under -short")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("SKIPPED: the go tool is not on PATH")
	}
	bin := t.TempDir()
	front, core := filepath.Join(bin, "shakedown-agent"), filepath.Join(bin, "shakedown-agent-core")
	for out, pkg := range map[string]string{front: ".", core: "./core"} {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	env := []string{}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, coreEnv+"=") {
			env = append(env, e)
		}
	}
	type result struct {
		code           int
		pid            int
		stdout, stderr string
	}
	run := func(extraEnv []string, exe string, args ...string) result {
		t.Helper()
		cmd := exec.Command(exe, args...)
		cmd.Env = append(append([]string(nil), env...), extraEnv...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		r := result{stdout: out.String(), stderr: errb.String()}
		if cmd.Process != nil {
			r.pid = cmd.Process.Pid
		}
		var ee *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &ee):
			r.code = ee.ExitCode()
		default:
			t.Fatalf("%s %v: %v", exe, args, err)
		}
		return r
	}

	// version runs in the front and prints what the core prints.
	fv, cv := run(nil, front, "version"), run(nil, core, "version")
	if fv.code != 0 || cv.code != 0 || fv.stdout != cv.stdout || !strings.Contains(fv.stdout, "journal schema 1") {
		t.Fatalf("version: front %d %q, core %d %q", fv.code, fv.stdout, cv.code, cv.stdout)
	}

	// status on an empty state dir: the answer only the core can give.
	state := t.TempDir()
	st := run(nil, front, "status", "--json", "--state-dir", state)
	if st.code != 1 || !strings.Contains(st.stderr, "no journal at "+filepath.Join(state, "journal.db")) {
		t.Fatalf("status via the core: exit %d\n%s%s", st.code, st.stdout, st.stderr)
	}
	// run --help lists the generated stage flags (the core's config registry)
	// and the core's exit statuses come back unchanged.
	if r := run(nil, front, "run", "--help"); r.code != 0 || !strings.Contains(r.stderr, "-stage.storage.") {
		t.Fatalf("run --help via the core: exit %d\n%s", r.code, r.stderr)
	}
	if r := run(nil, front, "action"); r.code != 2 || !strings.Contains(r.stderr, "name the action") {
		t.Fatalf("action without a kind: exit %d %s", r.code, r.stderr)
	}

	// Through a symlink in another directory the core is found next to the real file.
	links := t.TempDir()
	if err := os.Symlink(front, filepath.Join(links, "shakedown-agent")); err != nil {
		t.Fatal(err)
	}
	if r := run(nil, filepath.Join(links, "shakedown-agent"), "status", "--state-dir", state); r.code != 1 || !strings.Contains(r.stderr, "no journal at") {
		t.Fatalf("status via a symlinked front: exit %d %s", r.code, r.stderr)
	}

	// SHAKEDOWN_AGENT_CORE is used, with the same PID and the arguments as given.
	fake := filepath.Join(t.TempDir(), "fake-core")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho \"pid $$ argv0 $0 args $*\"\nexit 7\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := run([]string{coreEnv + "=" + fake}, front, "run", "--profile", "quick")
	if want := "pid " + strconv.Itoa(r.pid) + " argv0 " + fake + " args run --profile quick\n"; r.code != 7 || r.stdout != want {
		t.Fatalf("%s: exit %d stdout %q, want 7 %q; stderr %s", coreEnv, r.code, r.stdout, want, r.stderr)
	}

	// A missing core: exit 127 and a message that says where it looked and what to do.
	for _, c := range []struct {
		name string
		env  []string
		prep func()
		want []string
	}{
		{"env path missing", []string{coreEnv + "=" + filepath.Join(bin, "nope")}, nil,
			[]string{filepath.Join(bin, "nope") + " (from $" + coreEnv + ")", "no such file"}},
		{"not executable", nil, func() { _ = os.Chmod(core, 0o644) },
			[]string{core + " (next to " + front + "; $" + coreEnv + " is not set)", "not an executable"}},
		{"core removed", nil, func() { _ = os.Remove(core) },
			[]string{core + " (next to " + front, "no such file"}},
	} {
		if c.prep != nil {
			c.prep()
		}
		r := run(c.env, front, "status", "--state-dir", state)
		if r.code != 127 {
			t.Errorf("%s: exit %d, want 127\n%s", c.name, r.code, r.stderr)
		}
		for _, w := range append(c.want, "shakedown-agent status:", "make build", "next to each other", coreEnv) {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", c.name, w, r.stderr)
			}
		}
	}
	// The read-only commands need no core.
	if r := run(nil, front, "spec", "defaults"); r.code != 0 {
		t.Fatalf("spec defaults without the core: exit %d %s", r.code, r.stderr)
	}
}
