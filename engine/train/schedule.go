package train

import "math"

// lrAt returns the learning rate after progress t∈[0,1] through a phase of
// `epochs` epochs: linear warm-up over `warmup` epochs, then cosine decay to
// zero, or steps of ×0.1 at 60% and 85% of the phase.
func lrAt(base float64, schedule string, t, epochs, warmup float64) float64 {
	e := t * epochs
	if warmup > 0 && e < warmup {
		return base * (e + 1/math.Max(epochs, 1)) / (warmup + 1/math.Max(epochs, 1))
	}
	switch schedule {
	case "step":
		switch {
		case t >= 0.85:
			return base * 0.01
		case t >= 0.6:
			return base * 0.1
		}
		return base
	}
	if epochs <= warmup {
		return base
	}
	u := (e - warmup) / (epochs - warmup)
	return base * 0.5 * (1 + math.Cos(math.Pi*u))
}

// marginAt returns the margin in effect at epoch e of a phase: zero during
// warm-up, then a linear ramp to m (METHOD.md: a large margin from the first
// step collapses on small data).
func marginAt(m, e, warmup, ramp float64) float64 {
	switch {
	case e < warmup:
		return 0
	case ramp <= 0 || e >= warmup+ramp:
		return m
	}
	return m * (e - warmup) / ramp
}
