package tui

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// Smallest screen the layout is designed for; below it a notice is shown.
const (
	minW = 60
	minH = 14
)

// layout splits the screen. Top to bottom: status bar, body (charts left,
// knob panel right), the log's title rule, the log, the footer.
type layout struct {
	w, h   int
	bodyH  int
	logN   int
	chartW int
	panelW int
	specs  []chartSpec
	rows   []int // plot rows per chart
}

func (m Model) layout() (layout, bool) {
	w, h := m.w, m.h
	if w < minW || h < minH {
		return layout{}, false
	}
	l := layout{w: w, h: h}
	l.logN = max(2, min(12, (h-2)/6))
	l.bodyH = h - 3 - l.logN
	l.panelW = max(26, min(40, w/3))
	l.chartW = w - l.panelW - 1
	l.specs = chartSpecs(m.lrPx)
	// Each chart needs a title row plus at least 2 plot rows; when they do not
	// fit, drop margin, then eval, then angles (loss always stays).
	for _, title := range []string{"margin", "eval verif", "θ_y °"} {
		if n := len(l.specs); (l.bodyH-n-1)/n >= 2 {
			break
		}
		l.specs = slices.DeleteFunc(l.specs, func(c chartSpec) bool { return c.title == title })
	}
	n := len(l.specs)
	plotRows := l.bodyH - n - 1
	for i := range n {
		r := plotRows / n
		if i < plotRows%n {
			r++
		}
		l.rows = append(l.rows, r)
	}
	return l, true
}

// View draws the screen: exactly h lines of at most w cells.
func (m Model) View() string {
	if m.w == 0 || m.h == 0 {
		return "" // before the first WindowSizeMsg there is nothing to fit
	}
	l, ok := m.layout()
	if !ok {
		return fit([]string{
			m.statusBar(m.w),
			fmt.Sprintf("ccface needs %d×%d (now %d×%d):", minW, minH, m.w, m.h),
			"enlarge the terminal or press q.",
		}, m.w, m.h)
	}
	lines := make([]string, 0, m.h)
	lines = append(lines, m.statusBar(l.w))
	if m.showHelp {
		lines = append(lines, m.helpOverlay(l.w, l.bodyH)...)
	} else {
		charts := m.charts(l)
		panel := m.panel(l.panelW, l.bodyH)
		sep := m.st.rule.Render("│")
		for i := range l.bodyH {
			lines = append(lines, padTo(line(charts, i), l.chartW)+sep+line(panel, i))
		}
	}
	lines = append(lines, m.logView(l.w, l.logN)...)
	lines = append(lines, m.footer(l.w))
	return fit(lines, m.w, m.h)
}

// charts returns the chart column, rebuilt only when the data shown (as of
// the last frame), the view settings or the size changed.
func (m Model) charts(l layout) []string {
	titles := make([]string, len(l.specs))
	for i, s := range l.specs {
		titles[i] = s.title
	}
	k := fmt.Sprintf("%d|%v|%v|%+v|%d", l.chartW, l.rows, titles, m.opts, m.drawn)
	if m.cache.key != k {
		m.cache.key = k
		m.cache.lines = renderCharts(m.st, m.data, l.specs, l.rows, l.chartW, m.opts)
	}
	return m.cache.lines
}

