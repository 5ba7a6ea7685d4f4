package datasets

import (
	"math"
	"math/rand"
	"testing"
)

func constImage(size int, v float32) []float32 {
	x := make([]float32, 3*size*size)
	for i := range x {
		x[i] = v * float32(1+i/(size*size)) / 3 // a different constant per channel
	}
	return x
}

func TestKernelsKeepConstants(t *testing.T) {
	var r resampler
	for _, k := range Kernels {
		for _, c := range [][2]int{{32, 8}, {32, 7}, {32, 13}, {32, 31}, {5, 32}, {7, 29}, {32, 1}} {
			src := constImage(c[0], 0.6)
			dst := make([]float32, 3*c[1]*c[1])
			r.resize(dst, c[1], c[1], src, c[0], c[0], 3, k)
			for i, v := range dst {
				want := src[(i/(c[1]*c[1]))*c[0]*c[0]]
				if math.Abs(float64(v-want)) > 1e-6 {
					t.Fatalf("%s %d→%d: pixel %d = %v, want the constant %v", k, c[0], c[1], i, v, want)
				}
			}
		}
	}
}

func randomImage(size int, seed uint64) []float32 {
	rng := newRand(seed)
	x := make([]float32, 3*size*size)
	for i := range x {
		x[i] = rng.Float32()
	}
	return x
}

func TestDownUpSameSizeIsIdentity(t *testing.T) {
	src := randomImage(32, 1)
	for _, k := range Kernels {
		dst := make([]float32, len(src))
		DownUp(dst, src, 32, 32, k)
		for i := range src {
			if math.Abs(float64(dst[i]-src[i])) > 1e-6 {
				t.Fatalf("%s: pixel %d %v → %v", k, i, src[i], dst[i])
			}
		}
	}
}

// TestAreaVersusNaiveKernels checks the kernels differ the way the
// degradation relies on: area averages every source pixel, while nearest
// and bilinear skip pixels when shrinking (naive resize, aliasing).
func TestAreaVersusNaiveKernels(t *testing.T) {
	const n = 32
	src := make([]float32, 3*n*n)
	for i := range src {
		if (i%n)%4 == 0 { // a one-pixel vertical line every 4 columns
			src[i] = 1
		}
	}
	var r resampler
	out := map[string]float32{}
	for _, k := range Kernels {
		dst := make([]float32, 3*8*8)
		r.resize(dst, 8, 8, src, n, n, 3, k)
		out[k] = dst[3*8+3]
	}
	if math.Abs(float64(out["area"]-0.25)) > 1e-6 {
		t.Errorf("area 32→8 of 1-in-4 lines = %v, want the mean 0.25", out["area"])
	}
	if out["bilinear"] != 0 || out["nearest"] != 0 {
		t.Errorf("bilinear %v, nearest %v: want 0 (they sample between or beside the lines, unfiltered)", out["bilinear"], out["nearest"])
	}
}

func TestDegradeForcedRatios(t *testing.T) {
	p := DefaultDegrade()
	p.RMin, p.RMax = 0.2, 0.45 // 6.4 and 14.4 px at 32: sides must stay in 7..14
	src := randomImage(32, 2)
	dst := make([]float32, len(src))
	rng := rand.New(rand.NewSource(1))
	seen := map[float64]bool{}
	for i := 0; i < 300; i++ {
		r := Degrade(dst, src, 32, p, true, rng)
		if r < p.RMin || r > p.RMax {
			t.Fatalf("draw %d: ratio %v outside [%v,%v]", i, r, p.RMin, p.RMax)
		}
		seen[r] = true
		for _, v := range dst {
			if v < 0 || v > 1 || math.IsNaN(float64(v)) {
				t.Fatalf("draw %d: value %v outside [0,1]", i, v)
			}
		}
	}
	if len(seen) != 8 {
		t.Errorf("saw %d distinct LR sides, want all 8 of 7..14", len(seen))
	}
}

func TestDegradeBranchAndKnobs(t *testing.T) {
	src := randomImage(32, 3)
	dst := make([]float32, len(src))
	p := DefaultDegrade()
	p.PLR = 0
	if r := Degrade(dst, src, 32, p, false, rand.New(rand.NewSource(1))); r != 1 {
		t.Errorf("p_lr=0: ratio %v, want 1", r)
	}
	for i := range src {
		if dst[i] != src[i] {
			t.Fatal("p_lr=0: the image must pass through unchanged")
		}
	}
	// Every kernel, with and without blur, noise and JPEG, in place.
	for _, k := range append([]string{"random"}, Kernels...) {
		for _, q := range []int{100, 30} {
			p := DefaultDegrade()
			p.Kernel, p.JPEGMin, p.BlurMax, p.NoiseMax = k, q, 2, 0.1
			x := append([]float32(nil), src...)
			a := Degrade(x, x, 32, p, true, rand.New(rand.NewSource(9)))
			y := append([]float32(nil), src...)
			b := Degrade(y, y, 32, p, true, rand.New(rand.NewSource(9)))
			if a != b {
				t.Fatalf("%s q%d: same seed gave ratios %v and %v", k, q, a, b)
			}
			var change float64
			for i := range x {
				if x[i] != y[i] {
					t.Fatalf("%s q%d: same seed gave different images", k, q)
				}
				change += math.Abs(float64(x[i] - src[i]))
			}
			if change == 0 {
				t.Errorf("%s q%d: image unchanged", k, q)
			}
		}
	}
}

func TestAugment(t *testing.T) {
	const n = 8
	src := randomImage(n, 4)
	dst := make([]float32, len(src))
	p := DegradeParams{Flip: 0, Jitter: 0, CropPad: 0}
	Augment(dst, src, n, p, rand.New(rand.NewSource(1)))
	for i := range src {
		if math.Abs(float64(dst[i]-src[i])) > 1e-6 {
			t.Fatal("no-op augmentation changed the image")
		}
	}
	p.Flip = 1
	Augment(dst, src, n, p, rand.New(rand.NewSource(1)))
	for c := 0; c < 3; c++ {
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				if math.Abs(float64(dst[c*n*n+y*n+x]-src[c*n*n+y*n+n-1-x])) > 1e-6 {
					t.Fatalf("flip=1: (%d,%d,%d) not mirrored", c, y, x)
				}
			}
		}
	}
	p = DegradeParams{Flip: 0.5, Jitter: 0.5, CropPad: 3}
	x := append([]float32(nil), src...)
	Augment(x, x, n, p, rand.New(rand.NewSource(2))) // in place
	Augment(dst, src, n, p, rand.New(rand.NewSource(2)))
	for i := range x {
		if x[i] != dst[i] || x[i] < 0 || x[i] > 1 {
			t.Fatalf("in-place augmentation differs or leaves [0,1] at %d: %v vs %v", i, x[i], dst[i])
		}
	}
}

func BenchmarkDegrade(b *testing.B) {
	src := randomImage(32, 5)
	dst := make([]float32, len(src))
	rng := rand.New(rand.NewSource(1))
	var d degrader
	p := DefaultDegrade()
	for b.Loop() {
		d.degrade(dst, src, 32, p, true, rng)
	}
}
