package onnx

import (
	"math"

	"github.com/ccface/ccface/engine/nn"
	"github.com/ccface/ccface/engine/onnx/onnxpb"
)

// convGeom is one convolution or pooling window's geometry on NCHW maps.
type convGeom struct {
	n, cin, h, w       int
	cout, kh, kw       int
	sh, sw             int
	pt, pl, pb, pr     int
	ho, wo             int
	group              int
	lo, hi             float32 // the fused activation's bounds (±Inf: none)
	hasBias, depthwise bool
}

// windows reads kernel_shape, strides, pads and auto_pad; with ceil the
// output size rounds up, dropping a last window that would start in the
// right padding (as PyTorch and onnxruntime do).
func (b *builder) windows(n *onnxpb.NodeProto, g *convGeom, ceil bool) error {
	if ks := attrInts(n, "kernel_shape"); ks != nil {
		if len(ks) != 2 {
			return b.errf("ccface runs 2-D windows, got kernel_shape %v", ks)
		}
		g.kh, g.kw = ks[0], ks[1]
	}
	g.sh, g.sw = 1, 1
	if s := attrInts(n, "strides"); s != nil {
		g.sh, g.sw = s[0], s[1]
	}
	for _, d := range attrInts(n, "dilations") {
		if d != 1 {
			return b.errf("dilations %v are not supported (only 1)", attrInts(n, "dilations"))
		}
	}
	if p := attrInts(n, "pads"); p != nil {
		g.pt, g.pl, g.pb, g.pr = p[0], p[1], p[2], p[3]
	}
	switch pad := attrString(n, "auto_pad", "NOTSET"); pad {
	case "NOTSET", "VALID":
		if pad == "VALID" {
			g.pt, g.pl, g.pb, g.pr = 0, 0, 0, 0
		}
	case "SAME_UPPER", "SAME_LOWER":
		same := func(in, k, s int) (int, int) {
			out := (in + s - 1) / s
			total := max(0, (out-1)*s+k-in)
			if pad == "SAME_UPPER" {
				return total / 2, total - total/2
			}
			return total - total/2, total / 2
		}
		g.pt, g.pb = same(g.h, g.kh, g.sh)
		g.pl, g.pr = same(g.w, g.kw, g.sw)
	default:
		return b.errf("auto_pad %q is not supported", pad)
	}
	size := func(in, k, s, p0, p1 int) int {
		span := in + p0 + p1 - k
		if !ceil {
			return span/s + 1
		}
		out := (span+s-1)/s + 1
		if (out-1)*s >= in+p0 {
			out--
		}
		return out
	}
	g.ho, g.wo = size(g.h, g.kh, g.sh, g.pt, g.pb), size(g.w, g.kw, g.sw, g.pl, g.pr)
	if g.ho < 1 || g.wo < 1 {
		return b.errf("a %d×%d window does not fit a %d×%d map", g.kh, g.kw, g.h, g.w)
	}
	return nil
}

// activation returns the bounds of a Relu or Clip that alone reads node
// i's output, and that node's index, so the convolution applies it as it
// writes (-1: none).
func (b *builder) activation(i int, n *onnxpb.NodeProto) (lo, hi float32, j int) {
	inf := float32(math.Inf(1))
	out := n.GetOutput()[0]
	users := b.users[out]
	if len(users) != 1 || users[0] < 0 {
		return -inf, inf, -1
	}
	j = users[0]
	next := b.m.Proto.GetGraph().GetNode()[j]
	switch next.GetOpType() {
	case "Relu":
		return 0, inf, j
	case "Clip":
		var ins []*value
		for _, name := range next.GetInput() {
			ins = append(ins, b.vals[name])
		}
		if b.m.Opset >= 11 && len(ins) > 1 && !allConst(ins[1:]) {
			return -inf, inf, -1
		}
		saved := b.node
		b.node = next
		lo, hi, err := b.clipBounds(next, ins)
		b.node = saved
		if err == nil {
			return lo, hi, j
		}
	}
	return -inf, inf, -1
}

