package eval

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// IdentResult holds open-set identification metrics.
type IdentResult struct {
	Rank1, Rank5, Rank20, MAP float64
	CMC                       Curve // X: rank 1..min(50, gallery size), Y: identification rate
}

// cmcMaxRank bounds the stored CMC; rank 50 is past anything reported.
const cmcMaxRank = 50

// identTile is how many probes share one pass over the gallery: each gallery
// row is loaded once per tile instead of once per probe.
const identTile = 4

// Identify ranks the gallery for each probe by cosine. A probe is correct at
// rank k when a gallery image of its identity is among the top k; MAP is the
// mean over probes of the average precision over that probe's mated gallery
// images. Probes whose identity has no gallery image are skipped and counted
// nowhere. If no probe can be scored every rate is NaN and the CMC is empty.
//
// Ties are ranked pessimistically: a non-mated gallery image scoring exactly
// as high as a mated one is placed before it. Otherwise a collapsed model
// (all embeddings equal, the LR-cluster failure) would score rank-1 = 100%.
//
// No ranking is sorted: with the probe's m mated scores sorted, the position
// of the i-th best mated image is i plus the number of non-mated images
// scoring at least as high, which one pass over the scores gives for all i.
func Identify(gallery [][]float32, galleryLabels []int, probes [][]float32, probeLabels []int) IdentResult {
	if len(gallery) != len(galleryLabels) || len(probes) != len(probeLabels) {
		panic(fmt.Sprintf("eval.Identify: %d gallery / %d labels, %d probes / %d labels",
			len(gallery), len(galleryLabels), len(probes), len(probeLabels)))
	}
	G, dim := normalizeFlat(gallery, "gallery")
	P, pdim := normalizeFlat(probes, "probes")
	if len(gallery) > 0 && len(probes) > 0 && dim != pdim {
		panic(fmt.Sprintf("eval.Identify: gallery dim %d, probe dim %d", dim, pdim))
	}
	mated := make(map[int]int, len(galleryLabels))
	for _, l := range galleryLabels {
		mated[l]++
	}

	// first[p] is the 1-based position of p's best mated image, 0 when p is
	// skipped; ap[p] its average precision. Indexed by probe, so the result
	// does not depend on how work was split.
	first := make([]int, len(probes))
	ap := make([]float64, len(probes))
	tiles := (len(probes) + identTile - 1) / identTile
	workers := min(runtime.GOMAXPROCS(0), max(tiles/8, 1))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := identWorker{
				G: G, P: P, dim: dim, gl: galleryLabels, pl: probeLabels, mated: mated,
				scores: make([]float32, identTile*len(gallery)),
			}
			for {
				t := int(next.Add(1) - 1)
				if t >= tiles {
					return
				}
				w.tile(t*identTile, min((t+1)*identTile, len(probes)), first, ap)
			}
		}()
	}
	wg.Wait()

	nan := math.NaN()
	res := IdentResult{Rank1: nan, Rank5: nan, Rank20: nan, MAP: nan}
	maxRank := min(cmcMaxRank, len(gallery))
	hits := make([]int, len(gallery)+2) // hits[r]: probes first correct at rank r
	counted := 0
	sumAP := 0.0
	for p, r := range first {
		if r == 0 {
			continue
		}
		counted++
		hits[r]++
		sumAP += ap[p]
	}
	if counted == 0 {
		return res
	}
	rate := func(k int) float64 {
		c := 0
		for r := 1; r <= min(k, len(gallery)); r++ {
			c += hits[r]
		}
		return float64(c) / float64(counted)
	}
	res.Rank1, res.Rank5, res.Rank20 = rate(1), rate(5), rate(20)
	res.MAP = sumAP / float64(counted)
	res.CMC = Curve{X: make([]float64, maxRank), Y: make([]float64, maxRank)}
	c := 0
	for r := 1; r <= maxRank; r++ {
		c += hits[r]
		res.CMC.X[r-1] = float64(r)
		res.CMC.Y[r-1] = float64(c) / float64(counted)
	}
	return res
}

// identWorker holds one goroutine's scratch space.
type identWorker struct {
	G, P   []float32
	dim    int
	gl, pl []int
	mated  map[int]int
	scores []float32 // identTile rows of len(gl)
	ms     []float32 // mated scores of one probe, descending
	cnt    []int
}

