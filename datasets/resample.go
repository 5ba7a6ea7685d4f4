package datasets

import (
	"fmt"
	"math"
)

// taps is a separable resampling table along one axis: output o reads
// source samples idx[start[o]:start[o+1]] with weights w.
type taps struct {
	start []int32
	idx   []int32
	w     []float32
}

// build fills t for resampling n source samples to m with kernel.
//
// Sample centres are aligned (source coordinate x = (o+0.5)·n/m - 0.5).
// bilinear and bicubic are deliberately not widened when downsampling: they
// behave like a naive resize that skips source pixels and aliases, which is
// what separates them from area (box average with fractional coverage) in
// the degradation's kernel mix.
func (t *taps) build(m, n int, kernel string) {
	t.start = append(t.start[:0], 0)
	t.idx, t.w = t.idx[:0], t.w[:0]
	scale := float64(n) / float64(m)
	clamp := func(i int) int32 { return int32(max(0, min(n-1, i))) }
	for o := 0; o < m; o++ {
		x := (float64(o)+0.5)*scale - 0.5
		first := len(t.w)
		switch kernel {
		case "nearest":
			t.idx = append(t.idx, clamp(int(math.Floor((float64(o)+0.5)*scale))))
			t.w = append(t.w, 1)
		case "bilinear":
			x0 := math.Floor(x)
			f := x - x0
			t.idx = append(t.idx, clamp(int(x0)), clamp(int(x0)+1))
			t.w = append(t.w, float32(1-f), float32(f))
		case "bicubic":
			x0 := math.Floor(x)
			f := x - x0
			for k := -1; k <= 2; k++ {
				t.idx = append(t.idx, clamp(int(x0)+k))
				t.w = append(t.w, float32(cubic(float64(k)-f)))
			}
		case "area":
			lo, hi := float64(o)*scale, float64(o+1)*scale
			for k := int(math.Floor(lo)); float64(k) < hi && k < n; k++ {
				if cov := math.Min(hi, float64(k+1)) - math.Max(lo, float64(k)); cov > 1e-9 {
					t.idx = append(t.idx, clamp(k))
					t.w = append(t.w, float32(cov/(hi-lo)))
				}
			}
		default:
			panic(fmt.Sprintf("datasets: unknown resampling kernel %q: use one of %v", kernel, Kernels))
		}
		// Renormalise so a constant image stays exactly constant despite
		// float32 rounding and clamped edge taps.
		var sum float32
		for _, w := range t.w[first:] {
			sum += w
		}
		for k := first; k < len(t.w); k++ {
			t.w[k] /= sum
		}
		t.start = append(t.start, int32(len(t.w)))
	}
}

// cubic is the Keys cubic convolution kernel with a = -0.5 (Catmull-Rom).
func cubic(x float64) float64 {
	const a = -0.5
	x = math.Abs(x)
	switch {
	case x < 1:
		return ((a+2)*x-(a+3))*x*x + 1
	case x < 2:
		return ((a*x-5*a)*x+8*a)*x - 4*a
	}
	return 0
}

// resampler holds the scratch of a planar resize so repeated calls allocate
// nothing once warmed up.
type resampler struct {
	tx, ty taps
	mid    []float32
}

// resize resamples ch planes of sw×sh (CHW) in src to dw×dh in dst with
// kernel, clamping results to [0,1] (bicubic overshoots at edges).
func (r *resampler) resize(dst []float32, dw, dh int, src []float32, sw, sh, ch int, kernel string) {
	r.tx.build(dw, sw, kernel)
	r.ty.build(dh, sh, kernel)
	r.mid = grow(r.mid, ch*sh*dw)
	mid := r.mid
	// Horizontal pass: src (sh×sw) → mid (sh×dw) per channel.
	for c := 0; c < ch; c++ {
		for y := 0; y < sh; y++ {
			row := src[(c*sh+y)*sw : (c*sh+y+1)*sw]
			out := mid[(c*sh+y)*dw : (c*sh+y+1)*dw]
			for o := 0; o < dw; o++ {
				var v float32
				for k := r.tx.start[o]; k < r.tx.start[o+1]; k++ {
					v += row[r.tx.idx[k]] * r.tx.w[k]
				}
				out[o] = v
			}
		}
	}
	// Vertical pass: mid (sh×dw) → dst (dh×dw).
	for c := 0; c < ch; c++ {
		plane := mid[c*sh*dw : (c+1)*sh*dw]
		for o := 0; o < dh; o++ {
			out := dst[(c*dh+o)*dw : (c*dh+o+1)*dw]
			clear(out)
			for k := r.ty.start[o]; k < r.ty.start[o+1]; k++ {
				w := r.ty.w[k]
				row := plane[int(r.ty.idx[k])*dw:]
				for x := range out {
					out[x] += row[x] * w
				}
			}
			for x, v := range out {
				out[x] = min(1, max(0, v))
			}
		}
	}
}

// grow returns s resliced to n, reallocating only when its capacity is short.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
