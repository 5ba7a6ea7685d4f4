package tui

import (
	"fmt"
	"slices"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/ccface/ccface/engine"
)

// SweepRow is one trial of a sweep as `ccface sweep status` reports it:
// plain data (tui does not read session folders; main converts
// sweep.TrialStatus).
type SweepRow struct {
	Index    int
	ID       string         // the trial's session ID, e.g. t0003
	Settings []SweepSetting // the knobs that vary across the sweep, in plan order
	State    string         // SweepQueued, SweepRunning, ...
	Phase    string
	Step     int64
	Total    int64   // steps of the whole trial; 0: not known yet
	BestLR   float64 // best LR rank-1 in 0..1; negative: not evaluated yet
	BestLRPx int     // its LR probe size in px
	Slurm    string  // the task's squeue state; "": unknown or no Slurm
}

// SweepSetting is one knob assignment of a trial.
type SweepSetting struct{ Knob, Value string }

// Trial states of SweepRow.State (sweep's State constants).
const (
	SweepQueued      = "queued"
	SweepRunning     = "running"
	SweepFinished    = "finished"
	SweepFailed      = "failed"
	SweepInterrupted = "interrupted"
)

// SweepOptions configures NewSweep. Poll and Events do the I/O; the model
// calls them only from tea.Cmds, never from Update, so a slow shared
// filesystem delays the next refresh and never a key press.
type SweepOptions struct {
	Name string // the sweep's name, in the title bar
	Dir  string // the sweep folder, in the title bar
	// Poll reads every trial's state (sweep.Sweep.Status and squeue);
	// warnings are shown in the footer.
	Poll func() (rows []SweepRow, warnings []string, err error)
	// Events reads one trial's recorded events (sessions.ReadEvents of its
	// session folder); none before the trial has started.
	Events func(id string) ([]engine.Event, error)
	// Every is the poll interval; 0 means DefaultSweepEvery. Polling, not
	// file-change events: shared filesystems (NFS, Lustre) miss those.
	Every time.Duration
	// Clock stamps each poll for the title bar; nil is time.Now (tests pin it).
	Clock    func() time.Time
	Renderer *lipgloss.Renderer // nil: lipgloss's default
}

// DefaultSweepEvery is the poll interval when SweepOptions.Every is 0: a
// trial reports a point every few seconds, and reading a few hundred
// manifests and log tails that often is cheap even on NFS.
const DefaultSweepEvery = 3 * time.Second

type (
	sweepPolledMsg struct {
		rows     []SweepRow
		warnings []string
		err      error
		at       time.Time
	}
	sweepTickMsg   struct{ gen int }
	trialLoadedMsg struct {
		id    string
		data  *store // folded in the Cmd, so Update only swaps it in
		step  int64  // the row's step and state when the load was asked for
		state string
		err   error
	}
)

// trialCurves is a selected trial's recorded run, folded into tracks.
type trialCurves struct {
	data    *store // nil until a load succeeds
	read    bool   // a load has answered (data or err)
	step    int64  // the row's step and state at the last load:
	state   string // a poll that shows others reads the trial again
	loading bool
	err     error
}

// SweepModel is the sweep view's tea.Model: a table of trials polled from
// their session folders, the best one marked, and the curves of the trials
// the user selects drawn one over another.
type SweepModel struct {
	opt  SweepOptions
	st   styles
	keys sweepKeys

	w, h int

	rows     []SweepRow
	warnings []string
	pollErr  error
	polledAt time.Time
	polled   bool
	polling  bool
	gen      int // the tick chain in effect: a refresh key starts a new one

	cur, off int
	selected []string // trial IDs in the order selected: their colours and dash patterns
	curves   map[string]*trialCurves
	version  uint64 // bumped whenever curves change: the chart cache key

	opts     chartOpts
	showHelp bool
	flash    string
	flashErr bool

	cache *chartCache
}

type sweepKeys struct {
	Up, Down, PgUp, PgDown, Home, End key.Binding
	Select, Clear, Best, Refresh      key.Binding
	Smooth, SmoothDec, SmoothInc      key.Binding
	XAxis, Help, Quit                 key.Binding
}

