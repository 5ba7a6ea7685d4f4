package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/ccface/ccface/engine"
)

// parentRun is a recorded run to overlay on synthRun: same shape, a
// slightly higher loss and angles, margin 0.45 throughout, a knob change
// at step 1000 (which must not be marked: only the live run's are) and
// evals every 800 steps a little below the live run's.
func parentRun(upto int64) []engine.Event {
	evs := []engine.Event{{Kind: engine.KindStart, Phase: engine.PhaseTeacher, Time: at(0),
		Values: map[string]float64{engine.MTotalSteps: 3000}}}
	for s := int64(10); s <= upto; s += 10 {
		if s == 1000 {
			evs = append(evs, hyper(s, "scale", "32", "48", "bob"))
		}
		p := synthPoint(s, 0.45, s >= 1500)
		for k, v := range p.Values {
			switch k {
			case engine.MLoss, engine.MLossCCLR, engine.MLossCCHR:
				p.Values[k] = 1.2 * v
			case engine.MThetaLR, engine.MThetaHR:
				p.Values[k] = v + 6
			}
		}
		evs = append(evs, p)
		if s%800 == 0 {
			e := evalAt(s)
			for k := range e.Values {
				e.Values[k] -= 0.05
			}
			evs = append(evs, e)
		}
	}
	return evs
}

func overlayModel(t *testing.T, live int64, ovs ...Overlay) Model {
	t.Helper()
	m := testModel(newFake(), Options{SessionPath: "sessions/2026-01-02-fork-1", By: "test", Overlays: ovs})
	if live > 0 {
		m = send(t, m, eventsMsg(synthRun(3000, live)))
	}
	return m
}

// TestOverlayGolden is a run of 2000 steps over a recorded one of 3000:
// the overlay's dashed curves extend the x axis to 3000, its name is in
// every legend, and only the live run's markers are drawn.
func TestOverlayGolden(t *testing.T) {
	m := overlayModel(t, 2000, Overlay{Name: "parent-run", Events: parentRun(3000)})
	cases := []struct {
		name string
		keys []string
	}{
		{"overlay_120x40", nil},
		{"overlay_smooth_120x40", []string{"s"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := screen(t, send(t, m, keys(c.keys...)...), 120, 40)
			checkFits(t, s, 120, 40)
			golden.RequireEqual(t, []byte(s))
		})
	}
}

func TestOverlayToggle(t *testing.T) {
	m := overlayModel(t, 2000, Overlay{Name: "parent-run", Events: parentRun(3000)})
	on := screen(t, m, 120, 40)
	if n := strings.Count(on, "╌ parent-run"); n != 4 {
		t.Errorf("overlay named in %d legends, want 4:\n%s", n, on)
	}
	if !strings.Contains(on, "3000") {
		t.Errorf("x axis does not reach the overlay's last step 3000:\n%s", on)
	}
	if !strings.Contains(on, "o overlays") {
		t.Errorf("footer does not offer o:\n%s", on)
	}

	m = send(t, m, keys("o")...)
	off := screen(t, m, 120, 40)
	if strings.Contains(off, "╌ parent-run") || !strings.Contains(off, "overlays hidden") {
		t.Errorf("o did not hide the overlays:\n%s", off)
	}
	if strings.Contains(off, " 3000") {
		t.Errorf("hidden overlay still widens the x axis:\n%s", off)
	}
	// Without overlays the charts are exactly those of a run without any.
	plain := screen(t, send(t, testModel(newFake(), Options{SessionPath: "sessions/2026-01-02-fork-1", By: "test"}),
		eventsMsg(synthRun(3000, 2000))), 120, 40)
	if a, b := chartRows(off), chartRows(plain); a != b {
		t.Errorf("charts with overlays hidden differ from a run without overlays:\n%s\n---\n%s", a, b)
	}

	m = send(t, m, keys("o")...)
	if again := screen(t, m, 120, 40); chartRows(again) != chartRows(on) {
		t.Errorf("o twice does not restore the overlays:\n%s", again)
	}
}

