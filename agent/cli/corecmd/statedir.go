package corecmd

import (
	"os"
	"path/filepath"
)

// DefaultStateDir is where the journal and work files live: $SHAKEDOWN_STATE_DIR,
// else /var/lib/shakedown as root, else $XDG_STATE_HOME/shakedown (~/.local/state/shakedown).
func DefaultStateDir() string {
	if d := os.Getenv("SHAKEDOWN_STATE_DIR"); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		return "/var/lib/shakedown"
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "shakedown")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "shakedown")
	}
	return filepath.Join(home, ".local", "state", "shakedown")
}

// JournalPath is the journal inside a state dir.
func JournalPath(stateDir string) string { return filepath.Join(stateDir, "journal.db") }
