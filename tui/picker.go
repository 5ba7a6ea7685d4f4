package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/ccface/ccface/engine"
)

// PickerRow is one session as `ccface sessions` lists it: the fields of
// sessions.Summary as plain data (tui does not read session directories).
type PickerRow struct {
	ID, Name string
	// Created is shown as given (2006-01-02 15:04): pass it in the zone to
	// show, as sessions.FormatList shows Created.Local().
	Created     time.Time
	Data        string // data source: "synth" or an image folder (its last element is shown)
	Method      string
	Phase       string
	Step        int64
	BestLRRank1 float64 // in 0..1; negative: no evaluation yet
	BestLRSize  int     // its LR probe size in px; 0: none
	// State is one of sessions' State constants. PickerStateRunning (a live
	// process holds the lock) cannot be resumed, only forked.
	State      string
	Parent     string // parent session ID when forked
	ParentStep int64
	// Checkpoints are the steps of the session's checkpoints, newest last,
	// shown in the fork prompt and checked against --at. nil: not known.
	Checkpoints []int64
}

// PickerStateRunning is sessions.StateRunning.
const PickerStateRunning = "running"

// Picker actions, PickerChoice.Action.
const (
	PickResume = "resume"
	PickFork   = "fork"
)

// PickerChoice is what the user picked.
type PickerChoice struct {
	Action string // PickResume or PickFork
	ID     string // the session resumed, or forked from
	At     int64  // fork: start from the newest checkpoint at or before At; -1: the newest
	Sets   []string
	// Overlays are the sessions to draw under the live curves, in the order
	// marked with o. With none marked, a fork overlays the session it forks
	// and a resumed fork its parent (when listed).
	Overlays []string
}

// PickerOptions configures NewPicker.
type PickerOptions struct {
	Root     string             // the sessions directory, shown in the title
	Notes    []string           // shown in the footer at start (sessions.List's warnings)
	Renderer *lipgloss.Renderer // nil: lipgloss's default
	// CheckFork, if set, validates a fork before the picker ends (say, that
	// a checkpoint exists at or before at and that sets apply to the config
	// the session had there), so a mistake is fixed in the prompt rather
	// than after the picker is gone. It runs in a tea.Cmd, so it may read
	// the session from disk.
	CheckFork func(id string, at int64, sets []string) error
}

type pickMode int

const (
	pickList pickMode = iota
	pickFilter
	pickForkInput
	pickChecking
)

type forkCheckedMsg struct{ err error }

// Picker is the session picker's tea.Model: a table of sessions with
// navigation, a filter, overlay marks and a fork prompt. Run it in a
// tea.Program and read the result from the final model's Choice.
type Picker struct {
	rows []PickerRow
	opt  PickerOptions
	st   styles
	keys pickerKeys

	w, h   int
	view   []int // indexes into rows that pass the filter
	cur    int   // index into view
	off    int   // first view index shown
	marked []string

	mode     pickMode
	filter   textinput.Model
	at, sets textinput.Model
	forkIdx  int // 0: --at field, 1: knobs field
	msg      string
	msgErr   bool

	choice *PickerChoice
}

type pickerKeys struct {
	Up, Down, PgUp, PgDown, Home, End key.Binding
	Resume, Fork, Overlay, Filter     key.Binding
	Quit                              key.Binding
}

func newPickerKeys() pickerKeys {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return pickerKeys{
		Up:      b("↑/k", "up", "up", "k"),
		Down:    b("↓/j", "down", "down", "j"),
		PgUp:    b("pgup", "page up", "pgup", "ctrl+b"),
		PgDown:  b("pgdn", "page down", "pgdown", "ctrl+f", " "),
		Home:    b("g", "first", "home", "g"),
		End:     b("G", "last", "end", "G"),
		Resume:  b("⏎", "resume", "enter"),
		Fork:    b("f", "fork", "f"),
		Overlay: b("o", "overlay", "o"),
		Filter:  b("/", "filter", "/"),
		Quit:    b("q", "cancel", "q", "ctrl+c"),
	}
}

