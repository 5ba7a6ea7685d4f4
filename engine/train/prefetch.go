package train

import "github.com/ccface/ccface/datasets"

// fillKey is everything a batch's content depends on: the data cursor and
// the augmentation knobs in effect.
type fillKey struct {
	epoch, index int
	aug          datasets.DegradeParams
	hrPLR        float64
	wantLR       bool
}

// prefetcher double-buffers batches: while a step trains on one, the next
// is prepared (decoded, augmented, degraded) on another goroutine, so the
// step loop does not wait for data. A batch depends only on its fillKey, so
// prefetching changes nothing a run computes: if a knob change between
// steps makes the prepared batch stale, it is filled again.
type prefetcher struct {
	loader  *datasets.Loader
	bufs    [2]datasets.Batch
	cur     int
	ahead   fillKey // what bufs[1-cur] holds or is being filled with
	pending chan struct{}
	valid   bool
}

// take returns the batch for k, from the prefetch when it matches.
func (p *prefetcher) take(k fillKey) *datasets.Batch {
	p.wait()
	if p.valid && p.ahead == k {
		p.cur = 1 - p.cur
	} else {
		p.loader.Fill(&p.bufs[p.cur], k.epoch, k.index, k.aug, k.hrPLR, k.wantLR)
	}
	p.valid = false
	return &p.bufs[p.cur]
}

// start begins filling the other buffer with k.
func (p *prefetcher) start(k fillKey) {
	p.wait()
	p.ahead, p.valid = k, true
	done := make(chan struct{})
	p.pending = done
	b := &p.bufs[1-p.cur]
	go func() {
		defer close(done)
		p.loader.Fill(b, k.epoch, k.index, k.aug, k.hrPLR, k.wantLR)
	}()
}

// wait blocks until no fill is in flight (the loader is not safe for
// concurrent use).
func (p *prefetcher) wait() {
	if p.pending != nil {
		<-p.pending
		p.pending = nil
	}
}
