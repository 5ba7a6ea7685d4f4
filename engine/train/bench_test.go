package train

import (
	"testing"

	"github.com/ccface/ccface/engine"
)

// benchEngine prepares the default preset (data included) for step benchmarks.
func benchEngine(b *testing.B, method string) *Engine {
	b.Helper()
	cfg := engine.Default()
	engine.ApplyMethod(&cfg, method)
	data, err := LoadData(cfg)
	if err != nil {
		b.Fatal(err)
	}
	e, err := New(cfg, data, Options{})
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// benchPhase times whole training steps of a phase (data, forward,
// backward, gradient sum, SGD), reporting batch images per second.
func benchPhase(b *testing.B, method, phase string) {
	e := benchEngine(b, method)
	if phase == engine.PhaseStudent {
		e.st.Phase = engine.PhaseStudent
	}
	pr, err := e.startPhase(phase)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.step(pr); err != nil { // first step allocates buffers
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if e.st.PhaseStep >= e.phaseSteps(phase) {
			e.st.PhaseStep = 0
		}
		if _, err := e.step(pr); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(pr.batch*b.N)/b.Elapsed().Seconds(), "img/s")
}

// BenchmarkTeacherStep: default backbone, batch 64, HR views.
func BenchmarkTeacherStep(b *testing.B) { benchPhase(b, "proxyless", engine.PhaseTeacher) }

// BenchmarkStudentStep: proxyless, each image as an LR and an HR view.
func BenchmarkStudentStep(b *testing.B) { benchPhase(b, "proxyless", engine.PhaseStudent) }

// BenchmarkStudentStepCCFace: the full method, plus the teacher's forward
// pass on the HR views and the cross-resolution branch.
func BenchmarkStudentStepCCFace(b *testing.B) { benchPhase(b, "ccface", engine.PhaseStudent) }
