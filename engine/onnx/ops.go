package onnx

import (
	"math"

	"github.com/ccface/ccface/engine/onnx/onnxpb"
)

// buildFn adds the kernel(s) of node i and returns its output values.
type buildFn func(b *builder, i int, n *onnxpb.NodeProto, ins []*value) ([]*value, error)

// foldFn computes a node's outputs at build time from constant inputs.
type foldFn func(b *builder, n *onnxpb.NodeProto, ins []*value) ([]*value, error)

// builders are the operators run inside the graph.
var builders = map[string]buildFn{
	"Conv":               buildConv,
	"BatchNormalization": buildBatchNorm,
	"Relu": unary(func(x float32) float32 { return max(x, 0) }, func(y float32) float32 {
		if y > 0 {
			return 1
		}
		return 0
	}),
	"Sigmoid": unary(func(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) },
		func(y float32) float32 { return y * (1 - y) }),
	"Clip":              buildClip,
	"PRelu":             elementwise(opPRelu),
	"Add":               elementwise(opAdd),
	"Sub":               elementwise(opSub),
	"Mul":               elementwise(opMul),
	"Div":               elementwise(opDiv),
	"Identity":          alias,
	"Dropout":           alias,
	"Flatten":           buildFlatten,
	"Reshape":           buildReshape,
	"Unsqueeze":         buildUnsqueeze,
	"Gemm":              buildGemm,
	"MatMul":            buildMatMul,
	"GlobalAveragePool": buildGlobalAvgPool,
	"MaxPool":           buildPool,
	"AveragePool":       buildPool,
	"Resize":            buildResize,
	"Transpose":         buildTranspose,
	"Slice":             buildSlice,
	"Gather":            buildGather,
	"Concat":            buildConcat,
	"Shape":             buildShape,
}

// folders are the operators computed at build time when all their inputs
// are constants: the shape arithmetic exporters emit in front of Reshape
// and Resize, which is fixed once the input size is.
var folders = map[string]foldFn{
	"Constant":  foldConstant,
	"Identity":  func(b *builder, n *onnxpb.NodeProto, ins []*value) ([]*value, error) { return ins[:1], nil },
	"Unsqueeze": foldMove(unsqueezeMap),
	"Reshape":   foldMove(reshapeMap),
	"Transpose": foldMove(transposeMap),
	"Slice":     foldMove(sliceMap),
	"Gather":    foldMove(gatherMap),
	"Concat":    foldConcat,
	"Cast":      foldCast,
	"Add":       foldArith(func(a, b float64) float64 { return a + b }),
	"Sub":       foldArith(func(a, b float64) float64 { return a - b }),
	"Mul":       foldArith(func(a, b float64) float64 { return a * b }),
	"Div":       foldArith(func(a, b float64) float64 { return a / b }),
}

// --- attributes ---

func attr(n *onnxpb.NodeProto, name string) *onnxpb.AttributeProto {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a
		}
	}
	return nil
}

func attrInt(n *onnxpb.NodeProto, name string, def int) int {
	if a := attr(n, name); a != nil {
		return int(a.GetI())
	}
	return def
}

func attrInts(n *onnxpb.NodeProto, name string) []int {
	a := attr(n, name)
	if a == nil {
		return nil
	}
	out := make([]int, len(a.GetInts()))
	for i, v := range a.GetInts() {
		out[i] = int(v)
	}
	return out
}

func attrFloat(n *onnxpb.NodeProto, name string, def float32) float32 {
	if a := attr(n, name); a != nil {
		return a.GetF()
	}
	return def
}

func attrString(n *onnxpb.NodeProto, name, def string) string {
	if a := attr(n, name); a != nil {
		return string(a.GetS())
	}
	return def
}

// constInts reads input i as integers; it must be a constant.
func (b *builder) constInts(ins []*value, i int) ([]int, error) {
	if i >= len(ins) || ins[i] == nil {
		return nil, nil
	}
	c := ins[i].c
	if c == nil {
		return nil, b.errf("input %d must be a constant (computed from the input size at most)", i+1)
	}
	out := make([]int, c.size())
	for j := range out {
		if c.i != nil {
			out[j] = int(c.i[j])
		} else {
			out[j] = int(c.f[j])
		}
	}
	return out, nil
}

