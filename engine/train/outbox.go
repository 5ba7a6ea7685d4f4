package train

import (
	"context"
	"sync"
	"time"

	"github.com/ccface/ccface/engine"
)

// flushEvery is how often coalesced point events are sent.
const flushEvery = 100 * time.Millisecond

// outbox decouples the step loop from the event reader: the loop appends
// without blocking; a sender goroutine hands whole batches to the channel.
// Nothing is dropped while the reader lives; the run's context ends the
// sender if the reader is gone.
type outbox struct {
	mu      sync.Mutex
	pending []engine.Event
	closed  bool
	wake    chan struct{}
	out     chan []engine.Event
}

func newOutbox() *outbox {
	return &outbox{wake: make(chan struct{}, 1), out: make(chan []engine.Event, 16)}
}

// add queues events; urgent ones (lifecycle) wake the sender at once.
func (o *outbox) add(urgent bool, evs ...engine.Event) {
	o.mu.Lock()
	o.pending = append(o.pending, evs...)
	o.mu.Unlock()
	if urgent {
		select {
		case o.wake <- struct{}{}:
		default:
		}
	}
}

// close marks the end: the sender flushes what is left and closes out.
func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *outbox) take() ([]engine.Event, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	evs := o.pending
	o.pending = nil
	return evs, o.closed
}

// run is the sender goroutine.
func (o *outbox) run(ctx context.Context) {
	defer close(o.out)
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-o.wake:
		}
		evs, closed := o.take()
		if len(evs) > 0 {
			select {
			case o.out <- evs:
			case <-ctx.Done():
				return
			}
		}
		if closed {
			if rest, _ := o.take(); len(rest) > 0 {
				select {
				case o.out <- rest:
				case <-ctx.Done():
				}
			}
			return
		}
	}
}