// NewPicker returns the session picker over rows, listed in the order
// given (sessions.List's: oldest first) with the cursor on the last.
func NewPicker(rows []PickerRow, opt PickerOptions) tea.Model {
	in := func(prompt, placeholder string) textinput.Model {
		t := textinput.New()
		t.Prompt = prompt
		t.Placeholder = placeholder
		t.Cursor.SetMode(cursor.CursorStatic) // no blink timers
		return t
	}
	p := Picker{
		rows:   rows,
		opt:    opt,
		st:     newStyles(opt.Renderer),
		keys:   newPickerKeys(),
		filter: in("/", "words to match"),
		at:     in("--at  ", "latest, or a step: the newest checkpoint at or before it"),
		sets:   in("--set ", "k=v ... (knobs to change; empty: none)"),
	}
	if len(opt.Notes) > 0 {
		p.msg, p.msgErr = opt.Notes[0], true
		if n := len(opt.Notes); n > 1 {
			p.msg += fmt.Sprintf(" (and %d more warnings)", n-1)
		}
	}
	p.refilter()
	p.cur = len(p.view) - 1
	return p
}

// Choice returns the user's pick; ok is false when the picker was cancelled.
func (p Picker) Choice() (PickerChoice, bool) {
	if p.choice == nil {
		return PickerChoice{}, false
	}
	c := *p.choice
	c.Sets = slices.Clone(c.Sets)
	c.Overlays = slices.Clone(c.Overlays)
	return c, true
}

// Init does nothing: the picker waits for keys.
func (p Picker) Init() tea.Cmd { return nil }

// Update handles keys, the window size and the fork check's result.
func (p Picker) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		p.w, p.h = msg.Width, msg.Height
		p.scroll()
		return p, nil
	case forkCheckedMsg:
		if p.mode != pickChecking {
			return p, nil
		}
		if msg.err != nil {
			p.mode = pickForkInput
			p.setMsg(msg.err.Error(), true)
			return p, p.focusFork()
		}
		return p, tea.Quit
	case tea.KeyMsg:
		if msg.String() == "ctrl+c" {
			p.choice = nil
			return p, tea.Quit
		}
		switch p.mode {
		case pickFilter:
			return p.filterKey(msg)
		case pickForkInput:
			return p.forkKey(msg)
		case pickChecking:
			if msg.String() == "esc" {
				p.mode, p.choice = pickForkInput, nil
				p.setMsg("", false)
				return p, p.focusFork()
			}
			return p, nil
		}
		return p.listKey(msg)
	}
	return p, nil
}

func (p *Picker) setMsg(s string, isErr bool) { p.msg, p.msgErr = s, isErr }