// residual returns the other input of an Add that alone reads node n's
// output, when it has n's output shape (a residual connection), and the
// Add's index, so that the convolution adds it as it writes (-1: none).
func (b *builder) residual(n *onnxpb.NodeProto, shape []int) (string, int) {
	out := n.GetOutput()[0]
	users := b.users[out]
	if len(users) != 1 || users[0] < 0 {
		return "", -1
	}
	j := users[0]
	next := b.m.Proto.GetGraph().GetNode()[j]
	ins := next.GetInput()
	if next.GetOpType() != "Add" || len(ins) != 2 || ins[0] == ins[1] {
		return "", -1
	}
	other := ins[0]
	if other == out {
		other = ins[1]
	}
	if v := b.vals[other]; v == nil || v.k == nil || !sameShape(v.shape, shape) {
		return "", -1 // not computed yet, a constant, or broadcast
	}
	return other, j
}

// convStage is one convolution as the builder reads it: its geometry
// (with the activation after it folded in), the inputs it reads besides
// its image, and the residual Add it does as it writes (inference only).
type convStage struct {
	g        *convGeom
	pw       bool        // a 1×1 convolution, run as a matrix product
	names    []string    // weights, bias if any, residual input if any
	vals     []*value    // their values
	residual bool        // the last of vals is added to the output
	out      string      // the ONNX value it writes: its own, its activation's or its Add's
	fused    []int       // the nodes after it whose work it does
	packed   []nn.Packed // the weights of each group, packed each run (not depthwise)
	epi      nn.Epilogue
}

// convStage reads Conv node i (image shape x, weights and bias ws).
func (b *builder) convStage(i int, n *onnxpb.NodeProto, x []int, ws []*value) (*convStage, error) {
	if len(ws) == 0 || ws[0] == nil {
		return nil, b.errf("a convolution needs weights")
	}
	w := ws[0].shape
	if len(x) != 4 || len(w) != 4 {
		return nil, b.errf("ccface runs 2-D convolutions, got input %v and weights %v", x, w)
	}
	g := &convGeom{n: x[0], cin: x[1], h: x[2], w: x[3], cout: w[0], kh: w[2], kw: w[3],
		group: attrInt(n, "group", 1)}
	if err := b.windows(n, g, false); err != nil {
		return nil, err
	}
	if g.kh != w[2] || g.kw != w[3] || g.cin%g.group != 0 || g.cout%g.group != 0 || w[1] != g.cin/g.group {
		return nil, b.errf("weights %v do not fit input %v with group %d", w, x, g.group)
	}
	st := &convStage{g: g, names: n.GetInput()[1:2], vals: ws[:1], out: n.GetOutput()[0]}
	if len(ws) > 1 && ws[1] != nil {
		if prod(ws[1].shape) != g.cout {
			return nil, b.errf("bias of shape %v for %d channels", ws[1].shape, g.cout)
		}
		g.hasBias = true
		st.names, st.vals = n.GetInput()[1:3], ws[:2]
	}
	g.depthwise = g.group == g.cin && g.cout == g.cin && g.sh == g.sw && g.sh <= 8
	st.pw = g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.group == 1 && g.pt+g.pl+g.pb+g.pr == 0
	var j int
	g.lo, g.hi, j = b.activation(i, n)
	if j >= 0 {
		st.fused = append(st.fused, j)
		st.out = b.m.Proto.GetGraph().GetNode()[j].GetOutput()[0]
	}
	if j < 0 && st.pw && !b.train { // a backward pass would need the sum's parts apart
		if name, k := b.residual(n, []int{g.n, g.cout, g.ho, g.wo}); k >= 0 {
			st.residual = true
			st.names, st.vals = append(st.names[:len(st.names):len(st.names)], name), append(st.vals[:len(st.vals):len(st.vals)], b.vals[name])
			st.fused = append(st.fused, k)
			st.out = b.m.Proto.GetGraph().GetNode()[k].GetOutput()[0]
		}
	}
	b.macs += int64(g.cout * g.ho * g.wo * w[1] * g.kh * g.kw)
	return st, nil
}

