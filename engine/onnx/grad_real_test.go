package onnx

import (
	"math"
	"math/rand"
	"testing"
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
	rng := rand.New(rand.NewSource(3))
	lg := newLossGraph(t, m, x, []int{n, 3, 112, 112}, params, false, rng)
	defer lg.vm.Close()
	wrt, eval := lg.wrt, lg.eval
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
