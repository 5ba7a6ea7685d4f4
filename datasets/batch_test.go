package datasets

import (
	"math"
	"runtime"
	"slices"
	"testing"
)

func testSet(t testing.TB) *Set {
	t.Helper()
	train, _, err := Synthetic(SynthConfig{Seed: 2, TrainIDs: 10, EvalIDs: 1, PerID: 5, Size: 16})
	if err != nil {
		t.Fatal(err)
	}
	return train
}

func fillWith(procs int, set *Set, epoch, index int, p DegradeParams, hrPLR float64) Batch {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	var b Batch
	NewLoader(set, 8, 11).Fill(&b, epoch, index, p, hrPLR, true)
	return b
}

func TestFillDeterministicAcrossGOMAXPROCS(t *testing.T) {
	set := testSet(t)
	p := DefaultDegrade()
	a := fillWith(1, set, 3, 2, p, 0.5)
	b := fillWith(2, set, 3, 2, p, 0.5)
	c := fillWith(4, set, 3, 2, p, 0.5)
	for _, o := range []Batch{b, c} {
		if !slices.Equal(a.HR, o.HR) || !slices.Equal(a.LR, o.LR) || !slices.Equal(a.Labels, o.Labels) ||
			!slices.Equal(a.Ratios, o.Ratios) || !slices.Equal(a.HRRatios, o.HRRatios) {
			t.Fatal("the same (seed, epoch, index) gave different batches with different GOMAXPROCS")
		}
	}
	// The teacher's batch (hrPLR 0) sees the same augmentation and LR views.
	teacher := fillWith(2, set, 3, 2, p, 0)
	if !slices.Equal(teacher.LR, a.LR) || !slices.Equal(teacher.Ratios, a.Ratios) {
		t.Error("hrPLR changed the LR views; they must come from their own stream")
	}
}

func TestFillOrderAndViews(t *testing.T) {
	set := testSet(t)
	l := NewLoader(set, 8, 11)
	if l.StepsPerEpoch() != 6 {
		t.Fatalf("50 images in batches of 8: %d steps, want 6 (ragged batch dropped)", l.StepsPerEpoch())
	}
	o0 := slices.Clone(l.order(0))
	o1 := slices.Clone(l.order(1))
	if slices.Equal(o0, o1) {
		t.Error("epochs 0 and 1 have the same order")
	}
	if s := slices.Sorted(slices.Values(o0)); s[0] != 0 || s[len(s)-1] != 49 || len(slices.Compact(s)) != 50 {
		t.Error("epoch order is not a permutation")
	}
	if !slices.Equal(o0, slices.Clone(NewLoader(set, 8, 11).order(0))) {
		t.Error("same seed, different order")
	}

	p := DefaultDegrade()
	var b Batch
	l.Fill(&b, 0, 5, p, 0, true)
	if b.N != 8 || b.Size != 16 || len(b.HR) != 8*3*16*16 || len(b.LR) != len(b.HR) {
		t.Fatalf("batch N=%d Size=%d len(HR)=%d len(LR)=%d", b.N, b.Size, len(b.HR), len(b.LR))
	}
	for i := 0; i < b.N; i++ {
		if b.Labels[i] != set.Labels[o0[5*8+i]] {
			t.Errorf("sample %d: label %d, want %d", i, b.Labels[i], set.Labels[o0[5*8+i]])
		}
		if r := float64(b.Ratios[i]); r < p.RMin-1e-6 || r > p.RMax+1e-6 {
			t.Errorf("sample %d: LR ratio %v outside [%v,%v]", i, r, p.RMin, p.RMax)
		}
		if b.HRRatios[i] != 1 {
			t.Errorf("sample %d: HR ratio %v with hrPLR 0, want 1", i, b.HRRatios[i])
		}
	}
	for _, v := range append(slices.Clone(b.HR), b.LR...) {
		if v < -1 || v > 1 || math.IsNaN(float64(v)) {
			t.Fatalf("value %v outside [-1,1]", v)
		}
	}

	// Buffers are reused; an HR-only batch leaves LR empty.
	hr0, lab0 := &b.HR[0], &b.Labels[0]
	l.Fill(&b, 1, 0, p, 1, false)
	if &b.HR[0] != hr0 || &b.Labels[0] != lab0 {
		t.Error("Fill reallocated buffers that were large enough")
	}
	if len(b.LR) != 0 {
		t.Errorf("wantLR=false left %d LR values", len(b.LR))
	}
	for i, r := range b.HRRatios {
		if r < float32(p.RMin)-1e-6 || r > float32(p.RMax)+1e-6 || b.Ratios[i] != 1 {
			t.Errorf("hrPLR=1 sample %d: HR ratio %v, LR ratio %v", i, r, b.Ratios[i])
		}
	}
}

func TestToCHWAndNormalise(t *testing.T) {
	x := make([]float32, 3)
	ToCHW(x, []uint8{0, 255, 51}, 1)
	if x[0] != 0 || x[1] != 1 || math.Abs(float64(x[2])-0.2) > 1e-6 {
		t.Errorf("ToCHW = %v, want [0 1 0.2]", x)
	}
	Normalise(x)
	if x[0] != -1 || x[1] != 1 || math.Abs(float64(x[2])+0.6) > 1e-6 {
		t.Errorf("Normalise = %v, want [-1 1 -0.6]", x)
	}
	// HWC → CHW layout on a 2×2 image.
	img := make([]uint8, 12)
	for i := range img {
		img[i] = uint8(i)
	}
	y := make([]float32, 12)
	ToCHW(y, img, 2)
	if y[1]*255 != 3 || y[4]*255 != 1 || y[11]*255 != 11 {
		t.Errorf("CHW layout wrong: %v", y)
	}
}

func BenchmarkFill64(b *testing.B) {
	train, _, err := Synthetic(SynthConfig{Seed: 2, TrainIDs: 20, EvalIDs: 1, PerID: 10, Size: 32})
	if err != nil {
		b.Fatal(err)
	}
	l := NewLoader(train, 64, 1)
	var batch Batch
	p := DefaultDegrade()
	for i := 0; b.Loop(); i++ {
		l.Fill(&batch, i/3, i%3, p, 0, true)
	}
}
