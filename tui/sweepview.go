package tui

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/ccface/ccface/engine"
)

// trialColor is the k-th selected trial's colour on the charts and on its
// row's mark; the dash patterns (dashKeep) tell trials apart without colour.
func trialColor(k int) lipgloss.Color {
	colors := [...]lipgloss.Color{colLR, colHR, colMargin, colCross, colPhase, colMarker, colTotal, "141"}
	return colors[k%len(colors)]
}

// trialGlyph is the legend sample of the k-th selected trial: the first is
// drawn solid, the others dashed under it (overlay k).
func trialGlyph(k int) string {
	if k == 0 {
		return "━"
	}
	return dashGlyph(k)
}

// sweepChrome counts the lines around the table and charts: title bar,
// table header, detail line, footer.
const sweepChrome = 4

// sweepLayout splits the screen: the table of trials on top, then the
// charts of the selected trials and their shared x axis.
type sweepLayout struct {
	tableH int // table lines (rows shown)
	specs  []chartSpec
	rows   []int // plot rows per chart
}

func (m SweepModel) layout() sweepLayout {
	avail := max(1, m.h-sweepChrome)
	want := max(1, min(len(m.rows), max(3, avail*3/10)))
	specs := sweepChartSpecs(len(m.selected) > 0)
	// Each chart needs a title and 2 plot rows, plus the x axis: drop the
	// eval chart, then the loss chart, when they do not fit.
	for len(specs) > 0 && avail-want < len(specs)*3+1 {
		specs = specs[:len(specs)-1]
	}
	l := sweepLayout{tableH: avail, specs: specs}
	if n := len(specs); n > 0 {
		r := (avail - want - n - 1) / n
		for range n {
			l.rows = append(l.rows, r)
		}
		l.tableH = avail - n*(r+1) - 1
	}
	return l
}

// tableRows is the number of trials on screen.
func (m SweepModel) tableRows() int { return m.layout().tableH }

func sweepChartSpecs(selected bool) []chartSpec {
	none := "space on a trial draws its curves here"
	loss := chartSpec{title: "loss", series: []seriesSpec{{key: engine.MLoss}}, empty: none}
	eval := chartSpec{title: "eval LR rank-1", eval: true, series: []seriesSpec{{}}, empty: none}
	if selected {
		loss.empty, eval.empty = "no points recorded yet", "no evaluation recorded yet"
	}
	return []chartSpec{loss, eval}
}

// View draws the sweep view: exactly h lines of at most w cells.
func (m SweepModel) View() string {
	if m.w == 0 || m.h == 0 {
		return ""
	}
	if m.w < minW || m.h < minH {
		return fit([]string{
			m.titleBar(),
			fmt.Sprintf("the sweep view needs %d×%d (now %d×%d):", minW, minH, m.w, m.h),
			"enlarge the terminal or press q.",
		}, m.w, m.h)
	}
	l := m.layout()
	lines := []string{m.titleBar()}
	if m.showHelp {
		legend := m.st.dim.Render("★ best LR rank-1  ◆ selected  ·  any key closes")
		lines = append(lines, helpBox(m.st, "ccface sweep keys", m.keys.helpColumns(), legend, m.w, m.h-2)...)
	} else {
		table := m.table(l.tableH)
		for len(table) < 1+l.tableH {
			table = append(table, "")
		}
		lines = append(lines, table...)
		lines = append(lines, m.detail())
		if len(l.specs) > 0 {
			lines = append(lines, m.charts(l)...)
		}
	}
	for len(lines) < m.h-1 {
		lines = append(lines, "")
	}
	lines = append(lines[:m.h-1], m.footer())
	return fit(lines, m.w, m.h)
}

