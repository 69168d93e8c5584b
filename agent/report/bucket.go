package report

import (
	"path"
	"time"
)

// Bucket object layout (brief §4; docs/report.md). Every key is built by
// these functions so the agent and the coordinator agree.
const (
	CheckpointSchema = "shakedown.checkpoint"
	LatestSchema     = "shakedown.latest"
	// CheckpointVersion and LatestVersion change when a field changes meaning.
	CheckpointVersion = 1
	LatestVersion     = 1
)

// File names inside a run's prefix.
const (
	JSONName       = "report.json"
	HTMLName       = "report.html"
	OCPName        = "ocp.jsonl"
	CheckpointName = "checkpoint.json"
	JournalName    = "journal.db"
	ArtifactsDir   = "artifacts"
)

// RunPrefix is runs/<host>/<run-id>.
func RunPrefix(host, runID string) string { return path.Join("runs", host, runID) }

// RunKey is runs/<host>/<run-id>/<name>.
func RunKey(host, runID, name string) string { return path.Join(RunPrefix(host, runID), name) }

// ArtifactKey is runs/<host>/<run-id>/artifacts/<name>.
func ArtifactKey(host, runID, name string) string {
	return path.Join(RunPrefix(host, runID), ArtifactsDir, name)
}

// LatestKey is hosts/<host>/latest.json.
func LatestKey(host string) string { return path.Join("hosts", host, "latest.json") }

// SpecKey is hosts/<host>/spec.yaml (operator-owned; agents only read it).
func SpecKey(host string) string { return path.Join("hosts", host, "spec.yaml") }

// Checkpoint is runs/<host>/<run-id>/checkpoint.json: the run's state at its
// last transition. A checkpoint whose state is a stage (Inventory ... PSU,
// Reporting) means the stage was open when it was written; if the host then
// boots again without finishing, that stage is where it crashed.
type Checkpoint struct {
	Schema  string    `json:"schema"`
	Version int       `json:"version"`
	At      time.Time `json:"at"`
	Run     Run       `json:"run"`
	Stages  []Stage   `json:"stages"`
	// Closed is set on a checkpoint written by a later boot that closed this
	// run as failed (the host crashed or rebooted during Run.State's stage).
	Closed *Closed `json:"closed,omitempty"`
	// Report is the report.json key once the Reporting stage wrote it.
	Report string `json:"report,omitempty"`
}

// Closed records who closed an interrupted run and why.
type Closed struct {
	// Stage is the stage that was open.
	Stage  string    `json:"stage"`
	Reason string    `json:"reason"`
	By     string    `json:"by"` // the run that found it: "run <id>"
	At     time.Time `json:"at"`
}

// Latest is hosts/<host>/latest.json: a pointer to the newest run of a host.
type Latest struct {
	Schema      string    `json:"schema"`
	Version     int       `json:"version"`
	HostID      string    `json:"host_id"`
	RunID       string    `json:"run_id"`
	State       string    `json:"state"`
	Result      string    `json:"result,omitempty"`
	FailedStage string    `json:"failed_stage,omitempty"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Checkpoint, Report and HTML are object keys (Report and HTML once written).
	Checkpoint string `json:"checkpoint"`
	Report     string `json:"report,omitempty"`
	HTML       string `json:"html,omitempty"`
}

// NewCheckpoint fills the schema fields.
func NewCheckpoint(at time.Time, run Run, stages []Stage) Checkpoint {
	return Checkpoint{Schema: CheckpointSchema, Version: CheckpointVersion, At: at.UTC(), Run: run, Stages: stages}
}

// LatestFor points at a checkpoint.
func LatestFor(c Checkpoint) Latest {
	return Latest{Schema: LatestSchema, Version: LatestVersion, HostID: c.Run.HostID, RunID: c.Run.ID,
		State: c.Run.State, Result: c.Run.Result, FailedStage: c.Run.FailedStage, UpdatedAt: c.At,
		Checkpoint: RunKey(c.Run.HostID, c.Run.ID, CheckpointName), Report: c.Report}
}
