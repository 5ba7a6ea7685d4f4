package eval

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// at returns the unit 2-d vector at deg degrees.
func at(deg float64) []float32 {
	r := deg * math.Pi / 180
	return []float32{float32(math.Cos(r)), float32(math.Sin(r))}
}

func TestIdentifyHandWorked(t *testing.T) {
	const A, B, C, D, X, Y = 1, 2, 3, 4, 5, 6
	tests := []struct {
		name        string
		gallery     [][]float32
		gl          []int
		probes      [][]float32
		pl          []int
		r1, r5, r20 float64
		mAP         float64
		cmc         []float64
	}{
		{
			// Gallery A@0, B@90, distractor C@45 (no probes). Probe A@10
			// ranks A,C,B: hit at 1. B@50 ranks C,B,A: 2. A@80 ranks B,C,A:
			// 3. D@0 has no gallery image: skipped, not counted.
			// mAP = (1 + 1/2 + 1/3)/3 = 11/18.
			name:    "three identities and a distractor",
			gallery: [][]float32{at(0), at(90), at(45)},
			gl:      []int{A, B, C},
			probes:  [][]float32{at(10), at(50), at(80), at(0)},
			pl:      []int{A, B, A, D},
			r1:      1.0 / 3, r5: 1, r20: 1, mAP: 11.0 / 18,
			cmc: []float64{1.0 / 3, 2.0 / 3, 1},
		},
		{
			// Gallery A@0, X@20, A@40, Y@60. Probe A@0 ranks A,X,A,Y: mated
			// at 1 and 3, AP = (1/1 + 2/3)/2 = 5/6. Probe A@65 ranks
			// Y,A,X,A: mated at 2 and 4, AP = (1/2 + 2/4)/2 = 1/2.
			// mAP = 2/3; rank-1 = 1/2.
			name:    "two mated gallery images",
			gallery: [][]float32{at(0), at(20), at(40), at(60)},
			gl:      []int{A, X, A, Y},
			probes:  [][]float32{at(0), at(65)},
			pl:      []int{A, A},
			r1:      0.5, r5: 1, r20: 1, mAP: 2.0 / 3,
			cmc: []float64{0.5, 1, 1, 1},
		},
		{
			// Collapsed embeddings: every score ties, and ties rank
			// pessimistically, so A's mate comes after B and C.
			name:    "ties are pessimistic",
			gallery: [][]float32{at(0), at(0), at(0)},
			gl:      []int{B, A, C},
			probes:  [][]float32{at(0)},
			pl:      []int{A},
			r1:      0, r5: 1, r20: 1, mAP: 1.0 / 3,
			cmc: []float64{0, 0, 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Scale the inputs: Identify must not assume unit vectors.
			g := make([][]float32, len(tc.gallery))
			for i, v := range tc.gallery {
				g[i] = []float32{v[0] * 3, v[1] * 3}
			}
			r := Identify(g, tc.gl, tc.probes, tc.pl)
			if !near32(r.Rank1, tc.r1) || !near32(r.Rank5, tc.r5) || !near32(r.Rank20, tc.r20) || !near32(r.MAP, tc.mAP) {
				t.Errorf("got rank1/5/20 %v %v %v mAP %v; want %v %v %v %v",
					r.Rank1, r.Rank5, r.Rank20, r.MAP, tc.r1, tc.r5, tc.r20, tc.mAP)
			}
			if len(r.CMC.Y) != len(tc.cmc) {
				t.Fatalf("CMC %v, want %v", r.CMC.Y, tc.cmc)
			}
			for i, y := range tc.cmc {
				if r.CMC.X[i] != float64(i+1) || !near32(r.CMC.Y[i], y) {
					t.Errorf("CMC at %d: (%v,%v), want (%d,%v)", i, r.CMC.X[i], r.CMC.Y[i], i+1, y)
				}
			}
		})
	}
}

func near32(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestIdentifyNoScorableProbe(t *testing.T) {
	r := Identify([][]float32{{1, 0}}, []int{1}, [][]float32{{1, 0}}, []int{2})
	if !math.IsNaN(r.Rank1) || !math.IsNaN(r.MAP) || len(r.CMC.X) != 0 {
		t.Fatalf("got %+v, want NaN rates", r)
	}
}

// TestIdentifyMatchesSort compares against full sorting of float64 cosines
// on random data, covering the tiled, partial-tile and parallel paths.
func TestIdentifyMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const dim, ids = 16, 40
	gen := func(n int) ([][]float32, []int) {
		vs := make([][]float32, n)
		ls := make([]int, n)
		for i := range vs {
			ls[i] = rng.IntN(ids + 5) // some probe ids absent from the gallery
			vs[i] = make([]float32, dim)
			for k := range vs[i] {
				vs[i][k] = float32(rng.NormFloat64())
			}
			vs[i][ls[i]%dim] += 2
		}
		return vs, ls
	}
	g, gl := gen(120)
	p, pl := gen(203)
	got := Identify(g, gl, p, pl)

	var hits [121]int
	var sumAP float64
	counted := 0
	for i := range p {
		type sc struct {
			s     float64
			mated bool
		}
		var list []sc
		for j := range g {
			list = append(list, sc{Cosine(p[i], g[j]), gl[j] == pl[i]})
		}
		if !slices.ContainsFunc(list, func(x sc) bool { return x.mated }) {
			continue
		}
		slices.SortStableFunc(list, func(a, b sc) int {
			if a.s != b.s {
				if a.s > b.s {
					return -1
				}
				return 1
			}
			return 0
		})
		counted++
		found, ap := 0, 0.0
		for k, x := range list {
			if x.mated {
				if found == 0 {
					hits[k+1]++
				}
				found++
				ap += float64(found) / float64(k+1)
			}
		}
		sumAP += ap / float64(found)
	}
	c := 0
	for r := 1; r <= 50; r++ {
		c += hits[r]
		if !near32(got.CMC.Y[r-1], float64(c)/float64(counted)) {
			t.Fatalf("CMC rank %d: %v, want %v", r, got.CMC.Y[r-1], float64(c)/float64(counted))
		}
	}
	if !near32(got.MAP, sumAP/float64(counted)) {
		t.Fatalf("mAP %v, want %v", got.MAP, sumAP/float64(counted))
	}
}

func BenchmarkIdentify(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	gen := func(n int) ([][]float32, []int) {
		vs := make([][]float32, n)
		ls := make([]int, n)
		for i := range vs {
			ls[i] = rng.IntN(1000)
			vs[i] = make([]float32, 128)
			for k := range vs[i] {
				vs[i][k] = float32(rng.NormFloat64())
			}
		}
		return vs, ls
	}
	g, _ := gen(1000)
	gl := make([]int, 1000)
	for i := range gl {
		gl[i] = i
	}
	p, pl := gen(4000)
	for b.Loop() {
		Identify(g, gl, p, pl)
	}
}
