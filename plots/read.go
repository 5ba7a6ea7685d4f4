package plots

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/ccface/ccface/engine"
)

// runData is one run read into the shape the figures need: per-step points
// on a forward-running x axis, marks for knob and phase changes, and the
// events that carry evaluations and curves.
type runData struct {
	name    string
	epochX  bool // x is the epoch, not the step
	points  []point
	markers []marker
	evals   []record // KindEval events
	curves  []record // any event with Curves, for "last event carrying X"
	from    float64  // zoom: figures over training time start at this x
}

// point is one per-step record; x is already on the figure's axis.
type point struct {
	step   int64
	x      float64
	seg    int // phase segment: smoothing restarts when it changes
	values map[string]float64
}

// marker is a knob or phase change to draw as a vertical line.
type marker struct {
	step  int64
	x     float64
	label string
	phase bool
	key   string // identity for dropping duplicates replayed by a resume
	seg   int
	raw   engine.Event
}

// record is an event kept whole (evaluations, curves) with its x.
type record struct {
	step int64
	x    float64
	seg  int
	ev   engine.Event
}

// frame tracks where a run's x axis stands while events are read, so
// per-phase counters run on.
type frame struct {
	seg       int
	offStep   []int64 // per segment, added to Step
	offEpoch  []float64
	lastStep  int64 // last kept point, offsets applied
	lastEpoch float64
	lastPhase string
	havePoint bool
	phase     string // from the last phase event
}

// readRun turns a run's event log into runData: the events that survive
// resumes (engine.Timeline), on an x axis that runs forward. See the
// package doc.
func readRun(name string, events []engine.Event, epochX bool) *runData {
	rd := &runData{name: name, epochX: epochX, from: math.Inf(-1)}
	fr := frame{offStep: []int64{0}, offEpoch: []float64{0}}
	events, _ = engine.Timeline(events)
	for _, ev := range events {
		switch ev.Kind {
		case engine.KindStart:
			if ev.Phase != "" {
				fr.phase = ev.Phase
			}
		case engine.KindPhase:
			if ev.Phase == fr.phase {
				// A resumed run announces the phase it is already in: no
				// new segment and no second mark.
				continue
			}
			fr.seg++
			fr.offStep = append(fr.offStep, fr.offStep[len(fr.offStep)-1])
			fr.offEpoch = append(fr.offEpoch, fr.offEpoch[len(fr.offEpoch)-1])
			fr.phase = ev.Phase
			if ev.Phase != "" && ev.Phase != engine.PhaseDone {
				rd.markers = append(rd.markers, marker{step: ev.Step, label: ev.Phase, phase: true,
					key: "phase " + ev.Phase, seg: fr.seg, raw: ev})
			}
		case engine.KindHyper:
			rd.markers = append(rd.markers, marker{step: ev.Step, label: knobLabel(ev), key: "knob " + ev.Knob + " " + ev.Old + " " + ev.New,
				seg: fr.seg, raw: ev})
		case engine.KindPoint:
			rd.addPoint(&fr, ev)
		}
		if ev.Kind == engine.KindEval {
			rd.evals = append(rd.evals, record{step: ev.Step, seg: fr.seg, ev: ev})
		}
		if len(ev.Curves) > 0 {
			rd.curves = append(rd.curves, record{step: ev.Step, seg: fr.seg, ev: ev})
		}
	}
	rd.finish(&fr)
	return rd
}

// addPoint appends a point event. A step or epoch that goes back at a
// change of phase is the new phase's own counter (the engine counts epochs
// per phase): the new phase is shifted after the old one.
func (rd *runData) addPoint(fr *frame, ev engine.Event) {
	phase := ev.Phase
	if phase == "" {
		phase = fr.phase
	}
	s := ev.Step + fr.offStep[fr.seg]
	e := ev.Epoch + fr.offEpoch[fr.seg]
	if fr.havePoint && phase != fr.lastPhase {
		if s <= fr.lastStep {
			fr.offStep[fr.seg] = fr.lastStep - ev.Step + 1
			s = ev.Step + fr.offStep[fr.seg]
		}
		if e < fr.lastEpoch {
			fr.offEpoch[fr.seg] = fr.lastEpoch
			e = ev.Epoch + fr.offEpoch[fr.seg]
		}
	}
	rd.points = append(rd.points, point{step: s, x: e, seg: fr.seg, values: ev.Values})
	fr.lastStep, fr.lastEpoch, fr.lastPhase = s, e, phase
	fr.havePoint = true
}

// finish puts markers and records on the final x axis and drops duplicate
// markers (a resume may replay the knob history).
func (rd *runData) finish(fr *frame) {
	if rd.epochX && len(rd.points) > 1 {
		allZero := true
		for _, p := range rd.points {
			if p.x != 0 {
				allZero = false
				break
			}
		}
		if allZero {
			rd.epochX = false
		}
	}
	xOf := func(ev engine.Event, seg int) float64 {
		if rd.epochX {
			return ev.Epoch + fr.offEpoch[seg]
		}
		return float64(ev.Step + fr.offStep[seg])
	}
	for i := range rd.points {
		if !rd.epochX {
			rd.points[i].x = float64(rd.points[i].step)
		}
	}
	seen := map[string]bool{}
	var ms []marker
	for _, m := range rd.markers {
		m.x = xOf(m.raw, m.seg)
		m.step += fr.offStep[m.seg]
		k := fmt.Sprintf("%d %s", m.step, m.key)
		if seen[k] {
			continue
		}
		seen[k] = true
		ms = append(ms, m)
	}
	rd.markers = ms
	for _, rs := range [][]record{rd.evals, rd.curves} {
		for i := range rs {
			rs[i].x = xOf(rs[i].ev, rs[i].seg)
			rs[i].step += fr.offStep[rs[i].seg]
		}
	}
}

// knobLabel is the short text beside a knob-change line: "margin 0.4→0.3".
func knobLabel(ev engine.Event) string {
	return ev.Knob + " " + engine.KnobText(ev.Knob, ev.Old) + "→" + engine.KnobText(ev.Knob, ev.New)
}

// zoomStart returns the index of the first of xs (sorted, on this run's x
// axis) that the zoom shows.
func (rd *runData) zoomStart(xs []float64) int { return sort.SearchFloat64s(xs, rd.from) }

// lastEval returns the last evaluation that has any value or curve for
// which has returns true.
func (rd *runData) lastEval(has func(ev engine.Event) bool) (record, bool) {
	for i := len(rd.evals) - 1; i >= 0; i-- {
		if has(rd.evals[i].ev) {
			return rd.evals[i], true
		}
	}
	return record{}, false
}

// lastCurve returns the last event of any kind carrying the named curve.
func (rd *runData) lastCurve(name string) (record, bool) {
	for i := len(rd.curves) - 1; i >= 0; i-- {
		if _, ok := rd.curves[i].ev.Curves[name]; ok {
			return rd.curves[i], true
		}
	}
	return record{}, false
}

// pointMetrics lists the point metric names present in the run, sorted.
func (rd *runData) pointMetrics() []string {
	set := map[string]bool{}
	for _, p := range rd.points {
		for k := range p.values {
			set[k] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
