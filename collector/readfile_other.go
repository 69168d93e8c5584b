//go:build !linux

package collector

import (
	"fmt"
	"io"
	"os"
)

// readAllFile is the portable readAll: os.Open and io.ReadAll.
func readAllFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPseudoFile))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}
