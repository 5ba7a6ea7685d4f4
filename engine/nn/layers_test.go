package nn

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// checkOpGradients builds out = build(inputs) in a graph, takes the
// gradients of loss = Σ r·out (r random) through the ops' SymDiff, and
// compares each input's gradient with central differences of that loss,
// summed in float64 from the float32 outputs.
func checkOpGradients(t *testing.T, shapes [][]int, build func(ws *workspace, in []*G.Node) (*G.Node, error), eps, tol float64) {
	t.Helper()
	rng := rand.New(rand.NewSource(13))
	g := G.NewGraph()
	ws := &workspace{}
	data := make([][]float32, len(shapes))
	nodes := make([]*G.Node, len(shapes))
	for i, sh := range shapes {
		n := 1
		for _, d := range sh {
			n *= d
		}
		data[i] = make([]float32, n)
		for j := range data[i] {
			data[i][j] = float32(rng.NormFloat64())
		}
		nodes[i] = G.NewTensor(g, tensor.Float32, len(sh), G.WithShape(sh...), G.WithName(fmt.Sprintf("in%d", i)),
			G.WithValue(tensor.New(tensor.WithShape(sh...), tensor.WithBacking(data[i]))))
	}
	out, err := build(ws, nodes)
	if err != nil {
		t.Fatal(err)
	}
	osh := out.Shape()
	r := make([]float32, osh.TotalSize())
	for j := range r {
		r[j] = float32(rng.NormFloat64())
	}
	rn := G.NewTensor(g, tensor.Float32, len(osh), G.WithShape(osh...), G.WithName("r"),
		G.WithValue(tensor.New(tensor.WithShape(osh...), tensor.WithBacking(r))))
	prod, err := G.HadamardProd(out, rn)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := G.Sum(prod)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(loss, nodes...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(nodes...))
	defer vm.Close()
	lossAt := func() float64 {
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		defer vm.Reset()
		var l float64
		for j, v := range out.Value().Data().([]float32) {
			l += float64(r[j]) * float64(v)
		}
		return l
	}
	lossAt()
	grads := make([][]float32, len(nodes))
	for i, nd := range nodes {
		gv, err := nd.Grad()
		if err != nil {
			t.Fatal(err)
		}
		grads[i] = append([]float32(nil), gv.Data().([]float32)...)
	}
	for i := range nodes {
		for j := range data[i] {
			orig := data[i][j]
			data[i][j] = orig + float32(eps)
			up := lossAt()
			data[i][j] = orig - float32(eps)
			dn := lossAt()
			data[i][j] = orig
			fd := (up - dn) / (2 * eps)
			if math.Abs(fd-float64(grads[i][j])) > tol*math.Max(1, math.Abs(fd)) {
				t.Fatalf("input %d [%d]: gradient %v, finite difference %v", i, j, grads[i][j], fd)
			}
		}
	}
}

func TestNewOpGradientsMatchFiniteDifferences(t *testing.T) {
	const eps, tol = 1e-3, 3e-3
	cases := []struct {
		name   string
		shapes [][]int
		build  func(ws *workspace, in []*G.Node) (*G.Node, error)
	}{
		{"conv-cnhw", [][]int{{3, 2, 5, 4}, {4, 3, 3, 3}}, func(ws *workspace, in []*G.Node) (*G.Node, error) {
			st := &convState{ws: ws, cin: 3, cout: 4, n: 2, h: 5, w: 4, needDx: true}
			return G.ApplyOp(convOp{opBase{"conv"}, st}, in[0], in[1])
		}},
		{"gnrelu", [][]int{{8, 2, 3, 3}, {1, 8, 1, 1}}, func(ws *workspace, in []*G.Node) (*G.Node, error) {
			return G.ApplyOp(gnReluOp{opBase{"gn"}, &gnState{}}, in[0], in[1])
		}},
		{"resrelu", [][]int{{2, 3, 2, 2}, {1, 2, 1, 1}, {2, 3, 2, 2}}, func(ws *workspace, in []*G.Node) (*G.Node, error) {
			return G.ApplyOp(resReluOp{opBase{"res"}, &resState{}}, in[0], in[1], in[2])
		}},
		{"pool", [][]int{{2, 3, 4, 6}}, func(ws *workspace, in []*G.Node) (*G.Node, error) {
			return G.ApplyOp(poolOp{opBase{"pool"}, &poolState{}}, in[0])
		}},
		{"flatten", [][]int{{3, 2, 2, 2}}, func(ws *workspace, in []*G.Node) (*G.Node, error) {
			return G.ApplyOp(flattenOp{opBase{"flat"}, &outBuf{}}, in[0])
		}},
		{"addrow", [][]int{{3, 4}, {1, 4}}, func(ws *workspace, in []*G.Node) (*G.Node, error) {
			return G.ApplyOp(addRowOp{opBase{"add"}, &outBuf{}, &outBuf{}}, in[0], in[1])
		}},
	}
	for _, tA := range []bool{false, true} {
		for _, tB := range []bool{false, true} {
			sa, sb := []int{3, 4}, []int{4, 5}
			if tA {
				sa = []int{4, 3}
			}
			if tB {
				sb = []int{5, 4}
			}
			cases = append(cases, struct {
				name   string
				shapes [][]int
				build  func(ws *workspace, in []*G.Node) (*G.Node, error)
			}{fmt.Sprintf("mm-%v-%v", tA, tB), [][]int{sa, sb}, func(ws *workspace, in []*G.Node) (*G.Node, error) {
				return newMM("mm", ws, tA, tB, in[0], in[1])
			}})
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkOpGradients(t, c.shapes, c.build, eps, tol) })
	}
}