// constFloat reads input i as one float (a Clip bound), def when absent.
func (b *builder) constFloat(ins []*value, i int, def float32) (float32, error) {
	if i >= len(ins) || ins[i] == nil {
		return def, nil
	}
	c := ins[i].c
	if c == nil || c.size() != 1 {
		return 0, b.errf("input %d must be a constant scalar", i+1)
	}
	if c.f != nil {
		return c.f[0], nil
	}
	return float32(c.i[0]), nil
}

func (b *builder) names(n *onnxpb.NodeProto) []string { return n.GetInput() }

func axisOf(a, rank int) int {
	if a < 0 {
		a += rank
	}
	return a
}

// --- element-wise ---

// unary is an element-wise function f whose derivative dy is written in
// terms of its output.
func unary(f, dy func(float32) float32) buildFn {
	return func(b *builder, i int, n *onnxpb.NodeProto, ins []*value) ([]*value, error) {
		v, err := b.kernelOp(ins[0].shape, n.GetInput()[:1], ins[:1], func(_ *runtime, dst []float32, src [][]float32) {
			for j, x := range src[0] {
				dst[j] = f(x)
			}
		})
		if err != nil {
			return nil, err
		}
		v.k.grad = unaryGrad(dy)
		return []*value{v}, nil
	}
}

// clipBounds reads Clip's bounds: attributes before opset 11, inputs since.
func (b *builder) clipBounds(n *onnxpb.NodeProto, ins []*value) (lo, hi float32, err error) {
	inf := float32(math.Inf(1))
	if b.m.Opset < 11 {
		return attrFloat(n, "min", -inf), attrFloat(n, "max", inf), nil
	}
	if lo, err = b.constFloat(ins, 1, -inf); err != nil {
		return 0, 0, err
	}
	hi, err = b.constFloat(ins, 2, inf)
	return lo, hi, err
}

func buildClip(b *builder, i int, n *onnxpb.NodeProto, ins []*value) ([]*value, error) {
	lo, hi, err := b.clipBounds(n, ins)
	if err != nil {
		return nil, err
	}
	v, err := b.kernelOp(ins[0].shape, n.GetInput()[:1], ins[:1], func(_ *runtime, dst []float32, src [][]float32) {
		copy(dst, src[0])
		biasClip(dst, 0, lo, hi)
	})
	if err != nil {
		return nil, err
	}
	v.k.grad = clipGrad(lo, hi)
	return []*value{v}, nil
}

const (
	opAdd = iota
	opSub
	opMul
	opDiv
	opPRelu
)

// broadcast returns the numpy-broadcast shape of a and b.
func broadcast(a, c []int) ([]int, bool) {
	r := max(len(a), len(c))
	out := make([]int, r)
	for k := 0; k < r; k++ {
		da, dc := 1, 1
		if j := k - (r - len(a)); j >= 0 {
			da = a[j]
		}
		if j := k - (r - len(c)); j >= 0 {
			dc = c[j]
		}
		switch {
		case da == dc || dc == 1:
			out[k] = da
		case da == 1:
			out[k] = dc
		default:
			return nil, false
		}
	}
	return out, true
}

// bstrides returns the strides of a tensor of shape s read at the indices
// of out (0 along a broadcast axis).
func bstrides(s, out []int) []int {
	st := make([]int, len(out))
	acc := 1
	for k := len(out) - 1; k >= 0; k-- {
		j := k - (len(out) - len(s))
		if j < 0 {
			continue
		}
		if s[j] != 1 {
			st[k] = acc
		}
		acc *= s[j]
	}
	return st
}