func (p Picker) listKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	km := p.keys
	p.setMsg("", false)
	switch {
	case key.Matches(k, km.Quit):
		p.choice = nil
		return p, tea.Quit
	case k.String() == "esc":
		if p.filter.Value() != "" {
			p.filter.SetValue("")
			p.refilter()
		}
	case key.Matches(k, km.Up):
		p.move(-1)
	case key.Matches(k, km.Down):
		p.move(1)
	case key.Matches(k, km.PgUp):
		p.move(-max(1, p.listH()-1))
	case key.Matches(k, km.PgDown):
		p.move(max(1, p.listH()-1))
	case key.Matches(k, km.Home):
		p.move(-len(p.view))
	case key.Matches(k, km.End):
		p.move(len(p.view))
	case key.Matches(k, km.Filter):
		p.mode = pickFilter
		p.filter.CursorEnd()
		return p, p.filter.Focus()
	case key.Matches(k, km.Overlay):
		r, ok := p.selected()
		if !ok {
			break
		}
		if i := slices.Index(p.marked, r.ID); i >= 0 {
			p.marked = slices.Delete(p.marked, i, i+1)
			p.setMsg(r.ID+" will not be overlaid", false)
		} else {
			p.marked = append(p.marked, r.ID)
			p.setMsg(fmt.Sprintf("%s will be overlaid (%d marked; o again unmarks)", r.ID, len(p.marked)), false)
		}
	case key.Matches(k, km.Resume):
		r, ok := p.selected()
		switch {
		case !ok:
			p.setMsg("no session matches the filter (esc clears it)", true)
		case r.State == PickerStateRunning:
			p.setMsg(r.ID+" is running elsewhere and cannot be resumed (f forks it)", true)
		default:
			p.choice = &PickerChoice{Action: PickResume, ID: r.ID, At: -1, Overlays: p.overlays(r, PickResume)}
			return p, tea.Quit
		}
	case key.Matches(k, km.Fork):
		r, ok := p.selected()
		switch {
		case !ok:
			p.setMsg("no session matches the filter (esc clears it)", true)
		case r.Checkpoints != nil && len(r.Checkpoints) == 0:
			p.setMsg(r.ID+" has no checkpoint to fork from", true)
		default:
			p.mode, p.forkIdx = pickForkInput, 0
			p.at.SetValue("")
			p.sets.SetValue("")
			return p, p.focusFork()
		}
	}
	return p, nil
}

func (p Picker) filterKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch k.String() {
	case "enter":
		p.mode = pickList
		p.filter.Blur()
		return p, nil
	case "esc":
		p.mode = pickList
		p.filter.Blur()
		p.filter.SetValue("")
		p.refilter()
		return p, nil
	case "up", "down":
		p.move(map[string]int{"up": -1, "down": 1}[k.String()])
		return p, nil
	}
	var cmd tea.Cmd
	p.filter, cmd = p.filter.Update(k)
	p.refilter()
	return p, cmd
}

func (p Picker) forkKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch k.String() {
	case "esc":
		p.mode = pickList
		p.at.Blur()
		p.sets.Blur()
		p.setMsg("fork cancelled", false)
		return p, nil
	case "tab", "shift+tab", "up", "down":
		p.forkIdx = 1 - p.forkIdx
		return p, p.focusFork()
	case "enter":
		r, _ := p.selected()
		at, sets, err := parseForkInput(p.at.Value(), p.sets.Value(), r.Checkpoints)
		if err != nil {
			p.setMsg(err.Error(), true)
			return p, nil
		}
		p.choice = &PickerChoice{Action: PickFork, ID: r.ID, At: at, Sets: sets, Overlays: p.overlays(r, PickFork)}
		p.at.Blur()
		p.sets.Blur()
		if p.opt.CheckFork == nil {
			return p, tea.Quit
		}
		p.mode = pickChecking
		p.setMsg("checking the fork…", false)
		check, c := p.opt.CheckFork, *p.choice
		return p, func() tea.Msg { return forkCheckedMsg{check(c.ID, c.At, c.Sets)} }
	}
	p.setMsg("", false)
	var cmd tea.Cmd
	if p.forkIdx == 0 {
		p.at, cmd = p.at.Update(k)
	} else {
		p.sets, cmd = p.sets.Update(k)
	}
	return p, cmd
}

func (p *Picker) focusFork() tea.Cmd {
	if p.forkIdx == 0 {
		p.sets.Blur()
		p.at.CursorEnd()
		return p.at.Focus()
	}
	p.at.Blur()
	p.sets.CursorEnd()
	return p.sets.Focus()
}

