//go:build !linux

package collector

import "os"

// mapFile reads the file (mapping is only used on Linux).
func mapFile(path string) ([]byte, func(), error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return b, func() {}, nil
}
