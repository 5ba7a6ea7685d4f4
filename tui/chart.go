package tui

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/NimbleMarkets/ntcharts/canvas"
	"github.com/NimbleMarkets/ntcharts/canvas/graph"
	"github.com/NimbleMarkets/ntcharts/linechart"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/ccface/ccface/engine"
)

// labelW is the width of every chart's y labels. It is fixed so that all
// stacked charts put their y axis in the same column and share one x axis
// and one column per marker.
const labelW = 6

// gutter is labelW plus the y axis itself: the columns before the plot area.
const gutter = labelW + 1

// Markers: a knob change is a dotted column, a phase start a dashed one.
const (
	markKnob  = '┊'
	markPhase = '╎'
)

type seriesSpec struct {
	key   string
	label string
	color lipgloss.Color
}

type chartSpec struct {
	title  string
	eval   bool // series come from eval events rather than per-step points
	series []seriesSpec
	notes  []seriesSpec // latest values shown in the title only, not drawn
	empty  string       // what an empty chart says; "" for the workbench's own words
}

// chartSpecs lists the charts top to bottom. lrPx picks the LR view of the
// eval chart (the smallest probe size of the run's sweep).
func chartSpecs(lrPx int) []chartSpec {
	return []chartSpec{
		{title: "loss", series: []seriesSpec{
			{engine.MLoss, "total", colTotal},
			{engine.MLossCCLR, "cc_lr", colLR},
			{engine.MLossCCHR, "cc_hr", colHR},
		}},
		// The learning rate rides along as a number: it is a live knob whose
		// schedule explains bends in the curves, but has its own scale.
		{title: "margin", series: []seriesSpec{
			{engine.MMargin, "m", colMargin},
		}, notes: []seriesSpec{
			{engine.MMarginStd, "± ", colDim},
			{engine.MLR, "lr ", colDim},
		}},
		{title: "θ_y °", series: []seriesSpec{
			{engine.MThetaLR, "LR", colLR},
			{engine.MThetaHR, "HR", colHR},
		}},
		{title: "eval verif", eval: true, series: []seriesSpec{
			{engine.EvalKey("hr", engine.EVerifAcc), "hr", colHR},
			{engine.EvalKey(engine.LRView(lrPx), engine.EVerifAcc), engine.LRView(lrPx), colLR},
			{engine.EvalKey(engine.HRLRView(lrPx), engine.EVerifAcc), engine.HRLRView(lrPx), colCross},
		}},
	}
}

// chartOpts are the user's view settings; they are part of the chart cache key.
type chartOpts struct {
	byEpoch  bool
	smooth   bool
	weight   float64 // EMA weight in [0, 1)
	window   float64 // show the last window steps; 0 shows all
	overlays bool    // draw the overlays (Options.Overlays) under the live curves
}

