package nn

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The backbone's element-wise layers, fused where one pass over memory can
// do the work of several gorgonia ops (each of which would allocate its
// result and walk the whole map again). All take CNHW maps (see conv.go).

// gnState: group norm + bias + ReLU on a [C,N,H,W] map, with the per-(group,
// sample) statistics kept for the backward pass.
type gnState struct {
	c, n, hw       int // of the last forward pass
	mean, inv      []float32
	out, dx, dbias outBuf
}

// gnGroups returns the channels per group, as GroupNorm (groupnorm.go).
func gnGroups(c int) (int, error) {
	gc := min(groupChannels, c)
	if c%gc != 0 {
		return 0, fmt.Errorf("nn: group norm: %d channels are not a multiple of %d", c, gc)
	}
	return gc, nil
}

// gnReluOp: relu(groupnorm(x) + b), x [C,N,H,W], b [1,C,1,1].
type gnReluOp struct {
	opBase
	st *gnState
}

func (o gnReluOp) Arity() int    { return 2 }
func (o gnReluOp) Type() hm.Type { return hm.NewFnType(tensor4(), tensor4(), tensor4()) }
func (o gnReluOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return shapeOf(in[0]).Clone(), nil
}

func (o gnReluOp) Do(vals ...G.Value) (G.Value, error) {
	s := o.st
	x, err := f32s(vals[0])
	if err != nil {
		return nil, err
	}
	b, err := f32s(vals[1])
	if err != nil {
		return nil, err
	}
	sh := vals[0].Shape()
	s.c, s.n, s.hw = sh[0], sh[1], sh[2]*sh[3]
	gc, err := gnGroups(s.c)
	if err != nil {
		return nil, err
	}
	out := s.out.dense(sh...)
	ng := s.c / gc
	s.mean = grow(s.mean, ng*s.n)
	s.inv = grow(s.inv, ng*s.n)
	nhw := s.n * s.hw
	size := float64(gc * s.hw)
	for g := 0; g < ng; g++ {
		for i := 0; i < s.n; i++ {
			// One pass for both moments, about a shift (the group's first
			// value) that keeps Σ(x−shift)² free of cancellation.
			shift := x[g*gc*nhw+i*s.hw]
			var s1, s2 float64
			for c := g * gc; c < (g+1)*gc; c++ {
				a, b := sumShift(x[c*nhw+i*s.hw:][:s.hw], shift)
				s1 += a
				s2 += b
			}
			d := s1 / size
			mean := float32(float64(shift) + d)
			inv := float32(1 / math.Sqrt(max(0, s2/size-d*d)+gnEps))
			s.mean[g*s.n+i], s.inv[g*s.n+i] = mean, inv
			for c := g * gc; c < (g+1)*gc; c++ {
				off := c*nhw + i*s.hw
				reluAffine(s.out.data[off:][:s.hw], x[off:][:s.hw], inv, b[c]-mean*inv)
			}
		}
	}
	return out, nil
}

func (o gnReluOp) DiffWRT(int) []bool { return []bool{true, true} }

func (o gnReluOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(gnReluGradOp{opBase{o.name + "_dx"}, o.st}, inputs[0], output, grad)
	if err != nil {
		return nil, err
	}
	db, err := G.ApplyOp(gnBiasGradOp{opBase{o.name + "_db"}, o.st}, dx)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, db}, nil
}

// gnReluGradOp: with gm = g·[out>0] and y the normalised input,
// dx = inv·(gm − mean(gm) − y·mean(gm·y)) within each group of a sample.
type gnReluGradOp struct {
	opBase
	st *gnState
}

func (o gnReluGradOp) Arity() int { return 3 }
func (o gnReluGradOp) Type() hm.Type {
	return hm.NewFnType(tensor4(), tensor4(), tensor4(), tensor4())
}
func (o gnReluGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return shapeOf(in[0]).Clone(), nil
}

