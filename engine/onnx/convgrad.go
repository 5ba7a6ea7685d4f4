package onnx

import (
	"math"

	G "gorgonia.org/gorgonia"
)

// convGrad is the backward pass of a convolution (with its fused
// activation): the output gradient is masked where the activation clamped,
// then gives the input, weight and bias gradients, each computed by the
// same kind of kernel as the forward pass (depthwise phases, shared-weight
// products for 1×1, im2col otherwise).
func convGrad(g *convGeom) gradFn {
	return func(k *kernel, ins G.Nodes, out, gr *G.Node) (G.Nodes, error) {
		gm := gr
		var err error
		if !math.IsInf(float64(g.lo), -1) || !math.IsInf(float64(g.hi), 1) {
			lo, hi := g.lo, g.hi
			if gm, err = backOp(k, "act", k.out, func(_ *runtime, dst []float32, src [][]float32) {
				clipMask(dst, src[0], src[1], lo, hi)
			}, out, gr); err != nil {
				return nil, err
			}
		}
		res := make(G.Nodes, len(ins))
		if k.diff[0] {
			if res[0], err = backOp(k, "dx", k.ins[0], func(rt *runtime, dst []float32, src [][]float32) {
				switch g.kind() {
				case kindDepthwise:
					depthwiseDX(rt, g, dst, src[0], src[1])
				case kindPointwise:
					pointwiseDX(rt, g, dst, src[0], src[1])
				default:
					im2colDX(rt, g, dst, src[0], src[1])
				}
			}, ins[1], gm); err != nil {
				return nil, err
			}
		}
		if k.diff[1] {
			if res[1], err = backOp(k, "dw", k.ins[1], func(rt *runtime, dst []float32, src [][]float32) {
				switch g.kind() {
				case kindDepthwise:
					depthwiseDW(rt, g, dst, src[0], src[1])
				case kindPointwise:
					pointwiseDW(rt, g, dst, src[0], src[1])
				default:
					im2colDW(rt, g, dst, src[0], src[1])
				}
			}, ins[0], gm); err != nil {
				return nil, err
			}
		}
		if len(ins) > 2 && k.diff[2] {
			plane := g.ho * g.wo
			if res[2], err = backOp(k, "db", k.ins[2], func(_ *runtime, dst []float32, src [][]float32) {
				clear(dst)
				for c := 0; c < g.n*g.cout; c++ {
					dst[c%g.cout] += sum32(src[0][c*plane : (c+1)*plane])
				}
			}, gm); err != nil {
				return nil, err
			}
		}
		return res, nil
	}
}

// clipMaskGo is clipMask in plain Go.
func clipMaskGo(dst, y, g []float32, lo, hi float32) {
	for j, v := range y {
		if v > lo && v < hi {
			dst[j] = g[j]
		} else {
			dst[j] = 0
		}
	}
}

func sum32(x []float32) float32 {
	var s0, s1, s2, s3 float32
	n4 := len(x) &^ 3
	for j := 0; j < n4; j += 4 {
		s0 += x[j]
		s1 += x[j+1]
		s2 += x[j+2]
		s3 += x[j+3]
	}
	for _, v := range x[n4:] {
		s0 += v
	}
	return (s0 + s1) + (s2 + s3)
}

const (
	kindIm2col = iota
	kindDepthwise
	kindPointwise
)

// kind is the kernel the forward pass runs (buildConv's dispatch).
func (g *convGeom) kind() int {
	switch {
	case g.depthwise:
		return kindDepthwise
	case g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.group == 1 && g.pt+g.pl+g.pb+g.pr == 0:
		return kindPointwise
	}
	return kindIm2col
}

// pointwiseDW: dW[Cout,Cin] = Σ_i g_i[Cout,HW]·x_i[Cin,HW]ᵀ.
func pointwiseDW(rt *runtime, g *convGeom, dw, x, gr []float32) {
	hw := g.h * g.w
	for i := 0; i < g.n; i++ {
		beta := float32(min(i, 1))
		rt.gemm.Sgemm(false, true, g.cout, g.cin, hw, 1, gr[i*g.cout*hw:], hw, x[i*g.cin*hw:], hw, beta, dw, g.cin)
	}
}

// pointwiseDX: dx_i[Cin,HW] = Wᵀ[Cin,Cout]·g_i[Cout,HW], with Wᵀ written
// out once and packed once for the whole batch (MulShared).
func pointwiseDX(rt *runtime, g *convGeom, dx, w, gr []float32) {
	hw := g.h * g.w
	wt := rt.buf(0, g.cin*g.cout)
	for co := 0; co < g.cout; co++ {
		for ci, v := range w[co*g.cin : (co+1)*g.cin] {
			wt[ci*g.cout+co] = v
		}
	}
	bs, cs := make([][]float32, g.n), make([][]float32, g.n)
	for i := range bs {
		bs[i], cs[i] = gr[i*g.cout*hw:(i+1)*g.cout*hw], dx[i*g.cin*hw:(i+1)*g.cin*hw]
	}
	rt.gemm.MulShared(g.cin, hw, g.cout, wt, bs, cs, nil)
}

