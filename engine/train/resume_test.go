package train

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ccface/ccface/engine"
)

// memorySaver keeps every checkpoint blob by step.
type memorySaver struct {
	mu    sync.Mutex
	blobs map[int64][]byte
	last  []byte
}

func (m *memorySaver) save(step int64, blob []byte) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.blobs == nil {
		m.blobs = map[int64][]byte{}
	}
	m.blobs[step] = slices.Clone(blob)
	m.last = m.blobs[step]
	return "memory", nil
}

func pointsAfter(evs []engine.Event, step int64) map[int64]map[string]float64 {
	out := map[int64]map[string]float64{}
	for _, ev := range evs {
		if ev.Kind == engine.KindPoint && ev.Step > step {
			v := maps(ev.Values)
			delete(v, engine.MImgPerSec) // wall-clock dependent
			out[ev.Step] = v
		}
	}
	return out
}

func maps(m map[string]float64) map[string]float64 {
	c := make(map[string]float64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// TestResumeIsExact: a run resumed from any checkpoint, in either phase,
// ends with bit-identical weights and records identical metrics, with the
// knob changes made before the checkpoint still in effect.
func TestResumeIsExact(t *testing.T) {
	checkResumeIsExact(t, tinyConfig())
}

// A run distilling an ONNX teacher into a copy of it resumes exactly too:
// the copy's weights, through the imported graph's backward passes.
func TestResumeIsExactWithONNXTeacher(t *testing.T) {
	checkResumeIsExact(t, onnxTeacherConfig(t, "copy"))
}

func checkResumeIsExact(t *testing.T, cfg engine.Config) {
	t.Helper()
	cfg.Teacher.Epochs, cfg.Student.Epochs = 2, 2
	cfg.Hyper.Checkpoint = engine.CheckpointConfig{EverySteps: 4, Keep: 100}
	full := &memorySaver{}
	a := newTiny(t, cfg, Options{Save: full.save})
	if err := a.SetKnob("margin", "0.3", "test"); err != nil {
		t.Fatal(err)
	}
	a.Start(context.Background())
	evsA := collect(t, a)
	teacherSteps := a.phaseSteps(engine.PhaseTeacher)
	for _, at := range []int64{4, teacherSteps + 4} {
		blob, ok := full.blobs[at]
		if !ok {
			t.Fatalf("no checkpoint at step %d (have %d)", at, len(full.blobs))
		}
		resumed := &memorySaver{}
		b := newTiny(t, cfg, Options{Save: resumed.save})
		if err := b.Restore(blob); err != nil {
			t.Fatal(err)
		}
		if got := b.Config().Hyper.Margin; got != 0.3 {
			t.Fatalf("resumed at %d with margin %v, want the changed 0.3", at, got)
		}
		b.Start(context.Background())
		evsB := collect(t, b)
		stA, _, err := decodeState(full.last, a.train.NumIDs(), a.archs.teacher)
		if err != nil {
			t.Fatal(err)
		}
		stB, _, err := decodeState(resumed.last, b.train.NumIDs(), b.archs.teacher)
		if err != nil {
			t.Fatal(err)
		}
		for name, pair := range map[string][2][]float32{
			"classifier": {stA.Classifier.Data, stB.Classifier.Data},
		} {
			if !slices.Equal(pair[0], pair[1]) {
				t.Fatalf("resumed at %d: %s differs", at, name)
			}
		}
		for i := range stA.Student {
			if !slices.Equal(stA.Student[i].Data, stB.Student[i].Data) || !slices.Equal(stA.Teacher[i].Data, stB.Teacher[i].Data) {
				t.Fatalf("resumed at %d: weights of %s differ", at, stA.Student[i].Name)
			}
		}
		pa, pb := pointsAfter(evsA, at), pointsAfter(evsB, at)
		if len(pa) == 0 || len(pa) != len(pb) {
			t.Fatalf("resumed at %d: %d points after it, full run has %d", at, len(pb), len(pa))
		}
		for step, va := range pa {
			vb := pb[step]
			for k, x := range va {
				if vb[k] != x {
					t.Fatalf("resumed at %d: step %d %s = %v, full run %v", at, step, k, vb[k], x)
				}
			}
		}
	}
}

// TestResumeRepeatsNothing: a run resumed from a checkpoint announces no
// phase it was already in, does not evaluate a finished phase again (a
// fork at the end of the teacher phase listed the teacher twice), and a
// finished run logs its final checkpoint once.
func TestResumeRepeatsNothing(t *testing.T) {
	cfg := tinyConfig()
	cfg.Teacher.Epochs, cfg.Student.Epochs = 2, 1
	cfg.Hyper.Checkpoint = engine.CheckpointConfig{EverySteps: 4, Keep: 100}
	full := &memorySaver{}
	a := newTiny(t, cfg, Options{Save: full.save})
	a.Start(context.Background())
	evsA := collect(t, a)
	final := evsA[len(evsA)-1].Step
	if n := countKind(evsA, engine.KindCheckpoint, final); n != 1 {
		t.Errorf("%d checkpoints logged at the final step %d, want 1", n, final)
	}
	teacherSteps := a.phaseSteps(engine.PhaseTeacher)
	for _, at := range []int64{4, teacherSteps} {
		b := newTiny(t, cfg, Options{Save: (&memorySaver{}).save})
		if err := b.Restore(full.blobs[at]); err != nil {
			t.Fatal(err)
		}
		b.Start(context.Background())
		var phases, evals []string
		for _, ev := range collect(t, b) {
			switch ev.Kind {
			case engine.KindPhase:
				phases = append(phases, fmt.Sprintf("%s@%d", ev.Phase, ev.Step))
			case engine.KindEval:
				evals = append(evals, strings.Fields(ev.Message)[0])
			}
		}
		wantPhases := []string{fmt.Sprintf("student@%d", teacherSteps)}
		wantEvals := []string{"teacher", "student"}
		if at == teacherSteps {
			wantEvals = wantEvals[1:]
		}
		if !slices.Equal(phases, wantPhases) || !slices.Equal(evals, wantEvals) {
			t.Errorf("resumed at %d: phase events %v, evaluations %v; want %v and %v", at, phases, evals, wantPhases, wantEvals)
		}
	}
}

func countKind(evs []engine.Event, kind engine.Kind, step int64) int {
	n := 0
	for _, ev := range evs {
		if ev.Kind == kind && ev.Step == step {
			n++
		}
	}
	return n
}
