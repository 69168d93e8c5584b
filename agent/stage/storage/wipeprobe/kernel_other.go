//go:build !linux

package wipeprobe

import "github.com/shakedown/shakedown/collector"

// kernelVote needs Linux: elsewhere the kernel voter cannot decide.
func kernelVote(env collector.Env, path string) ([]Signature, []string, bool) {
	return nil, []string{"kernel state checks need Linux"}, false
}