func (o gnReluGradOp) Do(vals ...G.Value) (G.Value, error) {
	s := o.st
	x, err := f32s(vals[0])
	if err != nil {
		return nil, err
	}
	out, err := f32s(vals[1])
	if err != nil {
		return nil, err
	}
	gy, err := f32s(vals[2])
	if err != nil {
		return nil, err
	}
	gc, err := gnGroups(s.c)
	if err != nil {
		return nil, err
	}
	res := s.dx.dense(vals[0].Shape()...)
	s.dbias.dense(1, s.c, 1, 1)
	db := s.dbias.data
	clear(db)
	ng := s.c / gc
	nhw := s.n * s.hw
	size := float64(gc * s.hw)
	for g := 0; g < ng; g++ {
		for i := 0; i < s.n; i++ {
			mean, inv := s.mean[g*s.n+i], s.inv[g*s.n+i]
			var mg, mgx float64
			for c := g * gc; c < (g+1)*gc; c++ {
				off := c*nhw + i*s.hw
				a, b := maskedMoments(x[off:][:s.hw], out[off:][:s.hw], gy[off:][:s.hw])
				db[c] += float32(a)
				mg += a
				mgx += b
			}
			// mean(gm·y) with y = (x−mean)·inv, from Σgm and Σgm·x.
			mgy := (mgx - float64(mean)*mg) * float64(inv) / size
			mg /= size
			// dx = inv·(gm − mg − y·mgy) = inv·gm + k0 − k1·x
			k1 := inv * float32(mgy) * inv
			k0 := -inv*float32(mg) + k1*mean
			for c := g * gc; c < (g+1)*gc; c++ {
				off := c*nhw + i*s.hw
				maskedAffine(s.dx.data[off:][:s.hw], x[off:][:s.hw], out[off:][:s.hw], gy[off:][:s.hw], inv, k0, k1)
			}
		}
	}
	return res, nil
}

// reluMask is all ones where a ReLU output o is positive, zero where it is
// 0. ReLU masks of random data defeat the branch predictor (half the
// branches mispredicted made the backward passes several times slower than
// the forward); this is branch-free: for o ≥ 0 the bits b are 0 only for
// +0, and b | −b has its sign bit set for every other b.
func reluMask(o float32) uint32 {
	b := math.Float32bits(o)
	return uint32(int32(b|-b) >> 31)
}

func masked(g float32, m uint32) float32 { return math.Float32frombits(math.Float32bits(g) & m) }

// maskedMoments returns Σ gm and Σ gm·x over one plane, gm = g·[out>0].
func maskedMoments(x, out, g []float32) (sg, sgx float64) {
	if ewAVX512 && len(out) > 0 {
		x, g = x[:len(out)], g[:len(out)]
		a, b := maskedMoments512(&x[0], &out[0], &g[0], len(out))
		return float64(a), float64(b)
	}
	var a0, a1, b0, b1 float32
	j := 0
	x, g = x[:len(out)], g[:len(out)]
	for ; j+2 <= len(out); j += 2 {
		gm0 := masked(g[j], reluMask(out[j]))
		gm1 := masked(g[j+1], reluMask(out[j+1]))
		a0 += gm0
		a1 += gm1
		b0 += gm0 * x[j]
		b1 += gm1 * x[j+1]
	}
	for ; j < len(out); j++ {
		gm := masked(g[j], reluMask(out[j]))
		a0 += gm
		b0 += gm * x[j]
	}
	return float64(a0) + float64(a1), float64(b0) + float64(b1)
}

// maskedAffine sets dst = inv·g·[out>0] + k0 − k1·x.
func maskedAffine(dst, x, out, g []float32, inv, k0, k1 float32) {
	x, out, g = x[:len(dst)], out[:len(dst)], g[:len(dst)]
	if ewAVX512 && len(dst) > 0 {
		maskedAffine512(&dst[0], &x[0], &out[0], &g[0], len(dst), inv, k0, k1)
		return
	}
	for j := range dst {
		dst[j] = inv*masked(g[j], reluMask(out[j])) + k0 - k1*x[j]
	}
}

