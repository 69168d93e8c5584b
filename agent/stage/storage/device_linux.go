//go:build linux

package storage

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/shakedown/shakedown/collector"
)

// osOpener opens real devices.
type osOpener struct{ env collector.Env }

type osHandle struct {
	f   *os.File
	env collector.Env
}

func (o osOpener) Open(path string, exclusive bool) (Handle, error) {
	flags := unix.O_RDONLY | unix.O_CLOEXEC
	if exclusive {
		flags |= unix.O_EXCL
	}
	fd, err := unix.Open(path, flags, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("open %s: not a block device", path)
	}
	return &osHandle{f: os.NewFile(uintptr(fd), path), env: o.env}, nil
}

func (h *osHandle) DevT() (string, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(h.f.Fd()), &st); err != nil {
		return "", fmt.Errorf("stat %s: %w", h.f.Name(), err)
	}
	return fmt.Sprintf("%d:%d", unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev))), nil
}

func (h *osHandle) Path() string {
	return h.env.Proc(strconv.Itoa(os.Getpid()), "fd", strconv.Itoa(int(h.f.Fd())))
}

func (h *osHandle) State() (int64, bool, error) {
	d, err := h.DevT()
	if err != nil {
		return 0, false, err
	}
	return sysfsState(h.env, d)
}

func (h *osHandle) Close() error { return h.f.Close() }
