package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/shakedown/shakedown/agent/cli"
)

// coreName is the core executable, installed next to this one.
const coreName = "shakedown-agent-core"

// coreEnv overrides where the core is.
const coreEnv = "SHAKEDOWN_AGENT_CORE"

// execCore replaces this process with shakedown-agent-core for a command the
// front does not implement (run, status, action, report, smart). This is deliberately
// not collector/tool.Runner: that runs an external tool as a child and waits for
// it, whereas this is the same program continuing in its other half. execve
// keeps the PID, so systemd, a shell's job control and signals (Ctrl-C,
// SIGTERM) reach the core directly, and stdin/stdout/stderr, the environment
// and the exit status are the core's own. It returns only when the exec failed.
func execCore(args []string, s cli.IO) int {
	path, looked, err := corePath()
	if err == nil {
		err = checkExecutable(path)
	}
	if err == nil {
		argv := append([]string{path}, args...)
		err = syscall.Exec(path, argv, os.Environ())
	}
	fmt.Fprintf(s.Stderr, "shakedown-agent %s: this command is in %s, which could not be run: %v\n"+
		"  looked at: %s\n"+
		"  `make build` builds both bin/shakedown-agent and bin/%s; install the two next to each other,\n"+
		"  or set %s to the core's path.\n",
		args[0], coreName, err, looked, coreName, coreEnv)
	return cli.ExitNoCore
}

// corePath is $SHAKEDOWN_AGENT_CORE, else shakedown-agent-core in the directory
// of this executable (symlinks resolved, so a link in /usr/local/bin to the
// installed front still finds the core next to the real file). looked says
// where it looked, for the error message.
func corePath() (path, looked string, err error) {
	if p := os.Getenv(coreEnv); p != "" {
		return p, fmt.Sprintf("%s (from $%s)", p, coreEnv), nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", "the directory of this executable (unknown)", fmt.Errorf("find this executable: %w", err)
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	p := filepath.Join(filepath.Dir(exe), coreName)
	return p, fmt.Sprintf("%s (next to %s; $%s is not set)", p, exe, coreEnv), nil
}

func checkExecutable(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return fmt.Errorf("%s: %w (not an executable file)", path, errors.ErrUnsupported)
	}
	return nil
}
