package onnx

import (
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ccface/ccface/engine/nn"
	"github.com/ccface/ccface/engine/onnx/onnxpb"
)

// lossGraph is a model built for training inside a test graph, with
// loss = Σ y⊙R for a fixed random R; eval runs it and returns the loss in
// float64 (from y, so finite differences are not lost in float32 rounding
// of the sum), leaving the gradients of wrt readable.
type lossGraph struct {
	vm   G.VM
	wrt  G.Nodes // x0 first when computedX, then params in order
	eval func() float64
}

// newLossGraph binds x0 (shape) and params; with computedX the input is
// x0·1, a computed node, so its gradient flows too.
func newLossGraph(t testing.TB, m *Model, x0 []float32, shape []int, params nn.Params, computedX bool, rng *rand.Rand) *lossGraph {
	t.Helper()
	g := G.NewGraph()
	xin := G.NewTensor(g, tensor.Float32, 4, G.WithShape(shape...), G.WithName("x0"),
		G.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(x0))))
	x := xin
	var wrt G.Nodes
	if computedX {
		var err error
		if x, err = G.Mul(xin, G.NewConstant(float32(1))); err != nil {
			t.Fatal(err)
		}
		wrt = append(wrt, xin)
	}
	byName := map[string]*G.Node{}
	for _, p := range params {
		nd := G.NewTensor(g, tensor.Float32, len(p.Shape), G.WithShape(p.Shape...), G.WithName(p.Name),
			G.WithValue(tensor.New(tensor.WithShape(p.Shape...), tensor.WithBacking(p.Data))))
		byName[p.Name] = nd
		wrt = append(wrt, nd)
	}
	y, err := m.Build(g, x, func(name string) (*G.Node, error) { return byName[name], nil }, true)
	if err != nil {
		t.Fatal(err)
	}
	r := randn(rng, prod(y.Shape()))
	rn := G.NewTensor(g, tensor.Float32, 2, G.WithShape(y.Shape()...), G.WithName("R"),
		G.WithValue(tensor.New(tensor.WithShape(y.Shape()...), tensor.WithBacking(r))))
	prodN, err := G.HadamardProd(y, rn)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := G.Sum(prodN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(loss, wrt...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(wrt...))
	return &lossGraph{vm: vm, wrt: wrt, eval: func() float64 {
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		defer vm.Reset()
		var s float64
		for j, v := range y.Value().Data().([]float32) {
			s += float64(v) * float64(r[j])
		}
		return s
	}}
}

// gradCheck builds the model for training inside a test graph whose input
// x = x0·1 is computed (so its gradient flows too), takes loss = Σ y⊙R for
// a fixed random R, and compares the gradients of every trainable weight
// and of x0 with central differences of the loss, coordinate by
// coordinate. wantWeights lists the weights that must be trainable.
func gradCheck(t *testing.T, tm tinyModel, wantWeights ...string) {
	t.Helper()
	m, err := Load(tm.write(t))
	if err != nil {
		t.Fatal(err)
	}
	params := m.TrainableWeights()
	var names []string
	for _, p := range params {
		names = append(names, p.Name)
	}
	if len(names) != len(wantWeights) {
		t.Fatalf("trainable weights %v, want %v", names, wantWeights)
	}
	for i := range names {
		if names[i] != wantWeights[i] {
			t.Fatalf("trainable weights %v, want %v", names, wantWeights)
		}
	}
	rng := rand.New(rand.NewSource(7))
	n, side := tm.x[0], tm.x[2]
	x0 := randn(rng, n*3*side*side)
	for i := range x0 {
		x0[i] *= 0.5
	}
	lg := newLossGraph(t, m, x0, []int{n, 3, side, side}, params, true, rng)
	defer lg.vm.Close()
	wrt, eval := lg.wrt, lg.eval
	eval()
	grads := make([][]float32, len(wrt))
	for i, nd := range wrt {
		gv, err := nd.Grad()
		if err != nil {
			t.Fatalf("gradient of %s: %v", nd.Name(), err)
		}
		grads[i] = append([]float32(nil), gv.Data().([]float32)...)
	}
	data := [][]float32{x0}
	for _, p := range params {
		data = append(data, p.Data)
	}
	const eps, tol = 1e-3, 1e-2
	center := eval()
	kinks, total := 0, 0
	for i, d := range data {
		worst := 0.0
		for j := range d {
			orig := d[j]
			d[j] = orig + eps
			up := eval()
			d[j] = orig - eps
			dn := eval()
			d[j] = orig
			fd := (up - dn) / (2 * eps)
			scale := math.Max(1, math.Abs(fd))
			total++
			// A ReLU or clamp switching inside ±eps makes the two one-sided
			// slopes disagree: no derivative to compare there.
			if math.Abs((up-center)-(center-dn))/eps > tol*scale {
				kinks++
				continue
			}
			diff := math.Abs(fd - float64(grads[i][j]))
			worst = math.Max(worst, diff/scale)
			if diff > tol*scale {
				t.Fatalf("d loss / d %s[%d] = %v, finite difference %v", wrt[i].Name(), j, grads[i][j], fd)
			}
		}
		t.Logf("%s: %d coordinates, worst relative difference %.2g", wrt[i].Name(), len(d), worst)
	}
	if kinks > total/20 {
		t.Fatalf("%d of %d coordinates sit on a kink: the check compared too few", kinks, total)
	}
	t.Logf("%d of %d coordinates skipped at a kink", kinks, total)
}

