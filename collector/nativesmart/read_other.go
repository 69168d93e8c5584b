//go:build !linux

package nativesmart

import (
	"context"
	"fmt"

	"github.com/shakedown/shakedown/collector"
)

// Reader has no ioctl path off Linux; NewReader's smartctl fallback answers.
type Reader struct{}

func (Reader) Read(_ context.Context, path string) (*collector.SmartReport, error) {
	return nil, fmt.Errorf("smart.go on this OS %s: %w", path, collector.ErrSmartUnsupported)
}
