package storage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/shakedown/shakedown/agent/stage/storage/wipeprobe"
	"github.com/shakedown/shakedown/collector"
)

// Candidate is one disk as the enumerator sees it: its identity and dev_t
// (collector.Disk) and the device node to open.
type Candidate struct {
	Disk collector.Disk
	Path string
}

// Enumerator lists the host's disks. The production one runs the collector's
// "disks" probe (sysfs/udev identity); tests inject loop devices with fake
// identities.
type Enumerator interface {
	Disks(ctx context.Context) ([]Candidate, error)
}

// Handle is an open device.
type Handle interface {
	// DevT is "major:minor" of the open file, from fstat: the device this
	// handle really is, whatever its path now names.
	DevT() (string, error)
	// Path names this open file for other programs (/proc/<pid>/fd/<n>):
	// badblocks, fio and wipefs open exactly the device we verified, even if
	// the device node was renamed or replaced since.
	Path() string
	// State reports whether the device is still there and writable (size in
	// bytes from sysfs, 0 when it is gone; the kernel read-only flag).
	State() (size int64, readOnly bool, err error)
	Close() error
}

// Opener opens devices; exclusive means O_EXCL (no mount, no md/dm assembly,
// no other exclusive user while we hold it).
type Opener interface {
	Open(path string, exclusive bool) (Handle, error)
}

// Prober is the three-voter wipe-probe.
type Prober interface {
	Probe(ctx context.Context, path string) wipeprobe.Report
}

// BootFinder returns the dev_t of every whole disk the running system uses
// (anything mounted from it, including the live medium), with a reason.
type BootFinder interface {
	BootDisks(ctx context.Context) (map[string]string, error)
}

// sysfsEnumerator runs the collector's disks probe.
type sysfsEnumerator struct{ env collector.Env }

func (e sysfsEnumerator) Disks(ctx context.Context) ([]Candidate, error) {
	var probe collector.Probe
	for _, p := range collector.Probes() {
		if p.Name() == "disks" {
			probe = p
		}
	}
	if probe == nil {
		return nil, fmt.Errorf("enumerate disks: the collector has no \"disks\" probe")
	}
	inv := &collector.Inventory{}
	if err := probe.Collect(ctx, e.env, inv); err != nil {
		return nil, fmt.Errorf("enumerate disks: %w", err)
	}
	out := make([]Candidate, 0, len(inv.Disks))
	for _, d := range inv.Disks {
		out = append(out, Candidate{Disk: d, Path: e.env.Dev(d.Name)})
	}
	return out, nil
}

// mountBoot finds boot disks from mountinfo: every mount whose source is a
// block device marks that device's whole disk.
type mountBoot struct{ env collector.Env }

func (b mountBoot) BootDisks(context.Context) (map[string]string, error) {
	data, err := os.ReadFile(b.env.Proc("self", "mountinfo"))
	if err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		fs := strings.Fields(line)
		if len(fs) < 5 {
			continue
		}
		devt := fs[2]
		if strings.HasPrefix(devt, "0:") {
			continue // virtual filesystems
		}
		disk := wholeDisk(b.env, devt)
		if disk == "" {
			continue
		}
		if _, ok := out[disk]; !ok {
			out[disk] = fmt.Sprintf("%s is mounted at %s", devt, fs[4])
		}
	}
	return out, nil
}

// wholeDisk maps a partition's dev_t to its disk's dev_t through sysfs.
func wholeDisk(env collector.Env, devt string) string {
	dir, err := filepath.EvalSymlinks(env.Sys("dev", "block", devt))
	if err != nil {
		return ""
	}
	if _, err := os.Stat(filepath.Join(dir, "partition")); err == nil {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(dir), "dev"))
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	return devt
}

// sysfsState reads a device's size and read-only flag from sysfs.
func sysfsState(env collector.Env, devt string) (int64, bool, error) {
	dir := env.Sys("dev", "block", devt)
	b, err := os.ReadFile(filepath.Join(dir, "size"))
	if os.IsNotExist(err) {
		return 0, false, nil // gone
	}
	if err != nil {
		return 0, false, fmt.Errorf("read size of %s: %w", devt, err)
	}
	sectors, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("read size of %s: %w", devt, err)
	}
	ro, err := os.ReadFile(filepath.Join(dir, "ro"))
	if err != nil {
		return sectors * 512, false, fmt.Errorf("read ro flag of %s: %w", devt, err)
	}
	return sectors * 512, strings.TrimSpace(string(ro)) == "1", nil
}
