package tui

import (
	"slices"
	"strings"
	"testing"

	"github.com/NimbleMarkets/ntcharts/canvas"
	"github.com/NimbleMarkets/ntcharts/canvas/graph"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

func isQuit(cmd tea.Cmd) bool { return cmd != nil && cmd() == tea.Quit() }

// A client of a shared run (Detach) leaves with q or ctrl+c without
// stopping anything; stopping is S, then y.
func TestDetachQuitLeavesRunGoing(t *testing.T) {
	for _, k := range []tea.KeyMsg{keys("q")[0].(tea.KeyMsg), {Type: tea.KeyCtrlC}} {
		f := newFake()
		m := testModel(f, Options{By: "op", Detach: true})
		m = send(t, m, tea.WindowSizeMsg{Width: 120, Height: 40}, eventsMsg(synthRun(3000, 100)))
		if _, cmd := m.Update(k); !isQuit(cmd) {
			t.Errorf("%s in a detaching client should quit at once", k)
		}
		if calls := f.Calls(); len(calls) != 0 {
			t.Errorf("%s: detaching made calls %q", k, calls)
		}
	}
}

func TestDetachStopAsks(t *testing.T) {
	f := newFake()
	m := testModel(f, Options{By: "op", Detach: true})
	m = send(t, m, tea.WindowSizeMsg{Width: 120, Height: 40}, eventsMsg(synthRun(3000, 100)))
	if !strings.Contains(ansi.Strip(m.View()), "q detach  S stop") {
		t.Errorf("footer does not offer detach and stop:\n%s", ansi.Strip(m.View()))
	}
	m = send(t, m, keys("S")...)
	if !strings.Contains(ansi.Strip(m.View()), "Stop the run for everyone? y/n") {
		t.Fatalf("S did not ask:\n%s", ansi.Strip(m.View()))
	}
	m = send(t, m, keys("q")...) // q in the prompt declines here: only y stops a shared run
	if m.confirmQuit || m.stopping || len(f.Calls()) != 0 {
		t.Fatalf("q in the prompt stopped or kept asking: confirm=%v stopping=%v calls=%q", m.confirmQuit, m.stopping, f.Calls())
	}
	m = send(t, m, keys("S", "y")...)
	if !f.Called("Stop op") || !m.stopping {
		t.Fatalf("S y did not stop: calls %q", f.Calls())
	}
	if !strings.Contains(ansi.Strip(m.View()), "(q detaches)") {
		t.Errorf("stopping footer should say q detaches")
	}
	if _, cmd := m.Update(keys("q")[0]); !isQuit(cmd) {
		t.Errorf("q while stopping should detach")
	}
}

// The help overlay follows the bindings: detach wording and S for
// operators, no S for viewers, the local wording otherwise.
func TestDetachHelp(t *testing.T) {
	for _, c := range []struct {
		opt      Options
		want, no []string
	}{
		{Options{Detach: true}, []string{"detach (the run goes on)", "stop the run for all"}, []string{"quit (asks, stops run)"}},
		{Options{Detach: true, ReadOnly: true}, []string{"detach (the run goes on)"}, []string{"stop the run for all"}},
		{Options{}, []string{"quit (asks, stops run)"}, []string{"stop the run for all", "detach"}},
	} {
		m := testModel(newFake(), c.opt)
		m = send(t, m, tea.WindowSizeMsg{Width: 120, Height: 40}, keys("?")[0])
		v := ansi.Strip(m.View())
		for _, w := range c.want {
			if !strings.Contains(v, w) {
				t.Errorf("%+v: help lacks %q", c.opt, w)
			}
		}
		for _, w := range c.no {
			if strings.Contains(v, w) {
				t.Errorf("%+v: help has %q", c.opt, w)
			}
		}
	}
}

func TestViewerStopRefused(t *testing.T) {
	f := newFake()
	m := testModel(f, Options{By: "v", Detach: true, ReadOnly: true})
	m = send(t, m, tea.WindowSizeMsg{Width: 80, Height: 24}, eventsMsg(synthRun(3000, 100)))
	m = send(t, m, keys("S")...)
	if !strings.Contains(m.flash, "read-only") || m.confirmQuit {
		t.Errorf("viewer S: flash %q confirm %v", m.flash, m.confirmQuit)
	}
	m = send(t, m, keys("y")...)
	if m.stopping || len(f.Calls()) != 0 {
		t.Errorf("viewer S y: stopping %v calls %q", m.stopping, f.Calls())
	}
}

func TestNotice(t *testing.T) {
	m := testModel(newFake(), Options{})
	m = send(t, m, tea.WindowSizeMsg{Width: 100, Height: 30}, Notice{Text: "server shutting down", Err: true})
	if m.flash != "server shutting down" || !m.flashErr {
		t.Errorf("flash %q err %v", m.flash, m.flashErr)
	}
	if n := len(m.log); n == 0 || m.log[n-1].text != "server shutting down" {
		t.Errorf("notice not logged: %+v", m.log)
	}
}

// drawLine walks exactly the points of ntcharts' GetLinePoints.
func TestDrawLineMatchesGetLinePoints(t *testing.T) {
	for x1 := -3; x1 <= 3; x1++ {
		for y1 := -3; y1 <= 3; y1++ {
			for _, p2 := range []canvas.Point{{X: 0, Y: 0}, {X: 5, Y: 1}, {X: -4, Y: 7}, {X: 2, Y: -6}, {X: -7, Y: -2}} {
				p1 := canvas.Point{X: x1, Y: y1}
				var got []canvas.Point
				drawLine(p1, p2, func(p canvas.Point) { got = append(got, p) })
				if want := graph.GetLinePoints(p1, p2); !slices.Equal(got, want) {
					t.Fatalf("%v→%v: %v, want %v", p1, p2, got, want)
				}
			}
		}
	}
}