// xWindow returns the x range every chart shows and the first step shown.
func (s *store) xWindow(o chartOpts) (lo, hi, stepLo float64, ok bool) {
	stepLo = math.Inf(-1)
	if o.window > 0 {
		last := math.Inf(-1)
		for _, t := range s.points {
			if n := len(t.step); n > 0 {
				last = math.Max(last, t.step[n-1])
			}
		}
		stepLo = last - o.window
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, m := range []map[string]*track{s.points, s.evals} {
		for _, t := range m {
			i := t.from(stepLo)
			if i >= len(t.step) {
				continue
			}
			xs := t.xs(i, o.byEpoch)
			lo, hi = math.Min(lo, xs[0]), math.Max(hi, xs[len(xs)-1])
			ok = true
		}
	}
	if ok && hi <= lo {
		hi = lo + 1
	}
	lo, hi, ok = s.overlayWindow(o, stepLo, lo, hi, ok)
	return lo, hi, stepLo, ok
}

type seriesData struct {
	spec    seriesSpec
	xs, ys  []float64
	last    float64
	has     bool
	overlay int // 0: the live run; n: Options.Overlays[n-1], drawn dashed under it
}

// renderCharts draws the stacked charts (rows[i] plot rows each, plus a
// title line) and the shared x axis line, w columns wide.
func renderCharts(st styles, s *store, specs []chartSpec, rows []int, w int, o chartOpts) []string {
	lo, hi, stepLo, ok := s.xWindow(o)
	var out []string
	for ci, spec := range specs {
		var data []seriesData
		for _, ss := range spec.series {
			src := s.points
			if spec.eval {
				src = s.evals
			}
			t := src[ss.key]
			if t == nil || !t.set {
				continue
			}
			d := seriesData{spec: ss, last: t.last, has: true}
			i := t.from(stepLo)
			d.xs = t.xs(i, o.byEpoch)
			d.ys = t.val[i:]
			if !spec.eval {
				d.ys = smoothed(t, i, o)
			}
			data = append(data, d)
		}
		data = append(data, overlaySeries(s, spec, stepLo, lo, hi, o)...)
		var notes []string
		for _, n := range spec.notes {
			if t := s.points[n.key]; t != nil && t.set && !(n.key == engine.MMarginStd && t.last == 0) {
				notes = append(notes, n.label+fmtVal(t.last))
			}
		}
		out = append(out, chartTitle(st, spec, data, notes, overlayLegend(st, s, data), w))
		out = append(out, plot(st, spec, data, s.markers, w, rows[ci], lo, hi, ok, o.byEpoch)...)
	}
	if ok {
		out = append(out, xAxis(st, w, lo, hi, o.byEpoch))
	} else {
		out = append(out, "")
	}
	return out
}

// chartTitle is the chart's name and legend: a coloured bar per series with
// its latest reported value (raw, even when the curve is smoothed).
func chartTitle(st styles, spec chartSpec, data []seriesData, notes []string, overlays string, w int) string {
	var b strings.Builder
	b.WriteString(st.title.Render(spec.title))
	for _, d := range data {
		if d.overlay > 0 {
			continue
		}
		b.WriteString("  ")
		b.WriteString(st.fg(d.spec.color).Render("━"))
		b.WriteString(" " + d.spec.label + " " + fmtVal(d.last))
	}
	b.WriteString(overlays)
	for _, n := range notes {
		b.WriteString(st.dim.Render("  " + n))
	}
	return ansi.Truncate(b.String(), w, "…")
}

// plot draws one chart body of h rows with ntcharts' linechart.
func plot(st styles, spec chartSpec, data []seriesData, markers []marker, w, h int, xlo, xhi float64, ok, byEpoch bool) []string {
	ylo, yhi, has := yRange(data)
	if !ok || !has {
		msg := spec.empty
		switch {
		case msg != "":
		case spec.eval:
			msg = "no evaluation yet (e evaluates now)"
		default:
			msg = "waiting for data…"
		}
		lines := make([]string, h)
		lines[(h-1)/2] = strings.Repeat(" ", gutter) + st.dim.Render(msg)
		return lines
	}
	// Labels sit on the bottom row (ylo), the top row (yhi) and, when the
	// chart is tall enough, a middle row. They ignore linechart's own value
	// (the bottom edge of the row) and print what a braille dot there means.
	ystep := max(h-1, 1)
	if h >= 5 && (h-1)%2 == 0 {
		ystep = (h - 1) / 2
	}
	yfmt := func(i int, _ float64) string {
		v := ylo + (yhi-ylo)*(float64(i)+0.5)/float64(h)
		switch {
		case i == 0:
			v = ylo
		case i >= h-1:
			v = yhi
		}
		return fmt.Sprintf("%*s", labelW, fmtNum(v))
	}
	lc := linechart.New(w, h, xlo, xhi, ylo, yhi,
		linechart.WithXYSteps(0, ystep),
		linechart.WithYLabelFormatter(yfmt),
		linechart.WithStyles(st.axis, st.label, st.r.NewStyle()))
	lc.DrawXYAxisAndLabel()
	gw, gh := lc.GraphWidth(), lc.GraphHeight()
	if gw < 1 || gh < 1 {
		return renderCanvas(&lc.Canvas)
	}
	origin := canvas.Point{X: lc.Origin().X + 1, Y: 0}
	for _, d := range data {
		// One braille grid per series (not linechart.DrawBrailleLine, which
		// allocates a grid per segment and scales by the expected, not the
		// viewed, range).
		grid := graph.NewBrailleGrid(gw, gh, xlo, xhi, ylo, yhi)
		set := grid.Set
		if d.overlay > 0 { // dashed: whole cell columns left out (two dots per cell)
			set = func(p canvas.Point) {
				if p.X >= 0 && dashKeep(d.overlay, p.X/2) {
					grid.Set(p)
				}
			}
		}
		var prev canvas.Point
		for i := range d.xs {
			p := grid.GridPoint(canvas.Float64Point{X: d.xs[i], Y: d.ys[i]})
			if i > 0 && p == prev && !spec.eval {
				continue // same dot: nothing to draw (dense tracks map many points to one dot)
			}
			if i == 0 {
				set(p)
			} else {
				drawLine(prev, p, set)
			}
			if spec.eval { // sparse points: widen each into a visible dash (never left out)
				grid.Set(p)
				grid.Set(canvas.Point{X: p.X + 1, Y: p.Y})
				grid.Set(canvas.Point{X: p.X - 1, Y: p.Y})
			}
			prev = p
		}
		if d.overlay > 0 {
			drawUnder(&lc.Canvas, origin, grid.BraillePatterns(), st.fg(d.spec.color))
			continue
		}
		graph.DrawBraillePatterns(&lc.Canvas, origin, grid.BraillePatterns(), st.fg(d.spec.color))
	}
	// Markers go only into empty cells so they never hide the curves.
	for _, mk := range markers {
		x := mk.step
		if byEpoch {
			x = mk.epoch
		}
		if x < xlo || x > xhi {
			continue
		}
		gx := int(math.Round((x - xlo) * float64(2*gw-1) / (xhi - xlo)))
		col := origin.X + gx/2
		r, sty := markKnob, st.marker
		if mk.phase {
			r, sty = markPhase, st.phase
		}
		for y := 0; y < gh; y++ {
			p := canvas.Point{X: col, Y: y}
			if lc.Canvas.Cell(p).Rune == 0 {
				lc.Canvas.SetCell(p, canvas.NewCellWithStyle(r, sty))
			}
		}
	}
	return renderCanvas(&lc.Canvas)
}

// renderCanvas is canvas.Model.View without its per-cell cost: ntcharts
// renders every cell through lipgloss on its own (half of a redraw's time,
// and a colour escape per cell), so runs of cells sharing a colour are
// rendered together here. Every style drawn on these canvases differs only
// by foreground colour, so that is the run key; blanks join any run.
func renderCanvas(c *canvas.Model) []string {
	w, h := c.Width(), c.Height()
	lines := make([]string, h)
	var b, run strings.Builder
	for y := range h {
		b.Reset()
		var fg lipgloss.TerminalColor
		var sty lipgloss.Style
		started := false
		flush := func() {
			if run.Len() > 0 {
				b.WriteString(sty.Render(run.String()))
				run.Reset()
			}
		}
		for x := range w {
			cell := c.Cell(canvas.Point{X: x, Y: y})
			if cell.Rune == 0 || cell.Rune == ' ' {
				run.WriteByte(' ')
				continue
			}
			if f := cell.Style.GetForeground(); !started || f != fg {
				flush()
				fg, sty, started = f, cell.Style, true
			}
			run.WriteRune(cell.Rune)
		}
		flush()
		lines[y] = b.String()
	}
	return lines
}

// yRange spans every drawn value, padded so curves do not ride the frame.
func yRange(data []seriesData) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, d := range data {
		for _, y := range d.ys {
			lo, hi = math.Min(lo, y), math.Max(hi, y)
			ok = true
		}
	}
	if !ok {
		return 0, 1, false
	}
	// A range narrower than 1% of the values' size is shown as 1% wide: a
	// constant margin (or its EMA, equal up to 1e-10) must read as flat, not
	// as float noise blown up to the chart's height.
	if minSpan := 0.01 * math.Max(math.Abs(lo), math.Abs(hi)); hi-lo < minSpan {
		minSpan = math.Max(minSpan, 1e-9)
		mid := (lo + hi) / 2
		lo, hi = mid-minSpan/2, mid+minSpan/2
	}
	pad := (hi - lo) * 0.05
	// Non-negative quantities (losses, margins) that come near zero get a
	// zero baseline rather than a padded "-0.02" or "0.029".
	if lo >= 0 && lo-pad < 2*pad {
		return 0, hi + pad, true
	}
	return lo - pad, hi + pad, true
}