// chartRows is the chart column of a 120-wide screen: between the status
// bar and the log.
func chartRows(s string) string {
	lines := strings.Split(s, "\n")
	var out []string
	for _, l := range lines[1 : len(lines)-9] {
		if i := strings.LastIndex(l, "│"); i > 0 {
			l = l[:i]
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// Without overlays, o says how to get some (and ? lists it), instead of
// doing nothing.
func TestOverlayKeyWithoutOverlaysExplains(t *testing.T) {
	m := testModel(newFake(), Options{})
	if m.opts.overlays {
		t.Fatal("overlays on without overlays")
	}
	if s := screen(t, m, 120, 40); strings.Contains(s, "o overlays") {
		t.Errorf("footer offers o without overlays:\n%s", s)
	}
	m = send(t, m, keys("o")...)
	if m.opts.overlays {
		t.Error("o turned on overlays that do not exist")
	}
	s := screen(t, m, 120, 40)
	if !strings.Contains(s, "no overlays: pick sessions to overlay with `ccface pick`") {
		t.Errorf("o gives no feedback without overlays:\n%s", s)
	}
	m = send(t, m, keys("?")...)
	if s := screen(t, m, 120, 40); !strings.Contains(s, "overlays on / off") {
		t.Errorf("? help does not list o:\n%s", s)
	}
}

// At 80 columns (a default SSH terminal) the footer keeps ? help and q.
func TestFooterKeepsHelpAndQuitWhenNarrow(t *testing.T) {
	for _, opt := range []Options{{}, {Detach: true}, {ReadOnly: true, Detach: true}} {
		m := testModel(newFake(), opt)
		lines := strings.Split(screen(t, m, 80, 24), "\n")
		foot := lines[len(lines)-1]
		if !strings.Contains(foot, "? help") || !strings.Contains(foot, "q ") {
			t.Errorf("footer at 80 columns hides help or quit (%+v): %q", opt, foot)
		}
	}
}

// An overlay alone (the live run has not reported yet) is drawn, and its
// knob change is not marked.
func TestOverlayMarkersNotDrawn(t *testing.T) {
	m := overlayModel(t, 0, Overlay{Name: "parent-run", Events: parentRun(3000)})
	s := screen(t, m, 120, 40)
	if n := chartColumnLines(s, markKnob); n != 0 {
		t.Errorf("overlay knob change marked on %d lines:\n%s", n, s)
	}
	if strings.Contains(s, "waiting for data") {
		t.Errorf("overlay not drawn before the live run reports:\n%s", s)
	}
	if len(m.data.markers) != 0 {
		t.Errorf("overlay events added %d live markers", len(m.data.markers))
	}
}

// A recorded run killed at 800 and resumed from its checkpoint at 500
// folds into one curve: the points after 500 of the killed run are dropped.
func TestFoldOverlaysResumed(t *testing.T) {
	var evs []engine.Event
	for s := int64(10); s <= 800; s += 10 {
		evs = append(evs, synthPoint(s, 0.4, false))
	}
	evs = append(evs, evalAt(400), evalAt(800))
	evs = append(evs, engine.Event{Kind: engine.KindStart, Step: 500})
	for s := int64(510); s <= 900; s += 10 {
		evs = append(evs, synthPoint(s, 0.4, false))
	}
	ov := foldOverlays([]Overlay{{Name: "x", Events: evs}})[0]
	tr := ov.data.points[engine.MLoss]
	if got, want := len(tr.step), 90; got != want {
		t.Errorf("%d points, want %d (10..500, 510..900)", got, want)
	}
	for i := 1; i < len(tr.step); i++ {
		if tr.step[i] <= tr.step[i-1] {
			t.Fatalf("steps not increasing at %d: %v, %v", i, tr.step[i-1], tr.step[i])
		}
	}
	if ev := ov.data.evals["hr.verif_acc"]; len(ev.step) != 1 || ev.step[0] != 400 {
		t.Errorf("evals %v, want only step 400", ev.step)
	}
	if len(ov.data.markers) != 0 || len(ov.data.life) != 0 {
		t.Errorf("overlay kept markers %v or lifecycle events %d", ov.data.markers, len(ov.data.life))
	}
}

// A long recorded run is compacted like a live one.
func TestFoldOverlaysCompacts(t *testing.T) {
	var evs []engine.Event
	for s := int64(1); s <= 3*trackCap; s++ {
		evs = append(evs, synthPoint(s, 0.4, false))
	}
	tr := foldOverlays([]Overlay{{Events: evs}})[0].data.points[engine.MLoss]
	if n := len(tr.step); n > trackCap || tr.step[0] != 1 || tr.step[n-1] != 3*trackCap {
		t.Errorf("%d points from %v to %v; want ≤ %d spanning 1..%d", n, tr.step[0], tr.step[n-1], trackCap, 3*trackCap)
	}
}

// Zoomed in, the x range is the live run's last N steps even when an
// overlay goes further; zoomed out it spans the overlay too.
func TestOverlayWindow(t *testing.T) {
	m := overlayModel(t, 2000, Overlay{Name: "p", Events: parentRun(3000)})
	cases := []struct {
		o      chartOpts
		lo, hi float64
	}{
		{chartOpts{overlays: true}, 10, 3000},
		{chartOpts{overlays: false}, 10, 2000},
		{chartOpts{overlays: true, window: 200}, 1800, 2000},
		{chartOpts{overlays: true, byEpoch: true}, 0.05, 15},
	}
	for _, c := range cases {
		lo, hi, _, ok := m.data.xWindow(c.o)
		if !ok || lo != c.lo || hi != c.hi {
			t.Errorf("xWindow(%+v) = %v, %v, %v; want %v, %v", c.o, lo, hi, ok, c.lo, c.hi)
		}
	}
}

func TestOverlaysFitAnySize(t *testing.T) {
	m := overlayModel(t, 2000, Overlay{Name: strings.Repeat("long-name-", 6), Events: parentRun(3000)},
		Overlay{Name: "second", Events: parentRun(1200)}, Overlay{Name: "empty"})
	for _, w := range []int{20, 60, 80, 120, 200} {
		for _, h := range []int{5, 14, 24, 40} {
			t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
				checkFits(t, screen(t, m, w, h), w, h)
				checkFits(t, screen(t, send(t, m, keys("z", "t", "s")...), w, h), w, h)
			})
		}
	}
}

func TestDashPatterns(t *testing.T) {
	for n := 1; n <= 3; n++ {
		on := 0
		for col := range 12 {
			if dashKeep(n, col) {
				on++
			}
		}
		if on == 0 || on == 12 {
			t.Errorf("overlay %d: %d of 12 cells drawn, want a dash pattern", n, on)
		}
	}
}
