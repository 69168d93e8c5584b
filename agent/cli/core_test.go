package cli

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
)

// In this test binary agent/cli/corecmd is not linked, as in the front
// executable: the Core commands are declared but have no Run.

func TestCoreCommandsReachTheHook(t *testing.T) {
	var got [][]string
	hook := WithCore(func(args []string, s IO) int {
		got = append(got, append([]string(nil), args...))
		return 42
	})
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Main(context.Background(), args, IO{Stdout: &out, Stderr: &errb}, hook)
		return code, out.String(), errb.String()
	}
	if code, _, errs := run("status", "--json", "--state-dir", "/x y"); code != 42 {
		t.Fatalf("status: exit %d, want the hook's 42; stderr %s", code, errs)
	}
	if code, _, _ := run("help", "run"); code != 42 {
		t.Fatalf("help run: exit %d, want the hook's 42", code)
	}
	want := [][]string{{"status", "--json", "--state-dir", "/x y"}, {"run", "--help"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("hook got %q, want %q", got, want)
	}
	// A command the front implements never reaches the hook.
	got = nil
	if code, out, _ := run("version"); code != 0 || !strings.HasPrefix(out, "shakedown-agent ") || got != nil {
		t.Fatalf("version: exit %d %q, hook got %q", code, out, got)
	}
	// Unknown commands are still usage errors, not handed to the core.
	if code, _, _ := run("frobnicate"); code != 2 || got != nil {
		t.Fatalf("frobnicate: exit %d, hook got %q", code, got)
	}
}

func TestCoreCommandWithoutHook(t *testing.T) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"report"}, IO{Stdout: &out, Stderr: &errb})
	if code != ExitNoCore || !strings.Contains(errb.String(), "shakedown-agent-core") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}

func TestHelpListsCoreCommands(t *testing.T) {
	var out bytes.Buffer
	if code := Main(context.Background(), []string{"--help"}, IO{Stdout: &out, Stderr: &out}); code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	for _, n := range []string{"run", "status", "action", "report", "inventory", "snapshot", "smart", "spec", "wipe-probe", "version"} {
		if !strings.Contains(out.String(), "\n  "+n+" ") {
			t.Errorf("help lacks %s:\n%s", n, out.String())
		}
	}
	if un := Unimplemented(); !reflect.DeepEqual(un, []string{"action", "report", "run", "smart", "status"}) {
		t.Errorf("unimplemented without corecmd: %q", un)
	}
}

func TestImplementPanics(t *testing.T) {
	noop := func(context.Context, IO, []string) error { return nil }
	for name, f := range map[string]func(){
		"undeclared":     func() { Implement("no-such-command", noop) },
		"not core":       func() { Implement("version", noop) },
		"nil run":        func() { Implement("run", nil) },
		"core with run":  func() { Register(Command{Name: "x-core", Core: true, Run: noop}) },
		"light, no run":  func() { Register(Command{Name: "x-light"}) },
		"declared twice": func() { Register(Command{Name: "run", Core: true}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
