// Package event is the agent's in-process event stream: state changes, stage
// starts and ends, progress, log lines, measurements and operator-facing
// notices. The set of event types is sealed (only this package can add one), so
// consumers (the UI's SSE feed, the console page, the report builder,
// notifications) can switch over it exhaustively.
package event

import (
	"sync"
	"time"
)

// Event is one thing that happened during a run.
type Event interface {
	// When is the time the event happened.
	When() time.Time
	// Type is a short stable name ("state", "stage.started", ...), used as the
	// SSE event name.
	Type() string
	sealed()
}

// Base carries the fields every event has.
type Base struct {
	At    time.Time `json:"at"`
	RunID string    `json:"run_id"`
}

// When implements Event.
func (b Base) When() time.Time { return b.At }
func (Base) sealed()           {}

// StateChanged: the run moved from one state to another.
type StateChanged struct {
	Base
	From string `json:"from"`
	To   string `json:"to"`
}

// Type implements Event.
func (StateChanged) Type() string { return "state" }

// StageStarted: a stage attempt began.
type StageStarted struct {
	Base
	Stage   string `json:"stage"`
	Attempt int    `json:"attempt"`
}

// Type implements Event.
func (StageStarted) Type() string { return "stage.started" }

// StageFinished: a stage attempt ended with a verdict.
type StageFinished struct {
	Base
	Stage   string `json:"stage"`
	Attempt int    `json:"attempt"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// Type implements Event.
func (StageFinished) Type() string { return "stage.finished" }

// Progress: a long step advanced. Total 0 means unknown.
type Progress struct {
	Base
	Stage   string  `json:"stage"`
	Subject string  `json:"subject,omitempty"` // e.g. a disk
	Done    float64 `json:"done"`
	Total   float64 `json:"total"`
	Unit    string  `json:"unit,omitempty"`
	Message string  `json:"message,omitempty"`
}

// Type implements Event.
func (Progress) Type() string { return "progress" }

// Log: a log line worth showing an operator.
type Log struct {
	Base
	Level   string `json:"level"`
	Stage   string `json:"stage,omitempty"`
	Message string `json:"message"`
}

// Type implements Event.
func (Log) Type() string { return "log" }

// Measurement: a numeric sample was recorded.
type Measurement struct {
	Base
	Stage   string  `json:"stage,omitempty"`
	Kind    string  `json:"kind"`
	Subject string  `json:"subject,omitempty"`
	Name    string  `json:"name"`
	Value   float64 `json:"value"`
	Unit    string  `json:"unit,omitempty"`
}

// Type implements Event.
func (Measurement) Type() string { return "measurement" }

// Notice kinds (brief §7): each becomes a notification.
const (
	SpecMismatch   = "SpecMismatch"
	UnexpectedData = "UnexpectedData"
	StageFailed    = "StageFailed"
	RunCompleted   = "RunCompleted"
	HostLost       = "HostLost"
)

// Notice: something an operator must hear about.
type Notice struct {
	Base
	Kind    string `json:"kind"`
	Stage   string `json:"stage,omitempty"`
	Message string `json:"message"`
}

// Type implements Event.
func (Notice) Type() string { return "notice" }

// Action: an operator action was accepted.
type Action struct {
	Base
	Kind   string `json:"kind"`
	Who    string `json:"who"`
	Reason string `json:"reason"`
	Target string `json:"target,omitempty"`
}

// Type implements Event.
func (Action) Type() string { return "action" }

// Bus fans events out to subscribers. Publishing never blocks: a subscriber
// whose buffer is full misses events (and Dropped counts them), so a slow
// browser cannot stall a stage.
type Bus struct {
	mu      sync.Mutex
	subs    map[int]chan Event
	next    int
	dropped uint64
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{subs: map[int]chan Event{}} }

// Publish sends e to every subscriber that has room.
func (b *Bus) Publish(e Event) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ch := range b.subs {
		select {
		case ch <- e:
		default:
			b.dropped++
		}
	}
}

// Subscribe returns a channel of future events and a function that ends the
// subscription (and closes the channel).
func (b *Bus) Subscribe(buffer int) (<-chan Event, func()) {
	if buffer <= 0 {
		buffer = 64
	}
	ch := make(chan Event, buffer)
	b.mu.Lock()
	id := b.next
	b.next++
	b.subs[id] = ch
	b.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, id)
			b.mu.Unlock()
			close(ch)
		})
	}
}

// Dropped reports how many deliveries were dropped because a subscriber was full.
func (b *Bus) Dropped() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped
}
