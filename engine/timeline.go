package engine

import "math"

// Timeline returns the events that make up a run's history, read from its
// log in the order they were logged. A KindStart event at step S marks a
// run resumed from its checkpoint at S: events logged earlier with steps
// after S belong to a run that was killed, were lost with it, and are
// returned as superseded (in log order). The engine may re-apply
// superseded KindHyper events, which the crash lost.
//
// It is the one rule for which events survive a resume: the session store,
// the figures and the TUI's overlays all read a log through it.
func Timeline(events []Event) (kept, superseded []Event) {
	ceiling := int64(math.MaxInt64)
	keep := make([]bool, len(events))
	n := 0
	for i := len(events) - 1; i >= 0; i-- {
		e := &events[i]
		if e.Step > ceiling {
			continue
		}
		keep[i] = true
		n++
		if e.Kind == KindStart && e.Step < ceiling {
			ceiling = e.Step
		}
	}
	kept = make([]Event, 0, n)
	for i, e := range events {
		if keep[i] {
			kept = append(kept, e)
		} else {
			superseded = append(superseded, e)
		}
	}
	return kept, superseded
}
