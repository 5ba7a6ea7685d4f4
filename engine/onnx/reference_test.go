package onnx

import (
	"encoding/json"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

const sharedModels = "../../../shared/models"

// loadShared loads a model of ../shared/models, skipping when absent.
func loadShared(t testing.TB, file string) *Model {
	t.Helper()
	path := filepath.Join(sharedModels, file)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s is absent (the shared models folder is not on this machine): %v", path, err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// readRGB reads a PNG as CHW RGB in [0,1].
func readRGB(t testing.TB, path string) ([]float32, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	side := b.Dx()
	out := make([]float32, 3*side*side)
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			p := y*side + x
			out[p] = float32(c.R) / 255
			out[side*side+p] = float32(c.G) / 255
			out[2*side*side+p] = float32(c.B) / 255
		}
	}
	return out, side
}

// TestMobileFaceNetMatchesReference runs the shared recogniser on the
// fixture faces in one batch and compares with the outputs an independent
// PyTorch interpretation of the same file gave.
func TestMobileFaceNetMatchesReference(t *testing.T) {
	m := loadShared(t, "mobilefacenet.onnx")
	raw, err := os.ReadFile(filepath.Join(sharedModels, "fixtures", "mobilefacenet_ref.json"))
	if err != nil {
		t.Skipf("reference outputs absent: %v", err)
	}
	var ref struct {
		Images     []string
		Embeddings [][]float64
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	n := len(ref.Images)
	r, err := m.NewRunner(n, 112, 112)
	if err != nil {
		t.Fatal(err)
	}
	img := 3 * 112 * 112
	for i, name := range ref.Images {
		x, side := readRGB(t, filepath.Join(sharedModels, "fixtures", name))
		if side != 112 {
			t.Fatalf("%s is %d px", name, side)
		}
		m.Pre.FromUnit(x, 1, side)
		copy(r.Input()[i*img:], x)
	}
	for run := 0; run < 2; run++ { // the second run reuses every pooled buffer
		if err := r.Run(); err != nil {
			t.Fatal(err)
		}
		if s := r.OutputShape(0); len(s) != 2 || s[0] != n || s[1] != 128 {
			t.Fatalf("output shape %v, want [%d 128]", s, n)
		}
		out := r.Output(0)
		worst := 0.0
		for i := range ref.Embeddings {
			for j, want := range ref.Embeddings[i] {
				worst = math.Max(worst, math.Abs(float64(out[i*128+j])-want))
			}
		}
		t.Logf("run %d: largest difference from the reference %.2g", run, worst)
		if worst > 2e-4 {
			t.Errorf("run %d: outputs differ from the reference by up to %g", run, worst)
		}
	}
}
