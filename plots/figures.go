package plots

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/ccface/ccface/engine"
)

// figureSpec is one entry of the figure catalogue: everything that is said
// about a figure in one place.
type figureSpec struct {
	name  string
	title string
	reads string // the recorded data it reads, for "nothing to plot" messages
	build func(b *builder, f *figure)
}

// catalogue lists every figure Export can make, in the order it makes them.
func catalogue() []figureSpec {
	return []figureSpec{
		{FigLoss, "Training loss", `point metrics named "loss*"`, (*builder).loss},
		{FigMargins, "Per-sample margin", fmt.Sprintf("point metrics %q, %q", engine.MMargin, engine.MMarginStd), (*builder).margins},
		{FigAngles, "Target angles", fmt.Sprintf("point metrics %q, %q", engine.MThetaLR, engine.MThetaHR),
			func(b *builder, f *figure) {
				b.timeMetrics(f, "target-class angle θ (°)", []metricLabel{{engine.MThetaLR, "θ LR"}, {engine.MThetaHR, "θ HR"}})
			}},
		{FigEval, "Evaluation during training", `eval values "hr.rank1", "hr.verif_acc", "lr<N>.rank1", "lr<N>.verif_acc"`, (*builder).eval},
		{FigROC, "ROC at last evaluation", `eval curves "roc.<view>"`, func(b *builder, f *figure) { b.curves(f, "roc") }},
		{FigCMC, "CMC at last evaluation", `eval curves "cmc.<view>"`, func(b *builder, f *figure) { b.curves(f, "cmc") }},
		{FigResolution, "Accuracy vs probe resolution", `eval values "lr<N>.rank1", "hrlr<N>.verif_acc"`, (*builder).resolution},
		{FigMarginHist, "Per-sample margins", fmt.Sprintf("curve %q on any event", CurveMarginHist), (*builder).marginHist},
		{FigConsistency, "Embedding consistency",
			fmt.Sprintf("point metrics %q, %q, %q", engine.MTeacherStudentCos, engine.MClusterLR, engine.MClusterHR),
			func(b *builder, f *figure) {
				b.timeMetrics(f, "cosine", []metricLabel{{engine.MTeacherStudentCos, "teacher–student cos"},
					{engine.MClusterLR, "LR cluster"}, {engine.MClusterHR, "HR cluster"}})
			}},
	}
}

// figureSpecOf returns the catalogue entry of name.
func figureSpecOf(name string) (figureSpec, bool) {
	for _, fs := range catalogue() {
		if fs.name == name {
			return fs, true
		}
	}
	return figureSpec{}, false
}

// builder holds what every figure builder needs.
type builder struct {
	runs []*runData
	opt  Options
}

// makeFigure lays out the figure of spec, or says why it is skipped.
func makeFigure(spec figureSpec, runs []*runData, opt Options) (*figure, string) {
	b := builder{runs: runs, opt: opt}
	f := &figure{name: spec.name, title: spec.title}
	for _, r := range runs {
		f.runs = append(f.runs, r.name)
	}
	spec.build(&b, f)
	if f.empty() {
		if len(f.warnings) > 0 {
			return nil, "no finite values: " + strings.Join(f.warnings, "; ")
		}
		return nil, "no data: no run has " + spec.reads
	}
	if f.timeSeries {
		b.addMarkers(f)
	}
	return f, ""
}

type metricLabel struct{ metric, label string }

// xName is the x-axis unit of time-series figures; build puts all runs on
// the same one.
func (b *builder) xName() string {
	if len(b.runs) > 0 && b.runs[0].epochX {
		return "epoch"
	}
	return "step"
}

// timeFigure sets what every figure over training time shares.
func (b *builder) timeFigure(f *figure, yLabel string) {
	f.timeSeries = true
	f.xUnit = b.xName()
	f.xLabel = f.xUnit
	f.yLabel = yLabel
	f.single = styleMap{colour: dimGroup}
	f.multi = styleMap{colour: dimRun, dash: dimGroup}
	if b.opt.Smooth > 0 {
		f.smoothed = true
	}
}