// chainNext returns the index of the convolution that alone reads st's
// output, the next in a chain with it (-1: none).
func (b *builder) chainNext(st *convStage) int {
	if b.train || st.residual {
		return -1
	}
	users := b.users[st.out]
	if len(users) != 1 || users[0] < 0 {
		return -1
	}
	j := users[0]
	n := b.m.Proto.GetGraph().GetNode()[j]
	ins := n.GetInput()
	if n.GetOpType() != "Conv" || len(ins) < 2 || ins[0] != st.out || ins[1] == st.out || (len(ins) > 2 && ins[2] == st.out) {
		return -1
	}
	return j
}

// buildConv adds Conv node i, and in an inference graph the convolutions
// that follow it one after the other (a chain: each the only reader of
// the one before), as one kernel that runs the chain image by image: an
// image's intermediate maps are then read from cache by the next
// convolution instead of from memory, batch-sized maps that do not fit
// any cache (1.1× faster on MobileFaceNet's 28×28 blocks).
func buildConv(b *builder, i int, n *onnxpb.NodeProto, ins []*value) ([]*value, error) {
	st, err := b.convStage(i, n, ins[0].shape, ins[1:])
	if err != nil {
		return nil, err
	}
	stages := []*convStage{st}
	nodes := b.m.Proto.GetGraph().GetNode()
	for j := b.chainNext(st); j >= 0; j = b.chainNext(st) {
		next := nodes[j]
		var ws []*value
		for _, name := range next.GetInput()[1:] {
			ws = append(ws, b.vals[name]) // nil: left out, or not a constant yet (refused below)
		}
		if ws[0] == nil || (len(ws) > 1 && ws[1] == nil && next.GetInput()[2] != "") {
			break
		}
		saved := b.node
		b.node = next
		nst, err := b.convStage(j, next, []int{st.g.n, st.g.cout, st.g.ho, st.g.wo}, ws)
		b.node = saved
		if err != nil {
			return nil, err
		}
		st.fused = append(st.fused, j)
		stages = append(stages, nst)
		st = nst
	}
	names, vals := n.GetInput()[:1], ins[:1]
	for _, s := range stages {
		names, vals = append(names, s.names...), append(vals, s.vals...)
	}
	last := stages[len(stages)-1].g
	out := []int{last.n, last.cout, last.ho, last.wo}
	v, err := b.kernelOp(out, names, vals, func(rt *runtime, dst []float32, src [][]float32) {
		runConvs(rt, stages, dst, src)
	})
	if err != nil {
		return nil, err
	}
	if len(stages) == 1 { // a training graph's convolutions are one to a kernel
		v.k.grad = convGrad(st.g)
	}
	for _, s := range stages {
		for _, j := range s.fused {
			b.fused[j] = true
		}
	}
	b.vals[st.out] = v
	return []*value{v}, nil
}

func (st *convStage) bias(in [][]float32) []float32 {
	if st.g.hasBias {
		return in[1]
	}
	return nil
}

// pack packs the weights of a stage run as matrix products (all but
// depthwise), a matrix per group, once for all the images of a run: on
// small maps repacking them per image cost as much as the products.
func (st *convStage) pack(rt *runtime, w []float32) {
	g := st.g
	og, k := g.cout/g.group, g.cin/g.group*g.kh*g.kw
	if len(st.packed) != g.group {
		st.packed = make([]nn.Packed, g.group)
	}
	for gr := range st.packed {
		rt.gemm.Pack(&st.packed[gr], og, k, w[gr*og*k:(gr+1)*og*k])
	}
}