func elementwise(op int) buildFn {
	return func(b *builder, i int, n *onnxpb.NodeProto, ins []*value) ([]*value, error) {
		out, ok := broadcast(ins[0].shape, ins[1].shape)
		if !ok {
			return nil, b.errf("shapes %v and %v do not broadcast", ins[0].shape, ins[1].shape)
		}
		if op == opPRelu && !sameShape(out, ins[0].shape) {
			return nil, b.errf("slope of shape %v does not broadcast to the input %v", ins[1].shape, ins[0].shape)
		}
		sa, sb := bstrides(ins[0].shape, out), bstrides(ins[1].shape, out)
		// Operands of one shape (a residual Add) are one vector loop, not
		// one per row of the last axis.
		same := sameShape(ins[0].shape, out) && sameShape(ins[1].shape, out)
		v, err := b.kernelOp(out, n.GetInput()[:2], ins[:2], func(_ *runtime, dst []float32, src [][]float32) {
			if same {
				applyVV(op, dst, src[0], src[1])
				return
			}
			bcast(op, dst, src[0], src[1], out, sa, sb)
		})
		if err != nil {
			return nil, err
		}
		v.k.grad = binaryGrad(op, out, sa, sb)
		return []*value{v}, nil
	}
}

func sameShape(a, c []int) bool {
	if len(a) != len(c) {
		return false
	}
	for i := range a {
		if a[i] != c[i] {
			return false
		}
	}
	return true
}

// bcast applies op element-wise over the out shape, reading x and y with
// strides sa and sb: one loop along the last axis per outer index.
func bcast(op int, dst, x, y []float32, out, sa, sb []int) {
	r := len(out)
	if r == 0 {
		dst[0] = apply1(op, x[0], y[0])
		return
	}
	inner := out[r-1]
	ia, ib := sa[r-1], sb[r-1]
	idx := make([]int, r-1)
	for o := 0; o < len(dst); o += inner {
		oa, ob := 0, 0
		for k, v := range idx {
			oa += v * sa[k]
			ob += v * sb[k]
		}
		d := dst[o : o+inner]
		switch {
		case ia == 1 && ib == 1:
			applyVV(op, d, x[oa:oa+inner], y[ob:ob+inner])
		case ia == 1 && ib == 0:
			applyVS(op, d, x[oa:oa+inner], y[ob])
		default:
			for j := range d {
				d[j] = apply1(op, x[oa+j*ia], y[ob+j*ib])
			}
		}
		for k := r - 2; k >= 0; k-- { // next outer index
			if idx[k]++; idx[k] < out[k] {
				break
			}
			idx[k] = 0
		}
	}
}

func apply1(op int, a, c float32) float32 {
	switch op {
	case opAdd:
		return a + c
	case opSub:
		return a - c
	case opMul:
		return a * c
	case opDiv:
		return a / c
	default: // PRelu
		if a < 0 {
			return a * c
		}
		return a
	}
}

func applyVV(op int, d, a, c []float32) {
	a, c = a[:len(d)], c[:len(d)] // one bounds check, not one per element
	switch op {
	case opAdd:
		addVV(d, a, c)
	case opMul:
		for j := range d {
			d[j] = a[j] * c[j]
		}
	default:
		for j := range d {
			d[j] = apply1(op, a[j], c[j])
		}
	}
}

// addVVGo is addVV in plain Go.
func addVVGo(d, a, c []float32) {
	a, c = a[:len(d)], c[:len(d)]
	for j := range d {
		d[j] = a[j] + c[j]
	}
}

func applyVS(op int, d, a []float32, c float32) {
	switch op {
	case opAdd:
		for j := range d {
			d[j] = a[j] + c
		}
	case opMul:
		for j := range d {
			d[j] = a[j] * c
		}
	case opPRelu:
		for j, v := range a {
			d[j] = max(v, 0) + c*min(v, 0)
		}
	default:
		for j := range d {
			d[j] = apply1(op, a[j], c)
		}
	}
}

