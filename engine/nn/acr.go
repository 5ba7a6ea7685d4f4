package nn

import (
	"fmt"
	"math"
	"math/rand"
	"sync"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Cross-resolution modes of ACR.Mode.
const (
	ACROff       = "off"
	ACRPrototype = "prototype" // sharpened teacher-prototype targets, mean-entropy term (PAWS-like)
	ACRSupport   = "support"   // PAWS: similarities to a labelled support set of teacher HR embeddings
	ACRSimSiam   = "simsiam"   // negative cosine to the target embedding
)

// ACR holds the asymmetric cross-resolution term of METHOD.md: its inputs,
// set by the caller before each run, and what it measured. The branch reads
// the first Rows samples of the batch (the LR views), through the predictor
// when the Net has one.
//
// A batch may be split over several graph replicas. Lambda, BatchRows and
// Gather make each replica's loss its share of the whole batch's loss, and
// its gradient the whole batch's gradient on its rows, so the method is the
// same for any replica count.
type ACR struct {
	Mode   string
	Lambda float64 // λ: weight in the batch's total loss
	Scale  float64 // s_A: logit scale of the prediction softmax
	Eps    float64 // ε: weight of the mean-entropy term
	// BatchRows is the number of LR rows of the whole batch over all
	// replicas (0: this replica's rows are the batch).
	BatchRows int
	// Gather pools the replicas' predictions for the mean-entropy term
	// (nil: one replica); Replica is this replica's index in it.
	Gather  *Gather
	Replica int
	// Targets, row-major, under stop-gradient: prototype mode wants one
	// distribution over classes per row, support mode one over the support
	// classes (SupportClasses); simsiam mode one unit embedding.
	Targets []float32

	// Outputs of the last forward pass: this replica's share of the batch's
	// loss, so the replicas' values sum to the batch's.
	Loss        float64 // λ·term
	Term        float64 // the term before λ
	MeanEntropy float64 // H(batch mean prediction), prototype and support modes

	// Support mode: the support set's unit embeddings (rows × embed, bound
	// into the graph) and each support row's class in 0..supportClasses-1.
	support        []float32
	supportClass   []int
	supportClasses int

	prob []float64 // per-row softmax over the logits' columns
	pred []float64 // per-row class distribution (prob itself in prototype mode)
	pbar []float64
	// Gradient outputs, reused across runs; one per loss, as gorgonia
	// sums both in the same backward pass.
	protoGrad, supportGrad, cosGrad []float32
}

// NewPredictor initialises the LR-branch predictor h(x) = x + W2·relu(W1·x +
// b1) + b2. W2 starts at zero, so h starts as the identity and the branch
// begins from the student's own embedding. Biases are named like every
// other layer's (".b"), which is how the optimizer keeps them free of
// weight decay.
func NewPredictor(embed int, rng *rand.Rand) Params {
	w1 := NewParam("pred1.w", embed, embed)
	he(w1.Data, embed, 1, rng)
	return Params{w1, NewParam("pred1.b", 1, embed), NewParam("pred2.w", embed, embed), NewParam("pred2.b", 1, embed)}
}

// SetSupport sets the support set of support mode: unit embeddings emb
// (rows × embed, rows as the graph was built with) and their labels. It
// returns each support row's class index (labels renumbered in order of
// first appearance) and the number of classes; targets must use the same.
func (a *ACR) SetSupport(emb []float32, labels []int) ([]int, int, error) {
	if len(emb) != len(a.support) || len(labels)*len(a.support) != len(emb)*len(a.supportClass) {
		return nil, 0, fmt.Errorf("nn: support set of %d values and %d labels for a graph built with %d values and %d rows",
			len(emb), len(labels), len(a.support), len(a.supportClass))
	}
	copy(a.support, emb)
	a.supportClass, a.supportClasses = SupportClasses(a.supportClass, labels)
	return a.supportClass, a.supportClasses, nil
}

// SupportClasses renumbers labels 0.. in order of first appearance into dst.
func SupportClasses(dst, labels []int) ([]int, int) {
	index := map[int]int{}
	dst = dst[:0]
	for _, y := range labels {
		c, ok := index[y]
		if !ok {
			c = len(index)
			index[y] = c
		}
		dst = append(dst, c)
	}
	return dst, len(index)
}

// distLossOp: the prototype and support losses over a cosine matrix c [n,K]
// (to the classifier's rows, or to the support set); zero unless the mode
// is its own. See ACR.distForward.
type distLossOp struct {
	opBase
	acr  *ACR
	mode string
}

func (o distLossOp) Arity() int    { return 1 }
func (o distLossOp) Type() hm.Type { return hm.NewFnType(matType(), hm.TypeVariable('a')) }
func (o distLossOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

func (o distLossOp) Do(vals ...G.Value) (G.Value, error) {
	if o.acr.Mode != o.mode {
		return G.NewF32(0), nil
	}
	c, err := f32s(vals[0])
	if err != nil {
		return nil, err
	}
	shape := vals[0].Shape()
	l, err := o.acr.distForward(c, shape[0], shape[1])
	return G.NewF32(float32(l)), err
}

func (o distLossOp) DiffWRT(int) []bool { return []bool{true} }

func (o distLossOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(acrGradOp{opBase{o.mode + "_grad"}, o.acr, o.mode}, inputs[0], grad)
	return G.Nodes{dx}, err
}

// groups returns the class of each logit column and the class count: the
// columns themselves in prototype mode, the support rows' classes in
// support mode.
func (a *ACR) groups(k int) ([]int, int, error) {
	if a.Mode != ACRSupport {
		return nil, k, nil
	}
	if len(a.supportClass) != k || a.supportClasses == 0 {
		return nil, 0, fmt.Errorf("nn: support mode without a support set of %d rows (call SetSupport)", k)
	}
	return a.supportClass, a.supportClasses, nil
}

// distForward computes this replica's share of
//
//	λ·[ (1/N)·Σ_i H(t_i, p_i) − ε·H(p̄) ],  p̄ = (1/N)·Σ_i p_i over the batch's N rows,
//
// where p_i is a distribution over classes: softmax(s·c_i) (prototype), or
// that softmax over the support rows summed per support class (support,
// PAWS's soft nearest neighbours). The batch mean p̄ is gathered from every
// replica before the value (and the backward pass) uses it.
func (a *ACR) distForward(c []float32, n, k int) (float64, error) {
	group, classes, err := a.groups(k)
	if err != nil {
		return 0, err
	}
	if len(a.Targets) != n*classes {
		return 0, fmt.Errorf("nn: %s targets hold %d values for %d×%d", a.Mode, len(a.Targets), n, classes)
	}
	a.prob = resize(a.prob, n*k)
	a.pred = resize(a.pred, n*classes)
	a.pbar = resize(a.pbar, classes)
	clear(a.pbar)
	var ce float64
	for i := 0; i < n; i++ {
		p := a.prob[i*k : (i+1)*k]
		softmax(p, c[i*k:(i+1)*k], a.Scale)
		q := a.pred[i*classes : (i+1)*classes]
		if group == nil {
			copy(q, p)
		} else {
			clear(q)
			for j, v := range p {
				q[group[j]] += v
			}
		}
		for j, v := range q {
			a.pbar[j] += v
			if t := float64(a.Targets[i*classes+j]); t > 0 {
				ce -= t * math.Log(math.Max(v, 1e-300))
			}
		}
	}
	rows, replicas := a.batch(n)
	if a.Gather != nil {
		if err := a.Gather.Sum(a.Replica, a.pbar); err != nil {
			return 0, err
		}
	}
	var h float64
	for j := range a.pbar {
		a.pbar[j] /= float64(rows)
		if v := a.pbar[j]; v > 0 {
			h -= v * math.Log(v)
		}
	}
	a.MeanEntropy = h
	a.Term = ce/float64(rows) - a.Eps*h/float64(replicas)
	a.Loss = a.Lambda * a.Term
	return a.Loss, nil
}

// batch returns the whole batch's rows and the number of replicas sharing
// it, given this replica's n rows.
func (a *ACR) batch(n int) (rows, replicas int) {
	rows, replicas = n, 1
	if a.BatchRows > 0 {
		rows = a.BatchRows
	}
	if a.Gather != nil {
		replicas = a.Gather.replicas
	}
	return rows, replicas
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

// distBackward: with G_ic = ∂L/∂p_ic = (λ/N)·[−t_ic/p_ic + ε·(log p̄_c + 1)]
// and a_ik the softmax over columns, ∂L/∂c_ik = s·a_ik·(G_i,g(k) − Σ_c G_ic·p_ic),
// g(k) the column's class. In prototype mode (a = p, g = identity) this is
// (λs/N)·[(p_ik − t_ik) − ε·p_ik·(ℓ_k − Σ_j p_ij ℓ_j)] with ℓ = −log p̄.
func (a *ACR) distBackward(out []float32, g float64, n, k int) {
	group, classes, err := a.groups(k)
	if err != nil { // the forward pass reported it
		clear(out)
		return
	}
	rows, _ := a.batch(n)
	kk := g * a.Lambda / float64(rows)
	gc := make([]float64, classes)
	for i := 0; i < n; i++ {
		q := a.pred[i*classes : (i+1)*classes]
		var gp float64
		for c, v := range q {
			gc[c] = -float64(a.Targets[i*classes+c])/math.Max(v, 1e-300) + a.Eps*(math.Log(math.Max(a.pbar[c], 1e-300))+1)
			gp += gc[c] * v
		}
		p := a.prob[i*k : (i+1)*k]
		for j, v := range p {
			cl := j
			if group != nil {
				cl = group[j]
			}
			out[i*k+j] = float32(kk * a.Scale * v * (gc[cl] - gp))
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
	rows, _ := a.batch(n)
	a.Term = sum / float64(rows)
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
	dx, err := G.ApplyOp(acrGradOp{opBase{"cosdist_grad"}, o.acr, ACRSimSiam}, inputs[0], grad)
	return G.Nodes{dx}, err
}

// cosBackward: d(−cos(x,t))/dx = −(t̂ − x̂·(x̂·t̂))/|x|, scaled by λ/N.
func (a *ACR) cosBackward(out []float32, x []float32, g float64, n, d int) {
	if a.Mode != ACRSimSiam {
		clear(out)
		return
	}
	rows, _ := a.batch(n)
	k := g * a.Lambda / float64(rows)
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

// acrGradOp is the backward pass of the cross-resolution losses of a mode.
type acrGradOp struct {
	opBase
	acr  *ACR
	mode string
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
	buf := map[string]*[]float32{ACRPrototype: &o.acr.protoGrad, ACRSupport: &o.acr.supportGrad, ACRSimSiam: &o.acr.cosGrad}[o.mode]
	*buf = grow(*buf, len(x))
	out := *buf
	switch {
	case o.acr.Mode != o.mode:
		clear(out)
	case o.mode == ACRSimSiam:
		o.acr.cosBackward(out, x, g, shape[0], shape[1])
	default:
		o.acr.distBackward(out, g, shape[0], shape[1])
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
// supportRows > 0 adds support mode's similarities to a support set of that
// many rows (see ACR.SetSupport).
func buildACR(g *G.ExprGraph, emb, wn *G.Node, rows, supportRows int, pred []*G.Node, acr *ACR, ws *workspace) (*G.Node, error) {
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
	pl, err := G.ApplyOp(distLossOp{opBase{"proto"}, acr, ACRPrototype}, c)
	if err != nil {
		return nil, err
	}
	loss, err := G.Add(cd, pl)
	if err != nil || supportRows == 0 {
		return loss, err
	}
	embed := wn.Shape()[1]
	acr.support = make([]float32, supportRows*embed)
	acr.supportClass = make([]int, supportRows)
	sup := G.NewTensor(g, tensor.Float32, 2, G.WithShape(supportRows, embed), G.WithName("acr-support"),
		G.WithValue(tensor.New(tensor.WithShape(supportRows, embed), tensor.WithBacking(acr.support))))
	cs, err := newMM("acr-support-cosine", ws, false, true, z, sup)
	if err != nil {
		return nil, err
	}
	sl, err := G.ApplyOp(distLossOp{opBase{"support"}, acr, ACRSupport}, cs)
	if err != nil {
		return nil, err
	}
	return G.Add(loss, sl)
}

// Gather pools the replicas' sums of the cross-resolution predictions, so
// the mean-entropy term regularises the whole batch's mean prediction and
// not one replica's: otherwise the method would change with the core count.
// The replicas run concurrently; each hands its sum in its forward pass and
// waits for the others. The parts are added in replica order, so the result
// does not depend on which replica arrives first (runs stay bit-exact).
type Gather struct {
	replicas int
	mu       sync.Mutex
	cond     *sync.Cond
	parts    [][]float64
	total    []float64
	arrived  int
	round    int
	err      error
}

// NewGather returns a gather for the given number of replicas.
func NewGather(replicas int) *Gather {
	g := &Gather{replicas: replicas, parts: make([][]float64, replicas)}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// Sum replaces sum (this replica's part) with the sum over all replicas,
// once every replica has handed its part for this run.
func (g *Gather) Sum(replica int, sum []float64) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil {
		return g.err
	}
	if replica < 0 || replica >= g.replicas {
		return fmt.Errorf("nn: replica %d of a gather over %d", replica, g.replicas)
	}
	g.parts[replica] = append(g.parts[replica][:0], sum...)
	g.arrived++
	round := g.round
	if g.arrived == g.replicas {
		g.total = resize(g.total, len(sum))
		clear(g.total)
		for _, p := range g.parts {
			if len(p) != len(sum) {
				g.err = fmt.Errorf("nn: replicas gathered predictions of %d and %d classes", len(p), len(sum))
				break
			}
			for j, v := range p {
				g.total[j] += v
			}
		}
		g.arrived = 0
		g.round++
		g.cond.Broadcast()
	}
	for g.round == round && g.err == nil {
		g.cond.Wait()
	}
	if g.err != nil {
		return g.err
	}
	// Every replica copies before any can start the next run (the caller
	// waits for all replicas between runs), so total is stable here.
	copy(sum, g.total)
	return nil
}

// Abort releases the replicas waiting in Sum with err: one replica failed
// before handing its part, and the others must not wait for it forever.
func (g *Gather) Abort(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err == nil {
		g.err = fmt.Errorf("nn: another replica failed: %w", err)
	}
	g.cond.Broadcast()
}
