package event

import (
	"testing"
	"time"
)

func TestBusFansOutAndNeverBlocks(t *testing.T) {
	b := NewBus()
	fast, cancelFast := b.Subscribe(10)
	defer cancelFast()
	slow, cancelSlow := b.Subscribe(1)
	for i := 0; i < 5; i++ {
		b.Publish(StageStarted{Base: Base{At: time.Unix(int64(i), 0)}, Stage: "SMART", Attempt: i})
	}
	if len(fast) != 5 || len(slow) != 1 {
		t.Fatalf("fast %d slow %d", len(fast), len(slow))
	}
	if b.Dropped() != 4 {
		t.Fatalf("dropped %d", b.Dropped())
	}
	ev := <-fast
	if ev.Type() != "stage.started" || ev.(StageStarted).Attempt != 0 {
		t.Fatalf("%+v", ev)
	}
	cancelSlow()
	cancelSlow() // idempotent
	if _, ok := <-slow; !ok {
		t.Fatal("buffered event lost on cancel")
	}
	if _, ok := <-slow; ok {
		t.Fatal("channel not closed")
	}
	b.Publish(Log{Message: "after"}) // no panic on a closed subscriber
	var nilBus *Bus
	nilBus.Publish(Log{}) // a nil bus is a no-op
}
