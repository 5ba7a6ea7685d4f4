package eval

import (
	"math/rand/v2"
	"slices"
	"sort"
)

// Pair is two indices into an evaluation set and whether they share an identity.
type Pair struct {
	A, B int
	Same bool
}

// newRand returns the package's deterministic generator for a seed. The
// second PCG word is fixed so that a seed alone names the stream.
func newRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
}

// groups indexes images by identity: order lists image indices grouped by
// label (labels ascending, indices ascending within a label) and group c
// occupies order[start[c]:start[c+1]]. Sorting makes every later random
// draw independent of map iteration order.
type groups struct {
	labels []int // distinct labels, ascending
	order  []int
	start  []int // len(labels)+1
}

func groupLabels(labels []int) groups {
	order := make([]int, len(labels))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return labels[a] - labels[b] })
	var g groups
	for i, idx := range order {
		if i == 0 || labels[idx] != labels[order[i-1]] {
			g.labels = append(g.labels, labels[idx])
			g.start = append(g.start, i)
		}
	}
	g.start = append(g.start, len(order))
	g.order = order
	return g
}

func (g groups) size(c int) int      { return g.start[c+1] - g.start[c] }
func (g groups) members(c int) []int { return g.order[g.start[c]:g.start[c+1]] }

// pairSpace is a set of unordered image pairs that can be drawn from
// uniformly and enumerated in a fixed order; sampleDistinct needs both.
type pairSpace struct {
	avail int64
	draw  func(r *rand.Rand) (a, b int)   // uniform over the space, a < b
	each  func(yield func(a, b int) bool) // every pair once, a < b
}

// pickWeighted draws c with probability (cum[c+1]-cum[c]) / cum[last]:
// the c with cum[c] <= u < cum[c+1], which skips zero-weight groups.
func pickWeighted(r *rand.Rand, cum []int64) int {
	u := r.Int64N(cum[len(cum)-1])
	return sort.Search(len(cum), func(j int) bool { return cum[j] > u }) - 1
}

func ordered(a, b int) (int, int) {
	if a > b {
		return b, a
	}
	return a, b
}

// sameSpace is all pairs of two different images of one identity.
func sameSpace(g groups) pairSpace {
	cum := make([]int64, len(g.labels)+1)
	for c := range g.labels {
		n := int64(g.size(c))
		cum[c+1] = cum[c] + n*(n-1)/2
	}
	return pairSpace{
		avail: cum[len(cum)-1],
		draw: func(r *rand.Rand) (int, int) {
			m := g.members(pickWeighted(r, cum))
			i, j := r.IntN(len(m)), r.IntN(len(m)-1)
			if j >= i {
				j++
			}
			return ordered(m[i], m[j])
		},
		each: func(yield func(a, b int) bool) {
			for c := range g.labels {
				m := g.members(c)
				for i := range m {
					for j := i + 1; j < len(m); j++ {
						if !yield(m[i], m[j]) {
							return
						}
					}
				}
			}
		},
	}
}

// diffSpace is all pairs of images of two different identities. A draw picks
// the first image's identity with weight n_c(N-n_c), then a uniform image
// outside that identity by indexing around its contiguous block in g.order:
// exact uniformity with no rejection even when one identity dominates.
func diffSpace(g groups, labels []int) pairSpace {
	total := int64(len(g.order))
	cum := make([]int64, len(g.labels)+1)
	for c := range g.labels {
		n := int64(g.size(c))
		cum[c+1] = cum[c] + n*(total-n)
	}
	return pairSpace{
		avail: cum[len(cum)-1] / 2,
		draw: func(r *rand.Rand) (int, int) {
			c := pickWeighted(r, cum)
			m := g.members(c)
			a := m[r.IntN(len(m))]
			k := r.IntN(len(g.order) - len(m))
			if k >= g.start[c] {
				k += len(m)
			}
			return ordered(a, g.order[k])
		},
		each: func(yield func(a, b int) bool) {
			for a := range labels {
				for b := a + 1; b < len(labels); b++ {
					if labels[a] != labels[b] && !yield(a, b) {
						return
					}
				}
			}
		},
	}
}

func pairKey(a, b int) uint64 { return uint64(a)<<32 | uint64(uint32(b)) }

// sampleDistinct draws min(want, avail) distinct pairs uniformly from sp.
// Rejection with a seen-set is cheap while want is at most half the space;
// above that it instead rejects the avail-want pairs to leave out and
// enumerates the rest, so the cost never degenerates into coupon collecting.
func sampleDistinct(sp pairSpace, want int, r *rand.Rand) []Pair {
	if want <= 0 || sp.avail == 0 {
		return nil
	}
	if int64(want) >= sp.avail {
		out := make([]Pair, 0, sp.avail)
		for a, b := range sp.each {
			out = append(out, Pair{A: a, B: b})
		}
		r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		return out
	}
	drawSet := func(k int) (map[uint64]struct{}, []Pair) {
		seen := make(map[uint64]struct{}, k)
		var list []Pair
		for len(seen) < k {
			a, b := sp.draw(r)
			key := pairKey(a, b)
			if _, dup := seen[key]; dup {
				continue
			}
			seen[key] = struct{}{}
			list = append(list, Pair{A: a, B: b})
		}
		return seen, list
	}
	if int64(want)*2 <= sp.avail {
		_, list := drawSet(want)
		return list
	}
	skip, _ := drawSet(int(sp.avail - int64(want)))
	out := make([]Pair, 0, want)
	for a, b := range sp.each {
		if _, s := skip[pairKey(a, b)]; !s {
			out = append(out, Pair{A: a, B: b})
		}
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// MakePairs draws verification pairs over an evaluation set with the given
// identity labels: as many same-identity as different-identity pairs, n/2
// of each when the data has them, each side uniform without replacement,
// never pairing an image with itself and never repeating an unordered pair
// (A < B in every Pair). When one side has fewer pairs than n/2, both sides
// are cut to that count: an unbalanced list lets "always different" score
// the share of different pairs (343 pairs with 43 "same" scored 87.5% for
// a model with no skill), so the result is shorter than n instead.
//
// Same and different pairs are interleaved (same first), so every
// contiguous block of even length, and so every fold of Verify, is
// balanced. The result is a deterministic function of labels, n and seed.
func MakePairs(labels []int, n int, seed int64) []Pair {
	r := newRand(seed)
	g := groupLabels(labels)
	sameSp, diffSp := sameSpace(g), diffSpace(g, labels)
	k := min(int64(n/2), sameSp.avail, diffSp.avail)
	same := sampleDistinct(sameSp, int(k), r)
	diff := sampleDistinct(diffSp, int(k), r)
	for i := range same {
		same[i].Same = true
	}
	return interleave(same, diff)
}

// interleave merges a and b so that after k items round(k*len(a)/total) come
// from a (Bresenham), spreading both kinds evenly along the list.
func interleave(a, b []Pair) []Pair {
	total := int64(len(a) + len(b))
	out := make([]Pair, 0, total)
	ia, ib := 0, 0
	for k := int64(1); k <= total; k++ {
		wantA := (k*int64(len(a)) + total/2) / total
		if int64(ia) < wantA && ia < len(a) {
			out = append(out, a[ia])
			ia++
		} else if ib < len(b) {
			out = append(out, b[ib])
			ib++
		} else {
			out = append(out, a[ia])
			ia++
		}
	}
	return out
}
