package diskfixture

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shakedown/shakedown/collector/tool"
)

// Runner runs setup commands (mkfs, losetup, ...) through the project's tool
// gateway, quietly.
var Runner = &tool.Exec{Log: slog.New(slog.DiscardHandler), KillGrace: time.Second}

// Run runs a setup command and fails the test when it does not exit 0.
func Run(t testing.TB, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := Runner.Run(ctx, tool.Cmd{Tool: name, Args: args, Env: env})
	if err != nil || out.ExitCode != 0 {
		t.Fatalf("fixture: %s %s: exit %d, err %v\nstdout: %s\nstderr: %s", name, strings.Join(args, " "),
			out.ExitCode, err, out.Stdout, out.Stderr)
	}
	return strings.TrimSpace(string(out.Stdout))
}

// Sparse creates a sparse file of size bytes in dir.
func Sparse(t testing.TB, dir, name string, size int64) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// Patch opens path for writing and applies fn to it (for structures written
// from their on-disk format, and for zeroing heads and tails).
func Patch(t testing.TB, path string, fn func(w io.WriterAt, size int64) error) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		t.Fatal(err)
	}
	if err := fn(f, size); err != nil {
		t.Fatalf("patch %s: %v", path, err)
	}
}

// Loop attaches path to a free loop device (extra losetup args such as
// "--offset", "1048576" allowed) and detaches it when the test ends.
func Loop(t testing.TB, path string, extra ...string) string {
	t.Helper()
	args := append([]string{"--find", "--show"}, extra...)
	dev := Run(t, nil, "losetup", append(args, path)...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// A loop device keeps a BLKROSET read-only flag across detach and
		// re-attach: clear it, or the next user of this loop device gets a
		// read-only disk.
		_, _ = Runner.Run(ctx, tool.Cmd{Tool: "blockdev", Args: []string{"--setrw", dev}})
		_, _ = Runner.Run(ctx, tool.Cmd{Tool: "losetup", Args: []string{"--detach", dev}})
	})
	return dev
}

// SHA256 hashes a whole file or device.
func SHA256(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatalf("hash %s: %v", path, err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// UniqueName returns a short random name (LVM volume groups are host-global).
func UniqueName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// PV makes dev an LVM2 physical volume in a fresh volume group with one
// (inactive, metadata-only) logical volume filling it, then exports the group
// so the host's LVM leaves it alone. The LV's data starts at the PV's
// pe_start (1 MiB by default).
func PV(t testing.TB, dev string) {
	t.Helper()
	vg := UniqueName("h6vg")
	// Only look at this one device, and keep no metadata backups on the host.
	cfg := fmt.Sprintf(`devices { filter = [ "a|^%s$|", "r|.*|" ] } backup { backup = 0 archive = 0 }`, dev)
	env := []string{"LVM_SUPPRESS_FD_WARNINGS=1"}
	Run(t, env, "pvcreate", "--config", cfg, "-ff", "-y", dev)
	Run(t, env, "vgcreate", "--config", cfg, vg, dev)
	Run(t, env, "lvcreate", "--config", cfg, "--driverloaded", "n", "-an", "-Zn", "-l", "100%FREE", "-n", "lv", vg)
	Run(t, env, "vgexport", "--config", cfg, vg)
}
