package onnx

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/ccface/ccface/engine/nn"
	"github.com/ccface/ccface/engine/onnx/onnxpb"
)

// gradFn adds the backward pass of kernel k: the gradients of its inputs
// (nil where k.diff is false) given its input nodes, its output node and
// the gradient of its output.
type gradFn func(k *kernel, ins G.Nodes, out, g *G.Node) (G.Nodes, error)

// Build wires the model's graph into g on the engine's input x, an
// [N,3,side,side] node holding images normalised to [-1,1] as the engine's
// datasets pipeline makes them ((u-0.5)/0.5 for u in [0,1], RGB). A first
// op converts them to the model's own preprocessing (m.Pre), so callers
// never convert. param returns the graph node bound to the weight of an
// ONNX initialiser name: Build asks it for exactly the weights
// TrainableWeights lists; the other initialisers (frozen batch-norm
// statistics, constants of the arithmetic) are read from the file.
//
// With train, every op gets its backward pass (gradients flow to the
// weights, and to x when x is computed rather than an input) and keeps its
// activations for it; without, activations share pooled buffers. Returns
// the [N, D] output node (the model's first output, one vector per image).
func (m *Model) Build(g *G.ExprGraph, x *G.Node, param func(name string) (*G.Node, error), train bool) (*G.Node, error) {
	side, err := m.FaceSize()
	if err != nil {
		return nil, err
	}
	s := x.Shape()
	if len(s) != 4 || s[1] != 3 || s[2] != side || s[3] != side {
		return nil, fmt.Errorf("onnx: %s takes [N,3,%d,%d] images, the graph's input is %v", m.Path, side, side, s)
	}
	if param == nil {
		return nil, fmt.Errorf("onnx: %s: Build needs a param function binding the weights", m.Path)
	}
	b := newBuilder(m, g, s[0])
	b.param, b.train = param, train
	b.trainable = map[string]bool{}
	for _, p := range m.TrainableWeights() {
		b.trainable[p.Name] = true
	}
	pre, err := b.preprocess(&value{shape: []int(s), node: x, grad: train && !x.IsVar()})
	if err != nil {
		return nil, err
	}
	b.vals[m.Input.Name] = pre
	if err := b.buildGraph(); err != nil {
		return nil, err
	}
	if train {
		for _, k := range b.kernels {
			if k.diff != nil && k.grad == nil {
				return nil, fmt.Errorf("onnx: %s: %s has no backward pass, so ccface cannot fine-tune this model; it can still be a frozen teacher", m.Path, k.name)
			}
		}
	}
	out := b.vals[m.Outputs[0].Name]
	if len(out.shape) < 2 || out.shape[0] != b.batch || prod(out.shape) != b.batch*prod(out.shape[1:]) {
		return nil, fmt.Errorf("onnx: %s: output %s has shape %v for %d images; ccface wants one embedding vector per image ([N, D])", m.Path, m.Outputs[0].Name, out.shape, b.batch)
	}
	if len(out.shape) == 2 {
		return out.node, nil
	}
	b.node = &onnxpb.NodeProto{OpType: strp("Flatten"), Name: strp("ccface output")}
	vs, err := b.copyAs(b.node, out, []int{b.batch, prod(out.shape[1:])})
	if err != nil {
		return nil, err
	}
	vs[0].k.pooled = false
	return vs[0].node, nil
}

func strp(s string) *string { return &s }

// preprocess adds the first kernel: engine images in [-1,1] (RGB) to the
// model's input, (255·(x+1)/2 − Mean)/Std in the model's channel order.
func (b *builder) preprocess(x *value) (*value, error) {
	pre := b.m.Pre
	scale := 127.5 / pre.Std
	shift := (127.5 - pre.Mean) / pre.Std
	n, plane := x.shape[0], x.shape[2]*x.shape[3]
	from := [3]int{0, 1, 2} // model channel c reads engine channel from[c]
	if pre.BGR {
		from = [3]int{2, 1, 0}
	}
	b.node = &onnxpb.NodeProto{OpType: strp("Preprocess"), Name: strp(pre.String())}
	v, err := b.kernelOp(x.shape, []string{"x"}, []*value{x}, func(_ *runtime, dst []float32, src [][]float32) {
		for i := 0; i < n; i++ {
			for c, f := range from {
				d := dst[(i*3+c)*plane:][:plane]
				for j, u := range src[0][(i*3+f)*plane:][:plane] {
					d[j] = u*scale + shift
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	v.k.resets = true
	v.k.grad = func(k *kernel, ins G.Nodes, out, g *G.Node) (G.Nodes, error) {
		dx, err := backOp(k, "dx", x.shape, func(_ *runtime, dst []float32, src [][]float32) {
			for i := 0; i < n; i++ {
				for c, f := range from { // the permutation is its own inverse
					d := dst[(i*3+f)*plane:][:plane]
					for j, gv := range src[0][(i*3+c)*plane:][:plane] {
						d[j] = gv * scale
					}
				}
			}
		}, g)
		return G.Nodes{dx}, err
	}
	return v, nil
}

// TrainableWeights lists, in file order, the float initialisers Build
// reads through param: the weights and biases of Conv, Gemm and MatMul,
// PRelu slopes, BatchNormalization scales and biases, and a bias added
// right after a MatMul (how exporters write a Linear layer on 3-D input).
// It returns fresh copies, so a teacher and a student do not share
// backing arrays.
func (m *Model) TrainableWeights() nn.Params {
	made := map[string]string{} // value → operator that writes it
	names := map[string]bool{}
	for _, n := range m.Proto.GetGraph().GetNode() {
		for _, i := range weightInputs(n, made) {
			if i < len(n.GetInput()) {
				names[n.GetInput()[i]] = true
			}
		}
		for _, o := range n.GetOutput() {
			made[o] = n.GetOpType()
		}
	}
	var ps nn.Params
	for _, p := range m.Weights {
		if names[p.Name] {
			ps = append(ps, p)
		}
	}
	return ps.Clone()
}

// weightInputs returns the indices of n's inputs that hold learned
// weights. Batch-norm mean and variance are not among them: ccface keeps
// batch norm as a frozen affine map (see batchNormGrad).
func weightInputs(n *onnxpb.NodeProto, made map[string]string) []int {
	switch n.GetOpType() {
	case "Conv", "Gemm", "BatchNormalization":
		return []int{1, 2}
	case "MatMul", "PRelu":
		return []int{1}
	case "Add":
		ins := n.GetInput()
		if len(ins) == 2 {
			for i, in := range ins {
				if made[in] == "MatMul" {
					return []int{1 - i}
				}
			}
		}
	}
	return nil
}

// Side is the square input side of a recogniser, 0 when the input is not
// square and fixed (FaceSize says why).
func (m *Model) Side() int {
	s, err := m.FaceSize()
	if err != nil {
		return 0
	}
	return s
}

// EmbedDim is the size of the vector the model outputs per image, 0 when
// the model is not a recogniser ccface can build.
func (m *Model) EmbedDim() int {
	side := m.Side()
	if side == 0 || len(m.Outputs) == 0 {
		return 0
	}
	r, err := m.NewRunner(2, side, side)
	if err != nil {
		return 0
	}
	s := r.OutputShape(0)
	if len(s) < 2 || s[0] != 2 {
		return 0
	}
	return prod(s[1:])
}
