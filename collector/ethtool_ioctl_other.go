//go:build !linux

package collector

import (
	"context"
	"errors"

	"github.com/shakedown/shakedown/collector/tool"
)

// ioctlEthtool exists only on Linux; elsewhere the NIC probe runs ethtool.
type ioctlEthtool struct{}

func newIoctlEthtool(tool.Runner) (*ioctlEthtool, error) {
	return nil, errors.New("SIOCETHTOOL is Linux-only")
}

func (*ioctlEthtool) close() {}

func (*ioctlEthtool) query(context.Context, string, bool) ethtoolAnswers { return ethtoolAnswers{} }
