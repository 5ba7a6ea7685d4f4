package nn

import (
	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Feature maps inside the backbone are stored channel-major, [C,N,H,W]
// ("CNHW"), not gorgonia's [N,C,H,W]. With that layout a 3×3 convolution of
// the whole batch is one matrix product
//
//	out[Cout, N·H·W] = W[Cout, Cin·9] × im2col(in)[Cin·9, N·H·W]
//
// whose result already is the next layer's input: no per-image products and
// no transpose after the GEMM (gorgonia's Conv2d spent more time in those
// transposes than in the multiply). Group norm, pooling and the residual
// additions do not care about the order of the N and C axes; only the
// network input (NCHW) and the flatten before the FC layer convert.

// convState is what one 3×3, stride 1, pad 1 convolution shares between
// its forward op and its two gradient ops.
type convState struct {
	ws                 *workspace
	cin, cout, n, h, w int
	nchwIn             bool // the input is the network's [N,Cin,H,W] batch
	needDx             bool // the input needs a gradient (not for the stem)
	wflip              []float32
	out, dw, dx        outBuf
}

func (s *convState) nhw() int { return s.n * s.h * s.w }

// strides returns where channel ci of image i starts in the input:
// ci·cs + i·ns.
func (s *convState) strides() (cs, ns int) {
	hw := s.h * s.w
	if s.nchwIn {
		return hw, s.cin * hw
	}
	return s.n * hw, hw
}

// im2col writes the 3×3 patches of a C-channel map into dst as a
// [C·9, N·H·W] matrix, zero outside the image. Channel c of image i starts at
// c·cs + i·ns in src, so the same code reads NCHW and CNHW maps.
func im2col(dst, src []float32, c, n, h, w, cs, ns int) {
	hw := h * w
	nhw := n * hw
	for ci := 0; ci < c; ci++ {
		for ky := 0; ky < 3; ky++ {
			for kx := 0; kx < 3; kx++ {
				row := dst[((ci*3+ky)*3+kx)*nhw:][:nhw]
				for i := 0; i < n; i++ {
					plane := src[ci*cs+i*ns:][:hw]
					out := row[i*hw:][:hw]
					for y := 0; y < h; y++ {
						o := out[y*w : (y+1)*w]
						sy := y + ky - 1
						if sy < 0 || sy >= h {
							clear(o)
							continue
						}
						s := plane[sy*w : (sy+1)*w]
						switch kx {
						case 0:
							o[0] = 0
							copy(o[1:], s[:w-1])
						case 1:
							copy(o, s)
						case 2:
							copy(o[:w-1], s[1:])
							o[w-1] = 0
						}
					}
				}
			}
		}
	}
}

// shiftedCopy sets d[t] = s[x0+t+shift] for each t, 0 where that falls
// outside s (shift is −1, 0 or 1: the horizontal tap of a 3×3 kernel).
func shiftedCopy(d, s []float32, x0, shift int) {
	lo, hi := 0, len(d)
	if x0+shift < 0 {
		d[0] = 0
		lo = 1
	}
	if x0+hi-1+shift >= len(s) {
		d[hi-1] = 0
		hi--
	}
	if lo < hi {
		copy(d[lo:hi], s[x0+lo+shift:x0+hi+shift])
	}
}

// convOp: inputs x and w [Cout,Cin,3,3]; output [Cout,N,H,W].
type convOp struct {
	opBase
	st *convState
}

func (o convOp) Arity() int    { return 2 }
func (o convOp) Type() hm.Type { return hm.NewFnType(tensor4(), tensor4(), tensor4()) }
func (o convOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	s := o.st
	return tensor.Shape{s.cout, s.n, s.h, s.w}, nil
}

func (o convOp) Do(vals ...G.Value) (G.Value, error) {
	s := o.st
	x, err := f32s(vals[0])
	if err != nil {
		return nil, err
	}
	w, err := f32s(vals[1])
	if err != nil {
		return nil, err
	}
	k, nhw := s.cin*9, s.nhw()
	cs, ns := s.strides()
	out := s.out.dense(s.cout, s.n, s.h, s.w)
	gm := &s.ws.gemm
	if gm.panelWidth() > 0 {
		gm.convGemm(s.cout, w, gm.newPatches(x, s.cin, s.n, s.h, s.w, cs, ns, k), s.out.data)
		return out, nil
	}
	col := s.ws.scratch(k * nhw)
	im2col(col, x, s.cin, s.n, s.h, s.w, cs, ns)
	gm.sgemm(false, false, s.cout, nhw, k, 1, w, k, col, nhw, 0, s.out.data, nhw)
	return out, nil
}

func (o convOp) DiffWRT(int) []bool { return []bool{o.st.needDx, true} }

func (o convOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dw, err := G.ApplyOp(convGradWOp{opBase{o.name + "_dw"}, o.st}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	if !o.st.needDx {
		return G.Nodes{nil, dw}, nil
	}
	dx, err := G.ApplyOp(convGradXOp{opBase{o.name + "_dx"}, o.st}, inputs[1], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw}, nil
}

// convGradWOp: dW[Cout, Cin·9] = g[Cout, NHW] × im2col(x)ᵀ, inputs x and g.
// The patches are rebuilt from x rather than kept from the forward pass (see
// convgemm.go).
type convGradWOp struct {
	opBase
	st *convState
}

func (o convGradWOp) Arity() int    { return 2 }
func (o convGradWOp) Type() hm.Type { return hm.NewFnType(tensor4(), tensor4(), tensor4()) }
func (o convGradWOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{o.st.cout, o.st.cin, 3, 3}, nil
}

func (o convGradWOp) Do(vals ...G.Value) (G.Value, error) {
	s := o.st
	x, err := f32s(vals[0])
	if err != nil {
		return nil, err
	}
	g, err := f32s(vals[1])
	if err != nil {
		return nil, err
	}
	k, nhw := s.cin*9, s.nhw()
	cs, ns := s.strides()
	out := s.dw.dense(s.cout, s.cin, 3, 3)
	gm := &s.ws.gemm
	if gm.panelWidth() > 0 {
		gm.convDot(s.cout, g, gm.newPatches(x, s.cin, s.n, s.h, s.w, cs, ns, roundUp(k, gm.dotRows())), s.dw.data)
		return out, nil
	}
	col := s.ws.scratch(k * nhw)
	im2col(col, x, s.cin, s.n, s.h, s.w, cs, ns)
	gm.sgemm(false, true, s.cout, k, nhw, 1, g, nhw, col, nhw, 0, s.dw.data, k)
	return out, nil
}

// convGradXOp computes the input gradient as a convolution of g with the
// flipped, transposed kernel: dx[Cin, NHW] = Wflip[Cin, Cout·9] ×
// im2col(g)[Cout·9, NHW]. That writes dx directly; the textbook col2im would
// scatter-add a Cin·9×NHW matrix into it instead.
type convGradXOp struct {
	opBase
	st *convState
}

func (o convGradXOp) Arity() int    { return 2 }
func (o convGradXOp) Type() hm.Type { return hm.NewFnType(tensor4(), tensor4(), tensor4()) }
func (o convGradXOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	s := o.st
	return tensor.Shape{s.cin, s.n, s.h, s.w}, nil
}

func (o convGradXOp) Do(vals ...G.Value) (G.Value, error) {
	s := o.st
	w, err := f32s(vals[0])
	if err != nil {
		return nil, err
	}
	g, err := f32s(vals[1])
	if err != nil {
		return nil, err
	}
	// Wflip[ci][co·9 + 8−k] = W[co][ci·9 + k].
	k := s.cout * 9
	s.wflip = grow(s.wflip, s.cin*k)
	for co := 0; co < s.cout; co++ {
		for ci := 0; ci < s.cin; ci++ {
			src := w[(co*s.cin+ci)*9:][:9]
			dst := s.wflip[ci*k+co*9:][:9]
			for t := range 9 {
				dst[8-t] = src[t]
			}
		}
	}
	nhw, hw := s.nhw(), s.h*s.w
	out := s.dx.dense(s.cin, s.n, s.h, s.w)
	gm := &s.ws.gemm
	if gm.panelWidth() > 0 {
		gm.convGemm(s.cin, s.wflip, gm.newPatches(g, s.cout, s.n, s.h, s.w, nhw, hw, k), s.dx.data)
		return out, nil
	}
	gcol := s.ws.scratch(k * nhw)
	im2col(gcol, g, s.cout, s.n, s.h, s.w, nhw, hw)
	s.ws.gemm.sgemm(false, false, s.cin, nhw, k, 1, s.wflip, k, gcol, nhw, 0, s.dx.data, nhw)
	return out, nil
}
