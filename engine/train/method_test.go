package train

import (
	"math"
	"testing"

	"github.com/ccface/ccface/engine"
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