// smoothedLabel tells the reader of the figure, not only of the CSV, that
// the curve is an average.
func (b *builder) smoothedLabel(y string) string {
	if b.opt.Smooth > 0 {
		return fmt.Sprintf("%s (EMA %s)", y, fmtNum(b.opt.Smooth))
	}
	return y
}

// pointSeries reads one metric of a run: finite values with their x and
// phase segment; non-finite ones become a warning.
func (b *builder) pointSeries(f *figure, rd *runData, metric string) (xs, ys []float64, segs []int) {
	nf := nonFinite{fig: f.name, run: rd.name, key: metric, unit: "step"}
	for _, p := range rd.points {
		v, ok := p.values[metric]
		if !ok {
			continue
		}
		if !finite(v) {
			nf.add(float64(p.step))
			continue
		}
		xs = append(xs, p.x)
		ys = append(ys, v)
		segs = append(segs, p.seg)
	}
	if w := nf.warning(); w != "" {
		f.warnings = append(f.warnings, w)
	}
	return xs, ys, segs
}

// addTime adds a smoothed, decimated series of one metric of run r.
func (b *builder) addTime(f *figure, r int, metric, group string) {
	xs, ys, segs := b.pointSeries(f, b.runs[r], metric)
	if len(xs) == 0 {
		return
	}
	sm := engine.SmoothSegments(ys, segs, b.opt.Smooth)
	k := b.runs[r].zoomStart(xs)
	xs, ys, segs, sm = xs[k:], ys[k:], segs[k:], sm[k:]
	if len(xs) == 0 {
		return
	}
	idx := decimateSegs(xs, segs, sm)
	f.series = append(f.series, &series{run: r, key: metric, group: group, kind: kindLine,
		xs: pick(xs, idx), ys: pick(sm, idx), segs: pickInt(segs, idx), rawXs: xs, rawYs: ys})
	if len(idx) < len(xs) {
		f.notes = append(f.notes, fmt.Sprintf("decimated: run %q series %q: %d of %d points kept", b.runs[r].name, metric, len(idx), len(xs)))
	}
}

func (b *builder) loss(f *figure) {
	b.timeFigure(f, b.smoothedLabel("loss"))
	for r, rd := range b.runs {
		var terms []string
		for _, m := range rd.pointMetrics() {
			if strings.HasPrefix(m, "loss") {
				terms = append(terms, m)
			}
		}
		// The total first, so it keeps the first colour in every run.
		slices.SortStableFunc(terms, func(a, b string) int {
			return boolInt(b == engine.MLoss) - boolInt(a == engine.MLoss)
		})
		for _, m := range terms {
			b.addTime(f, r, m, m)
		}
	}
	// Loss terms of different size share the axis; when they span more than
	// two decades a linear axis flattens all but the largest.
	_, _, ymin, ymax := f.dataRange()
	if ymin > 0 && ymax/ymin > 100 {
		f.logY = true
		f.yLabel += ", log scale"
	}
}

