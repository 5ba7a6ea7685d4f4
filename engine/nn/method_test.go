package nn

import (
	"math"
	"math/rand"
	"strings"
	"sync"
	"testing"
)

// The expected values below were computed by hand (a few lines of Python,
// independent of this package), on 2×3 examples small enough to check.

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.9g, want %.9g", what, got, want)
	}
}

// TestPrototypeLossHandValues: λ·[(1/n)Σ H(t_i, softmax(s·c_i)) − ε·H(p̄)]
// with c = [[.5 .1 −.2] [0 .3 .6]], s = 2, t = [[.7 .2 .1] [0 0 1]],
// λ = 0.5, ε = 0.3.
func TestPrototypeLossHandValues(t *testing.T) {
	a := &ACR{Mode: ACRPrototype, Lambda: 0.5, Scale: 2, Eps: 0.3,
		Targets: []float32{0.7, 0.2, 0.1, 0, 0, 1}}
	l, err := a.distForward([]float32{0.5, 0.1, -0.2, 0, 0.3, 0.6}, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "loss", l, 0.1971369716547898, 1e-6)
	near(t, "term", a.Term, 0.3942739433095796, 1e-6)
	near(t, "mean entropy", a.MeanEntropy, 1.0914496257881052, 1e-6)
}

// TestSupportLossHandValues: PAWS's soft nearest neighbours. Support rows
// of classes [0 1 0 2]; the prediction of a row is softmax(s·c_i) over the
// support summed per class.
func TestSupportLossHandValues(t *testing.T) {
	a := &ACR{Mode: ACRSupport, Lambda: 0.5, Scale: 2, Eps: 0.3,
		Targets: []float32{0.6, 0.3, 0.1, 0.1, 0.5, 0.4}}
	a.supportClass, a.supportClasses = []int{0, 1, 0, 2}, 3
	l, err := a.distForward([]float32{0.9, 0.2, 0.4, -0.1, 0.1, 0.8, 0, 0.5}, 2, 4)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "loss", l, 0.3484639808742378, 1e-6)
	near(t, "mean entropy", a.MeanEntropy, 1.0161336391703693, 1e-6)
}

func TestSupportClassesRenumberInOrderOfAppearance(t *testing.T) {
	class, n := SupportClasses(nil, []int{7, 3, 7, 9})
	if n != 3 || class[0] != 0 || class[1] != 1 || class[2] != 0 || class[3] != 2 {
		t.Fatalf("classes %v (%d), want [0 1 0 2] (3)", class, n)
	}
}

// TestSupportLossGradientMatchesFiniteDifferences checks every coordinate
// of the support loss's gradient with respect to its cosines.
func TestSupportLossGradientMatchesFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewSource(31))
	const n, k, classes = 4, 7, 3
	a := &ACR{Mode: ACRSupport, Lambda: 0.7, Scale: 5, Eps: 0.8, Targets: targetsFor(rng, n, classes)}
	a.supportClass, a.supportClasses = []int{0, 1, 2, 0, 1, 0, 2}, classes
	x := randSlice(rng, n*k, 0.5)
	loss := func() float64 {
		l, err := a.distForward(x, n, k)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	loss()
	grad := make([]float32, n*k)
	a.distBackward(grad, 1, n, k)
	checkFiniteDifferences(t, x, grad, loss, 1e-3, 1e-3)
}

// TestGatheredMeanEntropyIsTheBatchs: two replicas of two rows each, with
// a gather, give the loss shares and gradients of one replica of four rows.
func TestGatheredMeanEntropyIsTheBatchs(t *testing.T) {
	rng := rand.New(rand.NewSource(32))
	const n, c = 4, 5
	targets, x := targetsFor(rng, n, c), randSlice(rng, n*c, 0.5)
	whole := &ACR{Mode: ACRPrototype, Lambda: 0.9, Scale: 4, Eps: 1.5, Targets: targets}
	want, err := whole.distForward(x, n, c)
	if err != nil {
		t.Fatal(err)
	}
	wantGrad := make([]float32, n*c)
	whole.distBackward(wantGrad, 1, n, c)

	g := NewGather(2)
	parts := make([]*ACR, 2)
	grads := make([][]float32, 2)
	var wg sync.WaitGroup
	for r := range parts {
		parts[r] = &ACR{Mode: ACRPrototype, Lambda: 0.9, Scale: 4, Eps: 1.5, BatchRows: n, Gather: g, Replica: r,
			Targets: targets[r*2*c : (r+1)*2*c]}
		grads[r] = make([]float32, 2*c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := parts[r].distForward(x[r*2*c:(r+1)*2*c], 2, c); err != nil {
				t.Error(err)
			}
			parts[r].distBackward(grads[r], 1, 2, c)
		}()
	}
	wg.Wait()
	near(t, "sum of the replicas' losses", parts[0].Loss+parts[1].Loss, want, 1e-9)
	for r := range parts {
		for j, v := range grads[r] {
			near(t, "gradient", float64(v), float64(wantGrad[r*2*c+j]), 1e-7)
		}
	}
}

