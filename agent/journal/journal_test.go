package journal

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shakedown/shakedown/agent/stage"
)

func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "j.db")
	j, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 28, 10, 0, 0, 123456789, time.UTC)
	r := Run{ID: "r1", Profile: "quick", State: "Booting", CreatedAt: now, UpdatedAt: now}
	if err := j.CreateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	row, err := j.StartStage(ctx, "r1", "SMART", false, now)
	if err != nil {
		t.Fatal(err)
	}
	res := stage.Result{Status: stage.Fail, Reason: "x", Message: "bad disk",
		Findings:     []stage.Finding{{Code: "Reallocated", Severity: stage.Critical, Subject: "serial:A/B/C", Message: "12 sectors"}},
		Measurements: []stage.Measurement{{Kind: "smart", Name: "reallocated", Value: 12, Time: now}},
		Summary:      map[string]any{"disks": 1}}
	if err := j.FinishStage(ctx, row, res, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := j.FinishStage(ctx, row, res, now); err == nil {
		t.Fatal("closing a stage twice was accepted")
	}
	if err := j.PutFact(ctx, "r1", "inventory", map[string]any{"host_id": "h"}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := j.AddAction(ctx, Action{RunID: "r1", Kind: "retry", Who: "me", Reason: "why", StateBefore: "FailedHolding", At: now}); err != nil {
		t.Fatal(err)
	}
	j.Close()

	j, err = OpenReadOnly(p)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	got, err := j.GetRun(ctx, "r1")
	if err != nil || !got.CreatedAt.Equal(now) || got.State != "Booting" {
		t.Fatalf("run %+v %v", got, err)
	}
	st, _ := j.Stages(ctx, "r1")
	if len(st) != 1 || st[0].Status != "fail" || st[0].Passed == nil || *st[0].Passed || st[0].Findings[0].Code != "Reallocated" || !strings.Contains(string(st[0].Summary), `"disks":1`) {
		t.Fatalf("stages %+v", st)
	}
	var inv struct {
		HostID string `json:"host_id"`
	}
	if ok, err := j.Fact(ctx, "r1", "inventory", &inv); !ok || err != nil || inv.HostID != "h" {
		t.Fatalf("fact %v %v %+v", ok, err, inv)
	}
	if ok, _ := j.Fact(ctx, "r1", "nothing", &inv); ok {
		t.Fatal("absent fact found")
	}
	as, _ := j.Actions(ctx, "r1")
	if len(as) != 1 || as[0].Who != "me" {
		t.Fatalf("actions %+v", as)
	}
	if _, err := j.GetRun(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing run: %v", err)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	p := filepath.Join(t.TempDir(), "j.db")
	j, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.db.Exec(`UPDATE schema_version SET version = ?`, SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	j.Close()
	if _, err := Open(p); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open: %v", err)
	}
	if _, err := OpenReadOnly(p); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("OpenReadOnly: %v", err)
	}
}

func TestWALAndBackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j, err := Open(filepath.Join(dir, "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	var mode string
	if err := j.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode %q %v", mode, err)
	}
	now := time.Now()
	if err := j.CreateRun(ctx, Run{ID: "r", Profile: "safe", State: "Booting", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "snap.db")
	if err := j.Backup(ctx, dst); err != nil {
		t.Fatal(err)
	}
	s, err := OpenReadOnly(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r, err := s.LatestRun(ctx); err != nil || r.ID != "r" {
		t.Fatalf("snapshot: %+v %v", r, err)
	}
}
