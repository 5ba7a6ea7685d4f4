//go:build !noasm

package nn

//go:noescape
func sumShift512(x *float32, n int, shift float32) (s1, s2 float32)

//go:noescape
func reluAffine512(dst, x *float32, n int, a, b float32)

//go:noescape
func maskedMoments512(x, out, grad *float32, n int) (sg, sgx float32)

//go:noescape
func maskedAffine512(dst, x, out, grad *float32, n int, inv, k0, k1 float32)

//go:noescape
func maskCopy512(dst, out, grad *float32, n int)

//go:noescape
func addRelu512(dst, r, h *float32, n int, b float32)

//go:noescape
func pool2x2F512(out *float32, arg *uint8, in *float32, rows, w int)

//go:noescape
func pool2x2B512(dx *float32, arg *uint8, grad *float32, rows, w int)

// ewAVX512 says whether the element-wise loops run as AVX-512 (fixed at
// start-up, read-only after).
var ewAVX512 = func() bool { _, avx512 := cpuKernels(); return avx512 }()