func newSweepKeys() sweepKeys {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return sweepKeys{
		Up:        b("↑/k", "previous trial", "up", "k"),
		Down:      b("↓/j", "next trial", "down", "j"),
		PgUp:      b("pgup", "page up", "pgup", "ctrl+b"),
		PgDown:    b("pgdn", "page down", "pgdown", "ctrl+f"),
		Home:      b("g", "first trial", "home", "g"),
		End:       b("G", "last trial", "end", "G"),
		Select:    b("space", "draw / hide its curves", " ", "enter"),
		Clear:     b("esc", "clear the selection", "esc"),
		Best:      b("b", "the best trial", "b"),
		Refresh:   b("r", "read the trials now", "r"),
		Smooth:    b("s", "toggle EMA smoothing", "s"),
		SmoothDec: b("[", "less smoothing", "["),
		SmoothInc: b("]", "more smoothing", "]"),
		XAxis:     b("t", "x axis: step / epoch", "t"),
		Help:      b("?", "this help", "?"),
		Quit:      b("q", "quit (trials go on)", "q", "ctrl+c"),
	}
}

func (k sweepKeys) helpColumns() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PgUp, k.PgDown, k.Home, k.End, k.Best},
		{k.Select, k.Clear, k.Refresh, k.Smooth, k.SmoothDec, k.SmoothInc, k.XAxis, k.Help, k.Quit},
	}
}

// NewSweep returns the sweep view. It polls at once and then every
// opt.Every; quitting it leaves the trials running.
func NewSweep(opt SweepOptions) tea.Model {
	if opt.Every <= 0 {
		opt.Every = DefaultSweepEvery
	}
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	return SweepModel{
		opt:     opt,
		st:      newStyles(opt.Renderer),
		keys:    newSweepKeys(),
		curves:  map[string]*trialCurves{},
		opts:    chartOpts{weight: 0.6},
		cache:   &chartCache{},
		polling: opt.Poll != nil, // Init's poll: Init cannot change the model
	}
}

// Init polls the trials.
func (m SweepModel) Init() tea.Cmd {
	return m.pollCmd()
}

// poll reads the trials in a Cmd. At most one poll runs at a time: the
// next tick is armed only when its result arrives.
func (m *SweepModel) poll() tea.Cmd {
	if m.polling || m.opt.Poll == nil {
		return nil
	}
	m.polling = true
	return m.pollCmd()
}

func (m SweepModel) pollCmd() tea.Cmd {
	if m.opt.Poll == nil {
		return nil
	}
	poll, clock := m.opt.Poll, m.opt.Clock
	return func() tea.Msg {
		rows, warnings, err := poll()
		return sweepPolledMsg{rows: rows, warnings: warnings, err: err, at: clock()}
	}
}

// load reads and folds one trial's events in a Cmd.
func (m *SweepModel) load(row SweepRow) tea.Cmd {
	c := m.curves[row.ID]
	if c == nil || c.loading || m.opt.Events == nil {
		return nil
	}
	c.loading = true
	events := m.opt.Events
	return func() tea.Msg {
		evs, err := events(row.ID)
		msg := trialLoadedMsg{id: row.ID, step: row.Step, state: row.State, err: err}
		if err == nil {
			msg.data = foldOverlays([]Overlay{{Name: row.ID, Events: evs}})[0].data
		}
		return msg
	}
}

// Update handles polls, loads, ticks and keys; it does no I/O.
func (m SweepModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		m.scroll()
		return m, nil
	case sweepPolledMsg:
		m.polling = false
		m.gen++
		gen := m.gen
		tick := tea.Tick(m.opt.Every, func(time.Time) tea.Msg { return sweepTickMsg{gen} })
		if msg.err != nil {
			m.pollErr = msg.err // keep the last rows: a flaky mount should not blank the table
			return m, tick
		}
		m.ingest(msg)
		return m, tea.Batch(append(m.reloads(), tick)...)
	case sweepTickMsg:
		if msg.gen != m.gen {
			return m, nil // a refresh started a newer chain
		}
		cmd := m.poll() // before the return: Go does not order m against a call that mutates it
		return m, cmd
	case trialLoadedMsg:
		c := m.curves[msg.id]
		if c == nil {
			return m, nil // deselected while it loaded
		}
		c.loading, c.read, c.err, c.step, c.state = false, true, msg.err, msg.step, msg.state
		if msg.err == nil {
			c.data = msg.data
			m.version++
		}
		return m, nil
	case tea.KeyMsg:
		return m.handleKey(msg)
	}
	return m, nil
}

// ingest takes a poll's rows, keeping the cursor on its trial.
func (m *SweepModel) ingest(msg sweepPolledMsg) {
	keep := ""
	if r, ok := m.current(); ok {
		keep = r.ID
	}
	m.rows, m.warnings, m.pollErr = msg.rows, msg.warnings, nil
	m.polledAt, m.polled = msg.at, true
	m.cur = min(m.cur, max(0, len(m.rows)-1))
	for i, r := range m.rows {
		if r.ID == keep {
			m.cur = i
		}
	}
	m.scroll()
}

