package onnx

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sort"
	"strings"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ccface/ccface/engine/nn"
	"github.com/ccface/ccface/engine/onnx/onnxpb"
)

// Runner is one compiled graph of a model for a fixed batch and input size.
// Like nn.Net it must not run on two goroutines at once; several Runners
// of one model (graph replicas) may run concurrently, since a run only
// reads the weights.
type Runner struct {
	N, H, W int
	// MACs is the multiply-adds of one image (Conv, Gemm, MatMul).
	MACs int64

	model   *Model
	g       *G.ExprGraph
	vm      G.VM
	input   []float32
	outputs []*value
	rt      *runtime
	// Nodes maps each weight's name to its graph node (issue #16 trains
	// them).
	Nodes map[string]*G.Node
}

// value is what the builder knows of one ONNX value: a graph node with a
// static shape, or a constant folded at build time.
type value struct {
	shape []int
	node  *G.Node
	k     *kernel // the op writing node, nil for the input and weights
	c     *tval
	grad  bool // a training graph computes its gradient
}

// runtime is what a runner's ops share while running: the scratch and
// product buffers, and the pool their outputs come from.
type runtime struct {
	gemm    nn.Gemm
	scratch [2][]float32
	free    map[int][][]float32 // released buffers, by length
	refs    []int               // per kernel: readers still to run
	readers []int               // per kernel: readers in the graph
}

func (rt *runtime) acquire(n int) []float32 {
	if l := rt.free[n]; len(l) > 0 {
		b := l[len(l)-1]
		rt.free[n] = l[:len(l)-1]
		return b
	}
	return make([]float32, n)
}

func (rt *runtime) release(b []float32) { rt.free[len(b)] = append(rt.free[len(b)], b) }

// buf returns scratch buffer i with at least n floats.
func (rt *runtime) buf(i, n int) []float32 {
	if cap(rt.scratch[i]) < n {
		rt.scratch[i] = make([]float32, n)
	}
	return rt.scratch[i][:n]
}

// kernel is one ONNX node (or a fused pair), or one of their backward
// passes, as a graph op.
type kernel struct {
	name   string
	id     int // in the forward graph; -1 for backward kernels
	ins    [][]int
	inKern []*kernel // the kernel writing each input, nil for weights and the input
	out    []int
	run    func(rt *runtime, dst []float32, src [][]float32)
	rt     *runtime
	// pooled outputs come from the runtime's pool and go back once their
	// last reader has run; the others (graph outputs, every buffer of a
	// training graph, whose backward pass reads the activations) own one
	// buffer, reused every run.
	pooled bool
	resets bool      // the first kernel of a built graph: a run starts here
	own    []float32 // the buffer of an unpooled kernel
	last   []float32 // the output of the last run
	// diff says which inputs get a gradient, grad builds them (nil: the
	// operator has no backward pass, or the graph is for inference).
	diff []bool
	grad gradFn
}

// gop adapts a kernel to gorgonia's Op interface.
type gop struct{ k *kernel }

func anyTensor(dims int) hm.Type {
	return G.TensorType{Dims: max(1, dims), Of: hm.TypeVariable('a')}
}

func (o gop) Arity() int { return len(o.k.ins) }
func (o gop) Type() hm.Type {
	ts := make([]hm.Type, 0, len(o.k.ins)+1)
	for _, s := range o.k.ins {
		ts = append(ts, anyTensor(len(s)))
	}
	return hm.NewFnType(append(ts, anyTensor(len(o.k.out)))...)
}
func (o gop) InferShape(...G.DimSizer) (tensor.Shape, error) { return nodeShape(o.k.out), nil }
func (o gop) ReturnsPtr() bool                               { return false }
func (o gop) CallsExtern() bool                              { return false }
func (o gop) OverwritesInput() int                           { return -1 }
func (o gop) WriteHash(h hash.Hash)                          { fmt.Fprintf(h, "%s#%p", o.k.name, o.k) } // one node per kernel: gorgonia merges nodes of equal hash and inputs
func (o gop) Hashcode() uint32                               { h := fnv.New32a(); o.WriteHash(h); return h.Sum32() }
func (o gop) String() string                                 { return o.k.name }

