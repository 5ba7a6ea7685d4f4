package datasets

import (
	"fmt"
	"math/rand"
	"runtime"
)

// Batch is one training batch, NCHW float32.
type Batch struct {
	N, Size  int
	HR       []float32 // N*3*Size*Size, NCHW, normalised to [-1,1] as (x-0.5)/0.5
	LR       []float32 // same layout: the degraded view of the same augmented HR image (empty when not asked)
	Labels   []int
	Ratios   []float32 // per sample: LR side / HR side of the LR view (1 if no LR view)
	HRRatios []float32 // per sample: side ratio of the HR view (1 unless hrPLR degraded it)
}

// Loader cuts a Set into deterministic batches.
//
// A Loader is not safe for concurrent use: Fill spreads one batch over
// goroutines itself and caches the epoch's permutation and the workers'
// scratch buffers between calls.
type Loader struct {
	set   *Set
	batch int
	seed  int64

	permEpoch int
	perm      []int
	work      []loaderScratch
}

type loaderScratch struct {
	d        degrader
	src, aug []float32
	rng      *rand.Rand
	sm       *splitMix
}

// NewLoader returns a loader of batch images per step over set. batch must
// be at least 1.
func NewLoader(set *Set, batch int, seed int64) *Loader {
	if batch < 1 {
		panic(fmt.Sprintf("datasets: NewLoader batch=%d: must be at least 1", batch))
	}
	return &Loader{set: set, batch: batch, seed: seed, permEpoch: -1}
}

// StepsPerEpoch is the number of full batches per epoch; the ragged last
// batch is dropped (a different remainder is dropped every epoch, since the
// order is reshuffled).
func (l *Loader) StepsPerEpoch() int { return l.set.Len() / l.batch }

// order returns the data order of epoch: a permutation drawn from (seed, epoch).
func (l *Loader) order(epoch int) []int {
	if l.permEpoch != epoch || l.perm == nil {
		l.perm = newRand(mixSeed(uint64(l.seed), tagOrder, uint64(epoch))).Perm(l.set.Len())
		l.permEpoch = epoch
	}
	return l.perm
}

// Fill fills b with batch number index of epoch. The data order is a
// permutation drawn from (seed, epoch); every augmentation draw of sample i
// follows from (seed, epoch, index, i), with separate streams for the
// augmentation, the HR-view degradation and the LR view, so the results are
// bit-identical whatever the goroutine count and the teacher (hrPLR 0) and
// a mixed-view baseline see the same augmentations.
//
// HR view = Augment(image), then with probability hrPLR Degrade (mixed
// views for the arcface-aug baseline; the teacher passes 0). If wantLR, the
// LR view = Degrade(augmented HR image, forceLR). b's slices are reused when
// large enough. index must be in [0, StepsPerEpoch()).
func (l *Loader) Fill(b *Batch, epoch, index int, p DegradeParams, hrPLR float64, wantLR bool) {
	if index < 0 || index >= l.StepsPerEpoch() {
		panic(fmt.Sprintf("datasets: Fill index=%d: must be in [0,%d) for a set of %d images in batches of %d",
			index, l.StepsPerEpoch(), l.set.Len(), l.batch))
	}
	perm := l.order(epoch)
	n, size := l.batch, l.set.Size
	per := 3 * size * size
	b.N, b.Size = n, size
	b.HR = grow(b.HR, n*per)
	if wantLR {
		b.LR = grow(b.LR, n*per)
	} else {
		b.LR = b.LR[:0]
	}
	b.Labels = grow(b.Labels, n)
	b.Ratios = grow(b.Ratios, n)
	b.HRRatios = grow(b.HRRatios, n)

	workers := min(runtime.GOMAXPROCS(0), n)
	for len(l.work) < workers {
		sm := &splitMix{}
		l.work = append(l.work, loaderScratch{sm: sm, rng: rand.New(sm)})
	}
	hrP := p
	hrP.PLR = hrPLR
	parallelFor(n, workers, func(w, i int) {
		ws := &l.work[w]
		img := perm[index*n+i]
		b.Labels[i] = l.set.Labels[img]
		ws.src = grow(ws.src, per)
		ws.aug = grow(ws.aug, per)
		ToCHW(ws.src, l.set.Pixels[img], size)
		key := func(tag uint64) {
			ws.sm.s = mixSeed(uint64(l.seed), tag, uint64(epoch), uint64(index), uint64(i))
		}
		key(tagAugment)
		ws.d.augment(ws.aug, ws.src, size, p, ws.rng)

		hr := b.HR[i*per : (i+1)*per]
		b.HRRatios[i] = 1
		if hrPLR > 0 {
			key(tagHRView)
			b.HRRatios[i] = float32(ws.d.degrade(hr, ws.aug, size, hrP, false, ws.rng))
		} else {
			copy(hr, ws.aug)
		}
		Normalise(hr)

		b.Ratios[i] = 1
		if wantLR {
			lr := b.LR[i*per : (i+1)*per]
			key(tagLRView)
			b.Ratios[i] = float32(ws.d.degrade(lr, ws.aug, size, p, true, ws.rng))
			Normalise(lr)
		}
	})
}

// ToCHW converts an 8-bit RGB HWC image into float32 CHW in [0,1].
func ToCHW(dst []float32, pixels []uint8, size int) {
	pp := size * size
	for o := 0; o < pp; o++ {
		dst[o] = float32(pixels[3*o]) / 255
		dst[pp+o] = float32(pixels[3*o+1]) / 255
		dst[2*pp+o] = float32(pixels[3*o+2]) / 255
	}
}

// Normalise maps x from [0,1] to [-1,1] in place, as (x-0.5)/0.5.
func Normalise(x []float32) {
	for i, v := range x {
		x[i] = 2*v - 1
	}
}
