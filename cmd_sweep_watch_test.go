package main

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/sweep"
	"github.com/ccface/ccface/tui"
)

const watchWait = 15 * time.Second // generous for a loaded 2-core CI box

// watchProgram runs the sweep view on sw in a real tea.Program at w×h,
// wired to the folder exactly as `ccface sweep watch` wires it, with the
// poll clock pinned for stable screens.
func watchProgram(t *testing.T, sw *sweep.Sweep, every time.Duration, w, h int) *teatest.TestModel {
	t.Helper()
	opt := sweepViewOptions(sw, every)
	opt.Clock = func() time.Time { return fixtureT0.Add(11 * time.Minute) }
	return teatest.NewTestModel(t, tui.NewSweep(opt), teatest.WithInitialTermSize(w, h))
}

func waitScreen(t *testing.T, tm *teatest.TestModel, want ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		s := ansi.Strip(string(b))
		for _, w := range want {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(watchWait), teatest.WithCheckInterval(10*time.Millisecond))
}

func press(tm *teatest.TestModel, keys ...string) {
	for _, k := range keys {
		switch k {
		case "down":
			tm.Send(tea.KeyMsg{Type: tea.KeyDown})
		case "space":
			tm.Send(tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
		default:
			tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
		}
	}
}

// finalView quits the program and returns its last screen, ANSI stripped.
func finalView(t *testing.T, tm *teatest.TestModel) string {
	t.Helper()
	press(tm, "q")
	m := tm.FinalModel(t, teatest.WithFinalTimeout(watchWait))
	return ansi.Strip(m.View())
}

// TestSweepWatchGolden draws the fixture sweep with two trials selected,
// the best one (t2) and its proxyless twin (t8), at 80×24 and 120×40.
// Rewrite with `go test . -run TestSweepWatchGolden -update` and review.
func TestSweepWatchGolden(t *testing.T) {
	sw, _ := fixtureSweep(t)
	for _, size := range []struct {
		name string
		w, h int
	}{{"watch_80x24", 80, 24}, {"watch_120x40", 120, 40}} {
		t.Run(size.name, func(t *testing.T) {
			tm := watchProgram(t, sw, time.Hour, size.w, size.h)
			waitScreen(t, tm, "12 trials")
			press(tm, "b", "space") // the best trial, selected
			waitScreen(t, tm, "t0002 0.55")
			press(tm, "j", "j", "j", "j", "j", "j", "space") // t8: t2 to t8 on screen
			waitScreen(t, tm, "t0008 0.49")
			s := finalView(t, tm)
			lines := strings.Split(s, "\n")
			if len(lines) != size.h {
				t.Errorf("%d lines, want %d", len(lines), size.h)
			}
			for i, l := range lines {
				if n := ansi.StringWidth(l); n > size.w {
					t.Errorf("line %d is %d cells wide: %q", i, n, l)
				}
			}
			golden.RequireEqual(t, []byte(s))
		})
	}
}

// TestSweepWatchFlow is a user watching a sweep live: the best trial is
// starred, selecting a running trial draws its curves, and as the trial
// trains on (its log grows on disk) the next polls move its row and
// extend its curves, until it finishes and becomes the best.
func TestSweepWatchFlow(t *testing.T) {
	sw, running := fixtureSweep(t)
	tm := watchProgram(t, sw, 100*time.Millisecond, 120, 40)
	waitScreen(t, tm, "12 trials: 1 running 7 finished 1 failed 2 queued 1 interrupted")
	bestRow := func(s string) string {
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, "★") && strings.Contains(l, "finished") {
				return l
			}
		}
		return ""
	}
	press(tm, "down", "down", "down", "down", "space") // t4, running at 420
	waitScreen(t, tm, "420/600", "t0004: curves drawn", "eval LR rank-1 (lr8)")

	moveOn(t, running, 420, 600)
	waitScreen(t, tm, "600/600", "t0004 0.53") // its curves reloaded: the step-600 evaluation
	// Finish it as the engine ends a run: a done event, then the lock released.
	if err := running.Append(engine.Event{Kind: engine.KindDone, Step: 600, Time: fixtureT0, Message: "finished"}); err != nil {
		t.Fatal(err)
	}
	if err := running.Close(); err != nil {
		t.Fatal(err)
	}
	waitScreen(t, tm, "12 trials: 8 finished")
	s := finalView(t, tm)
	if row := bestRow(s); !strings.Contains(row, "ccface") || !strings.Contains(row, " 3 ") {
		t.Errorf("the best row should be trial 2 (ccface 0.3 seed 3, 55.0%%), got %q:\n%s", row, s)
	}
	if !strings.Contains(s, "◆") {
		t.Errorf("no selection mark on the selected trial:\n%s", s)
	}
}