// gnBiasGradOp hands on the bias gradient gnReluGradOp summed in its pass
// over the map (Σ over N,H,W of g·[out>0]); its input is that op's result,
// which orders it after it.
type gnBiasGradOp struct {
	opBase
	st *gnState
}

func (o gnBiasGradOp) Arity() int    { return 1 }
func (o gnBiasGradOp) Type() hm.Type { return hm.NewFnType(tensor4(), tensor4()) }
func (o gnBiasGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{1, shapeOf(in[0])[0], 1, 1}, nil
}

func (o gnBiasGradOp) Do(vals ...G.Value) (G.Value, error) {
	return o.st.dbias.dense(1, o.st.c, 1, 1), nil
}

// resState: the closing ReLU of a residual block, relu(r + b + h).
type resState struct {
	out, gm, dbias outBuf
}

// resReluOp: inputs r (the branch's last convolution) [C,N,H,W], its bias
// [1,C,1,1] and the shortcut h [C,N,H,W].
type resReluOp struct {
	opBase
	st *resState
}

func (o resReluOp) Arity() int { return 3 }
func (o resReluOp) Type() hm.Type {
	return hm.NewFnType(tensor4(), tensor4(), tensor4(), tensor4())
}
func (o resReluOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return shapeOf(in[0]).Clone(), nil
}

func (o resReluOp) Do(vals ...G.Value) (G.Value, error) {
	r, err := f32s(vals[0])
	if err != nil {
		return nil, err
	}
	b, err := f32s(vals[1])
	if err != nil {
		return nil, err
	}
	h, err := f32s(vals[2])
	if err != nil {
		return nil, err
	}
	shape := vals[0].Shape()
	res := o.st.out.dense(shape...)
	c := shape[0]
	per := len(r) / c
	for ch := 0; ch < c; ch++ {
		bc := b[ch]
		rs, hs := r[ch*per:][:per], h[ch*per:][:per]
		dst := o.st.out.data[ch*per:][:per]
		addRelu(dst, rs, hs, bc)
	}
	return res, nil
}

func (o resReluOp) DiffWRT(int) []bool { return []bool{true, true, true} }

// SymDiff: the masked gradient flows unchanged to both the branch and the
// shortcut, so one node serves as both.
func (o resReluOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	gm, err := G.ApplyOp(reluGradOp{opBase{o.name + "_dr"}, &o.st.gm}, output, grad)
	if err != nil {
		return nil, err
	}
	db, err := G.ApplyOp(chanSumOp{opBase{o.name + "_db"}, &o.st.dbias}, gm)
	if err != nil {
		return nil, err
	}
	return G.Nodes{gm, db, gm}, nil
}

// reluGradOp: g·[out>0].
type reluGradOp struct {
	opBase
	res *outBuf
}

func (o reluGradOp) Arity() int    { return 2 }
func (o reluGradOp) Type() hm.Type { return hm.NewFnType(tensor4(), tensor4(), tensor4()) }
func (o reluGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return shapeOf(in[0]).Clone(), nil
}

func (o reluGradOp) Do(vals ...G.Value) (G.Value, error) {
	out, err := f32s(vals[0])
	if err != nil {
		return nil, err
	}
	g, err := f32s(vals[1])
	if err != nil {
		return nil, err
	}
	res := o.res.dense(vals[0].Shape()...)
	maskCopy(o.res.data, out, g)
	return res, nil
}

// chanSumOp: Σ over N,H,W of a [C,N,H,W] map, shaped [1,C,1,1].
type chanSumOp struct {
	opBase
	res *outBuf
}

func (o chanSumOp) Arity() int    { return 1 }
func (o chanSumOp) Type() hm.Type { return hm.NewFnType(tensor4(), tensor4()) }
func (o chanSumOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{1, shapeOf(in[0])[0], 1, 1}, nil
}

