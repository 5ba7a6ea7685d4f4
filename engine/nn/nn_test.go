package nn

import (
	"math"
	"math/rand"
	"testing"
)

func TestTargetMatchesDefinitionAndDerivative(t *testing.T) {
	cases := []struct {
		name    string
		c, g, a float64
	}{
		{"arcface", 0.3, 0.5, 0},
		{"cosface", 0.3, 0, 0.35},
		{"adaface-negative", 0.8, -0.2, 0.5},
		{"fallback", -0.95, 0.5, 0},
		{"no margin", -0.2, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, d := Target(tc.c, tc.g, tc.a)
			theta := math.Acos(tc.c)
			want := math.Cos(theta+tc.g) - tc.a
			if theta+tc.g > math.Pi {
				want = tc.c - tc.g*math.Sin(tc.g) - tc.a
			}
			if math.Abs(got-want) > 1e-12 {
				t.Fatalf("Target(%v) = %v, want %v", tc, got, want)
			}
			const h = 1e-6
			up, _ := Target(tc.c+h, tc.g, tc.a)
			dn, _ := Target(tc.c-h, tc.g, tc.a)
			if fd := (up - dn) / (2 * h); math.Abs(fd-d) > 1e-5*math.Max(1, math.Abs(fd)) {
				t.Fatalf("dT/dc = %v, finite difference %v", d, fd)
			}
		})
	}
}

func TestTargetIsMonotoneThroughTheFallback(t *testing.T) {
	prev := math.Inf(1)
	for c := 1.0; c >= -1; c -= 0.001 {
		v, _ := Target(c, 0.5, 0)
		if v > prev+1e-12 {
			t.Fatalf("target rises at c=%v: %v > %v", c, v, prev)
		}
		prev = v
	}
}

// headLoss evaluates the fused loss on a cosine matrix in float64 terms.
func headLoss(h *Head, cos []float32, n, c int) float64 {
	l, err := h.forward(cos, n, c)
	if err != nil {
		panic(err)
	}
	return l
}

func TestMarginCEGradientMatchesFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	const n, c = 5, 7
	cos := make([]float32, n*c)
	for i := range cos {
		cos[i] = float32(rng.Float64()*1.8 - 0.9)
	}
	cos[2*c+1] = -0.97 // a target in ArcFace's fallback region
	h := &Head{
		Labels: []int{0, 3, 1, 6, 2}, Weights: []float32{0.2, 0.2, 0.2, 0.1, 0.3}, Scale: 16,
		Margin: func(i int, s SampleStat) (float64, float64) {
			if i == 3 {
				return -0.1, 0.3 // AdaFace-like negative angle
			}
			return 0.5, 0.05
		},
	}
	headLoss(h, cos, n, c)
	grad := make([]float32, n*c)
	h.backward(grad, 1, n, c)
	for k := range cos {
		const eps = 1e-3
		orig := cos[k]
		cos[k] = orig + eps
		up := headLoss(h, cos, n, c)
		cos[k] = orig - eps
		dn := headLoss(h, cos, n, c)
		cos[k] = orig
		fd := (up - dn) / (2 * eps)
		if math.Abs(fd-float64(grad[k])) > 2e-3*math.Max(1, math.Abs(fd)) {
			t.Fatalf("d loss/d cos[%d] = %v, finite difference %v", k, grad[k], fd)
		}
	}
}

func TestRowNormGradientMatchesFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	const n, d = 3, 4
	x := make([]float64, n*d)
	g := make([]float32, n*d) // upstream gradient: loss = Σ g·y
	for i := range x {
		x[i] = rng.NormFloat64()
		g[i] = float32(rng.NormFloat64())
	}
	loss := func() float64 {
		var l float64
		for i := 0; i < n; i++ {
			var ss float64
			for j := 0; j < d; j++ {
				ss += x[i*d+j] * x[i*d+j]
			}
			for j := 0; j < d; j++ {
				l += float64(g[i*d+j]) * x[i*d+j] / math.Sqrt(ss+normEps)
			}
		}
		return l
	}
	xs := make([]float32, len(x))
	for i, v := range x {
		xs[i] = float32(v)
	}
	got, err := rowNormGradOp{}.Do(denseOf(xs, n, d), denseOf(g, n, d))
	if err != nil {
		t.Fatal(err)
	}
	gd := got.Data().([]float32)
	for k := range x {
		const eps = 1e-6
		orig := x[k]
		x[k] = orig + eps
		up := loss()
		x[k] = orig - eps
		dn := loss()
		x[k] = orig
		if fd := (up - dn) / (2 * eps); math.Abs(fd-float64(gd[k])) > 1e-4 {
			t.Fatalf("dx[%d] = %v, finite difference %v", k, gd[k], fd)
		}
	}
}