// image runs the stage on image i (x, dst its maps; g has n = 1), after
// pack. A 1×1 convolution is out[Cout,HW] = W[Cout,Cin]·x[Cin,HW]; any
// other (not depthwise) goes through its patch matrix, per group; the
// bias and activation in the product's epilogue, a residual Add while the
// output is in cache.
func (st *convStage) image(rt *runtime, g *convGeom, dst, x []float32, in [][]float32, i int) {
	bias := st.bias(in)
	if g.depthwise {
		depthwise(rt, g, dst, x, in[0], bias)
		return
	}
	cg, og := g.cin/g.group, g.cout/g.group
	p := g.ho * g.wo
	b := x
	var pt patches
	if !st.pw {
		// Per image: in a chain, another stage's depthwise convolution uses
		// the same scratch between two images, so the phases' padding is
		// cleared again.
		b = rt.buf(0, cg*g.kh*g.kw*p)
		pt = newPatches(rt, g)
	}
	for gr := range st.packed {
		if !st.pw {
			pt.im2col(b, x[gr*cg*g.h*g.w:], g, cg)
		}
		st.epi.Bias, st.epi.Lo, st.epi.Hi = nil, g.lo, g.hi
		if bias != nil {
			st.epi.Bias = bias[gr*og : (gr+1)*og]
		}
		rt.gemm.MulPacked(&st.packed[gr], p, b, dst[gr*og*p:(gr+1)*og*p], &st.epi)
	}
	if st.residual {
		addVV(dst, dst, in[len(in)-1][i*len(dst):(i+1)*len(dst)])
	}
}

// runConvs runs a chain of convolutions (one or more) image by image,
// each image's intermediate maps in buffers of one image; src holds the
// images, then each stage's inputs (names).
func runConvs(rt *runtime, stages []*convStage, dst []float32, src [][]float32) {
	ins := make([][][]float32, len(stages))
	tmp := make([][]float32, len(stages)-1)
	one := make([]convGeom, len(stages))
	at := 1
	for s, st := range stages {
		ins[s] = src[at : at+len(st.names)]
		at += len(st.names)
		one[s] = *st.g
		one[s].n = 1
		if !st.g.depthwise {
			st.pack(rt, ins[s][0])
		}
		if s < len(tmp) {
			tmp[s] = rt.acquire(st.g.cout * st.g.ho * st.g.wo)
		}
	}
	g0 := stages[0].g
	xs := g0.cin * g0.h * g0.w
	for i := 0; i < g0.n; i++ {
		x := src[0][i*xs : (i+1)*xs]
		for s, st := range stages {
			var out []float32
			if s < len(tmp) {
				out = tmp[s]
			} else {
				size := len(dst) / g0.n
				out = dst[i*size : (i+1)*size]
			}
			st.image(rt, &one[s], out, x, ins[s], i)
			x = out
		}
	}
	for _, t := range tmp {
		rt.release(t)
	}
}

// patches builds patch matrices. With equal strides (every model met so
// far) it goes through the depthwise convolution's phase layout: each
// plane is split into its padded phases once (vector copies), and each
// patch row is then one strided copy out of a phase; the per-element
// gather it replaces cost as much as the stem convolution's product.
type patches struct {
	l  *dwLayout // nil: the gather loop
	ph []float32
}

func newPatches(rt *runtime, g *convGeom) patches {
	if g.sh != g.sw || g.sh > 8 {
		return patches{}
	}
	l := newDWLayout(g)
	ph := rt.buf(1, l.s*l.s*l.phase)
	clear(ph) // the padding; every plane rewrites the same interior cells
	return patches{l, ph}
}

// im2col writes the [c·kh·kw, ho·wo] patch matrix of c planes at x.
func (pt patches) im2col(col, x []float32, g *convGeom, c int) {
	p := g.ho * g.wo
	if l := pt.l; l != nil {
		taps := g.kh * g.kw
		for ci := 0; ci < c; ci++ {
			l.toPhases(g, pt.ph, x[ci*g.h*g.w:])
			for t, off := range l.offs {
				copyRows(col[(ci*taps+t)*p:], g.wo, pt.ph[off:], l.wph, g.ho, g.wo)
			}
		}
		return
	}
	r := 0
	for ci := 0; ci < c; ci++ {
		plane := x[ci*g.h*g.w:]
		for ky := 0; ky < g.kh; ky++ {
			for kx := 0; kx < g.kw; kx++ {
				row := col[r*p : (r+1)*p]
				r++
				for oy := 0; oy < g.ho; oy++ {
					sy := oy*g.sh + ky - g.pt
					o := row[oy*g.wo : (oy+1)*g.wo]
					if sy < 0 || sy >= g.h {
						clear(o)
						continue
					}
					src := plane[sy*g.w : (sy+1)*g.w]
					for ox := range o {
						sx := ox*g.sw + kx - g.pl
						if sx >= 0 && sx < g.w {
							o[ox] = src[sx]
						} else {
							o[ox] = 0
						}
					}
				}
			}
		}
	}
}