// titleBar is the sweep's name, its trials by state and when they were
// last read; on a narrow screen the least useful parts give way first
// (the folder, the interval, then the rarer states).
func (m SweepModel) titleBar() string {
	st := m.st
	head := st.statusRun.Render(" ccface sweep ")
	type seg struct {
		text string
		keep int // higher survives longer
	}
	segs := []seg{{m.opt.Name + " ·", 9}}
	right := []seg{{"reading the trials…", 8}}
	if m.polled {
		counts := map[string]int{}
		for _, r := range m.rows {
			counts[r.State]++
		}
		segs = append(segs, seg{fmt.Sprintf("%d trials:", len(m.rows)), 8})
		for _, s := range []struct {
			state string
			keep  int
		}{{SweepRunning, 7}, {SweepFinished, 7}, {SweepFailed, 6}, {SweepQueued, 5}, {SweepInterrupted, 5}} {
			if counts[s.state] > 0 {
				segs = append(segs, seg{fmt.Sprintf("%d %s", counts[s.state], s.state), s.keep})
			}
		}
		right = []seg{{"polled " + m.polledAt.Format("15:04:05"), 4}, {"every " + m.opt.Every.String(), 2}}
	}
	if m.opt.Dir != "" {
		segs = append(segs, seg{"· " + m.opt.Dir, 1})
	}
	join := func(ss []seg) string {
		parts := make([]string, len(ss))
		for i, s := range ss {
			parts[i] = s.text
		}
		return strings.Join(parts, " ")
	}
	fits := func() bool {
		return ansi.StringWidth(head)+ansi.StringWidth(join(segs)+join(right))+4 <= m.w
	}
	for !fits() && len(segs)+len(right) > 1 {
		// Drop the lowest-kept segment, the later one on a tie.
		li, ri := -1, -1
		low := 1 << 30
		for i, s := range segs {
			if s.keep <= low {
				low, li, ri = s.keep, i, -1
			}
		}
		for i, s := range right {
			if s.keep <= low {
				low, li, ri = s.keep, -1, i
			}
		}
		if ri >= 0 {
			right = slices.Delete(right, ri, ri+1)
		} else {
			segs = slices.Delete(segs, li, li+1)
		}
	}
	left, rt := " "+join(segs), join(right)+" "
	fill := max(0, m.w-ansi.StringWidth(head)-ansi.StringWidth(left)-ansi.StringWidth(rt))
	return ansi.Truncate(head+st.status.Render(left+strings.Repeat(" ", fill)+rt), m.w, "")
}

// Columns of the trial table that are not knobs.
const (
	scIndex = iota
	scSettings
	scState
	scPhase
	scStep
	scBest
	scSlurm
	nSweepCols
)

func sweepTitles() [nSweepCols]string {
	return [nSweepCols]string{"#", "SETTINGS", "STATE", "PHASE", "STEP", "BEST LR R1", "SLURM"}
}

// sweepPrefix is the cursor, selection and best-trial marks before a row.
const sweepPrefix = 4

// tableCols is the table's column layout: the fixed columns' widths (0:
// not shown) and, when they fit, one column per knob instead of SETTINGS.
type tableCols struct {
	width [nSweepCols]int
	knobs []string // knob columns, in plan order; nil: the SETTINGS column
	knobW []int
}

func sweepCells(r SweepRow) [nSweepCols]string {
	var c [nSweepCols]string
	c[scIndex] = strconv.Itoa(r.Index)
	parts := make([]string, len(r.Settings))
	for i, s := range r.Settings {
		parts[i] = s.Knob + "=" + s.Value
	}
	c[scSettings] = dashIfEmpty(strings.Join(parts, " "))
	c[scState] = dashIfEmpty(r.State)
	c[scPhase] = dashIfEmpty(r.Phase)
	switch {
	case r.Total > 0:
		c[scStep] = fmt.Sprintf("%d/%d", r.Step, r.Total)
	case r.Step > 0:
		c[scStep] = strconv.FormatInt(r.Step, 10)
	default:
		c[scStep] = "-"
	}
	c[scBest] = "-"
	if r.BestLR >= 0 && r.BestLRPx > 0 {
		c[scBest] = fmt.Sprintf("%.1f%% @%dpx", 100*r.BestLR, r.BestLRPx)
	}
	c[scSlurm] = dashIfEmpty(r.Slurm)
	return c
}

