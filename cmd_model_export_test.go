package main

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ccface/ccface/engine/onnx"
	"github.com/ccface/ccface/engine/onnx/onnxtest"
	"github.com/ccface/ccface/engine/train"
)

// Import → fine-tune → export → import: a copied student, trained by the
// engine from an ONNX teacher, is written back as ONNX with the original
// input and output names and gives the session's embeddings exactly; the
// teacher stays the file it was.
func TestONNXTeacherFineTuneExportRoundTrip(t *testing.T) {
	dir := t.TempDir()
	teacher := filepath.Join(dir, "teacher.onnx")
	if err := onnxtest.WriteRecogniser(teacher, 16, 12, 3); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "sessions")
	args := append([]string{"train", "--headless", "--sessions", root, "--teacher", teacher}, small...)
	args = append(args, "--set", "teacher.epochs=1", "--set", "method=ccface")
	code, out, errs := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("train --teacher exit %d: %s%s", code, out, errs)
	}
	if !strings.Contains(out, "teacher "+teacher+": 16 px, 12-d embeddings") {
		t.Errorf("no line saying what the teacher is:\n%s", out)
	}
	sess := onlySession(t, root)
	if sess.Manifest.Config.Model.TeacherSHA256 == "" {
		t.Error("the session does not record the teacher's sha256")
	}
	exported := filepath.Join(dir, "student.onnx")
	code, out, errs = runCLI(t, "model", "export", sess.Manifest.ID, "--sessions", root, "--onnx", exported)
	if code != 0 || !strings.Contains(out, "wrote "+exported+": the student") {
		t.Fatalf("model export exit %d: %s%s", code, out, errs)
	}

	_, blob, _, err := sess.LatestGoodCheckpoint(-1)
	if err != nil {
		t.Fatal(err)
	}
	inSession, _, _, err := train.CheckpointEmbedder(blob, "student")
	if err != nil {
		t.Fatal(err)
	}
	back, err := onnx.Load(exported)
	if err != nil {
		t.Fatal(err)
	}
	if back.Input.Name != "input" || back.Outputs[0].Name != "output" {
		t.Errorf("exported names %s → %s, want the original input → output", back.Input.Name, back.Outputs[0].Name)
	}
	fromFile, err := train.ONNXEmbedder(back)
	if err != nil {
		t.Fatal(err)
	}
	orig, err := onnx.Load(teacher)
	if err != nil {
		t.Fatal(err)
	}
	fromTeacher, _ := train.ONNXEmbedder(orig)
	embed := func(e train.Embedder) []float32 {
		g, err := e.NewGraph(4)
		if err != nil {
			t.Fatal(err)
		}
		x := g.Input()
		for i := range x {
			x[i] = float32((i*37)%255) / 255 // [0,1] pixels
		}
		e.Prepare(x, 4)
		if err := g.Run(); err != nil {
			t.Fatal(err)
		}
		return slices.Clone(g.Embeddings())
	}
	a, b := unit(embed(inSession)), unit(embed(fromFile))
	for i := range a {
		if d := a[i] - b[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("exported student embeds differently from the session's at %d: %g vs %g", i, b[i], a[i])
		}
	}
	if c := unit(embed(fromTeacher)); slices.Equal(c, b) {
		t.Error("the exported student equals the teacher: fine-tuning changed nothing")
	}
	raw, _ := os.ReadFile(teacher)
	if len(raw) == 0 {
		t.Fatal("teacher file gone")
	}
}

// unit scales each 12-d row of v to unit length (the session's graph
// normalises its embeddings; the ONNX file's output is raw).
func unit(v []float32) []float32 {
	const dim = 12
	out := slices.Clone(v)
	for r := 0; r+dim <= len(out); r += dim {
		var ss float64
		for _, x := range out[r : r+dim] {
			ss += float64(x) * float64(x)
		}
		inv := float32(1 / math.Sqrt(ss+1e-12))
		for k := range out[r : r+dim] {
			out[r+k] *= inv
		}
	}
	return out
}

// compare --teacher FILE.onnx: each seed fits the imported teacher's
// classifier, and the students are judged against its row.
func TestCompareWithONNXTeacher(t *testing.T) {
	dir := t.TempDir()
	teacher := filepath.Join(dir, "teacher.onnx")
	if err := onnxtest.WriteRecogniser(teacher, 16, 12, 5); err != nil {
		t.Fatal(err)
	}
	root, out := filepath.Join(dir, "sessions"), filepath.Join(dir, "cmp")
	args := append([]string{"compare", "--sessions", root, "--teacher", teacher, "--seeds", "1", "--methods", "feature-kd", "--out", out}, small...)
	args = append(args, "--set", "teacher.epochs=1")
	code, stdout, errs := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("compare --teacher FILE.onnx exit %d: %s%s", code, stdout, errs)
	}
	table, err := os.ReadFile(filepath.Join(out, "compare.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range []string{"teacher", "feature-kd"} {
		if !strings.Contains(string(table), "| "+row) {
			t.Errorf("compare.md lacks the %s row:\n%s", row, table)
		}
	}
}
