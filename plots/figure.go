package plots

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot/vg"
)

// figure is everything one figure draws, independent of the output format.
// The renderer draws only what is here and the CSV writer writes the same
// slices, which is how the CSV holds exactly the plotted points.
type figure struct {
	name, title    string
	xLabel, yLabel string
	xUnit          string // for the CSV header: "step", "epoch", "px", ...
	timeSeries     bool   // x is training time: markers, raw CSV, smoothing
	smoothed       bool   // smoothing was applied to some series
	logX, logY     bool
	xMin, xMax     float64 // fixed x range when fixX
	fixX           bool
	xTicks         []float64 // ticks at exactly these values (resolution)
	yFromZero      bool      // counts: the y axis starts at 0
	markBand       vg.Length // height of the band above the data for change labels; 0: none

	series  []*series
	bands   []*band
	markers [][]marker // per run, only those inside the x range

	single, multi styleMap // which property tells which dimension apart
	runs          []string
	notes         []string // extra CSV header lines
	warnings      []string
}

// seriesKind says how a series is drawn.
type seriesKind int

const (
	kindLine      seriesKind = iota // a line through every point
	kindLineGlyph                   // a line with glyphs marking its points
	kindRef                         // a horizontal reference, glyphs at its ends when glyphs tell metrics apart
	kindBars                        // bars centred on x, as wide as the bin
)

// series is one drawn line or bar set. xs, ys are exactly what is drawn
// (smoothed and decimated); rawXs, rawYs keep every finite unsmoothed value
// of a time series for the .raw.csv.
type series struct {
	run   int
	key   string // CSV "series" column: the metric or curve name
	group string // legend label of the main dimension (term, view, metric)
	sub   string // legend label of the second dimension, "" if none
	kind  seriesKind

	xs, ys       []float64
	segs         []int // phase segment per drawn point: lines break between phases
	rawXs, rawYs []float64
	widths       []float64 // kindBars: bar widths
}

// band is a shaded region between lo and hi, drawn under its series.
type band struct {
	run            int
	key            string // CSV series names are key+"-std" and key+"+std"
	label          string
	xs, lo, hi     []float64
	segs           []int
	rawXs, rLo, rH []float64
}

// segments returns [start, end) index ranges of equal segs; with no segs,
// one range over all n points.
func segments(segs []int, n int) [][2]int {
	if len(segs) != n || n == 0 {
		return [][2]int{{0, n}}
	}
	var out [][2]int
	start := 0
	for i := 1; i <= n; i++ {
		if i == n || segs[i] != segs[start] {
			out = append(out, [2]int{start, i})
			start = i
		}
	}
	return out
}

// dim is one way series differ: by run, by group or by sub.
type dim int

const (
	dimNone dim = iota
	dimRun
	dimGroup
	dimSub
)

// styleMap says which dimension each visual property shows. Figures use one
// map for a single run (colour tells series apart) and another for several
// runs (colour tells runs apart, dashes and glyphs tell series apart), so
// the legend can list each dimension once instead of every combination.
type styleMap struct{ colour, dash, glyph dim }

// styles returns the map in effect.
func (f *figure) styles() styleMap {
	if len(f.runs) > 1 {
		return f.multi
	}
	return f.single
}

// groups and subs list the distinct labels in first-seen order; a
// dimension's index picks its colour, dash or glyph.
func (f *figure) groups() []string {
	var out []string
	for _, s := range f.series {
		if s.group != "" && !slices.Contains(out, s.group) {
			out = append(out, s.group)
		}
	}
	return out
}

func (f *figure) subs() []string {
	var out []string
	for _, s := range f.series {
		if s.sub != "" && !slices.Contains(out, s.sub) {
			out = append(out, s.sub)
		}
	}
	return out
}

// index returns which value of dimension d a series has.
func (f *figure) index(d dim, s *series) int {
	switch d {
	case dimRun:
		return s.run
	case dimGroup:
		return max(slices.Index(f.groups(), s.group), 0)
	case dimSub:
		return max(slices.Index(f.subs(), s.sub), 0)
	}
	return 0
}

// empty reports whether the figure has nothing to draw.
func (f *figure) empty() bool {
	for _, s := range f.series {
		if len(s.xs) > 0 {
			return false
		}
	}
	for _, b := range f.bands {
		if len(b.xs) > 0 {
			return false
		}
	}
	return true
}

// dataRange returns the bounds of everything drawn.
func (f *figure) dataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	see := func(x, y float64) {
		xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
		ymin, ymax = math.Min(ymin, y), math.Max(ymax, y)
	}
	for _, s := range f.series {
		for i := range s.xs {
			if s.kind == kindBars {
				see(s.xs[i]-s.widths[i]/2, 0)
				see(s.xs[i]+s.widths[i]/2, s.ys[i])
				continue
			}
			see(s.xs[i], s.ys[i])
		}
	}
	for _, b := range f.bands {
		for i := range b.xs {
			see(b.xs[i], b.lo[i])
			see(b.xs[i], b.hi[i])
		}
	}
	return
}

// nonFinite collects the steps of left-out values of one series for a
// warning such as "loss: run a: loss_cc_lr: 3 non-finite values left out
// (steps 120 to 122)".
type nonFinite struct {
	fig, run, key string
	n             int
	first, last   float64
	unit          string
}

func (nf *nonFinite) add(at float64) {
	if nf.n == 0 {
		nf.first = at
	}
	nf.last = at
	nf.n++
}

func (nf *nonFinite) warning() string {
	if nf.n == 0 {
		return ""
	}
	where := fmt.Sprintf("%s %s", nf.unit, fmtNum(nf.first))
	if nf.n > 1 {
		where = fmt.Sprintf("%ss %s to %s", nf.unit, fmtNum(nf.first), fmtNum(nf.last))
	}
	noun := "values"
	if nf.n == 1 {
		noun = "value"
	}
	return fmt.Sprintf("%s: %s: %s: %d non-finite %s left out (%s)", nf.fig, nf.run, nf.key, nf.n, noun, where)
}

// markerAtEnd reports whether a change mark lies at x (the right end of
// the data) or after it.
func (f *figure) markerAtEnd(x float64) bool {
	for _, ms := range f.markers {
		for _, m := range ms {
			if m.x >= x {
				return true
			}
		}
	}
	return false
}
