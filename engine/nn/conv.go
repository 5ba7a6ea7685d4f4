package nn

import (
	"fmt"

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

// convState is what one 3×3, stride 1, pad 1 convolution keeps between its
// forward op and its two gradient ops.
type convState struct {
	ws                 *workspace
	cin, cout, n, h, w int
	nchwIn             bool // the input is the network's [N,Cin,H,W] batch
	keepCol            bool // keep im2col(x) for the weight gradient (training graphs)
	needDx             bool // the input needs a gradient (not for the stem)
	col                []float32
	wflip              []float32
	out, dw, dx        outBuf
}

func (s *convState) nhw() int { return s.n * s.h * s.w }

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

// im2colPanels writes the same patch matrix as im2col, in the column-panel
// layout of gemmer.sgemmPanels: columns [p·nr, p·nr+nr) form panel p at
// dst[p·kpad·nr:], row r of it at offset r·nr. Rows c·9..kpad−1 and columns
// past n·h·w are left as they are: the products ignore what they compute
// from them.
func (g *gemmer) im2colPanels(dst, src []float32, c, n, h, w, cs, ns, kpad int) {
	kern := g.kernel()
	nr, hw := kern.nr, h*w
	if kern.im2col == nil || hw%nr != 0 {
		im2colPanelsGo(dst, src, c, n, h, w, cs, ns, nr, kpad)
		return
	}
	// Every panel lies inside one image, so its 32 columns are 32
	// consecutive pixels of each input plane: tap (ky,kx) of the panel is a
	// contiguous load at a fixed offset, with the lanes that fall outside
	// the image masked to zero. Offsets are the same for every panel, the
	// masks depend only on the panel's place in the image.
	var offs [9]int
	for k := range 9 {
		offs[k] = ((k/3-1)*w + k%3 - 1) * 4
	}
	per := hw / nr
	if cap(g.masks) < per {
		g.masks = make([][9]uint32, per)
	}
	masks := g.masks[:per]
	for q := range masks {
		for k := range 9 {
			var m uint32
			for l := 0; l < nr; l++ {
				t := q*nr + l
				sy, sx := t/w+k/3-1, t%w+k%3-1
				if sy >= 0 && sy < h && sx >= 0 && sx < w {
					m |= 1 << l
				}
			}
			masks[q][k] = m
		}
	}
	pstride := kpad * nr
	for i := 0; i < n; i++ {
		for q := 0; q < per; q++ {
			p := i*per + q
			kern.im2col(&dst[p*pstride], &src[i*ns+q*nr], c, cs, &offs, &masks[q])
		}
	}
}

// im2colPanelsGo is im2colPanels for any kernel and shape, in plain Go.
func im2colPanelsGo(dst, src []float32, c, n, h, w, cs, ns, nr, kpad int) {
	hw := h * w
	pstride := kpad * nr
	for ci := 0; ci < c; ci++ {
		for ky := 0; ky < 3; ky++ {
			for kx := 0; kx < 3; kx++ {
				rowOff := ((ci*3+ky)*3 + kx) * nr
				for i := 0; i < n; i++ {
					plane := src[ci*cs+i*ns:][:hw]
					for y := 0; y < h; y++ {
						sy := y + ky - 1
						var s []float32
						if sy >= 0 && sy < h {
							s = plane[sy*w : (sy+1)*w]
						}
						j := i*hw + y*w
						for x := 0; x < w; {
							p, off := (j+x)/nr, (j+x)%nr
							cnt := min(w-x, nr-off)
							d := dst[p*pstride+rowOff+off:][:cnt]
							if s == nil {
								clear(d)
							} else {
								shiftedCopy(d, s, x, kx-1)
							}
							x += cnt
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
	k, nhw, hw := s.cin*9, s.nhw(), s.h*s.w
	cs, ns := s.n*hw, hw
	if s.nchwIn {
		cs, ns = hw, s.cin*hw
	}
	size := k * nhw
	nr := s.ws.gemm.panelWidth()
	kpad := k
	if nr > 0 {
		if s.keepCol {
			kpad = roundUp(k, s.ws.gemm.dotRows())
		}
		size = (nhw + nr - 1) / nr * kpad * nr
	}
	var col []float32
	if s.keepCol {
		s.col = grow(s.col, size)
		col = s.col
	} else {
		col = s.ws.scratch(size)
	}
	out := s.out.dense(s.cout, s.n, s.h, s.w)
	if nr > 0 {
		s.ws.gemm.im2colPanels(col, x, s.cin, s.n, s.h, s.w, cs, ns, kpad)
		s.ws.gemm.sgemmPanels(s.cout, nhw, k, w, k, col, kpad*nr, s.out.data, nhw)
		return out, nil
	}
	im2col(col, x, s.cin, s.n, s.h, s.w, cs, ns)
	s.ws.gemm.sgemm(false, false, s.cout, nhw, k, 1, w, k, col, nhw, 0, s.out.data, nhw)
	return out, nil
}

func (o convOp) DiffWRT(int) []bool { return []bool{o.st.needDx, true} }

func (o convOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dw, err := G.ApplyOp(convGradWOp{opBase{o.name + "_dw"}, o.st}, grad)
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

// convGradWOp: dW[Cout, Cin·9] = g[Cout, NHW] × im2col(x)ᵀ, from the
// patches the forward pass kept.
type convGradWOp struct {
	opBase
	st *convState
}

func (o convGradWOp) Arity() int    { return 1 }
func (o convGradWOp) Type() hm.Type { return hm.NewFnType(tensor4(), tensor4()) }
func (o convGradWOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{o.st.cout, o.st.cin, 3, 3}, nil
}

func (o convGradWOp) Do(vals ...G.Value) (G.Value, error) {
	s := o.st
	g, err := f32s(vals[0])
	if err != nil {
		return nil, err
	}
	if !s.keepCol || len(s.col) == 0 {
		return nil, fmt.Errorf("nn: %s: no patches from a forward pass", o.name)
	}
	k, nhw := s.cin*9, s.nhw()
	out := s.dw.dense(s.cout, s.cin, 3, 3)
	if nr := s.ws.gemm.panelWidth(); nr > 0 {
		kpad := roundUp(k, s.ws.gemm.dotRows())
		s.ws.gemm.dotPanels(s.cout, k, nhw, g, nhw, s.col, kpad*nr, s.dw.data, k)
		return out, nil
	}
	s.ws.gemm.sgemm(false, true, s.cout, k, nhw, 1, g, nhw, s.col, nhw, 0, s.dw.data, k)
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
	if nr := s.ws.gemm.panelWidth(); nr > 0 {
		gcol := s.ws.scratch((nhw + nr - 1) / nr * k * nr)
		s.ws.gemm.im2colPanels(gcol, g, s.cout, s.n, s.h, s.w, nhw, hw, k)
		s.ws.gemm.sgemmPanels(s.cin, nhw, k, s.wflip, k, gcol, k*nr, s.dx.data, nhw)
		return out, nil
	}
	gcol := s.ws.scratch(k * nhw)
	im2col(gcol, g, s.cout, s.n, s.h, s.w, nhw, hw)
	s.ws.gemm.sgemm(false, false, s.cin, nhw, k, 1, s.wflip, k, gcol, nhw, 0, s.dx.data, nhw)
	return out, nil
}
