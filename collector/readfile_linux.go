//go:build linux

package collector

import (
	"fmt"
	"io/fs"
	"sync"
	"syscall"
)

// readAllFile reads a sysfs/procfs file with open(2), read(2) and close(2)
// only. os.Open would also register the descriptor with the runtime poller
// (an fcntl and an epoll_ctl that fails for these files), allocate an
// os.File and set a cleanup on it: for an inventory that reads a few hundred
// one-line attributes, that is a third of its system calls. Reads go into a
// pooled buffer and the result is copied out at its exact size.
func readAllFile(path string) ([]byte, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	bp := readBufPool.Get().(*[]byte)
	defer readBufPool.Put(bp)
	buf := (*bp)[:0]
	for {
		if len(buf) == cap(buf) {
			if cap(buf) >= maxPseudoFile {
				break
			}
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := syscall.Read(fd, buf[len(buf):min(cap(buf), maxPseudoFile)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		if n == 0 {
			break
		}
		buf = buf[:len(buf)+n]
	}
	if cap(buf) <= readBufSize {
		*bp = buf[:0] // keep small buffers; let a grown one go
	}
	out := make([]byte, len(buf))
	copy(out, buf)
	return out, nil
}

// readBufSize is one page: a sysfs attribute never holds more.
const readBufSize = 4096

var readBufPool = sync.Pool{New: func() any { b := make([]byte, 0, readBufSize); return &b }}