func (b *builder) margins(f *figure) {
	b.timeFigure(f, b.smoothedLabel("margin m"))
	for r, rd := range b.runs {
		xs, ys, segs := b.pointSeries(f, rd, engine.MMargin)
		if len(xs) == 0 {
			continue
		}
		sm := engine.SmoothSegments(ys, segs, b.opt.Smooth)
		k := rd.zoomStart(xs)
		xs, ys, segs, sm = xs[k:], ys[k:], segs[k:], sm[k:]
		if len(xs) == 0 {
			continue
		}
		// The spread is read at the same points as the mean; points without
		// it get no band rather than a made-up one.
		var bx, bm, sdev, rlo, rhi []float64
		var bsegs []int
		for _, p := range rd.points {
			m, okm := p.values[engine.MMargin]
			sd, oks := p.values[engine.MMarginStd]
			if okm && oks && finite(m) && finite(sd) {
				bx = append(bx, p.x)
				bm = append(bm, m)
				sdev = append(sdev, sd)
				bsegs = append(bsegs, p.seg)
				rlo = append(rlo, m-sd)
				rhi = append(rhi, m+sd)
			}
		}
		if len(bx) > 0 {
			ssd := engine.SmoothSegments(sdev, bsegs, b.opt.Smooth)
			smm := engine.SmoothSegments(bm, bsegs, b.opt.Smooth)
			var blo, bhi []float64
			for i := range bx {
				blo = append(blo, smm[i]-ssd[i])
				bhi = append(bhi, smm[i]+ssd[i])
			}
			k := rd.zoomStart(bx)
			bx, blo, bhi, bsegs, rlo, rhi = bx[k:], blo[k:], bhi[k:], bsegs[k:], rlo[k:], rhi[k:]
			idx := decimateSegs(bx, bsegs, blo, bhi)
			f.bands = append(f.bands, &band{run: r, key: engine.MMargin, label: "± 1 std",
				xs: pick(bx, idx), lo: pick(blo, idx), hi: pick(bhi, idx), segs: pickInt(bsegs, idx), rawXs: bx, rLo: rlo, rH: rhi})
		}
		idx := decimateSegs(xs, segs, sm)
		f.series = append(f.series, &series{run: r, key: engine.MMargin, group: "mean margin", kind: kindLine,
			xs: pick(xs, idx), ys: pick(sm, idx), segs: pickInt(segs, idx), rawXs: xs, rawYs: ys})
		if len(idx) < len(xs) {
			f.notes = append(f.notes, fmt.Sprintf("decimated: run %q series %q and its band: %d of %d points kept", rd.name, engine.MMargin, len(idx), len(xs)))
		}
	}
}

// timeMetrics draws a fixed list of point metrics over training.
func (b *builder) timeMetrics(f *figure, yLabel string, metrics []metricLabel) {
	b.timeFigure(f, b.smoothedLabel(yLabel))
	for r := range b.runs {
		for _, m := range metrics {
			b.addTime(f, r, m.metric, m.label)
		}
	}
}

// view is a parsed evaluation view name, ordered HR first, then LR sizes
// ascending, then cross-resolution pairs.
type view struct {
	name  string
	class int // 0 hr, 1 lr<N>, 2 hrlr<N>, 3 other
	px    int
}

func parseView(name string) view {
	switch {
	case name == "hr":
		return view{name: name, class: 0}
	case strings.HasPrefix(name, "hrlr"):
		if n, err := strconv.Atoi(name[4:]); err == nil {
			return view{name: name, class: 2, px: n}
		}
	case strings.HasPrefix(name, "lr"):
		if n, err := strconv.Atoi(name[2:]); err == nil {
			return view{name: name, class: 1, px: n}
		}
	}
	return view{name: name, class: 3}
}

func sortViews(vs []string) {
	slices.SortFunc(vs, func(a, b string) int {
		va, vb := parseView(a), parseView(b)
		if va.class != vb.class {
			return va.class - vb.class
		}
		if va.px != vb.px {
			return va.px - vb.px
		}
		return strings.Compare(a, b)
	})
}

// pairLabel names a view by the pairs or probes it compares.
func pairLabel(v string, pairs bool) string {
	pv := parseView(v)
	switch pv.class {
	case 0:
		if pairs {
			return "HR–HR"
		}
		return "HR probes"
	case 1:
		if pairs {
			return fmt.Sprintf("LR–LR %d px", pv.px)
		}
		return fmt.Sprintf("%d px probes", pv.px)
	case 2:
		return fmt.Sprintf("HR–LR %d px", pv.px)
	}
	return v
}

// viewShort names a view by its probe resolution only: in the eval figure
// one view carries both an identification and a verification metric.
func viewShort(v string) string {
	if pv := parseView(v); pv.class == 1 {
		return fmt.Sprintf("%d px", pv.px)
	} else if pv.class == 0 {
		return "HR"
	}
	return v
}

