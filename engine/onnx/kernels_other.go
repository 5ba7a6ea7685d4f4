//go:build !amd64 || noasm

package onnx

func dwTaps(dst, src []float32, offs []int, w []float32, bias, lo, hi float32) {
	dwTapsGo(dst, src, offs, w, bias, lo, hi)
}

func biasClip(x []float32, b, lo, hi float32) { biasClipGo(x, b, lo, hi) }

func dwDots(dst, g, src []float32, offs []int) { dwDotsGo(dst, g, src, offs) }

func interleave2(x, even, odd []float32) { interleave2Go(x, even, odd) }

func clipMask(dst, y, g []float32, lo, hi float32) { clipMaskGo(dst, y, g, lo, hi) }

func copyRows(dst []float32, dstStride int, src []float32, srcStride, rows, cols int) {
	copyRowsGo(dst, dstStride, src, srcStride, rows, cols)
}

func deinterleave2Rows(even, odd []float32, dstStride int, x []float32, srcStride, rows, n int) {
	deinterleave2RowsGo(even, odd, dstStride, x, srcStride, rows, n)
}

func addVV(d, a, c []float32) { addVVGo(d, a, c) }

func depthwise3x3(*convGeom, []float32, []float32, []float32, []float32) bool { return false }
