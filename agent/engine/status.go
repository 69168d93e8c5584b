package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/shakedown/shakedown/agent/event"
	"github.com/shakedown/shakedown/agent/journal"
)

// StageView is the latest attempt of one stage, for status displays.
type StageView struct {
	Name            string     `json:"name"`
	Status          string     `json:"status"` // pending | running | pass | fail | warn | skip
	Attempts        int        `json:"attempts"`
	Reason          string     `json:"reason,omitempty"`
	Message         string     `json:"message,omitempty"`
	Overridden      bool       `json:"overridden,omitempty"`
	Destructive     bool       `json:"destructive,omitempty"`
	StartedAt       *time.Time `json:"started_at,omitempty"`
	CompletedAt     *time.Time `json:"completed_at,omitempty"`
	DurationSeconds *float64   `json:"duration_seconds,omitempty"`
}

// Status is what `shakedown-agent status` shows, from a running agent or the journal.
type Status struct {
	Agent    string           `json:"agent"` // running | not running
	Journal  string           `json:"journal"`
	Run      *journal.Run     `json:"run,omitempty"`
	Stages   []StageView      `json:"stages,omitempty"`
	Actions  []journal.Action `json:"actions,omitempty"`
	Progress *event.Progress  `json:"progress,omitempty"`
	// Next says what the operator can do now.
	Next string `json:"next,omitempty"`
}

// ReadStatus builds the status of a run (the latest when runID is "") from the journal.
func ReadStatus(ctx context.Context, j *journal.Journal, runID string) (Status, error) {
	st := Status{Agent: "not running", Journal: j.Path()}
	var r journal.Run
	var err error
	if runID == "" {
		r, err = j.LatestRun(ctx)
	} else {
		r, err = j.GetRun(ctx, runID)
	}
	if err != nil {
		return st, err
	}
	st.Run = &r
	rows, err := j.Stages(ctx, r.ID)
	if err != nil {
		return st, err
	}
	latest := map[string]journal.StageRow{}
	attempts := map[string]int{}
	for _, row := range rows {
		latest[row.Name] = row
		attempts[row.Name]++
	}
	for _, name := range Order {
		v := StageView{Name: name, Status: "pending"}
		if row, ok := latest[name]; ok {
			v.Status, v.Attempts, v.Reason, v.Message = row.Status, attempts[name], row.Reason, row.Message
			v.Overridden, v.Destructive = row.Overridden, row.Destructive
			started := row.StartedAt
			v.StartedAt, v.CompletedAt = &started, row.CompletedAt
			if row.CompletedAt != nil {
				d := row.CompletedAt.Sub(row.StartedAt).Seconds()
				v.DurationSeconds = &d
			}
		}
		st.Stages = append(st.Stages, v)
	}
	if st.Actions, err = j.Actions(ctx, r.ID); err != nil {
		return st, err
	}
	st.Next = nextHint(r)
	return st, nil
}

func nextHint(r journal.Run) string {
	switch r.State {
	case FailedHolding:
		return fmt.Sprintf("%s failed: shakedown-agent action retry|override|abandon --reason TEXT", r.FailedStage)
	case Completed:
		return "hand the host back with: shakedown-agent action release --reason TEXT"
	case Released:
		return "released; nothing to do"
	}
	return ""
}
