//go:build linux

package collector

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps a regular file read-only: the page cache's pages are used as
// they are, with no 1.3 MB heap buffer to allocate, fault in and copy into
// (for pci.ids that copy was most of the PCI database's cost). release
// unmaps. Only for files replaced by rename, never rewritten in place (a
// file truncated under the mapping faults the reader). An empty file or one
// that cannot be mapped is read instead.
func mapFile(path string) ([]byte, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if fi.Mode().IsRegular() && fi.Size() > 0 && fi.Size() < 1<<30 {
		if b, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED); err == nil {
			return b, func() { unix.Munmap(b) }, nil
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return b, func() {}, nil
}
