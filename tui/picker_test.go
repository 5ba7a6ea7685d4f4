package tui

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
)

// pickerRows are four sessions: a finished run, a fork of it, a crashed
// run on an image folder without checkpoints, and a running one.
func pickerRows() []PickerRow {
	day := func(h, m int) time.Time { return time.Date(2026, 1, 2, h, m, 0, 0, time.UTC) }
	return []PickerRow{
		{ID: "20260102-093000-aaaa", Name: "baseline", Created: day(9, 30), Data: "synth", Method: "ccface", Phase: "done",
			Step: 3000, BestLRRank1: 0.462, BestLRSize: 8, State: "finished", Checkpoints: []int64{2000, 3000}},
		{ID: "20260102-101500-bbbb", Name: "margin-0.3", Created: day(10, 15), Data: "synth", Method: "ccface", Phase: "student",
			Step: 2600, BestLRRank1: 0.481, BestLRSize: 8, State: "stopped", Parent: "20260102-093000-aaaa", ParentStep: 2000,
			Checkpoints: []int64{2000, 2500}},
		{ID: "20260102-110000-cccc", Created: day(11, 0), Data: "/data/faces/casia/", Method: "arcface-aug", Phase: "teacher",
			Step: 420, BestLRRank1: -1, State: "crashed", Checkpoints: []int64{}},
		{ID: "20260102-120000-dddd", Name: "a-long-running-session-with-a-very-long-name", Created: day(12, 0), Data: "synth",
			Method: "feature-kd", Phase: "student", Step: 1410, BestLRRank1: 0.3, BestLRSize: 12, State: "running",
			Checkpoints: []int64{1000}},
	}
}

func testPicker(opt PickerOptions) Picker {
	if opt.Root == "" {
		opt.Root = "/home/u/.local/share/ccface/sessions"
	}
	return NewPicker(pickerRows(), opt).(Picker)
}

func pick(t *testing.T, p Picker, msgs ...tea.Msg) Picker {
	t.Helper()
	for _, msg := range msgs {
		next, _ := p.Update(msg)
		p = next.(Picker)
	}
	return p
}

func pickerScreen(t *testing.T, p Picker, w, h int) string {
	t.Helper()
	return ansi.Strip(pick(t, p, tea.WindowSizeMsg{Width: w, Height: h}).View())
}

// TestPickerGolden compares picker screens with testdata/TestPickerGolden.
// Rewrite them with `go test ./tui -run TestPickerGolden -update`.
func TestPickerGolden(t *testing.T) {
	cases := []struct {
		name string
		w, h int
		keys []string
	}{
		{"list_80x24", 80, 24, nil},
		{"marked_80x24", 80, 24, []string{"up", "up", "up", "o", "down", "o"}},
		{"running_refused_80x24", 80, 24, []string{"enter"}},
		{"fork_80x24", 80, 24, []string{"up", "up", "up", "f", "2", "5", "0", "0", "tab", "m", "a", "r", "g", "i", "n", "=", "0", ".", "3"}},
		{"filter_80x24", 80, 24, []string{"/", "c", "c", "f"}},
		{"list_120x24", 120, 24, nil},
		{"list_50x12", 50, 12, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := pick(t, testPicker(PickerOptions{}), keys(c.keys...)...)
			s := pickerScreen(t, p, c.w, c.h)
			checkFits(t, s, c.w, c.h)
			golden.RequireEqual(t, []byte(s))
		})
	}
}

func TestPickerFitsAnySize(t *testing.T) {
	var rows []PickerRow
	for i := range 60 {
		r := pickerRows()[i%4]
		r.ID = fmt.Sprintf("%s-%02d", r.ID, i)
		rows = append(rows, r)
	}
	p := NewPicker(rows, PickerOptions{Root: strings.Repeat("/deep", 30)}).(Picker)
	for _, w := range []int{10, 39, 40, 60, 80, 120, 250} {
		for _, h := range []int{3, 8, 9, 12, 24, 60} {
			t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
				checkFits(t, pickerScreen(t, p, w, h), w, h)
				checkFits(t, pickerScreen(t, pick(t, p, keys("g", "f")...), w, h), w, h)
			})
		}
	}
}

