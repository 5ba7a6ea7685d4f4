package serve

import (
	"testing"
	"time"

	"github.com/ccface/ccface/engine"
)

// throttle merges batches, loses nothing, keeps order, hands the first
// batch over at once and closes once the input is drained.
func TestThrottle(t *testing.T) {
	in := make(chan []engine.Event)
	out := throttle(in, 50*time.Millisecond, nil)
	go func() {
		for s := int64(1); s <= 300; s++ {
			in <- []engine.Event{{Kind: engine.KindPoint, Step: s}}
			time.Sleep(time.Millisecond / 2)
		}
		close(in)
	}()
	var got []int64
	batches := 0
	start := time.Now()
	for b := range out {
		batches++
		for _, e := range b {
			got = append(got, e.Step)
		}
	}
	if len(got) != 300 {
		t.Fatalf("got %d events, want 300", len(got))
	}
	for i, s := range got {
		if s != int64(i+1) {
			t.Fatalf("event %d is step %d: order lost", i, s)
		}
	}
	// ~150-300 ms of input at one batch per 50 ms: a handful of batches,
	// not 300.
	if max := int(time.Since(start)/(50*time.Millisecond)) + 2; batches > max {
		t.Errorf("%d batches in %s, want at most %d", batches, time.Since(start), max)
	}
}

// A stopped client's throttle ends even though nobody reads it.
func TestThrottleStop(t *testing.T) {
	in := make(chan []engine.Event, 1)
	stop := make(chan struct{})
	out := throttle(in, time.Hour, stop)
	in <- []engine.Event{{Step: 1}}
	if b := <-out; len(b) != 1 {
		t.Fatalf("first batch %v", b)
	}
	in <- []engine.Event{{Step: 2}} // held back for an hour
	close(stop)
	select {
	case _, ok := <-out:
		for ok {
			_, ok = <-out
		}
	case <-time.After(waitFor):
		t.Fatal("throttle did not stop")
	}
}
