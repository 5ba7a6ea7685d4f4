package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/ccface/ccface/engine"
)

// Options configures one client's view of a run.
type Options struct {
	// SessionPath is shown in the status bar.
	SessionPath string
	// By names this client ("local", an SSH key fingerprint); it is passed
	// to every Trainer control call and shows in the log as "by X".
	By string
	// ReadOnly refuses knob and control keys with a message; q then only
	// detaches the viewer and never stops the run.
	ReadOnly bool
	// Export, if set, writes figures from the run's events and returns a
	// message like "wrote 9 figures to DIR". It runs in a tea.Cmd over a
	// copy: lifecycle events as received plus point events rebuilt from the
	// UI's compacted series (see store.events), with the view the charts
	// had at the key press, so the figures show what the screen showed.
	// nil: the key says so.
	Export func(events []engine.Event, view ExportView) (string, error)
	// Overlays are other sessions' recorded runs drawn under the live
	// curves (the o key hides them); see Overlay.
	Overlays []Overlay
	// Renderer, if set, styles the screen for one client (wish's
	// bubbletea.MakeRenderer for SSH sessions); nil uses lipgloss's default.
	Renderer *lipgloss.Renderer
	// Detach makes leaving mean leaving, for a client of a shared run (SSH):
	// q and ctrl+c detach this client at once and never stop the run;
	// stopping the run for everyone is its own key, S, and asks y/n first.
	// Without it (the local TUI, which owns its run) q asks to stop the run.
	Detach bool
}

// ExportView is how the charts were drawn when the export key was pressed.
type ExportView struct {
	Smooth    float64 // EMA weight of engine.SmoothSegments; 0 = raw
	ByEpoch   bool    // the x axis is the epoch, not the step
	LastSteps int64   // zoom: only the last LastSteps steps; 0 = all
}

// Notice is a message from outside the run for this client (an SSH server
// shutting down, an idle warning): Update logs it and shows it in the
// footer until the next key. Send it with tea.Program.Send.
type Notice struct {
	Text string
	Err  bool
}

// redrawEvery bounds how often charts are rebuilt while events stream in;
// it is about the engine's flush interval, so a live run redraws each batch
// but a burst (a replayed log, a fast fake) cannot make View the bottleneck.
const redrawEvery = 100 * time.Millisecond

// logCap bounds the event log kept for display.
const logCap = 500

// zoomWindows are the x windows z cycles through, in steps (0 = all).
func zoomWindows() []float64 { return []float64{0, 1000, 200} }

type (
	eventsMsg       []engine.Event
	eventsClosedMsg struct{}
	frameMsg        struct{}
	exportDoneMsg   struct {
		msg string
		err error
	}
)

type logKind int

const (
	logInfo logKind = iota
	logHyper
	logPhase
	logGood
	logErr
	logDim
)

type logLine struct {
	t    time.Time
	kind logKind
	text string
}

type ratePoint struct {
	t    time.Time
	step int64
}

// runInfo is what the status bar shows, folded from events.
type runInfo struct {
	started   bool
	phase     string
	step      int64
	epoch     float64
	total     int64
	imgPerSec float64
	paused    bool
	ended     bool
	failed    bool
	ckptStep  int64
	ckpt      bool
	rate      []ratePoint // recent (time, step) samples for the ETA
}

// chartCache holds the last drawn charts; View is a value method, so the
// cache lives behind a pointer shared by the model's copies.
type chartCache struct {
	key   string
	lines []string
}

// Model is the root tea.Model. Update folds events and keys into it; View
// draws it. Only Update mutates state (the chart cache aside).
type Model struct {
	tr     engine.Trainer
	opt    Options
	keys   keyMap
	st     styles
	events <-chan []engine.Event

	w, h int

	cfg     engine.Config // knob values as last reported by hyper events
	lrPx    int
	knobs   []knobItem
	sel     int
	pending map[string]string // knob → value requested, until its hyper event
	knobErr string            // SetKnob's refusal, shown under the knob
	editing bool
	input   textinput.Model
	// selectAll: the value shown on opening the editor is selected, so the
	// first character typed replaces it instead of appending (as in forms).
	selectAll bool

	data *store
	run  runInfo
	log  []logLine

	opts chartOpts
	zoom int

	showHelp    bool
	confirmQuit bool
	stopping    bool
	wantPaused  bool
	flash       string
	flashErr    bool

	cache       *chartCache
	drawn       uint64 // data version the charts show
	frameAt     time.Time
	tickPending bool
	frameEvery  time.Duration
}

