package nn

import (
	"math"
	"math/rand"
	"testing"
)

func randSlice(rng *rand.Rand, n int, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * scale)
	}
	return x
}

// targetsFor returns sharpened-looking random target distributions.
func targetsFor(rng *rand.Rand, n, c int) []float32 {
	t := make([]float32, n*c)
	for i := 0; i < n; i++ {
		var sum float64
		for j := 0; j < c; j++ {
			v := math.Exp(3 * rng.NormFloat64())
			t[i*c+j] = float32(v)
			sum += v
		}
		for j := 0; j < c; j++ {
			t[i*c+j] = float32(float64(t[i*c+j]) / sum)
		}
	}
	return t
}

func TestPrototypeLossGradientMatchesFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewSource(21))
	const n, c = 4, 6
	a := &ACR{Mode: ACRPrototype, Lambda: 0.7, Scale: 5, Eps: 0.8, Targets: targetsFor(rng, n, c)}
	x := randSlice(rng, n*c, 0.5)
	loss := func() float64 {
		l, err := a.distForward(x, n, c)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	loss()
	grad := make([]float32, n*c)
	a.distBackward(grad, 1, n, c)
	checkFiniteDifferences(t, x, grad, loss, 1e-3, 1e-3)
}

func TestCosineDistanceGradientMatchesFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewSource(22))
	const n, d = 3, 5
	x := randSlice(rng, n*d, 1)
	a := &ACR{Mode: ACRSimSiam, Lambda: 1.3, Targets: randSlice(rng, n*d, 1)}
	lossF := func() float64 {
		if _, err := (cosDistOp{acr: a}).Do(denseOf(x, n, d)); err != nil {
			t.Fatal(err)
		}
		return a.Loss
	}
	lossF()
	grad := make([]float32, n*d)
	a.cosBackward(grad, x, 1, n, d)
	checkFiniteDifferences(t, x, grad, lossF, 1e-3, 1e-3)
}

// studentNet builds a tiny student-like graph: LR rows then HR rows, frozen
// classifier, cross-resolution branch with a predictor.
func studentNet(t *testing.T, mode string) (*Net, Params) {
	t.Helper()
	rng := rand.New(rand.NewSource(23))
	a := Arch{HR: 8, Width: 2, Depth: 1, Embed: 5}
	bb, err := NewBackbone(a, rng)
	if err != nil {
		t.Fatal(err)
	}
	cls := NewClassifier(4, a.Embed, rng)
	pred := NewPredictor(a.Embed, rng)
	for i := range pred[2].Data { // off its zero start, so W1 gets gradients too
		pred[2].Data[i] = float32(rng.NormFloat64() * 0.3)
	}
	net, err := NewNet(NetSpec{Arch: a, N: 4, Loss: true, TrainBackbone: true, ACRRows: 2, Predictor: pred, ACRSupport: 3}, bb, cls)
	if err != nil {
		t.Fatal(err)
	}
	copy(net.Input(), randSlice(rng, len(net.Input()), 1))
	net.Head.Labels = []int{1, 2, 1, 2}
	net.Head.Weights = []float32{0.5, 0.5, 0.25, 0.25}
	net.Head.Scale = 8
	net.Head.Margin = func(int, SampleStat) (float64, float64) { return 0.2, 0 }
	net.ACR.Mode, net.ACR.Lambda, net.ACR.Scale, net.ACR.Eps = mode, 0.8, 6, 0.5
	switch mode {
	case ACRPrototype:
		net.ACR.Targets = targetsFor(rng, 2, 4)
	case ACRSupport:
		support := randSlice(rng, 3*5, 1)
		for i := 0; i < 3; i++ { // unit rows, as embeddings are
			row := support[i*5 : (i+1)*5]
			var ss float64
			for _, v := range row {
				ss += float64(v) * float64(v)
			}
			for j := range row {
				row[j] /= float32(math.Sqrt(ss))
			}
		}
		if _, _, err := net.ACR.SetSupport(support, []int{4, 9, 4}); err != nil {
			t.Fatal(err)
		}
		net.ACR.Targets = targetsFor(rng, 2, 2)
	default:
		net.ACR.Targets = randSlice(rng, 2*5, 1)
	}
	return net, append(bb, pred...)
}