func (o chanSumOp) Do(vals ...G.Value) (G.Value, error) {
	g, err := f32s(vals[0])
	if err != nil {
		return nil, err
	}
	c := vals[0].Shape()[0]
	per := len(g) / c
	res := o.res.dense(1, c, 1, 1)
	for ch := 0; ch < c; ch++ {
		t, _ := sumShift(g[ch*per:][:per], 0)
		o.res.data[ch] = float32(t)
	}
	return res, nil
}

// orderKey maps a float32 (not NaN) to an int32 with the same order:
// non-negative floats order like their bits, negative ones reversed.
func orderKey(f float32) int32 {
	b := int32(math.Float32bits(f))
	return b ^ (b >> 31 & 0x7fffffff)
}

func fromOrderKey(k int32) float32 {
	return math.Float32frombits(uint32(k ^ (k >> 31 & 0x7fffffff)))
}

// relu is max(0, v) without a branch or the NaN handling of max(): a set
// sign bit (negative, −0) clears the value.
func relu(v float32) float32 {
	b := math.Float32bits(v)
	return math.Float32frombits(b &^ uint32(int32(b)>>31))
}

// poolState: 2×2 max-pool, stride 2, remembering which of the four won.
type poolState struct {
	arg     []uint8
	out, dx outBuf
	inShape tensor.Shape
}

type poolOp struct {
	opBase
	st *poolState
}

func (o poolOp) Arity() int    { return 1 }
func (o poolOp) Type() hm.Type { return hm.NewFnType(tensor4(), tensor4()) }
func (o poolOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s := shapeOf(in[0])
	if len(s) != 4 || s[2]%2 != 0 || s[3]%2 != 0 {
		return nil, fmt.Errorf("nn: 2×2 pool wants even sides, got %v", s)
	}
	return tensor.Shape{s[0], s[1], s[2] / 2, s[3] / 2}, nil
}

func (o poolOp) Do(vals ...G.Value) (G.Value, error) {
	x, err := f32s(vals[0])
	if err != nil {
		return nil, err
	}
	sh := vals[0].Shape()
	o.st.inShape = sh.Clone()
	planes, h, w := sh[0]*sh[1], sh[2], sh[3]
	oh, ow := h/2, w/2
	res := o.st.out.dense(sh[0], sh[1], oh, ow)
	out := o.st.out.data
	if len(o.st.arg) != len(out) {
		// 16 bytes of slack: the AVX-512 backward reads args 16 at a time.
		o.st.arg = make([]uint8, len(out), len(out)+16)
	}
	arg := o.st.arg
	if ewAVX512 && len(out) > 0 {
		pool2x2F512(&out[0], &arg[0], &x[0], planes*oh, w)
		return res, nil
	}
	for p := 0; p < planes; p++ {
		in := x[p*h*w:][:h*w]
		for y := 0; y < oh; y++ {
			r0, r1 := in[2*y*w:][:w], in[(2*y+1)*w:][:w]
			orow := out[(p*oh+y)*ow:][:ow]
			arow := arg[(p*oh+y)*ow:][:ow]
			for xx := range orow {
				// Branch-free (which of the four wins is random): compare
				// order keys of the float bits as integers, which compile
				// to conditional moves. Ties go to the first, as in
				// gorgonia's MaxPool2D.
				k0, k1 := orderKey(r0[2*xx]), orderKey(r0[2*xx+1])
				k2, k3 := orderKey(r1[2*xx]), orderKey(r1[2*xx+1])
				m01, i01 := k0, uint8(0)
				if k1 > k0 {
					m01, i01 = k1, 1
				}
				m23, i23 := k2, uint8(2)
				if k3 > k2 {
					m23, i23 = k3, 3
				}
				if m23 > m01 {
					m01, i01 = m23, i23
				}
				orow[xx], arow[xx] = fromOrderKey(m01), i01
			}
		}
	}
	return res, nil
}