func constF(name string, v ...float32) *onnxpb.NodeProto {
	n := node("Constant", nil, []string{name}, &onnxpb.AttributeProto{Name: strp("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(),
		T: floatInit("", nil, v)})
	return n
}

func TestGradConvolutions(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	w := func(name string, shape ...int) *onnxpb.TensorProto {
		d := randn(rng, prod(shape))
		for i := range d {
			d[i] *= 0.5
		}
		return floatInit(name, shape, d)
	}
	pads1 := ints("pads", 1, 1, 1, 1)
	t.Run("dense stem 3x3 s2 with ReLU6, dense 3x3 s1 with Relu", func(t *testing.T) {
		gradCheck(t, tinyModel{x: []int{2, 3, 6, 6},
			inits: []*onnxpb.TensorProto{w("w1", 4, 3, 3, 3), w("b1", 4), w("w2", 2, 4, 3, 3), w("b2", 2), intInit("shape", 0, -1)},
			nodes: []*onnxpb.NodeProto{constF("lo", 0), constF("hi", 6),
				node("Conv", []string{"x", "w1", "b1"}, []string{"c1"}, ints("kernel_shape", 3, 3), ints("strides", 2, 2), pads1),
				node("Clip", []string{"c1", "lo", "hi"}, []string{"a1"}),
				node("Conv", []string{"a1", "w2", "b2"}, []string{"c2"}, pads1),
				node("Relu", []string{"c2"}, []string{"a2"}),
				node("Reshape", []string{"a2", "shape"}, []string{"y"})}},
			"w1", "b1", "w2", "b2")
	})
	t.Run("pointwise, depthwise 3x3 s1 and s2, 7x7 GDC", func(t *testing.T) {
		gradCheck(t, tinyModel{x: []int{2, 3, 14, 14},
			inits: []*onnxpb.TensorProto{w("pw", 4, 3, 1, 1), w("pb", 4), w("d1", 4, 1, 3, 3), w("d1b", 4),
				w("d2", 4, 1, 3, 3), w("gdc", 4, 1, 7, 7), w("gdcb", 4)},
			nodes: []*onnxpb.NodeProto{constF("lo", 0), constF("hi", 6),
				node("Conv", []string{"x", "pw", "pb"}, []string{"p"}),
				node("Conv", []string{"p", "d1", "d1b"}, []string{"c1"}, intAttr("group", 4), pads1),
				node("Clip", []string{"c1", "lo", "hi"}, []string{"a1"}),
				node("Conv", []string{"a1", "d2"}, []string{"c2"}, intAttr("group", 4), pads1, ints("strides", 2, 2)),
				node("Conv", []string{"c2", "gdc", "gdcb"}, []string{"g"}, intAttr("group", 4)),
				node("Flatten", []string{"g"}, []string{"y"})}},
			"pw", "pb", "d1", "d1b", "d2", "gdc", "gdcb")
	})
	t.Run("depthwise 3x3 s2 on an odd map, grouped 3x3", func(t *testing.T) {
		gradCheck(t, tinyModel{x: []int{1, 3, 9, 9},
			inits: []*onnxpb.TensorProto{w("d", 3, 1, 3, 3), w("db", 3), w("gw", 6, 1, 3, 3)},
			nodes: []*onnxpb.NodeProto{
				node("Conv", []string{"x", "d", "db"}, []string{"c"}, intAttr("group", 3), pads1, ints("strides", 2, 2)),
				node("Conv", []string{"c", "gw"}, []string{"g"}, intAttr("group", 3)),
				node("Flatten", []string{"g"}, []string{"y"})}},
			"d", "db", "gw")
	})
	// Rows of 16 and more take the vector (de)interleave of the phases.
	t.Run("depthwise 3x3 s2 on wide maps, even and odd left pad", func(t *testing.T) {
		gradCheck(t, tinyModel{x: []int{1, 3, 17, 17},
			inits: []*onnxpb.TensorProto{w("pw", 2, 3, 1, 1), w("d1", 2, 1, 3, 3), w("d1b", 2), w("d2", 2, 1, 3, 3)},
			nodes: []*onnxpb.NodeProto{
				node("Conv", []string{"x", "pw"}, []string{"p"}),
				node("Conv", []string{"p", "d1", "d1b"}, []string{"c1"}, intAttr("group", 2), pads1, ints("strides", 2, 2)),
				node("Conv", []string{"p", "d2"}, []string{"c2"}, intAttr("group", 2), ints("pads", 0, 0, 1, 1), ints("strides", 2, 2)),
				node("Flatten", []string{"c1"}, []string{"f1"}),
				node("Flatten", []string{"c2"}, []string{"f2"}),
				node("Concat", []string{"f1", "f2"}, []string{"y"}, intAttr("axis", 1))}},
			"pw", "d1", "d1b", "d2")
	})
}

func smallW(rng *rand.Rand) func(name string, shape ...int) *onnxpb.TensorProto {
	return func(name string, shape ...int) *onnxpb.TensorProto {
		d := randn(rng, prod(shape))
		for i := range d {
			d[i] *= 0.5
		}
		return floatInit(name, shape, d)
	}
}

// TestGradHeadOps: PRelu with learnable slopes, broadcast arithmetic with
// both operands computed, Sigmoid, GlobalAveragePool, Flatten, Gemm (both
// layouts of B, a broadcast C), MatMul and its bias Add.
func TestGradHeadOps(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	w := smallW(rng)
	for _, transB := range []int64{0, 1} {
		gw := w("gw", 64, 6)
		if transB == 1 {
			gw = w("gw", 6, 64)
		}
		gradCheck(t, tinyModel{x: []int{2, 3, 4, 4},
			inits: []*onnxpb.TensorProto{w("pw", 4, 3, 1, 1), w("slope", 4, 1, 1), w("shift", 1, 4, 1, 1),
				gw, w("gc", 6), w("mm", 6, 5), w("mb", 5), floatInit("one", []int{1}, []float32{1})},
			nodes: []*onnxpb.NodeProto{
				node("Conv", []string{"x", "pw"}, []string{"a"}),
				node("PRelu", []string{"a", "slope"}, []string{"p"}),
				node("GlobalAveragePool", []string{"p"}, []string{"m"}),
				node("Sigmoid", []string{"m"}, []string{"s"}),
				node("Mul", []string{"p", "s"}, []string{"q"}),
				node("Sub", []string{"q", "m"}, []string{"r"}),
				node("Add", []string{"r", "shift"}, []string{"u"}),
				node("Add", []string{"s", "one"}, []string{"den"}),
				node("Div", []string{"u", "den"}, []string{"v"}),
				node("Sub", []string{"shift", "v"}, []string{"v2"}),
				node("Flatten", []string{"v2"}, []string{"f"}),
				node("Gemm", []string{"f", "gw", "gc"}, []string{"h"}, intAttr("transB", transB), floatAttr("alpha", 0.7), floatAttr("beta", 1.3)),
				node("MatMul", []string{"h", "mm"}, []string{"z"}),
				node("Add", []string{"z", "mb"}, []string{"y"})}},
			"pw", "slope", "gw", "gc", "mm", "mb")
	}
}

// TestGradBatchNormAndPools: batch norm as a frozen affine map (scale and
// bias learn, the statistics stay), unfused Relu and Clip, max and average
// pooling, Transpose, Concat and Reshape.
func TestGradBatchNormAndPools(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	w := smallW(rng)
	vr := floatInit("var", []int{4}, []float32{0.5, 1, 2, 0.25})
	gradCheck(t, tinyModel{x: []int{2, 3, 6, 6},
		inits: []*onnxpb.TensorProto{w("cw", 4, 3, 3, 3), w("scale", 4), w("bias", 4), w("mean", 4), vr, intInit("shape", 0, -1)},
		nodes: []*onnxpb.NodeProto{constF("lo", -0.5), constF("hi", 0.8),
			node("Conv", []string{"x", "cw"}, []string{"c"}, ints("pads", 1, 1, 1, 1)),
			node("BatchNormalization", []string{"c", "scale", "bias", "mean", "var"}, []string{"bn"}),
			node("Relu", []string{"bn"}, []string{"r"}),
			node("Clip", []string{"bn", "lo", "hi"}, []string{"cl"}),
			node("MaxPool", []string{"r"}, []string{"mp"}, ints("kernel_shape", 2, 2), ints("strides", 2, 2)),
			node("AveragePool", []string{"cl"}, []string{"ap"}, ints("kernel_shape", 3, 3), ints("strides", 2, 2), ints("pads", 1, 1, 1, 1)),
			node("Transpose", []string{"ap"}, []string{"tp"}, ints("perm", 0, 1, 3, 2)),
			node("Concat", []string{"mp", "tp"}, []string{"cat"}, intAttr("axis", 1)),
			node("Reshape", []string{"cat", "shape"}, []string{"y"})}},
		"cw", "scale", "bias")
}
