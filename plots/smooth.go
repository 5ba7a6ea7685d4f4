package plots

import (
	"math"
	"slices"
	"sort"
)

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// decimateBuckets is how many slices of the x range a long series is cut
// into. A 3.5 in plot at 200 dpi has about 600 pixel columns, so 1000
// slices are finer than any pixel and the decimated line looks the same as
// the full one, in raster and in vector output alike.
const decimateBuckets = 1000

// decimate returns the indices of the points to draw. Series up to
// 4*decimateBuckets points are kept whole. Longer ones keep, per slice of
// the x range, the first, last, lowest and highest point of every ys (the M4
// scheme): spikes and the line's ends at each slice survive, so the drawing
// matches the full series while files stay small. xs must be sorted.
func decimate(xs []float64, ys ...[]float64) []int {
	n := len(xs)
	if n <= 4*decimateBuckets {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	lo, hi := xs[0], xs[n-1]
	span := hi - lo
	bucket := func(x float64) int {
		if span <= 0 {
			return 0
		}
		b := int((x - lo) / span * decimateBuckets)
		return min(max(b, 0), decimateBuckets-1)
	}
	keep := map[int]bool{}
	for start := 0; start < n; {
		b := bucket(xs[start])
		end := start + 1
		for end < n && bucket(xs[end]) == b {
			end++
		}
		keep[start] = true
		keep[end-1] = true
		for _, y := range ys {
			imin, imax := start, start
			for i := start; i < end; i++ {
				if y[i] < y[imin] {
					imin = i
				}
				if y[i] > y[imax] {
					imax = i
				}
			}
			keep[imin] = true
			keep[imax] = true
		}
		start = end
	}
	idx := make([]int, 0, len(keep))
	for i := range keep {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	return idx
}

// pick returns xs[idx...].
func pick(xs []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for i, j := range idx {
		out[i] = xs[j]
	}
	return out
}

// decimateSegs is decimate that also keeps both points at every phase
// boundary, so broken lines end and start exactly where the data does.
func decimateSegs(xs []float64, segs []int, ys ...[]float64) []int {
	idx := decimate(xs, ys...)
	if len(idx) == len(xs) {
		return idx
	}
	for i := 1; i < len(segs); i++ {
		if segs[i] != segs[i-1] {
			idx = append(idx, i-1, i)
		}
	}
	slices.Sort(idx)
	return slices.Compact(idx)
}

// pickInt returns vs[idx...].
func pickInt(vs []int, idx []int) []int {
	out := make([]int, len(idx))
	for i, j := range idx {
		out[i] = vs[j]
	}
	return out
}
