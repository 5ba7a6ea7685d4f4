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
	text   string
	anchor vg.Point
	right  bool // text lies right of the anchor
	rect   vg.Rectangle
}

// layoutMarks places change lines and their labels in data area da.
// Labels run upwards from the top edge beside their line, so dozens of
// changes fit in a narrow figure. Changes closer than a label's thickness
// share one label ("margin 0.4→0.3, lr 0.1→0.05") instead of overprinting;
// a label longer than 70% of the plot height is shortened with an ellipsis.
// The same function serves the legend placement and the drawing, so both
// see the labels in the same place.
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
			if x < da.Min.X || x > da.Max.X {
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
		txt := fitText(lk, strings.Join(texts, ", "), maxLen)
		length := lk.marking.Width(txt)
		top := da.Max.Y - 2
		lb := markLabel{text: txt, right: true, anchor: vg.Point{X: ats[j-1].x + 1, Y: top}}
		if lb.anchor.X+thick > da.Max.X {
			lb.right = false
			lb.anchor.X = ats[i].x - 1
		}
		if lb.right {
			lb.rect = vg.Rectangle{Min: vg.Point{X: lb.anchor.X, Y: top - length}, Max: vg.Point{X: lb.anchor.X + thick, Y: top}}
		} else {
			lb.rect = vg.Rectangle{Min: vg.Point{X: lb.anchor.X - thick, Y: top - length}, Max: vg.Point{X: lb.anchor.X, Y: top}}
		}
		labels = append(labels, lb)
		i = j
	}
	return lines, labels
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
		// A light ground keeps the label legible over curves.
		c.FillPolygon(color.NRGBA{0xFF, 0xFF, 0xFF, 0xC0}, rectPoints(lb.rect))
		st := mp.lk.marking
		st.Rotation = math.Pi / 2
		st.XAlign = draw.XRight
		st.YAlign = draw.YTop
		if !lb.right {
			st.YAlign = draw.YBottom
		}
		c.FillText(st, lb.anchor, lb.text)
	}
}