func (b *builder) eval(f *figure) {
	b.timeFigure(f, "accuracy")
	f.yLabel = "accuracy"
	f.smoothed = false
	f.single = styleMap{colour: dimGroup, glyph: dimGroup, dash: dimSub}
	f.multi = styleMap{colour: dimRun, glyph: dimGroup, dash: dimSub}
	metrics := []metricLabel{{engine.ERank1, "rank-1"}, {engine.EVerifAcc, "verif. acc."}}
	var views []string
	for _, rd := range b.runs {
		for _, e := range rd.evals {
			for k := range e.ev.Values {
				v, m, ok := strings.Cut(k, ".")
				pv := parseView(v)
				if ok && (pv.class == 0 || pv.class == 1) && (m == engine.ERank1 || m == engine.EVerifAcc) && !slices.Contains(views, v) {
					views = append(views, v)
				}
			}
		}
	}
	sortViews(views)
	for r, rd := range b.runs {
		for _, m := range metrics {
			for _, v := range views {
				key := engine.EvalKey(v, m.metric)
				nf := nonFinite{fig: f.name, run: rd.name, key: key, unit: "step"}
				s := &series{run: r, key: key, group: viewShort(v), sub: m.label, kind: kindLineGlyph}
				for _, e := range rd.evals {
					y, ok := e.ev.Values[key]
					if !ok || e.x < rd.from {
						continue
					}
					if !finite(y) {
						nf.add(float64(e.step))
						continue
					}
					s.xs = append(s.xs, e.x)
					s.ys = append(s.ys, y)
					s.segs = append(s.segs, e.seg)
				}
				if w := nf.warning(); w != "" {
					f.warnings = append(f.warnings, w)
				}
				if len(s.xs) > 0 {
					s.rawXs, s.rawYs = s.xs, s.ys
					f.series = append(f.series, s)
				}
			}
		}
	}
	if len(f.series) > 0 {
		f.notes = append(f.notes, "smoothing: none for evaluations; group labels HR = HR gallery and probes, N px = HR gallery with N-px probes; lines break between phases, which evaluate different models")
	}
	// Evaluations are sparse: show them against the whole training time,
	// like the other figures over training, not only between the first and
	// last evaluation.
	f.xMin, f.xMax = math.Inf(1), math.Inf(-1)
	for _, s := range f.series {
		for _, x := range s.xs {
			f.xMin, f.xMax = math.Min(f.xMin, x), math.Max(f.xMax, x)
		}
	}
	for _, rd := range b.runs {
		xs := make([]float64, len(rd.points))
		for i, p := range rd.points {
			xs[i] = p.x
		}
		if k := rd.zoomStart(xs); k < len(xs) {
			f.xMin, f.xMax = math.Min(f.xMin, xs[k]), math.Max(f.xMax, xs[len(xs)-1])
		}
	}
	f.fixX = f.xMax > f.xMin
	// Groups are views: keep colours in view order whatever the metric order.
	slices.SortStableFunc(f.series, func(a, c *series) int {
		if a.run != c.run {
			return a.run - c.run
		}
		return viewCompare(a.key, c.key)
	})
}

func viewCompare(ka, kb string) int {
	va, _, _ := strings.Cut(ka, ".")
	vb, _, _ := strings.Cut(kb, ".")
	vs := []string{va, vb}
	sortViews(vs)
	if va == vb {
		return 0
	}
	if vs[0] == va {
		return -1
	}
	return 1
}

// rocMinFAR is the left end of the ROC axis: at FAR below 1e-4 a typical
// evaluation set has too few impostor pairs for the TAR to mean anything.
const rocMinFAR = 1e-4

