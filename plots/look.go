package plots

import (
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// look holds the text styles of one figure. Sizes are chosen for a figure
// printed 3.5 in wide: 7 pt tick labels are the smallest most journals
// accept, and the title stays one line at that width.
type look struct {
	format                              string
	title, label, tick, legend, marking text.Style
}

func newLook(format string) look {
	base := font.Font{Typeface: "Liberation", Variant: "Sans"}
	st := func(size vg.Length, c color.Color) text.Style {
		// plot.DefaultTextHandler is only read here, never changed.
		return text.Style{Color: c, Font: font.From(base, size), Handler: plot.DefaultTextHandler}
	}
	black := color.Gray{Y: 0x20}
	return look{
		format:  format,
		title:   st(9, color.Black),
		label:   st(8, black),
		tick:    st(7, black),
		legend:  st(7, black),
		marking: st(6, color.Gray{Y: 0x40}),
	}
}

// txt adapts a label to the output format: gonum's PDF backend writes the
// label's UTF-8 bytes as single-byte text, so anything beyond ASCII shows
// as mojibake ("Â±"); PDFs get ASCII spellings instead.
func (lk look) txt(s string) string {
	if lk.format != "pdf" {
		return s
	}
	s = strings.NewReplacer("→", "->", "≥", ">=", "≤", "<=", "−", "-", "±", "+/-", "×", "x", "°", " deg", "·", "*", "…", "...",
		"α", "alpha", "β", "beta", "γ", "gamma", "δ", "delta", "ε", "eps", "θ", "theta",
		"λ", "lambda", "σ", "sigma", "τ", "tau", "–", "-", "—", "-").Replace(s)
	return strings.Map(func(r rune) rune {
		if r < 0x80 {
			return r
		}
		return '?'
	}, s)
}

// ellipsis is "…" where the format can show it.
func (lk look) ellipsis() string { return lk.txt("…") }

// okabeIto returns colour i of the Okabe-Ito palette, which stays apart
// under the common colour-vision deficiencies and in greyscale print. The
// order puts the strongest contrasts first; yellow, weak on white, is last.
func okabeIto(i int) color.RGBA {
	pal := [...]color.RGBA{
		{0x00, 0x72, 0xB2, 0xFF}, // blue
		{0xD5, 0x5E, 0x00, 0xFF}, // vermillion
		{0x00, 0x9E, 0x73, 0xFF}, // bluish green
		{0xE6, 0x9F, 0x00, 0xFF}, // orange
		{0xCC, 0x79, 0xA7, 0xFF}, // reddish purple
		{0x56, 0xB4, 0xE9, 0xFF}, // sky blue
		{0x00, 0x00, 0x00, 0xFF}, // black
		{0xF0, 0xE4, 0x42, 0xFF}, // yellow
	}
	return pal[((i%len(pal))+len(pal))%len(pal)]
}

// neutral draws legend keys of a dimension that colour does not show.
func neutral() color.RGBA { return color.RGBA{0x55, 0x55, 0x55, 0xFF} }

// withAlpha returns c at opacity a.
func withAlpha(c color.RGBA, a float64) color.NRGBA {
	return color.NRGBA{R: c.R, G: c.G, B: c.B, A: uint8(math.Round(255 * a))}
}

// dashes returns dash pattern i; patterns stay tellable apart at 1 pt and
// never repeat: past the five hand-picked ones, pattern i is a long dash
// and i-3 dots (a figure of 7 views must not draw two of them solid).
func dashes(i int) []vg.Length {
	switch i {
	case 0:
		return nil
	case 1:
		return []vg.Length{4, 2}
	case 2:
		return []vg.Length{1, 1.5}
	case 3:
		return []vg.Length{5, 1.5, 1, 1.5}
	case 4:
		return []vg.Length{8, 2.5}
	}
	out := []vg.Length{8, 1.5}
	for range i - 3 {
		out = append(out, 1, 1.5)
	}
	return out
}

// glyph returns glyph shape i, filled where the shape allows.
func glyph(i int) draw.GlyphDrawer {
	switch i % 6 {
	case 1:
		return draw.TriangleGlyph{}
	case 2:
		return draw.SquareGlyph{}
	case 3:
		return draw.CrossGlyph{}
	case 4:
		return draw.PyramidGlyph{}
	case 5:
		return draw.PlusGlyph{}
	}
	return draw.CircleGlyph{}
}

// Line widths: 1.1 pt data lines read clearly at column width without
// merging; grid and change marks stay thinner than data.
const (
	lineWidth   = 1.1
	glyphRadius = 1.7
	gridWidth   = 0.4
	markWidth   = 0.6
)

// niceTicks puts about n labelled ticks at steps of 1, 2, 2.5 or 5 times
// a power of ten, with unlabelled minor ticks between them. gonum's default
// aims at 3 labels and lands on odd values such as 50, 200, 350.
func niceTicks(lo, hi float64, n int) []plot.Tick {
	if !(hi > lo) || n < 1 {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 4, 64)}}
	}
	// Of the steps near (hi-lo)/n, take the one whose label count is
	// closest to n, preferring fewer labels on a tie.
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	var step, minor float64
	best := math.Inf(1)
	for _, sc := range []float64{mag / 10, mag, mag * 10} {
		for _, m := range []struct{ major, minor float64 }{{1, 0.5}, {2, 1}, {2.5, 0.5}, {5, 1}} {
			st := m.major * sc
			count := math.Floor(hi/st+1e-9) - math.Ceil(lo/st-1e-9) + 1
			if d := math.Abs(count-float64(n)) - st/raw*1e-3; count >= 2 && d < best {
				best, step, minor = d, st, m.minor*sc
			}
		}
	}
	if step == 0 {
		step, minor = raw, raw/2
	}
	// As many decimals as the step needs: 25 → 0, 2.5 → 1, 0.25 → 2.
	decimals := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	if r := step * math.Pow(10, float64(decimals)); math.Abs(r-math.Round(r)) > 1e-6 {
		decimals++
	}
	var out []plot.Tick
	for k := math.Ceil(lo/minor - 1e-9); k*minor <= hi+minor*1e-9; k++ {
		v := k * minor
		if v == 0 {
			v = 0 // not -0, which would be labelled "-0"
		}
		t := plot.Tick{Value: v}
		if q := v / step; math.Abs(q-math.Round(q)) < 1e-6 {
			t.Label = strconv.FormatFloat(v, 'f', decimals, 64)
		}
		out = append(out, t)
	}
	return out
}

