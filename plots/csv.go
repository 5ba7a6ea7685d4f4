package plots

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
)

// csv writes the figure's data: with raw false exactly the drawn points
// (smoothed, decimated), with raw true every finite unsmoothed value of a
// time series. Comment lines starting with '#' come first and say how the
// numbers were made, so the file stands on its own next to the figure.
func (f *figure) csv(opt Options, raw bool) []byte {
	var buf bytes.Buffer
	c := func(format string, a ...any) {
		line := fmt.Sprintf(format, a...)
		buf.WriteString("# " + strings.ReplaceAll(line, "\n", " ") + "\n")
	}
	c("ccface %s figure: %s", f.name, f.title)
	c("x: %s; y: %s", f.xLabel, f.yLabel)
	c("x unit: %s", f.xUnit)
	switch {
	case raw:
		c("raw: every finite recorded value, unsmoothed and not decimated; non-finite values are left out")
	case f.smoothed:
		c("smoothing: EMA weight %s (TensorBoard convention, debiased), restarted at each phase change", fmtNum(opt.Smooth))
	default:
		c("smoothing: none (weight 0)")
	}
	if !raw {
		c("these rows are exactly the points drawn in %s.%s", f.name, opt.Format)
		if f.timeSeries {
			c("series longer than %d points are decimated for drawing (first, last, min and max per 1/%d of the x range); %s.raw.csv has every point", 4*decimateBuckets, decimateBuckets, f.name)
		}
	}
	if f.timeSeries && opt.LastSteps > 0 {
		c("zoom: the last %d steps of training; smoothing ran over the whole run, so the curve is the full run's cut", opt.LastSteps)
	}
	for _, n := range f.notes {
		if raw && strings.HasPrefix(n, "decimated:") {
			continue
		}
		c("%s", n)
	}
	for _, b := range f.bands {
		c("run %q: series %q and %q are the shaded band %s around %q", f.runs[b.run], b.key+"-std", b.key+"+std", b.label, b.key)
	}
	for r, ms := range f.markers {
		for _, m := range ms {
			kind := "knob change"
			if m.phase {
				kind = "phase change"
			}
			c("marker: run %q, %s at step %d (x %s): %s", f.runs[r], kind, m.step, fmtNum(m.x), m.label)
		}
	}
	w := csv.NewWriter(&buf)
	w.Write([]string{"run", "series", "x", "y"})
	row := func(r int, key string, x, y float64) {
		w.Write([]string{f.runs[r], key, fmtNum(x), fmtNum(y)})
	}
	for _, b := range f.bands {
		xs, lo, hi := b.xs, b.lo, b.hi
		if raw {
			xs, lo, hi = b.rawXs, b.rLo, b.rH
		}
		for i := range xs {
			row(b.run, b.key+"-std", xs[i], lo[i])
		}
		for i := range xs {
			row(b.run, b.key+"+std", xs[i], hi[i])
		}
	}
	for _, s := range f.series {
		xs, ys := s.xs, s.ys
		if raw && s.rawXs != nil {
			xs, ys = s.rawXs, s.rawYs
		}
		for i := range xs {
			row(s.run, s.key, xs[i], ys[i])
		}
	}
	w.Flush()
	return buf.Bytes()
}