// tinyNet builds a small loss graph with random inputs for gradient checks.
func tinyNet(t *testing.T, trainClassifier bool) (*Net, Params, *Param) {
	t.Helper()
	rng := rand.New(rand.NewSource(11))
	a := Arch{HR: 8, Width: 2, Depth: 1, Embed: 5}
	bb, err := NewBackbone(a, rng)
	if err != nil {
		t.Fatal(err)
	}
	// Larger second convolutions so the residual branches matter in the check.
	for _, p := range bb {
		for i := range p.Data {
			p.Data[i] += float32(rng.NormFloat64() * 0.05)
		}
	}
	cls := NewClassifier(4, a.Embed, rng)
	net, err := NewNet(NetSpec{Arch: a, N: 3, Loss: true, TrainBackbone: true, TrainClassifier: trainClassifier}, bb, cls)
	if err != nil {
		t.Fatal(err)
	}
	for i := range net.Input() {
		net.Input()[i] = float32(rng.NormFloat64())
	}
	net.Head.Labels = []int{1, 3, 0}
	net.Head.Weights = []float32{1.0 / 3, 1.0 / 3, 1.0 / 3}
	net.Head.Scale = 8
	net.Head.Margin = func(int, SampleStat) (float64, float64) { return 0.3, 0 }
	return net, bb, cls
}

// TestNetGradientsMatchFiniteDifferences checks gorgonia's convolution,
// pooling, bias, residual and FC gradients together with our ops, along a
// random direction per parameter (robust to ReLU and max-pool kinks).
func TestNetGradientsMatchFiniteDifferences(t *testing.T) {
	net, _, _ := tinyNet(t, true)
	if err := net.Run(); err != nil {
		t.Fatal(err)
	}
	grads, err := net.Grads()
	if err != nil {
		t.Fatal(err)
	}
	analytic := make([][]float64, len(grads))
	for i, g := range grads {
		analytic[i] = make([]float64, len(g))
		for j, v := range g {
			analytic[i][j] = float64(v)
		}
	}
	rng := rand.New(rand.NewSource(2))
	lossAt := func() float64 {
		if err := net.ZeroGrads(); err != nil {
			t.Fatal(err)
		}
		if err := net.Run(); err != nil {
			t.Fatal(err)
		}
		return net.Head.Loss
	}
	for i, p := range net.Trained() {
		dir := make([]float64, len(p.Data))
		var want float64
		for j := range dir {
			dir[j] = rng.NormFloat64()
			want += dir[j] * analytic[i][j]
		}
		orig := append([]float32(nil), p.Data...)
		const eps = 3e-4 // small enough to step over few ReLU and max-pool kinks
		for j := range p.Data {
			p.Data[j] = orig[j] + float32(eps*dir[j])
		}
		up := lossAt()
		for j := range p.Data {
			p.Data[j] = orig[j] - float32(eps*dir[j])
		}
		dn := lossAt()
		copy(p.Data, orig)
		fd := (up - dn) / (2 * eps)
		if math.Abs(fd-want) > 0.03*math.Max(0.05, math.Abs(want)) {
			t.Errorf("%s: directional derivative %v, finite difference %v", p.Name, want, fd)
		}
	}
}

