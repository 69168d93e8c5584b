package cli

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// TestWithSignals: a command's context ends when a WithSignals signal
// arrives; a Quick command gets the caller's context untouched (no handler:
// the signal keeps its default action).
func TestWithSignals(t *testing.T) {
	got := make(chan error, 1)
	Register(Command{Name: "test-signalled", Summary: "test", Run: func(ctx context.Context, s IO, args []string) error {
		if err := syscall.Kill(syscall.Getpid(), syscall.SIGUSR1); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			got <- context.Cause(ctx)
		case <-time.After(10 * time.Second):
			got <- nil
		}
		return nil
	}})
	Register(Command{Name: "test-quick", Summary: "test", Quick: true, Run: func(ctx context.Context, s IO, args []string) error {
		if ctx.Done() != nil {
			t.Errorf("a Quick command's context can be cancelled: a signal handler was installed for it")
		}
		return nil
	}})
	t.Cleanup(func() {
		mu.Lock()
		delete(commands, "test-signalled")
		delete(commands, "test-quick")
		mu.Unlock()
	})
	if code := Main(context.Background(), []string{"test-signalled"}, IO{}, WithSignals(syscall.SIGUSR1)); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if err := <-got; err == nil {
		t.Errorf("SIGUSR1 did not end the command's context")
	}
	if code := Main(context.Background(), []string{"test-quick"}, IO{}, WithSignals(syscall.SIGUSR1)); code != 0 {
		t.Fatalf("quick exit %d", code)
	}
	for _, n := range []string{"inventory", "version"} {
		if c, _ := lookup(n); !c.Quick {
			t.Errorf("%s is not Quick: it would start a signal-handling thread (~1.3 ms of its start)", n)
		}
	}
}
