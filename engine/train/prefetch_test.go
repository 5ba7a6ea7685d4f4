package train

import (
	"slices"
	"testing"

	"github.com/ccface/ccface/datasets"
)

// TestPrefetchGivesTheBatchAskedFor: a prefetched batch is used only when
// it was filled for the same cursor and knobs; otherwise it is refilled.
func TestPrefetchGivesTheBatchAskedFor(t *testing.T) {
	set, _, err := datasets.Synthetic(datasets.SynthConfig{Seed: 2, TrainIDs: 4, EvalIDs: 1, PerID: 8, Size: 16})
	if err != nil {
		t.Fatal(err)
	}
	direct := func(k fillKey) []float32 {
		var b datasets.Batch
		datasets.NewLoader(set, 8, 5).Fill(&b, k.epoch, k.index, k.aug, k.hrPLR, k.wantLR)
		return slices.Clone(b.LR)
	}
	p := prefetcher{loader: datasets.NewLoader(set, 8, 5)}
	a := fillKey{epoch: 0, index: 1, aug: datasets.DefaultDegrade(), wantLR: true}
	p.start(a)
	if got := p.take(a); !slices.Equal(got.LR, direct(a)) {
		t.Fatal("prefetched batch differs from a direct fill")
	}
	b := a
	b.aug.RMax = 0.3 // a knob changed after the prefetch started
	p.start(a)
	if got := p.take(b); !slices.Equal(got.LR, direct(b)) {
		t.Fatal("a stale prefetch was used after a knob change")
	}
}
