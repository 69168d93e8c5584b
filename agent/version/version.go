// Package version holds the build version, set by the Makefile with -ldflags.
package version

// Version is the build version ("dev" for plain go build).
var Version = "dev"

// JournalSchema is the journal schema version this build writes
// (agent/journal.SchemaVersion, which fails to compile unless it equals this).
// It lives here so that `shakedown-agent version` can print it without linking
// the journal and SQLite.
const JournalSchema = 1
