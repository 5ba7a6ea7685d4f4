package train

import (
	"math"
	"testing"

	"github.com/ccface/ccface/datasets"
	"github.com/ccface/ccface/engine"
)

// Stub faces for the evaluation wiring: 4 identities × 2 images at 16 px.
// Each image says what it is: its red channel is a constant coding its
// index, its green channel a pixel checkerboard (which an 8 px view
// averages away: HR or LR), its blue channel bright on the left half only
// (which a flip moves to the right).
const stubSide = 16

var (
	stubLabels = []int{0, 0, 1, 1, 2, 2, 3, 3}
	stubAngles = []float64{0, 60, 150, 250} // degrees, per identity
	stubLRAs   = []int{0, 2, 1, 3}          // an LR view of identity y looks like HR identity stubLRAs[y]
)

func stubSet() *datasets.Set {
	set := &datasets.Set{Size: stubSide, Labels: stubLabels}
	for i := range stubLabels {
		px := make([]uint8, stubSide*stubSide*3)
		for y := 0; y < stubSide; y++ {
			for x := 0; x < stubSide; x++ {
				o := 3 * (y*stubSide + x)
				px[o] = uint8(30 + 25*i)
				px[o+1] = uint8(255 * ((x + y) % 2))
				if x < stubSide/2 {
					px[o+2] = 255
				}
			}
		}
		set.Pixels = append(set.Pixels, px)
	}
	return set
}

// stubEmbed reads each image's marks: an HR image of identity y embeds to
// (cos a_y, sin a_y, 0, 0); an LR one to (cos a, sin a, 1, 0)/√2 with
// a = a_{stubLRAs[y]} (confused and pulled together: the LR cluster); a
// flipped image to (0, 0, 0, 1) whatever it shows.
func stubEmbed(x []float32, n int) ([][]float32, error) {
	pp := stubSide * stubSide
	out := make([][]float32, n)
	for i := range out {
		img := x[i*3*pp : (i+1)*3*pp]
		var red, dev, left, right float64
		for o := 0; o < pp; o++ {
			red += float64(img[o]) / float64(pp)
			dev += math.Abs(float64(img[pp+o])) / float64(pp)
			if o%stubSide < stubSide/2 {
				left += float64(img[2*pp+o])
			} else {
				right += float64(img[2*pp+o])
			}
		}
		if right > left {
			out[i] = []float32{0, 0, 0, 1}
			continue
		}
		index := int(math.Round(((red+1)/2*255 - 30) / 25))
		y := stubLabels[index]
		if dev > 0.5 { // the checkerboard is intact: an HR view
			a := stubAngles[y] * math.Pi / 180
			out[i] = []float32{float32(math.Cos(a)), float32(math.Sin(a)), 0, 0}
			continue
		}
		a := stubAngles[stubLRAs[y]] * math.Pi / 180
		out[i] = []float32{float32(math.Cos(a) / math.Sqrt2), float32(math.Sin(a) / math.Sqrt2), float32(1 / math.Sqrt2), 0}
	}
	return out, nil
}

// hrCluster is the mean cosine of the HR embeddings over the 24 pairs of
// different identities: 4 image pairs per pair of identities.
func hrCluster() float64 {
	var sum float64
	for a := range stubAngles {
		for b := a + 1; b < len(stubAngles); b++ {
			sum += 4 * math.Cos((stubAngles[a]-stubAngles[b])*math.Pi/180)
		}
	}
	return sum / 24
}

// TestEvaluationWiring scores stub embeddings with known answers: probes
// of every view are ranked against the HR gallery (LR probes of
// identities 1 and 2 look like each other's HR faces: rank-1 1/2, their
// mates at ranks 2 and 3), the cluster score is each view's own, and flip
// TTA adds each image's flipped twin's embedding.
func TestEvaluationWiring(t *testing.T) {
	cfg := tinyConfig()
	cfg.Data.HR, cfg.Eval.LRSizes = stubSide, []int{8}
	proto := Protocol{Identify: true, Gallery: []int{0, 2, 4, 6}, Probes: []int{1, 3, 5, 7}}
	lr := engine.LRView(8)
	for _, tta := range []bool{false, true} {
		cfg.Eval.FlipTTA = tta
		values, _, err := evaluateWith(cfg.Data.HR, func(x []float32, _ int) { datasets.Normalise(x) }, stubEmbed, cfg, stubSet(), proto)
		if err != nil {
			t.Fatal(err)
		}
		// Adding the flipped twin's (0,0,0,1) to unit vectors halves
		// (1 + cosine): cosines c become (c+1)/2 within a view.
		hr, lrc := hrCluster(), (hrCluster()+1)/2
		if tta {
			hr, lrc = (hr+1)/2, (lrc+1)/2
		}
		for _, c := range []struct {
			view, metric string
			want         float64
		}{
			{"hr", engine.ERank1, 1},
			{"hr", engine.EMAP, 1},
			{"hr", engine.ECluster, hr},
			{lr, engine.ERank1, 0.5},
			{lr, engine.ERank5, 1},
			{lr, engine.EMAP, (1 + 1.0/2 + 1.0/3 + 1) / 4},
			{lr, engine.ECluster, lrc},
		} {
			key := engine.EvalKey(c.view, c.metric)
			got, ok := values[key]
			if !ok || math.Abs(got-c.want) > 1e-6 {
				t.Errorf("flip TTA %v: %s = %v (reported %v), want %v", tta, key, got, ok, c.want)
			}
		}
	}
}
