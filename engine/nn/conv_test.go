package nn

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// nchwToCNHW reorders [N,C,HW] into [C,N,HW].
func nchwToCNHW(x []float32, n, c, hw int) []float32 {
	out := make([]float32, len(x))
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			copy(out[(ch*n+i)*hw:][:hw], x[(i*c+ch)*hw:][:hw])
		}
	}
	return out
}

// gorgoniaConv runs gorgonia's Conv2d (3×3, stride 1, pad 1) on NCHW x and
// returns y and, for loss = Σ y·r, the gradients of x and w.
func gorgoniaConv(t *testing.T, x, w, r []float32, n, cin, cout, h, wd int) (y, dx, dw []float32) {
	t.Helper()
	g := G.NewGraph()
	xn := G.NewTensor(g, tensor.Float32, 4, G.WithShape(n, cin, h, wd), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(n, cin, h, wd), tensor.WithBacking(append([]float32(nil), x...)))))
	wn := G.NewTensor(g, tensor.Float32, 4, G.WithShape(cout, cin, 3, 3), G.WithName("w"),
		G.WithValue(tensor.New(tensor.WithShape(cout, cin, 3, 3), tensor.WithBacking(append([]float32(nil), w...)))))
	rn := G.NewTensor(g, tensor.Float32, 4, G.WithShape(n, cout, h, wd), G.WithName("r"),
		G.WithValue(tensor.New(tensor.WithShape(n, cout, h, wd), tensor.WithBacking(append([]float32(nil), r...)))))
	yn, err := G.Conv2d(xn, wn, tensor.Shape{3, 3}, []int{1, 1}, []int{1, 1}, []int{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	prod, err := G.HadamardProd(yn, rn)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := G.Sum(prod)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(loss, xn, wn); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(xn, wn))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	get := func(v G.Value) []float32 { return append([]float32(nil), v.Data().([]float32)...) }
	gx, _ := xn.Grad()
	gw, _ := wn.Grad()
	return get(yn.Value()), get(gx), get(gw)
}

// TestConvMatchesGorgoniaConv2d checks the fused convolution and both its
// gradients against gorgonia's Conv2d on random data, for every GEMM path
// this machine has, with NCHW input (the stem) and CNHW input (the rest).
func TestConvMatchesGorgoniaConv2d(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	rnd := func(k int) []float32 {
		s := make([]float32, k)
		for i := range s {
			s[i] = float32(rng.NormFloat64())
		}
		return s
	}
	shapes := [][5]int{{2, 3, 8, 8, 8}, {3, 4, 8, 6, 6}, {2, 8, 4, 16, 16}, {1, 2, 3, 5, 7}}
	for _, kern := range kernelsUnderTest() {
		for _, sh := range shapes {
			n, cin, cout, h, wd := sh[0], sh[1], sh[2], sh[3], sh[4]
			hw := h * wd
			x, w, r := rnd(n*cin*hw), rnd(cout*cin*9), rnd(n*cout*hw)
			wantY, wantDx, wantDw := gorgoniaConv(t, x, w, r, n, cin, cout, h, wd)
			for _, nchw := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/%v/nchw=%v", kern.name, sh, nchw), func(t *testing.T) {
					ws := &workspace{gemm: gemmer{kern: kern}}
					st := &convState{ws: ws, cin: cin, cout: cout, n: n, h: h, w: wd, nchwIn: nchw, needDx: !nchw}
					in := x
					if !nchw {
						in = nchwToCNHW(x, n, cin, hw)
					}
					wT := denseOf(w, cout, cin, 3, 3)
					y, err := convOp{opBase{"conv"}, st}.Do(denseOf(in, shapeIn(nchw, n, cin, h, wd)...), wT)
					if err != nil {
						t.Fatal(err)
					}
					g := nchwToCNHW(r, n, cout, hw)
					closeTo(t, "y", y.Data().([]float32), nchwToCNHW(wantY, n, cout, hw), 1e-4)
					dw, err := convGradWOp{opBase{"dw"}, st}.Do(denseOf(in, shapeIn(nchw, n, cin, h, wd)...), denseOf(g, cout, n, h, wd))
					if err != nil {
						t.Fatal(err)
					}
					closeTo(t, "dw", dw.Data().([]float32), wantDw, 1e-4)
					if nchw {
						return
					}
					dx, err := convGradXOp{opBase{"dx"}, st}.Do(wT, denseOf(g, cout, n, h, wd))
					if err != nil {
						t.Fatal(err)
					}
					closeTo(t, "dx", dx.Data().([]float32), nchwToCNHW(wantDx, n, cin, hw), 1e-4)
				})
			}
		}
	}
}

func shapeIn(nchw bool, n, c, h, w int) []int {
	if nchw {
		return []int{n, c, h, w}
	}
	return []int{c, n, h, w}
}

func closeTo(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > tol*math.Max(1, math.Abs(float64(want[i]))) || math.IsNaN(float64(got[i])) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}
