package onnx

import (
	"math"
	"math/rand"
	"testing"

	"github.com/ccface/ccface/engine/onnx/onnxpb"
)

// TestConvChain runs a chain of every kind of convolution (dense with
// stride 2, depthwise, grouped, 1×1 with a residual Add) that an
// inference graph runs image by image as one kernel, against direct loops.
func TestConvChain(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	const n, c, h, w, o = 3, 4, 9, 9, 8
	x := randn(rng, n*c*h*w)
	w1, b1 := randn(rng, o*c*9), randn(rng, o)
	w2, b2 := randn(rng, o*9), randn(rng, o)
	w3 := randn(rng, o*(o/2)*9)
	w4, b4 := randn(rng, o*o), randn(rng, o)
	ws := randn(rng, o*c)
	relu := func(v []float32) []float32 {
		r := make([]float32, len(v))
		for i, f := range v {
			r[i] = max(f, 0)
		}
		return r
	}
	pad1 := [4]int{1, 1, 1, 1}
	r := relu(x)
	c1, _ := directConv(r, n, c, h, w, w1, o, 3, 3, 2, 1, pad1, b1)
	c2, _ := directConv(relu(c1), n, o, 5, 5, w2, o, 3, 3, 1, o, pad1, b2)
	c3, _ := directConv(relu(c2), n, o, 5, 5, w3, o, 3, 3, 1, 2, pad1, nil)
	c4, _ := directConv(c3, n, o, 5, 5, w4, o, 1, 1, 1, 1, [4]int{}, b4)
	sc, shape := directConv(r, n, c, h, w, ws, o, 1, 1, 2, 1, [4]int{}, nil)
	want := make([]float32, len(c4))
	for i := range want {
		want[i] = c4[i] + sc[i]
	}

	pads := ints("pads", 1, 1, 1, 1)
	tm := tinyModel{x: []int{n, c, h, w}, inits: []*onnxpb.TensorProto{
		floatInit("w1", []int{o, c, 3, 3}, w1), floatInit("b1", []int{o}, b1),
		floatInit("w2", []int{o, 1, 3, 3}, w2), floatInit("b2", []int{o}, b2),
		floatInit("w3", []int{o, o / 2, 3, 3}, w3),
		floatInit("w4", []int{o, o, 1, 1}, w4), floatInit("b4", []int{o}, b4),
		floatInit("ws", []int{o, c, 1, 1}, ws)}}
	tm.nodes = append(tm.nodes, node("Relu", []string{"x"}, []string{"r"}),
		node("Conv", []string{"r", "ws"}, []string{"s"}, ints("kernel_shape", 1, 1), ints("strides", 2, 2)),
		node("Conv", []string{"r", "w1", "b1"}, []string{"c1"}, ints("kernel_shape", 3, 3), ints("strides", 2, 2), pads),
		node("Relu", []string{"c1"}, []string{"a1"}),
		node("Conv", []string{"a1", "w2", "b2"}, []string{"c2"}, ints("kernel_shape", 3, 3), pads, intAttr("group", o)),
		node("Relu", []string{"c2"}, []string{"a2"}),
		node("Conv", []string{"a2", "w3"}, []string{"c3"}, ints("kernel_shape", 3, 3), pads, intAttr("group", 2)),
		node("Conv", []string{"c3", "w4", "b4"}, []string{"c4"}, ints("kernel_shape", 1, 1)),
		node("Add", []string{"c4", "s"}, []string{"y"}))
	m, err := Load(tm.write(t))
	if err != nil {
		t.Fatal(err)
	}
	run, err := m.NewRunner(n, h, w)
	if err != nil {
		t.Fatal(err)
	}
	// Relu, the shortcut, and the chain c1..c4 with the Add.
	if k := len(run.rt.readers); k != 3 {
		t.Errorf("the graph has %d kernels, want 3 (the four convolutions chained)", k)
	}
	copy(run.Input(), x)
	if err := run.Run(); err != nil {
		t.Fatal(err)
	}
	near(t, "chain", run.Output(0), want, run.OutputShape(0), shape, 1e-5)
}

// TestDepthwise3x3 checks the in-place 3×3 kernel against the phase
// layout's on planes of every width from 9 (narrower ones go to the phase
// layout) to three chunks, and the network's: the same sums bit for bit,
// and nothing written outside the planes.
func TestDepthwise3x3(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 here: the phase layout runs every depthwise convolution")
	}
	rng := rand.New(rand.NewSource(8))
	widths := []int{56, 28, 14, 7}
	for w := 1; w <= 25; w++ {
		widths = append(widths, w)
	}
	for _, w := range widths {
		for _, h := range []int{1, 2, 3, 5, w} {
			g := &convGeom{n: 2, cin: 3, h: h, w: w, cout: 3, kh: 3, kw: 3, sh: 1, sw: 1, pt: 1, pl: 1, pb: 1, pr: 1,
				ho: h, wo: w, group: 3, depthwise: true, lo: -0.5, hi: 1.5, hasBias: true}
			size := g.n * g.cin * h * w
			x, wt, bias := randn(rng, size), randn(rng, 27), randn(rng, 3)
			got := make([]float32, size+9)
			for i := range got {
				got[i] = 42
			}
			if ran := depthwise3x3(g, got[:size], x, wt, bias); ran != (w >= 9) {
				t.Fatalf("%d×%d planes: the in-place kernel ran: %v, want %v", h, w, ran, w >= 9)
			}
			if w < 9 {
				continue
			}
			want := make([]float32, size)
			depthwisePhases(&runtime{}, g, want, x, wt, bias)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%d×%d planes: output %d is %v, the phase layout's %v", h, w, i, got[i], want[i])
				}
			}
			for i, v := range got[size:] {
				if v != 42 {
					t.Fatalf("%d×%d planes: wrote %v %d floats past the output", h, w, v, i+1)
				}
			}
		}
	}
}