func (w *identWorker) tile(p0, p1 int, first []int, ap []float64) {
	ng, d := len(w.gl), w.dim
	nt := p1 - p0
	if nt == identTile {
		// Full tile: a 4x2 register block, then any odd last gallery row.
		a := w.P[p0*d : (p0+1)*d]
		b := w.P[(p0+1)*d : (p0+2)*d]
		c := w.P[(p0+2)*d : (p0+3)*d]
		e := w.P[(p0+3)*d : (p0+4)*d]
		g := 0
		for ; g+2 <= ng; g += 2 {
			dot4x2(a, b, c, e, w.G[g*d:(g+1)*d], w.G[(g+1)*d:(g+2)*d], w.scores, ng, g)
		}
		for ; g < ng; g++ {
			w.scores[g], w.scores[ng+g], w.scores[2*ng+g], w.scores[3*ng+g] =
				dot4(a, b, c, e, w.G[g*d:(g+1)*d])
		}
	} else {
		for t := range nt {
			pv := w.P[(p0+t)*d : (p0+t+1)*d]
			for g := range ng {
				w.scores[t*ng+g] = dot(pv, w.G[g*d:(g+1)*d])
			}
		}
	}
	for t := range nt {
		p := p0 + t
		if w.mated[w.pl[p]] == 0 {
			continue
		}
		first[p], ap[p] = w.rankProbe(w.scores[t*ng:(t+1)*ng], w.pl[p])
	}
}

// rankProbe returns the position of the best mated image and the AP.
func (w *identWorker) rankProbe(sc []float32, label int) (int, float64) {
	w.ms = w.ms[:0]
	for g, v := range sc {
		if w.gl[g] == label {
			w.ms = append(w.ms, v)
		}
	}
	ms := w.ms
	slices.SortFunc(ms, func(a, b float32) int {
		switch {
		case a > b:
			return -1
		case a < b:
			return 1
		}
		return 0
	})
	m := len(ms)
	w.cnt = slices.Grow(w.cnt[:0], m+1)[:m+1]
	clear(w.cnt)
	low := ms[m-1]
	// cnt[i] collects non-mated scores x whose first mated s_i <= x is i;
	// a prefix sum then gives, for each i, how many non-mated are >= s_i.
	for g, x := range sc {
		if x < low || w.gl[g] == label {
			continue
		}
		i := 0
		if m > 1 {
			lo, hi := 0, m-1
			for lo < hi { // first i with ms[i] <= x
				mid := (lo + hi) / 2
				if ms[mid] <= x {
					hi = mid
				} else {
					lo = mid + 1
				}
			}
			i = lo
		}
		w.cnt[i]++
	}
	ahead, sum, firstPos := 0, 0.0, 0
	for i := range m {
		ahead += w.cnt[i]
		pos := i + 1 + ahead
		if i == 0 {
			firstPos = pos
		}
		sum += float64(i+1) / float64(pos)
	}
	return firstPos, sum / float64(m)
}

// dot4 computes four probe rows against one gallery row in one pass over g.
func dot4(a, b, c, e, g []float32) (float32, float32, float32, float32) {
	n := len(g)
	a, b, c, e = a[:n], b[:n], c[:n], e[:n]
	var sa, sb, sc, se float32
	var ta, tb, tc, te float32
	i := 0
	for ; i+2 <= n; i += 2 {
		x, y := g[i], g[i+1]
		sa += a[i] * x
		sb += b[i] * x
		sc += c[i] * x
		se += e[i] * x
		ta += a[i+1] * y
		tb += b[i+1] * y
		tc += c[i+1] * y
		te += e[i+1] * y
	}
	for ; i < n; i++ {
		x := g[i]
		sa += a[i] * x
		sb += b[i] * x
		sc += c[i] * x
		se += e[i] * x
	}
	return sa + ta, sb + tb, sc + tc, se + te
}

// dot4x2 scores four probe rows against two gallery rows g and h, writing
// row t's scores to out[t*stride+col] and out[t*stride+col+1]. Eight
// accumulators reuse each loaded value twice or four times, which fits the
// amd64 register file without spilling.
func dot4x2(a, b, c, e, g, h, out []float32, stride, col int) {
	n := len(g)
	a, b, c, e, h = a[:n], b[:n], c[:n], e[:n], h[:n]
	var ag, bg, cg, eg, ah, bh, ch, eh float32
	for i, x := range g {
		y := h[i]
		pa, pb, pc, pe := a[i], b[i], c[i], e[i]
		ag += pa * x
		bg += pb * x
		cg += pc * x
		eg += pe * x
		ah += pa * y
		bh += pb * y
		ch += pc * y
		eh += pe * y
	}
	out[col], out[col+1] = ag, ah
	out[stride+col], out[stride+col+1] = bg, bh
	out[2*stride+col], out[2*stride+col+1] = cg, ch
	out[3*stride+col], out[3*stride+col+1] = eg, eh
}
