package cli

// The commands implemented in the core executable (bin/shakedown-agent-core,
// package agent/cli/corecmd): they need the engine, the journal, the report
// renderer, the disk-writing stages or smart.go (whose drive database costs
// every binary that links it ~2 ms of package init), none of which the front
// links. They are
// declared here so that both executables list them in their help; the front
// execs the core to run them.
func init() {
	for _, c := range []Command{
		{Name: "run", Summary: "run the validation stages (resumes a held run)"},
		{Name: "status", Summary: "show the run's state (from the running agent or the journal)"},
		{Name: "action", Summary: "retry, override or abandon a held run; release a completed one"},
		{Name: "report", Summary: "render report.html, report.json and ocp.jsonl of a run from the journal"},
		{Name: "smart", Summary: "read one disk's SMART health (read-only; exit 0 passed, 3 failed, 4 unknown, 1 unreadable)"},
	} {
		c.Core = true
		Register(c)
	}
}