func (o gop) Do(vals ...G.Value) (G.Value, error) {
	k := o.k
	rt := k.rt
	src := make([][]float32, len(vals))
	for i, v := range vals {
		d, ok := v.Data().([]float32)
		if !ok {
			return nil, fmt.Errorf("onnx: %s: input %d is %T, want float32", k.name, i, v.Data())
		}
		src[i] = d
	}
	if k.resets {
		copy(rt.refs, rt.readers)
	}
	var dst []float32
	if k.pooled {
		dst = rt.acquire(prod(k.out))
	} else {
		if len(k.own) != prod(k.out) {
			k.own = make([]float32, prod(k.out))
		}
		dst = k.own
	}
	k.run(rt, dst, src)
	k.last = dst
	if k.pooled && rt.readers[k.id] == 0 { // nothing reads it
		rt.release(dst)
	}
	for i, in := range k.inKern {
		if in == nil || !in.pooled || seenBefore(k.inKern[:i], in) {
			continue
		}
		if rt.refs[in.id]--; rt.refs[in.id] == 0 {
			rt.release(in.last)
		}
	}
	return tensor.New(tensor.WithShape(nodeShape(k.out)...), tensor.WithBacking(dst)), nil
}

// DiffWRT says which inputs get a gradient: none in an inference graph.
func (o gop) DiffWRT(n int) []bool {
	if o.k.diff == nil {
		return make([]bool, n)
	}
	return o.k.diff
}

// SymDiff adds the kernel's backward pass; Build refuses a training graph
// with an operator that has none, so this only fails on misuse.
func (o gop) SymDiff(ins G.Nodes, out, g *G.Node) (G.Nodes, error) {
	if o.k.grad == nil {
		return nil, fmt.Errorf("onnx: %s has no backward pass", o.k.name)
	}
	return o.k.grad(o.k, ins, out, g)
}

func seenBefore(ks []*kernel, k *kernel) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// nodeShape is a shape as a graph node holds it: gorgonia has no 0-d
// tensors, so a scalar is a 1-vector.
func nodeShape(s []int) tensor.Shape {
	if len(s) == 0 {
		return tensor.Shape{1}
	}
	return tensor.Shape(append([]int(nil), s...))
}

// builder turns the ONNX graph into gorgonia nodes for one input size.
type builder struct {
	m       *Model
	g       *G.ExprGraph
	batch   int
	rt      *runtime
	macs    int64
	consts  map[string]*G.Node // constant nodes made so far, by name
	vals    map[string]*value
	kernels []*kernel
	fused   map[int]bool // node indices whose work an earlier kernel does
	users   map[string][]int
	node    *onnxpb.NodeProto // the node being built, for errors
	// A graph built by Build reads its trainable weights through param,
	// and with train every kernel gets a backward pass.
	param     func(name string) (*G.Node, error)
	trainable map[string]bool
	train     bool
}

func newBuilder(m *Model, g *G.ExprGraph, batch int) *builder {
	return &builder{m: m, g: g, batch: batch, rt: &runtime{free: map[int][][]float32{}},
		consts: map[string]*G.Node{}, vals: map[string]*value{}, fused: map[int]bool{}, users: map[string][]int{}}
}

// NewRunner builds the graph for batch images of h×w pixels.
func (m *Model) NewRunner(batch, h, w int) (*Runner, error) {
	if batch < 1 || h < 1 || w < 1 {
		return nil, fmt.Errorf("onnx: a runner needs a batch and size of at least 1, got %d×%d×%d", batch, h, w)
	}
	for i, want := range []int{h, w} {
		if d := m.Input.Shape[2+i]; d > 0 && d != want {
			return nil, fmt.Errorf("onnx: %s takes %d×%d inputs, not %d×%d", m.Path, m.Input.Shape[2], m.Input.Shape[3], h, w)
		}
	}
	r := &Runner{N: batch, H: h, W: w, model: m, g: G.NewGraph()}
	b := newBuilder(m, r.g, batch)
	c := m.Input.Shape[1]
	if c < 1 {
		c = 3 // an open channel count: images
	}
	r.input = make([]float32, batch*c*h*w)
	shape := []int{batch, c, h, w}
	x := G.NewTensor(r.g, tensor.Float32, 4, G.WithShape(shape...), G.WithName(m.Input.Name),
		G.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(r.input))))
	b.vals[m.Input.Name] = &value{shape: shape, node: x}
	if err := b.buildGraph(); err != nil {
		return nil, err
	}
	for _, o := range m.Outputs {
		r.outputs = append(r.outputs, b.vals[o.Name])
	}
	r.rt, r.MACs, r.Nodes = b.rt, b.macs, b.consts
	r.vm = G.NewTapeMachine(r.g)
	return r, nil
}

