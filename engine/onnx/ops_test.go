package onnx

import (
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ccface/ccface/engine/onnx/onnxpb"
)

// A tiny model built in the test: one image input x, initialisers, nodes,
// and the output "y".
type tinyModel struct {
	opset int64
	x     []int // input shape
	inits []*onnxpb.TensorProto
	nodes []*onnxpb.NodeProto
}

func floatInit(name string, shape []int, data []float32) *onnxpb.TensorProto {
	t := &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), FloatData: data}
	for _, d := range shape {
		t.Dims = append(t.Dims, int64(d))
	}
	return t
}

func intInit(name string, data ...int64) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)),
		Dims: []int64{int64(len(data))}, Int64Data: data}
}

func node(op string, ins, outs []string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{OpType: proto.String(op), Input: ins, Output: outs, Attribute: attrs, Name: proto.String(op + "_" + outs[0])}
}

func ints(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

func intAttr(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func floatAttr(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func strAttr(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

func valueInfoProto(name string, shape []int) *onnxpb.ValueInfoProto {
	var dims []*onnxpb.TensorShapeProto_Dimension
	for _, d := range shape {
		dims = append(dims, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Shape: &onnxpb.TensorShapeProto{Dim: dims}}}}}
}

// write saves the model in a temporary file, so the test goes through Load.
func (tm tinyModel) write(t *testing.T) string {
	t.Helper()
	if tm.opset == 0 {
		tm.opset = 11
	}
	mp := &onnxpb.ModelProto{IrVersion: proto.Int64(6), ProducerName: proto.String("ccface test"),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: proto.Int64(tm.opset)}},
		Graph: &onnxpb.GraphProto{Name: proto.String("tiny"), Node: tm.nodes, Initializer: tm.inits,
			Input: []*onnxpb.ValueInfoProto{valueInfoProto("x", tm.x)}, Output: []*onnxpb.ValueInfoProto{{Name: proto.String("y")}}}}
	raw, err := proto.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tiny.onnx")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// run loads the model, feeds x (batch tm.x[0]) and returns y and its shape.
func (tm tinyModel) run(t *testing.T, x []float32) ([]float32, []int) {
	t.Helper()
	m, err := Load(tm.write(t))
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.NewRunner(tm.x[0], tm.x[2], tm.x[3])
	if err != nil {
		t.Fatal(err)
	}
	copy(r.Input(), x)
	if err := r.Run(); err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), r.Output(0)...), r.OutputShape(0)
}

