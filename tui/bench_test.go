package tui

import (
	"fmt"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/ccface/ccface/engine"
)

// longRun is a model that has seen 20 000 steps (tracks compacted to their
// cap) at w×h.
func longRun(b *testing.B, w, h int) Model {
	m := testModel(newFake(), Options{SessionPath: "sessions/x"})
	var evs []engine.Event
	for s := int64(1); s <= 20000; s++ {
		evs = append(evs, synthPoint(s, 0.4, s > 10000))
		if s%2000 == 0 {
			evs = append(evs, evalAt(s), hyper(s, "margin", "0.4", "0.4", "b"))
		}
	}
	next, _ := m.Update(eventsMsg(evs))
	next, _ = next.(Model).Update(tea.WindowSizeMsg{Width: w, Height: h})
	return next.(Model)
}

// BenchmarkViewRedraw is a frame with new data: every chart rebuilt.
func BenchmarkViewRedraw(b *testing.B) {
	for _, sz := range [][2]int{{80, 24}, {120, 40}, {200, 60}} {
		m := longRun(b, sz[0], sz[1])
		b.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(b *testing.B) {
			for b.Loop() {
				m.drawn++ // as if a new batch had arrived
				_ = m.View()
			}
		})
	}
}

// BenchmarkKeyToView is a knob move: Update plus a View from cached charts,
// the work between a key press and the updated screen.
func BenchmarkKeyToView(b *testing.B) {
	m := longRun(b, 120, 40)
	_ = m.View()
	down := tea.KeyMsg{Type: tea.KeyDown}
	for b.Loop() {
		next, _ := m.Update(down)
		m = next.(Model)
		_ = m.View()
	}
}

// BenchmarkIngest folds one 100 ms batch of a fast run (100 points).
func BenchmarkIngest(b *testing.B) {
	m := longRun(b, 120, 40)
	batch := make(eventsMsg, 100)
	for i := range batch {
		batch[i] = synthPoint(int64(20001+i), 0.4, true)
	}
	for b.Loop() {
		next, _ := m.Update(batch)
		m = next.(Model)
	}
}
