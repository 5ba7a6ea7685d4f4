package train

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ccface/ccface/engine"
)

// tinyConfig is a run small enough for a unit test.
func tinyConfig() engine.Config {
	c := engine.Preset("tiny")
	c.Data.TrainIDs, c.Data.EvalIDs, c.Data.PerID, c.Data.HR = 12, 6, 8, 16
	c.Model.Width, c.Model.Depth, c.Model.Embed = 4, 1, 16
	// A constant margin, so the loss curve compares like with like.
	c.Teacher = engine.PhaseConfig{Epochs: 8, Batch: 16, LRWarmup: 0.5}
	c.Hyper.Margin = 0.2
	c.Student = engine.PhaseConfig{Epochs: 2, Batch: 16}
	c.Eval.LRSizes = []int{6}
	c.Eval.Pairs = 100
	c.Hyper.Aug.RMin, c.Hyper.Aug.RMax = 0.3, 0.6
	c.Replicas = 2
	return c
}

func collect(t *testing.T, e *Engine) []engine.Event {
	t.Helper()
	var all []engine.Event
	timeout := time.After(5 * time.Minute)
	for {
		select {
		case batch, ok := <-e.Events():
			if !ok {
				return all
			}
			all = append(all, batch...)
		case <-timeout:
			t.Fatal("run did not finish")
		}
	}
}

