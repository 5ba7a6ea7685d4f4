package tui

import (
	"math"
	"slices"
	"testing"

	"github.com/ccface/ccface/engine"
)

func TestTrackCompactionBoundsMemory(t *testing.T) {
	var tr track
	const n = 1_000_000
	for i := 1; i <= n; i++ {
		tr.add(float64(i), float64(i)/100, float64(i%7), 0)
	}
	if len(tr.val) > trackCap || len(tr.step) != len(tr.val) || len(tr.epoch) != len(tr.val) {
		t.Fatalf("lengths %d/%d/%d, want equal and ≤ %d", len(tr.step), len(tr.epoch), len(tr.val), trackCap)
	}
	if cap(tr.val) > 2*trackCap {
		t.Errorf("capacity %d grew past 2×trackCap", cap(tr.val))
	}
	if tr.step[0] != 1 || tr.step[len(tr.step)-1] != n {
		t.Errorf("x range moved: %v … %v", tr.step[0], tr.step[len(tr.step)-1])
	}
	if !slices.IsSorted(tr.step) {
		t.Errorf("steps out of order after compaction")
	}
	// The newest points are kept at full resolution.
	for i := 1; i <= 100; i++ {
		if got := tr.step[len(tr.step)-i]; got != float64(n-i+1) {
			t.Fatalf("recent point %d is step %v, want %d", i, got, n-i+1)
		}
	}
	// Averaging keeps the mean of a periodic signal.
	mean := 0.0
	for _, v := range tr.val[1 : len(tr.val)/2] {
		mean += v
	}
	mean /= float64(len(tr.val)/2 - 1)
	if math.Abs(mean-3) > 0.1 {
		t.Errorf("old points average %v, want ≈3", mean)
	}
}

func TestTrackSkipsNonFinite(t *testing.T) {
	var tr track
	tr.add(1, 0, 1, 0)
	tr.add(2, 0, math.NaN(), 0)
	tr.add(3, 0, math.Inf(1), 0)
	if len(tr.val) != 1 || !math.IsInf(tr.last, 1) {
		t.Errorf("vals %v last %v: want one charted point and last=+Inf", tr.val, tr.last)
	}
}

// The charts smooth as the figures do: the debiased EMA of
// engine.SmoothSegments, restarted at a phase change (a resume announcing
// the same phase is none), over the whole track and then cut by the zoom.
func TestChartSmoothingIsTheFiguresOne(t *testing.T) {
	s := newStore()
	s.enterPhase(engine.PhaseTeacher)
	var raw []float64
	for i := int64(1); i <= 40; i++ {
		if i == 21 {
			s.enterPhase(engine.PhaseStudent)
		}
		if i == 31 {
			s.enterPhase(engine.PhaseStudent) // resumed in the same phase
		}
		v := 10.0
		if i > 20 {
			v = 1
		}
		raw = append(raw, v)
		s.point(engine.Event{Step: i, Values: map[string]float64{engine.MLoss: v}})
	}
	tr := s.points[engine.MLoss]
	o := chartOpts{smooth: true, weight: 0.9}
	got := smoothed(tr, 0, o)
	// Restarted at step 21, the student's curve is its own values exactly;
	// an average carried over from the teacher would still be far above 1.
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if !near(got[20], 1) || !near(got[39], 1) || !near(got[19], 10) {
		t.Fatalf("smoothed %v: the average must restart at the phase change and only there", got)
	}
	segs := make([]int, 40)
	for i := 20; i < 40; i++ {
		segs[i] = 1
	}
	want := engine.SmoothSegments(raw, segs, 0.9)
	if !slices.Equal(got, want) {
		t.Fatalf("chart curve %v, want engine.SmoothSegments %v", got, want)
	}
	if cut := smoothed(tr, 25, o); !slices.Equal(cut, want[25:]) {
		t.Fatalf("zoomed curve %v, want the full curve cut: %v", cut, want[25:])
	}
	if rawCut := smoothed(tr, 5, chartOpts{weight: 0.9}); !slices.Equal(rawCut, raw[5:]) {
		t.Fatalf("smoothing off: %v", rawCut)
	}
}

