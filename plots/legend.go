package plots

import (
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// legendEntry is one key of the legend: a short line, glyph or swatch and
// its label.
type legendEntry struct {
	label   string
	section int // entries of one dimension; each starts a row below the plot
	line    *draw.LineStyle
	glyph   *draw.GlyphStyle
	fill    color.Color
}

type legendEntries []legendEntry

// Legend geometry in points.
const (
	legendThumb  = 14 // key width
	legendGap    = 3  // between key and label
	legendPad    = 3  // inside the box
	legendColGap = 8  // between columns of a legend below the plot
	legendInset  = 4  // between the box and the data area's edge
)

// legend lists one entry per value of each dimension that varies (runs,
// series groups, sub-series), not one per combination: with 3 runs of 4
// loss terms that is 7 keys instead of 12. The key of a dimension shows
// only the property that encodes it (colour, dash or glyph), in grey when
// colour belongs to another dimension.
func (f *figure) legend(lk look) legendEntries {
	sm := f.styles()
	hasGlyphs, hasBars := false, false
	for _, s := range f.series {
		hasGlyphs = hasGlyphs || s.kind == kindLineGlyph
		hasBars = hasBars || s.kind == kindBars
	}
	values := func(d dim) []string {
		switch d {
		case dimRun:
			return f.runs
		case dimGroup:
			return f.groups()
		case dimSub:
			return f.subs()
		}
		return nil
	}
	used := []dim{}
	for _, d := range []dim{dimRun, dimGroup, dimSub} {
		if d == sm.colour || d == sm.dash || (hasGlyphs && d == sm.glyph) {
			used = append(used, d)
		}
	}
	var shown []dim
	for _, d := range used {
		if len(values(d)) > 1 {
			shown = append(shown, d)
		}
	}
	if len(shown) == 0 {
		for _, d := range used {
			if len(values(d)) == 1 {
				shown = []dim{d}
				break
			}
		}
	}
	// With one colour in use, every key takes that colour, not grey.
	base := neutral()
	if len(values(sm.colour)) <= 1 {
		base = okabeIto(0)
	}
	var out legendEntries
	for sec, d := range shown {
		for i, v := range values(d) {
			c := base
			if sm.colour == d {
				c = okabeIto(i)
			}
			e := legendEntry{label: lk.txt(v), section: sec}
			if hasBars {
				e.fill = withAlpha(c, 0.55)
				e.line = &draw.LineStyle{Color: c, Width: 0.6}
				if len(f.runs) > 1 {
					e.fill = withAlpha(c, 0.12)
					e.line.Width = lineWidth
				}
				out = append(out, e)
				continue
			}
			ls := draw.LineStyle{Color: c, Width: lineWidth}
			if sm.dash == d {
				ls.Dashes = dashes(i)
			}
			e.line = &ls
			if hasGlyphs && (sm.glyph == d || (sm.glyph != dimNone && !slices.Contains(shown, sm.glyph))) {
				g := 0
				if sm.glyph == d {
					g = i
				}
				e.glyph = &draw.GlyphStyle{Color: c, Radius: glyphRadius, Shape: glyph(g)}
			}
			out = append(out, e)
		}
	}
	if len(f.bands) > 0 {
		c := base
		if len(f.runs) > 1 && sm.colour == dimRun {
			c = neutral()
		}
		out = append(out, legendEntry{label: lk.txt(f.bands[0].label), fill: withAlpha(c, 0.2), section: max(len(shown)-1, 0)})
	}
	// One key and one run: the title and axis label already say it all.
	if len(out) == 1 && len(f.runs) == 1 {
		return nil
	}
	return out
}

func (l legendEntries) rowHeight(lk look) vg.Length {
	return lk.legend.FontExtents().Height * 1.1
}

func (l legendEntries) entryWidth(lk look) vg.Length {
	var w vg.Length
	for _, e := range l {
		w = max(w, lk.legend.Width(e.label))
	}
	return legendThumb + legendGap + w
}

// boxSize is the size of the legend drawn as one column inside the plot.
func (l legendEntries) boxSize(lk look) (w, h vg.Length) {
	return l.entryWidth(lk) + 2*legendPad, vg.Length(len(l))*l.rowHeight(lk) + 2*legendPad
}

// belowLayout fits the legend in as many columns as the figure width
// takes; each section (runs, series, sub-series) starts a new row so keys
// of one kind stay together.
func (l legendEntries) belowLayout(lk look, width vg.Length) (cols int, rowOf []int, height vg.Length) {
	ew := l.entryWidth(lk)
	cols = int((width - 2*legendPad + legendColGap) / (ew + legendColGap))
	cols = min(max(cols, 1), len(l))
	row, col := 0, 0
	for i, e := range l {
		if i > 0 && (col == cols || e.section != l[i-1].section) {
			row++
			col = 0
		}
		rowOf = append(rowOf, row)
		col++
	}
	return cols, rowOf, vg.Length(row+1)*l.rowHeight(lk) + 2*legendPad + 2
}

// drawEntry draws entry e with its key starting at x on the row centred at y.
func (l legendEntries) drawEntry(c draw.Canvas, lk look, e legendEntry, x, y vg.Length) {
	h := l.rowHeight(lk)
	if e.fill != nil {
		r := []vg.Point{{X: x, Y: y - h*0.3}, {X: x, Y: y + h*0.3}, {X: x + legendThumb, Y: y + h*0.3}, {X: x + legendThumb, Y: y - h*0.3}}
		c.FillPolygon(e.fill, r)
		if e.line != nil {
			c.StrokeLines(*e.line, append(r, r[0]))
		}
	} else if e.line != nil {
		c.StrokeLine2(*e.line, x, y, x+legendThumb, y)
	}
	if e.glyph != nil {
		c.DrawGlyphNoClip(*e.glyph, vg.Point{X: x + legendThumb/2, Y: y})
	}
	st := lk.legend
	st.YAlign = draw.YCenter
	c.FillText(st, vg.Point{X: x + legendThumb + legendGap, Y: y}, e.label)
}

// drawBox draws the legend as a framed column in rectangle r, on a nearly
// opaque white ground so grid lines do not run through the labels.
func (l legendEntries) drawBox(c draw.Canvas, r vg.Rectangle, lk look) {
	c.FillPolygon(color.NRGBA{0xF8, 0xF8, 0xF8, 0xF0}, rectPoints(r))
	c.StrokeLines(draw.LineStyle{Color: color.Gray{Y: 0xBB}, Width: 0.4}, append(rectPoints(r), r.Min))
	h := l.rowHeight(lk)
	for i, e := range l {
		y := r.Max.Y - legendPad - h*(vg.Length(i)+0.5)
		l.drawEntry(c, lk, e, r.Min.X+legendPad, y)
	}
}

// drawBelow draws the legend in rows under the plot, centred.
func (l legendEntries) drawBelow(c draw.Canvas, lk look) {
	w := c.Max.X - c.Min.X
	cols, rowOf, _ := l.belowLayout(lk, w)
	ew := l.entryWidth(lk)
	total := vg.Length(cols)*ew + vg.Length(cols-1)*legendColGap
	x0 := c.Min.X + (w-total)/2
	h := l.rowHeight(lk)
	col := 0
	for i, e := range l {
		if i > 0 && rowOf[i] != rowOf[i-1] {
			col = 0
		}
		row := rowOf[i]
		y := c.Max.Y - legendPad - 2 - h*(vg.Length(row)+0.5)
		l.drawEntry(c, lk, e, x0+vg.Length(col)*(ew+legendColGap), y)
		col++
	}
}

func rectPoints(r vg.Rectangle) []vg.Point {
	return []vg.Point{r.Min, {X: r.Min.X, Y: r.Max.Y}, r.Max, {X: r.Max.X, Y: r.Min.Y}}
}

// placement is where the legend goes: inside the data area at fractions
// (fx, fy) of the free room (below == 0), or in a strip of height below
// under the plot.
type placement struct {
	below  vg.Length
	fx, fy float64
	w, h   vg.Length
}

// box returns the legend rectangle inside data area da.
func (pl placement) box(da draw.Canvas) vg.Rectangle {
	x := da.Min.X + legendInset + vg.Length(pl.fx)*(da.Max.X-da.Min.X-2*legendInset-pl.w)
	y := da.Min.Y + legendInset + vg.Length(pl.fy)*(da.Max.Y-da.Min.Y-2*legendInset-pl.h)
	return vg.Rectangle{Min: vg.Point{X: x, Y: y}, Max: vg.Point{X: x + pl.w, Y: y + pl.h}}
}

// legendSpots are the inside positions placeLegend tries, as fractions of
// the free room, in order of preference: corners, then edge midpoints,
// then further along the edges.
func legendSpots() [][2]float64 {
	return [][2]float64{{1, 1}, {0, 1}, {1, 0}, {0, 0}, {0.5, 1}, {0.5, 0}, {1, 0.5}, {0, 0.5},
		{0.75, 1}, {0.25, 1}, {0.75, 0}, {0.25, 0}}
}

// placeLegend puts the legend in the first inside position where it covers
// no drawn point and no change label; if there is none, or the legend is
// too big for the data area, it goes below the plot and the figure grows.
// Covering data is never worth a figure of fixed height.
func placeLegend(f *figure, p *plot.Plot, da draw.Canvas, l legendEntries, lk look, width vg.Length) placement {
	if len(l) == 0 {
		return placement{}
	}
	w, h := l.boxSize(lk)
	if w < (da.Max.X-da.Min.X)*0.6 && h < (da.Max.Y-da.Min.Y)*0.6 {
		pts := f.samples(p, da)
		_, labels := layoutMarks(f, p, da, lk)
		for _, at := range legendSpots() {
			pl := placement{fx: at[0], fy: at[1], w: w, h: h}
			r := grow(pl.box(da), glyphRadius+1.5)
			if !covers(r, pts, labels) {
				return pl
			}
		}
	}
	_, _, bh := l.belowLayout(lk, width)
	return placement{below: bh}
}

func grow(r vg.Rectangle, d vg.Length) vg.Rectangle {
	return vg.Rectangle{Min: vg.Point{X: r.Min.X - d, Y: r.Min.Y - d}, Max: vg.Point{X: r.Max.X + d, Y: r.Max.Y + d}}
}

func inRect(r vg.Rectangle, p vg.Point) bool {
	return p.X >= r.Min.X && p.X <= r.Max.X && p.Y >= r.Min.Y && p.Y <= r.Max.Y
}

func overlaps(a, b vg.Rectangle) bool {
	return a.Min.X <= b.Max.X && b.Min.X <= a.Max.X && a.Min.Y <= b.Max.Y && b.Min.Y <= a.Max.Y
}

func covers(r vg.Rectangle, pts []vg.Point, labels []markLabel) bool {
	for _, p := range pts {
		if inRect(r, p) {
			return true
		}
	}
	for _, lb := range labels {
		if overlaps(r, lb.rect) {
			return true
		}
	}
	return false
}

// samples returns points along everything drawn, at most about 2 pt apart,
// in canvas coordinates of data area da; the legend must avoid them all.
func (f *figure) samples(p *plot.Plot, da draw.Canvas) []vg.Point {
	tx, ty := p.Transforms(&da)
	var out []vg.Point
	add := func(pt vg.Point) {
		if inRect(da.Rectangle, pt) {
			out = append(out, pt)
		}
	}
	line := func(a, b vg.Point) {
		d := math.Hypot(float64(b.X-a.X), float64(b.Y-a.Y))
		n := min(int(d/2)+1, 400)
		for k := 0; k <= n; k++ {
			t := vg.Length(float64(k) / float64(n))
			add(vg.Point{X: a.X + (b.X-a.X)*t, Y: a.Y + (b.Y-a.Y)*t})
		}
	}
	for _, s := range f.series {
		if s.kind == kindBars {
			y0 := ty(math.Max(p.Y.Min, 0))
			for i, x := range s.xs {
				x0, x1 := tx(x-s.widths[i]/2), tx(x+s.widths[i]/2)
				for xx := x0; xx <= x1; xx += 2 {
					line(vg.Point{X: xx, Y: y0}, vg.Point{X: xx, Y: ty(s.ys[i])})
				}
			}
			continue
		}
		for i := range s.xs {
			pt := vg.Point{X: tx(s.xs[i]), Y: ty(s.ys[i])}
			if i == 0 || (len(s.segs) == len(s.xs) && s.segs[i] != s.segs[i-1]) {
				add(pt)
				continue
			}
			line(vg.Point{X: tx(s.xs[i-1]), Y: ty(s.ys[i-1])}, pt)
		}
	}
	for _, b := range f.bands {
		for i := range b.xs {
			line(vg.Point{X: tx(b.xs[i]), Y: ty(b.lo[i])}, vg.Point{X: tx(b.xs[i]), Y: ty(b.hi[i])})
			if i > 0 {
				line(vg.Point{X: tx(b.xs[i-1]), Y: ty(b.hi[i-1])}, vg.Point{X: tx(b.xs[i]), Y: ty(b.hi[i])})
				line(vg.Point{X: tx(b.xs[i-1]), Y: ty(b.lo[i-1])}, vg.Point{X: tx(b.xs[i]), Y: ty(b.lo[i])})
			}
		}
	}
	return out
}
