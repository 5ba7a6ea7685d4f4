package nn

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// referenceBackbone is the backbone as first written with gorgonia's own
// ops (Conv2d, BroadcastAdd, Rectify, MaxPool2D, Reshape, Mul) on NCHW maps.
// It is kept as the specification the fused CNHW ops must reproduce.
func referenceBackbone(a Arch, batch int, x *G.Node, p func(string) (*G.Node, error)) (*G.Node, error) {
	var err error
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
			return nil, err
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

// referenceRun builds the original loss graph over the same parameters and
// returns its loss, unit embeddings and gradients (backbone, then classifier).
func referenceRun(t *testing.T, a Arch, n int, bb Params, cls *Param, input []float32, head *Head) (float64, []float32, [][]float32) {
	t.Helper()
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(n, 3, a.HR, a.HR), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(n, 3, a.HR, a.HR), tensor.WithBacking(append([]float32(nil), input...)))))
	nodes := map[string]*G.Node{}
	var wrt []*G.Node
	for _, p := range append(append(Params(nil), bb...), cls) {
		nd := G.NewTensor(g, tensor.Float32, len(p.Shape), G.WithShape(p.Shape...), G.WithName(p.Name),
			G.WithValue(tensor.New(tensor.WithShape(p.Shape...), tensor.WithBacking(append([]float32(nil), p.Data...)))))
		nodes[p.Name] = nd
		wrt = append(wrt, nd)
	}
	emb, err := referenceBackbone(a, n, x, func(s string) (*G.Node, error) { return nodes[s], nil })
	if err != nil {
		t.Fatal(err)
	}
	var embOut []float32
	z, err := RowNormalize(emb, &head.norms, &embOut)
	if err != nil {
		t.Fatal(err)
	}
	wn, err := RowNormalize(nodes[cls.Name], nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	wnT, err := G.Transpose(wn)
	if err != nil {
		t.Fatal(err)
	}
	cos, err := G.Mul(z, wnT)
	if err != nil {
		t.Fatal(err)
	}
	head.embDim = a.Embed
	loss, err := MarginCE(cos, head)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(loss, wrt...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(wrt...))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	var grads [][]float32
	for _, nd := range wrt {
		gv, err := nd.Grad()
		if err != nil {
			t.Fatal(err)
		}
		grads = append(grads, append([]float32(nil), gv.Data().([]float32)...))
	}
	return head.Loss, embOut, grads
}

// TestNetMatchesReferenceGraph runs the fused network and the original
// gorgonia graph on the same weights and batch: loss, embeddings and every
// gradient must agree to float32 round-off, on every GEMM path, over two
// runs (the second reuses all buffers).
func TestNetMatchesReferenceGraph(t *testing.T) {
	for _, kern := range kernelsUnderTest() {
		for _, a := range []Arch{{HR: 32, Width: 8, Depth: 1, Embed: 16}, {HR: 16, Width: 4, Depth: 2, Embed: 8}, {HR: 8, Width: 2, Depth: 1, Embed: 5}} {
			t.Run(fmt.Sprintf("%s/%+v", kern.name, a), func(t *testing.T) {
				rng := rand.New(rand.NewSource(21))
				bb, err := NewBackbone(a, rng)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range bb {
					for i := range p.Data {
						p.Data[i] += float32(rng.NormFloat64() * 0.05)
					}
				}
				const n, classes = 5, 7
				cls := NewClassifier(classes, a.Embed, rng)
				net, err := NewNet(NetSpec{Arch: a, N: n, Loss: true, TrainBackbone: true, TrainClassifier: true}, bb, cls)
				if err != nil {
					t.Fatal(err)
				}
				net.ws.gemm.kern = kern
				for i := range net.Input() {
					net.Input()[i] = float32(rng.NormFloat64())
				}
				setHead := func(h *Head) {
					h.Labels = []int{1, 6, 0, 3, 3}
					h.Weights = []float32{0.2, 0.2, 0.2, 0.2, 0.2}
					h.Scale = 16
					h.Margin = func(int, SampleStat) (float64, float64) { return 0.4, 0 }
				}
				setHead(net.Head)
				refHead := &Head{}
				setHead(refHead)
				wantLoss, wantEmb, wantGrads := referenceRun(t, a, n, bb, cls, net.Input(), refHead)
				for run := 0; run < 2; run++ {
					if run > 0 {
						if err := net.ZeroGrads(); err != nil {
							t.Fatal(err)
						}
					}
					if err := net.Run(); err != nil {
						t.Fatal(err)
					}
					if math.Abs(net.Head.Loss-wantLoss) > 1e-4*math.Max(1, wantLoss) {
						t.Fatalf("run %d: loss %v, reference %v", run, net.Head.Loss, wantLoss)
					}
					closeTo(t, "embeddings", net.Embeddings(), wantEmb, 1e-4)
					grads, err := net.Grads()
					if err != nil {
						t.Fatal(err)
					}
					for i, p := range net.Trained() {
						var scale float64
						for _, v := range wantGrads[i] {
							scale = math.Max(scale, math.Abs(float64(v)))
						}
						for j := range grads[i] {
							if d := math.Abs(float64(grads[i][j] - wantGrads[i][j])); d > 1e-3*scale+1e-6 {
								t.Fatalf("run %d: d%s[%d] = %v, reference %v (largest %v)", run, p.Name, j, grads[i][j], wantGrads[i][j], scale)
							}
						}
					}
				}
			})
		}
	}
}
