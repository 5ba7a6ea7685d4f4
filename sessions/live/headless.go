package live

import (
	"io"

	"github.com/ccface/ccface/engine"
)

// RunHeadless opens the run spec describes and prints its progress on
// spec.Log until it ends (`--headless`); with katib, each evaluation also
// as Katib metric lines. Stop signals are taken from before the run opens,
// so none falls between its start and the printer: the first stops the run
// with a final checkpoint, another exits at once.
func RunHeadless(spec Spec, katib bool) error {
	w := spec.Log
	if w == nil {
		w = io.Discard
	}
	stop := stopOnSignal(w)
	defer stop.release()
	r, err := Open(spec)
	if err != nil {
		return err
	}
	return driveHeadless(r, stop, katib, w)
}

// driveHeadless hands r to the stopper already listening and prints its
// progress until it ends, then finishes it.
func driveHeadless(r *Run, stop *stopper, katib bool, w io.Writer) error {
	stop.attach(r)
	return r.Drive(func(r *Run) error {
		if katib {
			return Headless(r, w, func(ev engine.Event) {
				if ev.Kind == engine.KindEval {
					KatibLines(w, ev)
				}
			})
		}
		return Headless(r, w)
	})
}
