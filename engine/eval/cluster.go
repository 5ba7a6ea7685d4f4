package eval

import (
	"fmt"
	"math"
)

// ClusterScore is the mean cosine between embeddings of different identities:
// near 0 for a healthy embedding, rising towards 1 as LR faces of different
// people collapse into one cluster. It averages over maxPairs distinct
// different-identity pairs drawn uniformly (deterministic from seed), or over
// all of them when there are no more than maxPairs or maxPairs <= 0. NaN when
// there is no such pair.
func ClusterScore(emb [][]float32, labels []int, maxPairs int, seed int64) float64 {
	if len(emb) != len(labels) {
		panic(fmt.Sprintf("eval.ClusterScore: %d embeddings but %d labels", len(emb), len(labels)))
	}
	flat, d := normalizeFlat(emb, "emb")
	row := func(i int) []float32 { return flat[i*d : (i+1)*d] }
	sp := diffSpace(groupLabels(labels), labels)
	if sp.avail == 0 {
		return math.NaN()
	}
	sum := 0.0
	if maxPairs <= 0 || sp.avail <= int64(maxPairs) {
		// Streamed, not materialised: all pairs of 5,000 images is 12.5M.
		for a, b := range sp.each {
			sum += float64(dot(row(a), row(b)))
		}
		return sum / float64(sp.avail)
	}
	pairs := sampleDistinct(sp, maxPairs, newRand(seed))
	for _, p := range pairs {
		sum += float64(dot(row(p.A), row(p.B)))
	}
	return sum / float64(len(pairs))
}
