package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/ccface/ccface/engine"
)

// testModel builds a model on f with charts redrawn on every batch (no frame
// timer: tests drive Update directly and must see every batch drawn).
func testModel(f *fakeTrainer, opt Options) Model {
	m := New(f, opt).(Model)
	m.frameEvery = 0
	return m
}

// send runs msgs through Update in order and returns the model.
func send(t *testing.T, m Model, msgs ...tea.Msg) Model {
	t.Helper()
	for _, msg := range msgs {
		next, _ := m.Update(msg)
		m = next.(Model)
	}
	return m
}

func keys(s ...string) []tea.Msg {
	var out []tea.Msg
	for _, k := range s {
		switch k {
		case "up":
			out = append(out, tea.KeyMsg{Type: tea.KeyUp})
		case "down":
			out = append(out, tea.KeyMsg{Type: tea.KeyDown})
		case "left":
			out = append(out, tea.KeyMsg{Type: tea.KeyLeft})
		case "right":
			out = append(out, tea.KeyMsg{Type: tea.KeyRight})
		case "tab":
			out = append(out, tea.KeyMsg{Type: tea.KeyTab})
		case "shift+tab":
			out = append(out, tea.KeyMsg{Type: tea.KeyShiftTab})
		case "enter":
			out = append(out, tea.KeyMsg{Type: tea.KeyEnter})
		case "esc":
			out = append(out, tea.KeyMsg{Type: tea.KeyEsc})
		case "ctrl+u":
			out = append(out, tea.KeyMsg{Type: tea.KeyCtrlU})
		case "end":
			out = append(out, tea.KeyMsg{Type: tea.KeyEnd})
		case "backspace":
			out = append(out, tea.KeyMsg{Type: tea.KeyBackspace})
		default:
			out = append(out, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
		}
	}
	return out
}

// screen renders m at w×h with ANSI stripped, as golden files store it.
func screen(t *testing.T, m Model, w, h int) string {
	t.Helper()
	m = send(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	return ansi.Strip(m.View())
}

// checkFits fails unless s is exactly h lines of at most w cells.
func checkFits(t *testing.T, s string, w, h int) {
	t.Helper()
	lines := strings.Split(s, "\n")
	if len(lines) != h {
		t.Errorf("%d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Errorf("line %d is %d cells wide, want ≤ %d: %q", i, n, w, l)
		}
	}
}

// TestGolden compares whole screens with testdata/TestGolden/*.golden.
// Rewrite them with `go test ./tui -run TestGolden -update` and review the diff.
func TestGolden(t *testing.T) {
	opt := Options{SessionPath: "sessions/2026-01-02-default-1", By: "test"}
	midRun := func() Model {
		f := newFake()
		m := testModel(f, opt)
		m = send(t, m, eventsMsg(synthRun(3000, 2000)))
		// A pending change: first aug knob (p_lr) one step up, not yet applied.
		return send(t, m, keys("tab", "right")...)
	}
	cases := []struct {
		name string
		w, h int
		m    func() Model
	}{
		{"run_80x24", 80, 24, midRun},
		{"run_120x40", 120, 40, midRun},
		{"waiting_80x24", 80, 24, func() Model { return testModel(newFake(), opt) }},
		{"help_80x24", 80, 24, func() Model { return send(t, midRun(), keys("?")...) }},
		{"refused_80x24", 80, 24, func() Model {
			// margin (second knob), type 2: refused with SetKnob's reason.
			return send(t, midRun(), keys("shift+tab", "down", "enter", "ctrl+u", "2", "enter")...)
		}},
		{"epoch_zoom_smooth_120x40", 120, 40, func() Model { return send(t, midRun(), keys("t", "z", "s")...) }},
		{"small_50x12", 50, 12, midRun},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := screen(t, c.m(), c.w, c.h)
			checkFits(t, s, c.w, c.h)
			golden.RequireEqual(t, []byte(s))
		})
	}
}

// TestViewFitsAnySize resizes a mid-run model through many sizes: every
// frame must fill the terminal exactly, never wrap or scroll it.
func TestViewFitsAnySize(t *testing.T) {
	m := testModel(newFake(), Options{SessionPath: strings.Repeat("/very/long/session/path", 5)})
	m = send(t, m, eventsMsg(synthRun(3000, 2000)))
	for _, w := range []int{20, 59, 60, 61, 80, 97, 120, 200} {
		for _, h := range []int{5, 13, 14, 15, 24, 31, 40, 60} {
			t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
				checkFits(t, screen(t, m, w, h), w, h)
				checkFits(t, screen(t, send(t, m, keys("?")...), w, h), w, h)
			})
		}
	}
}

func TestMarkersOnEveryChart(t *testing.T) {
	m := testModel(newFake(), Options{})
	m = send(t, m, eventsMsg(synthRun(3000, 2000)))
	s := screen(t, m, 120, 40)
	// The margin change at step 600 is a dotted column on all four charts;
	// the student phase at 1500 a dashed one.
	if n := chartColumnLines(s, markKnob); n < 4*4 {
		t.Errorf("knob marker on %d chart lines, want ≥ 16:\n%s", n, s)
	}
	if n := chartColumnLines(s, markPhase); n < 4*4 {
		t.Errorf("phase marker on %d chart lines, want ≥ 16:\n%s", n, s)
	}
	if got := len(m.data.markers); got != 3 {
		t.Errorf("%d markers stored, want 3 (teacher start, margin change, student start)", got)
	}
}

func TestLogLines(t *testing.T) {
	m := testModel(newFake(), Options{})
	m = send(t, m, eventsMsg(synthRun(3000, 700)))
	var got []string
	for _, l := range m.log {
		got = append(got, l.text)
	}
	want := []string{
		"run started @step 0 of 3000",
		"phase teacher @step 0",
		"data: synth, 300 train ids, 100 eval ids",
		"margin 0.4→0.3 @step 600 by alice",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	m = send(t, m, eventsMsg{
		evalAt(800),
		{Kind: engine.KindCheckpoint, Step: 1000, Path: "ck.bin"},
		{Kind: engine.KindFailed, Step: 1001, Message: "loss is NaN"},
	})
	tail := []string{"eval @step 800 verif: hr 0.815 lr8 0.615 hrlr8 0.715", "checkpoint @step 1000 → ck.bin", "FAILED @step 1001: loss is NaN"}
	for i, w := range tail {
		if g := m.log[len(m.log)-3+i].text; g != w {
			t.Errorf("log line %q, want %q", g, w)
		}
	}
	if !m.run.failed || !m.run.ended {
		t.Errorf("failed event did not end the run: %+v", m.run)
	}
}