// parseForkInput reads the fork prompt: at is "latest", empty or a step;
// sets are knob assignments "k=v" separated by spaces. Both fields also
// take the command line's spelling ("--at 800", "--set margin=0.3"), so a
// command can be pasted. Knob names are checked here; values are checked
// against the session's config by PickerOptions.CheckFork.
func parseForkInput(atText, setText string, checkpoints []int64) (at int64, sets []string, err error) {
	at = -1
	atWord := ""
	nAt := len(strings.Fields(atText))
	toks := append(strings.Fields(atText), strings.Fields(setText)...)
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t == "--at" || t == "-at":
			if i+1 >= len(toks) {
				return 0, nil, fmt.Errorf("--at wants a step or latest")
			}
			i++
			atWord = toks[i]
		case strings.HasPrefix(t, "--at="):
			atWord = strings.TrimPrefix(t, "--at=")
		case t == "--set" || t == "-set":
		case strings.HasPrefix(t, "--set="):
			sets = append(sets, strings.TrimPrefix(t, "--set="))
		case strings.Contains(t, "="):
			sets = append(sets, t)
		case atWord == "" && i < nAt: // a bare step or latest in the --at field
			atWord = t
		default:
			return 0, nil, fmt.Errorf("%q: want a step (or latest) in --at and k=v knob settings in --set", t)
		}
	}
	if atWord != "" && atWord != "latest" {
		n, perr := strconv.ParseInt(atWord, 10, 64)
		if perr != nil || n < 0 {
			return 0, nil, fmt.Errorf("--at %q: want a step number or latest", atWord)
		}
		at = n
	}
	for _, s := range sets {
		name, _, _ := strings.Cut(s, "=")
		if _, err := engine.FindKnob(strings.TrimSpace(name)); err != nil {
			return 0, nil, err
		}
	}
	if at >= 0 && checkpoints != nil && (len(checkpoints) == 0 || slices.Min(checkpoints) > at) {
		return 0, nil, fmt.Errorf("no checkpoint at or before step %d (checkpoints: %s)", at, stepList(checkpoints))
	}
	return at, sets, nil
}

func stepList(steps []int64) string {
	if len(steps) == 0 {
		return "none"
	}
	s := make([]string, len(steps))
	for i, st := range steps {
		s[i] = strconv.FormatInt(st, 10)
	}
	return strings.Join(s, " ")
}

// overlays is the choice's overlay list: the marked sessions, or by default
// the session a fork starts from and a resumed fork's parent.
func (p Picker) overlays(r PickerRow, action string) []string {
	if len(p.marked) > 0 {
		return slices.Clone(p.marked)
	}
	switch {
	case action == PickFork:
		return []string{r.ID}
	case r.Parent != "" && slices.ContainsFunc(p.rows, func(x PickerRow) bool { return x.ID == r.Parent }):
		return []string{r.Parent}
	}
	return nil
}

func (p Picker) selected() (PickerRow, bool) {
	if p.cur < 0 || p.cur >= len(p.view) {
		return PickerRow{}, false
	}
	return p.rows[p.view[p.cur]], true
}

func (p *Picker) move(d int) {
	p.cur = max(0, min(len(p.view)-1, p.cur+d))
	p.scroll()
}

// refilter recomputes the rows shown: every word of the filter must occur
// (case-insensitively) in one of the row's cells. The cursor stays on its
// session when that one still matches, else on the nearest row.
func (p *Picker) refilter() {
	var keep string
	if r, ok := p.selected(); ok {
		keep = r.ID
	}
	words := strings.Fields(strings.ToLower(p.filter.Value()))
	p.view = p.view[:0]
	for i, r := range p.rows {
		text := strings.ToLower(strings.Join(rowCells(r), " ") + " " + r.Data)
		if !slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(text, w) }) {
			p.view = append(p.view, i)
		}
	}
	p.cur = min(p.cur, len(p.view)-1)
	for i, ri := range p.view {
		if p.rows[ri].ID == keep {
			p.cur = i
		}
	}
	if p.cur < 0 && len(p.view) > 0 {
		p.cur = 0
	}
	p.scroll()
}

// listH is the number of table rows on screen.
func (p Picker) listH() int { return max(1, p.h-pickerChrome) }

// pickerChrome counts the lines around the table: title, header, rule,
// three detail lines, footer.
const pickerChrome = 7

