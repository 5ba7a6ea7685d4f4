package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/recorder"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"
)

// render draws f in opt.Format and returns the file's bytes.
func render(f *figure, opt Options) ([]byte, error) {
	lk := newLook(opt.Format)
	p := newPlot(f, lk)
	reserveMarkBand(f, p, p.DataCanvas(probeCanvas(opt)), lk)
	legend := f.legend(lk)

	// Lay out once on a recorder canvas of the final plot size to learn
	// where the data area is, then choose where the legend goes.
	place := placeLegend(f, p, p.DataCanvas(probeCanvas(opt)), legend, lk, opt.Width)

	h := opt.Height + place.below
	var cw vg.CanvasWriterTo
	switch opt.Format {
	case "png":
		cw = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(opt.Width, h), vgimg.UseDPI(opt.DPI))}
	case "svg":
		cw = vgsvg.New(opt.Width, h)
	case "pdf":
		cw = vgpdf.New(opt.Width, h)
	default:
		return nil, fmt.Errorf("format %q not supported", opt.Format)
	}
	dc := draw.New(cw)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	area := plotArea(draw.Crop(dc, 0, 0, place.below, 0))
	p.Draw(area)
	if place.below > 0 {
		below := dc
		below.Max.Y = dc.Min.Y + place.below
		legend.drawBelow(below, lk)
	} else if len(legend) > 0 {
		da := p.DataCanvas(area)
		legend.drawBox(da, place.box(da), lk)
	}
	var buf bytes.Buffer
	if _, err := cw.WriteTo(&buf); err != nil {
		return nil, err
	}
	out := buf.Bytes()
	if opt.Format == "svg" {
		// SVG text is set by the viewer. Liberation Sans has Arial's
		// metrics, so falling back to Arial keeps every label where it was
		// laid out; without a fallback viewers pick a serif font.
		out = bytes.ReplaceAll(out, []byte("font-family:Liberation Sans;"),
			[]byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"))
	}
	return out, nil
}

// probeCanvas is a canvas of the plot's size that records nothing useful;
// laying out on it tells where the data area will be.
func probeCanvas(opt Options) draw.Canvas {
	return plotArea(draw.NewCanvas(new(recorder.Canvas), opt.Width, opt.Height))
}

// rightMargin keeps the last x tick label, centred on the right end of the
// axis, inside the figure; gonum pads for glyphs but not for tick labels.
const rightMargin = 7

// plotArea is the part of canvas c the plot itself is drawn in.
func plotArea(c draw.Canvas) draw.Canvas { return draw.Crop(c, 0, -rightMargin, 0, 0) }

// newPlot builds the gonum plot of f: axes, grid, bands, series and change
// marks. The legend is drawn separately (see legend.go).
func newPlot(f *figure, lk look) *plot.Plot {
	p := plot.New()
	p.Title.Text = lk.txt(f.title)
	p.Title.TextStyle = lk.title
	p.Title.TextStyle.XAlign = draw.XCenter
	p.Title.TextStyle.YAlign = draw.YTop
	p.Title.Padding = 4
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		// Keep gonum's alignments of axis and tick labels; take fonts only.
		ax.Label.TextStyle.Font, ax.Label.TextStyle.Color = lk.label.Font, lk.label.Color
		ax.Tick.Label.Font, ax.Tick.Label.Color = lk.tick.Font, lk.tick.Color
		ax.Width = 0.6
		ax.Tick.Width = 0.6
		ax.Tick.Length = 3
		ax.Padding = 2
		ax.Label.Padding = 2
	}
	p.X.Label.Text = lk.txt(f.xLabel)
	p.Y.Label.Text = lk.txt(f.yLabel)

	grid := plotter.NewGrid()
	grid.Vertical = draw.LineStyle{Color: color.Gray{Y: 0xE4}, Width: gridWidth}
	grid.Horizontal = grid.Vertical
	p.Add(grid)

	sm := f.styles()
	for _, b := range f.bands {
		c := okabeIto(0)
		if sm.colour == dimRun {
			c = okabeIto(b.run)
		}
		p.Add(&bandPlotter{b: b, fill: withAlpha(c, 0.2)})
	}
	// The first series of a figure (the total loss, the HR view) is the one
	// readers look for; drawn last, it stays on top where lines coincide.
	for i := len(f.series) - 1; i >= 0; i-- {
		p.Add(f.plotters(f.series[i])...)
	}
	if f.timeSeries {
		p.Add(&markPlotter{f: f, lk: lk})
	}
	setRanges(f, p)
	return p
}

