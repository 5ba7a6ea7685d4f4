package onnx

import (
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The per-coordinate checks run tiny shapes, which take the kernels' plain
// Go paths; the pretrained network takes the SIMD ones. A directional
// derivative over every weight of mobilefacenet at once checks those: for
// a random direction D (each weight moved by 0.01% of its size),
// (L(w+D) − L(w−D))/2 must equal Σ ∂L/∂w·D.
// dirScale moves each weight by 0.01%: at 0.1% the fifty layers of ReLU6 and
// depthwise products already bend the loss by ~10%.
const dirScale = 1e-4

func TestGradMobileFaceNetDirectional(t *testing.T) {
	m := loadShared(t, "mobilefacenet.onnx")
	x, _ := fixtureFaces(t)
	n := 4
	x = x[:n*3*112*112]
	params := m.TrainableWeights()
	g := G.NewGraph()
	shape := []int{n, 3, 112, 112}
	xn := G.NewTensor(g, tensor.Float32, 4, G.WithShape(shape...), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(x))))
	byName := map[string]*G.Node{}
	var wrt G.Nodes
	for _, p := range params {
		nd := G.NewTensor(g, tensor.Float32, len(p.Shape), G.WithShape(p.Shape...), G.WithName(p.Name),
			G.WithValue(tensor.New(tensor.WithShape(p.Shape...), tensor.WithBacking(p.Data))))
		byName[p.Name] = nd
		wrt = append(wrt, nd)
	}
	y, err := m.Build(g, xn, func(name string) (*G.Node, error) { return byName[name], nil }, true)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(3))
	r := randn(rng, prod(y.Shape()))
	rn := G.NewTensor(g, tensor.Float32, 2, G.WithShape(y.Shape()...), G.WithName("R"),
		G.WithValue(tensor.New(tensor.WithShape(y.Shape()...), tensor.WithBacking(r))))
	prodN, err := G.HadamardProd(y, rn)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := G.Sum(prodN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(loss, wrt...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(wrt...))
	defer vm.Close()
	eval := func() float64 {
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		defer vm.Reset()
		var s float64
		for j, v := range y.Value().Data().([]float32) {
			s += float64(v) * float64(r[j])
		}
		return s
	}
	eval()
	dirs := make([][]float32, len(params))
	var predicted float64
	for i, p := range params {
		gv, err := wrt[i].Grad()
		if err != nil {
			t.Fatal(err)
		}
		gd := gv.Data().([]float32)
		dirs[i] = make([]float32, len(p.Data))
		for j, w := range p.Data {
			d := float32(dirScale) * float32(math.Abs(float64(w))+1e-3)
			if rng.Intn(2) == 0 {
				d = -d
			}
			dirs[i][j] = d
			predicted += float64(gd[j]) * float64(d)
		}
	}
	move := func(sign float32) {
		for i, p := range params {
			for j := range p.Data {
				p.Data[j] += sign * dirs[i][j]
			}
		}
	}
	move(1)
	up := eval()
	move(-2)
	dn := eval()
	move(1)
	fd := (up - dn) / 2
	t.Logf("directional derivative: backward %.6g, finite difference %.6g", predicted, fd)
	if math.Abs(fd-predicted) > 0.02*math.Abs(fd)+1e-6 {
		t.Errorf("backward gives %g along the direction, finite differences %g", predicted, fd)
	}
}
