package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/NimbleMarkets/ntcharts/canvas"
	"github.com/NimbleMarkets/ntcharts/canvas/runes"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/ccface/ccface/engine"
)

// Overlay is the recorded run of another session (the parent of a fork, or
// any session the user named), drawn on every time-series chart under the
// live curves: each series the overlay shares with a chart is a dashed
// braille line in a muted shade of that series' colour, and the overlay's
// name is in the chart's legend. Overlays' knob and phase markers are not
// drawn; only the live run's are.
type Overlay struct {
	Name   string
	Events []engine.Event // as recorded, e.g. sessions.ReadEvents
}

// overlay is an Overlay folded into tracks once, at New, by the same track
// code as the live run (so a long recorded run is compacted the same way).
// Only its points and evals are kept; nothing in Update touches it.
type overlay struct {
	name string
	data *store
}

// foldOverlays folds recorded events into tracks: those that survive
// resumes (engine.Timeline, as the session store and the figures read a
// log), so the curve never folds back on itself.
func foldOverlays(ovs []Overlay) []*overlay {
	out := make([]*overlay, 0, len(ovs))
	for _, o := range ovs {
		s := newStore()
		kept, _ := engine.Timeline(o.Events)
		for _, e := range kept {
			switch e.Kind {
			case engine.KindPhase:
				s.enterPhase(e.Phase)
			case engine.KindPoint:
				s.point(e)
			case engine.KindEval:
				s.eval(e)
			}
		}
		out = append(out, &overlay{name: o.Name, data: s})
	}
	return out
}

// span is the step range of an overlay's points, for the log line.
func (o *overlay) span() (lo, hi float64, ok bool) {
	for _, t := range o.data.points {
		if n := len(t.step); n > 0 {
			if !ok || t.step[0] < lo {
				lo = t.step[0]
			}
			if !ok || t.step[n-1] > hi {
				hi = t.step[n-1]
			}
			ok = true
		}
	}
	return lo, hi, ok
}

// initOverlays folds Options.Overlays, shows them, enables their key and
// logs what each one covers.
func (m *Model) initOverlays() {
	m.data.overlays = foldOverlays(m.opt.Overlays)
	has := len(m.data.overlays) > 0
	m.opts.overlays = has
	for _, o := range m.data.overlays {
		if lo, hi, ok := o.span(); ok {
			m.addLog(time.Time{}, logDim, fmt.Sprintf("overlay %s: steps %.0f–%.0f, drawn dashed under the live curves (o hides)", o.name, lo, hi))
		} else {
			m.addLog(time.Time{}, logDim, fmt.Sprintf("overlay %s: no recorded points", o.name))
		}
	}
}

// toggleOverlays is the o key.
func (m *Model) toggleOverlays() {
	if len(m.data.overlays) == 0 {
		m.setFlash("no overlays: pick sessions to overlay with `ccface pick`", true)
		return
	}
	m.opts.overlays = !m.opts.overlays
	if m.opts.overlays {
		names := make([]string, len(m.data.overlays))
		for i, o := range m.data.overlays {
			names[i] = o.name
		}
		m.setFlash("overlays shown: "+strings.Join(names, ", "), false)
	} else {
		m.setFlash("overlays hidden (o shows them)", false)
	}
}

// overlaySeries returns the overlays' series of one chart, cut to the x
// range [lo, hi], each marked with its overlay's dash pattern (1-based).
func overlaySeries(s *store, spec chartSpec, stepLo, lo, hi float64, o chartOpts) []seriesData {
	if !o.overlays {
		return nil
	}
	var out []seriesData
	for oi, ov := range s.overlays {
		src := ov.data.points
		if spec.eval {
			src = ov.data.evals
		}
		for _, ss := range spec.series {
			t := src[ss.key]
			if t == nil || len(t.val) == 0 {
				continue
			}
			i := t.from(stepLo)
			xs := t.xs(i, o.byEpoch)
			ys := t.val[i:]
			if !spec.eval {
				ys = smoothed(t, i, o)
			}
			j := len(xs)
			for j > 0 && xs[j-1] > hi {
				j--
			}
			k := 0
			for k < j && xs[k] < lo {
				k++
			}
			if k >= j {
				continue
			}
			ss.color = mutedColor(ss.color)
			out = append(out, seriesData{spec: ss, xs: xs[k:j], ys: ys[k:j], has: true, overlay: oi + 1})
		}
	}
	return out
}

