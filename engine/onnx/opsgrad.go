package onnx

import (
	"math"

	G "gorgonia.org/gorgonia"
)

// The backward passes of the operators other than Conv (convgrad.go).
// Each computes the gradient of one input as a kernel of its own reading
// the forward values it needs; an input whose shape equals the output's
// and whose partial derivative is 1 gets the output gradient itself.

// unaryGrad: dx = g·f'(y), the derivative written from the output y.
func unaryGrad(dy func(y float32) float32) gradFn {
	return func(k *kernel, ins G.Nodes, out, g *G.Node) (G.Nodes, error) {
		dx, err := backOp(k, "dx", k.ins[0], func(_ *runtime, dst []float32, src [][]float32) {
			for j, y := range src[0] {
				dst[j] = src[1][j] * dy(y)
			}
		}, out, g)
		return G.Nodes{dx}, err
	}
}

func clipGrad(lo, hi float32) gradFn {
	return func(k *kernel, ins G.Nodes, out, g *G.Node) (G.Nodes, error) {
		dx, err := backOp(k, "dx", k.ins[0], func(_ *runtime, dst []float32, src [][]float32) {
			clipMask(dst, src[0], src[1], lo, hi)
		}, out, g)
		return G.Nodes{dx}, err
	}
}

// walk visits the output of a broadcast binary op one run along the last
// axis at a time: f(o, ia, ib, n, da, db) for the run's first output
// index o, the inputs' offsets ia and ib, its length n and the inputs'
// steps da and db along it (0 where broadcast).
func walk(out, sa, sb []int, f func(o, ia, ib, n, da, db int)) {
	r := len(out)
	if r == 0 {
		f(0, 0, 0, 1, 0, 0)
		return
	}
	inner := out[r-1]
	idx := make([]int, r-1)
	total := prod(out)
	for o := 0; o < total; o += inner {
		oa, ob := 0, 0
		for k, v := range idx {
			oa += v * sa[k]
			ob += v * sb[k]
		}
		f(o, oa, ob, inner, sa[r-1], sb[r-1])
		for k := r - 2; k >= 0; k-- {
			if idx[k]++; idx[k] < out[k] {
				break
			}
			idx[k] = 0
		}
	}
}

// binaryGrad is the backward pass of Add, Sub, Mul, Div and PRelu: the
// gradient of each input, summed over the axes it was broadcast along.
func binaryGrad(op int, out []int, sa, sb []int) gradFn {
	return func(k *kernel, ins G.Nodes, outN, g *G.Node) (G.Nodes, error) {
		res := make(G.Nodes, 2)
		for side := 0; side < 2; side++ {
			if !k.diff[side] {
				continue
			}
			shape := k.ins[side]
			if (op == opAdd || (op == opSub && side == 0)) && sameShape(shape, out) {
				res[side] = g
				continue
			}
			// da is ∂out/∂input as a function of both inputs' values.
			var da func(a, b float32) float32
			switch {
			case op == opAdd:
				da = func(a, b float32) float32 { return 1 }
			case op == opSub && side == 0:
				da = func(a, b float32) float32 { return 1 }
			case op == opSub:
				da = func(a, b float32) float32 { return -1 }
			case op == opMul && side == 0:
				da = func(a, b float32) float32 { return b }
			case op == opMul:
				da = func(a, b float32) float32 { return a }
			case op == opDiv && side == 0:
				da = func(a, b float32) float32 { return 1 / b }
			case op == opDiv:
				da = func(a, b float32) float32 { return -a / (b * b) }
			case side == 0: // PRelu
				da = func(a, b float32) float32 {
					if a < 0 {
						return b
					}
					return 1
				}
			default:
				da = func(a, b float32) float32 { return min(a, 0) }
			}
			mine := side
			d, err := backOp(k, []string{"da", "db"}[side], shape, func(_ *runtime, dst []float32, src [][]float32) {
				x, y, gv := src[0], src[1], src[2]
				clear(dst)
				walk(out, sa, sb, func(o, ia, ib, n, sta, stb int) {
					for j := 0; j < n; j++ {
						a, b := x[ia+j*sta], y[ib+j*stb]
						if mine == 0 {
							dst[ia+j*sta] += gv[o+j] * da(a, b)
						} else {
							dst[ib+j*stb] += gv[o+j] * da(a, b)
						}
					}
				})
			}, ins[0], ins[1], g)
			if err != nil {
				return nil, err
			}
			res[side] = d
		}
		return res, nil
	}
}

