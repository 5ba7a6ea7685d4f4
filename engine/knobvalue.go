package engine

import (
	"math"
	"strconv"
	"strings"
)

// A knob owns its value's text: Set parses it, and the methods below
// format, step and compare it, so the TUI, the event log, the plots and
// fork all show and match values the same way.

// Format prints a number the way every knob writes its values: whole
// numbers plainly, others to 6 significant digits, which also hides the
// float noise of repeated steps (0.35000000000000003 → 0.35).
func (k Knob) Format(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// Canonical rewrites a value of k as k itself would print it: a number
// from a typed or older log ("0.30", "0.30000000000000004") becomes
// "0.3"; anything else (an enum, text) is returned as given.
func (k Knob) Canonical(s string) string {
	s = strings.TrimSpace(s)
	if len(k.Options) > 0 {
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return s
	}
	return k.Format(f)
}

// Next returns the value one Step (dir = ±1) from cur: enums cycle through
// Options, numbers move by Step and stop at Min/Max. ok is false when the
// value cannot move (already at a bound, or cur is not a number).
func (k Knob) Next(cur string, dir int) (next string, ok bool) {
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
	return k.Format(v), true
}

// Same reports whether two values of k are equal, numerically when both
// parse (a typed "0.30" is applied as "0.3").
func (k Knob) Same(a, b string) bool {
	if a == b {
		return true
	}
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	return err1 == nil && err2 == nil && x == y
}

// Range describes what k accepts: its options, or its bounds and step.
func (k Knob) Range() string {
	if len(k.Options) > 0 {
		return strings.Join(k.Options, " | ")
	}
	return k.Format(k.Min) + " … " + k.Format(k.Max) + "  step " + k.Format(k.Step)
}

// KnobText is Canonical for the knob named name; values of a knob this
// build does not know (an older or newer log) are returned as given.
func KnobText(name, value string) string {
	k, err := FindKnob(name)
	if err != nil {
		return strings.TrimSpace(value)
	}
	return k.Canonical(value)
}
