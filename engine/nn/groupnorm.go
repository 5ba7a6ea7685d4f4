package nn

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// gnEps stabilises the group variance.
const gnEps = 1e-5

// groupChannels is the number of channels normalised together.
const groupChannels = 4

// groupNormOp normalises each sample's channel groups of an [N,C,H,W]
// tensor to zero mean and unit variance (GroupNorm without the affine part;
// the following bias supplies the shift). Unlike batch normalisation it has
// no running statistics and no batch coupling: training and evaluation
// compute the same function, replicas give exactly the gradients of the
// whole batch, and checkpoints hold nothing beyond the weights.
type groupNormOp struct{ opBase }

func tensor4() hm.Type { return G.TensorType{Dims: 4, Of: hm.TypeVariable('a')} }

func (o groupNormOp) Arity() int    { return 1 }
func (o groupNormOp) Type() hm.Type { return hm.NewFnType(tensor4(), tensor4()) }
func (o groupNormOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}

// groups returns the group layout of a shape: groups per sample and the
// number of values in one group (consecutive in NCHW memory).
func groups(shape tensor.Shape) (n, perSample, size int, err error) {
	if len(shape) != 4 {
		return 0, 0, 0, fmt.Errorf("nn: group norm wants [N,C,H,W], got %v", shape)
	}
	gc := min(groupChannels, shape[1])
	if shape[1]%gc != 0 {
		return 0, 0, 0, fmt.Errorf("nn: group norm: %d channels are not a multiple of %d", shape[1], gc)
	}
	return shape[0], shape[1] / gc, gc * shape[2] * shape[3], nil
}

func (o groupNormOp) Do(vals ...G.Value) (G.Value, error) {
	x, err := f32s(vals[0])
	if err != nil {
		return nil, err
	}
	shape := vals[0].Shape()
	n, per, size, err := groups(shape)
	if err != nil {
		return nil, err
	}
	out := make([]float32, len(x))
	for g := 0; g < n*per; g++ {
		seg, dst := x[g*size:(g+1)*size], out[g*size:(g+1)*size]
		mean, inv := moments(seg)
		for i, v := range seg {
			dst[i] = float32((float64(v) - mean) * inv)
		}
	}
	return tensor.New(tensor.WithShape(shape.Clone()...), tensor.WithBacking(out)), nil
}

// moments returns the mean and 1/sqrt(var+eps) of a group.
func moments(seg []float32) (mean, inv float64) {
	var s, ss float64
	for _, v := range seg {
		s += float64(v)
	}
	mean = s / float64(len(seg))
	for _, v := range seg {
		d := float64(v) - mean
		ss += d * d
	}
	return mean, 1 / math.Sqrt(ss/float64(len(seg))+gnEps)
}

func (o groupNormOp) DiffWRT(int) []bool { return []bool{true} }

func (o groupNormOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(groupNormGradOp{opBase{"groupnorm_grad"}}, inputs[0], grad)
	return G.Nodes{dx}, err
}

// groupNormGradOp: dx = inv·(g − mean(g) − y·mean(g·y)) within each group.
type groupNormGradOp struct{ opBase }

func (o groupNormGradOp) Arity() int    { return 2 }
func (o groupNormGradOp) Type() hm.Type { return hm.NewFnType(tensor4(), tensor4(), tensor4()) }
func (o groupNormGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}

func (o groupNormGradOp) Do(vals ...G.Value) (G.Value, error) {
	x, err := f32s(vals[0])
	if err != nil {
		return nil, err
	}
	gy, err := f32s(vals[1])
	if err != nil {
		return nil, err
	}
	shape := vals[0].Shape()
	n, per, size, err := groups(shape)
	if err != nil {
		return nil, err
	}
	out := make([]float32, len(x))
	for g := 0; g < n*per; g++ {
		seg, gs, dst := x[g*size:(g+1)*size], gy[g*size:(g+1)*size], out[g*size:(g+1)*size]
		mean, inv := moments(seg)
		var mg, mgy float64
		for i, v := range seg {
			y := (float64(v) - mean) * inv
			mg += float64(gs[i])
			mgy += float64(gs[i]) * y
		}
		mg /= float64(size)
		mgy /= float64(size)
		for i, v := range seg {
			y := (float64(v) - mean) * inv
			dst[i] = float32(inv * (float64(gs[i]) - mg - y*mgy))
		}
	}
	return tensor.New(tensor.WithShape(shape.Clone()...), tensor.WithBacking(out)), nil
}

// GroupNorm normalises groups of 4 channels per sample.
func GroupNorm(x *G.Node) (*G.Node, error) {
	return G.ApplyOp(groupNormOp{opBase{"groupnorm"}}, x)
}
