package nn

// Gemm is the engine's matrix product for other engine packages (the ONNX
// importer runs its convolutions on it). Like a Net's own, it keeps packing
// buffers between calls: one Gemm per goroutine.
type Gemm struct{ g gemmer }

// Sgemm computes C = alpha·op(A)·op(B) + beta·C on row-major matrices, op(A)
// m×k and op(B) k×n, like BLAS Sgemm.
func (m *Gemm) Sgemm(tA, tB bool, rows, cols, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	m.g.sgemm(tA, tB, rows, cols, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
