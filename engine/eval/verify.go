package eval

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Curve is a sampled curve, X and Y of equal length.
type Curve struct{ X, Y []float64 }

// VerifyResult holds the verification metrics of one set of scored pairs.
type VerifyResult struct {
	Acc, AccStd    float64 // k-fold accuracy: mean and population std over folds
	AUC            float64 // ROC AUC over all pairs, ties scored as half
	TAR1e2, TAR1e3 float64 // TAR at FAR <= 1e-2 and <= 1e-3
	ROC            Curve   // X: FAR, Y: TAR; at most 200 points from (0,0) to (1,1)
}

// maxROCPoints bounds the stored ROC so results stay small to keep per run.
const maxROCPoints = 200

// Verify scores pairs by similarity (higher means "same identity").
//
// Accuracy follows LFW: the pairs are cut into `folds` contiguous blocks of
// the list as given (block f is pairs [f*n/k, (f+1)*n/k)); for each block a
// threshold is chosen on the other blocks and scored on it. Contiguous blocks
// are balanced when the list is, as MakePairs makes it. The threshold is the
// midpoint of the first (lowest-score) interval between distinct training
// scores that maximises training accuracy, and a pair is "same" when its score
// is strictly above it; when the best interval is unbounded the threshold is
// -Inf (all same) or +Inf (all different). folds is clamped to [1, n]; with
// one fold the threshold is chosen and scored on all pairs (an optimistic
// bound, reported with AccStd 0).
//
// TAR at a FAR f uses the impostor scores sorted descending: with
// k = floor(f*impostors), the threshold is the (k+1)-th highest impostor
// score and a genuine pair is accepted when strictly above it, so at most k
// impostors pass (fewer with ties): the FAR achieved never exceeds f. With
// fewer than 1/f impostors k is 0, the threshold is the highest impostor
// score and the value reported is TAR at FAR 0, a lower bound of the true one.
//
// AUC, TAR and the ROC need both kinds of pair; without them they are NaN
// (ROC empty). NaN scores count as -Inf: a broken embedding is never a match.
func Verify(scores []float64, same []bool, folds int) VerifyResult {
	n := len(scores)
	if len(same) != n {
		panic(fmt.Sprintf("eval.Verify: %d scores but %d labels", n, len(same)))
	}
	nan := math.NaN()
	res := VerifyResult{Acc: nan, AccStd: nan, AUC: nan, TAR1e2: nan, TAR1e3: nan}
	if n == 0 {
		return res
	}
	s := make([]float64, n)
	for i, v := range scores {
		if math.IsNaN(v) {
			v = math.Inf(-1)
		}
		s[i] = v
	}
	// One sort serves every metric: folds scan it, the ROC walks it backwards.
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := cmp.Compare(s[a], s[b]); c != 0 {
			return c
		}
		return a - b
	})

	res.Acc, res.AccStd = foldAccuracy(s, same, order, folds)
	res.AUC, res.ROC = rocAUC(s, same, order)
	res.TAR1e2 = tarAtFAR(s, same, order, 1e-2)
	res.TAR1e3 = tarAtFAR(s, same, order, 1e-3)
	return res
}

// foldAccuracy runs the k-fold protocol; see Verify.
func foldAccuracy(s []float64, same []bool, order []int, folds int) (mean, std float64) {
	n := len(s)
	k := min(max(folds, 1), n)
	fold := make([]int, n)
	for i := range fold {
		fold[i] = i * k / n
	}
	accs := make([]float64, k)
	for f := range k {
		train := func(i int) bool { return k == 1 || fold[i] != f }
		thr := bestThreshold(s, same, order, train)
		correct, total := 0, 0
		for i := range n {
			if k > 1 && fold[i] != f {
				continue
			}
			total++
			if (s[i] > thr) == same[i] {
				correct++
			}
		}
		accs[f] = float64(correct) / float64(total)
	}
	for _, a := range accs {
		mean += a
	}
	mean /= float64(k)
	for _, a := range accs {
		std += (a - mean) * (a - mean)
	}
	return mean, math.Sqrt(std / float64(k))
}