// im2colDW: dW_group[og, cg·kh·kw] = Σ_i g[og,P]·col(x)ᵀ.
func im2colDW(rt *runtime, g *convGeom, dw, x, gr []float32) {
	cg, og := g.cin/g.group, g.cout/g.group
	k := cg * g.kh * g.kw
	p := g.ho * g.wo
	col := rt.buf(0, k*p)
	pt := newPatches(rt, g)
	for i := 0; i < g.n; i++ {
		beta := float32(min(i, 1))
		for gp := 0; gp < g.group; gp++ {
			pt.im2col(col, x[(i*g.cin+gp*cg)*g.h*g.w:], g, cg)
			rt.gemm.Sgemm(false, true, og, k, p, 1, gr[(i*g.cout+gp*og)*p:], p, col, p, beta, dw[gp*og*k:], k)
		}
	}
}

// im2colDX: dcol = W_groupᵀ·g, scattered back onto the input (col2im).
func im2colDX(rt *runtime, g *convGeom, dx, w, gr []float32) {
	cg, og := g.cin/g.group, g.cout/g.group
	k := cg * g.kh * g.kw
	p := g.ho * g.wo
	col := rt.buf(0, k*p)
	clear(dx)
	for i := 0; i < g.n; i++ {
		for gp := 0; gp < g.group; gp++ {
			rt.gemm.Sgemm(true, false, k, p, og, 1, w[gp*og*k:], k, gr[(i*g.cout+gp*og)*p:], p, 0, col, p)
			col2im(dx[(i*g.cin+gp*cg)*g.h*g.w:], col, g, cg)
		}
	}
}

// col2im adds the [c·kh·kw, ho·wo] patch matrix back onto c planes at x
// (the adjoint of im2col).
func col2im(x, col []float32, g *convGeom, c int) {
	p := g.ho * g.wo
	r := 0
	for ci := 0; ci < c; ci++ {
		plane := x[ci*g.h*g.w:]
		for ky := 0; ky < g.kh; ky++ {
			for kx := 0; kx < g.kw; kx++ {
				row := col[r*p : (r+1)*p]
				r++
				for oy := 0; oy < g.ho; oy++ {
					sy := oy*g.sh + ky - g.pt
					if sy < 0 || sy >= g.h {
						continue
					}
					dst := plane[sy*g.w : (sy+1)*g.w]
					for ox, v := range row[oy*g.wo : (oy+1)*g.wo] {
						if sx := ox*g.sw + kx - g.pl; sx >= 0 && sx < g.w {
							dst[sx] += v
						}
					}
				}
			}
		}
	}
}

// dwLayout is the phase layout of depthwise (see depthwise): s×s phases of
// the padded plane, each hph rows of wph, with slack behind.
type dwLayout struct {
	s, hph, wph, phase int
	offs               []int // per tap: its float offset into the phases
	px0, dst0          [8]int
}

func newDWLayout(g *convGeom) *dwLayout {
	s := g.sh
	hp, wp := g.h+g.pt+g.pb, g.w+g.pl+g.pr
	l := &dwLayout{s: s, hph: (hp + s - 1) / s, wph: (wp + s - 1) / s, offs: make([]int, 0, g.kh*g.kw)}
	l.phase = l.hph*l.wph + l.wph + 16
	for ky := 0; ky < g.kh; ky++ {
		for kx := 0; kx < g.kw; kx++ {
			p := (ky%s)*s + kx%s
			l.offs = append(l.offs, p*l.phase+(ky/s)*l.wph+kx/s)
		}
	}
	for q := 0; q < s && s > 1; q++ {
		l.px0[q] = (q - g.pl%s + s) % s
		l.dst0[q] = q*l.phase + (l.px0[q]+g.pl)/s
	}
	return l
}

// toPhases copies an input plane into the phases (the padding stays as
// the caller left it); fromPhases reads the plane back from them.
func (l *dwLayout) toPhases(g *convGeom, ph, src []float32) {
	s := l.s
	switch s {
	case 1:
		copyRows(ph[g.pt*l.wph+g.pl:], l.wph, src, g.w, g.h, g.w)
		return
	case 2: // the common stride: the rows of one parity fill one pair of phases, wph apart
		q2 := g.pl % 2 // the phase of the even input columns
		for y0 := 0; y0 < min(2, g.h); y0++ {
			py := y0 + g.pt
			base := (py%2)*2*l.phase + (py/2)*l.wph
			deinterleave2Rows(ph[base+l.dst0[q2]:], ph[base+l.dst0[1-q2]:], l.wph, src[y0*g.w:], 2*g.w, (g.h-y0+1)/2, g.w)
		}
		return
	}
	for y := 0; y < g.h; y++ {
		py := y + g.pt
		row := src[y*g.w : (y+1)*g.w]
		base := (py%s)*s*l.phase + (py/s)*l.wph
		for q := 0; q < s; q++ {
			d := ph[base+l.dst0[q]:]
			for j, xx := 0, l.px0[q]; xx < g.w; j, xx = j+1, xx+s {
				d[j] = row[xx]
			}
		}
	}
}

