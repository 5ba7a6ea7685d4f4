package nn

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// kernelsUnderTest returns every micro-kernel this machine can run, plus
// the blas32 fallback, so each is checked whichever one the build picks.
func kernelsUnderTest() []microKernel {
	return append([]microKernel{{name: "blas32"}}, allKernels()...)
}

func naiveGemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for l := 0; l < k; l++ {
				ai, bi := i*lda+l, l*ldb+j
				if tA {
					ai = l*lda + i
				}
				if tB {
					bi = j*ldb + l
				}
				av, bv := a[ai], b[bi]
				s += float64(av) * float64(bv)
			}
			c[i*ldc+j] = alpha*float32(s) + beta*c[i*ldc+j]
		}
	}
}

func TestGemmMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	rnd := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(rng.NormFloat64())
		}
		return s
	}
	sizes := [][3]int{{1, 1, 1}, {4, 24, 8}, {5, 25, 3}, {16, 2050, 27}, {97, 50, 300}, {64, 48, 513}, {8, 48, 0}}
	for _, kern := range kernelsUnderTest() {
		for _, sz := range sizes {
			for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				for _, ab := range [][2]float32{{1, 0}, {1, 1}, {0.5, 2}} {
					m, n, k := sz[0], sz[1], sz[2]
					lda, ldb, ldc := k+1, n+2, n+3
					if tr[0] {
						lda = m + 1
					}
					if tr[1] {
						ldb = k + 2
					}
					a, b := rnd(max(m, k)*lda+1), rnd(max(n, k)*ldb+1)
					c := rnd(m * ldc)
					want := append([]float32(nil), c...)
					naiveGemm(tr[0], tr[1], m, n, k, ab[0], a, lda, b, ldb, ab[1], want, ldc)
					var g gemmer
					g.kern = kern
					g.sgemm(tr[0], tr[1], m, n, k, ab[0], a, lda, b, ldb, ab[1], c, ldc)
					for i := range c {
						if d := math.Abs(float64(c[i] - want[i])); d > 1e-4*math.Max(1, math.Sqrt(float64(k))*math.Abs(float64(want[i]))) {
							t.Fatalf("%s %v t=%v alpha,beta=%v: c[%d] = %v, want %v", kern.name, sz, tr, ab, i, c[i], want[i])
						}
					}
				}
			}
		}
	}
}

// BenchmarkGemm measures the products of the width-16 backbone's second
// stage for 32 images (forward, input gradient, weight gradient).
func BenchmarkGemm(b *testing.B) {
	for _, kern := range kernelsUnderTest() {
		for _, sh := range []struct {
			name    string
			tA, tB  bool
			m, n, k int
		}{
			{"fwd64x2048x576", false, false, 64, 2048, 576},
			{"fwd16x32768x27", false, false, 16, 32768, 27},
			{"dw64x576x2048", false, true, 64, 576, 2048},
		} {
			b.Run(fmt.Sprintf("%s/%s", kern.name, sh.name), func(b *testing.B) {
				lda, ldb := sh.k, sh.n
				if sh.tB {
					ldb = sh.k
				}
				a := make([]float32, sh.m*sh.k)
				bb := make([]float32, sh.k*sh.n)
				c := make([]float32, sh.m*sh.n)
				for i := range a {
					a[i] = float32(i%7) - 3 // gonum skips zeros of A
				}
				for i := range bb {
					bb[i] = float32(i%5) - 2
				}
				g := gemmer{kern: kern}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					g.sgemm(sh.tA, sh.tB, sh.m, sh.n, sh.k, 1, a, lda, bb, ldb, 0, c, sh.n)
				}
				b.ReportMetric(2*float64(sh.m*sh.n*sh.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// TestConvProductsMatchNaive checks the fused patch products against
// im2col followed by a naive product: convGemm (forward and input
// gradient) and convDot (weight gradient), on shapes that take the AVX-512
// patch path, the Go patch path, partial panels, row edges and several
// chunks of panels.
func TestConvProductsMatchNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	rnd := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(rng.NormFloat64())
		}
		return s
	}
	for _, kern := range allKernels() {
		// c, n, h, w, m (output channels)
		for _, sh := range [][5]int{{3, 2, 32, 32, 16}, {16, 3, 16, 16, 32}, {64, 2, 8, 8, 64}, {5, 3, 6, 10, 7}, {2, 1, 3, 3, 3}, {32, 9, 8, 8, 12}} {
			c, n, h, w, m := sh[0], sh[1], sh[2], sh[3], sh[4]
			for _, nchw := range []bool{false, true} {
				src := rnd(c * n * h * w)
				cs, ns := n*h*w, h*w
				if nchw {
					cs, ns = h*w, c*h*w
				}
				k, P := c*9, n*h*w
				col := make([]float32, k*P)
				im2col(col, src, c, n, h, w, cs, ns)
				g := gemmer{kern: kern}
				a := rnd(m * k)
				got := make([]float32, m*P)
				want := make([]float32, m*P)
				g.convGemm(m, a, g.newPatches(src, c, n, h, w, cs, ns, k), got)
				naiveGemm(false, false, m, P, k, 1, a, k, col, P, 0, want, P)
				closeTo(t, fmt.Sprintf("%s %v nchw=%v convGemm", kern.name, sh, nchw), got, want, 1e-4*math.Sqrt(float64(k)))
				gr := rnd(m * P)
				gotW := rnd(m * k) // overwritten, not added to
				wantW := make([]float32, m*k)
				g.convDot(m, gr, g.newPatches(src, c, n, h, w, cs, ns, roundUp(k, g.dotRows())), gotW)
				naiveGemm(false, true, m, k, P, 1, gr, P, col, P, 0, wantW, k)
				closeTo(t, fmt.Sprintf("%s %v nchw=%v convDot", kern.name, sh, nchw), gotW, wantW, 1e-4*math.Sqrt(float64(P)))
			}
		}
	}
}

// TestMulSharedMatchesNaive: the shared-weight product of the 1×1
// convolutions reads whole panels of each image in place and packs the
// ragged ones, on row strides aligned and not, over one and several
// kc-deep slices; with an epilogue (bias and clamp, or clamp alone) in the
// kernel and on the ragged tiles: last rows of every count 1-5, edge
// panels narrower and wider than half a panel.
func TestMulSharedMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	rnd := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(rng.NormFloat64())
		}
		return s
	}
	// rows, cols, k
	for _, sh := range [][3]int{{7, 49, 5}, {16, 64, 32}, {13, 196, 300}, {6, 16, 1}, {20, 2100, 24}, {11, 30, 7}, {9, 75, 300}} {
		rows, cols, k := sh[0], sh[1], sh[2]
		inf := float32(math.Inf(1))
		for _, kern := range kernelsUnderTest() {
			for _, epi := range []*Epilogue{nil, {Bias: rnd(rows), Lo: -0.5, Hi: 0.7}, {Lo: 0, Hi: inf}} {
				a := rnd(rows * k)
				var b, c, want [][]float32
				for range 3 {
					b = append(b, rnd(k*cols))
					c = append(c, rnd(rows*cols)) // overwritten, not added to
					w := make([]float32, rows*cols)
					naiveGemm(false, false, rows, cols, k, 1, a, k, b[len(b)-1], cols, 0, w, cols)
					for j := range w {
						if epi != nil {
							if epi.Bias != nil {
								w[j] += epi.Bias[j/cols]
							}
							w[j] = min(max(w[j], epi.Lo), epi.Hi)
						}
					}
					want = append(want, w)
				}
				m := Gemm{g: gemmer{kern: kern}}
				m.MulShared(rows, cols, k, a, b, c, epi)
				for i := range c {
					closeTo(t, fmt.Sprintf("%s %v epilogue %v image %d", kern.name, sh, epi != nil, i), c[i], want[i], 1e-4*math.Sqrt(float64(k)))
				}
			}
		}
	}
}