// depthwise runs a convolution with one filter per channel: the common
// 3×3 window with stride 1 and padding 1 straight from the planes where
// the CPU has a kernel for it (depthwise3x3), any other on the phases.
func depthwise(rt *runtime, g *convGeom, dst, x, w, bias []float32) {
	if !depthwise3x3(g, dst, x, w, bias) {
		depthwisePhases(rt, g, dst, x, w, bias)
	}
}

// depthwisePhases splits each padded input plane into s×s phases (rows
// and columns by their remainder mod the stride s), so that every tap
// (ky,kx) reads one phase at a fixed offset and a stride-s convolution
// becomes a sum of shifted, contiguous vectors. Computing the output with
// the phases' row length wph (a few columns wider than the output) makes
// the whole plane one run of the vector kernel dwTaps; the extra columns
// are dropped when the rows are copied out.
func depthwisePhases(rt *runtime, g *convGeom, dst, x, w, bias []float32) {
	l := newDWLayout(g)
	ph := rt.buf(0, l.s*l.s*l.phase)
	vn := (g.ho*l.wph + 7) &^ 7
	vout := rt.buf(1, vn+8)
	taps := g.kh * g.kw
	var offs [64]int // the taps' offsets in bytes, as dwTaps wants them
	offv := offs[:0]
	if taps > len(offs) {
		offv = make([]int, 0, taps)
	}
	for _, o := range l.offs {
		offv = append(offv, 4*o)
	}
	plane, oplane := g.h*g.w, g.ho*g.wo
	// Every plane writes the same interior cells: the padding, cleared
	// once, stays zero.
	clear(ph)
	for c := 0; c < g.n*g.cin; c++ {
		ch := c % g.cin
		l.toPhases(g, ph, x[c*plane:])
		var bv float32
		if bias != nil {
			bv = bias[ch]
		}
		dwTaps(vout[:vn], ph, offv, w[ch*taps:(ch+1)*taps], bv, g.lo, g.hi)
		copyRows(dst[c*oplane:], g.wo, vout, l.wph, g.ho, g.wo)
	}
}

// dwTapsGo is dwTaps in plain Go: dst[j] = clamp(bias + Σ_t w[t]·src[j +
// offs[t]/4]) (offsets in bytes, like the assembly's).
func dwTapsGo(dst, src []float32, offs []int, w []float32, bias, lo, hi float32) {
	for j := range dst {
		dst[j] = bias
	}
	for t, off := range offs {
		s := src[off/4:][:len(dst)]
		wt := w[t]
		for j, v := range s {
			dst[j] += wt * v
		}
	}
	for j, v := range dst {
		dst[j] = min(max(v, lo), hi)
	}
}

// deinterleave2Go writes x's even-indexed floats to even and its odd-indexed
// ones to odd.
func deinterleave2Go(even, odd, x []float32) {
	for j := 0; 2*j+1 < len(x); j++ {
		even[j], odd[j] = x[2*j], x[2*j+1]
	}
	if len(x)%2 == 1 {
		even[len(x)/2] = x[len(x)-1]
	}
}

// copyRowsGo is copyRows in plain Go.
func copyRowsGo(dst []float32, dstStride int, src []float32, srcStride, rows, cols int) {
	for r := 0; r < rows; r++ {
		copy(dst[r*dstStride:r*dstStride+cols], src[r*srcStride:r*srcStride+cols])
	}
}

// deinterleave2RowsGo is deinterleave2Rows one row at a time.
func deinterleave2RowsGo(even, odd []float32, dstStride int, x []float32, srcStride, rows, n int) {
	for r := 0; r < rows; r++ {
		deinterleave2Go(even[r*dstStride:], odd[r*dstStride:], x[r*srcStride:r*srcStride+n])
	}
}

