package engine

import (
	"math"
	"testing"
)

func TestSmooth(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []struct {
		name string
		in   []float64
		w    float64
		want []float64
	}{
		{"weight 0 is raw", []float64{3, 1, 2}, 0, []float64{3, 1, 2}},
		{"negative weight is raw", []float64{3, 1}, -0.5, []float64{3, 1}},
		{"NaN weight is raw", []float64{3, 1}, nan, []float64{3, 1}},
		{"empty", nil, 0.6, []float64{}},
		// Debiasing: the first value is itself, not (1-w)*x.
		{"first value kept", []float64{10}, 0.9, []float64{10}},
		{"constant stays constant", []float64{2, 2, 2, 2}, 0.6, []float64{2, 2, 2, 2}},
		// s1 = 0.5*0 → 0/(1-0.5) = 0; s2 = 0.5*0 + 0.5*1 = 0.5 → 0.5/(1-0.25).
		{"step", []float64{0, 1}, 0.5, []float64{0, 2.0 / 3}},
		// s3 = 0.5*0.5 + 0.5*1 = 0.75 → 0.75/(1-0.125).
		{"three", []float64{0, 1, 1}, 0.5, []float64{0, 2.0 / 3, 0.75 / 0.875}},
		// Non-finite values pass through and do not enter the average.
		{"non-finite skipped", []float64{2, nan, inf, 4}, 0.5, []float64{2, nan, inf, 2.5 / 0.75}},
		{"weight capped below 1", []float64{5, 7}, 1.5, []float64{5, (0.999*0.001*5 + 0.001*7) / (1 - 0.999*0.999)}},
	} {
		got := Smooth(c.in, c.w)
		if len(got) != len(c.want) {
			t.Fatalf("%s: len %d, want %d", c.name, len(got), len(c.want))
		}
		for i := range got {
			g, w := got[i], c.want[i]
			if math.IsNaN(w) && math.IsNaN(g) || g == w || math.Abs(g-w) < 1e-12 {
				continue
			}
			t.Errorf("%s: [%d] = %v, want %v", c.name, i, g, w)
		}
	}
	in := []float64{1, 2}
	Smooth(in, 0.5)
	if in[0] != 1 || in[1] != 2 {
		t.Error("Smooth changed its input")
	}
}

func TestSmoothRestartsAtPhase(t *testing.T) {
	got := SmoothSegments([]float64{0, 0, 10, 10}, []int{1, 1, 2, 2}, 0.9)
	want := []float64{0, 0, 10, 10}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Fatalf("got %v, want %v: the average must not carry across a phase change", got, want)
		}
	}
}