// curves draws the "roc.<view>" or "cmc.<view>" curves of each run's last
// evaluation that has any.
func (b *builder) curves(f *figure, prefix string) {
	f.single = styleMap{colour: dimGroup}
	f.multi = styleMap{colour: dimRun, dash: dimGroup}
	if prefix == "roc" {
		f.xLabel, f.yLabel, f.xUnit = "false accept rate", "true accept rate", "FAR"
		f.logX, f.fixX, f.xMin, f.xMax = true, true, rocMinFAR, 1
		f.notes = append(f.notes, fmt.Sprintf("x is the FAR (log axis from %g to 1); points with FAR below %g are off the axis and not drawn", rocMinFAR, rocMinFAR))
	} else {
		f.xLabel, f.yLabel, f.xUnit = "rank", "identification rate", "rank"
	}
	has := func(ev engine.Event) bool {
		for k := range ev.Curves {
			if strings.HasPrefix(k, prefix+".") {
				return true
			}
		}
		return false
	}
	for r, rd := range b.runs {
		rec, ok := rd.lastEval(has)
		if !ok {
			continue
		}
		f.notes = append(f.notes, fmt.Sprintf("run %q: evaluation at step %d", rd.name, rec.step))
		var views []string
		for k := range rec.ev.Curves {
			if v, ok := strings.CutPrefix(k, prefix+"."); ok {
				views = append(views, v)
			}
		}
		sortViews(views)
		for _, v := range views {
			key := prefix + "." + v
			c := rec.ev.Curves[key]
			s := &series{run: r, key: key, group: pairLabel(v, prefix == "roc"), kind: kindLine}
			nf := nonFinite{fig: f.name, run: rd.name, key: key, unit: "point"}
			for i := range min(len(c.X), len(c.Y)) {
				x, y := c.X[i], c.Y[i]
				if !finite(x) || !finite(y) {
					nf.add(float64(i))
					continue
				}
				if prefix == "roc" && (x < rocMinFAR || x > 1) {
					continue
				}
				s.xs = append(s.xs, x)
				s.ys = append(s.ys, y)
			}
			if w := nf.warning(); w != "" {
				f.warnings = append(f.warnings, w)
			}
			if len(c.X) != len(c.Y) {
				f.warnings = append(f.warnings, fmt.Sprintf("%s: %s: %s: %d x values but %d y values; extra values left out", f.name, rd.name, key, len(c.X), len(c.Y)))
			}
			if len(s.xs) > 0 {
				f.series = append(f.series, s)
			}
		}
	}
}

// resolution draws accuracy against probe size from each run's last
// evaluation, with the HR accuracy as a dashed reference.
func (b *builder) resolution(f *figure) {
	f.xLabel, f.yLabel, f.xUnit = "probe side (px)", "accuracy", "px"
	f.single = styleMap{colour: dimGroup, glyph: dimGroup, dash: dimSub}
	f.multi = styleMap{colour: dimRun, glyph: dimGroup, dash: dimSub}
	const lrSub, hrSub = "LR probes", "HR (reference)"
	type src struct {
		key, group string
		class      int
		metric     string
	}
	srcs := []src{
		{"rank1", "rank-1", 1, engine.ERank1},
		{"hrlr.verif_acc", "HR–LR verif. acc.", 2, engine.EVerifAcc},
	}
	parse := func(k string) (view, string) {
		v, m, _ := strings.Cut(k, ".")
		return parseView(v), m
	}
	has := func(ev engine.Event) bool {
		for k := range ev.Values {
			pv, m := parse(k)
			for _, s := range srcs {
				if pv.class == s.class && m == s.metric {
					return true
				}
			}
		}
		return false
	}
	var refs []*series
	xmin, xmax := math.Inf(1), math.Inf(-1)
	for r, rd := range b.runs {
		rec, ok := rd.lastEval(has)
		if !ok {
			continue
		}
		f.notes = append(f.notes, fmt.Sprintf("run %q: evaluation at step %d", rd.name, rec.step))
		for _, sc := range srcs {
			s := &series{run: r, key: sc.key, group: sc.group, sub: lrSub, kind: kindLineGlyph}
			var pxs []int
			for k := range rec.ev.Values {
				if pv, m := parse(k); pv.class == sc.class && m == sc.metric {
					pxs = append(pxs, pv.px)
				}
			}
			slices.Sort(pxs)
			for _, px := range pxs {
				v := engine.LRView(px)
				if sc.class == 2 {
					v = engine.HRLRView(px)
				}
				key := engine.EvalKey(v, sc.metric)
				y := rec.ev.Values[key]
				if !finite(y) {
					f.warnings = append(f.warnings, fmt.Sprintf("%s: %s: %s: non-finite value left out", f.name, rd.name, key))
					continue
				}
				s.xs = append(s.xs, float64(px))
				s.ys = append(s.ys, y)
				xmin, xmax = math.Min(xmin, float64(px)), math.Max(xmax, float64(px))
			}
			if len(s.xs) == 0 {
				continue
			}
			f.series = append(f.series, s)
			hrKey := engine.EvalKey("hr", sc.metric)
			if y, ok := rec.ev.Values[hrKey]; ok && finite(y) {
				refs = append(refs, &series{run: r, key: hrKey, group: sc.group, sub: hrSub, kind: kindRef, ys: []float64{y, y}})
			}
		}
	}
	for _, s := range refs {
		s.xs = []float64{xmin, xmax}
	}
	f.series = append(f.series, refs...)
	for _, s := range f.series {
		for _, x := range s.xs {
			if !slices.Contains(f.xTicks, x) {
				f.xTicks = append(f.xTicks, x)
			}
		}
	}
	slices.Sort(f.xTicks)
	if len(f.series) > 0 {
		f.notes = append(f.notes, "x is the probe side N in px; rank1 rows are lr<N>.rank1 (HR gallery, N-px probes), hrlr.verif_acc rows are hrlr<N>.verif_acc (HR-LR pairs); hr.* rows are the HR references drawn dashed across the x range")
	}
}

