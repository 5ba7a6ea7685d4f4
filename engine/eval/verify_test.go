package eval

import (
	"math"
	"math/rand/v2"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestVerifyHandWorked(t *testing.T) {
	S, D := true, false
	tests := []struct {
		name                string
		scores              []float64
		same                []bool
		folds               int
		acc, std, auc       float64
		tar1e2, tar1e3      float64
		checkAcc, checkTARs bool
	}{
		{
			name:   "perfect separation",
			scores: []float64{0.9, 0.1, 0.8, 0.2, 0.95, 0.3, 0.7, 0.15, 0.85, 0.25, 0.75, 0.05},
			same:   []bool{S, D, S, D, S, D, S, D, S, D, S, D},
			folds:  3, acc: 1, std: 0, auc: 1, tar1e2: 1, tar1e3: 1, checkAcc: true, checkTARs: true,
		},
		{
			// Every genuine score is below every impostor score.
			name:   "fully inverted",
			scores: []float64{0.1, 0.9, 0.2, 0.8, 0.3, 0.7},
			same:   []bool{S, D, S, D, S, D},
			folds:  3, auc: 0, tar1e2: 0, tar1e3: 0, checkTARs: true,
		},
		{
			// pos {0.9,0.6}, neg {0.7,0.2}: 3 of 4 orderings right.
			name:   "auc 0.75",
			scores: []float64{0.9, 0.7, 0.6, 0.2},
			same:   []bool{S, D, S, D},
			folds:  1, auc: 0.75,
			// 1 fold: best threshold on all pairs is (0.2+0.6)/2 -> 3/4 right.
			acc: 0.75, std: 0, checkAcc: true,
		},
		{
			// Ties: pos {0.5,0.9}, neg {0.5,0.1}: (2 + 0.5 + 1)/4.
			name:   "tie counts half",
			scores: []float64{0.5, 0.5, 0.9, 0.1},
			same:   []bool{S, D, S, D},
			folds:  2, auc: 0.875,
		},
		{
			// Fold 0 = first 4, fold 1 = last 4.
			// Train on fold 1 (asc 0.3D .35S .5D .8S): correct by position
			// 2,3,2,3,2 -> first best is after 0.3: thr 0.325. Fold 0 at
			// >0.325: 0.9S ok, 0.7D wrong, 0.6S ok, 0.2D ok = 0.75.
			// Train on fold 0 (asc 0.2D .6S .7D .9S): thr 0.4. Fold 1:
			// 0.8S ok, 0.5D wrong, 0.35S wrong, 0.3D ok = 0.5.
			// AUC: pos {.9,.6,.8,.35} beat neg {.7,.2,.5,.3} 4+3+4+2 = 13/16.
			name:   "two folds",
			scores: []float64{0.9, 0.7, 0.6, 0.2, 0.8, 0.5, 0.35, 0.3},
			same:   []bool{S, D, S, D, S, D, S, D},
			folds:  2, acc: 0.625, std: 0.125, auc: 13.0 / 16, checkAcc: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Verify(tc.scores, tc.same, tc.folds)
			if !near(r.AUC, tc.auc) {
				t.Errorf("AUC = %v, want %v", r.AUC, tc.auc)
			}
			if tc.checkAcc && (!near(r.Acc, tc.acc) || !near(r.AccStd, tc.std)) {
				t.Errorf("Acc = %v ± %v, want %v ± %v", r.Acc, r.AccStd, tc.acc, tc.std)
			}
			if tc.checkTARs && (!near(r.TAR1e2, tc.tar1e2) || !near(r.TAR1e3, tc.tar1e3)) {
				t.Errorf("TAR = %v, %v, want %v, %v", r.TAR1e2, r.TAR1e3, tc.tar1e2, tc.tar1e3)
			}
			checkROC(t, r.ROC)
		})
	}
}

func TestVerifyTARAtFAR(t *testing.T) {
	// 100 impostors scoring 0..99. FAR 1e-2 allows 1: threshold is the
	// 2nd highest impostor, 98, so genuine 98.5, 99, 99.5 pass: 3/4.
	// FAR 1e-3 allows 0 (fewer than 1000 impostors): threshold 99, the
	// highest impostor, so only 99.5 passes: 1/4.
	var scores []float64
	var same []bool
	for i := range 100 {
		scores = append(scores, float64(i))
		same = append(same, false)
	}
	scores = append(scores, 98.5, 99, 99.5, 50)
	same = append(same, true, true, true, true)
	r := Verify(scores, same, 10)
	if r.TAR1e2 != 0.75 || r.TAR1e3 != 0.25 {
		t.Fatalf("TAR1e2, TAR1e3 = %v, %v; want 0.75, 0.25", r.TAR1e2, r.TAR1e3)
	}
}

func TestVerifyDegenerate(t *testing.T) {
	r := Verify(nil, nil, 10)
	if !math.IsNaN(r.Acc) || !math.IsNaN(r.AUC) {
		t.Errorf("empty: %+v", r)
	}
	r = Verify([]float64{0.3, 0.4}, []bool{true, true}, 10)
	if !math.IsNaN(r.AUC) || !math.IsNaN(r.TAR1e2) || len(r.ROC.X) != 0 || r.Acc != 1 {
		t.Errorf("no impostors: %+v", r)
	}
	// NaN scores are never matches.
	r = Verify([]float64{math.NaN(), 0.1}, []bool{true, false}, 1)
	if r.AUC != 0 {
		t.Errorf("NaN genuine score: AUC %v, want 0", r.AUC)
	}
}

