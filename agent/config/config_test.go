package config

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shakedown/shakedown/agent/stage"
)

type paramStage struct{ name string }

func (p paramStage) Name() string                  { return p.name }
func (p paramStage) Destructive() bool             { return false }
func (p paramStage) DefaultTimeout() time.Duration { return 10 * time.Minute }
func (p paramStage) Run(context.Context, *stage.Env) (stage.Result, error) {
	return stage.Result{}, nil
}
func (p paramStage) Params() []stage.Param {
	return []stage.Param{
		{Name: "duration", Kind: stage.KindDuration, Default: "120s", ByProfile: map[string]string{Quick: "30s", Safe: "20s"}},
		{Name: "vm_bytes", Kind: stage.KindSize, Default: "1GiB"},
		{Name: "workers", Kind: stage.KindInt, Default: "0"},
	}
}

var order = []string{"Inventory", "CPUStress", "GPU"}

func withStages(t *testing.T) {
	t.Helper()
	t.Cleanup(stage.Replace(paramStage{"CPUStress"}))
}

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "agent.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProfilesGiveStageDefaults(t *testing.T) {
	withStages(t)
	for profile, want := range map[string]time.Duration{Safe: 20 * time.Second, Quick: 30 * time.Second, Full: 120 * time.Second} {
		c, err := New(profile, order)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Stage("CPUStress").Params.Duration("duration"); got != want {
			t.Errorf("%s: duration %v, want %v", profile, got, want)
		}
		if c.Stage("CPUStress").Timeout != 10*time.Minute || !c.Stage("GPU").Enabled {
			t.Errorf("%s: defaults %+v %+v", profile, c.Stage("CPUStress"), c.Stage("GPU"))
		}
	}
	if _, err := New("extreme", order); err == nil || !strings.Contains(err.Error(), "safe, quick, full") {
		t.Fatalf("unknown profile: %v", err)
	}
}

func TestLoadOverridesInOrder(t *testing.T) {
	withStages(t)
	p := write(t, `
profile: quick
stages:
  cpustress:
    duration: 45s
    timeout: 3m
    vm_bytes: 2GiB
  gpu:
    enabled: false
thresholds:
  max_temp_c: 85
`)
	c, err := Load(p, "", order)
	if err != nil {
		t.Fatal(err)
	}
	cpu := c.Stage("CPUStress")
	if c.Profile != Quick || cpu.Params.Duration("duration") != 45*time.Second || cpu.Timeout != 3*time.Minute || cpu.Params.Size("vm_bytes") != 2<<30 {
		t.Fatalf("config: %+v %+v", c, cpu)
	}
	if c.Stage("GPU").Enabled || c.Thresholds.Float("max_temp_c") != 85 || c.Thresholds.Float("psu_dip_percent") != 5 {
		t.Fatalf("gpu %+v thresholds %v", c.Stage("GPU"), c.Thresholds)
	}
	// The command line's profile wins over the file's, the file's values still apply.
	c, err = Load(p, Full, order)
	if err != nil {
		t.Fatal(err)
	}
	if c.Profile != Full || c.Stage("CPUStress").Params.Duration("duration") != 45*time.Second {
		t.Fatalf("profile override: %s %v", c.Profile, c.Stage("CPUStress").Params)
	}
	// Flags win over the file.
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := RegisterFlags(fs, order)
	if err := fs.Parse([]string{"--stage.cpustress.duration=5s", "--threshold.max_temp_c=70", "--stage.skip=inventory", "--stage.gpu.enabled=true"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Apply(c); err != nil {
		t.Fatal(err)
	}
	if c.Stage("CPUStress").Params.Duration("duration") != 5*time.Second || c.Thresholds.Float("max_temp_c") != 70 || c.Stage("Inventory").Enabled || !c.Stage("GPU").Enabled {
		t.Fatalf("flags not applied: %+v", c)
	}
}

func TestLoadRejectsWithPosition(t *testing.T) {
	withStages(t)
	cases := []struct {
		name, body, want string
	}{
		{"unknown top key", "profile: safe\nstagez: {}\n", "agent.yaml:2:1: stagez: unknown key (known: profile, stages, thresholds)"},
		{"unknown stage", "stages:\n  cpu_stress:\n    duration: 1s\n", "agent.yaml:2:3: stages.cpu_stress: unknown stage (known: inventory, cpustress, gpu)"},
		{"unknown param", "stages:\n  cpustress:\n    durration: 1s\n", "agent.yaml:3:5: stages.cpustress.durration: unknown key (known: enabled, timeout, duration, vm_bytes, workers)"},
		{"bad duration", "stages:\n  cpustress:\n    duration: forever\n", `agent.yaml:3:15: stages.cpustress.duration: "forever" is not a duration`},
		{"size without unit", "stages:\n  cpustress:\n    vm_bytes: 1024\n", `has no unit`},
		{"bad bool", "stages:\n  gpu:\n    enabled: perhaps\n", `"perhaps" is not a boolean`},
		{"unknown threshold", "thresholds:\n  max_tmp_c: 80\n", "agent.yaml:2:3: thresholds.max_tmp_c: unknown threshold"},
		{"bad threshold", "thresholds:\n  max_temp_c: hot\n", `"hot" is not a number`},
		{"null value", "stages:\n  cpustress:\n    duration:\n", "has no value"},
		{"duplicate", "profile: safe\nprofile: full\n", "duplicate"},
		{"unknown profile", "profile: turbo\n", "unknown profile \"turbo\""},
		{"empty", "  \n", "config file is empty"},
		{"not a mapping", "- a\n- b\n", "must be a mapping"},
		{"tabs", "stages:\n\tcpustress: {}\n", "agent.yaml"},
		{"negative timeout", "stages:\n  cpustress:\n    timeout: -5s\n", "not a positive duration"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(write(t, tc.body), "", order)
			if err == nil {
				t.Fatalf("accepted:\n%s", tc.body)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestFlagErrorsNameTheFlag(t *testing.T) {
	withStages(t)
	c, _ := New(Safe, order)
	for _, args := range [][]string{
		{"--stage.cpustress.duration=soon"},
		{"--threshold.max_temp_c=warm"},
		{"--stage.skip=cpu"},
	} {
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f := RegisterFlags(fs, order)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		err := f.Apply(c)
		if err == nil || !strings.Contains(err.Error(), strings.SplitN(strings.TrimPrefix(args[0], "--"), "=", 2)[0]) {
			t.Errorf("%v: %v", args, err)
		}
	}
}

func FuzzLoad(f *testing.F) {
	f.Add("profile: quick\nstages:\n  cpustress:\n    duration: 45s\nthresholds:\n  max_temp_c: 85\n")
	f.Add("a: &a [*a, *a]\n")
	f.Add("stages: {gpu: {enabled: false}}")
	restore := stage.Replace(paramStage{"CPUStress"})
	defer restore()
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body string) {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Skip()
		}
		c, err := Load(p, "", order)
		if err == nil && !ValidProfile(c.Profile) {
			t.Fatalf("accepted invalid profile %q", c.Profile)
		}
	})
}
