package collector

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestReadAll compares readAll with os.ReadFile on real pseudo-files (one-page
// sysfs attributes, a procfs file longer than a page) and on regular files
// around the pooled buffer's size, and checks the cap and the error shapes.
func TestReadAll(t *testing.T) {
	dir := t.TempDir()
	sizes := []int{0, 1, readBufSize - 1, readBufSize, readBufSize + 1, 3*readBufSize + 7, 200 << 10}
	var paths []string
	for _, n := range sizes {
		p := filepath.Join(dir, "f"+string(rune('a'+len(paths))))
		b := bytes.Repeat([]byte("0123456789abcdef\n"), n/17+1)[:n]
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	for _, p := range []string{"/proc/self/status", "/proc/cpuinfo", "/sys/kernel/mm/transparent_hugepage/enabled"} {
		if _, err := os.Stat(p); err == nil {
			paths = append(paths, p)
		}
	}
	for _, p := range paths {
		want, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAll(p)
		if err != nil {
			t.Fatalf("readAll(%s): %v", p, err)
		}
		if len(got) > 0 && cap(got) != len(got) {
			t.Errorf("readAll(%s): cap %d, want the exact size %d (the pooled buffer must not leak out)", p, cap(got), len(got))
		}
		// /proc/self/status describes the reading process: compare its first line only.
		if filepath.Base(p) == "status" {
			want, _, _ = bytes.Cut(want, []byte("\n"))
			got, _, _ = bytes.Cut(got, []byte("\n"))
		}
		if !bytes.Equal(got, want) {
			t.Errorf("readAll(%s) = %d bytes, os.ReadFile %d bytes, or different content", p, len(got), len(want))
		}
	}

	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, maxPseudoFile+5000), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := readAll(big); err != nil || len(b) != maxPseudoFile {
		t.Errorf("readAll(over the cap) = %d bytes, %v; want %d bytes", len(b), err, maxPseudoFile)
	}

	_, err := readAll(filepath.Join(dir, "absent"))
	var pe *fs.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe.Op != "open" {
		t.Errorf("readAll(absent) error = %#v, want an open *fs.PathError matching fs.ErrNotExist", err)
	}
	if _, err := readAll(dir); err == nil {
		t.Errorf("readAll(a directory) = nil error")
	}
	if got := readString(filepath.Join(dir, "absent")); got != "" {
		t.Errorf("readString(absent) = %q", got)
	}
}

func BenchmarkReadString(b *testing.B) {
	p := "/sys/kernel/mm/transparent_hugepage/enabled"
	if _, err := os.Stat(p); err != nil {
		b.Skip("no sysfs attribute to read")
	}
	b.ReportAllocs()
	for b.Loop() {
		if readString(p) == "" {
			b.Fatal("empty")
		}
	}
}
