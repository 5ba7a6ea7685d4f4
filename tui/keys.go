package tui

import "github.com/charmbracelet/bubbles/key"

// keyMap is the one place keys are bound; the help overlay is drawn from it
// so it cannot drift from what Update does.
type keyMap struct {
	Up, Down, NextGroup, PrevGroup key.Binding
	Dec, Inc, Type                 key.Binding
	Pause, Checkpoint, Eval        key.Binding
	Export                         key.Binding
	Smooth, SmoothDec, SmoothInc   key.Binding
	XAxis, Zoom                    key.Binding
	Help, Quit, ForceQuit          key.Binding
	// Stop is only enabled for clients that detach on quit (Options.Detach):
	// there q leaves the run going and stopping it is its own key.
	Stop key.Binding
	// Overlay toggles Options.Overlays; with none it says how to get some.
	Overlay key.Binding
}

func newKeyMap() keyMap {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return keyMap{
		Up:         b("↑/k", "previous knob", "up", "k"),
		Down:       b("↓/j", "next knob", "down", "j"),
		NextGroup:  b("tab", "next knob group", "tab"),
		PrevGroup:  b("shift+tab", "previous knob group", "shift+tab"),
		Dec:        b("←/-", "step down / prev option", "left", "-"),
		Inc:        b("→/+", "step up / next option", "right", "+", "="),
		Type:       b("enter", "type a value", "enter"),
		Pause:      b("p", "pause / resume", "p"),
		Checkpoint: b("c", "checkpoint now", "c"),
		Eval:       b("e", "evaluate now", "e"),
		Export:     b("x", "export plots", "x"),
		Smooth:     b("s", "toggle EMA smoothing", "s"),
		SmoothDec:  b("[", "less smoothing", "["),
		SmoothInc:  b("]", "more smoothing", "]"),
		XAxis:      b("t", "x axis: step / epoch", "t"),
		Zoom:       b("z", "zoom: all / last N steps", "z"),
		Help:       b("?", "this help", "?"),
		Quit:       b("q", "quit (asks, stops run)", "q"),
		ForceQuit:  b("ctrl+c", "stop; twice: quit now", "ctrl+c"),
		Stop:       key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "stop the run for all (asks)"), key.WithDisabled()),
		Overlay:    key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "overlays on / off")),
	}
}

// detaching rebinds the quit keys of a client that must not stop the run by
// leaving it (an SSH client, a read-only viewer): q and ctrl+c detach, and
// an operator stops the run with S.
func (k keyMap) detaching(canStop bool) keyMap {
	k.Quit.SetHelp("q", "detach (the run goes on)")
	k.ForceQuit.SetHelp("ctrl+c", "detach")
	k.Stop.SetEnabled(canStop)
	return k
}

// helpColumns lists the bindings for the help overlay, grouped.
func (k keyMap) helpColumns() [][]key.Binding {
	return [][]key.Binding{
		enabled(k.Up, k.Down, k.NextGroup, k.PrevGroup, k.Dec, k.Inc, k.Type, k.Overlay),
		enabled(k.Pause, k.Checkpoint, k.Eval, k.Export, k.Smooth, k.SmoothDec, k.SmoothInc, k.XAxis, k.Zoom, k.Help, k.Quit, k.ForceQuit, k.Stop),
	}
}

func enabled(bs ...key.Binding) []key.Binding {
	out := bs[:0:0]
	for _, b := range bs {
		if b.Enabled() {
			out = append(out, b)
		}
	}
	return out
}