func (l *dwLayout) fromPhases(g *convGeom, dst, ph []float32) {
	s := l.s
	if s == 1 {
		copyRows(dst, g.w, ph[g.pt*l.wph+g.pl:], l.wph, g.h, g.w)
		return
	}
	for y := 0; y < g.h; y++ {
		py := y + g.pt
		row := dst[y*g.w : (y+1)*g.w]
		base := (py%s)*s*l.phase + (py/s)*l.wph
		if s == 2 {
			q2 := g.pl % 2
			interleave2(row, ph[base+l.dst0[q2]:], ph[base+l.dst0[1-q2]:])
			continue
		}
		for q := 0; q < s; q++ {
			d := ph[base+l.dst0[q]:]
			for j, xx := 0, l.px0[q]; xx < g.w; j, xx = j+1, xx+s {
				row[xx] = d[j]
			}
		}
	}
}

// spread writes an output-gradient plane with the phases' row length
// (zeros in the extra columns) at gx[front:], zeros up to len(gx).
func (l *dwLayout) spread(g *convGeom, gx []float32, front int, gplane []float32) {
	clear(gx)
	copyRows(gx[front:], l.wph, gplane, g.wo, g.ho, g.wo)
}

// depthwiseDW: dW[c,t] = Σ_i Σ_j gext_i,c[j]·phases_i,c[offs_t + j], the
// forward pass's sum of shifted vectors read backwards.
func depthwiseDW(rt *runtime, g *convGeom, dw, x, gr []float32) {
	l := newDWLayout(g)
	ph := rt.buf(0, l.s*l.s*l.phase)
	clear(ph)
	vn := g.ho * l.wph
	gx := rt.buf(1, vn)
	taps := g.kh * g.kw
	clear(dw)
	plane, oplane := g.h*g.w, g.ho*g.wo
	for c := 0; c < g.n*g.cin; c++ {
		ch := c % g.cin
		l.toPhases(g, ph, x[c*plane:])
		l.spread(g, gx, 0, gr[c*oplane:(c+1)*oplane])
		dwDots(dw[ch*taps:(ch+1)*taps], gx, ph, l.offs)
	}
}

// dwDotsGo adds Σ_j g[j]·src[offs[t]+j] to dst[t] for each tap t.
func dwDotsGo(dst, g, src []float32, offs []int) {
	for t, off := range offs {
		s := src[off:][:len(g)]
		var a0, a1, a2, a3 float32
		n4 := len(g) &^ 3
		for j := 0; j < n4; j += 4 {
			a0 += g[j] * s[j]
			a1 += g[j+1] * s[j+1]
			a2 += g[j+2] * s[j+2]
			a3 += g[j+3] * s[j+3]
		}
		for j := n4; j < len(g); j++ {
			a0 += g[j] * s[j]
		}
		dst[t] += (a0 + a1) + (a2 + a3)
	}
}

// depthwiseDX: each phase's gradient is a correlation of the output
// gradient with the taps that read that phase, at negative offsets. With
// the gradient shifted right by the largest offset, that is the forward
// kernel dwTaps again (no bias, no clamp), then the phases are read back
// into the input plane.
func depthwiseDX(rt *runtime, g *convGeom, dx, w, gr []float32) {
	l := newDWLayout(g)
	ss := l.s * l.s
	dph := rt.buf(0, ss*l.phase)
	front := 0
	for _, o := range l.offs {
		front = max(front, o%l.phase)
	}
	plen := (l.hph*l.wph + 7) &^ 7
	gx := rt.buf(1, front+plen+8)
	taps := g.kh * g.kw
	inf := float32(math.Inf(1))
	// The taps of each phase, with their offsets into gx.
	pOffs := make([][]int, ss)
	pTaps := make([][]int, ss)
	for t, o := range l.offs {
		p := o / l.phase
		pOffs[p] = append(pOffs[p], 4*(front-o%l.phase))
		pTaps[p] = append(pTaps[p], t)
	}
	pw := make([]float32, taps)
	plane, oplane := g.h*g.w, g.ho*g.wo
	for c := 0; c < g.n*g.cin; c++ {
		ch := c % g.cin
		wc := w[ch*taps : (ch+1)*taps]
		l.spread(g, gx, front, gr[c*oplane:(c+1)*oplane])
		for p := 0; p < ss; p++ {
			d := dph[p*l.phase:][:plen]
			if len(pTaps[p]) == 0 {
				clear(d)
				continue
			}
			tw := pw[:len(pTaps[p])]
			for j, t := range pTaps[p] {
				tw[j] = wc[t]
			}
			dwTaps(d, gx, pOffs[p], tw, 0, -inf, inf)
		}
		l.fromPhases(g, dx[c*plane:(c+1)*plane], dph)
	}
}
