package datasets

import "math/rand"

// Stream tags keep the random streams of different purposes apart, so that
// e.g. train and eval identities can never share parameters.
const (
	tagTrainID uint64 = iota + 1
	tagEvalID
	tagSample
	tagOrder
	tagAugment
	tagHRView
	tagLRView
	tagSheet
	tagSplit
)

// splitMix is a tiny rand.Source64 (SplitMix64). It is used instead of
// rand.NewSource because seeding it is free: every image and every
// augmentation draw gets its own stream, and rand.NewSource costs ~10 µs and
// 5 KB per seeding.
type splitMix struct{ s uint64 }

func (r *splitMix) Uint64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return fmix64(r.s)
}

func (r *splitMix) Int63() int64    { return int64(r.Uint64() >> 1) }
func (r *splitMix) Seed(seed int64) { r.s = uint64(seed) }

// fmix64 is SplitMix64's finaliser: a bijective 64-bit mixer.
func fmix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// mixSeed hashes a tuple (seed, tag, indices...) into one stream seed, so a
// draw depends only on what it is for, never on which goroutine made it or
// in what order.
func mixSeed(vals ...uint64) uint64 {
	h := uint64(0x243f6a8885a308d3)
	for _, v := range vals {
		h = fmix64(h ^ fmix64(v+0x9e3779b97f4a7c15))
	}
	return h
}

// newRand returns a math/rand generator on a SplitMix64 stream.
func newRand(seed uint64) *rand.Rand { return rand.New(&splitMix{s: seed}) }
