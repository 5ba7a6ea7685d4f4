package eval

import (
	"math"
	"slices"
	"testing"
)

// idLabels returns counts[i] images of identity i, identities interleaved so
// indices and labels are not trivially aligned.
func idLabels(counts ...int) []int {
	var ls []int
	for round := 0; ; round++ {
		added := false
		for id, c := range counts {
			if round < c {
				ls = append(ls, id)
				added = true
			}
		}
		if !added {
			return ls
		}
	}
}

func TestMakePairs(t *testing.T) {
	tests := []struct {
		name           string
		labels         []int
		n              int
		wantSame, diff int
	}{
		// 10 ids x 5: 100 same pairs available, 50 asked (rejection path).
		{"balanced", idLabels(5, 5, 5, 5, 5, 5, 5, 5, 5, 5), 100, 50, 50},
		// 4 ids x 3: 12 same pairs, 9 asked (leave-out path); 54 different.
		{"dense same", idLabels(3, 3, 3, 3), 18, 9, 9},
		// 3 ids x 2: only 3 same pairs; the different side is cut to match.
		{"few same", idLabels(2, 2, 2), 20, 3, 3},
		// 12 different pairs exist but only 9 same: 9 of each.
		{"few different", idLabels(4, 3), 80, 9, 9},
		{"odd n", idLabels(5, 5, 5), 7, 3, 3},
		// No different pairs: no balanced list at all.
		{"one identity", idLabels(4), 10, 0, 0},
		{"empty", nil, 10, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps := MakePairs(tc.labels, tc.n, 42)
			if !slices.Equal(ps, MakePairs(tc.labels, tc.n, 42)) {
				t.Fatal("not deterministic")
			}
			same, diff := 0, 0
			seen := map[[2]int]bool{}
			for _, p := range ps {
				if p.A >= p.B {
					t.Fatalf("pair %v not A < B (or self pair)", p)
				}
				if seen[[2]int{p.A, p.B}] {
					t.Fatalf("duplicate pair %v", p)
				}
				seen[[2]int{p.A, p.B}] = true
				if p.Same != (tc.labels[p.A] == tc.labels[p.B]) {
					t.Fatalf("pair %v has wrong Same", p)
				}
				if p.Same {
					same++
				} else {
					diff++
				}
			}
			if same != tc.wantSame || diff != tc.diff {
				t.Fatalf("%d same, %d different; want %d, %d", same, diff, tc.wantSame, tc.diff)
			}
		})
	}
}

func TestMakePairsSeedAndBalance(t *testing.T) {
	labels := idLabels(6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6)
	a, b := MakePairs(labels, 200, 1), MakePairs(labels, 200, 2)
	if slices.Equal(a, b) {
		t.Fatal("different seeds gave the same pairs")
	}
	// Every contiguous fold of 20 must hold 10 of each kind.
	for f := 0; f < 200; f += 20 {
		s := 0
		for _, p := range a[f : f+20] {
			if p.Same {
				s++
			}
		}
		if s != 10 {
			t.Fatalf("fold at %d has %d same pairs", f, s)
		}
	}
}

// TestSampleUniform checks that the diff-pair sampler is uniform even when
// one identity dominates, by drawing many single pairs.
func TestSampleUniform(t *testing.T) {
	labels := idLabels(6, 1, 2)
	g := groupLabels(labels)
	sp := diffSpace(g, labels)
	if sp.avail != 6*3+1*2 {
		t.Fatalf("avail %d", sp.avail)
	}
	r := newRand(3)
	count := map[[2]int]int{}
	const draws = 40000
	for range draws {
		a, b := sp.draw(r)
		count[[2]int{a, b}]++
	}
	if len(count) != int(sp.avail) {
		t.Fatalf("drew %d distinct pairs, want %d", len(count), sp.avail)
	}
	want := float64(draws) / float64(sp.avail)
	for p, c := range count {
		if labels[p[0]] == labels[p[1]] || math.Abs(float64(c)-want) > 5*math.Sqrt(want) {
			t.Fatalf("pair %v drawn %d times, expected ~%v", p, c, want)
		}
	}
}