// buildGraph adds every node of the model, reading the values b.vals
// already holds (the image input), and marks the graph outputs.
func (b *builder) buildGraph() error {
	m := b.m
	for name, c := range m.consts {
		if _, ok := b.vals[name]; !ok {
			b.vals[name] = &value{shape: c.shape, c: c}
		}
	}
	nodes := m.Proto.GetGraph().GetNode()
	for i, n := range nodes {
		for _, in := range n.GetInput() {
			b.users[in] = append(b.users[in], i)
		}
	}
	for _, o := range m.Outputs {
		b.users[o.Name] = append(b.users[o.Name], -1)
	}
	// Constants first: a fused activation reads its bounds before its node.
	for i, n := range nodes {
		if n.GetOpType() == "Constant" {
			if err := b.build(i, n); err != nil {
				return err
			}
		}
	}
	for i, n := range nodes {
		if n.GetOpType() == "Constant" || b.fused[i] {
			continue
		}
		if err := b.build(i, n); err != nil {
			return err
		}
	}
	for _, o := range m.Outputs {
		v := b.vals[o.Name]
		if v == nil || v.k == nil {
			return fmt.Errorf("onnx: %s: output %q is not computed from the input; ccface runs models whose outputs depend on the image", m.Path, o.Name)
		}
		v.k.pooled = false
	}
	if b.train { // a backward pass reads the activations: nothing is pooled
		for _, k := range b.kernels {
			k.pooled = false
		}
		return nil
	}
	b.rt.refs = make([]int, len(b.kernels))
	b.rt.readers = make([]int, len(b.kernels))
	for _, k := range b.kernels {
		for i, in := range k.inKern {
			if in != nil && !seenBefore(k.inKern[:i], in) {
				b.rt.readers[in.id]++
			}
		}
	}
	return nil
}

func (b *builder) errf(format string, args ...any) error {
	n := b.node
	return fmt.Errorf("onnx: %s: node %s (%s): %s", b.m.Path, nodeName(n), n.GetOpType(), fmt.Sprintf(format, args...))
}

// build adds node i: folded when every input is a constant and the
// operator has a folding rule, else as a kernel.
func (b *builder) build(i int, n *onnxpb.NodeProto) error {
	b.node = n
	var ins []*value
	for _, name := range n.GetInput() {
		if name == "" { // an optional input left out
			ins = append(ins, nil)
			continue
		}
		v, ok := b.vals[name]
		if !ok {
			return b.errf("input %q is not defined", name)
		}
		ins = append(ins, v)
	}
	op := n.GetOpType()
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		return b.errf("operator domain %q is not supported; ccface runs the standard (ai.onnx) operators: %s", d, strings.Join(Supported(), ", "))
	}
	if fold, ok := folders[op]; ok && allConst(ins) {
		outs, err := fold(b, n, ins)
		if err != nil {
			return err
		}
		return b.define(n, outs)
	}
	build, ok := builders[op]
	if _, folds := folders[op]; !ok && folds {
		return b.errf("operator %s is supported only on constants (shape computations), and here it reads the image", op)
	}
	if !ok {
		return b.errf("operator %s is not supported; ccface runs: %s", op, strings.Join(Supported(), ", "))
	}
	outs, err := build(b, i, n, ins)
	if err != nil {
		return err
	}
	return b.define(n, outs)
}

