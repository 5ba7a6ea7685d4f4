package train

import (
	"math"
	"testing"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/engine/nn"
)

// studentStepAt runs the forward and backward pass of the first student
// step of cfg (no update) and returns the batch's loss, its cross-resolution
// part and the summed gradients.
func studentStepAt(t *testing.T, cfg engine.Config) (loss, acr float64, grads [][]float32) {
	t.Helper()
	e := newTiny(t, cfg, Options{})
	e.st.AgreeMean = 0.3 // the agreement policy in its adaptive regime
	pr, err := e.startPhase(engine.PhaseStudent)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.loader.Close()
	pr.data = pr.batches.take(fillKey{aug: cfg.Hyper.Aug, wantLR: true})
	if err := e.prepareStudentStep(pr, cfg.Hyper.Margin); err != nil {
		t.Fatal(err)
	}
	if err := forwardBackward(pr); err != nil {
		t.Fatal(err)
	}
	for _, net := range pr.nets {
		loss += net.Head.Loss + net.ACR.Loss
		acr += net.ACR.Loss
	}
	for _, g := range pr.sum {
		grads = append(grads, append([]float32(nil), g...))
	}
	return loss, acr, grads
}

// TestStudentStepIsTheSameForAnyReplicaCount: the loss and gradients of a
// batch do not depend on how many graph replicas it is split over: the
// mean-entropy term sees the whole batch's mean prediction (and the support
// set is the whole batch), so a 2-core and a 16-core machine run one method.
func TestStudentStepIsTheSameForAnyReplicaCount(t *testing.T) {
	for _, mode := range []string{"prototype", "support", "simsiam"} {
		t.Run(mode, func(t *testing.T) {
			cfg := tinyConfig()
			engine.ApplyMethod(&cfg, "ccface")
			cfg.Hyper.ACR = mode
			cfg.Hyper.Eps, cfg.Hyper.Lambda, cfg.Hyper.ACRScale, cfg.Hyper.Temp = 2, 3, 8, 0.5
			var refLoss, refACR float64
			var ref [][]float32
			for _, r := range []int{1, 2, 4} {
				cfg.Replicas = r
				loss, acr, grads := studentStepAt(t, cfg)
				if r == 1 {
					refLoss, refACR, ref = loss, acr, grads
					if acr == 0 {
						t.Fatal("cross-resolution loss is zero")
					}
					continue
				}
				if math.Abs(loss-refLoss) > 1e-5*math.Abs(refLoss) || math.Abs(acr-refACR) > 1e-5*math.Abs(refACR)+1e-7 {
					t.Fatalf("%d replicas: loss %v (cross-resolution %v), 1 replica: %v (%v)", r, loss, acr, refLoss, refACR)
				}
				for i := range ref {
					var scale float64
					for _, v := range ref[i] {
						scale = math.Max(scale, math.Abs(float64(v)))
					}
					for j, v := range grads[i] {
						if d := math.Abs(float64(v - ref[i][j])); d > 1e-4*scale+1e-7 {
							t.Fatalf("%d replicas: gradient %d[%d] = %v, 1 replica: %v", r, i, j, v, ref[i][j])
						}
					}
				}
			}
		})
	}
}

func nearT(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.9g, want %.9g", what, got, want)
	}
}

// The targets' expected values were computed by hand (a few lines of
// Python): z = [[.6 .8 0] [0 .6 .8]], s_A = 4, T = 0.5.

func TestPrototypeTargetsHandValues(t *testing.T) {
	w := &nn.Param{Shape: []int{3, 3}, Data: []float32{2, 0, 0, 0, 0, 3, 1, 1, 0}} // rows not unit: unitRows must normalise
	got := prototypeTargets(nil, []float32{0.6, 0.8, 0, 0, 0.6, 0.8}, unitRows(w), 3, 4, 0.5)
	want := []float64{0.042291415, 0.000348048, 0.957360537, 0.001580695, 0.951333246, 0.047086059}
	for i, v := range want {
		nearT(t, "target", float64(got[i]), v, 1e-6)
	}
}

func TestSupportTargetsHandValues(t *testing.T) {
	support := []float32{1, 0, 0, 0, 1, 0, 0, 0.6, 0.8}
	class, classes := nn.SupportClasses(nil, []int{7, 3, 7})
	got := supportTargets(nil, []float32{0.6, 0.8, 0, 0, 0.6, 0.8}, support, class, classes, 3, 4, 0.5)
	want := []float64{0.346004147, 0.653995853, 0.962177685, 0.037822315}
	for i, v := range want {
		nearT(t, "target", float64(got[i]), v, 1e-6)
	}
}

func TestAgreementMarginHandValues(t *testing.T) {
	for _, c := range []struct{ c, mean, want float64 }{
		{0.15, 0.3, 0.1 + 0.3*0.25}, // half the running mean, γ = 2: a quarter of the way up
		{0.45, 0.3, 0.4},            // above the mean: the full margin
		{-0.2, 0.3, 0.1},            // disagreeing: the floor
		{0.15, 0, 0.4},              // no running mean yet: the full margin
	} {
		nearT(t, "agreement margin", agreementMargin(0.4, 0.1, 2, c.c, c.mean), c.want, 1e-12)
	}
	nearT(t, "floor above m", agreementMargin(0.05, 0.1, 2, -1, 0.3), 0.05, 1e-12) // during the ramp m < m_min
	nearT(t, "running mean", runningMean(0.5, 0.7, 0.1), 0.52, 1e-12)
	nearT(t, "running mean unset", runningMean(0, 0.7, 0.1), 0.7, 1e-12)
}

