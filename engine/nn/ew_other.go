//go:build !amd64 || noasm

package nn

var ewAVX512 = false

func sumShift512(x *float32, n int, shift float32) (s1, s2 float32)          { panic("no AVX-512") }
func reluAffine512(dst, x *float32, n int, a, b float32)                     { panic("no AVX-512") }
func maskedMoments512(x, out, grad *float32, n int) (sg, sgx float32)        { panic("no AVX-512") }
func maskedAffine512(dst, x, out, grad *float32, n int, inv, k0, k1 float32) { panic("no AVX-512") }
func maskCopy512(dst, out, grad *float32, n int)                             { panic("no AVX-512") }
func addRelu512(dst, r, h *float32, n int, b float32)                        { panic("no AVX-512") }
func pool2x2F512(out *float32, arg *uint8, in *float32, rows, w int)         { panic("no AVX-512") }
func pool2x2B512(dx *float32, arg *uint8, grad *float32, rows, w int)        { panic("no AVX-512") }
