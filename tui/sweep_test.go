package tui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/ccface/ccface/engine"
)

// sweepRows are n trials of a sweep over three knobs and a seed, in every
// state; trial 3 is the best.
func sweepRows(n int) []SweepRow {
	states := []string{SweepFinished, SweepRunning, SweepQueued, SweepFinished, SweepFailed, SweepInterrupted}
	rows := make([]SweepRow, n)
	for i := range rows {
		r := SweepRow{Index: i, ID: fmt.Sprintf("t%04d", i), State: states[i%len(states)], BestLR: -1,
			Settings: []SweepSetting{{"method", []string{"ccface-noadapt", "proxyless"}[i%2]}, {"margin", "0.3"},
				{"aug.r_min", "0.25"}, {"seed", fmt.Sprint(i % 3)}}}
		if r.State != SweepQueued {
			r.Phase, r.Step, r.Total = engine.PhaseStudent, 100*int64(i+1), 3000
			r.BestLR, r.BestLRPx = 0.3+0.01*float64(i%5), 8
		}
		if i == 3 {
			r.BestLR = 0.9
		}
		rows[i] = r
	}
	return rows
}

// sweepModel is a polled sweep view at w×h with the given trials selected
// and their curves (synthRun, 2000 steps) loaded, driven through Update
// without a program: the Cmds a test needs are run by hand.
func sweepModel(t *testing.T, rows []SweepRow, w, h int, selected ...int) SweepModel {
	t.Helper()
	m := NewSweep(SweepOptions{Name: "margins", Dir: "/scratch/sweeps/margins",
		Events: func(id string) ([]engine.Event, error) { return synthRun(3000, 2000), nil }}).(SweepModel)
	m = sweepSend(t, m, tea.WindowSizeMsg{Width: w, Height: h},
		sweepPolledMsg{rows: rows, at: time.Date(2026, 1, 2, 9, 30, 0, 0, time.UTC)})
	for _, i := range selected {
		m = sweepSend(t, m, keys("g")...)
		for range i {
			m = sweepSend(t, m, keys("j")...)
		}
		next, cmd := m.Update(tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
		m = next.(SweepModel)
		if cmd == nil {
			t.Fatalf("selecting trial %d asked for no load", i)
		}
		m = sweepSend(t, m, cmd())
	}
	return m
}

func sweepSend(t *testing.T, m SweepModel, msgs ...tea.Msg) SweepModel {
	t.Helper()
	for _, msg := range msgs {
		next, _ := m.Update(msg)
		m = next.(SweepModel)
	}
	return m
}

// TestSweepGolden: many knobs on a narrow screen fold into one SETTINGS
// column; the help screen lists the sweep's keys.
func TestSweepGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		w, h int
		keys []string
	}{
		{"narrow_60x16", 60, 16, nil},
		{"help_80x24", 80, 24, []string{"?"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := sweepSend(t, sweepModel(t, sweepRows(9), c.w, c.h, 1, 3), keys(c.keys...)...)
			s := ansi.Strip(m.View())
			checkFits(t, s, c.w, c.h)
			golden.RequireEqual(t, []byte(s))
		})
	}
}

func TestSweepViewFitsAnySize(t *testing.T) {
	for _, n := range []int{0, 1, 9, 40} {
		m := sweepModel(t, sweepRows(n), 80, 24)
		if n > 2 {
			m = sweepModel(t, sweepRows(n), 80, 24, 0, 2)
		}
		for _, w := range []int{20, 59, 60, 80, 120, 200} {
			for _, h := range []int{5, 13, 14, 15, 24, 40, 60} {
				t.Run(fmt.Sprintf("%d_%dx%d", n, w, h), func(t *testing.T) {
					m := sweepSend(t, m, tea.WindowSizeMsg{Width: w, Height: h})
					checkFits(t, ansi.Strip(m.View()), w, h)
					checkFits(t, ansi.Strip(sweepSend(t, m, keys("?")...).View()), w, h)
				})
			}
		}
	}
}

// A poll reads again only the selected trials whose row moved on; the
// others cost nothing.
func TestSweepPollReloadsOnlyMovedTrials(t *testing.T) {
	rows := sweepRows(6)
	m := sweepModel(t, rows, 120, 40, 0, 1)
	moved := append([]SweepRow(nil), rows...)
	moved[1].Step += 10 // the running trial trained on; trial 0 did not
	m = sweepSend(t, m, sweepPolledMsg{rows: moved})
	if m.curves["t0000"].loading || !m.curves["t0001"].loading {
		t.Errorf("loading t0000 %v, t0001 %v: want only the trial that moved read again",
			m.curves["t0000"].loading, m.curves["t0001"].loading)
	}
	if m.curves["t0002"] != nil {
		t.Error("an unselected trial has curves")
	}
}

// A failed poll keeps the last table and says so; the next one clears it.
func TestSweepPollErrorKeepsTheTable(t *testing.T) {
	m := sweepModel(t, sweepRows(6), 120, 40)
	m = sweepSend(t, m, sweepPolledMsg{err: errors.New("stale NFS file handle")})
	s := ansi.Strip(m.View())
	if !strings.Contains(s, "poll failed (retrying): stale NFS file handle") || !strings.Contains(s, "t0005") &&
		!strings.Contains(s, "proxyless") {
		t.Errorf("after a failed poll:\n%s", s)
	}
	m = sweepSend(t, m, sweepPolledMsg{rows: sweepRows(6)})
	if s := ansi.Strip(m.View()); strings.Contains(s, "poll failed") {
		t.Errorf("the error outlived a good poll:\n%s", s)
	}
}

// Ticks of a superseded chain are dropped, so a refresh never doubles the
// polling rate; at most one poll is in flight.
func TestSweepOnePollAtATime(t *testing.T) {
	polls := 0
	m := NewSweep(SweepOptions{Poll: func() ([]SweepRow, []string, error) { polls++; return sweepRows(3), nil, nil }}).(SweepModel)
	cmd := m.Init()
	next, again := m.Update(keys("r")[0]) // r while the first poll runs
	m = next.(SweepModel)
	if again != nil {
		t.Error("r started a second poll while one was in flight")
	}
	m = sweepSend(t, m, cmd())
	stale := sweepTickMsg{gen: m.gen - 1}
	if _, c := m.Update(stale); c != nil {
		t.Error("a stale tick polled")
	}
	if _, c := m.Update(sweepTickMsg{gen: m.gen}); c == nil {
		t.Error("the current tick did not poll")
	}
	if polls != 1 {
		t.Errorf("%d polls ran, want 1", polls)
	}
}

// Selecting and deselecting: the selection mark, the legend, esc clears.
func TestSweepSelect(t *testing.T) {
	m := sweepModel(t, sweepRows(6), 120, 40, 3)
	s := ansi.Strip(m.View())
	if !strings.Contains(s, "loss  ━ t0003") || !strings.Contains(s, "▸◆★ ") {
		t.Errorf("trial 3 selected and best: want its legend and ▸◆★ marks:\n%s", s)
	}
	m = sweepSend(t, m, keys(" ")...)
	if s := ansi.Strip(m.View()); strings.Contains(s, "━ t0003") || !strings.Contains(s, "space on a trial draws its curves here") {
		t.Errorf("after deselecting:\n%s", s)
	}
	m = sweepSend(t, sweepModel(t, sweepRows(6), 120, 40, 1, 3), keys("esc")...)
	if len(m.selected) != 0 || len(m.curves) != 0 {
		t.Errorf("esc left %v selected", m.selected)
	}
}