// New returns the root model for one client watching and steering tr.
func New(tr engine.Trainer, opt Options) tea.Model {
	cfg := tr.Config()
	lrPx := 8
	if len(cfg.Eval.LRSizes) > 0 {
		lrPx = slices.Min(cfg.Eval.LRSizes)
	}
	in := textinput.New()
	in.Prompt = "= "
	in.Cursor.SetMode(cursor.CursorStatic) // no blink timers: nothing to redraw when idle
	km := newKeyMap()
	if opt.Detach || opt.ReadOnly {
		km = km.detaching(opt.Detach && !opt.ReadOnly)
	}
	m := Model{
		tr:         tr,
		opt:        opt,
		keys:       km,
		st:         newStyles(opt.Renderer),
		events:     tr.Events(),
		cfg:        cfg,
		lrPx:       lrPx,
		knobs:      panelKnobs(),
		pending:    map[string]string{},
		input:      in,
		data:       newStore(),
		opts:       chartOpts{weight: 0.6},
		cache:      &chartCache{},
		frameEvery: redrawEvery,
	}
	m.initOverlays()
	return m
}

// Init starts reading events.
func (m Model) Init() tea.Cmd { return m.next() }

// next reads one batch of events; Update re-arms it after each batch, so at
// most one read is outstanding and the channel is drained as fast as the UI
// can fold batches, never slower than the engine needs.
func (m Model) next() tea.Cmd {
	ch := m.events
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		b, ok := <-ch
		if !ok {
			return eventsClosedMsg{}
		}
		return eventsMsg(b)
	}
}

// Update handles events, keys and timers. It does no I/O beyond the
// Trainer's control calls, which by contract only validate and queue.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		return m, nil
	case eventsMsg:
		done := m.ingest(msg)
		if done {
			m.drawn = m.data.version // the last frame shows everything
		}
		if done && m.stopping {
			return m, tea.Quit
		}
		// Build the Cmd before the return statement: Go does not order a
		// plain operand (m) against a call that mutates it (m.frame).
		cmd := tea.Batch(m.next(), m.frame())
		return m, cmd
	case eventsClosedMsg:
		m.events = nil
		if !m.run.ended {
			m.run.ended = true
			m.addLog(time.Time{}, logDim, "event stream closed")
		}
		m.pending = map[string]string{}
		if m.stopping {
			return m, tea.Quit
		}
		return m, nil
	case frameMsg:
		m.tickPending = false
		m.drawn, m.frameAt = m.data.version, time.Now()
		return m, nil
	case Notice:
		kind := logInfo
		if msg.Err {
			kind = logErr
		}
		m.addLog(time.Now(), kind, msg.Text)
		m.setFlash(msg.Text, msg.Err)
		return m, nil
	case exportDoneMsg:
		if msg.err != nil {
			m.setFlash("export failed: "+msg.err.Error(), true)
			m.addLog(time.Now(), logErr, "export failed: "+msg.err.Error())
		} else {
			m.setFlash(msg.msg, false)
			m.addLog(time.Now(), logGood, "export: "+msg.msg)
		}
		return m, nil
	case tea.KeyMsg:
		return m.handleKey(msg)
	}
	if m.editing {
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		return m, cmd
	}
	return m, nil
}

// frame lets the charts catch up with the data at most once per frameEvery;
// a later tick catches up with whatever arrived in between.
func (m *Model) frame() tea.Cmd {
	if m.data.version == m.drawn {
		return nil
	}
	now := time.Now()
	if since := now.Sub(m.frameAt); since >= m.frameEvery {
		m.drawn, m.frameAt = m.data.version, now
		return nil
	} else if !m.tickPending {
		m.tickPending = true
		return tea.Tick(m.frameEvery-since, func(time.Time) tea.Msg { return frameMsg{} })
	}
	return nil
}