// statusParts returns the status bar's state badge and its other fields,
// dropping the least useful fields first (img/s, then the checkpoint, the
// epoch, the phase) when the bar is narrower than w.
func (m Model) statusParts(w int) (head, left string) {
	st := m.st
	var state string
	stStyle := st.statusRun
	switch {
	case m.run.failed:
		state, stStyle = "✗ failed", st.statusEnd
	case m.run.ended:
		state, stStyle = "■ ended", st.statusEnd
	case m.stopping:
		state, stStyle = "… stopping", st.statusPause
	case m.run.paused:
		state, stStyle = "‖ paused", st.statusPause
	case m.run.started:
		state = "▶ running"
	default:
		state, stStyle = "○ waiting", st.statusPause
	}
	type seg struct {
		text string
		keep int // higher survives longer
	}
	var segs []seg
	if m.run.phase != "" {
		segs = append(segs, seg{m.run.phase, 4})
	}
	segs = append(segs, seg{fmt.Sprintf("ep %.2f", m.run.epoch), 3})
	if m.run.total > 0 {
		segs = append(segs, seg{fmt.Sprintf("step %d/%d", m.run.step, m.run.total), 7})
	} else {
		segs = append(segs, seg{fmt.Sprintf("step %d", m.run.step), 7})
	}
	if m.run.imgPerSec > 0 {
		segs = append(segs, seg{fmt.Sprintf("%.0f img/s", m.run.imgPerSec), 1})
	}
	if !m.run.ended {
		segs = append(segs, seg{"ETA " + m.eta(), 6})
	}
	if m.run.ckpt {
		segs = append(segs, seg{fmt.Sprintf("ckpt @%d", m.run.ckptStep), 2})
	} else {
		segs = append(segs, seg{"ckpt –", 2})
	}
	if m.opt.ReadOnly {
		segs = append(segs, seg{"read-only", 8})
	}
	head = stStyle.Render(" " + state + " ")
	join := func() string {
		parts := make([]string, len(segs))
		for i, sg := range segs {
			parts[i] = sg.text
		}
		return " " + strings.Join(parts, "  ") + " "
	}
	left = join()
	for len(segs) > 1 && ansi.StringWidth(head)+ansi.StringWidth(left) > w {
		drop := 0
		for i, sg := range segs {
			if sg.keep < segs[drop].keep {
				drop = i
			}
		}
		segs = append(segs[:drop], segs[drop+1:]...)
		left = join()
	}
	return head, left
}

// pathInStatus reports whether the session path fits the status bar with
// at least its last 16 cells; otherwise the log's title rule shows it.
func (m Model) pathInStatus(w int) bool {
	if m.opt.SessionPath == "" {
		return false
	}
	head, left := m.statusParts(w)
	room := w - ansi.StringWidth(head) - ansi.StringWidth(left)
	return room >= min(17, ansi.StringWidth(m.opt.SessionPath)+1)
}

func (m Model) statusBar(w int) string {
	st := m.st
	head, left := m.statusParts(w)
	right := ""
	if m.pathInStatus(w) {
		room := w - ansi.StringWidth(head) - ansi.StringWidth(left)
		p := m.opt.SessionPath
		if ansi.StringWidth(p)+1 > room {
			p = ansi.TruncateLeft(p, ansi.StringWidth(p)+2-room, "…")
		}
		right = p + " "
	}
	fill := max(0, w-ansi.StringWidth(head)-ansi.StringWidth(left)-ansi.StringWidth(right))
	return ansi.Truncate(head+st.status.Render(left+strings.Repeat(" ", fill)+right), w, "")
}

// eta extrapolates the remaining steps at the rate of the recent points.
func (m Model) eta() string {
	if m.run.paused {
		return "paused"
	}
	r := m.run.rate
	if m.run.total <= 0 || len(r) < 2 {
		return "–"
	}
	dt := r[len(r)-1].t.Sub(r[0].t).Seconds()
	ds := float64(r[len(r)-1].step - r[0].step)
	if dt <= 0 || ds <= 0 {
		return "–"
	}
	return fmtDur(float64(m.run.total-m.run.step) / (ds / dt))
}