// knobValue is a trial's value of a knob, "-" when it has none.
func knobValue(r SweepRow, knob string) string {
	for _, s := range r.Settings {
		if s.Knob == knob {
			return s.Value
		}
	}
	return "-"
}

// columns fits the table into w cells: knob columns when they fit (else
// one SETTINGS column, cut, whose full text the detail line shows), then
// PHASE and SLURM give way.
func (m SweepModel) columns(w int) tableCols {
	var tc tableCols
	var natural [nSweepCols]int
	for c, title := range sweepTitles() {
		natural[c] = ansi.StringWidth(title)
	}
	anySlurm := false
	for _, r := range m.rows {
		for c, s := range sweepCells(r) {
			natural[c] = max(natural[c], ansi.StringWidth(s))
		}
		anySlurm = anySlurm || r.Slurm != ""
		for _, s := range r.Settings {
			if !slices.Contains(tc.knobs, s.Knob) {
				tc.knobs = append(tc.knobs, s.Knob)
			}
		}
	}
	for _, k := range tc.knobs {
		kw := ansi.StringWidth(k)
		for _, r := range m.rows {
			kw = max(kw, ansi.StringWidth(knobValue(r, k)))
		}
		tc.knobW = append(tc.knobW, kw)
	}
	tc.width = natural
	if !anySlurm {
		tc.width[scSlurm] = 0
	}
	total := func() int {
		t, n := sweepPrefix, 0
		for c, cw := range tc.width {
			if cw > 0 && !(c == scSettings && tc.knobs != nil) {
				t, n = t+cw, n+1
			}
		}
		if tc.knobs != nil {
			for _, kw := range tc.knobW {
				t, n = t+kw, n+1
			}
		}
		return t + 2*max(0, n-1)
	}
	for _, step := range []func(){
		func() { tc.width[scPhase] = 0 },
		func() { tc.knobs, tc.knobW = nil, nil },
		func() { tc.width[scSlurm] = 0 },
	} {
		if total() <= w {
			break
		}
		step()
	}
	if tc.knobs == nil { // SETTINGS takes what is left, at least 8 cells
		tc.width[scSettings] = 0
		tc.width[scSettings] = max(8, min(natural[scSettings], w-total()-2))
	}
	return tc
}

// table draws the header and n lines of trials.
func (m SweepModel) table(n int) []string {
	st := m.st
	tc := m.columns(m.w)
	// cells lays out a row; style, if set, colours the STATE cell and
	// bestStyle the BEST cell (not on the cursor row, drawn reversed).
	cells := func(c [nSweepCols]string, knobs []string, state, best *lipgloss.Style) string {
		var parts []string
		add := func(s string, w int, right bool, sty *lipgloss.Style) {
			s = ansi.Truncate(s, w, "…")
			pad := strings.Repeat(" ", w-ansi.StringWidth(s))
			if sty != nil {
				s = sty.Render(s)
			}
			if right {
				parts = append(parts, pad+s)
			} else {
				parts = append(parts, s+pad)
			}
		}
		for col, cw := range tc.width {
			if cw == 0 {
				continue
			}
			switch col {
			case scSettings:
				if tc.knobs != nil {
					for i, kw := range tc.knobW {
						add(knobs[i], kw, false, nil)
					}
					continue
				}
				add(truncMiddle(c[col], cw), cw, false, nil)
			case scIndex, scStep:
				add(c[col], cw, true, nil)
			case scState:
				add(c[col], cw, false, state)
			case scBest:
				add(c[col], cw, false, best)
			default:
				add(c[col], cw, false, nil)
			}
		}
		return strings.TrimRight(strings.Join(parts, "  "), " ")
	}
	lines := []string{st.bold.Render(strings.Repeat(" ", sweepPrefix) + cells(sweepTitles(), tc.knobs, nil, nil))}
	if len(m.rows) == 0 {
		msg := "   reading the trials…"
		if m.polled {
			msg = "   the sweep has no trials"
		}
		return append(lines, st.dim.Render(msg))
	}
	best := m.best()
	for i := range n {
		ri := m.off + i
		if ri >= len(m.rows) {
			break
		}
		r := m.rows[ri]
		knobs := make([]string, len(tc.knobs))
		for j, k := range tc.knobs {
			knobs[j] = knobValue(r, k)
		}
		mark, markSty := " ", st.r.NewStyle()
		if k := slices.Index(m.selected, r.ID); k >= 0 {
			mark, markSty = "◆", st.fg(trialColor(k)).Bold(true)
		}
		star := " "
		if ri == best {
			star = "★"
		}
		if ri == m.cur {
			lines = append(lines, st.sel.Render(padTo("▸"+mark+star+" "+cells(sweepCells(r), knobs, nil, nil), m.w)))
			continue
		}
		stateSty := m.stateStyle(r.State)
		var bestSty *lipgloss.Style
		if ri == best {
			s := st.ok.Bold(true)
			bestSty = &s
		}
		lines = append(lines, " "+markSty.Render(mark)+st.ok.Render(star)+" "+cells(sweepCells(r), knobs, &stateSty, bestSty))
	}
	return lines
}