func buildBatchNorm(b *builder, i int, n *onnxpb.NodeProto, ins []*value) ([]*value, error) {
	if len(ins) < 5 || len(ins[0].shape) < 2 {
		return nil, b.errf("want inputs X, scale, B, mean, var with X at least 2-D")
	}
	eps := float64(attrFloat(n, "epsilon", 1e-5))
	x := ins[0].shape
	c := x[1]
	for _, v := range ins[1:5] {
		if prod(v.shape) != c {
			return nil, b.errf("parameter of shape %v for %d channels", v.shape, c)
		}
	}
	plane := prod(x[2:])
	v, err := b.kernelOp(x, n.GetInput()[:5], ins[:5], func(_ *runtime, dst []float32, src [][]float32) {
		scale, bias, mean, vr := src[1], src[2], src[3], src[4]
		for img := 0; img < x[0]; img++ {
			for ch := 0; ch < c; ch++ {
				a := float32(float64(scale[ch]) / math.Sqrt(float64(vr[ch])+eps))
				sh := bias[ch] - mean[ch]*a
				off := (img*c + ch) * plane
				for j, xv := range src[0][off : off+plane] {
					dst[off+j] = xv*a + sh
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	v.k.grad = batchNormGrad(x, eps)
	return []*value{v}, nil
}

// --- data movement ---

func alias(b *builder, i int, n *onnxpb.NodeProto, ins []*value) ([]*value, error) {
	return []*value{ins[0]}, nil
}

// copyAs adds a kernel copying its input under a new shape (Flatten,
// Reshape, Unsqueeze).
func (b *builder) copyAs(n *onnxpb.NodeProto, in *value, shape []int) ([]*value, error) {
	if prod(shape) != prod(in.shape) {
		return nil, b.errf("cannot view %v as %v", in.shape, shape)
	}
	v, err := b.kernelOp(shape, n.GetInput()[:1], []*value{in}, func(_ *runtime, dst []float32, src [][]float32) {
		copy(dst, src[0])
	})
	if err != nil {
		return nil, err
	}
	v.k.grad = copyGrad
	return []*value{v}, nil
}

func buildFlatten(b *builder, i int, n *onnxpb.NodeProto, ins []*value) ([]*value, error) {
	s := ins[0].shape
	ax := axisOf(attrInt(n, "axis", 1), len(s))
	return b.copyAs(n, ins[0], []int{prod(s[:ax]), prod(s[ax:])})
}

// reshapeTarget resolves Reshape's 0 and −1 entries. A leading 1 in a
// model exported with a batch of 1 means "per image": the file's
// `[1, -1]` flatten becomes `[N, -1]` for a batch of N.
func (b *builder) reshapeTarget(in []int, t []int) ([]int, error) {
	out := append([]int(nil), t...)
	if b.m.Input.Shape[0] == 1 && b.batch > 1 && len(out) > 0 && out[0] == 1 && len(in) > 0 && in[0] == b.batch {
		out[0] = b.batch
	}
	infer := -1
	known := 1
	for k, d := range out {
		switch {
		case d == 0 && k < len(in):
			out[k] = in[k]
		case d == -1:
			if infer >= 0 {
				return nil, b.errf("shape %v has two −1 entries", t)
			}
			infer = k
			continue
		}
		known *= out[k]
	}
	if infer >= 0 {
		if known == 0 || prod(in)%known != 0 {
			return nil, b.errf("cannot reshape %v to %v", in, t)
		}
		out[infer] = prod(in) / known
	}
	if prod(out) != prod(in) {
		return nil, b.errf("cannot reshape %v to %v", in, t)
	}
	return out, nil
}

func buildReshape(b *builder, i int, n *onnxpb.NodeProto, ins []*value) ([]*value, error) {
	t, err := b.constInts(ins, 1)
	if err != nil {
		return nil, err
	}
	out, err := b.reshapeTarget(ins[0].shape, t)
	if err != nil {
		return nil, err
	}
	return b.copyAs(n, ins[0], out)
}

func (b *builder) unsqueezeAxes(n *onnxpb.NodeProto, ins []*value) ([]int, error) {
	if b.m.Opset >= 13 {
		return b.constInts(ins, 1)
	}
	return attrInts(n, "axes"), nil
}

func unsqueezeShape(in, axes []int) []int {
	r := len(in) + len(axes)
	ones := map[int]bool{}
	for _, a := range axes {
		ones[axisOf(a, r)] = true
	}
	var out []int
	j := 0
	for k := 0; k < r; k++ {
		if ones[k] {
			out = append(out, 1)
		} else {
			out = append(out, in[j])
			j++
		}
	}
	return out
}

func buildUnsqueeze(b *builder, i int, n *onnxpb.NodeProto, ins []*value) ([]*value, error) {
	axes, err := b.unsqueezeAxes(n, ins)
	if err != nil {
		return nil, err
	}
	return b.copyAs(n, ins[0], unsqueezeShape(ins[0].shape, axes))
}

// A move map gives, for each output element, the index of the input
// element it copies: Transpose, Slice and Gather are all one, computed at
// build time and applied to a constant or, each run, to a graph value.
type moveMap func(b *builder, n *onnxpb.NodeProto, ins []*value) (shape []int, idx []int32, err error)

func foldMove(f moveMap) foldFn {
	return func(b *builder, n *onnxpb.NodeProto, ins []*value) ([]*value, error) {
		shape, idx, err := f(b, n, ins)
		if err != nil {
			return nil, err
		}
		c := ins[0].c
		out := &tval{shape: shape}
		if c.f != nil {
			out.f = make([]float32, len(idx))
			for j, s := range idx {
				out.f[j] = c.f[s]
			}
		} else {
			out.i = make([]int64, len(idx))
			for j, s := range idx {
				out.i[j] = c.i[s]
			}
		}
		return []*value{{shape: shape, c: out}}, nil
	}
}

func buildMove(f moveMap) buildFn {
	return func(b *builder, i int, n *onnxpb.NodeProto, ins []*value) ([]*value, error) {
		shape, idx, err := f(b, n, ins)
		if err != nil {
			return nil, err
		}
		v, err := b.kernelOp(shape, n.GetInput()[:1], ins[:1], func(_ *runtime, dst []float32, src [][]float32) {
			for j, s := range idx {
				dst[j] = src[0][s]
			}
		})
		if err != nil {
			return nil, err
		}
		v.k.grad = moveGrad(idx)
		return []*value{v}, nil
	}
}

var (
	buildTranspose = buildMove(transposeMap)
	buildSlice     = buildMove(sliceMap)
	buildGather    = buildMove(gatherMap)
)

func reshapeMap(b *builder, n *onnxpb.NodeProto, ins []*value) ([]int, []int32, error) {
	t, err := b.constInts(ins, 1)
	if err != nil {
		return nil, nil, err
	}
	out, err := b.reshapeTarget(ins[0].shape, t)
	return out, iota32(prod(out)), err
}

func unsqueezeMap(b *builder, n *onnxpb.NodeProto, ins []*value) ([]int, []int32, error) {
	axes, err := b.unsqueezeAxes(n, ins)
	out := unsqueezeShape(ins[0].shape, axes)
	return out, iota32(prod(out)), err
}

func iota32(n int) []int32 {
	idx := make([]int32, n)
	for j := range idx {
		idx[j] = int32(j)
	}
	return idx
}

func rowMajor(s []int) []int {
	st := make([]int, len(s))
	acc := 1
	for k := len(s) - 1; k >= 0; k-- {
		st[k] = acc
		acc *= s[k]
	}
	return st
}

// strided lists base + Σ i_k·st_k over the indices of shape, in row-major
// order.
func strided(shape, st []int, base int) []int32 {
	idx := make([]int32, 0, prod(shape))
	var walk func(k, off int)
	walk = func(k, off int) {
		if k == len(shape) {
			idx = append(idx, int32(off))
			return
		}
		for j := 0; j < shape[k]; j++ {
			walk(k+1, off+j*st[k])
		}
	}
	walk(0, base)
	return idx
}

func transposeMap(b *builder, n *onnxpb.NodeProto, ins []*value) ([]int, []int32, error) {
	s := ins[0].shape
	perm := attrInts(n, "perm")
	if perm == nil {
		for k := len(s) - 1; k >= 0; k-- {
			perm = append(perm, k)
		}
	}
	if len(perm) != len(s) {
		return nil, nil, b.errf("perm %v for a %d-D input", perm, len(s))
	}
	in := rowMajor(s)
	out := make([]int, len(s))
	st := make([]int, len(s))
	for k, p := range perm {
		out[k], st[k] = s[p], in[p]
	}
	return out, strided(out, st, 0), nil
}

func sliceMap(b *builder, n *onnxpb.NodeProto, ins []*value) ([]int, []int32, error) {
	s := ins[0].shape
	var starts, ends, axes, steps []int
	if b.m.Opset < 10 {
		starts, ends, axes = attrInts(n, "starts"), attrInts(n, "ends"), attrInts(n, "axes")
	} else {
		var err error
		for k, p := range []*[]int{&starts, &ends, &axes, &steps} {
			if *p, err = b.constInts(ins, k+1); err != nil {
				return nil, nil, err
			}
		}
	}
	if axes == nil {
		for k := range starts {
			axes = append(axes, k)
		}
	}
	out := append([]int(nil), s...)
	first := make([]int, len(s))
	step := make([]int, len(s))
	for k := range step {
		step[k] = 1
	}
	for j, a := range axes {
		a = axisOf(a, len(s))
		d := s[a]
		st := 1
		if steps != nil {
			st = steps[j]
		}
		if st == 0 {
			return nil, nil, b.errf("slice step 0")
		}
		clampIdx := func(v, lo, hi int) int {
			if v < 0 {
				v += d
			}
			return min(max(v, lo), hi)
		}
		var lo, hi int
		if st > 0 {
			lo, hi = clampIdx(starts[j], 0, d), clampIdx(ends[j], 0, d)
			out[a] = max(0, (hi-lo+st-1)/st)
		} else {
			lo, hi = clampIdx(starts[j], -1, d-1), clampIdx(ends[j], -1, d-1)
			out[a] = max(0, (lo-hi-st-1)/(-st))
		}
		first[a], step[a] = lo, st
	}
	in := rowMajor(s)
	base := 0
	st := make([]int, len(s))
	for k := range s {
		base += first[k] * in[k]
		st[k] = step[k] * in[k]
	}
	return out, strided(out, st, base), nil
}

func gatherMap(b *builder, n *onnxpb.NodeProto, ins []*value) ([]int, []int32, error) {
	s := ins[0].shape
	ax := axisOf(attrInt(n, "axis", 0), len(s))
	ind, err := b.constInts(ins, 1)
	if err != nil {
		return nil, nil, err
	}
	var out []int
	out = append(out, s[:ax]...)
	out = append(out, ins[1].shape...)
	out = append(out, s[ax+1:]...)
	outer, inner := prod(s[:ax]), prod(s[ax+1:])
	idx := make([]int32, 0, prod(out))
	for o := 0; o < outer; o++ {
		for _, g := range ind {
			if g < 0 {
				g += s[ax]
			}
			if g < 0 || g >= s[ax] {
				return nil, nil, b.errf("index %d out of range for axis of %d", g, s[ax])
			}
			for j := 0; j < inner; j++ {
				idx = append(idx, int32((o*s[ax]+g)*inner+j))
			}
		}
	}
	return out, idx, nil
}

// concatShape checks the inputs and returns the output shape, the axis and
// the outer count (product of the dimensions before the axis).
func (b *builder) concatShape(n *onnxpb.NodeProto, ins []*value) ([]int, int, error) {
	s0 := ins[0].shape
	ax := axisOf(attrInt(n, "axis", 0), len(s0))
	out := append([]int(nil), s0...)
	out[ax] = 0
	for _, v := range ins {
		if len(v.shape) != len(s0) {
			return nil, 0, b.errf("inputs of ranks %d and %d", len(s0), len(v.shape))
		}
		for k := range s0 {
			if k != ax && v.shape[k] != s0[k] {
				return nil, 0, b.errf("inputs of shapes %v and %v", s0, v.shape)
			}
		}
		out[ax] += v.shape[ax]
	}
	return out, ax, nil
}

func foldConcat(b *builder, n *onnxpb.NodeProto, ins []*value) ([]*value, error) {
	out, ax, err := b.concatShape(n, ins)
	if err != nil {
		return nil, err
	}
	res := &tval{shape: out}
	outer := prod(out[:ax])
	for o := 0; o < outer; o++ {
		for _, v := range ins {
			blk := prod(v.shape[ax:])
			if v.c.f != nil {
				res.f = append(res.f, v.c.f[o*blk:(o+1)*blk]...)
			} else {
				res.i = append(res.i, v.c.i[o*blk:(o+1)*blk]...)
			}
		}
	}
	if res.f != nil && res.i != nil {
		return nil, b.errf("inputs mix integers and floats")
	}
	return []*value{{shape: out, c: res}}, nil
}

func buildConcat(b *builder, i int, n *onnxpb.NodeProto, ins []*value) ([]*value, error) {
	out, ax, err := b.concatShape(n, ins)
	if err != nil {
		return nil, err
	}
	outer := prod(out[:ax])
	blks := make([]int, len(ins))
	for k, v := range ins {
		blks[k] = prod(v.shape[ax:])
	}
	v, err := b.kernelOp(out, n.GetInput(), ins, func(_ *runtime, dst []float32, src [][]float32) {
		o := 0
		for j := 0; j < outer; j++ {
			for k, s := range src {
				o += copy(dst[o:], s[j*blks[k]:(j+1)*blks[k]])
			}
		}
	})
	if err != nil {
		return nil, err
	}
	v.k.grad = concatGrad(outer, blks)
	return []*value{v}, nil
}

// buildShape folds Shape: the graph's shapes are fixed once the input is.
func buildShape(b *builder, i int, n *onnxpb.NodeProto, ins []*value) ([]*value, error) {
	s := ins[0].shape
	lo, hi := attrInt(n, "start", 0), attrInt(n, "end", len(s))
	lo, hi = min(max(axisOf(lo, len(s)), 0), len(s)), min(max(axisOf(hi, len(s)), 0), len(s))
	c := &tval{shape: []int{max(0, hi-lo)}}
	for _, d := range s[lo:max(lo, hi)] {
		c.i = append(c.i, int64(d))
	}
	if c.i == nil {
		c.i = []int64{}
	}
	return []*value{{shape: c.shape, c: c}}, nil
}

func foldConstant(b *builder, n *onnxpb.NodeProto, ins []*value) ([]*value, error) {
	c := &tval{}
	switch {
	case attr(n, "value") != nil:
		t, err := decodeTensor(attr(n, "value").GetT())
		if err != nil {
			return nil, b.errf("%v", err)
		}
		c = t
	case attr(n, "value_float") != nil:
		c.f = []float32{attr(n, "value_float").GetF()}
	case attr(n, "value_floats") != nil:
		c.f = attr(n, "value_floats").GetFloats()
		c.shape = []int{len(c.f)}
	case attr(n, "value_int") != nil:
		c.i = []int64{attr(n, "value_int").GetI()}
	case attr(n, "value_ints") != nil:
		c.i = attr(n, "value_ints").GetInts()
		c.shape = []int{len(c.i)}
	default:
		return nil, b.errf("a Constant needs a value, value_float(s) or value_int(s) attribute")
	}
	return []*value{{shape: c.shape, c: c}}, nil
}

func foldCast(b *builder, n *onnxpb.NodeProto, ins []*value) ([]*value, error) {
	c := ins[0].c
	out := &tval{shape: c.shape}
	switch onnxpb.TensorProto_DataType(attrInt(n, "to", 0)) {
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_DOUBLE:
		out.f = make([]float32, c.size())
		for j := range out.f {
			if c.f != nil {
				out.f[j] = c.f[j]
			} else {
				out.f[j] = float32(c.i[j])
			}
		}
	case onnxpb.TensorProto_INT64, onnxpb.TensorProto_INT32:
		out.i = make([]int64, c.size())
		for j := range out.i {
			if c.f != nil {
				out.i[j] = int64(c.f[j])
			} else {
				out.i[j] = c.i[j]
			}
		}
	default:
		return nil, b.errf("cast to element type %d is not supported", attrInt(n, "to", 0))
	}
	return []*value{{shape: out.shape, c: out}}, nil
}

func foldArith(f func(a, b float64) float64) foldFn {
	return func(b *builder, n *onnxpb.NodeProto, ins []*value) ([]*value, error) {
		x, y := ins[0].c, ins[1].c
		out, ok := broadcast(x.shape, y.shape)
		if !ok {
			return nil, b.errf("shapes %v and %v do not broadcast", x.shape, y.shape)
		}
		get := func(t *tval, j int) float64 {
			if t.f != nil {
				return float64(t.f[j])
			}
			return float64(t.i[j])
		}
		ix := strided(out, bstrides(x.shape, out), 0)
		iy := strided(out, bstrides(y.shape, out), 0)
		res := &tval{shape: out}
		for j := range ix {
			v := f(get(x, int(ix[j])), get(y, int(iy[j])))
			if x.f != nil || y.f != nil {
				res.f = append(res.f, float32(v))
			} else {
				res.i = append(res.i, int64(math.Floor(v))) // integer division floors positive shapes
			}
		}
		return []*value{{shape: out, c: res}}, nil
	}
}

// --- products ---

func buildGemm(b *builder, i int, n *onnxpb.NodeProto, ins []*value) ([]*value, error) {
	a, w := ins[0].shape, ins[1].shape
	if len(a) != 2 || len(w) != 2 {
		return nil, b.errf("Gemm wants 2-D inputs, got %v and %v", a, w)
	}
	tA, tB := attrInt(n, "transA", 0) != 0, attrInt(n, "transB", 0) != 0
	alpha, beta := attrFloat(n, "alpha", 1), attrFloat(n, "beta", 1)
	m, k := a[0], a[1]
	if tA {
		m, k = k, m
	}
	kb, nn := w[0], w[1]
	if tB {
		kb, nn = nn, kb
	}
	if k != kb {
		return nil, b.errf("cannot multiply %v by %v (transA %v, transB %v)", a, w, tA, tB)
	}
	out := []int{m, nn}
	b.macs += int64(m * nn * k / b.batch)
	names, vals := n.GetInput()[:2], ins[:2]
	var cst []int
	if len(ins) > 2 && ins[2] != nil {
		if _, ok := broadcast(out, ins[2].shape); !ok {
			return nil, b.errf("C of shape %v does not broadcast to %v", ins[2].shape, out)
		}
		names, vals = n.GetInput()[:3], ins[:3]
		cst = bstrides(ins[2].shape, out)
	}
	v, err := b.kernelOp(out, names, vals, func(rt *runtime, dst []float32, src [][]float32) {
		rt.gemm.Sgemm(tA, tB, m, nn, k, alpha, src[0], a[1], src[1], w[1], 0, dst, nn)
		if cst != nil {
			for r := 0; r < m; r++ {
				for c := 0; c < nn; c++ {
					dst[r*nn+c] += beta * src[2][r*cst[0]+c*cst[1]]
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	v.k.grad = gemmGrad(tA, tB, alpha, beta, m, nn, k, a, w, cst)
	return []*value{v}, nil
}

func buildMatMul(b *builder, i int, n *onnxpb.NodeProto, ins []*value) ([]*value, error) {
	a, w := ins[0].shape, ins[1].shape
	if len(a) < 2 || len(w) != 2 || a[len(a)-1] != w[0] {
		return nil, b.errf("MatMul of %v by %v: ccface multiplies an N-D input by a 2-D matrix", a, w)
	}
	k, nn := w[0], w[1]
	m := prod(a) / k
	out := append(append([]int(nil), a[:len(a)-1]...), nn)
	b.macs += int64(m * nn * k / b.batch)
	v, err := b.kernelOp(out, n.GetInput()[:2], ins[:2], func(rt *runtime, dst []float32, src [][]float32) {
		rt.gemm.Sgemm(false, false, m, nn, k, 1, src[0], k, src[1], nn, 0, dst, nn)
	})
	if err != nil {
		return nil, err
	}
	v.k.grad = matMulGrad(m, nn, k)
	return []*value{v}, nil
}
