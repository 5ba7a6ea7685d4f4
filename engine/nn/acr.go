package nn

import (
	"fmt"
	"math"
	"math/rand"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Cross-resolution modes of ACR.Mode.
const (
	ACROff       = "off"
	ACRPrototype = "prototype" // sharpened teacher-prototype targets, mean-entropy term (PAWS-like)
	ACRSimSiam   = "simsiam"   // negative cosine to the target embedding
)

// ACR holds the asymmetric cross-resolution term of METHOD.md: its inputs,
// set by the caller before each run, and what it measured. The branch reads
// the first Rows samples of the batch (the LR views), through the predictor
// when the Net has one.
type ACR struct {
	Mode   string
	Lambda float64 // weight in the total loss
	Scale  float64 // s of the prototype softmax
	Eps    float64 // ε: weight of the mean-entropy term
	// Targets, row-major, under stop-gradient: prototype mode wants one
	// distribution over classes per row; simsiam mode one unit embedding.
	Targets []float32

	// Outputs of the last forward pass.
	Loss        float64 // λ·term
	Term        float64 // the term before λ
	MeanEntropy float64 // H(mean prediction), prototype mode

	prob []float64
	pbar []float64
	// Gradient outputs, reused across runs; one per loss, as gorgonia
	// sums both in the same backward pass.
	protoGrad, cosGrad []float32
}

// NewPredictor initialises the LR-branch predictor h(x) = x + W2·relu(W1·x +
// b1) + b2. W2 starts at zero, so h starts as the identity and the branch
// begins from the student's own embedding.
func NewPredictor(embed int, rng *rand.Rand) Params {
	w1 := NewParam("pred.w1", embed, embed)
	he(w1.Data, embed, 1, rng)
	return Params{w1, NewParam("pred.b1", 1, embed), NewParam("pred.w2", embed, embed), NewParam("pred.b2", 1, embed)}
}

// protoLossOp: λ·[mean_i H(t_i, softmax(s·c_i)) − ε·H(mean_i softmax(s·c_i))]
// over a cosine matrix c [n,C]; zero when the mode is not prototype.
type protoLossOp struct {
	opBase
	acr *ACR
}

func (o protoLossOp) Arity() int    { return 1 }
func (o protoLossOp) Type() hm.Type { return hm.NewFnType(matType(), hm.TypeVariable('a')) }
func (o protoLossOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

func (o protoLossOp) Do(vals ...G.Value) (G.Value, error) {
	c, err := f32s(vals[0])
	if err != nil {
		return nil, err
	}
	shape := vals[0].Shape()
	l, err := o.acr.protoForward(c, shape[0], shape[1])
	return G.NewF32(float32(l)), err
}

func (o protoLossOp) DiffWRT(int) []bool { return []bool{true} }

func (o protoLossOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(acrGradOp{opBase{"proto_grad"}, o.acr, true}, inputs[0], grad)
	return G.Nodes{dx}, err
}

func (a *ACR) protoForward(c []float32, n, classes int) (float64, error) {
	if a.Mode != ACRPrototype {
		return 0, nil
	}
	if len(a.Targets) != n*classes {
		return 0, fmt.Errorf("nn: prototype targets hold %d values for %d×%d", len(a.Targets), n, classes)
	}
	a.prob = resize(a.prob, n*classes)
	a.pbar = resize(a.pbar, classes)
	clear(a.pbar)
	var ce float64
	for i := 0; i < n; i++ {
		p := a.prob[i*classes : (i+1)*classes]
		softmax(p, c[i*classes:(i+1)*classes], a.Scale)
		for j, v := range p {
			a.pbar[j] += v / float64(n)
			if t := float64(a.Targets[i*classes+j]); t > 0 {
				ce -= t * math.Log(math.Max(v, 1e-300))
			}
		}
	}
	var h float64
	for _, v := range a.pbar {
		if v > 0 {
			h -= v * math.Log(v)
		}
	}
	a.MeanEntropy = h
	a.Term = ce/float64(n) - a.Eps*h
	a.Loss = a.Lambda * a.Term
	return a.Loss, nil
}

func softmax(dst []float64, logits []float32, scale float64) {
	m := math.Inf(-1)
	for _, v := range logits {
		m = math.Max(m, scale*float64(v))
	}
	var sum float64
	for j, v := range logits {
		dst[j] = math.Exp(scale*float64(v) - m)
		sum += dst[j]
	}
	for j := range dst {
		dst[j] /= sum
	}
}

// protoBackward: d/dz_ik = λ/n·[(p_ik − t_ik) − ε·p_ik·(g_k − Σ_j p_ij g_j)]
// with g_j = −log p̄_j, and dz/dc = s.
func (a *ACR) protoBackward(out []float32, g float64, n, classes int) {
	if a.Mode != ACRPrototype {
		clear(out)
		return
	}
	lg := make([]float64, classes)
	for j, v := range a.pbar {
		lg[j] = -math.Log(math.Max(v, 1e-300))
	}
	k := g * a.Lambda * a.Scale / float64(n)
	for i := 0; i < n; i++ {
		p := a.prob[i*classes : (i+1)*classes]
		var pg float64
		for j, v := range p {
			pg += v * lg[j]
		}
		for j, v := range p {
			out[i*classes+j] = float32(k * ((v - float64(a.Targets[i*classes+j])) - a.Eps*v*(lg[j]-pg)))
		}
	}
}

// cosDistOp: λ·mean_i(−cos(x_i, t_i)) of rows x [n,E] against unit target
// embeddings; zero when the mode is not simsiam.
type cosDistOp struct {
	opBase
	acr *ACR
}

func (o cosDistOp) Arity() int    { return 1 }
func (o cosDistOp) Type() hm.Type { return hm.NewFnType(matType(), hm.TypeVariable('a')) }
func (o cosDistOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

func (o cosDistOp) Do(vals ...G.Value) (G.Value, error) {
	x, err := f32s(vals[0])
	if err != nil {
		return nil, err
	}
	shape := vals[0].Shape()
	a := o.acr
	if a.Mode != ACRSimSiam {
		return G.NewF32(0), nil
	}
	n, d := shape[0], shape[1]
	if len(a.Targets) != n*d {
		return nil, fmt.Errorf("nn: cosine targets hold %d values for %d×%d", len(a.Targets), n, d)
	}
	var sum float64
	for i := 0; i < n; i++ {
		sum -= cosine(x[i*d:(i+1)*d], a.Targets[i*d:(i+1)*d])
	}
	a.Term = sum / float64(n)
	a.Loss = a.Lambda * a.Term
	return G.NewF32(float32(a.Loss)), nil
}

func cosine(x, t []float32) float64 {
	var xt, xx, tt float64
	for j := range x {
		xt += float64(x[j]) * float64(t[j])
		xx += float64(x[j]) * float64(x[j])
		tt += float64(t[j]) * float64(t[j])
	}
	return xt / math.Sqrt((xx+normEps)*(tt+normEps))
}

func (o cosDistOp) DiffWRT(int) []bool { return []bool{true} }

func (o cosDistOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(acrGradOp{opBase{"cosdist_grad"}, o.acr, false}, inputs[0], grad)
	return G.Nodes{dx}, err
}

// cosBackward: d(−cos(x,t))/dx = −(t̂ − x̂·(x̂·t̂))/|x|, scaled by λ/n.
func (a *ACR) cosBackward(out []float32, x []float32, g float64, n, d int) {
	if a.Mode != ACRSimSiam {
		clear(out)
		return
	}
	k := g * a.Lambda / float64(n)
	for i := 0; i < n; i++ {
		xi, ti := x[i*d:(i+1)*d], a.Targets[i*d:(i+1)*d]
		var xx, tt, xt float64
		for j := range xi {
			xx += float64(xi[j]) * float64(xi[j])
			tt += float64(ti[j]) * float64(ti[j])
			xt += float64(xi[j]) * float64(ti[j])
		}
		nx, nt := math.Sqrt(xx+normEps), math.Sqrt(tt+normEps)
		c := xt / (nx * nt)
		for j := range xi {
			out[i*d+j] = float32(-k * (float64(ti[j])/nt - c*float64(xi[j])/nx) / nx)
		}
	}
}

// acrGradOp is the backward pass of both cross-resolution losses.
type acrGradOp struct {
	opBase
	acr   *ACR
	proto bool
}

func (o acrGradOp) Arity() int { return 2 }
func (o acrGradOp) Type() hm.Type {
	return hm.NewFnType(matType(), hm.TypeVariable('a'), matType())
}
func (o acrGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}

func (o acrGradOp) Do(vals ...G.Value) (G.Value, error) {
	x, err := f32s(vals[0])
	if err != nil {
		return nil, err
	}
	g, err := scalarOf(vals[1])
	if err != nil {
		return nil, err
	}
	shape := vals[0].Shape()
	buf := &o.acr.cosGrad
	if o.proto {
		buf = &o.acr.protoGrad
	}
	*buf = grow(*buf, len(x))
	out := *buf
	if o.proto {
		o.acr.protoBackward(out, g, shape[0], shape[1])
	} else {
		o.acr.cosBackward(out, x, g, shape[0], shape[1])
	}
	return tensor.New(tensor.WithShape(shape.Clone()...), tensor.WithBacking(out)), nil
}

func scalarOf(v G.Value) (float64, error) {
	if f, ok := v.(*G.F32); ok {
		return float64(*f), nil
	}
	d, err := f32s(v)
	if err != nil || len(d) != 1 {
		return 0, fmt.Errorf("nn: want a scalar upstream gradient, got %v", v)
	}
	return float64(d[0]), nil
}

// buildACR adds the cross-resolution branch on the first rows of the
// un-normalised embedding emb [N,E] and returns its loss node. pred may be
// nil (no predictor: the branch reads the student's own embedding).
func buildACR(emb, wn *G.Node, rows int, pred []*G.Node, acr *ACR, ws *workspace) (*G.Node, error) {
	x, err := G.Slice(emb, G.S(0, rows))
	if err != nil {
		return nil, err
	}
	if len(pred) == 4 {
		h, err := G.Mul(x, pred[0])
		if err != nil {
			return nil, err
		}
		if h, err = G.BroadcastAdd(h, pred[1], nil, []byte{0}); err != nil {
			return nil, err
		}
		if h, err = G.Rectify(h); err != nil {
			return nil, err
		}
		if h, err = G.Mul(h, pred[2]); err != nil {
			return nil, err
		}
		if h, err = G.BroadcastAdd(h, pred[3], nil, []byte{0}); err != nil {
			return nil, err
		}
		if x, err = G.Add(x, h); err != nil {
			return nil, err
		}
	}
	cd, err := G.ApplyOp(cosDistOp{opBase{"cosdist"}, acr}, x)
	if err != nil {
		return nil, err
	}
	z, err := RowNormalize(x, nil, nil)
	if err != nil {
		return nil, err
	}
	c, err := newMM("acr-cosine", ws, false, true, z, wn)
	if err != nil {
		return nil, err
	}
	pl, err := G.ApplyOp(protoLossOp{opBase{"proto"}, acr}, c)
	if err != nil {
		return nil, err
	}
	return G.Add(cd, pl)
}
