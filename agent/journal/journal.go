// Package journal is the agent's run journal: one SQLite database (pure-Go
// driver modernc.org/sqlite, WAL mode) with the tables the seed names (runs,
// stages, measurements, artifacts, spec_diffs) plus the operator-action audit
// trail (actions), facts passed between stages (facts) and the schema version.
//
// The journal is the authority on a run: the engine writes every transition
// before acting on it, so a crash or power loss leaves a journal that says
// exactly which stage was open (brief §3).
package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/agent/version"
)

// ErrNotFound is returned when a run or fact does not exist.
var ErrNotFound = errors.New("not found")

// migrations are applied in order; index+1 is the schema version. Adding one
// means raising version.JournalSchema too: the build fails until they agree.
var migrations = [...]string{
	`CREATE TABLE runs (
		id            TEXT PRIMARY KEY,
		host_id       TEXT NOT NULL DEFAULT '',
		profile       TEXT NOT NULL,
		state         TEXT NOT NULL,
		result        TEXT NOT NULL DEFAULT '',
		failed_stage  TEXT NOT NULL DEFAULT '',
		abandoned     INTEGER NOT NULL DEFAULT 0,
		agent_version TEXT NOT NULL DEFAULT '',
		config_json   TEXT NOT NULL DEFAULT '{}',
		created_at    TEXT NOT NULL,
		updated_at    TEXT NOT NULL,
		completed_at  TEXT
	);
	CREATE TABLE stages (
		id            INTEGER PRIMARY KEY AUTOINCREMENT,
		run_id        TEXT NOT NULL REFERENCES runs(id),
		name          TEXT NOT NULL,
		attempt       INTEGER NOT NULL,
		destructive   INTEGER NOT NULL DEFAULT 0,
		status        TEXT NOT NULL,          -- running | pass | fail | warn | skip
		passed        INTEGER,                -- NULL while running
		reason        TEXT NOT NULL DEFAULT '',
		message       TEXT NOT NULL DEFAULT '',
		overridden    INTEGER NOT NULL DEFAULT 0,
		summary_json  TEXT NOT NULL DEFAULT '{}',
		findings_json TEXT NOT NULL DEFAULT '[]',
		started_at    TEXT NOT NULL,
		completed_at  TEXT,
		UNIQUE (run_id, name, attempt)
	);
	CREATE INDEX stages_run ON stages(run_id);
	CREATE TABLE measurements (
		id       INTEGER PRIMARY KEY AUTOINCREMENT,
		run_id   TEXT NOT NULL REFERENCES runs(id),
		stage    TEXT NOT NULL DEFAULT '',
		kind     TEXT NOT NULL,
		subject  TEXT NOT NULL DEFAULT '',
		name     TEXT NOT NULL,
		value    REAL NOT NULL,
		unit     TEXT NOT NULL DEFAULT '',
		at       TEXT NOT NULL
	);
	CREATE INDEX measurements_run_kind ON measurements(run_id, kind);
	CREATE TABLE artifacts (
		id           INTEGER PRIMARY KEY AUTOINCREMENT,
		run_id       TEXT NOT NULL REFERENCES runs(id),
		stage        TEXT NOT NULL DEFAULT '',
		name         TEXT NOT NULL,
		path         TEXT NOT NULL,
		size         INTEGER NOT NULL,
		sha256       TEXT NOT NULL,
		content_type TEXT NOT NULL DEFAULT '',
		created_at   TEXT NOT NULL
	);
	CREATE INDEX artifacts_run ON artifacts(run_id);
	CREATE TABLE spec_diffs (
		id        INTEGER PRIMARY KEY AUTOINCREMENT,
		run_id    TEXT NOT NULL REFERENCES runs(id),
		stage_id  INTEGER NOT NULL REFERENCES stages(id),
		field     TEXT NOT NULL,
		subject   TEXT NOT NULL DEFAULT '',
		expected  TEXT NOT NULL DEFAULT '',
		actual    TEXT NOT NULL DEFAULT '',
		class     TEXT NOT NULL,
		message   TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX spec_diffs_run ON spec_diffs(run_id);
	CREATE TABLE actions (
		id           INTEGER PRIMARY KEY AUTOINCREMENT,
		run_id       TEXT NOT NULL REFERENCES runs(id),
		kind         TEXT NOT NULL,
		who          TEXT NOT NULL,
		reason       TEXT NOT NULL,
		target       TEXT NOT NULL DEFAULT '',
		stage        TEXT NOT NULL DEFAULT '',
		state_before TEXT NOT NULL,
		at           TEXT NOT NULL
	);
	CREATE TABLE facts (
		run_id     TEXT NOT NULL REFERENCES runs(id),
		key        TEXT NOT NULL,
		value_json TEXT NOT NULL,
		updated_at TEXT NOT NULL,
		PRIMARY KEY (run_id, key)
	);`,
}