// xAxis draws the x labels shared by the stacked charts, aligned with their
// plot columns: first and last x at the ends, the middle (and quarters when
// wide) at their columns.
func xAxis(st styles, w int, lo, hi float64, byEpoch bool) string {
	gw := w - gutter
	if gw < 1 {
		return ""
	}
	unit := "step"
	if byEpoch {
		unit = "epoch"
	}
	row := []rune(strings.Repeat(" ", gw))
	put := func(col int, s string) {
		col = max(0, min(col, gw-len(s)))
		for i := col - 1; i <= col+len(s); i++ { // keep a space between labels
			if i >= 0 && i < gw && row[i] != ' ' {
				return
			}
		}
		copy(row[col:], []rune(s))
	}
	at := func(f float64) {
		v := lo + f*(hi-lo)
		s := fmtX(v, hi-lo, byEpoch)
		put(int(math.Round(f*float64(gw-1)))-len(s)/2, s)
	}
	put(0, fmtX(lo, hi-lo, byEpoch))
	end := fmtX(hi, hi-lo, byEpoch)
	put(gw-len(end), end)
	at(0.5)
	if gw >= 60 {
		at(0.25)
		at(0.75)
	}
	return st.label.Render(fmt.Sprintf("%*s ", labelW, unit) + string(row))
}