// TestVerifyMatchesBruteForce checks AUC (pairwise count) and fold accuracy
// (every candidate threshold tried) on random data with many ties.
func TestVerifyMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 30 {
		n := 20 + rng.IntN(200)
		scores := make([]float64, n)
		same := make([]bool, n)
		for i := range n {
			same[i] = rng.IntN(2) == 0
			v := float64(rng.IntN(15)) // coarse values: many ties
			if same[i] {
				v += 3
			}
			scores[i] = v
		}
		folds := 1 + rng.IntN(10)
		r := Verify(scores, same, folds)

		var wins, pairs float64
		for i := range n {
			for j := range n {
				if same[i] && !same[j] {
					pairs++
					switch {
					case scores[i] > scores[j]:
						wins++
					case scores[i] == scores[j]:
						wins += 0.5
					}
				}
			}
		}
		if pairs > 0 && !near(r.AUC, wins/pairs) {
			t.Fatalf("trial %d: AUC %v, brute force %v", trial, r.AUC, wins/pairs)
		}

		k := min(folds, n)
		var mean float64
		for f := range k {
			in := func(i int) bool { return i*k/n == f }
			train := func(i int) bool { return k == 1 || !in(i) }
			acc := func(thr float64, sel func(int) bool) float64 {
				c, tot := 0, 0
				for i := range n {
					if sel(i) {
						tot++
						if (scores[i] > thr) == same[i] {
							c++
						}
					}
				}
				return float64(c) / float64(tot)
			}
			// Positions between distinct training scores, each scored from
			// scratch; the threshold is the midpoint of the first run of
			// equally best positions.
			var vals []float64
			for v := 0; v <= 20; v++ {
				for i := range n {
					if train(i) && scores[i] == float64(v) {
						vals = append(vals, float64(v))
						break
					}
				}
			}
			posThr := func(p int) float64 { // any threshold inside position p
				if p == 0 {
					return math.Inf(-1)
				}
				return vals[p-1] + 0.5
			}
			best, start, end := -1.0, 0, 0
			for p := 0; p <= len(vals); p++ {
				a := acc(posThr(p), train)
				switch {
				case a > best:
					best, start, end = a, p, p
				case a == best && end == p-1:
					end = p
				}
			}
			var bestThr float64
			switch {
			case start == 0:
				bestThr = math.Inf(-1)
			case end == len(vals):
				bestThr = math.Inf(1)
			default:
				bestThr = (vals[start-1] + vals[end]) / 2
			}
			mean += acc(bestThr, func(i int) bool { return k == 1 || in(i) })
		}
		mean /= float64(k)
		if !near(r.Acc, mean) {
			t.Fatalf("trial %d: Acc %v, brute force %v", trial, r.Acc, mean)
		}
		checkROC(t, r.ROC)
	}
}

func TestVerifyLargeROC(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n := 6000
	scores := make([]float64, n)
	same := make([]bool, n)
	for i := range n {
		same[i] = i%2 == 0
		scores[i] = rng.NormFloat64()
		if same[i] {
			scores[i] += 2
		}
	}
	r := Verify(scores, same, 10)
	checkROC(t, r.ROC)
	if len(r.ROC.X) > 200 || len(r.ROC.X) < 150 {
		t.Errorf("ROC has %d points", len(r.ROC.X))
	}
	if r.ROC.X[1] > 2e-3 {
		t.Errorf("low-FAR end not sampled: second point FAR %v", r.ROC.X[1])
	}
	// d' = 2: AUC = Phi(2/sqrt 2) ~ 0.921, accuracy ~ Phi(1) ~ 0.841.
	if math.Abs(r.AUC-0.921) > 0.02 || math.Abs(r.Acc-0.841) > 0.02 {
		t.Errorf("AUC %v, Acc %v", r.AUC, r.Acc)
	}
}

func checkROC(t *testing.T, c Curve) {
	t.Helper()
	n := len(c.X)
	if n == 0 {
		return
	}
	if n > 200 || len(c.Y) != n {
		t.Fatalf("ROC: %d x, %d y", n, len(c.Y))
	}
	if c.X[0] != 0 || c.X[n-1] != 1 || c.Y[n-1] != 1 {
		t.Fatalf("ROC ends: (%v,%v) .. (%v,%v)", c.X[0], c.Y[0], c.X[n-1], c.Y[n-1])
	}
	for i := 1; i < n; i++ {
		if c.X[i] < c.X[i-1] || c.Y[i] < c.Y[i-1] {
			t.Fatalf("ROC not monotone at %d", i)
		}
	}
}

func BenchmarkVerify6000(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	scores := make([]float64, 6000)
	same := make([]bool, 6000)
	for i := range scores {
		same[i] = i%2 == 0
		scores[i] = rng.NormFloat64()
		if same[i] {
			scores[i]++
		}
	}
	for b.Loop() {
		Verify(scores, same, 10)
	}
}