func fmtDur(sec float64) string {
	if sec < 0 || math.IsNaN(sec) || math.IsInf(sec, 0) {
		return "–"
	}
	d := time.Duration(sec * float64(time.Second)).Round(time.Second)
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd%02dh", d/(24*time.Hour), (d%(24*time.Hour))/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", d/time.Hour, (d%time.Hour)/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%02ds", d/time.Minute, (d%time.Minute)/time.Second)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// panel draws the knob panel: a title, the scrolling knob list with group
// headers, and a detail block for the selected knob (help, range, pending
// value, the value editor and SetKnob's refusal).
func (m Model) panel(w, h int) []string {
	st := m.st
	out := []string{st.title.Render(" live knobs")}
	if m.opt.ReadOnly {
		out[0] = st.title.Render(" live knobs") + st.err.Render(" read-only")
	}
	detailH := 4
	if h >= 24 {
		detailH = 6
	}
	listH := max(1, h-1-detailH)

	nameW := 12
	valW := max(4, w-3-nameW)
	var list []string
	selLine := 0
	group := -1
	for i, it := range m.knobs {
		if it.group != group {
			group = it.group
			t := "─ " + groupTitle(group) + " "
			list = append(list, st.rule.Render(t+strings.Repeat("─", max(0, w-ansi.StringWidth(t)))))
		}
		val := it.knob.Get(&m.cfg)
		pend, isPend := m.pending[it.knob.Name]
		if isPend {
			val = "→" + pend
		}
		val = ansi.Truncate(val, valW, "…")
		name := ansi.Truncate(shortName(it.knob.Name), nameW, "…")
		row := fmt.Sprintf("%-*s %s", nameW, name, val)
		if i == m.sel {
			selLine = len(list)
			list = append(list, st.sel.Render(padTo("▸ "+row, w)))
			continue
		}
		if isPend {
			row = fmt.Sprintf("%-*s %s", nameW, name, st.pending.Render(val))
		}
		list = append(list, "  "+row)
	}
	off := max(0, min(selLine-listH/3, len(list)-listH))
	for i := range listH {
		out = append(out, line(list, off+i))
	}

	out = append(out, st.rule.Render(strings.Repeat("─", w)))
	out = append(out, m.detail(w, detailH-1)...)
	return out
}

// detail is the selected knob's detail block, n lines.
func (m Model) detail(w, n int) []string {
	st := m.st
	k, ok := m.selected()
	if !ok {
		return nil
	}
	var lines []string
	wrap := func(s string, sty lipgloss.Style) {
		for _, l := range strings.Split(ansi.Wordwrap(s, w-1, " "), "\n") {
			lines = append(lines, " "+sty.Render(l))
		}
	}
	switch {
	case m.editing:
		m.input.Width = max(1, w-len(k.Name)-5)
		field := m.input.View()
		if m.selectAll {
			field = m.input.Prompt + st.sel.Render(m.input.Value())
		}
		lines = append(lines, " "+st.bold.Render(k.Name)+" "+field)
		if m.knobErr != "" {
			wrap(m.knobErr, st.err)
		} else {
			wrap("enter sets · esc cancels · "+k.Range(), st.dim)
		}
	case m.knobErr != "":
		wrap(m.knobErr, st.err)
	default:
		if p, ok := m.pending[k.Name]; ok {
			wrap(fmt.Sprintf("pending %s → %s (next step)", k.Get(&m.cfg), p), st.pending)
		}
		wrap(k.Help, st.dim)
		wrap(k.Range(), st.dim)
	}
	if len(lines) > n {
		lines = lines[:n]
	}
	return lines
}

// logView is the log's title rule (which also shows the chart settings)
// and its newest n lines.
func (m Model) logView(w, n int) []string {
	st := m.st
	smooth := "off"
	if m.opts.smooth {
		smooth = fmt.Sprintf("%.2f", m.opts.weight)
	}
	xa := "step"
	if m.opts.byEpoch {
		xa = "epoch"
	}
	zoom := "all"
	if m.opts.window > 0 {
		zoom = fmt.Sprintf("last %.0f", m.opts.window)
	}
	right := fmt.Sprintf(" ema %s · x %s · zoom %s · ┊ knob ╎ phase ─", smooth, xa, zoom)
	left := "─ events "
	if p := m.opt.SessionPath; p != "" && !m.pathInStatus(w) {
		room := w - ansi.StringWidth(left) - ansi.StringWidth(right) - 3
		if ansi.StringWidth(p) > room && room > 8 {
			p = ansi.TruncateLeft(p, ansi.StringWidth(p)-room+1, "…")
		}
		if room > 8 {
			left += "· " + p + " "
		}
	}
	fill := max(0, w-ansi.StringWidth(left)-ansi.StringWidth(right))
	out := []string{ansi.Truncate(st.rule.Render(left+strings.Repeat("─", fill)+right), w, "")}
	start := max(0, len(m.log)-n)
	for i := range n {
		j := start + i
		if j >= len(m.log) {
			out = append(out, "")
			continue
		}
		e := m.log[j]
		prefix := ""
		if !e.t.IsZero() {
			prefix = st.dim.Render(e.t.Format("15:04:05")) + " "
		}
		sty := st.r.NewStyle()
		switch e.kind {
		case logHyper:
			sty = st.marker
		case logPhase:
			sty = st.phase
		case logGood:
			sty = st.ok
		case logErr:
			sty = st.err
		case logDim:
			sty = st.dim
		}
		out = append(out, ansi.Truncate(prefix+sty.Render(e.text), w, "…"))
	}
	return out
}

func (m Model) footer(w int) string {
	st := m.st
	switch {
	case m.confirmQuit && m.opt.Detach:
		return st.statusPause.Render(ansi.Truncate(" Stop the run for everyone? y/n ", w, ""))
	case m.confirmQuit:
		return st.statusPause.Render(ansi.Truncate(" Stop the run and quit? y/n ", w, ""))
	case m.stopping && m.opt.Detach:
		return st.pending.Render(ansi.Truncate("stopping: waiting for the engine to finish its step… (q detaches)", w, "…"))
	case m.stopping:
		return st.pending.Render(ansi.Truncate("stopping: waiting for the engine to finish its step… (ctrl+c quits now)", w, "…"))
	case m.flash != "":
		sty := st.ok
		if m.flashErr {
			sty = st.err
		}
		return sty.Render(ansi.Truncate(m.flash, w, "…"))
	}
	optional, kept := m.hints()
	return st.dim.Render(fitHints(optional, kept, w))
}

// hints lists the footer's key hints, most useful first; the last ones
// (help, quit) are kept whatever the width.
func (m Model) hints() (optional, kept []string) {
	switch {
	case m.opt.ReadOnly:
		return []string{"read-only viewer", "s ema", "t x-axis", "z zoom"}, []string{"? help", "q detach"}
	case m.opt.Detach:
		kept = []string{"? help", "q detach", "S stop"}
	default:
		kept = []string{"? help", "q quit"}
	}
	optional = []string{"↑↓ knob", "←→ change", "⏎ type", "p pause", "c ckpt", "e eval", "x export", "s ema", "t x-axis", "z zoom"}
	if len(m.data.overlays) > 0 {
		optional = append(optional, "o overlays")
	}
	return optional, kept
}

// fitHints joins as many optional hints as fit in w beside the kept ones,
// so a narrow terminal (80 columns over SSH) still shows how to get help
// and quit.
func fitHints(optional, kept []string, w int) string {
	const sep = "  "
	tail := strings.Join(kept, sep)
	line := ""
	for _, h := range optional {
		next := line + h + sep
		if ansi.StringWidth(next+tail) > w {
			break
		}
		line = next
	}
	return ansi.Truncate(line+tail, w, "…")
}

// helpOverlay replaces the body with the key map, drawn from keyMap so the
// two cannot disagree.
func (m Model) helpOverlay(w, h int) []string {
	st := m.st
	legend := st.dim.Render("charts: ") + st.marker.Render(string(markKnob)) + st.dim.Render(" knob change  ") +
		st.phase.Render(string(markPhase)) + st.dim.Render(" phase start  ·  any key closes")
	return helpBox(st, "ccface keys", m.keys.helpColumns(), legend, w, h)
}

// helpBox draws key bindings in two columns under a title, with a legend
// line, centred in w×h: the help screen of every view.
func helpBox(st styles, title string, columns [][]key.Binding, legend string, w, h int) []string {
	var cols []string
	for _, col := range columns {
		var b strings.Builder
		for i, kb := range col {
			if i > 0 {
				b.WriteString("\n")
			}
			b.WriteString(helpRow(st, kb))
		}
		cols = append(cols, b.String())
	}
	body := lipgloss.JoinVertical(lipgloss.Left, st.title.Render(title), "",
		lipgloss.JoinHorizontal(lipgloss.Top, cols[0], "   ", cols[1]), "", legend)
	box := st.help.Render(body)
	return strings.Split(lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, box), "\n")
}

func helpRow(st styles, kb key.Binding) string {
	h := kb.Help()
	return st.key.Render(fmt.Sprintf("%-9s", h.Key)) + " " + h.Desc
}

// fit makes s exactly h lines of at most w cells, so a terminal never
// scrolls or wraps whatever a widget returned.
func fit(lines []string, w, h int) string {
	var b strings.Builder
	for i := range h {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(ansi.Truncate(line(lines, i), w, ""))
	}
	return b.String()
}

func line(lines []string, i int) string {
	if i < 0 || i >= len(lines) {
		return ""
	}
	return lines[i]
}

// padTo pads (or cuts) s to exactly w cells.
func padTo(s string, w int) string {
	n := ansi.StringWidth(s)
	if n > w {
		return ansi.Truncate(s, w, "")
	}
	return s + strings.Repeat(" ", w-n)
}
