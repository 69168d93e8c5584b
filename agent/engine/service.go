package engine

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/shakedown/shakedown/agent/event"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/tool"
)

// Service is work that runs beside the stages for the agent's whole life
// (the thermal sidecar, announcements). Run returns when ctx ends.
type Service interface {
	Name() string
	Run(ctx context.Context, h Host) error
}

// Host is what a service may use.
type Host interface {
	// Sink records measurements and events for the current run.
	Sink() stage.Sink
	// RunID is the current run.
	RunID() string
	// Stage is the stage running now ("" between stages).
	Stage() string
	Collector() collector.Env
	Tools() tool.Runner
	Bus() *event.Bus
	Log() *slog.Logger
	Now() time.Time
}

var (
	svcMu    sync.Mutex
	services = map[string]func() Service{}
)

// RegisterService adds a service factory (from init()); duplicates panic.
func RegisterService(name string, f func() Service) {
	svcMu.Lock()
	defer svcMu.Unlock()
	if _, dup := services[name]; dup {
		panic("service registered twice: " + name)
	}
	services[name] = f
}

// Services returns new instances of every registered service, sorted by name.
func Services() []Service {
	svcMu.Lock()
	defer svcMu.Unlock()
	names := make([]string, 0, len(services))
	for n := range services {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]Service, 0, len(names))
	for _, n := range names {
		out = append(out, services[n]())
	}
	return out
}

type host struct {
	e   *Engine
	ctx context.Context
}

func (h host) Sink() stage.Sink         { return h.e.Sink(h.ctx) }
func (h host) RunID() string            { return h.e.Current().ID }
func (h host) Collector() collector.Env { return h.e.Collector }
func (h host) Tools() tool.Runner       { return h.e.Tools }
func (h host) Bus() *event.Bus          { return h.e.Bus }
func (h host) Log() *slog.Logger        { return h.e.log() }
func (h host) Now() time.Time           { return h.e.now() }
func (h host) Stage() string {
	h.e.mu.Lock()
	defer h.e.mu.Unlock()
	if h.e.current == nil {
		return ""
	}
	return h.e.current.Name
}

// ServiceHost returns the Host handed to services.
func (e *Engine) ServiceHost(ctx context.Context) Host { return host{e: e, ctx: ctx} }
