//go:build !noasm

package onnx

import "golang.org/x/sys/cpu"

// useAVX2 is fixed at start-up and only read after: the depthwise and
// epilogue loops run as AVX2+FMA assembly where the CPU has it (the
// importer's speed bottleneck: Go does not vectorise these loops).
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func dwTapsAVX2(dst *float32, n int, src *float32, offs *int, w *float32, taps int, bias, lo, hi float32)

//go:noescape
func biasClipAVX2(x *float32, n int, b, lo, hi float32)

//go:noescape
func interleave2AVX2(x, even, odd *float32, n int)

// interleave2 is deinterleave2Rows' inverse on one row: x[2j] = even[j],
// x[2j+1] = odd[j].
func interleave2(x, even, odd []float32) {
	n16 := 0
	if useAVX2 {
		n16 = len(x) &^ 15
	}
	if n16 > 0 {
		_, _ = even[n16/2-1], odd[n16/2-1] // fail here, not in the assembly
		interleave2AVX2(&x[0], &even[0], &odd[0], n16)
	}
	interleave2Go(x[n16:], even[n16/2:], odd[n16/2:])
}

//go:noescape
func clipMaskAVX2(dst, y, gr *float32, n int, lo, hi float32)

// clipMask passes the gradient g where the clamped output y is strictly
// inside (lo, hi), the only place the clamp has slope 1.
func clipMask(dst, y, g []float32, lo, hi float32) {
	n8 := 0
	if useAVX2 {
		n8 = len(y) &^ 7
	}
	if n8 > 0 {
		_, _ = dst[n8-1], g[n8-1] // fail here, not in the assembly
		clipMaskAVX2(&dst[0], &y[0], &g[0], n8, lo, hi)
	}
	clipMaskGo(dst[n8:], y[n8:], g[n8:], lo, hi)
}

// dwTaps sets dst[j] = clamp(bias + Σ_t w[t]·src[j + offs[t]/4], lo, hi).
// src must hold every element read: len(dst) past the largest offset.
func dwTaps(dst, src []float32, offs []int, w []float32, bias, lo, hi float32) {
	if !useAVX2 || len(dst)%8 != 0 || len(offs) == 0 {
		dwTapsGo(dst, src, offs, w, bias, lo, hi)
		return
	}
	last := 0
	for _, o := range offs {
		last = max(last, o/4)
	}
	_, _ = src[last+len(dst)-1], w[len(offs)-1] // the assembly reads this far: fail here, not there
	if len(offs) == 9 {
		dw9AVX2(&dst[0], len(dst), &src[0], &offs[0], &w[0], bias, lo, hi)
		return
	}
	dwTapsAVX2(&dst[0], len(dst), &src[0], &offs[0], &w[0], len(offs), bias, lo, hi)
}

// biasClip sets x[j] = clamp(x[j] + b, lo, hi).
func biasClip(x []float32, b, lo, hi float32) {
	n8 := len(x) &^ 7
	if useAVX2 && n8 > 0 {
		biasClipAVX2(&x[0], n8, b, lo, hi)
		biasClipGo(x[n8:], b, lo, hi)
		return
	}
	biasClipGo(x, b, lo, hi)
}

//go:noescape
func dotAVX2(x, y *float32, n int) float32

// dwDots adds Σ_j g[j]·src[offs[t]+j] to dst[t] for each tap t.
func dwDots(dst, g, src []float32, offs []int) {
	n8 := len(g) &^ 7
	if !useAVX2 || n8 == 0 {
		dwDotsGo(dst, g, src, offs)
		return
	}
	for t, off := range offs {
		s := src[off:][:len(g)] // fail here, not in the assembly
		dst[t] += dotAVX2(&g[0], &s[0], n8)
		for j := n8; j < len(g); j++ {
			dst[t] += g[j] * s[j]
		}
	}
}

//go:noescape
func copyRowsAVX2(dst *float32, dstStride int, src *float32, srcStride int, rows, cols int)

