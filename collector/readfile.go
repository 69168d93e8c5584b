package collector

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// maxPseudoFile caps how much of one sysfs/procfs file is read. Pseudo-files
// report a size of 0 or 4096 whatever they hold, so they are read to EOF, never
// by their stat size.
const maxPseudoFile = 4 << 20

// readAll reads a whole (pseudo-)file without trusting its stat size, up to
// maxPseudoFile bytes (readAllFile: raw syscalls on Linux, see readfile_linux.go).
func readAll(path string) ([]byte, error) {
	return readAllFile(path)
}

// readString reads a one-value file and trims surrounding white space and NULs.
// Absent or unreadable files give "".
func readString(path string) string {
	b, err := readAll(path)
	if err != nil {
		return ""
	}
	return strings.Trim(string(b), " \t\r\n\x00")
}

// readInt reads a one-integer file; ok is false when absent or not a number.
func readInt(path string) (int64, bool) {
	s := readString(path)
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return v, true
}

// readUint reads a one-unsigned-integer file.
func readUint(path string) (uint64, bool) {
	s := readString(path)
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return v, true
}

// linkBase returns the last element of a symlink's target ("" when not a link).
func linkBase(path string) string {
	t, err := os.Readlink(path)
	if err != nil {
		return ""
	}
	return filepath.Base(t)
}

func ptr[T any](v T) *T { return &v }

// cleanID trims an identity string read from firmware or a device: space
// padding (ATA, SCSI and SMBIOS pad with blanks), NULs and control bytes.
func cleanID(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// readHostname reads the kernel host name under Root.
func readHostname(env Env) string {
	return readString(env.Proc("sys", "kernel", "hostname"))
}
