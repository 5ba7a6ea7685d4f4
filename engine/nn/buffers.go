package nn

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// outBuf is an op's output tensor, reused every run. gorgonia's tape machine
// drops every value at Reset and calls Do again, so an op that allocated its
// result would allocate the whole network's activations and gradients anew
// each step (about 190 MiB per step before these ops). Handing back the same
// tensor is safe because every op of a Net runs on that Net's goroutine and
// a value is only read until the next run recomputes it.
type outBuf struct {
	data []float32
	t    *tensor.Dense
}

// dense returns the output tensor of the given shape, allocating only on
// first use (or if the shape changes).
func (o *outBuf) dense(shape ...int) *tensor.Dense {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if len(o.data) != n {
		o.data = make([]float32, n)
		o.t = nil
	}
	// A consumer may have reshaped the header; a fresh one is cheap.
	if o.t == nil || !o.t.Shape().Eq(tensor.Shape(shape)) {
		o.t = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(o.data))
	}
	return o.t
}

// workspace is the scratch one Net shares between its ops: the GEMM's
// packing buffers and a temporary im2col matrix. Ops of one Net run one at a
// time, so sharing is race-free; replicas each have their own Net.
type workspace struct {
	gemm gemmer
	tmp  []float32
}

func (ws *workspace) scratch(n int) []float32 {
	ws.tmp = grow(ws.tmp, n)
	return ws.tmp
}

func shapeOf(in G.DimSizer) tensor.Shape { return in.(tensor.Shape) }