func randn(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

func near(t *testing.T, what string, got, want []float32, gotShape, wantShape []int, tol float64) {
	t.Helper()
	if !sameShape(gotShape, wantShape) {
		t.Fatalf("%s: shape %v, want %v", what, gotShape, wantShape)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > tol*(1+math.Abs(float64(want[i]))) || math.IsNaN(float64(got[i])) {
			t.Fatalf("%s: value %d is %g, want %g", what, i, got[i], want[i])
		}
	}
}

// directConv is the textbook loop: NCHW, groups, strides, pads [t,l,b,r].
func directConv(x []float32, n, c, h, w int, wt []float32, cout, kh, kw, s, group int, pads [4]int, bias []float32) ([]float32, []int) {
	ho := (h+pads[0]+pads[2]-kh)/s + 1
	wo := (w+pads[1]+pads[3]-kw)/s + 1
	cg, og := c/group, cout/group
	out := make([]float32, n*cout*ho*wo)
	for i := 0; i < n; i++ {
		for o := 0; o < cout; o++ {
			gr := o / og
			for y := 0; y < ho; y++ {
				for xx := 0; xx < wo; xx++ {
					var acc float64
					if bias != nil {
						acc = float64(bias[o])
					}
					for ci := 0; ci < cg; ci++ {
						for ky := 0; ky < kh; ky++ {
							for kx := 0; kx < kw; kx++ {
								sy, sx := y*s+ky-pads[0], xx*s+kx-pads[1]
								if sy < 0 || sy >= h || sx < 0 || sx >= w {
									continue
								}
								acc += float64(x[((i*c+gr*cg+ci)*h+sy)*w+sx]) * float64(wt[((o*cg+ci)*kh+ky)*kw+kx])
							}
						}
					}
					out[((i*cout+o)*ho+y)*wo+xx] = float32(acc)
				}
			}
		}
	}
	return out, []int{n, cout, ho, wo}
}

func TestConvAgainstDirectLoop(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	cases := []struct {
		name                          string
		n, c, h, w, cout, k, s, group int
		pads                          [4]int
		bias                          bool
		act                           string // "", "Relu", "Clip"
	}{
		{"dense 3x3 s1", 2, 3, 9, 7, 5, 3, 1, 1, [4]int{1, 1, 1, 1}, true, ""},
		{"stem 3x3 s2", 2, 3, 12, 12, 8, 3, 2, 1, [4]int{1, 1, 1, 1}, true, "Clip"},
		{"pointwise", 3, 16, 7, 7, 24, 1, 1, 1, [4]int{}, true, "Relu"},
		{"pointwise no bias", 1, 5, 4, 6, 3, 1, 1, 1, [4]int{}, false, ""},
		{"depthwise 3x3 s1", 2, 6, 13, 11, 6, 3, 1, 6, [4]int{1, 1, 1, 1}, true, "Clip"},
		{"depthwise 3x3 s2", 2, 4, 14, 14, 4, 3, 2, 4, [4]int{1, 1, 1, 1}, true, ""},
		{"depthwise 3x3 s2 odd", 1, 3, 13, 9, 3, 3, 2, 3, [4]int{1, 1, 1, 1}, false, "Relu"},
		{"depthwise 3x3 s2 wide", 2, 3, 9, 40, 3, 3, 2, 3, [4]int{1, 1, 1, 1}, true, "Clip"},
		{"depthwise 3x3 s2 wide, even left pad", 1, 2, 7, 37, 2, 3, 2, 2, [4]int{0, 0, 1, 1}, true, ""},
		{"depthwise 7x7 GDC", 3, 8, 7, 7, 8, 7, 1, 8, [4]int{}, true, ""},
		{"depthwise asymmetric pads", 1, 2, 6, 10, 2, 3, 1, 2, [4]int{0, 2, 1, 0}, true, ""},
		{"grouped", 2, 4, 6, 6, 6, 3, 1, 2, [4]int{1, 1, 1, 1}, true, ""},
		{"strided 1x1", 1, 4, 8, 8, 3, 1, 2, 1, [4]int{}, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cg := tc.c / tc.group
			wt := randn(rng, tc.cout*cg*tc.k*tc.k)
			x := randn(rng, tc.n*tc.c*tc.h*tc.w)
			tm := tinyModel{x: []int{tc.n, tc.c, tc.h, tc.w}, inits: []*onnxpb.TensorProto{floatInit("w", []int{tc.cout, cg, tc.k, tc.k}, wt)}}
			ins := []string{"x", "w"}
			var bias []float32
			if tc.bias {
				bias = randn(rng, tc.cout)
				tm.inits = append(tm.inits, floatInit("b", []int{tc.cout}, bias))
				ins = append(ins, "b")
			}
			out := "y"
			if tc.act != "" {
				out = "c"
			}
			p := tc.pads
			tm.nodes = append(tm.nodes, node("Conv", ins, []string{out}, ints("kernel_shape", int64(tc.k), int64(tc.k)),
				ints("strides", int64(tc.s), int64(tc.s)), ints("pads", int64(p[0]), int64(p[1]), int64(p[2]), int64(p[3])),
				intAttr("group", int64(tc.group))))
			want, shape := directConv(x, tc.n, tc.c, tc.h, tc.w, wt, tc.cout, tc.k, tc.k, tc.s, tc.group, p, bias)
			switch tc.act {
			case "Relu":
				tm.nodes = append(tm.nodes, node("Relu", []string{"c"}, []string{"y"}))
				for i, v := range want {
					want[i] = max(v, 0)
				}
			case "Clip": // opset 11: bounds as inputs, from Constant nodes
				tm.nodes = append(tm.nodes,
					node("Constant", nil, []string{"lo"}, &onnxpb.AttributeProto{Name: proto.String("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: floatInit("", nil, []float32{0})}),
					node("Constant", nil, []string{"hi"}, &onnxpb.AttributeProto{Name: proto.String("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: floatInit("", nil, []float32{1})}),
					node("Clip", []string{"c", "lo", "hi"}, []string{"y"}))
				for i, v := range want {
					want[i] = min(max(v, 0), 1)
				}
			}
			got, gshape := tm.run(t, x)
			near(t, tc.name, got, want, gshape, shape, 1e-4)
		})
	}
}

// TestResidualAddFused: a 1×1 convolution whose only reader is an Add of
// a same-shaped tensor (MobileFaceNet's residual blocks) adds it in the
// product's epilogue; the result must be the convolution plus the tensor,
// on both operand orders.
func TestResidualAddFused(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	const n, c, h, w = 3, 8, 5, 6
	wt, bias := randn(rng, c*c), randn(rng, c)
	x := randn(rng, n*c*h*w)
	r := make([]float32, len(x))
	for i, v := range x {
		r[i] = max(v, 0)
	}
	conv, shape := directConv(r, n, c, h, w, wt, c, 1, 1, 1, 1, [4]int{}, bias)
	for _, swap := range []bool{false, true} {
		tm := tinyModel{x: []int{n, c, h, w}, inits: []*onnxpb.TensorProto{floatInit("w", []int{c, c, 1, 1}, wt), floatInit("b", []int{c}, bias)}}
		add := []string{"c", "r"}
		if swap {
			add = []string{"r", "c"}
		}
		tm.nodes = append(tm.nodes, node("Relu", []string{"x"}, []string{"r"}),
			node("Conv", []string{"r", "w", "b"}, []string{"c"}, ints("kernel_shape", 1, 1)),
			node("Add", add, []string{"y"}))
		want := make([]float32, len(conv))
		for i := range want {
			want[i] = conv[i] + r[i]
		}
		got, gshape := tm.run(t, x)
		near(t, fmt.Sprintf("conv + residual (swapped %v)", swap), got, want, gshape, shape, 1e-5)
	}
}

// TestDepthwiseKernelMatchesGo checks the vector kernel against the plain
// loop on random offsets and lengths.
func TestDepthwiseKernelMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for trial := 0; trial < 50; trial++ {
		n := 8 * (1 + rng.Intn(40))
		taps := 1 + rng.Intn(49)
		if trial%3 == 0 {
			taps = 9 // a 3×3 window: its own kernel
		}
		src := randn(rng, n+200)
		offs := make([]int, taps)
		for i := range offs {
			offs[i] = 4 * rng.Intn(200)
		}
		w := randn(rng, taps)
		got, want := make([]float32, n), make([]float32, n)
		dwTaps(got, src, offs, w, 0.5, -1, 2)
		dwTapsGo(want, src, offs, w, 0.5, -1, 2)
		near(t, "dwTaps", got, want, []int{n}, []int{n}, 1e-5)
		x := randn(rng, n+rng.Intn(8))
		y := append([]float32(nil), x...)
		biasClip(x, 0.25, -0.5, 0.75)
		biasClipGo(y, 0.25, -0.5, 0.75)
		near(t, "biasClip", x, y, []int{len(x)}, []int{len(y)}, 0)
		m := rng.Intn(80)
		ev, od := make([]float32, (m+1)/2), make([]float32, m/2)
		deinterleave2Rows(ev, od, 0, x, 0, 1, min(m, len(x)))
		for j := 0; j < min(m, len(x)); j++ {
			if got := [2][]float32{ev, od}[j%2][j/2]; got != x[j] {
				t.Fatalf("deinterleave2Rows of %d floats: float %d came out %v, want %v", m, j, got, x[j])
			}
		}
		// Outputs of a ReLU6, some at its bounds, some NaN.
		yc := randn(rng, n+rng.Intn(8))
		for j := range yc {
			yc[j] = [4]float32{0, 6, yc[j] + 3, float32(math.NaN())}[rng.Intn(4)]
		}
		gm := randn(rng, len(yc))
		mg, mw := make([]float32, len(yc)), make([]float32, len(yc))
		clipMask(mg, yc, gm, 0, 6)
		clipMaskGo(mw, yc, gm, 0, 6)
		near(t, "clipMask", mg, mw, []int{len(mg)}, []int{len(mw)}, 0)
		gd := randn(rng, 1+rng.Intn(n)) // within src at every offset
		fo := make([]int, taps)         // dwDots takes offsets in floats
		for i, o := range offs {
			fo[i] = o / 4
		}
		dd, dw := randn(rng, taps), make([]float32, taps)
		copy(dw, dd)
		dwDots(dd, gd, src, fo)
		dwDotsGo(dw, gd, src, fo)
		near(t, "dwDots", dd, dw, []int{taps}, []int{taps}, 1e-4)
		back := make([]float32, min(m, len(x)))
		interleave2(back, ev, od)
		near(t, "interleave2", back, x[:len(back)], []int{len(back)}, []int{len(back)}, 0)

		sa, sc := randn(rng, len(x)), randn(rng, len(x))
		sd, sw := make([]float32, len(x)), make([]float32, len(x))
		addVV(sd, sa, sc)
		addVVGo(sw, sa, sc)
		near(t, "addVV", sd, sw, []int{len(sd)}, []int{len(sw)}, 0)

		// Planes into padded buffers and back: what is outside the rows
		// must stay as it was.
		rows, cols := 1+rng.Intn(9), 1+rng.Intn(40)
		ss, ds := cols+rng.Intn(5), cols+rng.Intn(5)
		plane := randn(rng, (rows-1)*ss+cols)
		cr, cw := randn(rng, (rows-1)*ds+cols+rng.Intn(4)), []float32(nil)
		cw = append(cw, cr...)
		copyRows(cr, ds, plane, ss, rows, cols)
		copyRowsGo(cw, ds, plane, ss, rows, cols)
		near(t, "copyRows", cr, cw, []int{len(cr)}, []int{len(cw)}, 0)
		half := (cols + 1) / 2
		plane = randn(rng, (rows-1)*2*ss+cols)
		er, or := randn(rng, (rows-1)*ds+half+3), randn(rng, (rows-1)*ds+half+3)
		ew, ow := append([]float32(nil), er...), append([]float32(nil), or...)
		deinterleave2Rows(er, or, ds, plane, 2*ss, rows, cols)
		deinterleave2RowsGo(ew, ow, ds, plane, 2*ss, rows, cols)
		near(t, "deinterleave2Rows even", er, ew, []int{len(er)}, []int{len(ew)}, 0)
		near(t, "deinterleave2Rows odd", or, ow, []int{len(or)}, []int{len(ow)}, 0)
	}
}

func TestElementwiseOps(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	xs := []int{2, 3, 4, 5}
	x := randn(rng, prod(xs))
	ch := randn(rng, 3)
	scalar := []float32{0.7}
	row := randn(rng, 5)
	each := func(f func(i, c, w int, v float32) float32) []float32 {
		out := make([]float32, len(x))
		for i, v := range x {
			out[i] = f(i, (i/20)%3, i%5, v)
		}
		return out
	}
	cases := []struct {
		name  string
		opset int64
		inits []*onnxpb.TensorProto
		nodes []*onnxpb.NodeProto
		want  []float32
	}{
		{"Relu", 11, nil, []*onnxpb.NodeProto{node("Relu", []string{"x"}, []string{"y"})},
			each(func(_, _, _ int, v float32) float32 { return max(v, 0) })},
		{"Sigmoid", 11, nil, []*onnxpb.NodeProto{node("Sigmoid", []string{"x"}, []string{"y"})},
			each(func(_, _, _ int, v float32) float32 { return float32(1 / (1 + math.Exp(-float64(v)))) })},
		{"Clip attributes (opset 6)", 6, nil, []*onnxpb.NodeProto{node("Clip", []string{"x"}, []string{"y"}, floatAttr("min", -0.5), floatAttr("max", 0.5))},
			each(func(_, _, _ int, v float32) float32 { return min(max(v, -0.5), 0.5) })},
		{"Clip inputs, max only", 11, []*onnxpb.TensorProto{floatInit("hi", nil, []float32{0.3})},
			[]*onnxpb.NodeProto{node("Clip", []string{"x", "", "hi"}, []string{"y"})},
			each(func(_, _, _ int, v float32) float32 { return min(v, 0.3) })},
		{"PRelu per channel", 11, []*onnxpb.TensorProto{floatInit("s", []int{3, 1, 1}, ch)},
			[]*onnxpb.NodeProto{node("PRelu", []string{"x", "s"}, []string{"y"})},
			each(func(_, c, _ int, v float32) float32 {
				if v < 0 {
					return v * ch[c]
				}
				return v
			})},
		{"Add per channel", 11, []*onnxpb.TensorProto{floatInit("c", []int{3, 1, 1}, ch)},
			[]*onnxpb.NodeProto{node("Add", []string{"x", "c"}, []string{"y"})},
			each(func(_, c, _ int, v float32) float32 { return v + ch[c] })},
		{"Sub scalar first", 11, []*onnxpb.TensorProto{floatInit("s", nil, scalar)},
			[]*onnxpb.NodeProto{node("Sub", []string{"s", "x"}, []string{"y"})},
			each(func(_, _, _ int, v float32) float32 { return scalar[0] - v })},
		{"Mul row", 11, []*onnxpb.TensorProto{floatInit("r", []int{5}, row)},
			[]*onnxpb.NodeProto{node("Mul", []string{"x", "r"}, []string{"y"})},
			each(func(_, _, w int, v float32) float32 { return v * row[w] })},
		{"Div scalar", 11, []*onnxpb.TensorProto{floatInit("s", []int{1}, scalar)},
			[]*onnxpb.NodeProto{node("Div", []string{"x", "s"}, []string{"y"})},
			each(func(_, _, _ int, v float32) float32 { return v / scalar[0] })},
		{"Add same shape (residual)", 11, nil,
			[]*onnxpb.NodeProto{node("Relu", []string{"x"}, []string{"r"}), node("Add", []string{"x", "r"}, []string{"y"})},
			each(func(_, _, _ int, v float32) float32 { return v + max(v, 0) })},
		{"Identity and Dropout", 11, nil,
			[]*onnxpb.NodeProto{node("Identity", []string{"x"}, []string{"i"}), node("Dropout", []string{"i"}, []string{"d"}), node("Relu", []string{"d"}, []string{"y"})},
			each(func(_, _, _ int, v float32) float32 { return max(v, 0) })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, shape := tinyModel{opset: tc.opset, x: xs, inits: tc.inits, nodes: tc.nodes}.run(t, x)
			near(t, tc.name, got, tc.want, shape, xs, 1e-6)
		})
	}
}

func TestBatchNormalization(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	xs := []int{2, 3, 4, 4}
	x := randn(rng, prod(xs))
	sc, bi, mu := randn(rng, 3), randn(rng, 3), randn(rng, 3)
	vr := []float32{0.5, 1.5, 2}
	tm := tinyModel{x: xs, inits: []*onnxpb.TensorProto{floatInit("s", []int{3}, sc), floatInit("b", []int{3}, bi),
		floatInit("m", []int{3}, mu), floatInit("v", []int{3}, vr)},
		nodes: []*onnxpb.NodeProto{node("BatchNormalization", []string{"x", "s", "b", "m", "v"}, []string{"y"}, floatAttr("epsilon", 1e-3))}}
	want := make([]float32, len(x))
	for i, v := range x {
		c := (i / 16) % 3
		want[i] = float32(float64(v-mu[c])/math.Sqrt(float64(vr[c])+1e-3))*sc[c] + bi[c]
	}
	got, shape := tm.run(t, x)
	near(t, "BatchNormalization", got, want, shape, xs, 1e-5)
}

// TestHeadOps covers the ops after the feature maps: pooling, flatten,
// reshape with a batch fixed at 1 in the export, Gemm and MatMul.
func TestHeadOps(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	xs := []int{3, 4, 5, 5}
	x := randn(rng, prod(xs))
	gap := make([]float32, 12)
	for c := range gap {
		var s float64
		for _, v := range x[c*25 : (c+1)*25] {
			s += float64(v)
		}
		gap[c] = float32(s / 25)
	}
	w := randn(rng, 6*4) // Gemm B transposed: [6, 4]
	bias := randn(rng, 6)
	gemm := make([]float32, 3*6)
	for i := 0; i < 3; i++ {
		for o := 0; o < 6; o++ {
			s := float64(bias[o]) * 0.5
			for k := 0; k < 4; k++ {
				s += 2 * float64(gap[i*4+k]) * float64(w[o*4+k])
			}
			gemm[i*6+o] = float32(s)
		}
	}
	t.Run("GlobalAveragePool Flatten Gemm", func(t *testing.T) {
		tm := tinyModel{x: xs, inits: []*onnxpb.TensorProto{floatInit("w", []int{6, 4}, w), floatInit("b", []int{6}, bias)},
			nodes: []*onnxpb.NodeProto{node("GlobalAveragePool", []string{"x"}, []string{"g"}), node("Flatten", []string{"g"}, []string{"f"}),
				node("Gemm", []string{"f", "w", "b"}, []string{"y"}, intAttr("transB", 1), floatAttr("alpha", 2), floatAttr("beta", 0.5))}}
		got, shape := tm.run(t, x)
		near(t, "Gemm", got, gemm, shape, []int{3, 6}, 1e-5)
	})
	t.Run("Reshape [1,-1] is per image, MatMul", func(t *testing.T) {
		wm := make([]float32, 4*6) // MatMul B: [4, 6] = wᵀ
		for o := 0; o < 6; o++ {
			for k := 0; k < 4; k++ {
				wm[k*6+o] = w[o*4+k]
			}
		}
		want := make([]float32, 18)
		for i := range want {
			want[i] = (gemm[i] - 0.5*bias[i%6]) / 2
		}
		tm := tinyModel{x: xs, inits: []*onnxpb.TensorProto{floatInit("w", []int{4, 6}, wm), intInit("shape", 1, -1)},
			nodes: []*onnxpb.NodeProto{node("GlobalAveragePool", []string{"x"}, []string{"g"}), node("Reshape", []string{"g", "shape"}, []string{"f"}),
				node("MatMul", []string{"f", "w"}, []string{"y"})}}
		// The export's batch is 1: the tiny model declares x with batch 3,
		// so declare 1 and run 3 as a user's batch.
		tm.x = []int{1, 4, 5, 5}
		m, err := Load(tm.write(t))
		if err != nil {
			t.Fatal(err)
		}
		r, err := m.NewRunner(3, 5, 5)
		if err != nil {
			t.Fatal(err)
		}
		copy(r.Input(), x)
		if err := r.Run(); err != nil {
			t.Fatal(err)
		}
		near(t, "Reshape+MatMul", r.Output(0), want, r.OutputShape(0), []int{3, 6}, 1e-5)
	})
}

// directPool is the textbook pooling loop; ho, wo are given (ceil mode).
func directPool(x []float32, nc, h, w, k, s, pad, ho, wo int, isMax, inclPad bool) []float32 {
	out := make([]float32, nc*ho*wo)
	for c := 0; c < nc; c++ {
		for y := 0; y < ho; y++ {
			for xx := 0; xx < wo; xx++ {
				acc, cnt, padCnt := float32(math.Inf(-1)), 0, 0
				if !isMax {
					acc = 0
				}
				for ky := 0; ky < k; ky++ {
					for kx := 0; kx < k; kx++ {
						sy, sx := y*s+ky-pad, xx*s+kx-pad
						if sy < h+pad && sx < w+pad {
							padCnt++
						}
						if sy < 0 || sy >= h || sx < 0 || sx >= w {
							continue
						}
						v := x[(c*h+sy)*w+sx]
						if isMax {
							acc = max(acc, v)
						} else {
							acc += v
						}
						cnt++
					}
				}
				if !isMax {
					if inclPad {
						cnt = padCnt
					}
					acc /= float32(cnt)
				}
				out[(c*ho+y)*wo+xx] = acc
			}
		}
	}
	return out
}

func TestPooling(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	xs := []int{2, 3, 7, 7}
	x := randn(rng, prod(xs))
	cases := []struct {
		name                 string
		op                   string
		k, s, pad, ho        int
		ceil, inclPad, isMax bool
	}{
		{"MaxPool 3x3 s2 p1", "MaxPool", 3, 2, 1, 4, false, false, true},
		{"MaxPool 2x2 s2 floor", "MaxPool", 2, 2, 0, 3, false, false, true},
		{"AveragePool 2x2 s2 ceil (SCRFD)", "AveragePool", 2, 2, 0, 4, true, false, false},
		{"AveragePool 3x3 s1 p1 count pads", "AveragePool", 3, 1, 1, 7, false, true, false},
		{"AveragePool 3x3 s1 p1 exclude pads", "AveragePool", 3, 1, 1, 7, false, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := int64(tc.pad)
			attrs := []*onnxpb.AttributeProto{ints("kernel_shape", int64(tc.k), int64(tc.k)), ints("strides", int64(tc.s), int64(tc.s)), ints("pads", p, p, p, p)}
			if tc.ceil {
				attrs = append(attrs, intAttr("ceil_mode", 1))
			}
			if tc.inclPad {
				attrs = append(attrs, intAttr("count_include_pad", 1))
			}
			tm := tinyModel{x: xs, nodes: []*onnxpb.NodeProto{node(tc.op, []string{"x"}, []string{"y"}, attrs...)}}
			got, shape := tm.run(t, x)
			want := directPool(x, 6, 7, 7, tc.k, tc.s, tc.pad, tc.ho, tc.ho, tc.isMax, tc.inclPad)
			near(t, tc.name, got, want, shape, []int{2, 3, tc.ho, tc.ho}, 1e-6)
		})
	}
}

// TestDetectorOps covers the SCRFD operators: a shape computation folded at
// build time (Shape, Gather, Unsqueeze, Concat, Slice) feeding a nearest
// Resize, then Transpose, Reshape, Concat and Slice on values.
func TestDetectorOps(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	xs := []int{1, 2, 3, 4}
	x := randn(rng, prod(xs))
	t.Run("Resize to sizes from Shape (as SCRFD's FPN)", func(t *testing.T) {
		tm := tinyModel{x: xs, inits: []*onnxpb.TensorProto{intInit("i2", 2), intInit("i3", 3), intInit("z", 0), intInit("two", 2),
			floatInit("roi", []int{0}, nil), floatInit("sc", []int{0}, nil), intInit("st", 0), intInit("en", 2)},
			nodes: []*onnxpb.NodeProto{
				node("Shape", []string{"x"}, []string{"s"}),
				node("Gather", []string{"s", "i2"}, []string{"h"}, intAttr("axis", 0)),
				node("Gather", []string{"s", "i3"}, []string{"w"}, intAttr("axis", 0)),
				node("Mul", []string{"h", "two"}, []string{"h2"}),
				node("Mul", []string{"w", "two"}, []string{"w2"}),
				node("Slice", []string{"s", "st", "en", "z"}, []string{"nc"}),
				node("Concat", []string{"nc", "h2", "w2"}, []string{"size"}, intAttr("axis", 0)),
				node("Resize", []string{"x", "roi", "sc", "size"}, []string{"y"}, strAttr("mode", "nearest"),
					strAttr("coordinate_transformation_mode", "asymmetric"), strAttr("nearest_mode", "floor")),
			}}
		want := make([]float32, 2*6*8)
		for c := 0; c < 2; c++ {
			for y := 0; y < 6; y++ {
				for xx := 0; xx < 8; xx++ {
					want[(c*6+y)*8+xx] = x[(c*3+y/2)*4+xx/2]
				}
			}
		}
		got, shape := tm.run(t, x)
		near(t, "Resize", got, want, shape, []int{1, 2, 6, 8}, 0)
	})
	t.Run("Transpose Reshape Concat Slice", func(t *testing.T) {
		tm := tinyModel{x: xs, inits: []*onnxpb.TensorProto{intInit("shape", -1, 2), intInit("st", 1), intInit("en", 100), intInit("ax", 0)},
			nodes: []*onnxpb.NodeProto{
				node("Transpose", []string{"x"}, []string{"t"}, ints("perm", 2, 3, 0, 1)),
				node("Reshape", []string{"t", "shape"}, []string{"r"}),
				node("Concat", []string{"r", "r"}, []string{"c"}, intAttr("axis", 1)),
				node("Slice", []string{"c", "st", "en", "ax"}, []string{"y"}),
			}}
		// t[y][x][0][c] = x[0][c][y][x]; r = [12, 2]; c = [12, 4]; y = rows 1..11.
		var want []float32
		for p := 1; p < 12; p++ {
			yy, xx := p/4, p%4
			a, b := x[yy*4+xx], x[(3+yy)*4+xx]
			want = append(want, a, b, a, b)
		}
		got, shape := tm.run(t, x)
		near(t, "Transpose..Slice", got, want, shape, []int{11, 4}, 0)
	})
}