func TestPickerNavigation(t *testing.T) {
	p := testPicker(PickerOptions{})
	p = pick(t, p, tea.WindowSizeMsg{Width: 80, Height: 24})
	sel := func() string { r, _ := p.selected(); return r.ID }
	if sel() != "20260102-120000-dddd" {
		t.Fatalf("cursor starts on %s, want the newest (last) session", sel())
	}
	steps := []struct {
		key  string
		want string
	}{
		{"k", "20260102-110000-cccc"},
		{"up", "20260102-101500-bbbb"},
		{"g", "20260102-093000-aaaa"},
		{"up", "20260102-093000-aaaa"},
		{"j", "20260102-101500-bbbb"},
		{"G", "20260102-120000-dddd"},
		{"down", "20260102-120000-dddd"},
	}
	for _, s := range steps {
		p = pick(t, p, keys(s.key)...)
		if sel() != s.want {
			t.Errorf("after %s: on %s, want %s", s.key, sel(), s.want)
		}
	}
	// The filter keeps the cursor on its session while it still matches.
	p = pick(t, p, keys("up", "up", "/", "s", "y", "n", "t", "h")...)
	if len(p.view) != 3 || sel() != "20260102-101500-bbbb" {
		t.Errorf("filter synth: %d rows, on %s; want 3, on bbbb", len(p.view), sel())
	}
	p = pick(t, p, keys("enter", "/", " ", "f", "e", "a", "t", "u", "r", "e")...)
	if len(p.view) != 1 || sel() != "20260102-120000-dddd" {
		t.Errorf("filter \"synth feature\": %d rows, on %s; want 1, dddd", len(p.view), sel())
	}
	p = pick(t, p, keys("enter", "esc")...)
	if len(p.view) != 4 || p.filter.Value() != "" {
		t.Errorf("esc left %d rows, filter %q", len(p.view), p.filter.Value())
	}
	p = pick(t, p, keys("/", "z", "z", "z", "enter", "enter")...)
	if _, ok := p.Choice(); ok || !strings.Contains(p.msg, "no session matches") {
		t.Errorf("enter on an empty filter: choice made or message %q", p.msg)
	}
}

func TestParseForkInput(t *testing.T) {
	cps := []int64{1000, 2000}
	cases := []struct {
		at, set string
		wantAt  int64
		sets    []string
		err     string
	}{
		{"", "", -1, nil, ""},
		{"latest", "", -1, nil, ""},
		{"1500", "margin=0.3 scale=48", 1500, []string{"margin=0.3", "scale=48"}, ""},
		{"--at 2000", "--set margin=0.3 --set=scale=48", 2000, []string{"margin=0.3", "scale=48"}, ""},
		{"--at=1000", "", 1000, nil, ""},
		{"", "--at 1000 margin=0.3", 1000, []string{"margin=0.3"}, ""},
		{"soon", "", 0, nil, `--at "soon"`},
		{"-5", "", 0, nil, `--at "-5"`},
		{"500", "", 0, nil, "no checkpoint at or before step 500 (checkpoints: 1000 2000)"},
		{"", "margin", 0, nil, `"margin": want`},
		{"", "nosuch=1", 0, nil, `unknown knob "nosuch"`},
		{"", "--at", 0, nil, "--at wants"},
	}
	for _, c := range cases {
		at, sets, err := parseForkInput(c.at, c.set, cps)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("(%q, %q): err %v, want %q", c.at, c.set, err, c.err)
			}
		case err != nil:
			t.Errorf("(%q, %q): %v", c.at, c.set, err)
		case at != c.wantAt || !reflect.DeepEqual(sets, c.sets):
			t.Errorf("(%q, %q) = %d, %q; want %d, %q", c.at, c.set, at, sets, c.wantAt, c.sets)
		}
	}
}

func TestPickerOverlayDefaults(t *testing.T) {
	p := testPicker(PickerOptions{})
	rows := pickerRows()
	if got := p.overlays(rows[0], PickFork); !reflect.DeepEqual(got, []string{rows[0].ID}) {
		t.Errorf("fork overlays %q, want the forked session", got)
	}
	if got := p.overlays(rows[1], PickResume); !reflect.DeepEqual(got, []string{rows[0].ID}) {
		t.Errorf("resumed fork overlays %q, want its parent", got)
	}
	if got := p.overlays(rows[0], PickResume); got != nil {
		t.Errorf("resume overlays %q, want none", got)
	}
	orphan := rows[1]
	orphan.Parent = "gone"
	if got := p.overlays(orphan, PickResume); got != nil {
		t.Errorf("fork of an unlisted parent overlays %q, want none", got)
	}
}

// The flows below run the picker in a tea.Program (teatest).

func startPicker(t *testing.T, opt PickerOptions) *teatest.TestModel {
	t.Helper()
	return teatest.NewTestModel(t, testPicker(opt), teatest.WithInitialTermSize(80, 24))
}

func finalChoice(t *testing.T, tm *teatest.TestModel) (PickerChoice, bool, Picker) {
	t.Helper()
	p := tm.FinalModel(t, teatest.WithFinalTimeout(waitFor)).(Picker)
	c, ok := p.Choice()
	return c, ok, p
}

