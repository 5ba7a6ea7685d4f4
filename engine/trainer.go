package engine

// Trainer is the engine as its observers see it: the TUI, the headless
// printer and SSH clients drive a Trainer and never touch its tensors.
//
// Every control method validates synchronously and returns an error a UI can
// show; the change itself is applied by the engine at the next step boundary
// and reported as an event.
type Trainer interface {
	// Events delivers batches of events in order. It is closed after the
	// final KindDone or KindFailed event.
	Events() <-chan []Event
	// Config returns a copy of the configuration currently in effect.
	Config() Config
	// SetKnob asks for a live knob change; by names who asked (may be empty).
	SetKnob(name, value, by string) error
	Pause(by string) error
	Resume(by string) error
	Checkpoint(by string) error
	Eval(by string) error
	// Stop asks the run to end at the next step boundary; it is idempotent.
	Stop(by string)
}
