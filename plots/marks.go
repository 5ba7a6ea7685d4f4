package plots

import (
	"image/color"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// markLine is the vertical line of one knob or phase change.
type markLine struct {
	x     vg.Length
	style draw.LineStyle
	key   any // identity of the change, to merge the same change across runs
}

// markLabel is the rotated text of one or more nearby changes.
type markLabel struct {
	texts   []string // one column each, side by side
	anchor  vg.Point
	right   bool // text lies right of the anchor
	bottom  bool // text runs up from the bottom edge, not down from the top
	rect    vg.Rectangle
	onData  bool // no place beside the line kept it off the data
	wantLen vg.Length
}

// layoutMarks places change lines and their labels in data area da.
// Labels run along their line, so dozens of changes fit in a narrow
// figure. Changes closer than a label's thickness share one label
// label, one column per change, instead of overprinting. Each label goes
// to the first place beside its line that covers no curve and no other
// label: right or left of the line, from the top edge down or from the
// bottom edge up. Where none is free, render raises the y axis to open a
// band above the data (f.markBand) and the label goes there, shortened
// with an ellipsis to fit it. The same function serves the legend
// placement and the drawing, so both see the labels in the same place.
func layoutMarks(f *figure, p *plot.Plot, da draw.Canvas, lk look) ([]markLine, []markLabel) {
	tx, _ := p.Transforms(&da)
	type at struct {
		x     vg.Length
		label string
	}
	var ats []at
	var lines []markLine
	// The same change in several runs (a shared schedule) is one grey line:
	// lines in each run's colour would hide each other.
	type key struct {
		x     vg.Length
		label string
	}
	firstRun := map[key]int{}
	for r, ms := range f.markers {
		for _, m := range ms {
			x := tx(m.x)
			if x < da.Min.X || x > da.Max.X+0.01 {
				continue
			}
			k := key{x: vg.Length(math.Round(float64(x) * 2)), label: m.label}
			c := color.Color(color.Gray{Y: 0x70})
			if first, seen := firstRun[k]; seen {
				if first != r {
					for i := range lines {
						if lines[i].key == k {
							lines[i].style.Color = c
						}
					}
				}
				continue
			}
			firstRun[k] = r
			if len(f.runs) > 1 {
				c = okabeIto(r)
			}
			ls := draw.LineStyle{Color: c, Width: markWidth, Dashes: []vg.Length{2, 1.5}}
			label := m.label
			if m.phase {
				ls = draw.LineStyle{Color: c, Width: markWidth * 1.4}
				label = "phase: " + label
			}
			lines = append(lines, markLine{x: x, style: ls, key: k})
			ats = append(ats, at{x: x, label: lk.txt(label)})
		}
	}
	slices.SortStableFunc(ats, func(a, b at) int { return cmpFloat(float64(a.x), float64(b.x)) })

	thick := lk.marking.FontExtents().Height
	maxLen := (da.Max.Y - da.Min.Y) * 0.7
	if f.markBand > 0 {
		maxLen = f.markBand - 4
	}
	pts := f.samples(p, da)
	var labels []markLabel
	for i := 0; i < len(ats); {
		j := i + 1
		texts := []string{ats[i].label}
		for j < len(ats) && ats[j].x-ats[j-1].x < thick+1 {
			if !slices.Contains(texts, ats[j].label) {
				texts = append(texts, ats[j].label)
			}
			j++
		}
		var fitted []string
		var length, want vg.Length
		for _, t := range texts {
			ft := fitText(lk, t, maxLen)
			fitted = append(fitted, ft)
			length = max(length, lk.marking.Width(ft))
			want = max(want, lk.marking.Width(t))
		}
		width := thick * vg.Length(len(fitted))
		place := func(right, bottom bool) markLabel {
			lb := markLabel{texts: fitted, right: right, bottom: bottom, wantLen: want}
			lb.anchor = vg.Point{X: ats[j-1].x + 1, Y: da.Max.Y - 2}
			if !right {
				lb.anchor.X = ats[i].x - 1
			}
			if bottom {
				lb.anchor.Y = da.Min.Y + 2
			}
			x0 := lb.anchor.X
			if !right {
				x0 -= width
			}
			y0 := lb.anchor.Y - length
			if bottom {
				y0 = lb.anchor.Y
			}
			lb.rect = vg.Rectangle{Min: vg.Point{X: x0, Y: y0}, Max: vg.Point{X: x0 + width, Y: y0 + length}}
			return lb
		}
		var spots []markLabel
		for _, bottom := range []bool{false, true} {
			if ats[j-1].x+1+width <= da.Max.X {
				spots = append(spots, place(true, bottom))
			}
			if ats[i].x-1-width >= da.Min.X {
				spots = append(spots, place(false, bottom))
			}
		}
		if len(spots) == 0 {
			spots = append(spots, place(false, false))
		}
		chosen := spots[0]
		chosen.onData = true
		for _, sp := range spots {
			if !covers(grow(sp.rect, 0.5), pts, labels) {
				chosen = sp
				break
			}
		}
		labels = append(labels, chosen)
		i = j
	}
	return lines, labels
}

// reserveMarkBand raises the top of the y axis until the change labels
// that found no free place beside their line fit above the data, in a band
// as tall as the longest of them (at most 40% of the plot). A label on a
// curve hides the curve; a slightly flatter figure hides nothing.
func reserveMarkBand(f *figure, p *plot.Plot, da draw.Canvas, lk look) {
	if !f.timeSeries {
		return
	}
	_, labels := layoutMarks(f, p, da, lk)
	var need vg.Length
	for _, lb := range labels {
		if lb.onData {
			need = max(need, lb.wantLen)
		}
	}
	if need == 0 {
		return
	}
	h := da.Max.Y - da.Min.Y
	band := min(need+4, 0.4*h)
	f.markBand = band
	_, _, _, ymax := f.dataRange()
	share := float64(h / (h - band)) // the data's share of the axis shrinks to 1/share
	if f.logY {
		lo, hi := math.Log(p.Y.Min), math.Log(ymax)
		p.Y.Max = math.Exp(lo + (hi-lo)*share)
		return
	}
	p.Y.Max = p.Y.Min + (ymax-p.Y.Min)*share
}

// fitText shortens s with an ellipsis until it is at most w long.
func fitText(lk look, s string, w vg.Length) string {
	if lk.marking.Width(s) <= w {
		return s
	}
	for len(s) > 0 {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
		if t := strings.TrimRight(s, " ,") + lk.ellipsis(); lk.marking.Width(t) <= w {
			return t
		}
	}
	return lk.ellipsis()
}

// markPlotter draws the change lines and labels over the data.
type markPlotter struct {
	f  *figure
	lk look
}

func (mp *markPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	lines, labels := layoutMarks(mp.f, p, c, mp.lk)
	for _, l := range lines {
		c.StrokeLine2(l.style, l.x, c.Min.Y, l.x, c.Max.Y)
	}
	for _, lb := range labels {
		// A light ground keeps the label legible where a grid line runs.
		c.FillPolygon(color.NRGBA{0xFF, 0xFF, 0xFF, 0xC0}, rectPoints(lb.rect))
		st := mp.lk.marking
		st.Rotation = math.Pi / 2
		st.XAlign = draw.XRight
		if lb.bottom {
			st.XAlign = draw.XLeft
		}
		st.YAlign = draw.YTop
		if !lb.right {
			st.YAlign = draw.YBottom
		}
		// Columns run outwards from the line, in the order of the changes.
		step := mp.lk.marking.FontExtents().Height
		texts := lb.texts
		if !lb.right {
			step = -step
			texts = slices.Clone(texts)
			slices.Reverse(texts)
		}
		for k, t := range texts {
			c.FillText(st, vg.Point{X: lb.anchor.X + step*vg.Length(k), Y: lb.anchor.Y}, t)
		}
	}
}
