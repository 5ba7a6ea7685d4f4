package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

//go:generate go run gen_kernels.go

// gemmer multiplies float32 matrices for one Net. It owns the packing
// buffers of the blocked kernel, so it must not be shared between goroutines;
// every Net has its own (a Net's tape machine runs one op at a time).
//
// Why not gonum's Sgemm: its pure-Go kernel is an SSE axpy loop without FMA
// that reaches a few GFLOP/s and spawns goroutines of its own, which fights
// the graph replicas for the cores. On CPUs with AVX2 and FMA (and with
// AVX-512) the assembly kernels run at a large fraction of peak; without
// them (or with CCFACE_GEMM=blas) the work goes to blas32: gonum's pure Go,
// or OpenBLAS in the `openblas` build.
type gemmer struct {
	kern         microKernel // activeKernel unless a test sets another
	packA, packB []float32
	tile         []float32 // a micro-tile for the ragged edges
	dotOut       []float32 // the dot kernel's partial sums
	bias         []float32 // an Epilogue's bias, padded to whole micro-tiles
	pt           patches   // the convolution products' patch builder
}

// kernel returns the micro-kernel to use; one without fn means blas32.
func (g *gemmer) kernel() microKernel {
	if g.kern.name != "" {
		return g.kern
	}
	return activeKernel
}

// panelWidth is the column-panel width of the layouts the panel products
// read, or 0 when products go to blas32 (plain row-major layouts then).
func (g *gemmer) panelWidth() int {
	if k := g.kernel(); k.fn != nil {
		return k.nr
	}
	return 0
}

// dotRows is the row multiple the dot kernel wants of the patch panels
// (rows beyond the real ones are computed and dropped, which beats a scalar
// edge).
func (g *gemmer) dotRows() int { return max(1, g.kernel().dnr) }

// Block sizes of the packed product: a kc×nr panel of B stays in L1, an
// mc×kc block of A in L2, a kc×nc block of B in L2/L3.
const (
	gemmKC = 256
	gemmMC = 96
	gemmNC = 2048
)

