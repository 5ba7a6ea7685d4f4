package nn

import (
	"fmt"
	"math"
)

// sinFloor bounds sin θ away from 0 in the derivative of cos(θ+g): near
// θ=0 the exact derivative blows up, and every margin implementation clamps.
const sinFloor = 1e-3

// Target is the margin-softmax target logit (before the scale) for cosine c:
// cos(θ+g) − a with θ = acos c. g is the angular margin, a the additive one:
// ArcFace is (m, 0), CosFace (0, m), AdaFace (−m·ẑ, m·ẑ+m). Past θ+g > π it
// uses ArcFace's fallback c − g·sin g − a, which keeps the target decreasing
// in θ; below θ+g < 0 (negative AdaFace margins) the angle is clamped to 0.
// It returns the target and its derivative with respect to c.
func Target(c, g, a float64) (t, dtdc float64) {
	c = math.Max(-1, math.Min(1, c))
	theta := math.Acos(c)
	phi := theta + g
	switch {
	case g > 0 && phi > math.Pi:
		return c - g*math.Sin(g) - a, 1
	case phi < 0:
		return 1 - a, 0
	}
	sin := math.Max(math.Sqrt(math.Max(0, 1-c*c)), sinFloor)
	return math.Cos(phi) - a, math.Cos(g) + c*math.Sin(g)/sin
}

// SampleStat is what a margin policy may look at for one sample, read from
// the current forward pass.
type SampleStat struct {
	CosY float64   // cosine to the sample's own class
	Norm float64   // feature norm before normalisation
	Emb  []float32 // unit embedding (valid during the call only)
}

// MarginFunc returns the angular margin g and additive margin a of sample i
// of the current run. Margins are constants to the gradient (detached), as in
// ArcFace and AdaFace.
type MarginFunc func(i int, s SampleStat) (g, a float64)

// Head holds what the margin cross-entropy needs besides the cosines, and
// what it measured. The caller sets the inputs before each run; the outputs
// are valid until the next run.
type Head struct {
	// Inputs.
	Labels  []int
	Weights []float32 // per-sample loss weight; the loss is Σ w_i·CE_i
	Scale   float64
	Margin  MarginFunc

	// Outputs of the last forward pass.
	Loss   float64
	CE     []float64 // per-sample cross-entropy
	CosY   []float64 // cosine to the own class
	G, A   []float64 // margins used
	Pred   []int     // argmax of the cosines (no margin)
	norms  []float32 // feature norms, filled by the embedding normaliser
	emb    []float32 // unit embeddings of this run, filled by the graph
	embDim int
	prob   []float64 // softmax probabilities, kept for the backward pass
	dtdc   []float64
}

// MarginOf is the margin sample i got in the last forward pass, as one
// number for reports: the angular margin (radians) when there is no
// additive part, the additive one (cosine) when there is no angular part.
// A margin with both (AdaFace's, whose angular part is negative for
// high-quality samples) is reported as what it does, the drop of the target
// logit cos θ_y − (cos(θ_y+g) − a) in cosine units: never negative, where
// the angular part alone would be.
func (h *Head) MarginOf(i int) float64 {
	g, a := h.G[i], h.A[i]
	switch {
	case a == 0:
		return g
	case g == 0:
		return a
	}
	t, _ := Target(h.CosY[i], g, a)
	return h.CosY[i] - t
}

func (h *Head) forward(cos []float32, n, classes int) (float64, error) {
	if len(h.Labels) != n || len(h.Weights) != n {
		return 0, fmt.Errorf("nn: head has %d labels and %d weights for %d samples", len(h.Labels), len(h.Weights), n)
	}
	h.CE = resize(h.CE, n)
	h.CosY = resize(h.CosY, n)
	h.G = resize(h.G, n)
	h.A = resize(h.A, n)
	h.dtdc = resize(h.dtdc, n)
	h.prob = resize(h.prob, n*classes)
	if cap(h.Pred) < n {
		h.Pred = make([]int, n)
	}
	h.Pred = h.Pred[:n]
	var total float64
	for i := 0; i < n; i++ {
		y := h.Labels[i]
		if y < 0 || y >= classes {
			return 0, fmt.Errorf("nn: label %d of sample %d outside 0..%d", y, i, classes-1)
		}
		row := cos[i*classes : (i+1)*classes]
		cy := float64(row[y])
		stat := SampleStat{CosY: cy}
		if h.norms != nil {
			stat.Norm = float64(h.norms[i])
		}
		if h.emb != nil {
			stat.Emb = h.emb[i*h.embDim : (i+1)*h.embDim]
		}
		g, a := 0.0, 0.0
		if h.Margin != nil {
			g, a = h.Margin(i, stat)
		}
		t, d := Target(cy, g, a)
		h.CosY[i], h.G[i], h.A[i], h.dtdc[i] = cy, g, a, d

		p := h.prob[i*classes : (i+1)*classes]
		best, maxLogit := 0, math.Inf(-1)
		for j, c := range row {
			l := h.Scale * float64(c)
			if j == y {
				l = h.Scale * t
			}
			p[j] = l
			maxLogit = math.Max(maxLogit, l)
			if c > row[best] {
				best = j
			}
		}
		h.Pred[i] = best
		var sum float64
		for j := range p {
			p[j] = math.Exp(p[j] - maxLogit)
			sum += p[j]
		}
		for j := range p {
			p[j] /= sum
		}
		ce := -math.Log(math.Max(p[y], 1e-300))
		h.CE[i] = ce
		total += float64(h.Weights[i]) * ce
	}
	h.Loss = total
	return total, nil
}

// backward writes dLoss/dcos scaled by the upstream gradient g.
func (h *Head) backward(out []float32, g float64, n, classes int) {
	for i := 0; i < n; i++ {
		y := h.Labels[i]
		k := g * float64(h.Weights[i]) * h.Scale
		p := h.prob[i*classes : (i+1)*classes]
		o := out[i*classes : (i+1)*classes]
		for j := range p {
			o[j] = float32(k * p[j])
		}
		o[y] = float32(k * (p[y] - 1) * h.dtdc[i])
	}
}

func resize(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}