func (b *builder) marginHist(f *figure) {
	f.xLabel, f.yLabel, f.xUnit = "margin m", "samples", "margin"
	f.yFromZero = true
	f.single = styleMap{colour: dimGroup}
	f.multi = styleMap{colour: dimRun}
	for r, rd := range b.runs {
		rec, ok := rd.lastCurve(CurveMarginHist)
		if !ok {
			continue
		}
		c := rec.ev.Curves[CurveMarginHist]
		s := &series{run: r, key: CurveMarginHist, group: "samples", kind: kindBars}
		nf := nonFinite{fig: f.name, run: rd.name, key: CurveMarginHist, unit: "bin"}
		for i := range min(len(c.X), len(c.Y)) {
			if !finite(c.X[i]) || !finite(c.Y[i]) {
				nf.add(float64(i))
				continue
			}
			s.xs = append(s.xs, c.X[i])
			s.ys = append(s.ys, c.Y[i])
		}
		if w := nf.warning(); w != "" {
			f.warnings = append(f.warnings, w)
		}
		if len(s.xs) == 0 {
			continue
		}
		// Sort by centre so bin edges can be placed halfway between them.
		idx := make([]int, len(s.xs))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int { return cmpFloat(s.xs[a], s.xs[b]) })
		s.xs, s.ys = pick(s.xs, idx), pick(s.ys, idx)
		s.widths = binWidths(s.xs)
		f.series = append(f.series, s)
		f.notes = append(f.notes, fmt.Sprintf("run %q: histogram of the %s event at step %d; x is the bin centre, y the count", rd.name, rec.ev.Kind, rec.step))
		if len(b.runs) == 1 {
			f.title = fmt.Sprintf("%s, step %d", f.title, rec.step)
		}
	}
}

// binWidths gives each bin centre the width that reaches halfway to its
// neighbours, so uneven bins are drawn as they are.
func binWidths(cs []float64) []float64 {
	w := make([]float64, len(cs))
	if len(cs) == 1 {
		w[0] = math.Max(math.Abs(cs[0])*0.1, 0.01)
		return w
	}
	for i := range cs {
		var left, right float64
		switch {
		case i == 0:
			right = (cs[1] - cs[0]) / 2
			left = right
		case i == len(cs)-1:
			left = (cs[i] - cs[i-1]) / 2
			right = left
		default:
			left, right = (cs[i]-cs[i-1])/2, (cs[i+1]-cs[i])/2
		}
		w[i] = 2 * math.Min(left, right)
	}
	return w
}

// addMarkers keeps each run's knob and phase changes that fall inside the
// drawn x range; a change at the very start is not a change to see.
func (b *builder) addMarkers(f *figure) {
	xmin, xmax, _, _ := f.dataRange()
	if f.fixX {
		xmin, xmax = f.xMin, f.xMax
	}
	f.markers = make([][]marker, len(b.runs))
	for r, rd := range b.runs {
		for _, m := range rd.markers {
			if m.x > xmin && m.x <= xmax {
				f.markers[r] = append(f.markers[r], m)
			}
		}
		slices.SortStableFunc(f.markers[r], func(a, c marker) int { return cmpFloat(a.x, c.x) })
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// fmtNum writes a number as short as it can be read back exactly.
func fmtNum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