func TestGatherAbortReleasesWaitingReplicas(t *testing.T) {
	g := NewGather(2)
	done := make(chan error)
	go func() { done <- g.Sum(0, []float64{1}) }()
	g.Abort(errTest)
	if err := <-done; err == nil || !strings.Contains(err.Error(), "another replica failed") {
		t.Fatalf("waiting replica got %v", err)
	}
}

var errTest = errorString("conv failed")

type errorString string

func (e errorString) Error() string { return string(e) }

// TestTargetHandValues: the margin target cos(θ+g) − a of each head, its
// fallback past π and its clamp below 0, against values worked by hand.
func TestTargetHandValues(t *testing.T) {
	for _, c := range []struct {
		name          string
		cos, g, a     float64
		want, wantDer float64
	}{
		// ArcFace m = 0.5 at cos θ = 0.6: cos(acos 0.6 + 0.5) = 0.6·cos .5 − 0.8·sin .5.
		{"arcface", 0.6, 0.5, 0, 0.6*math.Cos(0.5) - 0.8*math.Sin(0.5), math.Cos(0.5) + 0.6*math.Sin(0.5)/0.8},
		// CosFace m = 0.35: cos θ − 0.35, slope 1.
		{"cosface", 0.6, 0, 0.35, 0.25, 1},
		// Past π: ArcFace's fallback c − m·sin m.
		{"fallback", -0.95, 0.5, 0, -0.95 - 0.5*math.Sin(0.5), 1},
		// AdaFace, high quality (ẑ = 0.5, m = 0.4): g = −0.2, a = 0.6.
		{"adaface", 0.6, -0.2, 0.6, 0.6*math.Cos(0.2) + 0.8*math.Sin(0.2) - 0.6, math.Cos(0.2) - 0.6*math.Sin(0.2)/0.8},
		// θ + g < 0: the angle clamps at 0, target 1 − a, flat.
		{"clamp", math.Cos(0.1), -0.3, 0.2, 0.8, 0},
	} {
		got, der := Target(c.cos, c.g, c.a)
		near(t, c.name+" target", got, c.want, 1e-12)
		near(t, c.name+" derivative", der, c.wantDer, 1e-12)
	}
}

// TestMarginOfReportsEachFormHonestly: angular and additive margins are
// reported as themselves; AdaFace's mix as the drop of the target logit,
// not its (negative) angular part.
func TestMarginOfReportsEachFormHonestly(t *testing.T) {
	h := &Head{G: []float64{0.4, 0, -0.2}, A: []float64{0, 0.35, 0.6}, CosY: []float64{0.5, 0.5, 0.6}}
	near(t, "angular", h.MarginOf(0), 0.4, 0)
	near(t, "additive", h.MarginOf(1), 0.35, 0)
	want := 0.6 - (0.6*math.Cos(0.2) + 0.8*math.Sin(0.2) - 0.6)
	near(t, "adaface", h.MarginOf(2), want, 1e-12)
	if want <= 0 {
		t.Fatal("hand value should be a positive drop")
	}
}

// TestBiasesOfEveryLayerAreNotDecayed: with a zero gradient and no
// momentum, one SGD step shrinks weights by lr·wd and leaves every bias,
// the predictor's included, as it was.
func TestBiasesOfEveryLayerAreNotDecayed(t *testing.T) {
	rng := rand.New(rand.NewSource(33))
	bb, err := NewBackbone(Arch{HR: 8, Width: 2, Depth: 1, Embed: 4}, rng)
	if err != nil {
		t.Fatal(err)
	}
	ps := append(bb, NewPredictor(4, rng)...)
	biases := 0
	grads := make([][]float32, len(ps))
	for i, p := range ps {
		for j := range p.Data {
			p.Data[j] = 1
		}
		grads[i] = make([]float32, len(p.Data))
	}
	var opt SGD
	opt.Step(ps, grads, 0.5, 0, 0.1)
	for _, p := range ps {
		bias := len(p.Shape) >= 2 && p.Shape[0] == 1 // a bias is one row per output
		want := float32(1 - 0.5*0.1)
		if bias {
			biases++
			want = 1
		}
		if p.Data[0] != want {
			t.Errorf("%s (bias %v): %v after a decay-only step, want %v", p.Name, bias, p.Data[0], want)
		}
	}
	if biases < 3 {
		t.Fatalf("only %d biases found", biases)
	}
}