// SchemaVersion is the journal schema version this build writes. It equals
// version.JournalSchema, which `shakedown-agent version` prints without linking
// the journal: each array type below has a negative length, which does not
// compile, unless the two are equal.
const SchemaVersion = len(migrations)

var (
	_ [SchemaVersion - version.JournalSchema]struct{}
	_ [version.JournalSchema - SchemaVersion]struct{}
)

// Journal is an open run journal.
type Journal struct {
	db   *sql.DB
	path string
}

// Open opens (creating if needed) the journal at path and migrates it.
func Open(path string) (*Journal, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create journal dir: %w", err)
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer; WAL lets other processes read
	j := &Journal{db: db, path: path}
	if err := j.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate journal %s: %w", path, err)
	}
	return j, nil
}

// OpenReadOnly opens an existing journal for reading (status without an agent).
func OpenReadOnly(path string) (*Journal, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	dsn := "file:" + path + "?mode=ro&_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	j := &Journal{db: db, path: path}
	v, err := j.version()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("read journal %s: %w", path, err)
	}
	if v > SchemaVersion {
		db.Close()
		return nil, fmt.Errorf("journal %s has schema version %d, newer than this agent's %d: use a newer shakedown-agent", path, v, SchemaVersion)
	}
	return j, nil
}

// Path returns the database file path.
func (j *Journal) Path() string { return j.path }

// Close closes the database.
func (j *Journal) Close() error { return j.db.Close() }

func (j *Journal) version() (int, error) {
	var n int
	err := j.db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name='schema_version'`).Scan(&n)
	if err != nil || n == 0 {
		return 0, err
	}
	var v int
	err = j.db.QueryRow(`SELECT version FROM schema_version`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

func (j *Journal) migrate() error {
	if _, err := j.db.Exec(`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return err
	}
	v, err := j.version()
	if err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this agent's %d: use a newer shakedown-agent", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		tx, err := j.db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("apply migration %d: %w", i+1, err)
		}
		if _, err := tx.Exec(`DELETE FROM schema_version`); err != nil {
			tx.Rollback()
			return err
		}
		if _, err := tx.Exec(`INSERT INTO schema_version(version) VALUES (?)`, i+1); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Backup writes a consistent copy of the journal to dst (VACUUM INTO), for the
// bucket's journal.db snapshot.
func (j *Journal) Backup(ctx context.Context, dst string) error {
	_ = os.Remove(dst)
	if _, err := j.db.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		return fmt.Errorf("snapshot journal to %s: %w", dst, err)
	}
	return nil
}

const tsLayout = time.RFC3339Nano

func ts(t time.Time) string { return t.UTC().Format(tsLayout) }

func nullTS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

func parseTS(s string) time.Time {
	t, _ := time.Parse(tsLayout, s)
	return t
}

func parseNullTS(s sql.NullString) *time.Time {
	if !s.Valid {
		return nil
	}
	t := parseTS(s.String)
	return &t
}