// interleave2Go is interleave2 in plain Go.
func interleave2Go(x, even, odd []float32) {
	for j := 0; 2*j+1 < len(x); j++ {
		x[2*j], x[2*j+1] = even[j], odd[j]
	}
	if len(x)%2 == 1 {
		x[len(x)-1] = even[len(x)/2]
	}
}

func biasClipGo(x []float32, b, lo, hi float32) {
	for j, v := range x {
		x[j] = min(max(v+b, lo), hi)
	}
}

// --- pooling ---

func buildGlobalAvgPool(b *builder, i int, n *onnxpb.NodeProto, ins []*value) ([]*value, error) {
	x := ins[0].shape
	if len(x) != 4 {
		return nil, b.errf("want a 4-D input, got %v", x)
	}
	plane := x[2] * x[3]
	v, err := b.kernelOp([]int{x[0], x[1], 1, 1}, n.GetInput()[:1], ins[:1], func(_ *runtime, dst []float32, src [][]float32) {
		for c := range dst {
			var s float32
			for _, v := range src[0][c*plane : (c+1)*plane] {
				s += v
			}
			dst[c] = s / float32(plane)
		}
	})
	if err != nil {
		return nil, err
	}
	v.k.grad = globalAvgPoolGrad(plane)
	return []*value{v}, nil
}

func buildPool(b *builder, i int, n *onnxpb.NodeProto, ins []*value) ([]*value, error) {
	x := ins[0].shape
	if len(x) != 4 {
		return nil, b.errf("want a 4-D input, got %v", x)
	}
	g := &convGeom{n: x[0], cin: x[1], h: x[2], w: x[3], cout: x[1]}
	if attr(n, "kernel_shape") == nil {
		return nil, b.errf("kernel_shape is required")
	}
	if err := b.windows(n, g, attrInt(n, "ceil_mode", 0) != 0); err != nil {
		return nil, err
	}
	isMax := n.GetOpType() == "MaxPool"
	inclPad := attrInt(n, "count_include_pad", 0) != 0
	if isMax && len(n.GetOutput()) > 1 && n.GetOutput()[1] != "" {
		return nil, b.errf("the Indices output of MaxPool is not supported")
	}
	v, err := b.kernelOp([]int{g.n, g.cin, g.ho, g.wo}, n.GetInput()[:1], ins[:1], func(_ *runtime, dst []float32, src [][]float32) {
		pool(g, dst, src[0], isMax, inclPad)
	})
	if err != nil {
		return nil, err
	}
	v.k.grad = poolGrad(g, isMax, inclPad)
	return []*value{v}, nil
}

// pool takes the max or mean of each window; a mean divides by the
// window's cells inside the image, or inside image and pads with inclPad.
func pool(g *convGeom, dst, x []float32, isMax, inclPad bool) {
	plane, oplane := g.h*g.w, g.ho*g.wo
	for c := 0; c < g.n*g.cin; c++ {
		src := x[c*plane : (c+1)*plane]
		out := dst[c*oplane : (c+1)*oplane]
		for oy := 0; oy < g.ho; oy++ {
			y0 := oy*g.sh - g.pt
			y1 := min(y0+g.kh, g.h)
			for ox := 0; ox < g.wo; ox++ {
				x0 := ox*g.sw - g.pl
				x1 := min(x0+g.kw, g.w)
				acc := float32(math.Inf(-1))
				if !isMax {
					acc = 0
				}
				for y := max(y0, 0); y < y1; y++ {
					for xx := max(x0, 0); xx < x1; xx++ {
						if v := src[y*g.w+xx]; isMax {
							acc = max(acc, v)
						} else {
							acc += v
						}
					}
				}
				if !isMax {
					cnt := (y1 - max(y0, 0)) * (x1 - max(x0, 0))
					if inclPad {
						cnt = (min(y0+g.kh, g.h+g.pb) - y0) * (min(x0+g.kw, g.w+g.pr) - x0)
					}
					acc /= float32(cnt)
				}
				out[oy*g.wo+ox] = acc
			}
		}
	}
}

// --- resize ---