func TestStudentNetWithCrossResolutionGradients(t *testing.T) {
	for _, mode := range []string{ACRPrototype, ACRSupport, ACRSimSiam} {
		t.Run(mode, func(t *testing.T) {
			net, _ := studentNet(t, mode)
			if err := net.Run(); err != nil {
				t.Fatal(err)
			}
			if net.ACR.Loss == 0 {
				t.Fatal("cross-resolution loss is zero")
			}
			grads, err := net.Grads()
			if err != nil {
				t.Fatal(err)
			}
			analytic := make([][]float32, len(grads))
			for i, g := range grads {
				analytic[i] = append([]float32(nil), g...)
			}
			lossAt := func() float64 {
				if err := net.ZeroGrads(); err != nil {
					t.Fatal(err)
				}
				if err := net.Run(); err != nil {
					t.Fatal(err)
				}
				return net.Head.Loss + net.ACR.Loss
			}
			rng := rand.New(rand.NewSource(5))
			for i, p := range net.Trained() {
				dir := randSlice(rng, len(p.Data), 1)
				var want float64
				for j := range dir {
					want += float64(dir[j]) * float64(analytic[i][j])
				}
				orig := append([]float32(nil), p.Data...)
				const eps = 3e-4
				for j := range p.Data {
					p.Data[j] = orig[j] + eps*dir[j]
				}
				up := lossAt()
				for j := range p.Data {
					p.Data[j] = orig[j] - eps*dir[j]
				}
				dn := lossAt()
				copy(p.Data, orig)
				// The floor is the noise of a float32 forward pass: the
				// central difference of this tiny net wanders by ~0.004
				// (across eps, on any summation order) for directions
				// whose derivative is near zero.
				if fd := (up - dn) / (2 * eps); math.Abs(fd-want) > 0.03*math.Max(0.25, math.Abs(want)) {
					t.Errorf("%s: directional derivative %v, finite difference %v", p.Name, want, fd)
				}
			}
		})
	}
}

// TestCrossResolutionBranchReadsOnlyLRRows: with the classification loss
// weighted to zero, changing an HR image leaves the loss and the predictor's
// gradient unchanged: the predictor sees the LR branch only.
func TestCrossResolutionBranchReadsOnlyLRRows(t *testing.T) {
	net, _ := studentNet(t, ACRSimSiam)
	net.Head.Weights = []float32{0, 0, 0, 0}
	run := func() (float64, []float32) {
		if err := net.Run(); err != nil {
			t.Fatal(err)
		}
		g, err := net.Grads()
		if err != nil {
			t.Fatal(err)
		}
		w1 := append([]float32(nil), g[len(g)-4]...) // pred.w1
		if err := net.ZeroGrads(); err != nil {
			t.Fatal(err)
		}
		return net.ACR.Loss, w1
	}
	l1, g1 := run()
	in := net.Input()
	img := len(in) / 4
	for i := 2 * img; i < len(in); i++ { // the HR rows
		in[i] += 0.5
	}
	l2, g2 := run()
	if l1 != l2 {
		t.Fatalf("loss changed with the HR images: %v -> %v", l1, l2)
	}
	for i := range g1 {
		if g1[i] != g2[i] {
			t.Fatalf("predictor gradient changed with the HR images at %d", i)
		}
	}
	for i := 0; i < img; i++ { // an LR row must matter
		in[i] += 0.5
	}
	if l3, _ := run(); l3 == l1 {
		t.Fatal("loss ignores the LR images")
	}
}

// TestPredictorGradientPerCoordinate checks every coordinate of the
// predictor's gradient (matmuls, bias broadcasts, ReLU, residual add,
// normalisation, each loss of the branch) against central differences, in
// float64 accumulation of a float32 graph: a tolerance of a few percent
// of the largest entry.
func TestPredictorGradientPerCoordinate(t *testing.T) {
	for _, mode := range []string{ACRPrototype, ACRSupport, ACRSimSiam} {
		t.Run(mode, func(t *testing.T) {
			net, _ := studentNet(t, mode)
			net.Head.Weights = []float32{0, 0, 0, 0} // the branch's loss alone
			net.ACR.Lambda = 1
			if err := net.Run(); err != nil {
				t.Fatal(err)
			}
			grads, err := net.Grads()
			if err != nil {
				t.Fatal(err)
			}
			trained := net.Trained()
			first := len(trained) - 4
			analytic := make([][]float32, 4)
			for i := range analytic {
				analytic[i] = append([]float32(nil), grads[first+i]...)
			}
			lossAt := func() float64 {
				if err := net.ZeroGrads(); err != nil {
					t.Fatal(err)
				}
				if err := net.Run(); err != nil {
					t.Fatal(err)
				}
				return net.ACR.Loss
			}
			for i, p := range trained[first:] {
				var top float64
				for _, v := range analytic[i] {
					top = math.Max(top, math.Abs(float64(v)))
				}
				if top == 0 {
					t.Fatalf("%s: zero gradient", p.Name)
				}
				for j := range p.Data {
					orig := p.Data[j]
					const eps = 1e-2
					p.Data[j] = orig + eps
					up := lossAt()
					p.Data[j] = orig - eps
					dn := lossAt()
					p.Data[j] = orig
					fd := (up - dn) / (2 * eps)
					if math.Abs(fd-float64(analytic[i][j])) > 0.02*top+1e-4 {
						t.Fatalf("%s[%d]: gradient %v, finite difference %v (largest entry %v)", p.Name, j, analytic[i][j], fd, top)
					}
				}
			}
		})
	}
}