func newTiny(t *testing.T, cfg engine.Config, opts Options) *Engine {
	t.Helper()
	data, err := LoadData(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, data, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestTinyRunLowersLossAndEvaluatesBothPhases(t *testing.T) {
	e := newTiny(t, tinyConfig(), Options{})
	e.Start(context.Background())
	evs := collect(t, e)
	var teacherLoss []float64
	evals := 0
	for _, ev := range evs {
		switch ev.Kind {
		case engine.KindPoint:
			if ev.Phase == engine.PhaseTeacher {
				teacherLoss = append(teacherLoss, ev.Values[engine.MLoss])
			}
		case engine.KindEval:
			evals++
			if _, ok := ev.Values[engine.EvalKey("hr", engine.ERank1)]; !ok {
				t.Errorf("eval event without hr.rank1: %v", ev.Values)
			}
		case engine.KindFailed:
			t.Fatalf("run failed: %s", ev.Message)
		}
	}
	if last := evs[len(evs)-1]; last.Kind != engine.KindDone || last.Message != "finished" {
		t.Fatalf("last event %+v, want done/finished", last)
	}
	if evals != 2 {
		t.Errorf("%d eval events, want one per phase", evals)
	}
	n := len(teacherLoss)
	if n < 10 {
		t.Fatalf("only %d teacher steps", n)
	}
	first, last := mean(teacherLoss[:n/5]), mean(teacherLoss[n-n/5:])
	if !(last < first) {
		t.Fatalf("teacher loss did not fall: %.3f -> %.3f", first, last)
	}
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// TestEveryMethodTrainsAndKeepsTheTeacherFrozen runs each student method
// briefly: it must finish, report its terms, and leave the teacher's
// weights and the inherited classifier bit-identical.
func TestEveryMethodTrainsAndKeepsTheTeacherFrozen(t *testing.T) {
	for _, method := range engine.Methods {
		t.Run(method, func(t *testing.T) {
			cfg := tinyConfig()
			cfg.Teacher.Epochs, cfg.Student.Epochs = 1, 1
			engine.ApplyMethod(&cfg, method)
			if method == "ccface" {
				cfg.Hyper.ACRTarget = "student"
			}
			saved := &memorySaver{}
			e := newTiny(t, cfg, Options{Save: saved.save})
			e.Start(context.Background())
			var sawACR, sawTS, sawHist bool
			for batch := range e.Events() {
				for _, ev := range batch {
					if ev.Kind == engine.KindFailed {
						t.Fatalf("failed: %s", ev.Message)
					}
					if ev.Kind == engine.KindPoint && ev.Phase == engine.PhaseStudent {
						_, sawACR = ev.Values[engine.MLossACR]
						_, ts := ev.Values[engine.MTeacherStudentCos]
						sawTS = sawTS || ts
						_, h := ev.Curves[engine.CurveMarginHist]
						sawHist = sawHist || h
					}
				}
			}
			teacherEnd := saved.blobs[e.phaseSteps(engine.PhaseTeacher)]
			before, _, err := decodeState(teacherEnd, e.train.NumIDs(), e.archs.teacher)
			if err != nil {
				t.Fatal(err)
			}
			after, _, err := decodeState(saved.last, e.train.NumIDs(), e.archs.teacher)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(before.Classifier.Data, after.Classifier.Data) {
				t.Error("the inherited classifier W_T changed during the student phase")
			}
			for i := range before.Teacher {
				if !slices.Equal(before.Teacher[i].Data, after.Teacher[i].Data) {
					t.Errorf("teacher weight %s changed during the student phase", before.Teacher[i].Name)
				}
			}
			if method != "teacher" && slices.Equal(before.Teacher[0].Data, after.Student[0].Data) {
				t.Error("the student did not train")
			}
			wantACR := cfg.Hyper.ACR != "off" && method != "arcface-aug"
			if method != "teacher" && sawACR != wantACR {
				t.Errorf("loss_acr reported: %v, want %v", sawACR, wantACR)
			}
			twoView := method != "teacher" && method != "arcface-aug"
			if sawTS != twoView {
				t.Errorf("ts_cos reported: %v, want %v", sawTS, twoView)
			}
			if sawHist != twoView {
				t.Errorf("margin histogram reported: %v, want %v", sawHist, twoView)
			}
		})
	}
}

// TestAdaptivePoliciesSetPerSampleMargins: each adaptive policy yields
// margins between 0 and m that vary across samples.
func TestAdaptivePoliciesSetPerSampleMargins(t *testing.T) {
	for _, policy := range []string{"agreement", "resolution", "quality"} {
		t.Run(policy, func(t *testing.T) {
			cfg := tinyConfig()
			cfg.Teacher.Epochs, cfg.Student.Epochs = 1, 1
			engine.ApplyMethod(&cfg, "ccface")
			cfg.Hyper.Policy = policy
			e := newTiny(t, cfg, Options{})
			e.Start(context.Background())
			var margins, spreads []float64
			for batch := range e.Events() {
				for _, ev := range batch {
					if ev.Kind == engine.KindPoint && ev.Phase == engine.PhaseStudent {
						margins = append(margins, ev.Values[engine.MMargin])
						spreads = append(spreads, ev.Values[engine.MMarginStd])
					}
				}
			}
			if len(margins) == 0 {
				t.Fatal("no student steps")
			}
			for i, m := range margins {
				if i == 0 && policy != "resolution" { // no running statistics yet: uniform
					continue
				}
				if policy == "agreement" {
					// Measured against the running mean agreement, and this
					// 1-epoch teacher's LR and HR embeddings agree to 1e-4:
					// the margins sit at m within rounding (their formula
					// is checked by TestAgreementMarginHandValues).
					if lo := min(cfg.Hyper.MarginMin, cfg.Hyper.Margin); m < lo || m > cfg.Hyper.Margin+1e-9 {
						t.Fatalf("step %d: mean margin %v, want inside [%v, %v]", i, m, lo, cfg.Hyper.Margin)
					}
					continue
				}
				if policy != "quality" && (m <= 0 || m >= cfg.Hyper.Margin) {
					t.Fatalf("step %d: mean margin %v, want strictly inside (0, %v)", i, m, cfg.Hyper.Margin)
				}
				if spreads[i] <= 0 {
					t.Fatalf("step %d: margins do not vary across samples (mean %v)", i, m)
				}
			}
		})
	}
}