// Choose a session: a running one is refused, the one above is resumed
// with the sessions marked to overlay.
func TestFlowPickResume(t *testing.T) {
	tm := startPicker(t, PickerOptions{})
	waitOutput(t, tm, "20260102-120000-dddd", "⏎ resume")
	pressKeys(tm, "enter")
	waitOutput(t, tm, "is running elsewhere and cannot be resumed (f forks it)")
	pressKeys(tm, "up", "up", "up", "o", "down", "down", "o")
	waitOutput(t, tm, "◆ 2 to overlay")
	pressKeys(tm, "up", "enter")
	c, ok, _ := finalChoice(t, tm)
	want := PickerChoice{Action: PickResume, ID: "20260102-101500-bbbb", At: -1,
		Overlays: []string{"20260102-093000-aaaa", "20260102-110000-cccc"}}
	if !ok || !reflect.DeepEqual(c, want) {
		t.Errorf("choice %+v, %v; want %+v", c, ok, want)
	}
}

func TestFlowPickCancel(t *testing.T) {
	tm := startPicker(t, PickerOptions{})
	waitOutput(t, tm, "⏎ resume")
	pressKeys(tm, "up", "q")
	if c, ok, _ := finalChoice(t, tm); ok {
		t.Errorf("q chose %+v", c)
	}
}

// Fork: the prompt takes --at and knob settings, refuses a bad knob
// inline, and the final check (CheckFork, run in a Cmd) can refuse too;
// both are fixed in place.
func TestFlowPickFork(t *testing.T) {
	var mu sync.Mutex
	var checked []string
	check := func(id string, at int64, sets []string) error {
		mu.Lock()
		defer mu.Unlock()
		checked = append(checked, fmt.Sprintf("%s@%d %v", id, at, sets))
		if len(sets) > 0 && sets[0] == "margin=9" {
			return errors.New("margin 9 is out of range 0..1")
		}
		return nil
	}
	tm := startPicker(t, PickerOptions{CheckFork: check})
	waitOutput(t, tm, "⏎ resume")
	pressKeys(tm, "up", "f") // the crashed session has no checkpoint
	waitOutput(t, tm, "20260102-110000-cccc has no checkpoint to fork from")
	pressKeys(tm, "up", "f")
	waitOutput(t, tm, "fork 20260102-101500-bbbb · checkpoints 2000 2500", "tab switches field")
	typeText(tm, "2400")
	pressKeys(tm, "tab")
	typeText(tm, "nosuch=1")
	pressKeys(tm, "enter")
	waitOutput(t, tm, `unknown knob "nosuch"`)
	pressKeys(tm, "ctrl+u")
	typeText(tm, "margin=9")
	pressKeys(tm, "enter")
	waitOutput(t, tm, "margin 9 is out of range 0..1")
	pressKeys(tm, "ctrl+u")
	typeText(tm, "margin=0.3 scale=48")
	pressKeys(tm, "enter")
	c, ok, _ := finalChoice(t, tm)
	want := PickerChoice{Action: PickFork, ID: "20260102-101500-bbbb", At: 2400,
		Sets: []string{"margin=0.3", "scale=48"}, Overlays: []string{"20260102-101500-bbbb"}}
	if !ok || !reflect.DeepEqual(c, want) {
		t.Errorf("choice %+v, %v; want %+v", c, ok, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if w := []string{"20260102-101500-bbbb@2400 [margin=9]", "20260102-101500-bbbb@2400 [margin=0.3 scale=48]"}; !reflect.DeepEqual(checked, w) {
		t.Errorf("CheckFork calls %q, want %q", checked, w)
	}
}

// Esc leaves the fork prompt without choosing.
func TestFlowPickForkCancel(t *testing.T) {
	tm := startPicker(t, PickerOptions{})
	waitOutput(t, tm, "⏎ resume")
	pressKeys(tm, "f")
	waitOutput(t, tm, "fork 20260102-120000-dddd")
	typeText(tm, "1000")
	pressKeys(tm, "esc")
	waitOutput(t, tm, "fork cancelled")
	pressKeys(tm, "q")
	if c, ok, _ := finalChoice(t, tm); ok {
		t.Errorf("cancelled fork chose %+v", c)
	}
}

func typeText(tm *teatest.TestModel, s string) {
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)})
}

func TestPickerEmpty(t *testing.T) {
	p := NewPicker(nil, PickerOptions{}).(Picker)
	p = pick(t, p, keys("up", "enter", "f", "o", "/", "x", "enter")...)
	s := pickerScreen(t, p, 80, 24)
	checkFits(t, s, 80, 24)
	if _, ok := p.Choice(); ok || !strings.Contains(s, "no sessions yet") {
		t.Errorf("empty picker chose something or says:\n%s", s)
	}
}