// batchNormGrad is the backward pass of batch normalisation kept as a
// frozen affine map y = a·x + (bias − a·mean), a = scale/√(var+ε): the
// statistics are the file's running ones and never change. Fine-tuning
// runs split a batch over graph replicas of 32 rows or fewer and often use
// small batches: batch statistics would differ per replica and be noisy,
// and running statistics would be state outside the weights that exact
// resume and export must carry. The frozen map keeps a fine-tuned model
// exactly what the file computes, with learnable scale and bias.
func batchNormGrad(x []int, eps float64) gradFn {
	c, plane := x[1], prod(x[2:])
	inv := func(vr []float32, ch int) float32 { return float32(1 / math.Sqrt(float64(vr[ch])+eps)) }
	return func(k *kernel, ins G.Nodes, out, g *G.Node) (G.Nodes, error) {
		res := make(G.Nodes, len(ins))
		var err error
		if k.diff[0] { // dx = g·scale/√(var+ε)
			if res[0], err = backOp(k, "dx", x, func(_ *runtime, dst []float32, src [][]float32) {
				scale, vr, gv := src[0], src[1], src[2]
				for nc := 0; nc < x[0]*c; nc++ {
					a := scale[nc%c] * inv(vr, nc%c)
					for j, v := range gv[nc*plane : (nc+1)*plane] {
						dst[nc*plane+j] = v * a
					}
				}
			}, ins[1], ins[4], g); err != nil {
				return nil, err
			}
		}
		if k.diff[1] { // dscale = Σ g·(x − mean)/√(var+ε)
			if res[1], err = backOp(k, "dscale", k.ins[1], func(_ *runtime, dst []float32, src [][]float32) {
				xv, mean, vr, gv := src[0], src[1], src[2], src[3]
				clear(dst)
				for nc := 0; nc < x[0]*c; nc++ {
					ch := nc % c
					var s float32
					xs := xv[nc*plane : (nc+1)*plane]
					for j, v := range gv[nc*plane : (nc+1)*plane] {
						s += v * (xs[j] - mean[ch])
					}
					dst[ch] += s * inv(vr, ch)
				}
			}, ins[0], ins[3], ins[4], g); err != nil {
				return nil, err
			}
		}
		if k.diff[2] { // dbias = Σ g
			if res[2], err = backOp(k, "dbias", k.ins[2], func(_ *runtime, dst []float32, src [][]float32) {
				clear(dst)
				for nc := 0; nc < x[0]*c; nc++ {
					dst[nc%c] += sum32(src[0][nc*plane : (nc+1)*plane])
				}
			}, g); err != nil {
				return nil, err
			}
		}
		return res, nil
	}
}

// copyGrad: a reshape's gradient is the output gradient under the input's
// shape.
func copyGrad(k *kernel, ins G.Nodes, out, g *G.Node) (G.Nodes, error) {
	dx, err := backOp(k, "dx", k.ins[0], func(_ *runtime, dst []float32, src [][]float32) {
		copy(dst, src[0])
	}, g)
	return G.Nodes{dx}, err
}

// moveGrad: output element j copied input element idx[j], so its gradient
// adds there.
func moveGrad(idx []int32) gradFn {
	return func(k *kernel, ins G.Nodes, out, g *G.Node) (G.Nodes, error) {
		dx, err := backOp(k, "dx", k.ins[0], func(_ *runtime, dst []float32, src [][]float32) {
			clear(dst)
			for j, s := range idx {
				dst[s] += src[0][j]
			}
		}, g)
		return G.Nodes{dx}, err
	}
}

func concatGrad(outer int, blks []int) gradFn {
	return func(k *kernel, ins G.Nodes, out, g *G.Node) (G.Nodes, error) {
		res := make(G.Nodes, len(ins))
		start := 0
		for i := range ins {
			at, blk := start, blks[i]
			start += blk
			if !k.diff[i] {
				continue
			}
			total := 0
			for _, b := range blks {
				total += b
			}
			d, err := backOp(k, "dx", k.ins[i], func(_ *runtime, dst []float32, src [][]float32) {
				for j := 0; j < outer; j++ {
					copy(dst[j*blk:(j+1)*blk], src[0][j*total+at:])
				}
			}, g)
			if err != nil {
				return nil, err
			}
			res[i] = d
		}
		return res, nil
	}
}

