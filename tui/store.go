package tui

import (
	"math"
	"sort"

	"github.com/ccface/ccface/engine"
)

// trackCap bounds the points kept per metric. At the cap the older half is
// averaged pairwise (see track.compact), so memory stays at a few hundred KB
// however long a run is, while the recent half keeps one point per report:
// the widest chart has well under trackCap/2 braille columns.
const trackCap = 4096

// track is one metric's history as parallel float slices: far smaller than
// keeping the events, and directly what the chart code consumes.
type track struct {
	step  []float64
	epoch []float64
	val   []float64
	seg   []int   // phase segment of each point: smoothing restarts where it changes
	last  float64 // latest value as reported, NaN and Inf included (not charted)
	set   bool    // last holds a value
}

// add appends a point. Non-finite values (a diverged loss) are remembered as
// the latest value but not charted: one Inf would flatten every chart scale.
func (t *track) add(step, epoch, v float64, seg int) {
	t.last, t.set = v, true
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	if len(t.val) >= trackCap {
		t.compact()
	}
	t.step = append(t.step, step)
	t.epoch = append(t.epoch, epoch)
	t.val = append(t.val, v)
	t.seg = append(t.seg, seg)
}

// compact averages the older half of the points pairwise, in place. Repeated
// compaction makes resolution fall off geometrically with age; the first and
// last points are kept as they are, so the x range does not move. A pair
// across a phase change takes the later phase, as its rounded step does
// when an export rebuilds the point (store.events).
func (t *track) compact() {
	n := len(t.val)
	end := 1 + ((n / 2) &^ 1) // merge [1, end); point 0 stays so the x axis still starts where the run did
	j := 1
	for i := 1; i < end; i += 2 {
		t.step[j] = (t.step[i] + t.step[i+1]) / 2
		t.epoch[j] = (t.epoch[i] + t.epoch[i+1]) / 2
		t.val[j] = (t.val[i] + t.val[i+1]) / 2
		t.seg[j] = t.seg[i+1]
		j++
	}
	copy(t.step[j:], t.step[end:n])
	copy(t.epoch[j:], t.epoch[end:n])
	copy(t.val[j:], t.val[end:n])
	copy(t.seg[j:], t.seg[end:n])
	j += n - end
	t.step, t.epoch, t.val, t.seg = t.step[:j], t.epoch[:j], t.val[:j], t.seg[:j]
}

// from returns the index of the first point at or after step lo; steps are
// non-decreasing within a run.
func (t *track) from(lo float64) int {
	return sort.SearchFloat64s(t.step, lo)
}

// xs returns the x values (steps or epochs) from index i on, without copying.
func (t *track) xs(i int, byEpoch bool) []float64 {
	if byEpoch {
		return t.epoch[i:]
	}
	return t.step[i:]
}

func (t *track) clone() *track {
	c := *t
	c.step = append([]float64(nil), t.step...)
	c.epoch = append([]float64(nil), t.epoch...)
	c.val = append([]float64(nil), t.val...)
	c.seg = append([]int(nil), t.seg...)
	return &c
}

// marker is a vertical line on every chart: a knob change or a phase start.
type marker struct {
	step, epoch float64
	phase       bool // a phase boundary rather than a knob change
}

// store is the run's history as the UI keeps it. It lives behind a pointer
// in Model so the bubbletea value copies share it; only Update mutates it.
type store struct {
	points  map[string]*track // per-step metrics by name
	evals   map[string]*track // eval metrics by "<view>.<metric>"
	markers []marker          // every knob change and phase start, never decimated
	life    []engine.Event    // lifecycle events, for export; curves only on the latest eval
	lastEp  float64           // epoch of the newest point, to place eval points
	phase   string            // the phase in effect, from phase events
	seg     int               // counts phase changes: the segment of new points
	version uint64            // bumped whenever chart data changes
	// overlays are other sessions' recorded runs, folded once at New and
	// never changed (see overlay.go); snapshots and exports leave them out.
	overlays []*overlay
}

func newStore() *store {
	return &store{points: map[string]*track{}, evals: map[string]*track{}}
}

func (s *store) trackOf(m map[string]*track, name string) *track {
	t := m[name]
	if t == nil {
		t = &track{}
		m[name] = t
	}
	return t
}

// point folds a point event's values into the tracks.
func (s *store) point(e engine.Event) {
	for k, v := range e.Values {
		if k == engine.MTotalSteps {
			continue
		}
		s.trackOf(s.points, k).add(float64(e.Step), e.Epoch, v, s.seg)
	}
	s.lastEp = e.Epoch
	s.version++
}

// eval folds an eval event's values into the eval tracks.
func (s *store) eval(e engine.Event) {
	for k, v := range e.Values {
		s.trackOf(s.evals, k).add(float64(e.Step), e.Epoch, v, s.seg)
	}
	s.version++
}

// keep records a lifecycle event for export. ROC/CMC curves are kept only on
// the newest eval event: they are the one part of the history that can grow
// to megabytes, and figures use the final ones.
func (s *store) keep(e engine.Event) {
	if e.Kind == engine.KindEval && len(e.Curves) > 0 {
		for i := len(s.life) - 1; i >= 0; i-- {
			if s.life[i].Kind == engine.KindEval && s.life[i].Curves != nil {
				s.life[i].Curves = nil
				break
			}
		}
	}
	s.life = append(s.life, e)
}

func (s *store) mark(e engine.Event, phase bool) {
	s.markers = append(s.markers, marker{step: float64(e.Step), epoch: e.Epoch, phase: phase})
	s.version++
}

// enterPhase starts a new smoothing segment when the phase changes; a
// resumed run announcing the phase it is already in is no change. The
// figures (plots) cut their segments at the same events.
func (s *store) enterPhase(phase string) {
	if phase != s.phase {
		s.phase = phase
		s.seg++
	}
}

// smoothed returns t's values from index i on as the charts draw them:
// with o.smooth, the shared engine.SmoothSegments over the whole track,
// then cut, so zooming does not change the curve.
func smoothed(t *track, i int, o chartOpts) []float64 {
	if !o.smooth {
		return t.val[i:]
	}
	return engine.SmoothSegments(t.val, t.seg, o.weight)[i:]
}

// snapshot copies what an export needs, so the export can run in a tea.Cmd
// while Update keeps appending to the originals.
func (s *store) snapshot() *store {
	c := &store{points: map[string]*track{}, evals: map[string]*track{}}
	for k, t := range s.points {
		c.points[k] = t.clone()
	}
	c.life = append([]engine.Event(nil), s.life...)
	return c
}

// events rebuilds an event list from a snapshot: the lifecycle events as
// received plus point events re-assembled from the tracks (exact for recent
// steps, averaged for old ones). It is the slow part of an export and runs
// inside the export's tea.Cmd.
func (s *store) events() []engine.Event {
	byStep := map[int64]*engine.Event{}
	for name, t := range s.points {
		for i, st := range t.step {
			k := int64(math.Round(st))
			e := byStep[k]
			if e == nil {
				e = &engine.Event{Kind: engine.KindPoint, Step: k, Epoch: t.epoch[i], Values: map[string]float64{}}
				byStep[k] = e
			}
			e.Values[name] = t.val[i]
		}
	}
	out := make([]engine.Event, 0, len(byStep)+len(s.life))
	for _, e := range byStep {
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Step < out[j].Step })
	out = append(out, s.life...)
	// Stable: lifecycle events keep their order and follow the points of their step.
	sort.SliceStable(out, func(i, j int) bool { return out[i].Step < out[j].Step })
	return out
}
