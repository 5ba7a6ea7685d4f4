package tui

import (
	"math"
	"strconv"
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

// stepValue returns the value one Step (dir = ±1) from cur: enums cycle
// through Options, numbers move by Knob.Step and stop at Min/Max. ok is false
// when the value cannot move (already at a bound, or cur is not a number).
func stepValue(k engine.Knob, cur string, dir int) (next string, ok bool) {
	if n := len(k.Options); n > 0 {
		i := 0
		for j, o := range k.Options {
			if o == cur {
				i = j
			}
		}
		next = k.Options[((i+dir)%n+n)%n]
		return next, next != cur
	}
	f, err := strconv.ParseFloat(cur, 64)
	if err != nil {
		return "", false
	}
	step := k.Step
	if step <= 0 {
		step = 1
	}
	v := f + float64(dir)*step
	if k.Max > k.Min {
		v = math.Max(k.Min, math.Min(k.Max, v))
	}
	if v == f {
		return "", false
	}
	return formatKnob(v), true
}

// formatKnob prints a stepped value the way the registry prints values:
// whole numbers plainly, others to 6 significant digits, which also hides the
// float noise of repeated steps (0.35000000000000003 → 0.35).
func formatKnob(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// sameValue reports whether two knob values are equal, numerically when both
// parse (a typed "0.30" is applied as "0.3").
func sameValue(a, b string) bool {
	if a == b {
		return true
	}
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	return err1 == nil && err2 == nil && x == y
}

// knobRange describes what a knob accepts, for the panel's detail lines.
func knobRange(k engine.Knob) string {
	if len(k.Options) > 0 {
		return strings.Join(k.Options, " | ")
	}
	return formatKnob(k.Min) + " … " + formatKnob(k.Max) + "  step " + formatKnob(k.Step)
}
