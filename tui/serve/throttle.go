package serve

import (
	"time"

	"github.com/ccface/ccface/engine"
)

// throttle passes in's batches on to the returned channel at most once per
// every, merged: a client's TUI then folds and redraws a few times a second
// however often the engine flushes, which is most of what a client costs
// the server (see BenchmarkServeClients). Nothing is dropped; the first
// batch (the history replay) goes at once; key presses are not affected.
// The output closes after in closes and the rest is delivered, or at once
// when stop closes (the client is gone and reads no more).
func throttle(in <-chan []engine.Event, every time.Duration, stop <-chan struct{}) <-chan []engine.Event {
	out := make(chan []engine.Event)
	go func() {
		defer close(out)
		var (
			pending []engine.Event
			ready   = true
			timer   <-chan time.Time
		)
		for in != nil || len(pending) > 0 {
			var send chan []engine.Event
			if ready && len(pending) > 0 {
				send = out
			}
			select {
			case b, ok := <-in:
				if !ok {
					in = nil
					continue
				}
				pending = append(pending, b...)
			case send <- pending:
				pending, ready = nil, false
				timer = time.After(every)
			case <-timer:
				timer, ready = nil, true
			case <-stop:
				return
			}
		}
	}()
	return out
}
