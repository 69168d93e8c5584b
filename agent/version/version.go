// Package version holds the build version, set by the Makefile with -ldflags.
package version

// Version is the build version ("dev" for plain go build).
var Version = "dev"
