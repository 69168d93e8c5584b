package wipeprobe

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shakedown/shakedown/agent/stage/storage/diskfixture"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/tool"
)

// Real outputs of `wipefs --no-act --json --output DEVICE,OFFSET,LENGTH,TYPE,USAGE,UUID,LABEL`
// (util-linux 2.38.1) on fixtures made by mkfs.ext4, sgdisk, pvcreate,
// mkfs.vfat, cryptsetup, mkntfs and the test's ZFS label writer.
func TestParseWipefsCaptured(t *testing.T) {
	cases := []struct {
		file string
		want []string
	}{
		{"clean.json", []string{}},
		{"ext4.json", []string{"ext4@0x438"}},
		{"gpt.json", []string{"PMBR@0x1fe", "gpt@0x200", "gpt@0x3fffe00"}},
		{"lvm2.json", []string{"LVM2_member@0x218"}},
		{"vfat.json", []string{"vfat@0x0", "vfat@0x1fe", "vfat@0x36"}},
		{"luks2.json", []string{"crypto_LUKS@0x0", "crypto_LUKS@0x4000"}},
		{"ntfs.json", []string{"dos@0x1fe", "ntfs@0x3"}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", "wipefs", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sigs, err := ParseWipefs(f)
			if err != nil {
				t.Fatalf("ParseWipefs: %v", err)
			}
			got := sigKeys(sigs)
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			for _, s := range sigs {
				if s.Voter != VoterWipefs {
					t.Errorf("voter = %q", s.Voter)
				}
			}
		})
	}
	t.Run("zfs.json: every label uberblock", func(t *testing.T) {
		f, err := os.Open(filepath.Join("testdata", "wipefs", "zfs.json"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sigs, err := ParseWipefs(f)
		if err != nil || len(sigs) != 13 || sigs[0].Type != "zfs_member" {
			t.Fatalf("got %d signatures (%v), err %v; want 13 zfs_member", len(sigs), sigKeys(sigs), err)
		}
	})
}

func TestParseWipefsRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":              "",
		"not json":           "wipefs: error: /dev/sdz: probing initialization failed",
		"no signatures key":  `{"devices": []}`,
		"signatures null":    `{"signatures": null}`,
		"missing type":       `{"signatures": [{"offset": "0x0"}]}`,
		"missing offset":     `{"signatures": [{"type": "ext4"}]}`,
		"bad offset":         `{"signatures": [{"type": "ext4", "offset": "0xzz"}]}`,
		"negative offset":    `{"signatures": [{"type": "ext4", "offset": -1}]}`,
		"trailing garbage":   `{"signatures": []} {"signatures": []}`,
		"truncated":          `{"signatures": [{"type": "ext4", "offset": "0x438"`,
		"prefix before json": "warning: something\n{\"signatures\": []}",
	} {
		t.Run(name, func(t *testing.T) {
			if sigs, err := ParseWipefs(strings.NewReader(in)); err == nil {
				t.Fatalf("ParseWipefs(%q) = %v, nil; want an error (unknown)", in, sigs)
			}
		})
	}
	t.Run("numeric offset is accepted", func(t *testing.T) {
		sigs, err := ParseWipefs(strings.NewReader(`{"signatures": [{"type": "xfs", "offset": 0}]}`))
		if err != nil || len(sigs) != 1 || sigs[0].Offset != 0 {
			t.Fatalf("got %v, %v", sigs, err)
		}
	})
}

func FuzzParseWipefs(f *testing.F) {
	for _, n := range []string{"clean.json", "gpt.json", "zfs.json", "vfat.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "wipefs", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sigs, err := ParseWipefs(strings.NewReader(string(data)))
		if err != nil {
			return
		}
		for _, s := range sigs {
			if s.Type == "" || s.Offset < 0 || s.Voter != VoterWipefs {
				t.Fatalf("accepted a bad signature: %+v", s)
			}
		}
	})
}

// A clean image file with a faked wipefs: every way wipefs can fail makes the
// verdict unknown; only a parsed empty listing lets it be clean.
func TestProbeWipefsVoterFailsClosed(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "clean.img")
	if err := os.WriteFile(img, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	clean, err := os.ReadFile(filepath.Join("testdata", "wipefs", "clean.json"))
	if err != nil {
		t.Fatal(err)
	}
	ext4, err := os.ReadFile(filepath.Join("testdata", "wipefs", "ext4.json"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		fake *tool.Fake
		want Verdict
	}{
		{"clean listing", (&tool.Fake{}).Add(tool.Rule{Tool: "wipefs", Stdout: string(clean)}), Clean},
		{"wipefs sees what we do not", (&tool.Fake{}).Add(tool.Rule{Tool: "wipefs", Stdout: string(ext4)}), Data},
		{"wipefs not installed", &tool.Fake{Missing: map[string]bool{"wipefs": true}}, Unknown},
		{"wipefs exits 1", (&tool.Fake{}).Add(tool.Rule{Tool: "wipefs", ExitCode: 1, Stderr: "wipefs: error: probing initialization failed"}), Unknown},
		{"wipefs prints garbage", (&tool.Fake{}).Add(tool.Rule{Tool: "wipefs", Stdout: "{\"signatures\": ["}), Unknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Prober{Env: collector.Env{Root: "/", Tools: tc.fake}}
			rep := p.Probe(context.Background(), img)
			if rep.Verdict != tc.want {
				t.Fatalf("verdict = %s, want %s; %s", rep.Verdict, tc.want, rep.Summary())
			}
			if len(tc.fake.Calls) > 0 {
				args := strings.Join(tc.fake.Calls[0].Args, " ")
				if !strings.Contains(args, "--no-act") {
					t.Errorf("wipefs called without --no-act: %s", args)
				}
			}
		})
	}
}

func TestProbeUnreadableIsUnknown(t *testing.T) {
	fake := (&tool.Fake{}).Add(tool.Rule{Tool: "wipefs", Stdout: `{"signatures": []}`})
	p := Prober{Env: collector.Env{Root: "/", Tools: fake}}
	dir := t.TempDir()
	t.Run("missing path", func(t *testing.T) {
		rep := p.Probe(context.Background(), filepath.Join(dir, "nope"))
		if rep.Verdict != Unknown {
			t.Fatalf("verdict = %s; %s", rep.Verdict, rep.Summary())
		}
	})
	t.Run("empty file (detached device reports size 0)", func(t *testing.T) {
		p0 := filepath.Join(dir, "empty.img")
		if err := os.WriteFile(p0, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if rep := p.Probe(context.Background(), p0); rep.Verdict != Unknown {
			t.Fatalf("verdict = %s; %s", rep.Verdict, rep.Summary())
		}
	})
	t.Run("signature found by the probe alone is data", func(t *testing.T) {
		p1 := filepath.Join(dir, "md.img")
		f, err := os.Create(p1)
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
		rep := p.Probe(context.Background(), p1)
		if rep.Verdict != Data || !strings.Contains(rep.Summary(), "linux_raid_member@0x9f0000 (probe)") {
			t.Fatalf("verdict = %s; %s", rep.Verdict, rep.Summary())
		}
	})
}