func (b *builder) define(n *onnxpb.NodeProto, outs []*value) error {
	for j, name := range n.GetOutput() {
		if name == "" {
			continue
		}
		if j >= len(outs) || outs[j] == nil {
			return b.errf("output %q (number %d) is not supported", name, j+1)
		}
		b.vals[name] = outs[j]
	}
	return nil
}

func allConst(ins []*value) bool {
	for _, v := range ins {
		if v != nil && v.c == nil {
			return false
		}
	}
	return true
}

// Supported lists the operators the importer runs.
func Supported() []string {
	seen := map[string]bool{}
	for op := range builders {
		seen[op] = true
	}
	for op := range folders {
		seen[op] = true
	}
	var ops []string
	for op := range seen {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}

// nodeOf returns the graph node of v: a trainable weight's from param in
// a graph of Build, else a named constant node for a folded value (a
// weight keeps its initialiser's name). It also says whether the value
// needs a gradient.
func (b *builder) nodeOf(name string, v *value) (*G.Node, bool, error) {
	if v.node != nil {
		return v.node, v.grad, nil
	}
	if nd, ok := b.consts[name]; ok {
		return nd, b.train && b.trainable[name], nil
	}
	if v.c.f == nil {
		return nil, false, b.errf("input %q holds integers where floats are expected", name)
	}
	if b.param != nil && b.trainable[name] {
		nd, err := b.param(name)
		if err != nil {
			return nil, false, fmt.Errorf("onnx: %s: weight %s: %w", b.m.Path, name, err)
		}
		if !sameShape(nd.Shape(), nodeShape(v.shape)) {
			return nil, false, fmt.Errorf("onnx: %s: weight %s is bound to a node of shape %v, the model's is %v", b.m.Path, name, nd.Shape(), v.shape)
		}
		b.consts[name] = nd
		return nd, b.train, nil
	}
	s := nodeShape(v.shape)
	nd := G.NewTensor(b.g, tensor.Float32, len(s), G.WithShape(s...), G.WithName(name),
		G.WithValue(tensor.New(tensor.WithShape(s...), tensor.WithBacking(v.c.f))))
	b.consts[name] = nd
	return nd, false, nil
}

// kernelOp adds a kernel reading ins (their names for the graph's weight
// nodes) and returns its output value.
func (b *builder) kernelOp(out []int, names []string, ins []*value, run func(rt *runtime, dst []float32, src [][]float32)) (*value, error) {
	k := &kernel{name: b.node.GetOpType() + ":" + nodeName(b.node), id: len(b.kernels), out: out, run: run, rt: b.rt, pooled: true}
	var nodes G.Nodes
	needGrad := false
	for i, v := range ins {
		nd, grad, err := b.nodeOf(names[i], v)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, nd)
		k.ins = append(k.ins, v.shape)
		k.inKern = append(k.inKern, v.k)
		k.diff = append(k.diff, grad)
		needGrad = needGrad || grad
	}
	if !needGrad {
		k.diff = nil
	}
	nd, err := G.ApplyOp(gop{k}, nodes...)
	if err != nil {
		return nil, b.errf("%v", err)
	}
	b.kernels = append(b.kernels, k)
	return &value{shape: out, node: nd, k: k, grad: needGrad}, nil
}

// Input returns the input buffer [N,C,H,W] (C = 3 for images); fill it
// before Run.
func (r *Runner) Input() []float32 { return r.input }

// Run executes the graph on the current input.
func (r *Runner) Run() error {
	defer r.vm.Reset()
	copy(r.rt.refs, r.rt.readers)
	if err := r.vm.RunAll(); err != nil {
		return fmt.Errorf("onnx: %s: run: %w", r.model.Path, err)
	}
	return nil
}

// Output returns output i of the last run (overwritten by the next run).
func (r *Runner) Output(i int) []float32 { return r.outputs[i].k.last }

// OutputShape returns the shape of output i.
func (r *Runner) OutputShape(i int) []int { return append([]int(nil), r.outputs[i].shape...) }

// Outputs returns the number of outputs.
func (r *Runner) Outputs() int { return len(r.outputs) }