// linTicks aims at n labelled ticks on a linear axis.
type linTicks struct{ n int }

func (t linTicks) Ticks(lo, hi float64) []plot.Tick { return niceTicks(lo, hi, t.n) }

// stepTicks labels large step counts as 20k, 1.5M so tick labels stay
// narrow at column width.
type stepTicks struct{ n int }

func (t stepTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := niceTicks(lo, hi, t.n)
	big := math.Max(math.Abs(lo), math.Abs(hi)) >= 10000
	for i := range ts {
		if ts[i].Label == "" || !big {
			continue
		}
		v := ts[i].Value
		switch {
		case math.Abs(v) >= 1e6:
			ts[i].Label = strconv.FormatFloat(v/1e6, 'g', 4, 64) + "M"
		case math.Abs(v) >= 1e3:
			ts[i].Label = strconv.FormatFloat(v/1e3, 'g', 4, 64) + "k"
		default:
			ts[i].Label = strconv.FormatFloat(v, 'g', 4, 64)
		}
	}
	return ts
}

// intTicks keeps only whole-number labels and ticks, for ranks.
type intTicks struct{ n int }

func (t intTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for _, tk := range niceTicks(lo, hi, t.n) {
		if tk.Value == math.Trunc(tk.Value) {
			out = append(out, tk)
		}
	}
	return out
}

// logTicks labels each decade of a log axis and marks 2..9 between them;
// gonum's LogTicks can emit no label at all on a short range.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		d := math.Pow(10, e)
		for k := 1; k < 10; k++ {
			v := d * float64(k)
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if k == 1 {
				t.Label = decadeLabel(e)
			}
			out = append(out, t)
		}
	}
	return out
}

func decadeLabel(e float64) string {
	if e >= -2 && e <= 3 {
		return strconv.FormatFloat(math.Pow(10, e), 'f', -1, 64)
	}
	return "1e" + strconv.Itoa(int(e))
}

// valueTicks puts labelled ticks at exactly the given values.
func valueTicks(vs []float64) plot.ConstantTicks {
	var ts plot.ConstantTicks
	for _, v := range vs {
		ts = append(ts, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', 4, 64)})
	}
	return ts
}