// copyRows copies rows rows of cols floats, src's rows srcStride floats
// apart, to dst's, dstStride apart (a plane into a padded buffer, or out of
// one).
func copyRows(dst []float32, dstStride int, src []float32, srcStride, rows, cols int) {
	if rows == 0 || cols == 0 {
		return
	}
	_, _ = dst[(rows-1)*dstStride+cols-1], src[(rows-1)*srcStride+cols-1] // fail here, not in the assembly
	if useAVX2 && cols >= 8 {
		copyRowsAVX2(&dst[0], dstStride, &src[0], srcStride, rows, cols)
		return
	}
	copyRowsGo(dst, dstStride, src, srcStride, rows, cols)
}

//go:noescape
func deinterleave2RowsAVX2(even, odd *float32, dstStride int, x *float32, srcStride, rows, n int)

// deinterleave2Rows writes the even-indexed floats of rows rows of n
// floats (x's rows srcStride floats apart) to even and the odd-indexed ones
// to odd (their rows dstStride apart): a stride-2 window's column phases.
func deinterleave2Rows(even, odd []float32, dstStride int, x []float32, srcStride, rows, n int) {
	if rows == 0 || n == 0 {
		return
	}
	if !useAVX2 || n < 8 {
		deinterleave2RowsGo(even, odd, dstStride, x, srcStride, rows, n)
		return
	}
	ne, last := n&^1, (rows-1)*dstStride
	_, _, _ = even[last+(n+1)/2-1], odd[last+ne/2-1], x[(rows-1)*srcStride+n-1] // fail here, not in the assembly
	if ne < 16 {
		deinterleave2Rows8AVX2(&even[0], &odd[0], dstStride, &x[0], srcStride, rows, ne)
	} else {
		deinterleave2RowsAVX2(&even[0], &odd[0], dstStride, &x[0], srcStride, rows, ne)
	}
	for r := 0; n%2 == 1 && r < rows; r++ {
		even[r*dstStride+n/2] = x[r*srcStride+n-1]
	}
}

//go:noescape
func deinterleave2Rows8AVX2(even, odd *float32, dstStride int, x *float32, srcStride, rows, n int)

//go:noescape
func addAVX2(d, a, c *float32, n int)

// addVV sets d = a + c (a residual connection's Add, which Go does not
// vectorise), a and c at least as long as d.
func addVV(d, a, c []float32) {
	a, c = a[:len(d)], c[:len(d)]
	n8 := 0
	if useAVX2 {
		n8 = len(d) &^ 7
	}
	if n8 > 0 {
		addAVX2(&d[0], &a[0], &c[0], n8)
	}
	addVVGo(d[n8:], a[n8:], c[n8:])
}

//go:noescape
func dw9AVX2(dst *float32, n int, src *float32, offs *int, w *float32, bias, lo, hi float32)

//go:noescape
func dw3s1AVX2(dst, src, zero *float32, h, w int, wt *float32, bias float32, lohi *float32)

// zeroRow is the row above and below a plane for dw3s1AVX2.
var zeroRow [1024]float32

// dw3Perm moves the centre taps one lane right (the left taps of a row's
// first chunk) and one lane left (the right taps of its last chunk).
var dw3Perm = [16]int32{0, 0, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6, 7, 7}

// depthwise3x3 runs the depthwise convolution g when it is the common 3×3
// window with stride 1 and padding 1 on rows of at least 9 (narrower ones
// are a row's single chunk), plane by plane in place (see dw3s1AVX2), and
// says whether it did.
func depthwise3x3(g *convGeom, dst, x, w, bias []float32) bool {
	if !useAVX2 || g.kh != 3 || g.kw != 3 || g.sh != 1 || g.sw != 1 || g.pt != 1 || g.pl != 1 || g.pb != 1 || g.pr != 1 || g.w < 9 || g.w > len(zeroRow) {
		return false
	}
	var lohi [16]float32
	for i := range 8 {
		lohi[i], lohi[8+i] = g.lo, g.hi
	}
	plane, planes := g.h*g.w, g.n*g.cin
	_, _, _ = dst[planes*plane-1], x[planes*plane-1], w[9*g.cin-1] // fail here, not in the assembly
	for c := 0; c < planes; c++ {
		ch := c % g.cin
		var b float32
		if bias != nil {
			b = bias[ch]
		}
		dw3s1AVX2(&dst[c*plane], &x[c*plane], &zeroRow[0], g.h, g.w, &w[ch*9], b, &lohi[0])
	}
	return true
}
