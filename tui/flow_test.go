package tui

import (
	"errors"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/ccface/ccface/engine"
)

// These flows run the model in a real tea.Program (teatest: no terminal,
// no stdin) against the fake engine, and wait on the rendered output.

const waitFor = 10 * time.Second // generous for -race on a loaded CI box

func startFlow(t *testing.T, f *fakeTrainer, opt Options) *teatest.TestModel {
	t.Helper()
	tm := teatest.NewTestModel(t, New(f, opt), teatest.WithInitialTermSize(120, 40))
	t.Cleanup(func() { f.finish(0, "test over") })
	return tm
}

func waitOutput(t *testing.T, tm *teatest.TestModel, want ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		s := ansi.Strip(string(b))
		for _, w := range want {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(waitFor), teatest.WithCheckInterval(10*time.Millisecond))
}

func waitCall(t *testing.T, f *fakeTrainer, call string) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !f.Called(call) {
		if time.Now().After(deadline) {
			t.Fatalf("no call %q; calls: %q", call, f.Calls())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func pressKeys(tm *teatest.TestModel, ks ...string) {
	for _, k := range keys(ks...) {
		tm.Send(k)
	}
}

func finalScreen(t *testing.T, tm *teatest.TestModel) string {
	t.Helper()
	m := tm.FinalModel(t, teatest.WithFinalTimeout(waitFor))
	return ansi.Strip(m.View())
}

// Edit a knob: pending after the key, applied when the engine's hyper event
// arrives, then marked on every chart and logged.
func TestFlowEditKnob(t *testing.T) {
	f := newFake()
	tm := startFlow(t, f, Options{By: "test"})
	f.Emit(synthRun(3000, 1000)[:0]...) // an empty batch must be harmless
	f.Emit(synthRun(3000, 1000)...)
	waitOutput(t, tm, "step 1000/3000")

	pressKeys(tm, "down", "right") // head → margin; 0.3 + 0.05
	waitCall(t, f, "SetKnob margin=0.35 by test")
	waitOutput(t, tm, "→0.35", "pending 0.3 → 0.35")

	var more []engine.Event
	for s := int64(1010); s <= 1200; s += 10 {
		if s == 1010 {
			more = append(more, hyper(s, "margin", "0.3", "0.35", "test"))
		}
		more = append(more, synthPoint(s, 0.35, false))
	}
	f.Emit(more...)
	waitOutput(t, tm, "margin 0.3→0.35 @step 1010 by test", "step 1200/3000")

	f.finish(1200, "finished")
	waitOutput(t, tm, "■ ended")
	pressKeys(tm, "q") // the run has ended: quits at once
	s := finalScreen(t, tm)
	if strings.Contains(s, "pending") || !strings.Contains(s, "▸ margin       0.35 ") {
		t.Errorf("margin not shown as applied:\n%s", s)
	}
	// Two knob changes (step 600 and 1010) on four charts.
	if n := chartColumnLines(s, markKnob); n < 4*4 {
		t.Errorf("knob markers on %d chart lines, want ≥ 16:\n%s", n, s)
	}
	if got := len(tm.FinalModel(t).(Model).data.markers); got != 3 {
		t.Errorf("%d markers stored, want 3 (teacher phase, 2 knob changes)", got)
	}
}

// An invalid typed value is refused inline with SetKnob's reason and
// nothing becomes pending.
func TestFlowInvalidValue(t *testing.T) {
	f := newFake()
	tm := startFlow(t, f, Options{By: "test"})
	f.Emit(synthRun(3000, 300)...)
	waitOutput(t, tm, "step 300/3000")

	pressKeys(tm, "down", "enter", "ctrl+u")
	tm.Type("2")
	pressKeys(tm, "enter")
	waitCall(t, f, "SetKnob margin=2 by test: refused")
	waitOutput(t, tm, "margin=2: out of range, must be in")

	pressKeys(tm, "ctrl+u")
	tm.Type("1.2")
	pressKeys(tm, "enter")
	waitCall(t, f, "SetKnob margin=1.2 by test")
	waitOutput(t, tm, "→1.2")

	f.finish(300, "finished")
	waitOutput(t, tm, "■ ended")
	pressKeys(tm, "q")
	if s := finalScreen(t, tm); strings.Contains(s, "out of range") {
		t.Errorf("refusal still shown after a valid value:\n%s", s)
	}
}

func TestFlowPauseResume(t *testing.T) {
	f := newFake()
	tm := startFlow(t, f, Options{By: "test"})
	f.Emit(synthRun(3000, 300)...)
	waitOutput(t, tm, "▶ running")

	pressKeys(tm, "p")
	waitCall(t, f, "Pause test")
	f.Emit(engine.Event{Kind: engine.KindState, Step: 301, Time: at(301), Message: "paused", By: "test"})
	waitOutput(t, tm, "‖ paused", "paused @step 301 by test")

	pressKeys(tm, "p")
	waitCall(t, f, "Resume test")
	f.Emit(engine.Event{Kind: engine.KindState, Step: 301, Time: at(301), Message: "running", By: "test"})
	waitOutput(t, tm, "▶ running", "running @step 301 by test")

	pressKeys(tm, "c", "e")
	waitCall(t, f, "Checkpoint test")
	waitCall(t, f, "Eval test")

	f.finish(301, "finished")
	waitOutput(t, tm, "■ ended")
	pressKeys(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(waitFor))
}

// Quit asks first, then stops the engine, then ends once the engine's done
// event arrives (not before).
func TestFlowQuit(t *testing.T) {
	f := newFake()
	tm := startFlow(t, f, Options{By: "test"})
	f.Emit(synthRun(3000, 300)...)
	waitOutput(t, tm, "step 300/3000")

	pressKeys(tm, "q")
	waitOutput(t, tm, "Stop the run and quit? y/n")
	if f.Called("Stop test") {
		t.Fatal("Stop called before the user confirmed")
	}
	pressKeys(tm, "n") // declined: keeps running
	// Wait for the footer to change back: frames are coalesced, so a prompt
	// closed and reopened within one frame would never reach the output.
	waitOutput(t, tm, "? help  q quit")
	pressKeys(tm, "q")
	waitOutput(t, tm, "Stop the run and quit? y/n")
	pressKeys(tm, "y")
	waitCall(t, f, "Stop test")
	waitOutput(t, tm, "… stopping")

	// Still running until the engine reports done.
	f.Emit(synthPoint(310, 0.3, false))
	waitOutput(t, tm, "step 310/3000")
	f.finish(310, "stopped by test")
	tm.WaitFinished(t, teatest.WithFinalTimeout(waitFor))
	if n := strings.Count(strings.Join(f.Calls(), "\n"), "Stop test"); n != 1 {
		t.Errorf("Stop called %d times, want 1", n)
	}
}

// Export runs in a Cmd over a copy and reports its message.
func TestFlowExport(t *testing.T) {
	f := newFake()
	var got []engine.Event
	done := make(chan struct{})
	tm := startFlow(t, f, Options{By: "test", Export: func(evs []engine.Event) (string, error) {
		got = evs
		close(done)
		return "wrote 9 figures to DIR", nil
	}})
	f.Emit(synthRun(3000, 900)...)
	waitOutput(t, tm, "step 900/3000")
	pressKeys(tm, "x")
	waitOutput(t, tm, "wrote 9 figures to DIR")
	<-done
	var points, hypers int
	for _, e := range got {
		switch e.Kind {
		case engine.KindPoint:
			points++
		case engine.KindHyper:
			hypers++
		}
	}
	if points != 90 || hypers != 1 {
		t.Errorf("export got %d points and %d hyper events, want 90 and 1", points, hypers)
	}
	f.finish(900, "finished")
	waitOutput(t, tm, "■ ended")
	pressKeys(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(waitFor))
}

// Unit-level checks of the key handling that need no program.

func TestReadOnlyRefusesControls(t *testing.T) {
	f := newFake()
	m := testModel(f, Options{By: "viewer", ReadOnly: true})
	m = send(t, m, tea.WindowSizeMsg{Width: 80, Height: 24}, eventsMsg(synthRun(3000, 100)))
	for _, k := range []string{"right", "left", "enter", "p", "c", "e", "x"} {
		m = send(t, m, keys(k)...)
		if !strings.Contains(m.flash, "read-only") {
			t.Errorf("key %s: flash %q, want a read-only refusal", k, m.flash)
		}
	}
	if calls := f.Calls(); len(calls) != 0 {
		t.Errorf("read-only viewer made calls: %q", calls)
	}
	_, cmd := m.Update(keys("q")[0])
	if cmd == nil || cmd() != tea.Quit() {
		t.Errorf("q in a read-only viewer should detach at once")
	}
	if len(f.Calls()) != 0 {
		t.Errorf("detaching stopped the run: %q", f.Calls())
	}
}

func TestExportNotAvailable(t *testing.T) {
	m := testModel(newFake(), Options{})
	m = send(t, m, keys("x")...)
	if m.flash != "export not available" {
		t.Errorf("flash %q", m.flash)
	}
	m = send(t, m, exportDoneMsg{err: errors.New("disk full")})
	if !strings.Contains(m.flash, "disk full") || !m.flashErr {
		t.Errorf("export error not shown: %q", m.flash)
	}
}

// The reader re-arms after each batch and stops after the channel closes.
func TestEventReadLoop(t *testing.T) {
	f := newFake()
	m := testModel(f, Options{})
	f.Emit(synthPoint(10, 0.4, false))
	msg := m.Init()()
	if _, ok := msg.(eventsMsg); !ok {
		t.Fatalf("Init's Cmd returned %T, want eventsMsg", msg)
	}
	next, cmd := m.Update(msg)
	m = next.(Model)
	if cmd == nil {
		t.Fatal("no read re-armed after a batch")
	}
	f.finish(10, "done")
	next, cmd = m.Update(cmd()) // the done batch
	m = next.(Model)
	if !m.run.ended || cmd == nil {
		t.Fatalf("done not folded (ended=%v) or read not re-armed", m.run.ended)
	}
	msg = cmd()
	if _, ok := msg.(eventsClosedMsg); !ok {
		t.Fatalf("read after close returned %T, want eventsClosedMsg", msg)
	}
	next, cmd = m.Update(msg)
	if cmd != nil || next.(Model).events != nil {
		t.Errorf("reader re-armed after the channel closed")
	}
}

// Typing a value replaces the one shown (select-all on open): typing "5"
// must ask for 5, never "0.35" (appended to 0.3) or "0.35" with the cursor
// at the end. Backspace clears the selection; arrows keep and edit it.
func TestFlowTypedValueReplaces(t *testing.T) {
	f := newFake()
	tm := startFlow(t, f, Options{By: "test"})
	f.Emit(synthRun(3000, 300)...)
	waitOutput(t, tm, "step 300/3000")

	pressKeys(tm, "down", "enter") // margin, shown as 0.3
	tm.Type("0.4")
	pressKeys(tm, "enter")
	waitCall(t, f, "SetKnob margin=0.4 by test")

	pressKeys(tm, "enter", "backspace")
	tm.Type("0.5")
	pressKeys(tm, "enter")
	waitCall(t, f, "SetKnob margin=0.5 by test")

	pressKeys(tm, "enter", "end", "backspace") // edit the shown value: 0.3 → 0.
	tm.Type("2")
	pressKeys(tm, "enter")
	waitCall(t, f, "SetKnob margin=0.2 by test")

	f.finish(300, "finished")
	waitOutput(t, tm, "■ ended")
	pressKeys(tm, "q")
	finalScreen(t, tm)
	for _, c := range f.Calls() {
		if strings.Contains(c, "0.30.4") || strings.Contains(c, "0.34") {
			t.Errorf("typed value appended to the old one: %q", c)
		}
	}
}
