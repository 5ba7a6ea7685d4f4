package datasets

import (
	"fmt"
	"math/rand"
	"runtime"
	"sync"
	"sync/atomic"
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

// Loader cuts a Set, or any Source, into deterministic batches.
//
// A Loader is not safe for concurrent use: Fill spreads one batch over
// goroutines itself and caches the epoch's permutation and the workers'
// scratch buffers between calls.
type Loader struct {
	set   *Set   // the in-memory fast path; nil for a Source loader
	src   Source // nil for a Set loader
	n     int    // images
	size  int    // HR side
	batch int
	seed  int64

	permEpoch int
	perm      []int
	work      []loaderScratch

	// Source loaders only.
	cache     *lruCache
	readAhead bool
	workers   int
	ahead     chan struct{} // closed when the read-ahead of the next batch is done
	bad       badImages
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
	return &Loader{set: set, n: set.Len(), size: set.Size, batch: batch, seed: seed, permEpoch: -1}
}

// LoaderOptions bound the memory and the goroutines of a Source loader.
type LoaderOptions struct {
	// CacheBytes bounds the decoded images kept between batches (least
	// recently used go first): 0 means 256 MiB, negative keeps none. Memory
	// use is this bound plus one batch, whatever the size of the set.
	CacheBytes int64
	// Workers is the number of goroutines that decode the next batch while
	// the current one trains: 0 means min(GOMAXPROCS, 8).
	Workers int
	// NoReadAhead decodes each batch only when Fill asks for it.
	NoReadAhead bool
}

// defaultCacheBytes holds ~87,000 faces at 32 px, ~7,000 at 112 px.
const defaultCacheBytes = 256 << 20

// maxSubstitutes bounds how many unreadable images in a row Fill steps over
// before it concludes the set is broken.
const maxSubstitutes = 64

// NewSourceLoader returns a loader of batch images per step over src, each
// decoded at size×size. A *Set of that size gives exactly NewLoader's
// loader. Other sources are decoded on demand through a bounded LRU cache,
// with the next batch decoded ahead on a bounded pool, so memory use does
// not grow with the set.
//
// An image that cannot be read is replaced by the next readable one in the
// epoch's order (with that image's label), and counted (Unreadable): a bad
// file costs a sample, never the run. The batches are the same for any
// GOMAXPROCS and any cache size, as for NewLoader.
func NewSourceLoader(src Source, size, batch int, seed int64, opt LoaderOptions) (*Loader, error) {
	switch {
	case batch < 1:
		return nil, fmt.Errorf("datasets: loader batch=%d: must be at least 1", batch)
	case size < 4 || size > 1024:
		return nil, fmt.Errorf("datasets: loader image size %d: must be in [4,1024] pixels", size)
	case src.Len() < batch:
		return nil, fmt.Errorf("datasets: batch %d is larger than the %d images of the set; lower the batch size", batch, src.Len())
	}
	if set, ok := src.(*Set); ok && set.Size == size {
		return NewLoader(set, batch, seed), nil
	}
	for i := 0; i < src.Len(); i++ {
		if l := src.Label(i); l < 0 || l >= src.NumIDs() {
			return nil, fmt.Errorf("datasets: image %d has label %d, not a class in [0,%d): a set of verification pairs or distractors cannot be trained on", i, l, src.NumIDs())
		}
	}
	per := int64(3 * size * size)
	entries := 0
	switch {
	case opt.CacheBytes == 0:
		entries = int(defaultCacheBytes / per)
	case opt.CacheBytes > 0:
		entries = int(opt.CacheBytes / per)
	}
	workers := opt.Workers
	if workers < 1 {
		workers = min(runtime.GOMAXPROCS(0), 8)
	}
	return &Loader{src: src, n: src.Len(), size: size, batch: batch, seed: seed, permEpoch: -1,
		cache: newLRU(entries), readAhead: !opt.NoReadAhead && entries >= batch, workers: workers,
		bad: badImages{m: map[int]bool{}}}, nil
}

// StepsPerEpoch is the number of full batches per epoch; the ragged last
// batch is dropped (a different remainder is dropped every epoch, since the
// order is reshuffled).
func (l *Loader) StepsPerEpoch() int { return l.n / l.batch }

// Unreadable returns the images a Source loader could not decode so far
// ("file entry: reason", at most 200) and how many there were; Fill used
// the next readable image in their place.
func (l *Loader) Unreadable() ([]string, int) { return l.bad.Problems() }

// Close waits for a read-ahead in flight. A Loader that is dropped without
// Close leaks nothing: the read-ahead ends by itself after one batch.
func (l *Loader) Close() {
	if l.ahead != nil {
		<-l.ahead
		l.ahead = nil
	}
}

// order returns the data order of epoch: a permutation drawn from (seed, epoch).
func (l *Loader) order(epoch int) []int {
	if l.permEpoch != epoch || l.perm == nil {
		l.perm = newRand(mixSeed(uint64(l.seed), tagOrder, uint64(epoch))).Perm(l.n)
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
//
// A Source loader panics (in the calling goroutine) only when 64 images in
// a row cannot be read: the data is broken, not one file.
func (l *Loader) Fill(b *Batch, epoch, index int, p DegradeParams, hrPLR float64, wantLR bool) {
	if index < 0 || index >= l.StepsPerEpoch() {
		panic(fmt.Sprintf("datasets: Fill index=%d: must be in [0,%d) for a set of %d images in batches of %d",
			index, l.StepsPerEpoch(), l.n, l.batch))
	}
	l.Close() // the read-ahead of this batch, if any, is done
	perm := l.order(epoch)
	n, size := l.batch, l.size
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
	var failed atomic.Pointer[error] // a panic must leave from this goroutine, where callers recover
	ParallelFor(n, workers, func(w, i int) {
		ws := &l.work[w]
		ws.src = grow(ws.src, per)
		ws.aug = grow(ws.aug, per)
		if l.set != nil {
			img := perm[index*n+i]
			b.Labels[i] = l.set.Labels[img]
			ToCHW(ws.src, l.set.Pixels[img], size)
		} else {
			img, px, err := l.fetch(perm, index*n+i)
			if err != nil {
				failed.CompareAndSwap(nil, &err)
				return
			}
			b.Labels[i] = l.src.Label(img)
			ToCHW(ws.src, px, size)
		}
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
	if err := failed.Load(); err != nil {
		panic((*err).Error())
	}
	if l.src != nil && l.readAhead && index+1 < l.StepsPerEpoch() {
		l.startReadAhead(perm, (index+1)*n)
	}
}

// fetch returns the pixels of the image at position pos of the epoch order,
// or of the first readable image after it, and which image that was.
func (l *Loader) fetch(perm []int, pos int) (int, []uint8, error) {
	var firstErr string
	for k := 0; k < maxSubstitutes && k < l.n; k++ {
		img := perm[(pos+k)%l.n]
		if px, ok := l.decode(img); ok {
			return img, px, nil
		} else if firstErr == "" {
			firstErr = l.bad.reason(img)
		}
	}
	return 0, nil, fmt.Errorf("datasets: %d images in a row could not be read, the first: %s; the data is broken: run `ccface data inspect` on it",
		min(maxSubstitutes, l.n), firstErr)
}

// decode returns image img's pixels from the cache or decodes them, and
// false when the image is unreadable (it is remembered and counted once).
func (l *Loader) decode(img int) ([]uint8, bool) {
	if px, ok := l.cache.get(img); ok {
		return px, true
	}
	if l.bad.has(img) {
		return nil, false
	}
	px := make([]uint8, 3*l.size*l.size)
	if err := l.src.Image(img, l.size, px); err != nil {
		l.bad.mark(img, err.Error())
		return nil, false
	}
	l.cache.put(img, px)
	return px, true
}

// startReadAhead decodes the batch at positions [from, from+batch) of perm
// into the cache on l.workers goroutines while the caller trains.
func (l *Loader) startReadAhead(perm []int, from int) {
	done := make(chan struct{})
	l.ahead = done
	go func() {
		defer close(done)
		ParallelFor(l.batch, l.workers, func(_, i int) { l.decode(perm[from+i]) })
	}()
}

// badImages remembers the images a Source loader could not read.
type badImages struct {
	mu  sync.Mutex
	m   map[int]bool
	why map[int]string
	problems
}

func (b *badImages) has(img int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[img]
}

func (b *badImages) reason(img int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.why[img]
}

func (b *badImages) mark(img int, why string) {
	b.mu.Lock()
	if b.m[img] {
		b.mu.Unlock()
		return
	}
	b.m[img] = true
	if b.why == nil {
		b.why = map[int]string{}
	}
	b.why[img] = why
	b.mu.Unlock()
	b.add(why)
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
