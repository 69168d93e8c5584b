//go:build linux

package wipeprobe

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/shakedown/shakedown/collector"
)

// kernelVote is the kernel voter: is the device held (device-mapper, md,
// bcache), mounted, used as swap, claimed exclusively by someone, or
// read-only? Image files have no kernel state: ok is false and nothing is
// reported. Problems reading sysfs/procfs are returned as unknown reasons.
func kernelVote(env collector.Env, path string) (sigs []Signature, unknown []string, block bool) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nil, []string{fmt.Sprintf("stat %s: %v", path, err)}, false
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return nil, nil, false
	case unix.S_IFBLK:
	default:
		return nil, []string{fmt.Sprintf("%s is neither a block device nor a regular file", path)}, false
	}
	devt := fmt.Sprintf("%d:%d", unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev)))
	sysDir := env.Sys("dev", "block", devt)
	if _, err := os.Stat(sysDir); err != nil {
		return nil, []string{fmt.Sprintf("read sysfs for %s (%s): %v", path, devt, err)}, true
	}
	kernelSig := func(typ, detail string) {
		sigs = append(sigs, Signature{Type: typ, Offset: -1, Voter: VoterKernel, Detail: detail})
	}

	ro, err := readTrim(filepath.Join(sysDir, "ro"))
	switch {
	case err != nil:
		unknown = append(unknown, fmt.Sprintf("read-only flag: %v", err))
	case ro == "1":
		unknown = append(unknown, "the kernel marks the device read-only")
	}

	// The disk and its partitions: dev_t and holders of each.
	devs := map[string]string{devt: filepath.Base(mustEval(sysDir))}
	holders, err := listDir(filepath.Join(sysDir, "holders"))
	if err != nil {
		unknown = append(unknown, fmt.Sprintf("holders: %v", err))
	}
	entries, err := os.ReadDir(sysDir)
	if err != nil {
		unknown = append(unknown, fmt.Sprintf("list partitions: %v", err))
	}
	for _, e := range entries {
		p := filepath.Join(sysDir, e.Name())
		if _, err := os.Stat(filepath.Join(p, "partition")); err != nil {
			continue
		}
		pd, err := readTrim(filepath.Join(p, "dev"))
		if err != nil {
			unknown = append(unknown, fmt.Sprintf("partition %s: %v", e.Name(), err))
			continue
		}
		devs[pd] = e.Name()
		ph, err := listDir(filepath.Join(p, "holders"))
		if err != nil {
			unknown = append(unknown, fmt.Sprintf("holders of %s: %v", e.Name(), err))
		}
		for _, h := range ph {
			holders = append(holders, h+" (on "+e.Name()+")")
		}
	}
	if len(holders) > 0 {
		sort.Strings(holders)
		kernelSig("kernel:holders", "held by "+strings.Join(holders, ", "))
	}

	mounts, err := mountsOf(env, devs)
	if err != nil {
		unknown = append(unknown, err.Error())
	}
	for _, m := range mounts {
		kernelSig("kernel:mounted", m)
	}

	swaps, err := swapsOf(env, devs)
	if err != nil {
		unknown = append(unknown, err.Error())
	}
	for _, s := range swaps {
		kernelSig("kernel:swap", s)
	}

	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_EXCL|unix.O_CLOEXEC, 0)
	switch {
	case err == nil:
		_ = unix.Close(fd)
	case errors.Is(err, unix.EBUSY):
		kernelSig("kernel:busy", "an exclusive open was refused (EBUSY): mounted, assembled or claimed by another program")
	default:
		unknown = append(unknown, fmt.Sprintf("exclusive open: %v", err))
	}
	return sigs, unknown, true
}

func mustEval(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

func readTrim(p string) (string, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// listDir lists a directory; a missing one is empty (not every device has
// a holders directory in a fixture tree).
func listDir(p string) ([]string, error) {
	es, err := os.ReadDir(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out, nil
}

// mountsOf reports mounts (from /proc/self/mountinfo) whose source is one of devs.
func mountsOf(env collector.Env, devs map[string]string) ([]string, error) {
	f, err := os.Open(env.Proc("self", "mountinfo"))
	if err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 5 {
			continue
		}
		if name, ok := devs[fs[2]]; ok {
			out = append(out, fmt.Sprintf("%s mounted at %s", name, unescapeMount(fs[4])))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	return out, nil
}

func unescapeMount(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}

// swapsOf reports active swap areas (from /proc/swaps) on one of devs.
func swapsOf(env collector.Env, devs map[string]string) ([]string, error) {
	f, err := os.Open(env.Proc("swaps"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // kernel without swap support
	}
	if err != nil {
		return nil, fmt.Errorf("read swaps: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 {
			continue
		}
		name := unescapeMount(fs[0])
		var st unix.Stat_t
		if err := unix.Stat(name, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFBLK {
			continue
		}
		d := fmt.Sprintf("%d:%d", unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev)))
		if n, ok := devs[d]; ok {
			out = append(out, n+" is active swap")
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read swaps: %w", err)
	}
	return out, nil
}