func (p *Picker) scroll() {
	n := p.listH()
	if p.cur < p.off {
		p.off = p.cur
	}
	if p.cur >= p.off+n {
		p.off = p.cur - n + 1
	}
	p.off = max(0, min(p.off, len(p.view)-n))
}

// Columns of the table, in `ccface sessions` order.
const (
	pcID = iota
	pcName
	pcCreated
	pcData
	pcMethod
	pcPhase
	pcStep
	pcBest
	pcState
	pcParent
	nCols
)

var pickerTitles = [nCols]string{"ID", "NAME", "CREATED", "DATA", "METHOD", "PHASE", "STEP", "BEST LR R1", "STATE", "PARENT"}

// pickerDrop is the order in which columns give way on a narrow screen;
// ID and STATE always stay, NAME first shrinks (the detail lines below the
// table show every field of the selected session in full).
var pickerDrop = []int{pcParent, pcCreated, pcData, pcPhase, pcName, pcMethod, pcBest, pcStep}

// rowCells formats a row's cells as `ccface sessions` does.
func rowCells(r PickerRow) []string {
	c := make([]string, nCols)
	c[pcID] = r.ID
	c[pcName] = dashIfEmpty(r.Name)
	c[pcCreated] = "-"
	if !r.Created.IsZero() {
		c[pcCreated] = r.Created.Format("2006-01-02 15:04")
	}
	c[pcData] = dashIfEmpty(dataLabel(r.Data))
	c[pcMethod] = dashIfEmpty(r.Method)
	c[pcPhase] = dashIfEmpty(r.Phase)
	c[pcStep] = strconv.FormatInt(r.Step, 10)
	c[pcBest] = bestLabel(r)
	c[pcState] = dashIfEmpty(r.State)
	c[pcParent] = "-"
	if r.Parent != "" {
		c[pcParent] = fmt.Sprintf("%s@%d", r.Parent, r.ParentStep)
	}
	return c
}

func bestLabel(r PickerRow) string {
	if r.BestLRSize <= 0 || r.BestLRRank1 < 0 {
		return "-"
	}
	if r.BestLRRank1 <= 1 {
		return fmt.Sprintf("%.1f%% @%dpx", 100*r.BestLRRank1, r.BestLRSize)
	}
	return fmt.Sprintf("%.3g @%dpx", r.BestLRRank1, r.BestLRSize)
}