// seriesStyle returns the line and glyph style of s.
func (f *figure) seriesStyle(s *series) (draw.LineStyle, draw.GlyphStyle) {
	sm := f.styles()
	c := okabeIto(f.index(sm.colour, s))
	ls := draw.LineStyle{Color: c, Width: lineWidth, Dashes: dashes(f.index(sm.dash, s))}
	gs := draw.GlyphStyle{Color: c, Radius: glyphRadius, Shape: glyph(f.index(sm.glyph, s))}
	return ls, gs
}

// glyphMarks are the glyphs on a line; they mark some of its points and
// are not points of their own.
type glyphMarks struct{ *plotter.Scatter }

// plotters returns the gonum plotters drawing s: one line per phase
// segment (a lone point gets a glyph, as a line through it would not
// show), then the glyph marks.
func (f *figure) plotters(s *series) []plot.Plotter {
	ls, gs := f.seriesStyle(s)
	xys := make(plotter.XYs, len(s.xs))
	for i := range s.xs {
		xys[i] = plotter.XY{X: s.xs[i], Y: s.ys[i]}
	}
	switch s.kind {
	case kindBars:
		if len(f.runs) > 1 {
			// Overlaid histograms: a faint fill and a bold outline per run,
			// so each shape stays readable where they overlap.
			return []plot.Plotter{&barPlotter{s: s, fill: withAlpha(ls.Color.(color.RGBA), 0.12),
				line: draw.LineStyle{Color: ls.Color, Width: lineWidth}, outline: true}}
		}
		return []plot.Plotter{&barPlotter{s: s, fill: withAlpha(ls.Color.(color.RGBA), 0.55),
			line: draw.LineStyle{Color: ls.Color, Width: 0.6}}}
	case kindRef:
		// The end glyphs say which metric a reference belongs to when
		// colour is taken by the runs.
		ls.Width = 0.9
		out := []plot.Plotter{&plotter.Line{XYs: xys, LineStyle: ls}}
		if f.styles().glyph != dimNone {
			out = append(out, glyphMarks{&plotter.Scatter{XYs: xys, GlyphStyle: gs}})
		}
		return out
	}
	var out []plot.Plotter
	for _, sg := range segments(s.segs, len(xys)) {
		part := xys[sg[0]:sg[1]]
		if len(part) == 1 {
			out = append(out, &plotter.Scatter{XYs: part, GlyphStyle: gs})
			continue
		}
		out = append(out, &plotter.Line{XYs: part, LineStyle: ls})
	}
	if s.kind == kindLineGlyph {
		out = append(out, glyphMarks{&plotter.Scatter{XYs: sparseGlyphs(xys), GlyphStyle: gs}})
	}
	return out
}

// maxGlyphs is how many glyphs a line carries at most; more merge into a
// thick smear that hides the line.
const maxGlyphs = 16

// sparseGlyphs returns the points of a line that get a glyph: all of them
// for short series, else about maxGlyphs evenly spread ones including both
// ends. The glyphs only mark the line; the line itself has every point.
func sparseGlyphs(xys plotter.XYs) plotter.XYs {
	if len(xys) <= 2*maxGlyphs {
		return xys
	}
	var out plotter.XYs
	for k := range maxGlyphs {
		out = append(out, xys[k*(len(xys)-1)/(maxGlyphs-1)])
	}
	return out
}

