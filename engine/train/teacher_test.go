package train

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ccface/ccface/datasets"
	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/engine/onnx"
	"github.com/ccface/ccface/engine/onnx/onnxtest"
)

// onnxTeacherConfig is tinyConfig distilling a tiny ONNX recogniser.
func onnxTeacherConfig(t *testing.T, student string) engine.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "teacher.onnx")
	if err := onnxtest.WriteRecogniser(path, 16, 12, 7); err != nil {
		t.Fatal(err)
	}
	cfg := tinyConfig()
	cfg.Model.Teacher, cfg.Model.Student = path, student
	cfg.Teacher.Epochs = 2
	if err := ResolveTeacher(&cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// An ONNX teacher stays frozen: its phase fits the classifier only, from
// the class means; the student (here a native CNN of the teacher's
// embedding size) trains and both are evaluated.
func TestONNXTeacherIsFrozenAndFitsItsClassifier(t *testing.T) {
	cfg := onnxTeacherConfig(t, "native")
	if cfg.Data.HR != 16 || cfg.Model.Embed != 12 || len(cfg.Model.TeacherSHA256) != 64 {
		t.Fatalf("resolved hr %d, embed %d, sha %q", cfg.Data.HR, cfg.Model.Embed, cfg.Model.TeacherSHA256)
	}
	m, err := onnx.Load(cfg.Model.Teacher)
	if err != nil {
		t.Fatal(err)
	}
	file := m.TrainableWeights()
	var saved memorySaver
	e := newTiny(t, cfg, Options{Save: saved.save})
	e.Start(context.Background())
	evs := collect(t, e)
	var evals []string
	for _, ev := range evs {
		switch ev.Kind {
		case engine.KindFailed:
			t.Fatalf("run failed: %s", ev.Message)
		case engine.KindEval:
			evals = append(evals, strings.Fields(ev.Message)[0])
		case engine.KindLog:
			if strings.HasPrefix(ev.Message, "classifier:") && !strings.Contains(ev.Message, "12 training identities") {
				t.Errorf("class-mean log: %q", ev.Message)
			}
		}
	}
	if !slices.Equal(evals, []string{"teacher", "student"}) {
		t.Errorf("evaluations %v, want teacher then student", evals)
	}
	st, _, err := decodeState(saved.last, e.train.NumIDs(), e.archs.teacher)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range st.Teacher {
		if !slices.Equal(p.Data, file[i].Data) {
			t.Errorf("teacher weight %s changed: an imported teacher must stay frozen", p.Name)
		}
	}
	if len(st.Student) == len(file) {
		t.Errorf("native student has the teacher's %d weights: it should be a residual CNN", len(file))
	}
}

// The classifier starts at each identity's unit mean embedding.
func TestONNXTeacherClassifierStartsAtClassMeans(t *testing.T) {
	cfg := onnxTeacherConfig(t, "copy")
	e := newTiny(t, cfg, Options{})
	w := e.st.Classifier
	if err := e.classMeans(w); err != nil {
		t.Fatal(err)
	}
	emb, err := ONNXEmbedder(mustLoad(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	// Recompute identity 0's mean with the plain ONNX runner.
	side := cfg.Data.HR
	var idx []int
	for i := 0; i < e.train.Len(); i++ {
		if e.train.Label(i) == 0 {
			idx = append(idx, i)
		}
	}
	x := make([]float32, len(idx)*3*side*side)
	px := make([]uint8, side*side*3)
	for k, i := range idx {
		if err := e.train.Image(i, side, px); err != nil {
			t.Fatal(err)
		}
		datasets.ToCHW(x[k*3*side*side:(k+1)*3*side*side], px, side)
	}
	emb.Prepare(x, len(idx))
	z, err := embedAll(emb, cfg, x, len(idx))
	if err != nil {
		t.Fatal(err)
	}
	mean := make([]float64, 12)
	for _, v := range z {
		var ss float64
		for _, f := range v {
			ss += float64(f) * float64(f)
		}
		for k, f := range v { // the graph normalises each embedding first
			mean[k] += float64(f) / math.Sqrt(ss)
		}
	}
	var ss float64
	for _, v := range mean {
		ss += v * v
	}
	for k := range mean {
		if d := float64(w.Data[k]) - mean[k]/math.Sqrt(ss); d > 1e-4 || d < -1e-4 {
			t.Fatalf("classifier row 0[%d] = %g, class mean %g", k, w.Data[k], mean[k]/math.Sqrt(ss))
		}
	}
}

// Resume checks the teacher file: moved or changed, it says which file the
// run needs.
func TestONNXTeacherFileIsChecked(t *testing.T) {
	cfg := onnxTeacherConfig(t, "copy")
	data, err := LoadData(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := onnxtest.WriteRecogniser(cfg.Model.Teacher, 16, 12, 8); err != nil { // other weights, same name
		t.Fatal(err)
	}
	if _, err := New(cfg, data, Options{}); err == nil || !strings.Contains(err.Error(), "the file changed") {
		t.Errorf("changed teacher file: %v", err)
	}
	os.Remove(cfg.Model.Teacher)
	if _, err := New(cfg, data, Options{}); err == nil || !strings.Contains(err.Error(), "put it back at that path") {
		t.Errorf("missing teacher file: %v", err)
	}
}

func mustLoad(t *testing.T, cfg engine.Config) *onnx.Model {
	t.Helper()
	m, err := openTeacher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestResolveTeacherRecordsAbsolutePath: a teacher named relative to the
// working directory is recorded absolute, so a resume from elsewhere finds
// it and compare keys the file one way however it was named.
func TestResolveTeacherRecordsAbsolutePath(t *testing.T) {
	dir := t.TempDir()
	if err := onnxtest.WriteRecogniser(filepath.Join(dir, "t.onnx"), 16, 12, 7); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	cfg := engine.Default()
	cfg.Model.Teacher = "t.onnx"
	if err := ResolveTeacher(&cfg); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "t.onnx"); cfg.Model.Teacher != want {
		t.Errorf("model.teacher %q, want %q", cfg.Model.Teacher, want)
	}
}
