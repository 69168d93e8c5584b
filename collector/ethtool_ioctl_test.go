//go:build linux

package collector

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shakedown/shakedown/collector/testutil"
	"github.com/shakedown/shakedown/collector/tool"
)

// bitmapOf sets the link mode bits named (ethtool's spelling) in an nwords
// host-endian u32 bitmap.
func bitmapOf(t *testing.T, nwords int, modes []string) []byte {
	t.Helper()
	b := make([]byte, 4*nwords)
	for _, m := range modes {
		found := false
		for i, n := range linkModeNames {
			if n == m {
				w := binary.NativeEndian.Uint32(b[i/32*4:])
				binary.NativeEndian.PutUint32(b[i/32*4:], w|1<<(i%32))
				found = true
			}
		}
		if !found {
			t.Fatalf("link mode %q not in linkModeNames", m)
		}
	}
	return b
}

// TestDecodeLinkSettingsMatchesEthtoolText: the kernel bitmap of the modes
// real ethtool outputs list decodes to the same modes and maximum speed as
// parsing that output.
func TestDecodeLinkSettingsMatchesEthtoolText(t *testing.T) {
	for _, tc := range []struct {
		file   string
		speed  uint32
		duplex byte
	}{
		{"ixgbe-10g-port-at-1g.txt", 1000, 1},
		{"igb-link-down.txt", 0xffffffff, 0xff},
		{"virtio-eth0.txt", 0xffffffff, 0xff},
	} {
		want, err := parseEthtoolSettings(openTestdata(t, "tools/ethtool/"+tc.file))
		if err != nil {
			t.Fatal(err)
		}
		want.LinkDetected = nil // ETHTOOL_GLINK, not part of the link settings
		var got ethtoolSettings
		if err := decodeLinkSettings(&got, tc.speed, tc.duplex, bitmapOf(t, 3, want.SupportedModes)); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s (-ethtool text +ioctl decode):\n%s", tc.file, d)
		}
	}
}

func TestDecodeLinkSettingsEdges(t *testing.T) {
	var s ethtoolSettings
	// Ports, pause and FEC bits are not link modes; 0xffff is SPEED_UNKNOWN as ethtool reads the legacy u16.
	if err := decodeLinkSettings(&s, 0xffff, 2, bitmapOf(t, 1, nil)); err != nil || s.SpeedMbps != nil || s.Duplex != "" || s.MaxSpeedMbps != nil {
		t.Errorf("unknown speed/duplex: %+v %v", s, err)
	}
	b := make([]byte, 4*4)
	b[0] = 1<<6 | 1<<7 // Autoneg, TP
	b[2] = 1 << 4      // bit 20: 10000baseR_FEC, a FEC mode
	if err := decodeLinkSettings(&s, 0, 0, b); err != nil || len(s.SupportedModes) != 0 || s.MaxSpeedMbps != nil || s.Duplex != "half" {
		t.Errorf("non-mode bits: %+v %v", s, err)
	}
	s = ethtoolSettings{}
	b = bitmapOf(t, 4, []string{"25000baseSR/Full", "100000baseSR4/Full", "1000baseX/Full"})
	if err := decodeLinkSettings(&s, 25000, 1, b); err != nil || s.MaxSpeedMbps == nil || *s.MaxSpeedMbps != 100000 || *s.SpeedMbps != 25000 {
		t.Errorf("100G: %+v %v", s, err)
	}
	b[len(b)-1] = 0x80 // bit 127: newer than the table
	if err := decodeLinkSettings(&s, 0, 0, b); !errors.Is(err, errUnknownLinkMode) {
		t.Errorf("unknown bit: err %v, want errUnknownLinkMode", err)
	}
}

func FuzzDecodeLinkSettings(f *testing.F) {
	f.Add(uint32(1000), byte(1), []byte{0x28, 0x10, 0, 0})
	f.Fuzz(func(t *testing.T, speed uint32, duplex byte, bm []byte) {
		var s ethtoolSettings
		if err := decodeLinkSettings(&s, speed, duplex, bm); err == nil && s.MaxSpeedMbps != nil && *s.MaxSpeedMbps <= 0 {
			t.Errorf("max speed %d", *s.MaxSpeedMbps)
		}
	})
}

// TestIoctlEthtoolMatchesEthtool asks every interface of this machine both
// ways: the SIOCETHTOOL answers must equal what the ethtool program prints.
func TestIoctlEthtoolMatchesEthtool(t *testing.T) {
	testutil.RequireTools(t, "ethtool")
	ents, err := os.ReadDir("/sys/class/net")
	if err != nil || len(ents) == 0 {
		t.Skipf("no network interfaces: %v", err)
	}
	src, err := newIoctlEthtool(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.close()
	exec := runnerEthtool{tools: &tool.Exec{}}
	ctx := context.Background()
	for _, e := range ents {
		name := e.Name()
		want := exec.query(ctx, name, true)
		got := src.query(ctx, name, true)
		if want.settings == nil {
			t.Logf("%s: ethtool shows no settings (%v); ioctl: %+v", name, want.settingsErr, got.settings)
		} else if d := cmp.Diff(want.settings, got.settings); d != "" {
			t.Errorf("%s settings (-ethtool +ioctl):\n%s", name, d)
		}
		if d := cmp.Diff(want.driver, got.driver); d != "" {
			t.Errorf("%s driver info (-ethtool -i +ioctl):\n%s", name, d)
		}
		if want.permMAC != got.permMAC {
			t.Errorf("%s permanent MAC: ethtool -P %q, ioctl %q", name, want.permMAC, got.permMAC)
		}
		t.Logf("%s: settings %+v driver %+v perm %q", name, got.settings, got.driver, got.permMAC)
	}
}

// TestNICEthtoolSource: ioctls on the live system with tools allowed; the
// ethtool program while a snapshot records; the recordings for a snapshot
// root; nothing when tools are not allowed or not recorded.
func TestNICEthtoolSource(t *testing.T) {
	fake := &tool.Fake{}
	rec := newTree(t).recordTool("ethtool", []string{"eth0"}, "testdata/tools/ethtool/virtio-eth0.txt")
	for _, tc := range []struct {
		name string
		env  Env
		want string
	}{
		{"live", Env{Root: "/", Tools: fake}, "ioctl"},
		{"live, recording a snapshot", Env{Root: "/", Tools: &recorder{inner: fake}}, "runner"},
		{"live, no tools", Env{Root: "/"}, "none"},
		{"snapshot with recordings", rec.env(), "runner"},
		{"fixture without recordings", newTree(t).env(), "none"},
	} {
		src, closeSrc := nicEthtoolSource(tc.env)
		got := "none"
		switch src.(type) {
		case *ioctlEthtool:
			got = "ioctl"
		case runnerEthtool:
			got = "runner"
		}
		closeSrc()
		if got != tc.want {
			t.Errorf("%s: source %s (%T), want %s", tc.name, got, src, tc.want)
		}
	}
}
