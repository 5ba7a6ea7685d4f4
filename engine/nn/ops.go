package nn

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// normEps keeps the normalisation of an all-zero row finite.
const normEps = 1e-12

// opBase carries the boilerplate every custom op shares.
type opBase struct{ name string }

func (o opBase) ReturnsPtr() bool      { return false }
func (o opBase) CallsExtern() bool     { return false }
func (o opBase) OverwritesInput() int  { return -1 }
func (o opBase) WriteHash(h hash.Hash) { fmt.Fprint(h, o.name) }
func (o opBase) Hashcode() uint32      { h := fnv.New32a(); o.WriteHash(h); return h.Sum32() }
func (o opBase) String() string        { return o.name }

func matType() hm.Type { return G.TensorType{Dims: 2, Of: hm.TypeVariable('a')} }

func f32s(v G.Value) ([]float32, error) {
	d, ok := v.Data().([]float32)
	if !ok {
		return nil, fmt.Errorf("nn: want float32 data, got %T", v.Data())
	}
	return d, nil
}

// rowNormOp maps each row x of an [N,D] matrix to x/|x|. If norms is set the
// forward pass records each row's norm there (AdaFace's quality signal).
type rowNormOp struct {
	opBase
	norms *[]float32
	out   *[]float32 // when set, receives a copy of the output
	res   *outBuf    // the output, reused every run (see outBuf)
}

func (o rowNormOp) Arity() int    { return 1 }
func (o rowNormOp) Type() hm.Type { return hm.NewFnType(matType(), matType()) }
func (o rowNormOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}

func (o rowNormOp) Do(vals ...G.Value) (G.Value, error) {
	x, err := f32s(vals[0])
	if err != nil {
		return nil, err
	}
	shape := vals[0].Shape()
	n, d := shape[0], shape[1]
	res := o.res.dense(n, d)
	out := o.res.data
	if o.norms != nil && len(*o.norms) != n {
		*o.norms = make([]float32, n)
	}
	for i := 0; i < n; i++ {
		row := x[i*d : (i+1)*d]
		var ss float64
		for _, v := range row {
			ss += float64(v) * float64(v)
		}
		nrm := math.Sqrt(ss + normEps)
		inv := float32(1 / nrm)
		for j, v := range row {
			out[i*d+j] = v * inv
		}
		if o.norms != nil {
			(*o.norms)[i] = float32(nrm)
		}
	}
	if o.out != nil {
		*o.out = append((*o.out)[:0], out...)
	}
	return res, nil
}

func (o rowNormOp) DiffWRT(int) []bool { return []bool{true} }

func (o rowNormOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(rowNormGradOp{opBase{"rownorm_grad"}, &outBuf{}}, inputs[0], grad)
	return G.Nodes{dx}, err
}

// rowNormGradOp computes dx = (g − y·(g·y)) / |x| row by row, y = x/|x|.
type rowNormGradOp struct {
	opBase
	res *outBuf // nil: allocate (the tests call Do directly)
}

func (o rowNormGradOp) Arity() int    { return 2 }
func (o rowNormGradOp) Type() hm.Type { return hm.NewFnType(matType(), matType(), matType()) }
func (o rowNormGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}

func (o rowNormGradOp) Do(vals ...G.Value) (G.Value, error) {
	x, err := f32s(vals[0])
	if err != nil {
		return nil, err
	}
	g, err := f32s(vals[1])
	if err != nil {
		return nil, err
	}
	shape := vals[0].Shape()
	n, d := shape[0], shape[1]
	res := o.res
	if res == nil {
		res = &outBuf{}
	}
	t := res.dense(n, d)
	out := res.data
	for i := 0; i < n; i++ {
		row, grow := x[i*d:(i+1)*d], g[i*d:(i+1)*d]
		var ss float64
		for _, v := range row {
			ss += float64(v) * float64(v)
		}
		nrm := math.Sqrt(ss + normEps)
		var gy float64
		for j := range row {
			gy += float64(grow[j]) * float64(row[j]) / nrm
		}
		for j := range row {
			out[i*d+j] = float32((float64(grow[j]) - float64(row[j])/nrm*gy) / nrm)
		}
	}
	return t, nil
}

// RowNormalize returns x with each row scaled to unit length. norms and out,
// when not nil, receive each row's length and the output at every forward pass.
func RowNormalize(x *G.Node, norms, out *[]float32) (*G.Node, error) {
	return G.ApplyOp(rowNormOp{opBase: opBase{"rownorm"}, norms: norms, out: out, res: &outBuf{}}, x)
}

// marginCEOp is the fused margin-softmax cross-entropy over a cosine matrix
// [N,C]: Σ_i w_i·CE(s·logits_i, y_i), the target logit of each sample
// replaced by its margin target (see Target). Everything but the cosines
// (labels, weights, scale, the margin of each sample) comes from Head, set
// by the caller before each run; the forward pass records per-sample results
// there, and the backward pass reuses the probabilities it kept.
type marginCEOp struct {
	opBase
	head *Head
}

func (o marginCEOp) Arity() int    { return 1 }
func (o marginCEOp) Type() hm.Type { return hm.NewFnType(matType(), hm.TypeVariable('a')) }
func (o marginCEOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

func (o marginCEOp) Do(vals ...G.Value) (G.Value, error) {
	cos, err := f32s(vals[0])
	if err != nil {
		return nil, err
	}
	shape := vals[0].Shape()
	loss, err := o.head.forward(cos, shape[0], shape[1])
	if err != nil {
		return nil, err
	}
	return G.NewF32(float32(loss)), nil
}

func (o marginCEOp) DiffWRT(int) []bool { return []bool{true} }

func (o marginCEOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(marginCEGradOp{opBase{"margin_ce_grad"}, o.head, &outBuf{}}, inputs[0], grad)
	return G.Nodes{dx}, err
}

type marginCEGradOp struct {
	opBase
	head *Head
	res  *outBuf
}

func (o marginCEGradOp) Arity() int { return 2 }
func (o marginCEGradOp) Type() hm.Type {
	return hm.NewFnType(matType(), hm.TypeVariable('a'), matType())
}
func (o marginCEGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}

func (o marginCEGradOp) Do(vals ...G.Value) (G.Value, error) {
	shape := vals[0].Shape()
	var g float64
	switch v := vals[1].(type) {
	case *G.F32:
		g = float64(*v)
	default:
		d, err := f32s(v)
		if err != nil || len(d) != 1 {
			return nil, fmt.Errorf("nn: margin CE upstream gradient: want a scalar, got %v", v)
		}
		g = float64(d[0])
	}
	res := o.res.dense(shape[0], shape[1])
	o.head.backward(o.res.data, g, shape[0], shape[1])
	return res, nil
}

// MarginCE applies the fused margin cross-entropy to a cosine matrix.
func MarginCE(cos *G.Node, head *Head) (*G.Node, error) {
	return G.ApplyOp(marginCEOp{opBase{"margin_ce"}, head}, cos)
}
