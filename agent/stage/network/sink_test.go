package network

import (
	"encoding/json"

	"github.com/shakedown/shakedown/agent/event"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
)

type factSink struct{ inv collector.Inventory }

func (*factSink) Emit(event.Event)                           {}
func (*factSink) Measure(string, ...stage.Measurement) error { return nil }
func (*factSink) PutFact(string, any) error                  { return nil }
func (s *factSink) Fact(key string, v any) (bool, error) {
	if key != "inventory" {
		return false, nil
	}
	b, _ := json.Marshal(s.inv)
	return true, json.Unmarshal(b, v)
}