func (m SweepModel) stateStyle(state string) lipgloss.Style {
	switch state {
	case SweepRunning:
		return m.st.ok
	case SweepFailed:
		return m.st.err
	case SweepInterrupted:
		return m.st.marker
	case SweepQueued:
		return m.st.dim
	}
	return m.st.r.NewStyle()
}

// detail is the cursor's trial in full, on one line.
func (m SweepModel) detail() string {
	st := m.st
	r, ok := m.current()
	if !ok {
		return st.rule.Render(strings.Repeat("─", m.w))
	}
	c := sweepCells(r)
	sep := st.dim.Render(" · ")
	segs := []string{st.bold.Render(r.ID) + " " + c[scSettings]}
	state := m.stateStyle(r.State).Render(r.State)
	if r.Phase != "" {
		state += " " + r.Phase
	}
	segs = append(segs, state+" step "+c[scStep])
	if c[scBest] != "-" {
		best := "best LR r1 " + c[scBest]
		if m.best() == m.cur {
			best = st.ok.Render("★ " + best + ", the best so far")
		}
		segs = append(segs, best)
	}
	if r.Slurm != "" {
		segs = append(segs, "slurm "+r.Slurm)
	}
	if cv := m.curves[r.ID]; cv != nil && cv.err != nil {
		segs = append(segs, st.err.Render("curves: "+cv.err.Error()))
	}
	return ansi.Truncate(" "+strings.Join(segs, sep), m.w, "…")
}

// chartTrial is one selected trial's data on the charts.
type chartTrial struct {
	id    string
	k     int // its place in the selection: colour and dash pattern
	data  *store
	lrKey string // its eval key "lr<N>.rank1" at the smallest N
}

// lrRank1Key is the rank-1 eval key at the smallest LR probe size in s,
// the size `ccface sweep status` reports as best LR rank-1.
func lrRank1Key(s *store) string {
	best, bestPx := "", 0
	for k := range s.evals {
		view, ok := strings.CutSuffix(k, "."+engine.ERank1)
		n, err := strconv.Atoi(strings.TrimPrefix(view, "lr"))
		if !ok || err != nil || n <= 0 || engine.LRView(n) != view {
			continue
		}
		if bestPx == 0 || n < bestPx {
			best, bestPx = k, n
		}
	}
	return best
}

// charts draws the selected trials' loss and LR rank-1 curves with the
// workbench's chart code, cached until the data, view or size changes.
func (m SweepModel) charts(l sweepLayout) []string {
	cacheKey := fmt.Sprintf("%d|%v|%d|%+v|%v|%d", m.w, l.rows, len(l.specs), m.opts, m.selected, m.version)
	if m.cache.key == cacheKey {
		return m.cache.lines
	}
	var trials []chartTrial
	for k, id := range m.selected {
		if c := m.curves[id]; c != nil && c.data != nil {
			trials = append(trials, chartTrial{id: id, k: k, data: c.data, lrKey: lrRank1Key(c.data)})
		}
	}
	m.cache.key = cacheKey
	m.cache.lines = renderTrialCharts(m.st, trials, l.specs, l.rows, m.w, m.opts)
	return m.cache.lines
}