// TestStudentMarginPerPolicyAndHead: the policy picks m_i for LR views
// (the HR views keep m); the teacher's head gives it its form.
func TestStudentMarginPerPolicyAndHead(t *testing.T) {
	const m = 0.4
	teacher := []float32{1, 0, 0, 1} // two samples' unit HR embeddings, dim 2
	ratios := []float32{0.25, 0.5}
	lrStat := nn.SampleStat{Emb: []float32{0.6, 0.8}, Norm: 12} // cos to sample 0's teacher: 0.6
	for _, c := range []struct {
		policy, head string
		i            int // 0: an LR view; 2: an HR view
		g, a         float64
	}{
		{"fixed", "arcface", 0, m, 0},
		{"fixed", "cosface", 0, 0, m},
		{"resolution", "arcface", 0, m * 0.25, 0},
		{"resolution", "cosface", 0, 0, m * 0.25},
		{"agreement", "arcface", 0, 0.1 + 0.3*0.5, 0}, // c/ā = 0.6/1.2, γ = 1
		{"agreement", "cosface", 0, 0, 0.1 + 0.3*0.5},
		{"resolution", "arcface", 2, m, 0},
		{"resolution", "cosface", 2, 0, m},
		// AdaFace: ẑ = (12−10)/(4+0.001)·0.333 on the student's LR statistics.
		{"fixed", "adaface", 0, -m * 2 / 4.001 * 0.333, m + m*2/4.001*0.333},
		{"quality", "arcface", 0, -m * 2 / 4.001 * 0.333, m + m*2/4.001*0.333},
		// HR views of an AdaFace student use the teacher's HR statistics (12 = its mean: ẑ = 0).
		{"fixed", "adaface", 2, 0, m},
	} {
		cfg := engine.Default()
		cfg.Hyper.Policy, cfg.Hyper.Head, cfg.Hyper.Gamma, cfg.Hyper.MarginMin = c.policy, c.head, 1, 0.1
		e := &Engine{cfg: cfg, st: &state{AgreeMean: 1.2, StudentAdaMean: 10, StudentAdaStd: 4, AdaMean: 12, AdaStd: 3}}
		g, a := e.studentMargin(m, 2, teacher, ratios, 2)(c.i, lrStat)
		nearT(t, c.policy+"/"+c.head+" angular", g, c.g, 1e-7)
		nearT(t, c.policy+"/"+c.head+" additive", a, c.a, 1e-7)
	}
}

// preparedStudent is a student phase with its first step prepared.
func preparedStudent(t *testing.T, cfg engine.Config) (*Engine, *phaseRun) {
	t.Helper()
	e := newTiny(t, cfg, Options{})
	pr, err := e.startPhase(engine.PhaseStudent)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pr.loader.Close)
	pr.data = pr.batches.take(fillKey{aug: cfg.Hyper.Aug, wantLR: true})
	if err := e.prepareStudentStep(pr, cfg.Hyper.Margin); err != nil {
		t.Fatal(err)
	}
	return e, pr
}

// TestStudentStepWiring: the loss weights are 1/B on LR views and α/B on
// HR views; the cross-resolution targets of each replica come from the
// teacher's HR embeddings of that replica's own samples (embedded here
// independently, by the evaluation path), through the normalised frozen
// classifier with s_A and T.
func TestStudentStepWiring(t *testing.T) {
	for _, mode := range []string{"prototype", "simsiam"} {
		cfg := tinyConfig()
		engine.ApplyMethod(&cfg, "ccface")
		cfg.Hyper.ACR, cfg.Hyper.Alpha, cfg.Hyper.ACRScale, cfg.Hyper.Temp = mode, 0.3, 8, 0.5
		e, pr := preparedStudent(t, cfg)
		b, per, dim := pr.batch, pr.per, cfg.Model.Embed
		img := 3 * cfg.Data.HR * cfg.Data.HR
		hr := append([]float32(nil), pr.data.HR[:b*img]...)
		tEmb, err := embedAll(Backbone{e.st.Teacher, arch(cfg)}, cfg, hr, b)
		if err != nil {
			t.Fatal(err)
		}
		w := e.st.Classifier
		for r, net := range pr.nets {
			for i, v := range net.Head.Weights {
				want := 1 / float64(b)
				if i >= per {
					want *= 0.3
				}
				nearT(t, "loss weight", float64(v), want, 1e-9)
			}
			for i := 0; i < per; i++ {
				z := tEmb[r*per+i]
				if mode == "simsiam" {
					for k := 0; k < dim; k++ {
						nearT(t, "simsiam target", float64(net.ACR.Targets[i*dim+k]), float64(z[k]), 1e-5)
					}
					continue
				}
				classes := w.Shape[0]
				logits := make([]float64, classes)
				var sum float64
				for j := range logits {
					var dot, ww float64
					for k := 0; k < dim; k++ {
						dot += float64(z[k]) * float64(w.Data[j*dim+k])
						ww += float64(w.Data[j*dim+k]) * float64(w.Data[j*dim+k])
					}
					logits[j] = math.Exp(8 * dot / math.Sqrt(ww) / 0.5)
					sum += logits[j]
				}
				for j, l := range logits {
					nearT(t, "prototype target", float64(net.ACR.Targets[i*classes+j]), l/sum, 1e-4)
				}
			}
		}
	}
}