// bestThreshold scans the training pairs in ascending score order. Position p
// predicts the p lowest distinct scores "different" and the rest "same";
// moving past a score group changes the number correct by (#diff - #same) in
// it, so all positions cost one pass.
func bestThreshold(s []float64, same []bool, order []int, train func(int) bool) float64 {
	var vals []float64 // distinct training scores, ascending
	correct := 0       // position 0: everything predicted same
	for _, i := range order {
		if train(i) && same[i] {
			correct++
		}
	}
	best, runStart, runEnd, inRun := correct, 0, 0, true
	for i := 0; i < len(order); {
		v := s[order[i]]
		delta, seen := 0, false
		for ; i < len(order) && s[order[i]] == v; i++ {
			if !train(order[i]) {
				continue
			}
			seen = true
			if same[order[i]] {
				delta--
			} else {
				delta++
			}
		}
		if !seen {
			continue
		}
		vals = append(vals, v)
		correct += delta
		p := len(vals)
		switch {
		case correct > best:
			best, runStart, runEnd, inRun = correct, p, p, true
		case correct == best && inRun:
			runEnd = p
		default:
			inRun = false
		}
	}
	if runStart == 0 || math.IsInf(vals[runStart-1], -1) {
		return math.Inf(-1)
	}
	if runEnd == len(vals) {
		return math.Inf(1)
	}
	lo, hi := vals[runStart-1], vals[runEnd]
	return lo + (hi-lo)/2
}

// rocAUC walks thresholds from high to low, one ROC point per distinct score,
// so tied scores move FAR and TAR together (a diagonal trapezoid segment),
// which is what makes the AUC equal the Mann-Whitney statistic with ties as 1/2.
func rocAUC(s []float64, same []bool, order []int) (float64, Curve) {
	pos, neg := 0, 0
	for _, v := range same {
		if v {
			pos++
		} else {
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return math.NaN(), Curve{}
	}
	xs, ys := []float64{0}, []float64{0}
	tp, fp := 0, 0
	area := 0.0
	for i := len(order) - 1; i >= 0; {
		v := s[order[i]]
		ptp, pfp := tp, fp
		for ; i >= 0 && s[order[i]] == v; i-- {
			if same[order[i]] {
				tp++
			} else {
				fp++
			}
		}
		area += float64(fp-pfp) * float64(tp+ptp) / 2
		xs = append(xs, float64(fp)/float64(neg))
		ys = append(ys, float64(tp)/float64(pos))
	}
	return area / (float64(pos) * float64(neg)), thinCurve(xs, ys, neg)
}

// thinCurve keeps at most maxROCPoints points of a monotone ROC, always the
// first and last. Half are spaced evenly along the curve, half at the first
// point reaching each of a log-spaced grid of FARs from 1/neg to 1: index
// spacing alone would leave the low-FAR end that face verification reads
// (1e-3, 1e-4) with no points at all.
func thinCurve(xs, ys []float64, neg int) Curve {
	n := len(xs)
	if n <= maxROCPoints {
		return Curve{X: xs, Y: ys}
	}
	const half = (maxROCPoints - 2) / 2
	keep := []int{0, n - 1}
	for j := 1; j <= half; j++ {
		keep = append(keep, j*(n-1)/(half+1))
	}
	lo := math.Log10(1 / float64(neg))
	for j := range half {
		t := math.Pow(10, lo*(1-float64(j)/float64(half-1)))
		i, _ := slices.BinarySearch(xs, t*(1-1e-12))
		keep = append(keep, min(i, n-1))
	}
	slices.Sort(keep)
	keep = slices.Compact(keep)
	c := Curve{X: make([]float64, len(keep)), Y: make([]float64, len(keep))}
	for j, i := range keep {
		c.X[j], c.Y[j] = xs[i], ys[i]
	}
	return c
}

// tarAtFAR computes TAR at FAR <= far; see Verify for the threshold rule.
func tarAtFAR(s []float64, same []bool, order []int, far float64) float64 {
	var impostors []float64 // descending
	pos := 0
	for i := len(order) - 1; i >= 0; i-- {
		if same[order[i]] {
			pos++
		} else {
			impostors = append(impostors, s[order[i]])
		}
	}
	if pos == 0 || len(impostors) == 0 {
		return math.NaN()
	}
	// The epsilon keeps e.g. 0.01*300 = 3 from flooring to 2.
	k := int(math.Floor(far*float64(len(impostors)) + 1e-9))
	thr := math.Inf(-1)
	if k < len(impostors) {
		thr = impostors[k]
	}
	acc := 0
	for i, v := range s {
		if same[i] && v > thr {
			acc++
		}
	}
	return float64(acc) / float64(pos)
}
