package nn

import (
	"math"
	"math/rand"
	"testing"
)

// TestElementwiseAVX512MatchesGo runs each element-wise loop both ways on
// lengths with and without a masked tail; ReLU outputs include exact zeros.
func TestElementwiseAVX512MatchesGo(t *testing.T) {
	if !ewAVX512 {
		t.Skip("no AVX-512 on this CPU")
	}
	rng := rand.New(rand.NewSource(5))
	rnd := func(n int, relu bool) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(rng.NormFloat64() + 0.5)
			if relu && s[i] < 0.3 {
				s[i] = 0
			}
		}
		return s
	}
	both := func(f func() []float64) (asm, gov []float64) {
		asm = f()
		ewAVX512 = false
		defer func() { ewAVX512 = true }()
		return asm, f()
	}
	for _, n := range []int{1, 7, 16, 17, 31, 32, 33, 64, 100, 1024} {
		x, out, g, h := rnd(n, false), rnd(n, true), rnd(n, false), rnd(n, false)
		dst := make([]float32, n)
		f64s := func(s []float32) []float64 {
			r := make([]float64, len(s))
			for i, v := range s {
				r[i] = float64(v)
			}
			return r
		}
		cases := map[string]func() []float64{
			"sumShift": func() []float64 { a, b := sumShift(x, 0.25); return []float64{a, b} },
			"maskedMoments": func() []float64 {
				a, b := maskedMoments(x, out, g)
				return []float64{a, b}
			},
			"reluAffine":   func() []float64 { reluAffine(dst, x, 1.5, -0.7); return f64s(dst) },
			"maskedAffine": func() []float64 { maskedAffine(dst, x, out, g, 1.3, 0.2, 0.4); return f64s(dst) },
			"maskCopy":     func() []float64 { maskCopy(dst, out, g); return f64s(dst) },
			"addRelu":      func() []float64 { addRelu(dst, x, h, -0.3); return f64s(dst) },
		}
		for name, f := range cases {
			asm, gov := both(f)
			for i := range asm {
				if math.Abs(asm[i]-gov[i]) > 1e-5*math.Max(1, math.Abs(gov[i])) {
					t.Fatalf("%s n=%d [%d]: AVX-512 %v, Go %v", name, n, i, asm[i], gov[i])
				}
			}
		}
	}
}

// TestPoolAVX512MatchesGo checks the AVX-512 pool against the Go loops on
// widths below, at and above a 32-column chunk, with ties (values are
// quantised) and zeros, forward (max and winner) and backward.
func TestPoolAVX512MatchesGo(t *testing.T) {
	if !ewAVX512 {
		t.Skip("no AVX-512 on this CPU")
	}
	rng := rand.New(rand.NewSource(8))
	for _, w := range []int{2, 4, 6, 8, 16, 30, 32, 34, 64, 66} {
		for _, sh := range [][3]int{{1, 1, 2}, {2, 3, 4}} {
			c, n, h := sh[0], sh[1], sh[2]
			x := make([]float32, c*n*h*w)
			for i := range x {
				x[i] = float32(max(0, rng.Intn(7)-2)) // ties and zeros
			}
			run := func() (out, dx []float32, arg []uint8) {
				st := &poolState{}
				y, err := poolOp{opBase{"p"}, st}.Do(denseOf(x, c, n, h, w))
				if err != nil {
					t.Fatal(err)
				}
				g := make([]float32, len(y.Data().([]float32)))
				for i := range g {
					g[i] = float32(i + 1)
				}
				d, err := poolGradOp{opBase{"pg"}, st}.Do(denseOf(x, c, n, h, w), denseOf(g, c, n, h/2, w/2))
				if err != nil {
					t.Fatal(err)
				}
				return append([]float32(nil), y.Data().([]float32)...), append([]float32(nil), d.Data().([]float32)...), append([]uint8(nil), st.arg...)
			}
			ao, ad, aa := run()
			ewAVX512 = false
			go_, gd, ga := run()
			ewAVX512 = true
			for i := range go_ {
				if ao[i] != go_[i] || aa[i] != ga[i] {
					t.Fatalf("w=%d %v: out[%d] = %v (winner %d), Go %v (winner %d)", w, sh, i, ao[i], aa[i], go_[i], ga[i])
				}
			}
			for i := range gd {
				if ad[i] != gd[i] {
					t.Fatalf("w=%d %v: dx[%d] = %v, Go %v", w, sh, i, ad[i], gd[i])
				}
			}
		}
	}
}
