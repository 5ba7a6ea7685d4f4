package tui

import (
	"strings"

	"github.com/ccface/ccface/engine"
)

// knobGroup is one section of the knob panel; it may gather several of the
// registry's groups (margin and method are edited together).
type knobGroup struct {
	title  string
	groups []string
}

// panelGroups orders the panel: the method's knobs first since they are what
// a researcher came to turn, then augmentation, then the optimiser. It is a
// function, not a var, so the package holds no mutable state.
func panelGroups() []knobGroup {
	return []knobGroup{
		{"margin · method", []string{"margin", "method"}},
		{"aug", []string{"aug"}},
		{"train", []string{"train"}},
	}
}

// knobItem is one row of the panel.
type knobItem struct {
	knob  engine.Knob
	group int // index into panelGroups(), or past its end for "other"
}

// panelKnobs lists the live knobs in panel order. A live knob of a group the
// panel does not know yet lands in a trailing "other" group rather than
// being hidden.
func panelKnobs() []knobItem {
	live := engine.LiveKnobs()
	var out []knobItem
	used := make([]bool, len(live))
	groups := panelGroups()
	for gi, g := range groups {
		for i, k := range live {
			for _, name := range g.groups {
				if k.Group == name {
					out = append(out, knobItem{k, gi})
					used[i] = true
				}
			}
		}
	}
	for i, k := range live {
		if !used[i] {
			out = append(out, knobItem{k, len(groups)})
		}
	}
	return out
}

func groupTitle(g int) string {
	if gs := panelGroups(); g < len(gs) {
		return gs[g].title
	}
	return "other"
}

// shortName drops the group prefix the panel header already shows.
func shortName(name string) string { return strings.TrimPrefix(name, "aug.") }