// truncMiddle cuts s to w cells keeping both ends, the end longer:
// generated names share a prefix and differ at the end
// ("compare-dbe32385-seed1-ccface" → "compa…ed1-ccface").
func truncMiddle(s string, w int) string {
	n := ansi.StringWidth(s)
	if n <= w {
		return s
	}
	if w < 4 {
		return ansi.Truncate(s, w, "…")
	}
	head := (w - 1) / 3
	return ansi.Truncate(s, head, "") + "…" + ansi.TruncateLeft(s, n-(w-1-head), "")
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// dataLabel shortens an image-folder path to its last element.
func dataLabel(src string) string {
	src = strings.TrimRight(src, `/\`)
	if i := strings.LastIndexAny(src, `/\`); i >= 0 {
		return src[i+1:]
	}
	return src
}

// pickerPrefix is the cursor and overlay-mark columns before the table.
const pickerPrefix = 3

// columns picks the columns that fit w cells and their widths (0: dropped).
func (p Picker) columns(w int) [nCols]int {
	var natural [nCols]int
	for c := range nCols {
		natural[c] = ansi.StringWidth(pickerTitles[c])
	}
	anyParent := false
	for _, r := range p.rows {
		for c, s := range rowCells(r) {
			natural[c] = max(natural[c], ansi.StringWidth(s))
		}
		anyParent = anyParent || r.Parent != ""
	}
	widths := natural
	if !anyParent {
		widths[pcParent] = 0
	}
	const nameMin = 12
	widths[pcName] = min(natural[pcName], nameMin)
	total := func() int {
		t, n := pickerPrefix, 0
		for _, cw := range widths {
			if cw > 0 {
				t += cw
				n++
			}
		}
		return t + 2*max(0, n-1)
	}
	var dropped []int
	for _, c := range pickerDrop {
		if total() <= w {
			break
		}
		if widths[c] > 0 {
			widths[c] = 0
			dropped = append(dropped, c)
		}
	}
	// A column dropped early may fit again beside a wide one dropped later.
	for i := len(dropped) - 2; i >= 0; i-- {
		c := dropped[i]
		widths[c] = natural[c]
		if c == pcName {
			widths[c] = min(natural[c], nameMin)
		}
		if total() > w {
			widths[c] = 0
		}
	}
	if widths[pcName] > 0 {
		widths[pcName] += min(natural[pcName]-widths[pcName], max(0, w-total()))
	}
	return widths
}

// View draws the picker: exactly h lines of at most w cells.
func (p Picker) View() string {
	if p.w == 0 || p.h == 0 {
		return ""
	}
	st := p.st
	if p.w < 40 || p.h < pickerChrome+2 {
		return fit([]string{"ccface sessions: the picker needs 40×9", "enlarge the terminal or press q"}, p.w, p.h)
	}
	lines := make([]string, 0, p.h)
	lines = append(lines, p.titleBar())
	widths := p.columns(p.w)
	last := -1
	for c, cw := range widths {
		if cw > 0 {
			last = c
		}
	}
	// row lays out cells in the chosen columns; state, if set, colours the
	// STATE cell (not on the selected row, which is drawn reversed).
	row := func(cells []string, state *lipgloss.Style) string {
		var b strings.Builder
		for c, cw := range widths {
			if cw == 0 {
				continue
			}
			s := ansi.Truncate(cells[c], cw, "…")
			if c == pcName {
				s = truncMiddle(cells[c], cw)
			}
			pad := strings.Repeat(" ", cw-ansi.StringWidth(s))
			if c == pcStep {
				s, pad = pad+s, ""
			}
			if c == pcState && state != nil {
				s = state.Render(s)
			}
			b.WriteString(s)
			if c != last {
				b.WriteString(pad + "  ")
			}
		}
		return b.String()
	}
	lines = append(lines, st.bold.Render(strings.Repeat(" ", pickerPrefix)+row(pickerTitles[:], nil)))
	n := p.listH()
	for i := range n {
		vi := p.off + i
		if vi >= len(p.view) {
			if i == 0 && len(p.rows) == 0 {
				lines = append(lines, st.dim.Render("   no sessions yet"))
				continue
			}
			if i == 0 {
				lines = append(lines, st.dim.Render("   no session matches the filter (esc clears it)"))
				continue
			}
			lines = append(lines, "")
			continue
		}
		r := p.rows[p.view[vi]]
		mark := " "
		if slices.Contains(p.marked, r.ID) {
			mark = "◆"
		}
		if vi == p.cur {
			lines = append(lines, st.sel.Render(padTo("▸"+mark+" "+row(rowCells(r), nil), p.w)))
			continue
		}
		sty := p.stateStyle(r.State)
		lines = append(lines, " "+st.marker.Render(mark)+" "+row(rowCells(r), &sty))
	}
	lines = append(lines, st.rule.Render(strings.Repeat("─", p.w)))
	lines = append(lines, p.bottom(3)...)
	lines = append(lines, p.footer())
	return fit(lines, p.w, p.h)
}

func (p Picker) titleBar() string {
	st := p.st
	head := st.statusRun.Render(" ccface sessions ")
	left := ""
	if p.opt.Root != "" {
		left = " " + p.opt.Root
	}
	right := fmt.Sprintf("%d sessions ", len(p.rows))
	if f := p.filter.Value(); f != "" {
		right = fmt.Sprintf("filter %q: %d of %d ", f, len(p.view), len(p.rows))
	}
	if len(p.marked) > 0 {
		right = fmt.Sprintf("◆ %d to overlay · ", len(p.marked)) + right
	}
	room := p.w - ansi.StringWidth(head) - ansi.StringWidth(right) - 1
	if ansi.StringWidth(left) > room {
		left = ansi.TruncateLeft(left, ansi.StringWidth(left)-max(0, room)+1, "…")
		if room < 8 {
			left = ""
		}
	}
	fill := max(0, p.w-ansi.StringWidth(head)-ansi.StringWidth(left)-ansi.StringWidth(right))
	return ansi.Truncate(head+st.status.Render(left+strings.Repeat(" ", fill)+right), p.w, "")
}

func (p Picker) stateStyle(state string) lipgloss.Style {
	switch state {
	case PickerStateRunning:
		return p.st.ok
	case "crashed", "failed":
		return p.st.err
	case "stopped":
		return p.st.marker
	}
	return p.st.r.NewStyle()
}

// bottom is the panel under the table, n lines: the selected session in
// full, or the fork prompt.
func (p Picker) bottom(n int) []string {
	st := p.st
	r, ok := p.selected()
	if !ok {
		return nil
	}
	var out []string
	if p.mode == pickForkInput || p.mode == pickChecking {
		title := "fork " + r.ID
		if r.Checkpoints != nil {
			title += " · checkpoints " + stepList(r.Checkpoints)
		}
		if r.Name != "" {
			title += " · " + r.Name
		}
		out = append(out, " "+st.bold.Render(ansi.Truncate(title, p.w-2, "…")))
		p.at.Width = max(1, p.w-10)
		p.sets.Width = max(1, p.w-10)
		out = append(out, " "+p.at.View(), " "+p.sets.View())
		return out
	}
	seg := func(k, v string) string { return st.dim.Render(k+" ") + v }
	c := rowCells(r)
	name := r.Name
	if name == "" {
		name = "(no name)"
	}
	segs := []string{st.bold.Render(r.ID) + " " + name}
	if r.Parent != "" {
		segs = append(segs, seg("forked from", c[pcParent]))
	}
	segs = append(segs, seg("created", c[pcCreated]), seg("data", dashIfEmpty(r.Data)), seg("method", c[pcMethod]),
		seg("phase", c[pcPhase]), seg("step", c[pcStep]), seg("best LR rank-1", c[pcBest]),
		seg("state", p.stateStyle(r.State).Render(c[pcState])))
	if r.Checkpoints != nil {
		segs = append(segs, seg("checkpoints", stepList(r.Checkpoints)))
	}
	// Fill the lines with whole fields; the last line takes what is left.
	sep := st.dim.Render(" · ")
	cur := ""
	for i, sg := range segs {
		switch {
		case cur == "":
			cur = " " + sg
		case ansi.StringWidth(cur+sep+sg) <= p.w || len(out) == n-1:
			cur += sep + sg
		default:
			out = append(out, cur)
			cur = " " + sg
		}
		if i == len(segs)-1 {
			out = append(out, cur)
		}
	}
	for i := range out {
		out[i] = ansi.Truncate(out[i], p.w, "…")
	}
	return out[:min(n, len(out))]
}

func (p Picker) footer() string {
	st := p.st
	if p.msg != "" {
		sty := st.ok
		if p.msgErr {
			sty = st.err
		}
		return sty.Render(ansi.Truncate(p.msg, p.w, "…"))
	}
	var hints string
	switch p.mode {
	case pickFilter:
		return ansi.Truncate(p.filter.View()+st.dim.Render("   ⏎ keep · esc clear"), p.w, "…")
	case pickForkInput:
		hints = "tab switches field · ⏎ fork · esc cancel"
	case pickChecking:
		hints = "checking the fork… (esc edits it)"
	default:
		hints = "↑↓ move  ⏎ resume  f fork  o mark overlay  / filter  q cancel"
		if p.filter.Value() != "" {
			hints += "  esc clear filter"
		}
	}
	return st.dim.Render(ansi.Truncate(hints, p.w, "…"))
}
