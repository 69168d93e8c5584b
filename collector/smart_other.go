//go:build !linux

package collector

import (
	"context"
	"fmt"
)

// nativeSmartReader has no ioctl path off Linux; smartctl is used instead.
type nativeSmartReader struct{}

func (nativeSmartReader) Read(_ context.Context, path string) (*SmartReport, error) {
	return nil, fmt.Errorf("smart.go on this OS %s: %w", path, ErrSmartUnsupported)
}
