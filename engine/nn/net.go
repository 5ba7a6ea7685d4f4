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
	embOut  []float32
	wrt     []*G.Node // nodes whose gradients are read, in Trainable order
	trained Params
	Head    *Head
	classes int
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
	emb, err := buildBackbone(a, spec.N, n.x, byName)
	if err != nil {
		return nil, err
	}
	z, err := RowNormalize(emb, &n.Head.norms, &n.embOut)
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
	wnT, err := G.Transpose(wn)
	if err != nil {
		return nil, err
	}
	cos, err := G.Mul(z, wnT)
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

// buildBackbone wires the residual CNN of Arch onto x and returns the
// un-normalised embedding [N, Embed].
func buildBackbone(a Arch, batch int, x *G.Node, p func(string) (*G.Node, error)) (*G.Node, error) {
	var err error
	// conv is a 3×3 convolution, group-normalised unless it closes a
	// residual branch (that one starts small so each block starts near the
	// identity), then a per-channel bias.
	conv := func(in *G.Node, name string, normed bool) (*G.Node, error) {
		w, err := p(name + ".w")
		if err != nil {
			return nil, err
		}
		b, err := p(name + ".b")
		if err != nil {
			return nil, err
		}
		c, err := G.Conv2d(in, w, tensor.Shape{3, 3}, []int{1, 1}, []int{1, 1}, []int{1, 1})
		if err != nil {
			return nil, fmt.Errorf("nn: %s: %w", name, err)
		}
		if normed {
			if c, err = GroupNorm(c); err != nil {
				return nil, err
			}
		}
		return G.BroadcastAdd(c, b, nil, []byte{0, 2, 3})
	}
	pool := func(in *G.Node) (*G.Node, error) {
		return G.MaxPool2D(in, tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2})
	}
	h := x
	if h, err = conv(h, "stem", true); err != nil {
		return nil, err
	}
	if h, err = G.Rectify(h); err != nil {
		return nil, err
	}
	for s := 1; s < 3; s++ {
		if h, err = pool(h); err != nil {
			return nil, err
		}
		if h, err = conv(h, fmt.Sprintf("s%d.open", s), true); err != nil {
			return nil, err
		}
		if h, err = G.Rectify(h); err != nil {
			return nil, err
		}
		for d := 0; d < a.Depth; d++ {
			r, err := conv(h, fmt.Sprintf("s%d.b%d.c1", s, d), true)
			if err != nil {
				return nil, err
			}
			if r, err = G.Rectify(r); err != nil {
				return nil, err
			}
			if r, err = conv(r, fmt.Sprintf("s%d.b%d.c2", s, d), false); err != nil {
				return nil, err
			}
			if h, err = G.Add(h, r); err != nil {
				return nil, err
			}
			if h, err = G.Rectify(h); err != nil {
				return nil, err
			}
		}
	}
	if h, err = pool(h); err != nil {
		return nil, err
	}
	if h, err = G.Reshape(h, tensor.Shape{batch, a.flatDim()}); err != nil {
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
	if h, err = G.Mul(h, fw); err != nil {
		return nil, err
	}
	return G.BroadcastAdd(h, fb, nil, []byte{0})
}

// N is the number of images one run takes.
func (n *Net) N() int { return n.spec.N }

// Input returns the graph's input buffer [N,3,HR,HR]; fill it before Run.
func (n *Net) Input() []float32 { return n.xBuf }

// Run executes the graph on the current input. With a loss it also
// accumulates gradients (see Grads, ZeroGrads); Head must be set.
func (n *Net) Run() error {
	defer n.vm.Reset()
	if err := n.vm.RunAll(); err != nil {
		return fmt.Errorf("nn: run: %w", err)
	}
	return nil
}

// Embeddings returns the unit embeddings [N,Embed] of the last run. The slice
// is reused by the next run.
func (n *Net) Embeddings() []float32 { return n.embOut }

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