// gemmGrad: Y = α·op(A)·op(B) + β·C. With G the output gradient,
// d op(A) = α·G·op(B)ᵀ and d op(B) = α·op(A)ᵀ·G, transposed back when the
// input was; dC is β·G summed over C's broadcast axes.
func gemmGrad(tA, tB bool, alpha, beta float32, m, n, kk int, a, w []int, cst []int) gradFn {
	return func(k *kernel, ins G.Nodes, out, g *G.Node) (G.Nodes, error) {
		res := make(G.Nodes, len(ins))
		var err error
		if k.diff[0] {
			if res[0], err = backOp(k, "dA", a, func(rt *runtime, dst []float32, src [][]float32) {
				b, gv := src[0], src[1]
				if !tA {
					rt.gemm.Sgemm(false, !tB, m, kk, n, alpha, gv, n, b, w[1], 0, dst, kk)
				} else {
					rt.gemm.Sgemm(tB, true, kk, m, n, alpha, b, w[1], gv, n, 0, dst, m)
				}
			}, ins[1], g); err != nil {
				return nil, err
			}
		}
		if k.diff[1] {
			if res[1], err = backOp(k, "dB", w, func(rt *runtime, dst []float32, src [][]float32) {
				av, gv := src[0], src[1]
				if !tB {
					rt.gemm.Sgemm(!tA, false, kk, n, m, alpha, av, a[1], gv, n, 0, dst, n)
				} else {
					rt.gemm.Sgemm(true, tA, n, kk, m, alpha, gv, n, av, a[1], 0, dst, kk)
				}
			}, ins[0], g); err != nil {
				return nil, err
			}
		}
		if len(ins) > 2 && k.diff[2] {
			if res[2], err = backOp(k, "dC", k.ins[2], func(_ *runtime, dst []float32, src [][]float32) {
				clear(dst)
				for r := 0; r < m; r++ {
					for c := 0; c < n; c++ {
						dst[r*cst[0]+c*cst[1]] += beta * src[0][r*n+c]
					}
				}
			}, g); err != nil {
				return nil, err
			}
		}
		return res, nil
	}
}

// matMulGrad: Y[M,n] = A[M,k]·B[k,n]: dA = G·Bᵀ, dB = Aᵀ·G.
func matMulGrad(m, n, kk int) gradFn {
	return func(k *kernel, ins G.Nodes, out, g *G.Node) (G.Nodes, error) {
		res := make(G.Nodes, 2)
		var err error
		if k.diff[0] {
			if res[0], err = backOp(k, "dA", k.ins[0], func(rt *runtime, dst []float32, src [][]float32) {
				rt.gemm.Sgemm(false, true, m, kk, n, 1, src[1], n, src[0], n, 0, dst, kk)
			}, ins[1], g); err != nil {
				return nil, err
			}
		}
		if k.diff[1] {
			if res[1], err = backOp(k, "dB", k.ins[1], func(rt *runtime, dst []float32, src [][]float32) {
				rt.gemm.Sgemm(true, false, kk, n, m, 1, src[0], kk, src[1], n, 0, dst, n)
			}, ins[0], g); err != nil {
				return nil, err
			}
		}
		return res, nil
	}
}

// globalAvgPoolGrad spreads each channel's gradient evenly over its plane.
func globalAvgPoolGrad(plane int) gradFn {
	return func(k *kernel, ins G.Nodes, out, g *G.Node) (G.Nodes, error) {
		dx, err := backOp(k, "dx", k.ins[0], func(_ *runtime, dst []float32, src [][]float32) {
			for c, v := range src[0] {
				v /= float32(plane)
				d := dst[c*plane : (c+1)*plane]
				for j := range d {
					d[j] = v
				}
			}
		}, g)
		return G.Nodes{dx}, err
	}
}

// poolGrad: a max window's gradient goes to its (first) largest input,
// found again from x; a mean window's is shared by the cells it divided
// by.
func poolGrad(g *convGeom, isMax, inclPad bool) gradFn {
	return func(k *kernel, ins G.Nodes, out, gr *G.Node) (G.Nodes, error) {
		dx, err := backOp(k, "dx", k.ins[0], func(_ *runtime, dst []float32, src [][]float32) {
			x, gv := src[0], src[1]
			clear(dst)
			plane, oplane := g.h*g.w, g.ho*g.wo
			for c := 0; c < g.n*g.cin; c++ {
				xs, d := x[c*plane:(c+1)*plane], dst[c*plane:(c+1)*plane]
				for oy := 0; oy < g.ho; oy++ {
					y0 := oy*g.sh - g.pt
					y1 := min(y0+g.kh, g.h)
					for ox := 0; ox < g.wo; ox++ {
						x0 := ox*g.sw - g.pl
						x1 := min(x0+g.kw, g.w)
						gvv := gv[c*oplane+oy*g.wo+ox]
						if isMax {
							best, at := float32(math.Inf(-1)), -1
							for y := max(y0, 0); y < y1; y++ {
								for xx := max(x0, 0); xx < x1; xx++ {
									if v := xs[y*g.w+xx]; v > best || at < 0 {
										best, at = v, y*g.w+xx
									}
								}
							}
							if at >= 0 {
								d[at] += gvv
							}
							continue
						}
						cnt := (y1 - max(y0, 0)) * (x1 - max(x0, 0))
						if inclPad {
							cnt = (min(y0+g.kh, g.h+g.pb) - y0) * (min(x0+g.kw, g.w+g.pr) - x0)
						}
						share := gvv / float32(cnt)
						for y := max(y0, 0); y < y1; y++ {
							for xx := max(x0, 0); xx < x1; xx++ {
								d[y*g.w+xx] += share
							}
						}
					}
				}
			}
		}, ins[0], gr)
		return G.Nodes{dx}, err
	}
}
