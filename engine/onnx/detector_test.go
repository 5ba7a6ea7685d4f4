package onnx

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// pattern is bench/torch_onnx.py's deterministic test input:
// sin(0.05·x + 0.07·y + c), the same for every image.
func pattern(x []float32, n, c, h, w int) {
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			for y := 0; y < h; y++ {
				for xx := 0; xx < w; xx++ {
					x[((i*c+ch)*h+y)*w+xx] = float32(math.Sin(0.05*float64(xx) + 0.07*float64(y) + float64(ch)))
				}
			}
		}
	}
}

// TestSCRFDMatchesTorch runs the shared detector at a size that is not a
// multiple of its strides (odd maps: ceil-mode pooling, nearest upsampling
// to a lateral's shape) and compares all nine outputs with an independent
// PyTorch interpretation of the file (testdata/scrfd_100x72.json, written by
// bench/torch_onnx.py --ref).
func TestSCRFDMatchesTorch(t *testing.T) {
	m := loadShared(t, "scrfd_2.5g_bnkps.onnx")
	raw, err := os.ReadFile("testdata/scrfd_100x72.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Outputs []struct {
			Name  string
			Shape []int
			Data  []float64
		}
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	r, err := m.NewRunner(1, 100, 72)
	if err != nil {
		t.Fatal(err)
	}
	pattern(r.Input(), 1, 3, 100, 72)
	if err := r.Run(); err != nil {
		t.Fatal(err)
	}
	if r.Outputs() != len(ref.Outputs) {
		t.Fatalf("%d outputs, the reference has %d", r.Outputs(), len(ref.Outputs))
	}
	for i, o := range ref.Outputs {
		if !sameShape(r.OutputShape(i), o.Shape) {
			t.Fatalf("output %s: shape %v, want %v", o.Name, r.OutputShape(i), o.Shape)
		}
		worst := 0.0
		for j, want := range o.Data {
			worst = math.Max(worst, math.Abs(float64(r.Output(i)[j])-want)/(1+math.Abs(want)))
		}
		if worst > 1e-4 {
			t.Errorf("output %s differs from the reference by up to %g", o.Name, worst)
		}
	}
}

// TestSCRFDRunsAt640 checks the detector's output shapes at its usual input
// size: per stride s, (640/s)² cells × 2 anchors of scores, boxes and 5
// keypoints.
func TestSCRFDRunsAt640(t *testing.T) {
	if testing.Short() {
		t.Skip("a 640×640 detector pass takes a few seconds")
	}
	m := loadShared(t, "scrfd_2.5g_bnkps.onnx")
	r, err := m.NewRunner(1, 640, 640)
	if err != nil {
		t.Fatal(err)
	}
	pattern(r.Input(), 1, 3, 640, 640)
	if err := r.Run(); err != nil {
		t.Fatal(err)
	}
	i := 0
	for _, per := range []int{1, 4, 10} {
		for _, s := range []int{8, 16, 32} {
			want := []int{(640 / s) * (640 / s) * 2, per}
			if got := r.OutputShape(i); !sameShape(got, want) {
				t.Errorf("output %d: shape %v, want %v", i, got, want)
			}
			i++
		}
	}
	for j, v := range r.Output(0) {
		if v < 0 || v > 1 || math.IsNaN(float64(v)) {
			t.Fatalf("score %d is %g, want a probability", j, v)
		}
	}
}
