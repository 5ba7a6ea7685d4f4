package nn

// Gemm is the engine's matrix product for other engine packages (the ONNX
// importer runs its convolutions on it). Like a Net's own, it keeps packing
// buffers between calls: one Gemm per goroutine.
type Gemm struct {
	g      gemmer
	shared Packed // MulShared's
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C on row-major matrices, op(A)
// m×k and op(B) k×n, like BLAS Sgemm.
func (m *Gemm) Sgemm(tA, tB bool, rows, cols, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	m.g.sgemm(tA, tB, rows, cols, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Epilogue is what a convolution does to its product before anything reads
// it: add Bias[i] (nil: none) to row i, then clamp to [Lo, Hi] (a fused
// ReLU or ReLU6; ±Inf for none).
type Epilogue struct {
	Bias   []float32
	Lo, Hi float32
}

// MulShared computes c[i] = a·b[i] for every i (a rows×k, b[i] k×cols,
// c[i] rows×cols, all row-major and dense), packing a once for all of
// them: a batch of 1×1 convolutions shares its weights, and repacking
// them for every image cost as much as the products on small maps. With
// epi set, each c[i] then goes through it, in the micro-kernel's registers
// where the kernel can (a second pass over c cost 5% of a network's
// forward pass).
func (m *Gemm) MulShared(rows, cols, k int, a []float32, b, c [][]float32, epi *Epilogue) {
	m.Pack(&m.shared, rows, k, a)
	for i := range b {
		m.MulPacked(&m.shared, cols, b[i], c[i], epi)
	}
}

// Packed is a rows×k matrix a packed for the micro-kernel, to be
// multiplied by many matrices one at a time (MulPacked): what MulShared
// does for a batch, for a caller that runs several products on one image
// before the next. It keeps its buffer between Packs.
type Packed struct {
	rows, k int
	a       []float32 // as given, for the blas32 path
	panels  []float32
}

// Pack packs a (rows×k, row-major) into p.
func (m *Gemm) Pack(p *Packed, rows, k int, a []float32) {
	p.rows, p.k, p.a = rows, k, a
	kern := m.g.kernel()
	if kern.fn == nil || rows == 0 || k == 0 {
		return
	}
	mp := roundUp(rows, kern.mr)
	p.panels = grow(p.panels, mp*k)
	for pc := 0; pc < k; pc += gemmKC {
		packA(p.panels[mp*pc:], false, a, k, 0, rows, pc, min(gemmKC, k-pc), kern.mr, 1)
	}
}

// MulPacked computes c = a·b (b k×cols, c rows×cols, row-major and dense)
// for the a packed in p, then epi.
func (m *Gemm) MulPacked(p *Packed, cols int, b, c []float32, epi *Epilogue) {
	g := &m.g
	rows, k := p.rows, p.k
	kern := g.kernel()
	bias := g.epiBias(epi, rows)
	if kern.fn == nil || rows == 0 || cols == 0 || k == 0 {
		g.sgemm(false, false, rows, cols, k, 1, p.a, k, b, cols, 0, c, cols)
		for r := 0; bias != nil && r < rows; r++ {
			biasClamp(c[r*cols:(r+1)*cols], bias[r], epi.Lo, epi.Hi)
		}
		return
	}
	mr, nr := kern.mr, kern.nr
	mp := roundUp(rows, mr)
	ncMax := min(gemmNC/nr*nr, roundUp(cols, nr))
	g.packB = grow(g.packB, min(gemmKC, k)*ncMax)
	g.tile = grow(g.tile, mr*nr)
	for jc := 0; jc < cols; jc += ncMax {
		nc := min(ncMax, cols-jc)
		for pc := 0; pc < k; pc += gemmKC {
			kc := min(gemmKC, k-pc)
			packB(g.packB, false, true, b, cols, pc, kc, jc, nc, nr)
			var bs []float32
			var lo, hi float32
			if pc+kc == k && bias != nil {
				bs, lo, hi = bias, epi.Lo, epi.Hi
			}
			g.block(kern, p.panels[mp*pc:], rows, kc, b[pc*cols+jc:], cols, nc, c[jc:], cols, pc > 0, bs, lo, hi)
		}
	}
}

// epiBias returns the per-row bias epi asks for, padded with zeros to a
// whole micro-tile of rows (the kernel reads mr of them), or nil for no
// epilogue.
func (g *gemmer) epiBias(epi *Epilogue, rows int) []float32 {
	if epi == nil {
		return nil
	}
	n := roundUp(rows, max(1, g.kernel().mr))
	g.bias = grow(g.bias, n)
	clear(g.bias)
	copy(g.bias, epi.Bias)
	return g.bias
}
