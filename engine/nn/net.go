package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// NetSpec says what graph to build.
type NetSpec struct {
	Arch Arch
	N    int  // images per run (fixed in the graph)
	Loss bool // build the margin cross-entropy and its gradients; false = embeddings only
	// Which parameters get gradients (with Loss).
	TrainBackbone, TrainClassifier bool
	// ACRRows > 0 adds the cross-resolution branch (see ACR) on the first
	// ACRRows samples, through Predictor when it is set (trained with the
	// backbone).
	ACRRows   int
	Predictor Params
	// ACRSupport > 0 adds the support mode of the branch, against a
	// support set of that many embeddings (ACR.SetSupport).
	ACRSupport int
}

// Net is one compiled graph over shared parameters.
type Net struct {
	spec    NetSpec
	g       *G.ExprGraph
	vm      G.VM
	x       *G.Node
	xT      *tensor.Dense
	xBuf    []float32
	emb     *G.Node
	wrt     []*G.Node // nodes whose gradients are read, in Trainable order
	trained Params
	Head    *Head
	ACR     *ACR // set when spec.ACRRows > 0
	classes int
	ws      *workspace // scratch shared by this graph's ops
}

// NewNet builds and compiles a graph. backbone is read by the graph;
// classifier may be nil when spec.Loss is false.
func NewNet(spec NetSpec, backbone Params, classifier *Param) (*Net, error) {
	a := spec.Arch
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if spec.N < 1 {
		return nil, fmt.Errorf("nn: a graph needs at least one image, got %d", spec.N)
	}
	if spec.Loss && classifier == nil {
		return nil, fmt.Errorf("nn: a loss graph needs a classifier")
	}
	n := &Net{spec: spec, g: G.NewGraph(), Head: &Head{}}
	g := n.g
	n.xBuf = make([]float32, spec.N*3*a.HR*a.HR)
	n.xT = tensor.New(tensor.WithShape(spec.N, 3, a.HR, a.HR), tensor.WithBacking(n.xBuf))
	n.x = G.NewTensor(g, tensor.Float32, 4, G.WithShape(spec.N, 3, a.HR, a.HR), G.WithName("x"), G.WithValue(n.xT))

	nodes := map[string]*G.Node{}
	bind := func(p *Param) *G.Node {
		nd := G.NewTensor(g, tensor.Float32, len(p.Shape), G.WithShape(p.Shape...), G.WithName(p.Name),
			G.WithValue(tensor.New(tensor.WithShape(p.Shape...), tensor.WithBacking(p.Data))))
		nodes[p.Name] = nd
		return nd
	}
	var bnodes []*G.Node
	for _, p := range backbone {
		bnodes = append(bnodes, bind(p))
	}
	byName := func(name string) (*G.Node, error) {
		nd, ok := nodes[name]
		if !ok {
			return nil, fmt.Errorf("nn: backbone has no parameter %s (was it built for another architecture?)", name)
		}
		return nd, nil
	}
	n.ws = &workspace{}
	var emb *G.Node
	var err error
	if a.Imported != nil {
		emb, err = a.Imported.Build(g, n.x, byName, spec.Loss && spec.TrainBackbone)
	} else {
		emb, err = buildBackbone(a, spec.N, n.x, byName, n.ws)
	}
	if err != nil {
		return nil, err
	}
	z, err := RowNormalize(emb, &n.Head.norms, &n.Head.emb) // margin policies read both
	if err != nil {
		return nil, err
	}
	n.emb = z
	if !spec.Loss {
		n.vm = G.NewTapeMachine(g)
		return n, nil
	}

	wnode := bind(classifier)
	n.classes = classifier.Shape[0]
	wn, err := RowNormalize(wnode, nil, nil)
	if err != nil {
		return nil, err
	}
	cos, err := newMM("cosine", n.ws, false, true, z, wn)
	if err != nil {
		return nil, err
	}
	loss, err := MarginCE(cos, n.Head)
	if err != nil {
		return nil, err
	}
	n.Head.embDim = a.Embed
	if spec.TrainBackbone {
		n.wrt = append(n.wrt, bnodes...)
		n.trained = append(n.trained, backbone...)
	}
	if spec.ACRRows > 0 {
		n.ACR = &ACR{Mode: ACROff}
		var pnodes []*G.Node
		for _, p := range spec.Predictor {
			pnodes = append(pnodes, bind(p))
		}
		acr, err := buildACR(g, emb, wn, spec.ACRRows, spec.ACRSupport, pnodes, n.ACR, n.ws)
		if err != nil {
			return nil, err
		}
		if loss, err = G.Add(loss, acr); err != nil {
			return nil, err
		}
		if spec.TrainBackbone {
			n.wrt = append(n.wrt, pnodes...)
			n.trained = append(n.trained, spec.Predictor...)
		}
	}
	if spec.TrainClassifier {
		n.wrt = append(n.wrt, wnode)
		n.trained = append(n.trained, classifier)
	}
	if len(n.wrt) == 0 {
		return nil, fmt.Errorf("nn: a loss graph must train something")
	}
	if _, err := G.Grad(loss, n.wrt...); err != nil {
		return nil, fmt.Errorf("nn: build gradients: %w", err)
	}
	n.vm = G.NewTapeMachine(g, G.BindDualValues(n.wrt...))
	return n, nil
}