// setRanges fixes the axes to the data with a little headroom, so lines do
// not run along the frame, and picks tick marks suited to each axis.
func setRanges(f *figure, p *plot.Plot) {
	xmin, xmax, ymin, ymax := f.dataRange()
	if f.fixX {
		xmin, xmax = f.xMin, f.xMax
	}
	if xmax <= xmin {
		d := math.Max(math.Abs(xmin)*0.1, 1)
		xmin, xmax = xmin-d, xmax+d
	}
	// Training starts at step or epoch 0; an axis from 1 or 0.1 looks cut.
	if f.timeSeries && xmin > 0 && xmin <= 0.05*(xmax-xmin) {
		xmin = 0
	}
	if len(f.xTicks) > 1 {
		pad := (xmax - xmin) * 0.06
		xmin, xmax = xmin-pad, xmax+pad
	}
	// A change at the last step would sit on the right edge of the plot
	// with no room for its label on its side: give it some.
	if f.timeSeries && f.markerAtEnd(xmax) {
		xmax += (xmax - xmin) * 0.04
	}
	p.X.Min, p.X.Max = xmin, xmax
	if f.logY {
		p.Y.Min, p.Y.Max = ymin/1.25, ymax*1.25
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	} else {
		span := ymax - ymin
		if span <= 0 {
			span = math.Max(math.Abs(ymax)*0.2, 1e-3)
			ymin, ymax = ymin-span/2, ymax+span/2
		}
		p.Y.Min, p.Y.Max = ymin-0.05*span, ymax+0.05*span
		if f.yFromZero && ymin >= 0 {
			p.Y.Min = 0
		}
	}
	switch {
	case f.logX:
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
	case len(f.xTicks) > 0:
		p.X.Tick.Marker = valueTicks(f.xTicks)
	case f.xUnit == "rank":
		p.X.Tick.Marker = intTicks{n: 5}
	case f.timeSeries:
		p.X.Tick.Marker = stepTicks{n: 5}
	default:
		p.X.Tick.Marker = linTicks{n: 5}
	}
	if !f.logY {
		p.Y.Tick.Marker = linTicks{n: 4}
	}
}

// bandPlotter fills the region between a band's lo and hi.
type bandPlotter struct {
	b    *band
	fill color.Color
}

func (bp *bandPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	for _, sg := range segments(bp.b.segs, len(bp.b.xs)) {
		if sg[1]-sg[0] < 2 {
			continue
		}
		pts := make([]vg.Point, 0, 2*(sg[1]-sg[0]))
		for i := sg[0]; i < sg[1]; i++ {
			pts = append(pts, vg.Point{X: tx(bp.b.xs[i]), Y: ty(bp.b.hi[i])})
		}
		for i := sg[1] - 1; i >= sg[0]; i-- {
			pts = append(pts, vg.Point{X: tx(bp.b.xs[i]), Y: ty(bp.b.lo[i])})
		}
		c.FillPolygon(bp.fill, pts)
	}
}

// barPlotter draws histogram bars centred on each x: each bar outlined,
// or with outline set, one staircase around them all.
type barPlotter struct {
	s       *series
	fill    color.Color
	line    draw.LineStyle
	outline bool
}

func (bp *barPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	y0 := ty(math.Max(p.Y.Min, 0))
	var stair []vg.Point
	for i, x := range bp.s.xs {
		w := bp.s.widths[i] / 2
		x0, x1, y1 := tx(x-w), tx(x+w), ty(bp.s.ys[i])
		rect := []vg.Point{{X: x0, Y: y0}, {X: x0, Y: y1}, {X: x1, Y: y1}, {X: x1, Y: y0}}
		c.FillPolygon(bp.fill, rect)
		if !bp.outline {
			c.StrokeLines(bp.line, c.ClipLinesXY(append(rect, rect[0]))...)
			continue
		}
		if i > 0 && math.Abs(float64(stair[len(stair)-1].X-x0)) > 0.01 {
			stair = append(stair, vg.Point{X: stair[len(stair)-1].X, Y: y0}, vg.Point{X: x0, Y: y0})
		}
		if i == 0 {
			stair = append(stair, vg.Point{X: x0, Y: y0})
		}
		stair = append(stair, vg.Point{X: x0, Y: y1}, vg.Point{X: x1, Y: y1})
	}
	if bp.outline && len(stair) > 0 {
		stair = append(stair, vg.Point{X: stair[len(stair)-1].X, Y: y0})
		c.StrokeLines(bp.line, c.ClipLinesXY(stair)...)
	}
}
