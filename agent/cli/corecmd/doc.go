// Package corecmd implements the commands that need the engine, the journal or
// the disk-writing stages: run, status, action and report, and the upload hook
// of run. They are declared (name and summary) in agent/cli/cmd_core.go so that
// both executables print the same command list; init() here supplies their Run
// with cli.Implement. Only bin/shakedown-agent-core links this package: the
// front, bin/shakedown-agent, execs the core for these commands
// (docs/architecture.md, "Two executables").
package corecmd
