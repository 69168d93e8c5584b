// Package spec is the host's expected hardware spec (docs/spec.md): the
// versioned YAML format, its strict parser, the diff engine that compares a
// collector.Inventory with it, and disk identity matching (diskid.go) that the
// Storage stage's allowlist relies on.
package spec
