//go:build !linux

package storage

import (
	"errors"

	"github.com/shakedown/shakedown/collector"
)

type osOpener struct{ env collector.Env }

func (osOpener) Open(string, bool) (Handle, error) {
	return nil, errors.New("opening block devices needs Linux")
}
