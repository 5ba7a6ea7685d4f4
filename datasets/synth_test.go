package datasets

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestSyntheticDeterministicAcrossWorkers(t *testing.T) {
	cfg := SynthConfig{Seed: 5, TrainIDs: 7, EvalIDs: 3, PerID: 5, Size: 24}
	t1, e1, err := synthetic(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	t3, e3, err := synthetic(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	if t1.Fingerprint() != t3.Fingerprint() || e1.Fingerprint() != e3.Fingerprint() {
		t.Fatal("1 and 3 workers rendered different sets")
	}
	if t1.Len() != 35 || t1.NumIDs() != 7 || e1.Len() != 15 || e1.NumIDs() != 3 {
		t.Fatalf("train %d images/%d ids, eval %d/%d; want 35/7 and 15/3", t1.Len(), t1.NumIDs(), e1.Len(), e1.NumIDs())
	}
	cfg.Seed = 6
	t2, _, _ := synthetic(cfg, 2)
	if t2.Fingerprint() == t1.Fingerprint() {
		t.Error("seeds 5 and 6 gave the same set")
	}
}

func TestSyntheticIdentitiesDisjoint(t *testing.T) {
	train := synthIdentities(1, tagTrainID, 50)
	eval := synthIdentities(1, tagEvalID, 50)
	for i := range train {
		for j := range eval {
			if reflect.DeepEqual(train[i], eval[j]) {
				t.Fatalf("train identity %d equals eval identity %d", i, j)
			}
		}
	}
}

func TestSynthConfigValidate(t *testing.T) {
	bad := DefaultSynth()
	bad.Size = 2
	if _, _, err := Synthetic(bad); err == nil || !strings.Contains(err.Error(), "data.hr=2") {
		t.Errorf("size 2: got %v, want an error naming data.hr=2", err)
	}
}

// TestRenderAnySize checks that every size renders and that a finer
// rendering, box-averaged down, matches the coarse one: the anti-aliasing
// keeps small features at their true average intensity.
func TestRenderAnySize(t *testing.T) {
	id := RandomIdentity(newRand(42))
	id.Glasses, id.Marks = 1, []Mark{{X: 0.3, Y: 0.3, R: 0.03}}
	p := Pose{Background: [3]float32{0.5, 0.5, 0.5}, Clothes: [3]float32{0.2, 0.3, 0.4}}
	for _, n := range []int{5, 8, 17, 32, 64} {
		if got := len(RenderFace(id, p, n)); got != n*n*3 {
			t.Fatalf("size %d: %d bytes, want %d", n, got, n*n*3)
		}
	}
	coarse, fine := RenderFace(id, p, 16), RenderFace(id, p, 64)
	var diff float64
	for y := 0; y < 16; y++ {
		for x := 0; x < 16; x++ {
			for c := 0; c < 3; c++ {
				var s float64
				for dy := 0; dy < 4; dy++ {
					for dx := 0; dx < 4; dx++ {
						s += float64(fine[((4*y+dy)*64+4*x+dx)*3+c])
					}
				}
				diff += math.Abs(s/16 - float64(coarse[(y*16+x)*3+c]))
			}
		}
	}
	if mean := diff / (16 * 16 * 3); mean > 6 {
		t.Errorf("16 px render differs from the 64 px render averaged down by %.1f levels on average; want < 6", mean)
	}
}

// TestSynthCalibration measures how much identity survives resolution on
// eval identities: rank-1 nearest-neighbour identification on raw pixels,
// one HR gallery image per identity, probes downsampled to side px (area)
// and back. The asserted proxy compares the central face crop with each
// colour channel standardised, because background, clothes and exposure
// change from photo to photo and otherwise dominate raw distances (the
// whole-frame numbers are logged for reference).
func TestSynthCalibration(t *testing.T) {
	const ids, per, size = 100, 6, 32
	_, eval, err := Synthetic(SynthConfig{Seed: 3, TrainIDs: 1, EvalIDs: ids, PerID: per, Size: size})
	if err != nil {
		t.Fatal(err)
	}
	acc := map[int][2]float64{}
	for _, side := range []int{32, 16, 8} {
		var galC, galF, prC, prF [][]float32
		var gl, pl []int
		for k, px := range eval.Pixels {
			x := make([]float32, 3*size*size)
			ToCHW(x, px, size)
			if k%per == 0 {
				galC, galF, gl = append(galC, faceCrop(x, size)), append(galF, x), append(gl, eval.Labels[k])
				continue
			}
			DownUp(x, x, size, side, "area")
			prC, prF, pl = append(prC, faceCrop(x, size)), append(prF, x), append(pl, eval.Labels[k])
		}
		acc[side] = [2]float64{nearestAccuracy(galC, gl, prC, pl), nearestAccuracy(galF, gl, prF, pl)}
		t.Logf("probes at %2d px: rank-1 %.3f on standardised face crops, %.3f on whole frames (chance %.3f)",
			side, acc[side][0], acc[side][1], 1.0/ids)
	}
	if acc[32][0] < acc[8][0]+0.08 || acc[16][0] <= acc[8][0] {
		t.Errorf("identity must fade with resolution: rank-1 %.3f at 32 px, %.3f at 16 px, %.3f at 8 px", acc[32][0], acc[16][0], acc[8][0])
	}
	if acc[8][0] < 3.0/ids {
		t.Errorf("rank-1 %.3f at 8 px: coarse cues should keep it above chance", acc[8][0])
	}
}

// faceCrop cuts the eyes-to-mouth region and standardises each channel.
func faceCrop(x []float32, size int) []float32 {
	y0, y1, x0, x1 := size*9/32, size*27/32, size*7/32, size*25/32
	var out []float32
	for c := 0; c < 3; c++ {
		start := len(out)
		for y := y0; y < y1; y++ {
			out = append(out, x[c*size*size+y*size+x0:c*size*size+y*size+x1]...)
		}
		ch := out[start:]
		var m, v float64
		for _, a := range ch {
			m += float64(a)
		}
		m /= float64(len(ch))
		for _, a := range ch {
			v += (float64(a) - m) * (float64(a) - m)
		}
		sd := math.Sqrt(v/float64(len(ch))) + 1e-6
		for i, a := range ch {
			ch[i] = float32((float64(a) - m) / sd)
		}
	}
	return out
}

func nearestAccuracy(gal [][]float32, gl []int, probes [][]float32, pl []int) float64 {
	hits := 0
	for i, p := range probes {
		best, label := math.Inf(1), -1
		for j, g := range gal {
			var d float64
			for k := range p {
				e := float64(p[k] - g[k])
				d += e * e
			}
			if d < best {
				best, label = d, gl[j]
			}
		}
		if label == pl[i] {
			hits++
		}
	}
	return float64(hits) / float64(len(probes))
}

func BenchmarkSyntheticDefault(b *testing.B) {
	for b.Loop() {
		if _, _, err := Synthetic(SynthConfig{Seed: 1, TrainIDs: 300, EvalIDs: 100, PerID: 30, Size: 32}); err != nil {
			b.Fatal(err)
		}
	}
}