// overlayWindow widens the live x range [lo, hi] to the overlays' points
// from stepLo on. A zoomed view (window > 0) keeps the live run's right
// edge, so "last N steps" stays the live run's last N steps.
func (s *store) overlayWindow(o chartOpts, stepLo, lo, hi float64, ok bool) (float64, float64, bool) {
	if !o.overlays {
		return lo, hi, ok
	}
	live := ok
	for _, ov := range s.overlays {
		for _, m := range []map[string]*track{ov.data.points, ov.data.evals} {
			for _, t := range m {
				i := t.from(stepLo)
				if i >= len(t.step) {
					continue
				}
				xs := t.xs(i, o.byEpoch)
				if live && o.window > 0 {
					if xs[0] > hi {
						continue
					}
				} else {
					hi = max(hi, xs[len(xs)-1])
				}
				lo, ok = min(lo, xs[0]), true
			}
		}
	}
	if ok && hi <= lo {
		hi = lo + 1
	}
	return lo, hi, ok
}

// mutedColor is the overlay shade of a series colour: the same hue, darker,
// so an overlay reads as the same metric but clearly not the live one.
func mutedColor(c lipgloss.Color) lipgloss.Color {
	switch c {
	case colTotal:
		return "244"
	case colLR:
		return "31"
	case colHR:
		return "132"
	case colCross:
		return "65"
	case colMargin:
		return "136"
	}
	return colDim
}

// dashKeep reports whether overlay n (1-based) draws in cell column col:
// the first overlay is dashed (two cells on, one off), the second dotted,
// the third long-dashed, then the patterns repeat.
func dashKeep(n, col int) bool {
	switch (n - 1) % 3 {
	case 0:
		return col%3 != 2
	case 1:
		return col%2 == 0
	}
	return col%4 != 3
}

// dashGlyph is overlay n's legend sample, matching dashKeep.
func dashGlyph(n int) string {
	return [...]string{"╌", "┈", "┄"}[(n-1)%3]
}

// overlayLegend is the legend part of the overlays drawn in a chart: each
// one's dash sample and name. Long names keep their end (session names
// differ at the end: "…seed1-ccface", "…seed1-teacher").
func overlayLegend(st styles, s *store, data []seriesData) string {
	var b strings.Builder
	seen := map[int]bool{}
	for _, d := range data {
		if d.overlay == 0 || seen[d.overlay] {
			continue
		}
		seen[d.overlay] = true
		name := s.overlays[d.overlay-1].name
		if ansi.StringWidth(name) > 20 {
			name = ansi.TruncateLeft(name, ansi.StringWidth(name)-19, "…")
		}
		b.WriteString(st.dim.Render("  " + dashGlyph(d.overlay) + " " + name))
	}
	return b.String()
}

// drawUnder draws braille patterns into the canvas cells that are still
// empty: an overlay never covers the live curves (drawn first) nor an
// earlier overlay, and unlike graph.DrawBraillePatterns it never merges its
// dots into a live cell, which would recolour them as live.
func drawUnder(c *canvas.Model, at canvas.Point, b [][]rune, sty lipgloss.Style) {
	for y, row := range b {
		for x, r := range row {
			if r == runes.BrailleBlockOffset {
				continue
			}
			p := at.Add(canvas.Point{X: x, Y: y})
			if c.Cell(p).Rune == 0 {
				c.SetCell(p, canvas.NewCellWithStyle(r, sty))
			}
		}
	}
}