// fmtX prints an x value: whole steps, or epochs to a precision that still
// tells ticks apart over the span shown.
func fmtX(v, span float64, byEpoch bool) string {
	if !byEpoch {
		if v >= 1e6 {
			return strconv.FormatFloat(v/1e6, 'f', 1, 64) + "M"
		}
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	if span < 2 {
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// fmtNum prints a y label in at most labelW columns.
func fmtNum(v float64) string {
	a := math.Abs(v)
	switch {
	case a < 5e-13:
		return "0"
	case a >= 1e4 || a < 1e-3:
		s := strconv.FormatFloat(v, 'e', 0, 64)
		s = strings.Replace(s, "e-0", "e-", 1)
		s = strings.Replace(s, "e+0", "e", 1)
		return strings.Replace(s, "e+", "e", 1)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

// fmtVal prints a legend or log value: four significant digits.
func fmtVal(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// drawLine sets the points of graph.GetLinePoints(p1, p2), the same
// Bresenham walk, without building a slice per segment: a chart frame
// draws thousands of segments, and those slices were most of a frame's
// allocations (and so of an SSH server's CPU with many clients).
func drawLine(p1, p2 canvas.Point, set func(canvas.Point)) {
	abs := func(v int) int {
		if v < 0 {
			return -v
		}
		return v
	}
	if abs(p2.Y-p1.Y) < abs(p2.X-p1.X) { // shallow: one point per x
		if p1.X > p2.X {
			p1, p2 = p2, p1
		}
		dx, dy, yi := p2.X-p1.X, p2.Y-p1.Y, 1
		if dy < 0 {
			yi, dy = -1, -dy
		}
		d, y := 2*dy-dx, p1.Y
		for x := p1.X; x <= p2.X; x++ {
			set(canvas.Point{X: x, Y: y})
			if d > 0 {
				y += yi
				d += 2 * (dy - dx)
			} else {
				d += 2 * dy
			}
		}
		return
	}
	if p1.Y > p2.Y { // steep: one point per y
		p1, p2 = p2, p1
	}
	dx, dy, xi := p2.X-p1.X, p2.Y-p1.Y, 1
	if dx < 0 {
		xi, dx = -1, -dx
	}
	d, x := 2*dx-dy, p1.X
	for y := p1.Y; y <= p2.Y; y++ {
		set(canvas.Point{X: x, Y: y})
		if d > 0 {
			x += xi
			d += 2 * (dx - dy)
		} else {
			d += 2 * dx
		}
	}
}