func (o poolOp) DiffWRT(int) []bool { return []bool{true} }

func (o poolOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(poolGradOp{opBase{o.name + "_dx"}, o.st}, inputs[0], grad)
	return G.Nodes{dx}, err
}

// poolGradOp routes each output's gradient to the input that won. It takes
// the pool's input only for its shape (and to order it after the forward).
type poolGradOp struct {
	opBase
	st *poolState
}

func (o poolGradOp) Arity() int    { return 2 }
func (o poolGradOp) Type() hm.Type { return hm.NewFnType(tensor4(), tensor4(), tensor4()) }
func (o poolGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return shapeOf(in[0]).Clone(), nil
}

func (o poolGradOp) Do(vals ...G.Value) (G.Value, error) {
	g, err := f32s(vals[1])
	if err != nil {
		return nil, err
	}
	sh := vals[0].Shape()
	planes, h, w := sh[0]*sh[1], sh[2], sh[3]
	oh, ow := h/2, w/2
	res := o.st.dx.dense(sh...)
	dx := o.st.dx.data
	arg := o.st.arg
	if ewAVX512 && len(g) > 0 {
		pool2x2B512(&dx[0], &arg[0], &g[0], planes*oh, w)
		return res, nil
	}
	for p := 0; p < planes; p++ {
		d := dx[p*h*w:][:h*w]
		for y := 0; y < oh; y++ {
			r0, r1 := d[2*y*w:][:w], d[(2*y+1)*w:][:w]
			grow, arow := g[(p*oh+y)*ow:][:ow], arg[(p*oh+y)*ow:][:ow]
			for xx, gv := range grow {
				// An indexed store instead of a switch: which input won is
				// random, so a branch on it mispredicts most of the time.
				var v [4]float32
				v[arow[xx]&3] = gv
				r0[2*xx], r0[2*xx+1], r1[2*xx], r1[2*xx+1] = v[0], v[1], v[2], v[3]
			}
		}
	}
	return res, nil
}

// flattenOp turns a CNHW map [C,N,h,w] into the [N, C·h·w] rows of the FC
// layer, in the NCHW order the FC weights have always used (checkpoints keep
// their meaning).
type flattenOp struct {
	opBase
	res *outBuf
}

func (o flattenOp) Arity() int    { return 1 }
func (o flattenOp) Type() hm.Type { return hm.NewFnType(tensor4(), matType()) }
func (o flattenOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s := shapeOf(in[0])
	return tensor.Shape{s[1], s[0] * s[2] * s[3]}, nil
}

func (o flattenOp) Do(vals ...G.Value) (G.Value, error) {
	x, err := f32s(vals[0])
	if err != nil {
		return nil, err
	}
	s := vals[0].Shape()
	c, n, hw := s[0], s[1], s[2]*s[3]
	res := o.res.dense(n, c*hw)
	for ch := 0; ch < c; ch++ {
		for i := 0; i < n; i++ {
			copy(o.res.data[(i*c+ch)*hw:][:hw], x[(ch*n+i)*hw:][:hw])
		}
	}
	return res, nil
}

func (o flattenOp) DiffWRT(int) []bool { return []bool{true} }

func (o flattenOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(unflattenOp{opBase{o.name + "_dx"}, &outBuf{}}, inputs[0], grad)
	return G.Nodes{dx}, err
}

// unflattenOp is flattenOp's inverse; its first input gives the shape.
type unflattenOp struct {
	opBase
	res *outBuf
}

func (o unflattenOp) Arity() int    { return 2 }
func (o unflattenOp) Type() hm.Type { return hm.NewFnType(tensor4(), matType(), tensor4()) }
func (o unflattenOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return shapeOf(in[0]).Clone(), nil
}

