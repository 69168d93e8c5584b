package stage

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

var (
	regMu    sync.RWMutex
	registry = map[string]Stage{}
)

// Register adds a stage. Call it from the stage package's init(). Registering
// two stages with one name (case-insensitively) panics.
func Register(s Stage) {
	regMu.Lock()
	defer regMu.Unlock()
	key := Key(s.Name())
	if _, dup := registry[key]; dup {
		panic(fmt.Sprintf("stage %q registered twice", s.Name()))
	}
	registry[key] = s
}

// Key is the config/flag key of a stage name: lower case ("CPUStress" -> "cpustress").
func Key(name string) string { return strings.ToLower(name) }

// Lookup returns the registered stage with that name (case-insensitive).
func Lookup(name string) (Stage, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	s, ok := registry[Key(name)]
	return s, ok
}

// Names lists registered stage names, sorted.
func Names() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(registry))
	for _, s := range registry {
		out = append(out, s.Name())
	}
	sort.Strings(out)
	return out
}

// ParamsOf returns a stage's declared parameters (nil when it has none).
func ParamsOf(s Stage) []Param {
	if p, ok := s.(Parameterised); ok {
		return p.Params()
	}
	return nil
}

// Replace swaps the registry for a test and returns a function restoring it.
func Replace(stages ...Stage) (restore func()) {
	regMu.Lock()
	old := registry
	registry = map[string]Stage{}
	for _, s := range stages {
		registry[Key(s.Name())] = s
	}
	regMu.Unlock()
	return func() {
		regMu.Lock()
		registry = old
		regMu.Unlock()
	}
}
