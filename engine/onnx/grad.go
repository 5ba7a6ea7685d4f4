package onnx

import (
	G "gorgonia.org/gorgonia"
)

// backOp adds a backward kernel of forward kernel k, named after it, with
// its own output buffer of the given shape, reading nodes.
func backOp(k *kernel, what string, out []int, run func(rt *runtime, dst []float32, src [][]float32), nodes ...*G.Node) (*G.Node, error) {
	bk := &kernel{name: k.name + "/" + what, id: -1, out: out, run: run, rt: k.rt}
	for _, nd := range nodes {
		bk.ins = append(bk.ins, []int(nd.Shape()))
	}
	return G.ApplyOp(gop{bk}, nodes...)
}