func mustJSON(v any) string {
	if v == nil {
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

// Run is a row of runs.
type Run struct {
	ID           string     `json:"id"`
	HostID       string     `json:"host_id"`
	Profile      string     `json:"profile"`
	State        string     `json:"state"`
	Result       string     `json:"result,omitempty"`
	FailedStage  string     `json:"failed_stage,omitempty"`
	Abandoned    bool       `json:"abandoned,omitempty"`
	AgentVersion string     `json:"agent_version,omitempty"`
	ConfigJSON   string     `json:"-"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	CompletedAt  *time.Time `json:"completed_at,omitempty"`
}

const runCols = `id, host_id, profile, state, result, failed_stage, abandoned, agent_version, config_json, created_at, updated_at, completed_at`

type scanner interface{ Scan(...any) error }

func scanRun(s scanner) (Run, error) {
	var r Run
	var created, updated string
	var completed sql.NullString
	var abandoned int
	err := s.Scan(&r.ID, &r.HostID, &r.Profile, &r.State, &r.Result, &r.FailedStage, &abandoned, &r.AgentVersion, &r.ConfigJSON, &created, &updated, &completed)
	if err != nil {
		return r, err
	}
	r.Abandoned = abandoned != 0
	r.CreatedAt, r.UpdatedAt, r.CompletedAt = parseTS(created), parseTS(updated), parseNullTS(completed)
	return r, nil
}

// CreateRun inserts a new run.
func (j *Journal) CreateRun(ctx context.Context, r Run) error {
	_, err := j.db.ExecContext(ctx, `INSERT INTO runs(`+runCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
		r.ID, r.HostID, r.Profile, r.State, r.Result, r.FailedStage, b2i(r.Abandoned), r.AgentVersion, orJSON(r.ConfigJSON, "{}"),
		ts(r.CreatedAt), ts(r.UpdatedAt), nullTS(r.CompletedAt))
	if err != nil {
		return fmt.Errorf("create run %s: %w", r.ID, err)
	}
	return nil
}

// UpdateRun writes every mutable column of r.
func (j *Journal) UpdateRun(ctx context.Context, r Run) error {
	res, err := j.db.ExecContext(ctx, `UPDATE runs SET host_id=?, state=?, result=?, failed_stage=?, abandoned=?, updated_at=?, completed_at=? WHERE id=?`,
		r.HostID, r.State, r.Result, r.FailedStage, b2i(r.Abandoned), ts(r.UpdatedAt), nullTS(r.CompletedAt), r.ID)
	if err != nil {
		return fmt.Errorf("update run %s: %w", r.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("update run %s: %w", r.ID, ErrNotFound)
	}
	return nil
}

// GetRun loads one run.
func (j *Journal) GetRun(ctx context.Context, id string) (Run, error) {
	r, err := scanRun(j.db.QueryRowContext(ctx, `SELECT `+runCols+` FROM runs WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("run %s: %w", id, ErrNotFound)
	}
	return r, err
}

// LatestRun returns the most recently created run (ErrNotFound when none).
func (j *Journal) LatestRun(ctx context.Context) (Run, error) {
	r, err := scanRun(j.db.QueryRowContext(ctx, `SELECT `+runCols+` FROM runs ORDER BY created_at DESC, id DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("latest run: %w", ErrNotFound)
	}
	return r, err
}

// Runs lists all runs, newest first.
func (j *Journal) Runs(ctx context.Context) ([]Run, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT `+runCols+` FROM runs ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// StageRow is a row of stages: one attempt of one stage.
type StageRow struct {
	ID          int64           `json:"id"`
	RunID       string          `json:"run_id"`
	Name        string          `json:"name"`
	Attempt     int             `json:"attempt"`
	Destructive bool            `json:"destructive,omitempty"`
	Status      string          `json:"status"` // running | pass | fail | warn | skip
	Passed      *bool           `json:"passed"` // nil while running
	Reason      string          `json:"reason,omitempty"`
	Message     string          `json:"message,omitempty"`
	Overridden  bool            `json:"overridden,omitempty"`
	Summary     json.RawMessage `json:"summary,omitempty"`
	Findings    []stage.Finding `json:"findings,omitempty"`
	StartedAt   time.Time       `json:"started_at"`
	CompletedAt *time.Time      `json:"completed_at,omitempty"`
}

const stageCols = `id, run_id, name, attempt, destructive, status, passed, reason, message, overridden, summary_json, findings_json, started_at, completed_at`

func scanStage(s scanner) (StageRow, error) {
	var r StageRow
	var destructive, overridden int
	var passed sql.NullInt64
	var summary, findings, started string
	var completed sql.NullString
	err := s.Scan(&r.ID, &r.RunID, &r.Name, &r.Attempt, &destructive, &r.Status, &passed, &r.Reason, &r.Message, &overridden, &summary, &findings, &started, &completed)
	if err != nil {
		return r, err
	}
	r.Destructive, r.Overridden = destructive != 0, overridden != 0
	if passed.Valid {
		p := passed.Int64 != 0
		r.Passed = &p
	}
	r.Summary = json.RawMessage(summary)
	_ = json.Unmarshal([]byte(findings), &r.Findings)
	r.StartedAt, r.CompletedAt = parseTS(started), parseNullTS(completed)
	return r, nil
}

// StartStage opens a new attempt of a stage (attempt = previous + 1).
func (j *Journal) StartStage(ctx context.Context, runID, name string, destructive bool, at time.Time) (StageRow, error) {
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return StageRow{}, fmt.Errorf("start stage %s: %w", name, err)
	}
	defer tx.Rollback()
	var attempt int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(attempt),0)+1 FROM stages WHERE run_id=? AND name=?`, runID, name).Scan(&attempt); err != nil {
		return StageRow{}, fmt.Errorf("start stage %s: %w", name, err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO stages(run_id, name, attempt, destructive, status, started_at) VALUES (?,?,?,?,?,?)`,
		runID, name, attempt, b2i(destructive), "running", ts(at))
	if err != nil {
		return StageRow{}, fmt.Errorf("start stage %s: %w", name, err)
	}
	id, _ := res.LastInsertId()
	if err := tx.Commit(); err != nil {
		return StageRow{}, fmt.Errorf("start stage %s: %w", name, err)
	}
	return StageRow{ID: id, RunID: runID, Name: name, Attempt: attempt, Destructive: destructive, Status: "running", StartedAt: at}, nil
}

// FinishStage closes a stage attempt with its result: the stage row, its
// measurements, artifacts and spec diffs are written in one transaction.
func (j *Journal) FinishStage(ctx context.Context, row StageRow, res stage.Result, at time.Time) error {
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("finish stage %s: %w", row.Name, err)
	}
	defer tx.Rollback()
	passed := res.Status.Passed()
	summary := "{}"
	if res.Summary != nil {
		summary = mustJSON(res.Summary)
	}
	findings := "[]"
	if len(res.Findings) > 0 {
		findings = mustJSON(res.Findings)
	}
	r, err := tx.ExecContext(ctx, `UPDATE stages SET status=?, passed=?, reason=?, message=?, summary_json=?, findings_json=?, completed_at=? WHERE id=? AND completed_at IS NULL`,
		string(res.Status), b2i(passed), res.Reason, res.Message, summary, findings, ts(at), row.ID)
	if err != nil {
		return fmt.Errorf("finish stage %s: %w", row.Name, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return fmt.Errorf("finish stage %s attempt %d: already closed or %w", row.Name, row.Attempt, ErrNotFound)
	}
	if err := insertMeasurements(ctx, tx, row.RunID, row.Name, res.Measurements); err != nil {
		return err
	}
	for _, a := range res.Artifacts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO artifacts(run_id, stage, name, path, size, sha256, content_type, created_at) VALUES (?,?,?,?,?,?,?,?)`,
			row.RunID, row.Name, a.Name, a.Path, a.Size, a.SHA256, a.ContentType, ts(at)); err != nil {
			return fmt.Errorf("record artifact %s: %w", a.Name, err)
		}
	}
	for _, d := range res.SpecDiffs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO spec_diffs(run_id, stage_id, field, subject, expected, actual, class, message) VALUES (?,?,?,?,?,?,?,?)`,
			row.RunID, row.ID, d.Field, d.Subject, d.Expected, d.Actual, string(d.Class), d.Message); err != nil {
			return fmt.Errorf("record spec diff %s: %w", d.Field, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("finish stage %s: %w", row.Name, err)
	}
	return nil
}

// MarkOverridden flags a stage attempt as accepted by an operator.
func (j *Journal) MarkOverridden(ctx context.Context, stageID int64) error {
	if _, err := j.db.ExecContext(ctx, `UPDATE stages SET overridden=1 WHERE id=?`, stageID); err != nil {
		return fmt.Errorf("mark stage overridden: %w", err)
	}
	return nil
}

// Stages lists every attempt of every stage of a run, in start order.
func (j *Journal) Stages(ctx context.Context, runID string) ([]StageRow, error) {
	return j.queryStages(ctx, `SELECT `+stageCols+` FROM stages WHERE run_id=? ORDER BY id`, runID)
}

// OpenStages lists attempts that were started and never closed.
func (j *Journal) OpenStages(ctx context.Context, runID string) ([]StageRow, error) {
	return j.queryStages(ctx, `SELECT `+stageCols+` FROM stages WHERE run_id=? AND completed_at IS NULL ORDER BY id`, runID)
}

func (j *Journal) queryStages(ctx context.Context, q string, args ...any) ([]StageRow, error) {
	rows, err := j.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list stages: %w", err)
	}
	defer rows.Close()
	var out []StageRow
	for rows.Next() {
		r, err := scanStage(rows)
		if err != nil {
			return nil, fmt.Errorf("list stages: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

type execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

func insertMeasurements(ctx context.Context, x execer, runID, stageName string, ms []stage.Measurement) error {
	for _, m := range ms {
		if _, err := x.ExecContext(ctx, `INSERT INTO measurements(run_id, stage, kind, subject, name, value, unit, at) VALUES (?,?,?,?,?,?,?,?)`,
			runID, stageName, m.Kind, m.Subject, m.Name, m.Value, m.Unit, ts(m.Time)); err != nil {
			return fmt.Errorf("record measurement %s/%s: %w", m.Kind, m.Name, err)
		}
	}
	return nil
}

// AddMeasurements stores samples as they are taken (thermal sidecar, progress).
func (j *Journal) AddMeasurements(ctx context.Context, runID, stageName string, ms []stage.Measurement) error {
	if len(ms) == 0 {
		return nil
	}
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record measurements: %w", err)
	}
	defer tx.Rollback()
	if err := insertMeasurements(ctx, tx, runID, stageName, ms); err != nil {
		return err
	}
	return tx.Commit()
}

// MeasurementRow is a stored sample with the stage that took it.
type MeasurementRow struct {
	Stage string `json:"stage,omitempty"`
	stage.Measurement
}

// Measurements lists a run's samples in time order; kind "" means all kinds.
func (j *Journal) Measurements(ctx context.Context, runID, kind string) ([]MeasurementRow, error) {
	q := `SELECT stage, kind, subject, name, value, unit, at FROM measurements WHERE run_id=?`
	args := []any{runID}
	if kind != "" {
		q += ` AND kind=?`
		args = append(args, kind)
	}
	rows, err := j.db.QueryContext(ctx, q+` ORDER BY at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list measurements: %w", err)
	}
	defer rows.Close()
	var out []MeasurementRow
	for rows.Next() {
		var m MeasurementRow
		var at string
		if err := rows.Scan(&m.Stage, &m.Kind, &m.Subject, &m.Name, &m.Value, &m.Unit, &at); err != nil {
			return nil, fmt.Errorf("list measurements: %w", err)
		}
		m.Time = parseTS(at)
		out = append(out, m)
	}
	return out, rows.Err()
}

// ArtifactRow is a stored artifact with the stage that made it.
type ArtifactRow struct {
	Stage string `json:"stage"`
	stage.Artifact
	CreatedAt time.Time `json:"created_at"`
}

// Artifacts lists a run's artifacts.
func (j *Journal) Artifacts(ctx context.Context, runID string) ([]ArtifactRow, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT stage, name, path, size, sha256, content_type, created_at FROM artifacts WHERE run_id=? ORDER BY id`, runID)
	if err != nil {
		return nil, fmt.Errorf("list artifacts: %w", err)
	}
	defer rows.Close()
	var out []ArtifactRow
	for rows.Next() {
		var a ArtifactRow
		var at string
		if err := rows.Scan(&a.Stage, &a.Name, &a.Path, &a.Size, &a.SHA256, &a.ContentType, &at); err != nil {
			return nil, fmt.Errorf("list artifacts: %w", err)
		}
		a.CreatedAt = parseTS(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// AddArtifact records an artifact produced outside a stage result (report files).
func (j *Journal) AddArtifact(ctx context.Context, runID, stageName string, a stage.Artifact, at time.Time) error {
	if _, err := j.db.ExecContext(ctx, `INSERT INTO artifacts(run_id, stage, name, path, size, sha256, content_type, created_at) VALUES (?,?,?,?,?,?,?,?)`,
		runID, stageName, a.Name, a.Path, a.Size, a.SHA256, a.ContentType, ts(at)); err != nil {
		return fmt.Errorf("record artifact %s: %w", a.Name, err)
	}
	return nil
}

// SpecDiffRow is a stored spec diff.
type SpecDiffRow struct {
	StageID int64 `json:"stage_id"`
	stage.SpecDiff
}

// SpecDiffs lists a run's spec diffs (all SpecValidate attempts).
func (j *Journal) SpecDiffs(ctx context.Context, runID string) ([]SpecDiffRow, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT stage_id, field, subject, expected, actual, class, message FROM spec_diffs WHERE run_id=? ORDER BY id`, runID)
	if err != nil {
		return nil, fmt.Errorf("list spec diffs: %w", err)
	}
	defer rows.Close()
	var out []SpecDiffRow
	for rows.Next() {
		var d SpecDiffRow
		var class string
		if err := rows.Scan(&d.StageID, &d.Field, &d.Subject, &d.Expected, &d.Actual, &class, &d.Message); err != nil {
			return nil, fmt.Errorf("list spec diffs: %w", err)
		}
		d.Class = stage.Severity(class)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Action is a row of the operator-action audit trail.
type Action struct {
	ID          int64     `json:"id"`
	RunID       string    `json:"run_id"`
	Kind        string    `json:"kind"`
	Who         string    `json:"who"`
	Reason      string    `json:"reason"`
	Target      string    `json:"target,omitempty"`
	Stage       string    `json:"stage,omitempty"`
	StateBefore string    `json:"state_before"`
	At          time.Time `json:"at"`
}

// AddAction records an operator action.
func (j *Journal) AddAction(ctx context.Context, a Action) (int64, error) {
	res, err := j.db.ExecContext(ctx, `INSERT INTO actions(run_id, kind, who, reason, target, stage, state_before, at) VALUES (?,?,?,?,?,?,?,?)`,
		a.RunID, a.Kind, a.Who, a.Reason, a.Target, a.Stage, a.StateBefore, ts(a.At))
	if err != nil {
		return 0, fmt.Errorf("record action %s: %w", a.Kind, err)
	}
	return res.LastInsertId()
}

// Actions lists a run's operator actions in order.
func (j *Journal) Actions(ctx context.Context, runID string) ([]Action, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT id, run_id, kind, who, reason, target, stage, state_before, at FROM actions WHERE run_id=? ORDER BY id`, runID)
	if err != nil {
		return nil, fmt.Errorf("list actions: %w", err)
	}
	defer rows.Close()
	var out []Action
	for rows.Next() {
		var a Action
		var at string
		if err := rows.Scan(&a.ID, &a.RunID, &a.Kind, &a.Who, &a.Reason, &a.Target, &a.Stage, &a.StateBefore, &at); err != nil {
			return nil, fmt.Errorf("list actions: %w", err)
		}
		a.At = parseTS(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// PutFact stores a JSON value under key for a run.
func (j *Journal) PutFact(ctx context.Context, runID, key string, v any, at time.Time) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode fact %s: %w", key, err)
	}
	if _, err := j.db.ExecContext(ctx, `INSERT INTO facts(run_id, key, value_json, updated_at) VALUES (?,?,?,?)
		ON CONFLICT(run_id, key) DO UPDATE SET value_json=excluded.value_json, updated_at=excluded.updated_at`,
		runID, key, string(b), ts(at)); err != nil {
		return fmt.Errorf("store fact %s: %w", key, err)
	}
	return nil
}

// Fact loads the JSON value under key into v; ok is false when absent.
func (j *Journal) Fact(ctx context.Context, runID, key string, v any) (bool, error) {
	var s string
	err := j.db.QueryRowContext(ctx, `SELECT value_json FROM facts WHERE run_id=? AND key=?`, runID, key).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load fact %s: %w", key, err)
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return false, fmt.Errorf("decode fact %s: %w", key, err)
	}
	return true, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func orJSON(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
