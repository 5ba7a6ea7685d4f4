package tui

import (
	"strings"
	"testing"

	"github.com/ccface/ccface/engine"
)

func knob(t *testing.T, name string) engine.Knob {
	t.Helper()
	k, err := engine.FindKnob(name)
	if err != nil {
		t.Fatal(err)
	}
	return *k
}

func TestPanelListsEveryLiveKnobGrouped(t *testing.T) {
	items := panelKnobs()
	if len(items) != len(engine.LiveKnobs()) {
		t.Fatalf("%d panel knobs, %d live knobs", len(items), len(engine.LiveKnobs()))
	}
	for i := 1; i < len(items); i++ {
		if items[i].group < items[i-1].group {
			t.Errorf("%s (group %d) after %s (group %d)", items[i].knob.Name, items[i].group, items[i-1].knob.Name, items[i-1].group)
		}
	}
	if items[0].knob.Group != "margin" || groupTitle(items[0].group) != "margin · method" {
		t.Errorf("panel starts with %s", items[0].knob.Name)
	}
}

func TestKnobNavigation(t *testing.T) {
	m := testModel(newFake(), Options{By: "t"})
	name := func() string { k, _ := m.selected(); return k.Name }
	if name() != "head" {
		t.Fatalf("first knob %s", name())
	}
	m = send(t, m, keys("tab")...)
	if !strings.HasPrefix(name(), "aug.") {
		t.Errorf("tab went to %s, want the first aug knob", name())
	}
	m = send(t, m, keys("tab")...)
	if knob(t, name()).Group != "train" {
		t.Errorf("second tab went to %s, want a train knob", name())
	}
	m = send(t, m, keys("tab")...)
	if name() != "head" {
		t.Errorf("tab from the last group went to %s, want head", name())
	}
	m = send(t, m, keys("shift+tab")...)
	if knob(t, name()).Group != "train" || m.knobs[m.sel-1].group == m.knobs[m.sel].group {
		t.Errorf("shift+tab went to %s, want the first train knob", name())
	}
	m = send(t, m, keys("up", "k", "down", "j", "j")...)
	if knob(t, name()).Group != "train" {
		t.Errorf("moved to %s", name())
	}
}

// A change that goes back to the value in effect clears the pending mark;
// stepping twice sends both and stays pending on the last.
func TestPendingTracksLastRequest(t *testing.T) {
	f := newFake()
	m := testModel(f, Options{By: "t"})
	m = send(t, m, keys("down", "right", "right")...)
	if p := m.pending["margin"]; p != "0.5" {
		t.Errorf("pending %q, want 0.5", p)
	}
	m = send(t, m, eventsMsg{hyper(5, "margin", "0.4", "0.45", "t")}) // first of the two applied
	if p := m.pending["margin"]; p != "0.5" {
		t.Errorf("pending %q after the intermediate change, want 0.5", p)
	}
	m = send(t, m, keys("left", "left")...)
	if _, ok := m.pending["margin"]; !ok {
		t.Errorf("0.4 is not in effect (0.45 is): should be pending")
	}
	m = send(t, m, keys("right")...)
	if _, ok := m.pending["margin"]; ok {
		t.Errorf("back to the value in effect: should not be pending")
	}
	want := []string{"SetKnob margin=0.45 by t", "SetKnob margin=0.5 by t", "SetKnob margin=0.45 by t", "SetKnob margin=0.4 by t", "SetKnob margin=0.45 by t"}
	if got := f.Calls(); strings.Join(got, ";") != strings.Join(want, ";") {
		t.Errorf("calls %q, want %q", got, want)
	}
}