func TestMakeSplit(t *testing.T) {
	// 20 identities with 1..6 images.
	counts := make([]int, 20)
	for i := range counts {
		counts[i] = 1 + i%6
	}
	labels := idLabels(counts...)
	tests := []struct {
		name       string
		labels     []int
		per        int
		share      float64
		wantDistr  int
		wantProbes bool
	}{
		{"20 ids, 20%", labels, 1, 0.2, 4, true},
		{"20 ids, 2 per id", labels, 2, 0.2, 4, true},
		{"no distractors", labels, 1, 0, 0, true},
		{"3 ids, tiny share", idLabels(3, 3, 3), 1, 0.01, 1, true},
		{"share 1 keeps one probe id", idLabels(3, 3, 3), 1, 0.99, 2, true},
		{"all distractors", idLabels(3, 3), 1, 1, 2, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := MakeSplit(tc.labels, tc.per, tc.share, 5)
			s2 := MakeSplit(tc.labels, tc.per, tc.share, 5)
			if !slices.Equal(s.Gallery, s2.Gallery) || !slices.Equal(s.Probes, s2.Probes) {
				t.Fatal("not deterministic")
			}
			where := map[int]string{}
			galPer, probePer := map[int]int{}, map[int]int{}
			for _, i := range s.Gallery {
				where[i] = "gallery"
				galPer[tc.labels[i]]++
			}
			for _, i := range s.Probes {
				if where[i] != "" {
					t.Fatalf("image %d in gallery and probes", i)
				}
				where[i] = "probe"
				probePer[tc.labels[i]]++
			}
			distr := 0
			for id, n := range galPer {
				if probePer[id] == 0 {
					distr++
					continue
				}
				if n != tc.per {
					t.Errorf("probe identity %d has %d gallery images, want %d", id, n, tc.per)
				}
			}
			for id := range probePer {
				if galPer[id] == 0 {
					t.Errorf("probe identity %d has no gallery image", id)
				}
			}
			// Distractors put all their images in the gallery.
			for i, l := range tc.labels {
				if probePer[l] == 0 && galPer[l] > 0 && where[i] != "gallery" {
					t.Errorf("distractor image %d not in gallery", i)
				}
			}
			if distr != tc.wantDistr || (len(s.Probes) > 0) != tc.wantProbes {
				t.Errorf("%d distractor ids, %d probes; want %d, probes %v", distr, len(s.Probes), tc.wantDistr, tc.wantProbes)
			}
		})
	}
}

func TestClusterScore(t *testing.T) {
	onehot := func(k int) []float32 {
		v := make([]float32, 4)
		v[k] = 2
		return v
	}
	orth := [][]float32{onehot(0), onehot(1), onehot(2), onehot(3), onehot(0), onehot(1)}
	orthL := []int{0, 1, 2, 3, 0, 1}
	same := make([][]float32, 6)
	for i := range same {
		same[i] = []float32{1, 2, 3, 4}
	}
	tests := []struct {
		name   string
		emb    [][]float32
		labels []int
		max    int
		want   float64
	}{
		{"orthogonal, all pairs", orth, orthL, 1000, 0},
		{"orthogonal, sampled", orth, orthL, 5, 0},
		{"identical, all pairs", same, orthL, 0, 1},
		{"identical, sampled", same, orthL, 3, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ClusterScore(tc.emb, tc.labels, tc.max, 1); !near32(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	// Half the different pairs are exactly opposite: sampled estimates vary
	// with the seed but repeat for a fixed one.
	emb := [][]float32{{1, 0}, {-1, 0}, {1, 0}, {0, 1}, {0, -1}, {0, 1}}
	ls := []int{0, 1, 2, 3, 4, 5}
	if ClusterScore(emb, ls, 4, 9) != ClusterScore(emb, ls, 4, 9) {
		t.Error("not deterministic")
	}
	if !math.IsNaN(ClusterScore(emb, make([]int, 6), 10, 1)) {
		t.Error("one identity: want NaN")
	}
}