// trialSeries is one chart's series: one per trial that has the chart's
// metric, the first selected solid and the others dashed under it.
func trialSeries(spec chartSpec, trials []chartTrial, o chartOpts) []seriesData {
	var out []seriesData
	for _, tr := range trials {
		src, key := tr.data.points, spec.series[0].key
		if spec.eval {
			src, key = tr.data.evals, tr.lrKey
		}
		t := src[key]
		if t == nil || !t.set {
			continue
		}
		ys := t.val
		if !spec.eval {
			ys = smoothed(t, 0, o)
		}
		out = append(out, seriesData{spec: seriesSpec{key: key, label: tr.id, color: trialColor(tr.k)},
			xs: t.xs(0, o.byEpoch), ys: ys, last: t.last, has: true, overlay: tr.k})
	}
	return out
}

// renderTrialCharts stacks the charts (a title line and rows[i] plot rows
// each) over one shared x axis spanning every trial drawn.
func renderTrialCharts(st styles, trials []chartTrial, specs []chartSpec, rows []int, w int, o chartOpts) []string {
	data := make([][]seriesData, len(specs))
	lo, hi, ok := math.Inf(1), math.Inf(-1), false
	for i, spec := range specs {
		data[i] = trialSeries(spec, trials, o)
		for _, d := range data[i] {
			if len(d.xs) > 0 {
				lo, hi, ok = min(lo, d.xs[0]), max(hi, d.xs[len(d.xs)-1]), true
			}
		}
	}
	if ok && hi <= lo {
		hi = lo + 1
	}
	var out []string
	for i, spec := range specs {
		out = append(out, trialChartTitle(st, spec, data[i], w))
		out = append(out, plot(st, spec, data[i], nil, w, rows[i], lo, hi, ok, o.byEpoch)...)
	}
	if ok {
		return append(out, xAxis(st, w, lo, hi, o.byEpoch))
	}
	return append(out, "")
}

// trialChartTitle is a chart's name and legend: each trial's sample in its
// colour and dash pattern, its ID and latest value.
func trialChartTitle(st styles, spec chartSpec, data []seriesData, w int) string {
	var b strings.Builder
	title := spec.title
	if spec.eval && len(data) > 0 {
		title += " (" + strings.TrimSuffix(data[0].spec.key, "."+engine.ERank1) + ")"
	}
	b.WriteString(st.title.Render(title))
	for _, d := range data {
		b.WriteString("  " + st.fg(d.spec.color).Render(trialGlyph(d.overlay)) + " " + d.spec.label + " " + fmtVal(d.last))
	}
	return ansi.Truncate(b.String(), w, "…")
}

func (m SweepModel) footer() string {
	st := m.st
	switch {
	case m.flash != "":
		sty := st.ok
		if m.flashErr {
			sty = st.err
		}
		return sty.Render(ansi.Truncate(m.flash, m.w, "…"))
	case m.pollErr != nil:
		return st.err.Render(ansi.Truncate("poll failed (retrying): "+m.pollErr.Error(), m.w, "…"))
	case len(m.warnings) > 0:
		msg := "warning: " + m.warnings[0]
		if n := len(m.warnings); n > 1 {
			msg += fmt.Sprintf(" (and %d more)", n-1)
		}
		return st.err.Render(ansi.Truncate(msg, m.w, "…"))
	}
	optional := []string{"↑↓ trial", "space select", "esc clear", "b best", "r refresh", "s ema", "t x-axis"}
	return st.dim.Render(fitHints(optional, []string{"? help", "q quit"}, m.w))
}