func (o unflattenOp) Do(vals ...G.Value) (G.Value, error) {
	g, err := f32s(vals[1])
	if err != nil {
		return nil, err
	}
	s := vals[0].Shape()
	c, n, hw := s[0], s[1], s[2]*s[3]
	res := o.res.dense(s...)
	for ch := 0; ch < c; ch++ {
		for i := 0; i < n; i++ {
			copy(o.res.data[(ch*n+i)*hw:][:hw], g[(i*c+ch)*hw:][:hw])
		}
	}
	return res, nil
}

// mmOp is C = op(A)·op(B) on matrices through the Net's GEMM (gorgonia's
// Mul goes through gonum's pure-Go kernel and allocates its result).
type mmOp struct {
	opBase
	tA, tB bool
	ws     *workspace
	res    *outBuf
}

func newMM(name string, ws *workspace, tA, tB bool, a, b *G.Node) (*G.Node, error) {
	return G.ApplyOp(mmOp{opBase{name}, tA, tB, ws, &outBuf{}}, a, b)
}

func (o mmOp) Arity() int    { return 2 }
func (o mmOp) Type() hm.Type { return hm.NewFnType(matType(), matType(), matType()) }

func (o mmOp) dims(a, b tensor.Shape) (m, n, k int, err error) {
	if len(a) != 2 || len(b) != 2 {
		return 0, 0, 0, fmt.Errorf("nn: %s wants matrices, got %v and %v", o.name, a, b)
	}
	m, k = a[0], a[1]
	if o.tA {
		m, k = k, m
	}
	kb, n := b[0], b[1]
	if o.tB {
		kb, n = n, kb
	}
	if k != kb {
		return 0, 0, 0, fmt.Errorf("nn: %s: inner sizes differ, %v and %v", o.name, a, b)
	}
	return m, n, k, nil
}

func (o mmOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	m, n, _, err := o.dims(shapeOf(in[0]), shapeOf(in[1]))
	return tensor.Shape{m, n}, err
}

func (o mmOp) Do(vals ...G.Value) (G.Value, error) {
	a, err := f32s(vals[0])
	if err != nil {
		return nil, err
	}
	b, err := f32s(vals[1])
	if err != nil {
		return nil, err
	}
	sa, sb := vals[0].Shape(), vals[1].Shape()
	m, n, k, err := o.dims(sa, sb)
	if err != nil {
		return nil, err
	}
	res := o.res.dense(m, n)
	o.ws.gemm.sgemm(o.tA, o.tB, m, n, k, 1, a, sa[1], b, sb[1], 0, o.res.data, n)
	return res, nil
}

func (o mmOp) DiffWRT(int) []bool { return []bool{true, true} }

// SymDiff of C = op(A)·op(B): d op(A) = g·op(B)ᵀ and d op(B) = op(A)ᵀ·g,
// transposed back when A or B entered transposed.
func (o mmOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	a, b := inputs[0], inputs[1]
	type mm struct {
		x, y   *G.Node
		tx, ty bool
	}
	var da, db mm
	switch {
	case !o.tA && !o.tB:
		da, db = mm{grad, b, false, true}, mm{a, grad, true, false}
	case o.tA && !o.tB:
		da, db = mm{b, grad, false, true}, mm{a, grad, false, false}
	case !o.tA && o.tB:
		da, db = mm{grad, b, false, false}, mm{grad, a, true, false}
	default:
		da, db = mm{b, grad, true, true}, mm{grad, a, true, true}
	}
	ga, err := newMM(o.name+"_da", o.ws, da.tx, da.ty, da.x, da.y)
	if err != nil {
		return nil, err
	}
	gb, err := newMM(o.name+"_db", o.ws, db.tx, db.ty, db.x, db.y)
	if err != nil {
		return nil, err
	}
	return G.Nodes{ga, gb}, nil
}

// addRowOp: x [N,E] + b [1,E].
type addRowOp struct {
	opBase
	res, db *outBuf
}

