// Package enginetest is a scriptable engine.Trainer for the tests of the
// packages that observe and steer the engine (tui, tui/serve): it records
// every control call, validates knob changes with engine.SetLive on its own
// copy of engine.Default(), and delivers whatever events the test emits.
package enginetest

import (
	"fmt"
	"sync"
	"time"

	"github.com/ccface/ccface/engine"
)

// Fake is the scriptable trainer.
type Fake struct {
	// EchoKnobs makes SetKnob emit the KindHyper event at once (at the
	// current Step, By the caller), as the engine does at its next step.
	EchoKnobs bool

	mu    sync.Mutex
	cfg   engine.Config
	step  int64
	ch    chan []engine.Event
	calls []string
	once  sync.Once
}

// New returns a Fake whose event channel holds buffer batches.
func New(buffer int) *Fake {
	return &Fake{cfg: engine.Default(), ch: make(chan []engine.Event, buffer)}
}

func (f *Fake) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

// Calls returns the control calls so far, e.g. "SetKnob margin=0.45 by test".
func (f *Fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// Called reports whether call is among Calls.
func (f *Fake) Called(call string) bool {
	for _, c := range f.Calls() {
		if c == call {
			return true
		}
	}
	return false
}

// Events implements engine.Trainer.
func (f *Fake) Events() <-chan []engine.Event { return f.ch }

// Config implements engine.Trainer.
func (f *Fake) Config() engine.Config {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cfg.Clone()
}

// SetKnob implements engine.Trainer: refused values are recorded as such.
func (f *Fake) SetKnob(name, value, by string) error {
	f.mu.Lock()
	next, err := engine.SetLive(f.cfg, name, value)
	var ev engine.Event
	if err == nil {
		k, _ := engine.FindKnob(name)
		ev = engine.Event{Kind: engine.KindHyper, Step: f.step, Time: time.Now(), Knob: name, Old: k.Get(&f.cfg), New: k.Get(&next), By: by}
		f.cfg = next
	}
	f.mu.Unlock()
	if err != nil {
		f.record("SetKnob %s=%s by %s: refused", name, value, by)
		return err
	}
	f.record("SetKnob %s=%s by %s", name, value, by)
	if f.EchoKnobs {
		f.ch <- []engine.Event{ev}
	}
	return nil
}

// Pause implements engine.Trainer.
func (f *Fake) Pause(by string) error { f.record("Pause %s", by); return nil }

// Resume implements engine.Trainer.
func (f *Fake) Resume(by string) error { f.record("Resume %s", by); return nil }

// Checkpoint implements engine.Trainer.
func (f *Fake) Checkpoint(by string) error { f.record("Checkpoint %s", by); return nil }

// Eval implements engine.Trainer.
func (f *Fake) Eval(by string) error { f.record("Eval %s", by); return nil }

// Stop implements engine.Trainer.
func (f *Fake) Stop(by string) { f.record("Stop %s", by) }

// Advance moves the fake's step counter by d and returns the new step.
func (f *Fake) Advance(d int64) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.step += d
	return f.step
}

// Step returns the fake's step counter.
func (f *Fake) Step() int64 { return f.Advance(0) }

// Emit delivers one batch.
func (f *Fake) Emit(evs ...engine.Event) { f.ch <- evs }

// Finish delivers done (a KindDone event) and closes the channel, as the
// engine does; later calls do nothing.
func (f *Fake) Finish(done engine.Event) {
	f.once.Do(func() {
		f.ch <- []engine.Event{done}
		close(f.ch)
	})
}