// ingest folds a batch into the model and reports whether the run ended.
func (m *Model) ingest(batch []engine.Event) (ended bool) {
	for _, e := range batch {
		switch e.Kind {
		case engine.KindPoint:
			m.data.point(e)
			m.run.step, m.run.epoch = e.Step, e.Epoch
			if e.Phase != "" {
				m.run.phase = e.Phase
			}
			if v, ok := e.Values[engine.MImgPerSec]; ok {
				m.run.imgPerSec = v
			}
			if !e.Time.IsZero() {
				m.run.rate = append(m.run.rate, ratePoint{e.Time, e.Step})
				if len(m.run.rate) > 32 {
					m.run.rate = append(m.run.rate[:0], m.run.rate[len(m.run.rate)-32:]...)
				}
			}
			continue // points are not lifecycle events
		case engine.KindStart:
			m.run.started = true
			m.run.step, m.run.epoch = e.Step, e.Epoch
			if v, ok := e.Values[engine.MTotalSteps]; ok {
				m.run.total = int64(v)
			}
			if e.Phase != "" {
				m.run.phase = e.Phase
			}
			verb := "started"
			if e.Step > 0 {
				verb = "resumed"
			}
			m.addLog(e.Time, logInfo, fmt.Sprintf("run %s @step %d of %d", verb, e.Step, m.run.total))
		case engine.KindPhase:
			m.run.phase = e.Phase
			m.run.rate = nil // a new phase runs at its own speed
			m.data.enterPhase(e.Phase)
			m.data.mark(e, true)
			m.addLog(e.Time, logPhase, fmt.Sprintf("phase %s @step %d", e.Phase, e.Step))
		case engine.KindHyper:
			if k, err := engine.FindKnob(e.Knob); err == nil {
				_ = k.Set(&m.cfg, e.New) // the engine applied it; a parse failure only stales the panel
				if p, ok := m.pending[e.Knob]; ok && k.Same(p, e.New) {
					delete(m.pending, e.Knob)
				}
			}
			m.data.mark(e, false)
			m.addLog(e.Time, logHyper, fmt.Sprintf("%s %s→%s @step %d%s", e.Knob, e.Old, e.New, e.Step, byWho(e.By)))
		case engine.KindEval:
			m.data.eval(e)
			m.addLog(e.Time, logGood, m.evalSummary(e))
		case engine.KindCheckpoint:
			m.run.ckpt, m.run.ckptStep = true, e.Step
			m.addLog(e.Time, logGood, fmt.Sprintf("checkpoint @step %d → %s", e.Step, e.Path))
		case engine.KindState:
			m.run.paused = e.Message == "paused"
			m.wantPaused = m.run.paused
			m.run.rate = nil // the pause would drag the rate down
			m.addLog(e.Time, logDim, fmt.Sprintf("%s @step %d%s", e.Message, e.Step, byWho(e.By)))
		case engine.KindLog:
			m.addLog(e.Time, logDim, e.Message)
		case engine.KindFailed:
			m.run.ended, m.run.failed = true, true
			m.addLog(e.Time, logErr, fmt.Sprintf("FAILED @step %d: %s", e.Step, e.Message))
		case engine.KindDone:
			m.run.ended = true
			m.addLog(e.Time, logGood, fmt.Sprintf("done @step %d: %s", e.Step, e.Message))
		default:
			m.addLog(e.Time, logDim, fmt.Sprintf("%s event @step %d %s", e.Kind, e.Step, e.Message))
		}
		m.data.keep(e)
	}
	if m.run.ended {
		m.pending = map[string]string{} // nothing will apply them now
	}
	return m.run.ended
}

func byWho(by string) string {
	if by == "" {
		return ""
	}
	return " by " + by
}

// evalSummary is the log line of an eval: verification accuracy per view.
func (m *Model) evalSummary(e engine.Event) string {
	views := []string{"hr"}
	for _, px := range m.cfg.Eval.LRSizes {
		views = append(views, engine.LRView(px))
	}
	for _, px := range m.cfg.Eval.LRSizes {
		views = append(views, engine.HRLRView(px))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "eval @step %d verif:", e.Step)
	n := 0
	for _, v := range views {
		if x, ok := e.Values[engine.EvalKey(v, engine.EVerifAcc)]; ok {
			fmt.Fprintf(&b, " %s %s", v, fmtVal(x))
			n++
		}
	}
	if n == 0 {
		fmt.Fprintf(&b, " (%d values)", len(e.Values))
	}
	return b.String()
}

func (m *Model) addLog(t time.Time, kind logKind, text string) {
	m.log = append(m.log, logLine{t, kind, text})
	if len(m.log) > logCap {
		m.log = append(m.log[:0], m.log[len(m.log)-logCap:]...)
	}
}

func (m *Model) setFlash(s string, isErr bool) { m.flash, m.flashErr = s, isErr }

