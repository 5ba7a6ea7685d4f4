package onnx

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ccface/ccface/engine/nn"
)

// built is a model wired by Build into a graph of its own, as nn.NewNet
// does: the weights bound as named nodes, the input x in [-1,1].
type built struct {
	g      *G.ExprGraph
	x      []float32
	xNode  *G.Node
	out    *G.Node
	params nn.Params
	nodes  []*G.Node // of params, in order
}

func buildGraph(t testing.TB, m *Model, n int, params nn.Params, train bool) *built {
	t.Helper()
	side := m.Side()
	bt := &built{g: G.NewGraph(), params: params, x: make([]float32, n*3*side*side)}
	shape := []int{n, 3, side, side}
	bt.xNode = G.NewTensor(bt.g, tensor.Float32, 4, G.WithShape(shape...), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(bt.x))))
	byName := map[string]*G.Node{}
	for _, p := range params {
		nd := G.NewTensor(bt.g, tensor.Float32, len(p.Shape), G.WithShape(p.Shape...), G.WithName(p.Name),
			G.WithValue(tensor.New(tensor.WithShape(p.Shape...), tensor.WithBacking(p.Data))))
		byName[p.Name] = nd
		bt.nodes = append(bt.nodes, nd)
	}
	out, err := m.Build(bt.g, bt.xNode, func(name string) (*G.Node, error) {
		nd, ok := byName[name]
		if !ok {
			t.Fatalf("Build asked for %s, which TrainableWeights does not list", name)
		}
		return nd, nil
	}, train)
	if err != nil {
		t.Fatal(err)
	}
	bt.out = out
	return bt
}

func (bt *built) forward(t testing.TB) []float32 {
	t.Helper()
	vm := G.NewTapeMachine(bt.g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), bt.out.Value().Data().([]float32)...)
}

// fixtureFaces reads the shared fixture faces as engine inputs in [-1,1]
// and their reference embeddings; skips when absent.
func fixtureFaces(t testing.TB) ([]float32, [][]float64) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(sharedModels, "fixtures", "mobilefacenet_ref.json"))
	if err != nil {
		t.Skipf("reference outputs absent: %v", err)
	}
	var ref struct {
		Images     []string
		Embeddings [][]float64
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	var x []float32
	for _, name := range ref.Images {
		img, _ := readRGB(t, filepath.Join(sharedModels, "fixtures", name))
		for _, u := range img {
			x = append(x, (u-0.5)/0.5)
		}
	}
	return x, ref.Embeddings
}

// TestBuildMatchesReference: the graph Build wires into a caller's graph,
// with its own preprocessing and the weights bound by the caller, gives
// the reference outputs, for inference and for training graphs.
func TestBuildMatchesReference(t *testing.T) {
	m := loadShared(t, "mobilefacenet.onnx")
	x, ref := fixtureFaces(t)
	if d := m.EmbedDim(); d != 128 || m.Side() != 112 {
		t.Fatalf("EmbedDim %d Side %d, want 128 and 112", d, m.Side())
	}
	for _, train := range []bool{false, true} {
		bt := buildGraph(t, m, len(ref), m.TrainableWeights(), train)
		copy(bt.x, x)
		out := bt.forward(t)
		for j, v := range bt.forward(t) { // the second run reuses every pooled buffer
			if v != out[j] {
				t.Fatalf("train %v: a second run gives output %d = %g, the first %g", train, j, v, out[j])
			}
		}
		if s := bt.out.Shape(); len(s) != 2 || s[0] != len(ref) || s[1] != 128 {
			t.Fatalf("output shape %v", s)
		}
		worst := 0.0
		for i := range ref {
			for j, want := range ref[i] {
				worst = math.Max(worst, math.Abs(float64(out[i*128+j])-want))
			}
		}
		t.Logf("train %v: largest difference from the reference %.2g", train, worst)
		if worst > 2e-4 {
			t.Errorf("train %v: outputs differ from the reference by up to %g", train, worst)
		}
	}
}