// buildBackbone wires the residual CNN of Arch onto x [N,3,HR,HR] and
// returns the un-normalised embedding [N, Embed]. The maps between x and the
// flatten are CNHW (see conv.go); every op is one of ours, with its output
// buffers kept in ws or in the op, so a run allocates almost nothing.
func buildBackbone(a Arch, batch int, x *G.Node, p func(string) (*G.Node, error), ws *workspace) (*G.Node, error) {
	var err error
	side := a.HR
	// conv is a 3×3 convolution; group-normalised with its bias and ReLU
	// unless it closes a residual branch (that one starts small so each block
	// starts near the identity), in which case it returns the raw
	// convolution and its bias for resRelu.
	conv := func(in *G.Node, name string, cin, cout int, normed, first bool) (c, b *G.Node, err error) {
		w, err := p(name + ".w")
		if err != nil {
			return nil, nil, err
		}
		if b, err = p(name + ".b"); err != nil {
			return nil, nil, err
		}
		st := &convState{ws: ws, cin: cin, cout: cout, n: batch, h: side, w: side,
			nchwIn: first, needDx: !first}
		if c, err = G.ApplyOp(convOp{opBase{"conv:" + name}, st}, in, w); err != nil {
			return nil, nil, fmt.Errorf("nn: %s: %w", name, err)
		}
		if !normed {
			return c, b, nil
		}
		c, err = G.ApplyOp(gnReluOp{opBase{"gnrelu:" + name}, &gnState{}}, c, b)
		return c, nil, err
	}
	pool := func(in *G.Node, name string) (*G.Node, error) {
		side /= 2
		return G.ApplyOp(poolOp{opBase{"pool:" + name}, &poolState{}}, in)
	}
	ch := a.stageChannels()
	h, _, err := conv(x, "stem", 3, ch[0], true, true)
	if err != nil {
		return nil, err
	}
	for s := 1; s < 3; s++ {
		if h, err = pool(h, fmt.Sprintf("s%d", s)); err != nil {
			return nil, err
		}
		if h, _, err = conv(h, fmt.Sprintf("s%d.open", s), ch[s-1], ch[s], true, false); err != nil {
			return nil, err
		}
		for d := 0; d < a.Depth; d++ {
			name := fmt.Sprintf("s%d.b%d", s, d)
			r, _, err := conv(h, name+".c1", ch[s], ch[s], true, false)
			if err != nil {
				return nil, err
			}
			r, b, err := conv(r, name+".c2", ch[s], ch[s], false, false)
			if err != nil {
				return nil, err
			}
			if h, err = G.ApplyOp(resReluOp{opBase{"res:" + name}, &resState{}}, r, b, h); err != nil {
				return nil, err
			}
		}
	}
	if h, err = pool(h, "s3"); err != nil {
		return nil, err
	}
	if h, err = G.ApplyOp(flattenOp{opBase{"flatten"}, &outBuf{}}, h); err != nil {
		return nil, err
	}
	fw, err := p("fc.w")
	if err != nil {
		return nil, err
	}
	fb, err := p("fc.b")
	if err != nil {
		return nil, err
	}
	if h, err = newMM("fc", ws, false, false, h, fw); err != nil {
		return nil, err
	}
	return G.ApplyOp(addRowOp{opBase{"fc.bias"}, &outBuf{}, &outBuf{}}, h, fb)
}

// N is the number of images one run takes.
func (n *Net) N() int { return n.spec.N }

// Input returns the graph's input buffer [N,3,HR,HR]; fill it before Run.
func (n *Net) Input() []float32 { return n.xBuf }

// Run executes the graph on the current input. With a loss it also
// accumulates gradients (see Grads, ZeroGrads); Head must be set.
func (n *Net) Run() error {
	defer n.vm.Reset()
	if n.ACR != nil { // the active loss op fills these in
		n.ACR.Loss, n.ACR.Term, n.ACR.MeanEntropy = 0, 0, 0
	}
	if err := n.vm.RunAll(); err != nil {
		if n.ACR != nil && n.ACR.Gather != nil {
			n.ACR.Gather.Abort(err)
		}
		return fmt.Errorf("nn: run: %w", err)
	}
	return nil
}

// Embeddings returns the unit embeddings [N,Embed] of the last run. The slice
// is reused by the next run.
func (n *Net) Embeddings() []float32 { return n.Head.emb }

// Norms returns the feature norms of the last run (reused by the next run).
func (n *Net) Norms() []float32 { return n.Head.norms }

// Trained returns the parameters this net computes gradients for, in the
// order of Grads.
func (n *Net) Trained() Params { return n.trained }

// Grads returns the accumulated gradient of each trained parameter. The
// slices alias gorgonia's buffers: read them before the next Run.
func (n *Net) Grads() ([][]float32, error) {
	out := make([][]float32, len(n.wrt))
	for i, nd := range n.wrt {
		gv, err := nd.Grad()
		if err != nil {
			return nil, fmt.Errorf("nn: gradient of %s: %w", nd.Name(), err)
		}
		d, err := f32s(gv)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

// ZeroGrads clears the accumulated gradients (gorgonia adds across runs).
func (n *Net) ZeroGrads() error {
	grads, err := n.Grads()
	if err != nil {
		return err
	}
	for _, g := range grads {
		clear(g)
	}
	return nil
}