func (o addRowOp) Arity() int    { return 2 }
func (o addRowOp) Type() hm.Type { return hm.NewFnType(matType(), matType(), matType()) }
func (o addRowOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return shapeOf(in[0]).Clone(), nil
}

func (o addRowOp) Do(vals ...G.Value) (G.Value, error) {
	x, err := f32s(vals[0])
	if err != nil {
		return nil, err
	}
	b, err := f32s(vals[1])
	if err != nil {
		return nil, err
	}
	s := vals[0].Shape()
	res := o.res.dense(s...)
	e := s[1]
	for i := 0; i < s[0]; i++ {
		dst, src := o.res.data[i*e:][:e], x[i*e:][:e]
		for j, v := range src {
			dst[j] = v + b[j]
		}
	}
	return res, nil
}

func (o addRowOp) DiffWRT(int) []bool { return []bool{true, true} }

func (o addRowOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	db, err := G.ApplyOp(sumRowsOp{opBase{o.name + "_db"}, o.db}, grad)
	return G.Nodes{grad, db}, err
}

// sumRowsOp: Σ over rows of [N,E], shaped [1,E].
type sumRowsOp struct {
	opBase
	res *outBuf
}

func (o sumRowsOp) Arity() int    { return 1 }
func (o sumRowsOp) Type() hm.Type { return hm.NewFnType(matType(), matType()) }
func (o sumRowsOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{1, shapeOf(in[0])[1]}, nil
}

func (o sumRowsOp) Do(vals ...G.Value) (G.Value, error) {
	g, err := f32s(vals[0])
	if err != nil {
		return nil, err
	}
	s := vals[0].Shape()
	res := o.res.dense(1, s[1])
	clear(o.res.data)
	for i := 0; i < s[0]; i++ {
		for j, v := range g[i*s[1]:][:s[1]] {
			o.res.data[j] += v
		}
	}
	return res, nil
}

// sumShift returns Σ(v−shift) and Σ(v−shift)², in eight float32 lanes
// (faster than one float64 accumulator and as accurate for the few thousand
// values of a plane) or sixteen with AVX-512.
func sumShift(s []float32, shift float32) (float64, float64) {
	if ewAVX512 && len(s) > 0 {
		a, b := sumShift512(&s[0], len(s), shift)
		return float64(a), float64(b)
	}
	var a, q [8]float32
	i := 0
	for ; i+8 <= len(s); i += 8 {
		v := s[i : i+8 : i+8]
		for l := range 8 {
			d := v[l] - shift
			a[l] += d
			q[l] += d * d
		}
	}
	var t, tq float64
	for l := range 8 {
		t += float64(a[l])
		tq += float64(q[l])
	}
	for ; i < len(s); i++ {
		d := s[i] - shift
		t += float64(d)
		tq += float64(d * d)
	}
	return t, tq
}

// reluAffine sets dst = max(0, a·x + b).
func reluAffine(dst, x []float32, a, b float32) {
	x = x[:len(dst)]
	if ewAVX512 && len(dst) > 0 {
		reluAffine512(&dst[0], &x[0], len(dst), a, b)
		return
	}
	for j, v := range x {
		dst[j] = relu(v*a + b)
	}
}

// maskCopy sets dst = g·[out>0].
func maskCopy(dst, out, g []float32) {
	out, g = out[:len(dst)], g[:len(dst)]
	if ewAVX512 && len(dst) > 0 {
		maskCopy512(&dst[0], &out[0], &g[0], len(dst))
		return
	}
	for j, v := range out {
		dst[j] = masked(g[j], reluMask(v))
	}
}

// addRelu sets dst = max(0, r + b + h).
func addRelu(dst, r, h []float32, b float32) {
	r, h = r[:len(dst)], h[:len(dst)]
	if ewAVX512 && len(dst) > 0 {
		addRelu512(&dst[0], &r[0], &h[0], len(dst), b)
		return
	}
	for j, v := range r {
		dst[j] = relu(v + b + h[j])
	}
}