// handleKey dispatches a key press by mode: help overlay, quit prompt,
// value editor, then the normal key map.
func (m Model) handleKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	if k.String() == "ctrl+c" {
		if m.opt.ReadOnly || m.opt.Detach || m.run.ended || m.stopping {
			return m, tea.Quit
		}
		return m.stop()
	}
	if m.showHelp {
		m.showHelp = false
		return m, nil
	}
	if m.confirmQuit {
		m.confirmQuit = false
		switch k.String() {
		case "y", "Y": // not enter: stopping a run must be a deliberate key
			return m.stop()
		case "q":
			if !m.opt.Detach { // q q stops the local run; a shared one needs y
				return m.stop()
			}
		}
		m.setFlash("", false)
		return m, nil
	}
	if m.editing {
		return m.editKey(k)
	}
	m.setFlash("", false)
	km := m.keys
	switch {
	case key.Matches(k, km.Help):
		m.showHelp = true
	case key.Matches(k, km.Quit):
		switch {
		case m.opt.ReadOnly || m.opt.Detach || m.run.ended:
			return m, tea.Quit
		case m.stopping:
			m.setFlash("stopping: waiting for the engine (ctrl+c quits at once)", false)
		default:
			m.confirmQuit = true
		}
	case m.opt.ReadOnly && k.String() == "S": // km.Stop is disabled for viewers: refuse it aloud
		m.readOnly()
	case key.Matches(k, km.Stop): // enabled only with Detach
		switch {
		case m.readOnly():
		case m.run.ended:
			m.setFlash("the run has ended: nothing to stop", true)
		case m.stopping:
			m.setFlash("stopping: waiting for the engine (q detaches)", false)
		default:
			m.confirmQuit = true
		}
	case key.Matches(k, km.Up):
		m.move(-1)
	case key.Matches(k, km.Down):
		m.move(1)
	case key.Matches(k, km.NextGroup):
		m.jumpGroup(1)
	case key.Matches(k, km.PrevGroup):
		m.jumpGroup(-1)
	case key.Matches(k, km.Dec):
		m.stepKnob(-1)
	case key.Matches(k, km.Inc):
		m.stepKnob(1)
	case key.Matches(k, km.Type):
		return m.startEdit()
	case key.Matches(k, km.Pause):
		m.control("pause", func() error {
			if m.wantPaused {
				return m.tr.Resume(m.opt.By)
			}
			return m.tr.Pause(m.opt.By)
		}, func() {
			m.wantPaused = !m.wantPaused
			if m.wantPaused {
				m.setFlash("pause requested", false)
			} else {
				m.setFlash("resume requested", false)
			}
		})
	case key.Matches(k, km.Checkpoint):
		m.control("checkpoint", func() error { return m.tr.Checkpoint(m.opt.By) },
			func() { m.setFlash("checkpoint requested", false) })
	case key.Matches(k, km.Eval):
		m.control("evaluate", func() error { return m.tr.Eval(m.opt.By) },
			func() { m.setFlash("evaluation requested", false) })
	case key.Matches(k, km.Export):
		return m.export()
	case key.Matches(k, km.Smooth):
		m.opts.smooth = !m.opts.smooth
	case key.Matches(k, km.SmoothDec):
		m.opts.smooth, m.opts.weight = true, clampF(m.opts.weight-0.05, 0, 0.99)
	case key.Matches(k, km.SmoothInc):
		m.opts.smooth, m.opts.weight = true, clampF(m.opts.weight+0.05, 0, 0.99)
	case key.Matches(k, km.XAxis):
		m.opts.byEpoch = !m.opts.byEpoch
	case key.Matches(k, km.Overlay):
		m.toggleOverlays()
	case key.Matches(k, km.Zoom):
		z := zoomWindows()
		m.zoom = (m.zoom + 1) % len(z)
		m.opts.window = z[m.zoom]
	case k.String() == "esc":
		m.knobErr = ""
	}
	return m, nil
}

// readOnly refuses a steering key for viewers; it reports whether it did.
func (m *Model) readOnly() bool {
	if m.opt.ReadOnly {
		m.setFlash("read-only viewer: knobs and controls are disabled (q detaches)", true)
	}
	return m.opt.ReadOnly
}

// control runs a Trainer control call and reports its refusal in the footer.
func (m *Model) control(what string, call func() error, ok func()) {
	if m.readOnly() {
		return
	}
	if m.run.ended {
		m.setFlash("the run has ended: nothing to "+what, true)
		return
	}
	if err := call(); err != nil {
		m.setFlash(what+": "+err.Error(), true)
		return
	}
	ok()
}