func buildResize(b *builder, i int, n *onnxpb.NodeProto, ins []*value) ([]*value, error) {
	x := ins[0].shape
	if len(x) != 4 {
		return nil, b.errf("want a 4-D input, got %v", x)
	}
	if mode := attrString(n, "mode", "nearest"); mode != "nearest" {
		return nil, b.errf("mode %q is not supported (only nearest)", mode)
	}
	coord := attrString(n, "coordinate_transformation_mode", "half_pixel")
	round := attrString(n, "nearest_mode", "round_prefer_floor")
	if b.m.Opset < 11 { // Resize-10 and Upsample: asymmetric, floor
		coord, round = "asymmetric", "floor"
	}
	var scales []float32
	var sizes []int
	var err error
	scaleIn := 1
	if b.m.Opset >= 11 {
		scaleIn = 2
		if sizes, err = b.constInts(ins, 3); err != nil {
			return nil, err
		}
	}
	if len(sizes) == 0 && scaleIn < len(ins) && ins[scaleIn] != nil {
		c := ins[scaleIn].c
		if c == nil || c.f == nil {
			return nil, b.errf("scales must be a float constant")
		}
		scales = c.f
	}
	out := make([]int, 4)
	scale := make([]float64, 4)
	for k := range out {
		switch {
		case len(sizes) == 4:
			out[k] = sizes[k]
			scale[k] = float64(out[k]) / float64(x[k])
		case len(scales) == 4:
			scale[k] = float64(scales[k])
			out[k] = int(math.Floor(float64(x[k]) * scale[k]))
		default:
			return nil, b.errf("needs 4 scales or 4 sizes")
		}
	}
	if out[0] != x[0] || out[1] != x[1] {
		return nil, b.errf("resizing the batch or channel axis is not supported")
	}
	src := func(o, in, outN int, sc float64) (int, error) {
		var f float64
		switch coord {
		case "asymmetric":
			f = float64(o) / sc
		case "half_pixel":
			f = (float64(o)+0.5)/sc - 0.5
		case "pytorch_half_pixel":
			if outN > 1 {
				f = (float64(o)+0.5)/sc - 0.5
			}
		case "align_corners":
			if outN > 1 {
				f = float64(o) * float64(in-1) / float64(outN-1)
			}
		case "tf_half_pixel_for_nearest":
			f = (float64(o) + 0.5) / sc
		default:
			return 0, b.errf("coordinate_transformation_mode %q is not supported", coord)
		}
		var r float64
		switch round {
		case "floor":
			r = math.Floor(f)
		case "ceil":
			r = math.Ceil(f)
		case "round_prefer_floor":
			r = math.Ceil(f - 0.5)
		case "round_prefer_ceil":
			r = math.Floor(f + 0.5)
		default:
			return 0, b.errf("nearest_mode %q is not supported", round)
		}
		return min(max(int(r), 0), in-1), nil
	}
	ys, xs := make([]int, out[2]), make([]int, out[3])
	for o := range ys {
		if ys[o], err = src(o, x[2], out[2], scale[2]); err != nil {
			return nil, err
		}
	}
	for o := range xs {
		if xs[o], err = src(o, x[3], out[3], scale[3]); err != nil {
			return nil, err
		}
	}
	v, err := b.kernelOp(out, n.GetInput()[:1], ins[:1], func(_ *runtime, dst []float32, s [][]float32) {
		plane, oplane := x[2]*x[3], out[2]*out[3]
		for c := 0; c < x[0]*x[1]; c++ {
			in := s[0][c*plane:]
			o := dst[c*oplane:]
			for y, sy := range ys {
				row := in[sy*x[3]:]
				for xx, sx := range xs {
					o[y*out[3]+xx] = row[sx]
				}
			}
		}
	})
	if err != nil || !b.train {
		return []*value{v}, err
	}
	// The backward pass scatters through the same index map.
	idx := make([]int32, 0, prod(out))
	for c := 0; c < x[0]*x[1]; c++ {
		for _, sy := range ys {
			for _, sx := range xs {
				idx = append(idx, int32((c*x[2]+sy)*x[3]+sx))
			}
		}
	}
	v.k.grad = moveGrad(idx)
	return []*value{v}, nil
}