func TestRunLeavesParametersUntouched(t *testing.T) {
	net, bb, cls := tinyNet(t, true)
	before := append(bb.Clone(), cls)
	snap := Params(before).Clone()
	for k := 0; k < 3; k++ {
		if err := net.Run(); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range append(bb, cls) {
		for j := range p.Data {
			if p.Data[j] != snap[i].Data[j] {
				t.Fatalf("%s[%d] changed by a run: %v -> %v", p.Name, j, snap[i].Data[j], p.Data[j])
			}
		}
	}
}

func TestGradientsAccumulateUntilZeroed(t *testing.T) {
	net, _, _ := tinyNet(t, false)
	run := func() []float32 {
		if err := net.Run(); err != nil {
			t.Fatal(err)
		}
		g, err := net.Grads()
		if err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), g[0]...)
	}
	one := run()
	two := run()
	for j := range one {
		if math.Abs(float64(two[j]-2*one[j])) > 1e-4*math.Max(1, math.Abs(float64(one[j]))) {
			t.Fatalf("second run gave %v, want twice %v", two[j], one[j])
		}
	}
	if err := net.ZeroGrads(); err != nil {
		t.Fatal(err)
	}
	again := run()
	for j := range one {
		if again[j] != one[j] {
			t.Fatalf("after ZeroGrads got %v, want %v", again[j], one[j])
		}
	}
}

func TestSGDStepMatchesFormula(t *testing.T) {
	w := NewParam("l.w", 2)
	b := NewParam("l.b", 1)
	w.Data[0], w.Data[1], b.Data[0] = 1, -2, 0.5
	var opt SGD
	grads := [][]float32{{0.1, 0.2}, {0.3}}
	opt.Step(Params{w, b}, grads, 0.1, 0.9, 0.01)
	opt.Step(Params{w, b}, grads, 0.1, 0.9, 0.01)
	// By hand: v1 = g + λw0; w1 = w0 − lr·v1; v2 = μv1 + g + λw1; w2 = w1 − lr·v2.
	v1 := 0.1 + 0.01*1.0
	w1 := 1 - 0.1*v1
	v2 := 0.9*v1 + 0.1 + 0.01*w1
	if want := w1 - 0.1*v2; math.Abs(float64(w.Data[0])-want) > 1e-6 {
		t.Fatalf("w = %v, want %v", w.Data[0], want)
	}
	vb1 := 0.3
	if want := 0.5 - 0.1*vb1 - 0.1*(0.9*vb1+0.3); math.Abs(float64(b.Data[0])-want) > 1e-6 {
		t.Fatalf("bias = %v, want %v (no decay)", b.Data[0], want)
	}
}

// TestReplicasSharingParamsRunConcurrently guards the reason Param has no
// shared tensor header: replicas transposing one header race and fail.
func TestReplicasSharingParamsRunConcurrently(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	a := Arch{HR: 8, Width: 2, Depth: 1, Embed: 6}
	bb, err := NewBackbone(a, rng)
	if err != nil {
		t.Fatal(err)
	}
	cls := NewClassifier(5, a.Embed, rng)
	var nets []*Net
	for r := 0; r < 2; r++ {
		net, err := NewNet(NetSpec{Arch: a, N: 4, Loss: true, TrainBackbone: true, TrainClassifier: true}, bb, cls)
		if err != nil {
			t.Fatal(err)
		}
		net.Head.Labels = []int{0, 1, 2, 3}
		net.Head.Weights = []float32{1, 1, 1, 1}
		net.Head.Scale = 4
		nets = append(nets, net)
	}
	done := make(chan error, len(nets))
	for _, n := range nets {
		go func(n *Net) {
			for k := 0; k < 200; k++ {
				if err := n.Run(); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}(n)
	}
	for range nets {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestGroupNormGradientMatchesFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	shape := []int{2, 8, 3, 3}
	n := 2 * 8 * 9
	x := make([]float32, n)
	g := make([]float32, n) // loss = Σ g·y
	for i := range x {
		x[i] = float32(rng.NormFloat64()*2 + 1)
		g[i] = float32(rng.NormFloat64())
	}
	loss := func() float64 {
		y, err := groupNormOp{}.Do(denseOf(x, shape...))
		if err != nil {
			t.Fatal(err)
		}
		var l float64
		for i, v := range y.Data().([]float32) {
			l += float64(g[i]) * float64(v)
		}
		return l
	}
	got, err := groupNormGradOp{}.Do(denseOf(x, shape...), denseOf(g, shape...))
	if err != nil {
		t.Fatal(err)
	}
	gd := got.Data().([]float32)
	checkFiniteDifferences(t, x, gd, loss, 1e-2, 2e-3)
}
