//go:build !linux

package tool

import "os/exec"

func setProcessGroup(*exec.Cmd)          {}
func terminateGroup(cmd *exec.Cmd) error { return cmd.Process.Kill() }
func killGroup(*exec.Cmd)                {}