// reloads asks for the events of every selected trial whose row moved on
// since its curves were read: a trial that is not running costs nothing.
func (m *SweepModel) reloads() []tea.Cmd {
	var cmds []tea.Cmd
	for _, id := range m.selected {
		r, ok := m.row(id)
		c := m.curves[id]
		if !ok || c == nil || (c.read && c.step == r.Step && c.state == r.State) {
			continue // unchanged (a failed read too: it would fail the same way until the trial moves)
		}
		if cmd := m.load(r); cmd != nil {
			cmds = append(cmds, cmd)
		}
	}
	return cmds
}

func (m *SweepModel) row(id string) (SweepRow, bool) {
	for _, r := range m.rows {
		if r.ID == id {
			return r, true
		}
	}
	return SweepRow{}, false
}

func (m SweepModel) current() (SweepRow, bool) {
	if m.cur < 0 || m.cur >= len(m.rows) {
		return SweepRow{}, false
	}
	return m.rows[m.cur], true
}

// best is the index of the trial with the highest best LR rank-1 (the
// first one on a tie), -1 before any evaluation.
func (m SweepModel) best() int {
	b := -1
	for i, r := range m.rows {
		if r.BestLR >= 0 && (b < 0 || r.BestLR > m.rows[b].BestLR) {
			b = i
		}
	}
	return b
}

func (m SweepModel) handleKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	if m.showHelp {
		m.showHelp = false
		return m, nil
	}
	m.flash, m.flashErr = "", false
	km := m.keys
	switch {
	case key.Matches(k, km.Quit):
		return m, tea.Quit
	case key.Matches(k, km.Help):
		m.showHelp = true
	case key.Matches(k, km.Up):
		m.move(-1)
	case key.Matches(k, km.Down):
		m.move(1)
	case key.Matches(k, km.PgUp):
		m.move(-max(1, m.tableRows()-1))
	case key.Matches(k, km.PgDown):
		m.move(max(1, m.tableRows()-1))
	case key.Matches(k, km.Home):
		m.move(-len(m.rows))
	case key.Matches(k, km.End):
		m.move(len(m.rows))
	case key.Matches(k, km.Best):
		if b := m.best(); b >= 0 {
			m.cur = b
			m.scroll()
		} else {
			m.flash = "no trial has been evaluated yet"
		}
	case key.Matches(k, km.Select):
		return m.toggle()
	case key.Matches(k, km.Clear):
		if len(m.selected) > 0 {
			m.selected = nil
			m.curves = map[string]*trialCurves{}
			m.version++
			m.flash = "selection cleared"
		}
	case key.Matches(k, km.Refresh):
		m.flash = "polling the trials…"
		cmd := m.poll()
		return m, cmd
	case key.Matches(k, km.Smooth):
		m.opts.smooth = !m.opts.smooth
	case key.Matches(k, km.SmoothDec):
		m.opts.smooth, m.opts.weight = true, clampF(m.opts.weight-0.05, 0, 0.99)
	case key.Matches(k, km.SmoothInc):
		m.opts.smooth, m.opts.weight = true, clampF(m.opts.weight+0.05, 0, 0.99)
	case key.Matches(k, km.XAxis):
		m.opts.byEpoch = !m.opts.byEpoch
	}
	return m, nil
}

// toggle selects the trial under the cursor (and reads its events) or
// deselects it.
func (m SweepModel) toggle() (tea.Model, tea.Cmd) {
	r, ok := m.current()
	if !ok {
		return m, nil
	}
	if i := slices.Index(m.selected, r.ID); i >= 0 {
		m.selected = slices.Delete(m.selected, i, i+1)
		delete(m.curves, r.ID)
		m.version++
		m.flash = fmt.Sprintf("%s: curves hidden", r.ID)
		return m, nil
	}
	m.selected = append(m.selected, r.ID)
	m.curves[r.ID] = &trialCurves{}
	m.version++
	m.flash = fmt.Sprintf("%s: curves drawn (%d selected; space again hides them)", r.ID, len(m.selected))
	cmd := m.load(r)
	return m, cmd
}

func (m *SweepModel) move(d int) {
	m.cur = max(0, min(len(m.rows)-1, m.cur+d))
	m.scroll()
}

// scroll keeps the cursor's row on screen.
func (m *SweepModel) scroll() {
	n := m.tableRows()
	if m.cur < m.off {
		m.off = m.cur
	}
	if m.cur >= m.off+n {
		m.off = m.cur - n + 1
	}
	m.off = max(0, min(m.off, len(m.rows)-n))
}