func TestXWindow(t *testing.T) {
	s := newStore()
	for i := int64(1); i <= 3000; i++ {
		s.point(engine.Event{Step: i, Epoch: float64(i) / 100, Values: map[string]float64{engine.MLoss: 1}})
	}
	cases := []struct {
		o              chartOpts
		lo, hi, stepLo float64
	}{
		{chartOpts{}, 1, 3000, math.Inf(-1)},
		{chartOpts{window: 1000}, 2000, 3000, 2000},
		{chartOpts{window: 1000, byEpoch: true}, 20, 30, 2000},
		{chartOpts{byEpoch: true}, 0.01, 30, math.Inf(-1)},
	}
	for _, c := range cases {
		lo, hi, stepLo, ok := s.xWindow(c.o)
		if !ok || lo != c.lo || hi != c.hi || stepLo != c.stepLo {
			t.Errorf("%+v: %v %v %v %v, want %v %v %v", c.o, lo, hi, stepLo, ok, c.lo, c.hi, c.stepLo)
		}
	}
	if _, _, _, ok := newStore().xWindow(chartOpts{}); ok {
		t.Errorf("empty store has a window")
	}
}

func TestYRange(t *testing.T) {
	cases := []struct {
		ys     []float64
		lo, hi float64
	}{
		{[]float64{1, 3}, 0.9, 3.1},
		{[]float64{0.1, 2}, 0, 2.095},           // near zero: zero baseline
		{[]float64{-1, 1}, -1.1, 1.1},           // negative values keep their padding
		{[]float64{0.3, 0.3}, 0.29835, 0.30165}, // flat: 1% wide around the value
	}
	for _, c := range cases {
		lo, hi, ok := yRange([]seriesData{{ys: c.ys}})
		if !ok || math.Abs(lo-c.lo) > 1e-9 || math.Abs(hi-c.hi) > 1e-9 {
			t.Errorf("yRange(%v) = %v, %v; want %v, %v", c.ys, lo, hi, c.lo, c.hi)
		}
	}
}

func TestStoreKeepsCurvesOfLatestEvalOnly(t *testing.T) {
	s := newStore()
	for _, st := range []int64{800, 1600, 2400} {
		e := evalAt(st)
		s.eval(e)
		s.keep(e)
	}
	for i, e := range s.life {
		if (e.Curves != nil) != (i == len(s.life)-1) {
			t.Errorf("eval %d (step %d) curves kept=%v", i, e.Step, e.Curves != nil)
		}
	}
	if got := len(s.evals["hr.verif_acc"].val); got != 3 {
		t.Errorf("%d hr.verif_acc points, want 3", got)
	}
}

func TestSnapshotEvents(t *testing.T) {
	s := newStore()
	s.point(engine.Event{Step: 10, Epoch: 0.1, Values: map[string]float64{engine.MLoss: 2, engine.MMargin: 0.1}})
	h := hyper(10, "margin", "0.4", "0.3", "x")
	s.keep(h)
	s.point(engine.Event{Step: 20, Epoch: 0.2, Values: map[string]float64{engine.MLoss: 1}})
	evs := s.snapshot().events()
	kinds := []engine.Kind{}
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	want := []engine.Kind{engine.KindPoint, engine.KindHyper, engine.KindPoint}
	if !slices.Equal(kinds, want) {
		t.Fatalf("kinds %v, want %v", kinds, want)
	}
	if evs[0].Values[engine.MMargin] != 0.1 || evs[2].Values[engine.MLoss] != 1 || evs[2].Step != 20 {
		t.Errorf("points rebuilt wrong: %+v", evs)
	}
}