// stop asks the engine to stop and waits for its done event to quit.
func (m Model) stop() (tea.Model, tea.Cmd) {
	if m.run.ended {
		return m, tea.Quit
	}
	m.tr.Stop(m.opt.By)
	m.stopping = true
	m.addLog(time.Now(), logDim, "stop requested"+byWho(m.opt.By)+": waiting for the engine to finish its step")
	return m, nil
}

func (m Model) export() (tea.Model, tea.Cmd) {
	if m.readOnly() {
		return m, nil
	}
	if m.opt.Export == nil {
		m.setFlash("export not available", true)
		return m, nil
	}
	snap, exp := m.data.snapshot(), m.opt.Export
	view := ExportView{ByEpoch: m.opts.byEpoch, LastSteps: int64(m.opts.window)}
	if m.opts.smooth {
		view.Smooth = m.opts.weight
	}
	m.setFlash("exporting…", false)
	return m, func() tea.Msg {
		msg, err := exp(snap.events(), view)
		return exportDoneMsg{msg, err}
	}
}

func (m *Model) move(d int) {
	if len(m.knobs) == 0 {
		return
	}
	m.sel = (m.sel + d + len(m.knobs)) % len(m.knobs)
	m.knobErr = ""
}

// jumpGroup moves to the first knob of the next (d=1) or previous group.
func (m *Model) jumpGroup(d int) {
	if len(m.knobs) == 0 {
		return
	}
	g := m.knobs[m.sel].group
	i := m.sel
	for range m.knobs {
		i = (i + d + len(m.knobs)) % len(m.knobs)
		if m.knobs[i].group != g {
			break
		}
	}
	for i > 0 && m.knobs[i-1].group == m.knobs[i].group { // to its first knob
		i--
	}
	m.sel = i
	m.knobErr = ""
}

func (m *Model) selected() (engine.Knob, bool) {
	if m.sel < 0 || m.sel >= len(m.knobs) {
		return engine.Knob{}, false
	}
	return m.knobs[m.sel].knob, true
}

// current is the value further steps start from: the pending request if
// any, else the value in effect.
func (m *Model) current(k engine.Knob) string {
	if p, ok := m.pending[k.Name]; ok {
		return p
	}
	return k.Get(&m.cfg)
}

func (m *Model) stepKnob(dir int) {
	k, ok := m.selected()
	if !ok || m.readOnly() {
		return
	}
	next, ok := k.Next(m.current(k), dir)
	if !ok {
		m.setFlash(fmt.Sprintf("%s stays %s (range %s)", k.Name, m.current(k), k.Range()), false)
		return
	}
	m.request(k, next)
}

// request sends a knob change; a refusal stays under the knob until the
// next key that changes the selection or the value.
func (m *Model) request(k engine.Knob, value string) bool {
	if m.run.ended {
		m.knobErr = "the run has ended: knobs can no longer change"
		return false
	}
	if err := m.tr.SetKnob(k.Name, value, m.opt.By); err != nil {
		m.knobErr = err.Error()
		return false
	}
	m.knobErr = ""
	if k.Same(value, k.Get(&m.cfg)) {
		delete(m.pending, k.Name) // back to the value in effect: nothing to wait for
	} else {
		m.pending[k.Name] = value
	}
	return true
}

func (m Model) startEdit() (tea.Model, tea.Cmd) {
	k, ok := m.selected()
	if !ok || m.readOnly() {
		return m, nil
	}
	m.editing = true
	m.knobErr = ""
	m.input.SetValue(m.current(k))
	m.input.CursorEnd()
	m.selectAll = true
	cmd := m.input.Focus() // before the return: Focus mutates m.input
	return m, cmd
}

func (m Model) editKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	if m.selectAll {
		m.selectAll = false
		switch {
		case k.Type == tea.KeyRunes || k.Type == tea.KeySpace:
			m.input.SetValue("") // typing replaces the selected value
		case k.Type == tea.KeyBackspace || k.Type == tea.KeyDelete:
			m.input.SetValue("")
			return m, nil
		}
	}
	switch k.String() {
	case "esc":
		m.editing, m.knobErr = false, ""
		m.input.Blur()
		return m, nil
	case "enter":
		kn, _ := m.selected()
		v := strings.TrimSpace(m.input.Value())
		if v == "" {
			m.editing = false
			m.input.Blur()
			return m, nil
		}
		if m.request(kn, v) {
			m.editing = false
			m.input.Blur()
		}
		return m, nil
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(k)
	return m, cmd
}

func clampF(v, lo, hi float64) float64 { return max(lo, min(hi, v)) }