// sgemm computes C = alpha·op(A)·op(B) + beta·C on row-major matrices,
// op(A) m×k and op(B) k×n, like BLAS Sgemm.
func (g *gemmer) sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	kern := g.kernel()
	if kern.fn == nil {
		blas32.Implementation().Sgemm(trans(tA), trans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if k == 0 || alpha == 0 {
		scaleRows(c, m, n, ldc, beta)
		return
	}
	if beta != 0 && beta != 1 {
		scaleRows(c, m, n, ldc, beta)
		beta = 1
	}
	mr, nr := kern.mr, kern.nr
	mcMax := min(gemmMC/mr*mr, roundUp(m, mr))
	kcMax := min(gemmKC, k)
	ncMax := min(gemmNC/nr*nr, roundUp(n, nr)) // B blocks hold whole panels
	g.packA = grow(g.packA, mcMax*kcMax)
	g.packB = grow(g.packB, kcMax*ncMax)
	g.tile = grow(g.tile, mr*nr)
	direct := !tB // whole panels of an untransposed B are read in place
	for jc := 0; jc < n; jc += ncMax {
		nc := min(ncMax, n-jc)
		for pc := 0; pc < k; pc += gemmKC {
			kc := min(gemmKC, k-pc)
			packB(g.packB, tB, direct, b, ldb, pc, kc, jc, nc, nr)
			add := pc > 0 || beta != 0
			for ic := 0; ic < m; ic += mcMax {
				mc := min(mcMax, m-ic)
				packA(g.packA, tA, a, lda, ic, mc, pc, kc, mr, alpha)
				var bIn []float32
				if direct {
					bIn = b[pc*ldb+jc:]
				}
				g.block(kern, g.packA, mc, kc, bIn, ldb, nc, c[ic*ldc+jc:], ldc, add, nil, 0, 0)
			}
		}
	}
}

// block computes C[0:mc, 0:nc] (+)= Ap·B for one kc-deep slice: Ap is packed
// A (mc rows in panels of mr), B's panels of nr columns are read from bIn
// (row stride ldb) where whole and bIn is set, else from g.packB as packB
// left them. Reading B in place saves the copy, which cost a fifth of the
// time of the 1×1 convolutions' products. With bias set (the last kc slice
// only) each row i of the result then gets bias[i] added and is clamped to
// [lo, hi]. A whole panel's full tiles take one kernel call (fnN); the
// last rows (short) and a narrow last panel (edge) go straight into C
// where the kernel set has kernels for them; what is left, the corner
// tile, is computed aside and merged.
func (g *gemmer) block(kern microKernel, ap []float32, mc, kc int, bIn []float32, ldb, nc int, c []float32, ldc int, add bool, bias []float32, lo, hi float32) {
	mr, nr := kern.mr, kern.nr
	for jr := 0; jr < nc; jr += nr {
		nw := min(nr, nc-jr)
		bp, bs := &g.packB[jr*kc], nr
		if bIn != nil && nw == nr {
			bp, bs = &bIn[jr], ldb
		}
		ir := 0
		if full := mc / mr; nw == nr && full > 0 {
			switch {
			case bias == nil && kern.fnN != nil:
				kern.fnN(kc, &ap[0], bp, bs, &c[jr], ldc, add, full)
				ir = full * mr
			case bias != nil && kern.fnEpiN != nil:
				kern.fnEpiN(kc, &ap[0], bp, bs, &c[jr], ldc, add, &bias[0], lo, hi, full)
				ir = full * mr
			}
		}
		for ; ir < mc; ir += mr {
			a := &ap[ir*kc]
			mh := min(mr, mc-ir)
			off := ir*ldc + jr
			switch {
			case mh == mr && nw == nr && bias == nil:
				kern.fn(kc, a, bp, bs, &c[off], ldc, add)
				continue
			case mh == mr && nw == nr:
				kern.fnEpi(kc, a, bp, bs, &c[off], ldc, add, &bias[ir], lo, hi)
				continue
			case nw == nr && mh < len(kern.short) && bias == nil:
				kern.short[mh](kc, a, bp, bs, &c[off], ldc, add)
				continue
			case nw == nr && mh < len(kern.short):
				kern.shortEpi[mh](kc, a, bp, bs, &c[off], ldc, add, &bias[ir], lo, hi)
				continue
			case mh == mr && kern.edge != nil:
				vw := kern.vw
				mask := &laneMask[vw-(nw-1)%vw-1]
				switch {
				case nw <= vw && bias == nil:
					kern.edgeHalf(kc, a, bp, bs, &c[off], ldc, add, mask)
				case nw <= vw:
					kern.edgeHalfEpi(kc, a, bp, bs, &c[off], ldc, add, &bias[ir], lo, hi, mask)
				case bias == nil:
					kern.edge(kc, a, bp, bs, &c[off], ldc, add, mask)
				default:
					kern.edgeEpi(kc, a, bp, bs, &c[off], ldc, add, &bias[ir], lo, hi, mask)
				}
				continue
			}
			// Ragged edge: compute the tile aside, then merge the part
			// inside C.
			if fn := kern.half; fn != nil && nw <= nr/2 {
				fn(kc, a, bp, bs, &g.tile[0], nr, false)
			} else {
				kern.fn(kc, a, bp, bs, &g.tile[0], nr, false)
			}
			for i := 0; i < mh; i++ {
				dst := c[off+i*ldc : off+i*ldc+nw]
				mergeRow(dst, g.tile[i*nr:i*nr+nw], add)
				if bias != nil {
					biasClamp(dst, bias[ir+i], lo, hi)
				}
			}
		}
	}
}

// mergeRow puts one row of a ragged edge tile, computed aside, into its
// place in C: added to what is there (a later k block) or copied.
func mergeRow(dst, src []float32, add bool) {
	if !add {
		copy(dst, src)
		return
	}
	for j, v := range src {
		dst[j] += v
	}
}

// biasClamp sets x[j] = clamp(x[j] + b, lo, hi), as fnEpi does.
func biasClamp(x []float32, b, lo, hi float32) {
	for j, v := range x {
		x[j] = min(max(v+b, lo), hi)
	}
}

// packA copies alpha·op(A)[ic:ic+mc, pc:pc+kc] into panels of mr rows; within
// a panel the mr values of one k are consecutive. Rows past m are zero.
func packA(dst []float32, tA bool, a []float32, lda, ic, mc, pc, kc, mr int, alpha float32) {
	for ir := 0; ir < mc; ir += mr {
		p := dst[ir*kc : ir*kc+kc*mr]
		mh := min(mr, mc-ir)
		if mh < mr {
			clear(p)
		}
		i := 0
		if !tA { // rows in pairs, for the reason packB takes four
			for ; i+2 <= mh; i += 2 {
				o := (ic+ir+i)*lda + pc
				s0, s1 := a[o:o+kc], a[o+lda:o+lda+kc]
				for l := range s0 {
					d := p[l*mr+i : l*mr+i+2]
					d[0], d[1] = alpha*s0[l], alpha*s1[l]
				}
			}
		}
		for ; i < mh; i++ {
			row := ic + ir + i
			if tA {
				for l := 0; l < kc; l++ {
					p[l*mr+i] = alpha * a[(pc+l)*lda+row]
				}
			} else {
				src := a[row*lda+pc : row*lda+pc+kc]
				for l, v := range src {
					p[l*mr+i] = alpha * v
				}
			}
		}
	}
}

// packB copies op(B)[pc:pc+kc, jc:jc+nc] into panels of nr columns; within a
// panel the nr values of one k are consecutive. Columns past n are zero.
// With direct it skips the whole panels, which block reads in place.
func packB(dst []float32, tB, direct bool, b []float32, ldb, pc, kc, jc, nc, nr int) {
	for jr := 0; jr < nc; jr += nr {
		p := dst[jr*kc : jr*kc+kc*nr]
		nw := min(nr, nc-jr)
		if direct && nw == nr {
			continue
		}
		if tB {
			if nw < nr {
				clear(p)
			}
			// Four columns of the panel at a time: four source rows read
			// in step (BenchmarkGemm/avx2/dw…: 14 → 23 GFLOP/s over one at a time).
			j := 0
			for ; j+4 <= nw; j += 4 {
				o := (jc+jr+j)*ldb + pc
				s0, s1, s2, s3 := b[o:o+kc], b[o+ldb:o+ldb+kc], b[o+2*ldb:o+2*ldb+kc], b[o+3*ldb:o+3*ldb+kc]
				for l := range s0 {
					d := p[l*nr+j : l*nr+j+4]
					d[0], d[1], d[2], d[3] = s0[l], s1[l], s2[l], s3[l]
				}
			}
			for ; j < nw; j++ {
				src := b[(jc+jr+j)*ldb+pc : (jc+jr+j)*ldb+pc+kc]
				for l, v := range src {
					p[l*nr+j] = v
				}
			}
			continue
		}
		for l := 0; l < kc; l++ {
			src := b[(pc+l)*ldb+jc+jr : (pc+l)*ldb+jc+jr+nw]
			d := p[l*nr : l*nr+nr]
			copy(d, src)
			if nw < nr {
				clear(d[nw:])
			}
		}
	}
}

func scaleRows(c []float32, m, n, ldc int, beta float32) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// grow returns s with length n, reallocating only when it is too short.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// microKernel is a pair of register-blocked kernels for one instruction set.
//
// fn computes an mr×nr tile C = (add ? C : 0) + Ap·B over k, with Ap packed
// as k groups of mr values and B as k rows of nr values, ldb apart (nr for
// a packed panel). nr is also the
// width of the patch panels convGemm and convDot consume (convgemm.go).
//
// dot computes a dmr×dnr tile of A·Bᵀ for B in patch panels (convDot),
// leaving dmr·dnr vectors of vw partial sums in out.
type microKernel struct {
	name   string
	mr, nr int
	fn     kernFn
	// fnEpi is fn followed by bias and clamp (see Epilogue), bias[i] for row i.
	fnEpi kernEpi
	// fnN and fnEpiN, when set, are fn and fnEpi over tiles tiles down a
	// column panel in one call (tile t at a + t·mr·k, c + t·mr·ldc, bias +
	// t·mr).
	fnN    kernTiles
	fnEpiN kernEpiTiles
	// half, when set, is fn on the first nr/2 columns only: an edge panel
	// that narrow (a 7×7 map's 49th column) costs half the full tile.
	half kernFn
	// short[m] and shortEpi[m], when set, are fn and fnEpi on the first m
	// rows of a tile (a block's last rows: 128 channels are 21 tiles and
	// 2 rows), written straight into C.
	short    []kernFn
	shortEpi []kernEpi
	// edge and edgeEpi (edgeHalf and edgeHalfEpi) are fn and fnEpi (half
	// and its epilogue) with the last vector of each row read and written
	// under laneMask: an edge panel narrower than nr written straight into
	// C.
	edge, edgeHalf       kernMasked
	edgeEpi, edgeHalfEpi kernEpiMasked
	dmr, dnr             int
	vw                   int
	dot                  func(panels int, a *float32, lda int, b *float32, pstride int, out *float32, add bool)
	// im2col, when set, writes one panel of the patch matrix (nr = 32).
	im2col func(dst, src *float32, c, cs int, offs *[9]int, masks *[9]uint32)
}

type (
	kernFn        func(k int, a, b *float32, ldb int, c *float32, ldc int, add bool)
	kernEpi       func(k int, a, b *float32, ldb int, c *float32, ldc int, add bool, bias *float32, lo, hi float32)
	kernMasked    func(k int, a, b *float32, ldb int, c *float32, ldc int, add bool, mask *int32)
	kernEpiMasked func(k int, a, b *float32, ldb int, c *float32, ldc int, add bool, bias *float32, lo, hi float32, mask *int32)
	kernTiles     func(k int, a, b *float32, ldb int, c *float32, ldc int, add bool, tiles int)
	kernEpiTiles  func(k int, a, b *float32, ldb int, c *float32, ldc int, add bool, bias *float32, lo, hi float32, tiles int)
)

// laneMask[8-n:] starts with the mask of an 8-float vector's first n lanes
// (the AVX2 edge kernels').
var laneMask = [16]int32{-1, -1, -1, -1, -1, -1, -1, -1}

// activeKernel is chosen once from the CPU (and CCFACE_GEMM) at start-up and
// never changes after, so sharing it between Nets is race-free.
var activeKernel = pickKernel()

// GemmKernel names the matrix-multiply kernels in use ("avx512", "avx2",
// "blas32/gonum" or "blas32/openblas"), for benchmark reports.
func GemmKernel() string { return (&gemmer{}).kernel().name }

// dotScalarAdd adds Σ_{p in [p0,p1)} A[ii][p]·B[j0+jj][p] to C[ii][jj], B in
// the panel layout of patches (the edges convDot's kernel cannot take).
func dotScalarAdd(c []float32, ldc, mh, nw int, a []float32, lda int, bp []float32, pstride, nr, j0, p0, p1 int) {
	for ii := 0; ii < mh; ii++ {
		for jj := 0; jj < nw; jj++ {
			var s float32
			for p := p0; p < p1; p++ {
				s += a[ii*lda+p] * bp[(p/nr)*pstride+(j0+jj)*nr+p%nr]
			}
			c[ii*ldc+jj] += s
		}
	}
}