// TestMulPacked: a Packed is packed once and multiplied by several
// matrices, each product (with and without an epilogue) the plain one;
// packing another, smaller matrix into it then gives that matrix's.
func TestMulPacked(t *testing.T) {
	for _, kern := range kernelsUnderTest() {
		m := Gemm{g: gemmer{kern: kern}}
		var p Packed
		for _, sh := range [][3]int{{13, 30, 300}, {7, 9, 5}} {
			rows, cols, k := sh[0], sh[1], sh[2]
			a := make([]float32, rows*k)
			for i := range a {
				a[i] = float32(i%5) - 2
			}
			m.Pack(&p, rows, k, a)
			for img := 0; img < 3; img++ {
				b := make([]float32, k*cols)
				for j := range b {
					b[j] = float32((img+j)%7) - 3
				}
				want := make([]float32, rows*cols)
				naiveGemm(false, false, rows, cols, k, 1, a, k, b, cols, 0, want, cols)
				var epi *Epilogue
				if img == 1 {
					epi = &Epilogue{Bias: make([]float32, rows), Lo: -5, Hi: 5}
					for i := range epi.Bias {
						epi.Bias[i] = float32(i) / 4
					}
					for j := range want {
						want[j] = min(max(want[j]+epi.Bias[j/cols], -5), 5)
					}
				}
				c := make([]float32, rows*cols)
				m.MulPacked(&p, cols, b, c, epi)
				closeTo(t, fmt.Sprintf("%s %v image %d", kern.name, sh, img), c, want, 1e-4*math.Sqrt(float64(k)))
			}
		}
	}
}

// BenchmarkMulShared runs the 1×1 convolutions of MobileFaceNet at 112 px
// (rows = output channels, cols = map size, k = input channels) for 32
// images with a ReLU6 epilogue: the products of the ONNX importer's
// forward pass, one core, against BenchmarkKernelPeak's ceiling.
func BenchmarkMulShared(b *testing.B) {
	for _, sh := range [][3]int{{128, 3136, 64}, {128, 784, 64}, {64, 784, 128}, {256, 784, 64}, {256, 196, 128}, {128, 196, 256}, {512, 196, 128}, {128, 49, 512}, {256, 49, 128}, {128, 49, 256}} {
		rows, cols, k := sh[0], sh[1], sh[2]
		b.Run(fmt.Sprintf("%dx%dx%d", rows, cols, k), func(b *testing.B) {
			a := make([]float32, rows*k)
			for i := range a {
				a[i] = float32(i%7) - 3
			}
			bs, cs := make([][]float32, 32), make([][]float32, 32)
			for i := range bs {
				bs[i], cs[i] = make([]float32, k*cols), make([]float32, rows*cols)
			}
			var g Gemm
			epi := &Epilogue{Bias: make([]float32, rows), Lo: 0, Hi: 6}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				g.MulShared(rows, cols, k, a, bs, cs, epi)
			}
			b.ReportMetric(2*float64(rows*cols*k*len(bs))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
