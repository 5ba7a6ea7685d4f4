//go:build !noasm

package nn

import "os"

//go:noescape
func kern6x16avx2(k int, a, b *float32, ldb int, c *float32, ldc int, add bool)

//go:noescape
func kern8x32avx512(k int, a, b *float32, ldb int, c *float32, ldc int, add bool)

//go:noescape
func kern6x16avx2epi(k int, a, b *float32, ldb int, c *float32, ldc int, add bool, bias *float32, lo, hi float32)

//go:noescape
func kern8x32avx512epi(k int, a, b *float32, ldb int, c *float32, ldc int, add bool, bias *float32, lo, hi float32)

//go:noescape
func kern6x16avx2n(k int, a, b *float32, ldb int, c *float32, ldc int, add bool, tiles int)

//go:noescape
func kern6x16avx2epin(k int, a, b *float32, ldb int, c *float32, ldc int, add bool, bias *float32, lo, hi float32, tiles int)

//go:noescape
func kern6x16avx2m(k int, a, b *float32, ldb int, c *float32, ldc int, add bool, mask *int32)

//go:noescape
func kern6x8avx2m(k int, a, b *float32, ldb int, c *float32, ldc int, add bool, mask *int32)

//go:noescape
func kern6x16avx2epim(k int, a, b *float32, ldb int, c *float32, ldc int, add bool, bias *float32, lo, hi float32, mask *int32)

//go:noescape
func kern6x8avx2epim(k int, a, b *float32, ldb int, c *float32, ldc int, add bool, bias *float32, lo, hi float32, mask *int32)

//go:noescape
func kern1x16avx2(k int, a, b *float32, ldb int, c *float32, ldc int, add bool)

//go:noescape
func kern1x16avx2epi(k int, a, b *float32, ldb int, c *float32, ldc int, add bool, bias *float32, lo, hi float32)

//go:noescape
func kern2x16avx2(k int, a, b *float32, ldb int, c *float32, ldc int, add bool)

//go:noescape
func kern2x16avx2epi(k int, a, b *float32, ldb int, c *float32, ldc int, add bool, bias *float32, lo, hi float32)

//go:noescape
func kern3x16avx2(k int, a, b *float32, ldb int, c *float32, ldc int, add bool)

//go:noescape
func kern3x16avx2epi(k int, a, b *float32, ldb int, c *float32, ldc int, add bool, bias *float32, lo, hi float32)

//go:noescape
func kern4x16avx2(k int, a, b *float32, ldb int, c *float32, ldc int, add bool)

//go:noescape
func kern4x16avx2epi(k int, a, b *float32, ldb int, c *float32, ldc int, add bool, bias *float32, lo, hi float32)

//go:noescape
func kern5x16avx2(k int, a, b *float32, ldb int, c *float32, ldc int, add bool)

//go:noescape
func kern5x16avx2epi(k int, a, b *float32, ldb int, c *float32, ldc int, add bool, bias *float32, lo, hi float32)

//go:noescape
func kern6x8avx2(k int, a, b *float32, ldb int, c *float32, ldc int, add bool)

//go:noescape
func dot2x4avx2(panels int, a *float32, lda int, b *float32, pstride int, out *float32, add bool)

//go:noescape
func dot4x6avx512(panels int, a *float32, lda int, b *float32, pstride int, out *float32, add bool)

func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

// cpuKernels reports which micro-kernels this CPU and OS can run: the
// instructions must exist (CPUID) and the OS must save the vector registers
// across context switches (XCR0), or the kernel would crash or corrupt.
func cpuKernels() (avx2, avx512 bool) {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false, false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false, false
	}
	xcr0, _ := xgetbv()
	_, ebx7, _, _ := cpuid(7, 0)
	const ymmState, zmmState = 0x6, 0xe6
	avx2 = xcr0&ymmState == ymmState && ebx7&(1<<5) != 0
	avx512 = avx2 && xcr0&zmmState == zmmState && ebx7&(1<<16) != 0
	return avx2, avx512
}

// pickKernel chooses the widest micro-kernel the machine runs.
// CCFACE_GEMM=avx2|avx512|blas overrides it, for A/B measurements.
func pickKernel() microKernel {
	ks := allKernels()
	switch os.Getenv("CCFACE_GEMM") {
	case "blas":
		return microKernel{name: "blas32/" + blasName}
	case "avx2":
		for _, k := range ks {
			if k.vw == 8 {
				return k
			}
		}
	}
	if len(ks) == 0 {
		return microKernel{name: "blas32/" + blasName}
	}
	return ks[len(ks)-1]
}

// allKernels lists the micro-kernels this machine runs, narrowest first.
func allKernels() []microKernel {
	avx2, avx512 := cpuKernels()
	var ks []microKernel
	if avx2 {
		ks = append(ks, microKernel{name: "avx2", mr: 6, nr: 16, fn: kern6x16avx2, fnEpi: kern6x16avx2epi, fnN: kern6x16avx2n, fnEpiN: kern6x16avx2epin,
			half: kern6x8avx2, dmr: 2, dnr: 4, vw: 8, dot: dot2x4avx2,
			short:    []kernFn{nil, kern1x16avx2, kern2x16avx2, kern3x16avx2, kern4x16avx2, kern5x16avx2},
			shortEpi: []kernEpi{nil, kern1x16avx2epi, kern2x16avx2epi, kern3x16avx2epi, kern4x16avx2epi, kern5x16avx2epi},
			edge:     kern6x16avx2m, edgeEpi: kern6x16avx2epim, edgeHalf: kern6x8avx2m, edgeHalfEpi: kern6x8avx2epim})
	}
	if avx512 {
		ks = append(ks, microKernel{name: "avx512", mr: 8, nr: 32, fn: kern8x32avx512, fnEpi: kern8x32avx512epi,
			dmr: 4, dnr: 6, vw: 16, dot: dot4x6avx512, im2col: im2colPanel512})
	}
	return ks
}

//go:noescape
func im2colPanel512(dst, src *float32, c, cs int, offs *[9]int, masks *[9]uint32)
