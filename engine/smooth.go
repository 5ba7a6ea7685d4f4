package engine

import "math"

// MaxSmooth is the largest weight Smooth uses; at 1 the average would never
// move from its first value.
const MaxSmooth = 0.999

// Smooth returns the exponential moving average of xs with the given weight,
// debiased the way TensorBoard does it: s_t = w*s_{t-1} + (1-w)*x_t with
// s_0 = 0, reported as s_t / (1 - w^n) where n counts the finite values so
// far. Without the debiasing the curve would start near zero and climb for
// about 1/(1-w) steps, which reads as a training artefact. Non-finite values
// are passed through and do not enter the average. A weight ≤ 0 (or NaN)
// returns a copy of xs; weights above MaxSmooth are treated as MaxSmooth.
//
// It is the one smoothing of ccface: the TUI's charts and the exported
// figures both use it (through SmoothSegments), so an export draws the
// curve the screen showed.
func Smooth(xs []float64, weight float64) []float64 {
	out := make([]float64, len(xs))
	if !(weight > 0) {
		copy(out, xs)
		return out
	}
	w := math.Min(weight, MaxSmooth)
	var last float64
	n := 0
	for i, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			out[i] = x
			continue
		}
		last = last*w + (1-w)*x
		n++
		out[i] = last / (1 - math.Pow(w, float64(n)))
	}
	return out
}

// SmoothSegments smooths ys separately within each run of equal segs (the
// phase segment of each point), so the average restarts at each phase
// change: a loss term can change meaning between the teacher and student
// phases and an average over both describes neither.
func SmoothSegments(ys []float64, segs []int, weight float64) []float64 {
	if !(weight > 0) {
		return append([]float64(nil), ys...)
	}
	out := make([]float64, 0, len(ys))
	for start := 0; start < len(ys); {
		end := start + 1
		for end < len(ys) && segs[end] == segs[start] {
			end++
		}
		out = append(out, Smooth(ys[start:end], weight)...)
		start = end
	}
	return out
}
