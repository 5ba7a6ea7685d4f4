package datasets

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"math/rand"
)

// degrader owns the scratch buffers of the degradation pipeline, so the
// loader's workers allocate nothing per sample once warmed up (JPEG
// decoding aside). The exported functions use a fresh one per call.
type degrader struct {
	rs      resampler
	lr, tmp []float32
	gauss   []float32
	jpg     bytes.Buffer
	rgba    *image.RGBA
}

// Degrade writes into dst the degraded view of src (both 3*size*size, CHW,
// values in [0,1]; they may be the same slice): with probability p.PLR (or
// always when forceLR) pick r ~ U(RMin,RMax), downsample to round(r*size)
// px with a kernel (p.Kernel, or a random one of Kernels when it is
// "random" or empty), Gaussian blur sigma ~ U(0,BlurMax) in LR pixels,
// Gaussian noise std ~ U(0,NoiseMax), JPEG at quality ~ U{JPEGMin..100}
// (a real image/jpeg encode and decode; skipped when JPEGMin == 100), then
// upsample back to size (bilinear).
//
// The LR side is kept within [ceil(RMin·size), floor(RMax·size)] whenever
// that range holds an integer, so the returned ratio (LR side / size) lies
// in [RMin, RMax]. Returns 1 when the LR branch was not taken.
//
// p must pass Validate; an unknown kernel panics.
func Degrade(dst, src []float32, size int, p DegradeParams, forceLR bool, rng *rand.Rand) float64 {
	var d degrader
	return d.degrade(dst, src, size, p, forceLR, rng)
}

func (d *degrader) degrade(dst, src []float32, size int, p DegradeParams, forceLR bool, rng *rand.Rand) float64 {
	n := 3 * size * size
	// Every draw is made whether or not its knob is in use, so changing one
	// knob live does not reshuffle the draws of the others.
	take := rng.Float64() < p.PLR || forceLR
	r := p.RMin + (p.RMax-p.RMin)*rng.Float64()
	kernel := Kernels[rng.Intn(len(Kernels))]
	sigma := p.BlurMax * rng.Float64()
	noise := p.NoiseMax * rng.Float64()
	quality := p.JPEGMin + rng.Intn(101-max(1, min(100, p.JPEGMin)))
	if !take {
		copy(dst[:n], src[:n])
		return 1
	}
	if p.Kernel != "" && p.Kernel != "random" {
		kernel = p.Kernel
	}
	side := lrSide(r, size, p)
	d.lr = grow(d.lr, 3*side*side)
	d.rs.resize(d.lr, side, side, src, size, size, 3, kernel)
	if sigma > 0.05 {
		d.blur(d.lr, side, sigma)
	}
	if noise > 0 {
		for i, v := range d.lr {
			d.lr[i] = min(1, max(0, v+float32(rng.NormFloat64()*noise)))
		}
	}
	if p.JPEGMin < 100 {
		d.jpeg(d.lr, side, quality)
	}
	d.rs.resize(dst, size, size, d.lr, side, side, 3, "bilinear")
	return float64(side) / float64(size)
}

// lrSide turns the drawn ratio into a pixel side within the knobs' range.
func lrSide(r float64, size int, p DegradeParams) int {
	side := int(math.Round(r * float64(size)))
	lo := int(math.Ceil(p.RMin*float64(size) - 1e-9))
	hi := int(math.Floor(p.RMax*float64(size) + 1e-9))
	if lo <= hi {
		side = max(lo, min(hi, side))
	}
	return max(1, min(size, side))
}

// blur applies a separable Gaussian of the given sigma (pixels) to the three
// side×side planes of x in place, replicating edge pixels.
func (d *degrader) blur(x []float32, side int, sigma float64) {
	rad := int(math.Ceil(3 * sigma))
	d.gauss = grow(d.gauss, 2*rad+1)
	var sum float32
	for k := -rad; k <= rad; k++ {
		w := float32(math.Exp(-float64(k*k) / (2 * sigma * sigma)))
		d.gauss[k+rad] = w
		sum += w
	}
	for k := range d.gauss {
		d.gauss[k] /= sum
	}
	d.tmp = grow(d.tmp, len(x))
	clampi := func(i int) int { return max(0, min(side-1, i)) }
	for c := 0; c < 3; c++ {
		pl, tp := x[c*side*side:(c+1)*side*side], d.tmp[c*side*side:(c+1)*side*side]
		for y := 0; y < side; y++ {
			for xx := 0; xx < side; xx++ {
				var v float32
				for k := -rad; k <= rad; k++ {
					v += pl[y*side+clampi(xx+k)] * d.gauss[k+rad]
				}
				tp[y*side+xx] = v
			}
		}
		for y := 0; y < side; y++ {
			for xx := 0; xx < side; xx++ {
				var v float32
				for k := -rad; k <= rad; k++ {
					v += tp[clampi(y+k)*side+xx] * d.gauss[k+rad]
				}
				pl[y*side+xx] = v
			}
		}
	}
}

// jpeg round-trips the side×side CHW image x through image/jpeg at quality.
func (d *degrader) jpeg(x []float32, side, quality int) {
	if d.rgba == nil || d.rgba.Rect.Dx() != side {
		d.rgba = image.NewRGBA(image.Rect(0, 0, side, side))
	}
	chwToRGBA(d.rgba, x, side)
	d.jpg.Reset()
	if err := jpeg.Encode(&d.jpg, d.rgba, &jpeg.Options{Quality: quality}); err != nil {
		return // cannot happen for an in-memory RGBA; keep the image as is
	}
	img, err := jpeg.Decode(bytes.NewReader(d.jpg.Bytes()))
	if err != nil {
		return
	}
	imageToCHW(x, img, side)
}

// chwToRGBA writes the side×side CHW [0,1] image x into dst.
func chwToRGBA(dst *image.RGBA, x []float32, side int) {
	pp := side * side
	for y := 0; y < side; y++ {
		row := dst.Pix[y*dst.Stride:]
		for i := 0; i < side; i++ {
			o := y*side + i
			row[4*i] = to8(x[o])
			row[4*i+1] = to8(x[pp+o])
			row[4*i+2] = to8(x[2*pp+o])
			row[4*i+3] = 255
		}
	}
}

// imageToCHW reads the top-left side×side pixels of img into CHW [0,1].
func imageToCHW(dst []float32, img image.Image, side int) {
	pp := side * side
	b := img.Bounds()
	for y := 0; y < side; y++ {
		for i := 0; i < side; i++ {
			r, g, bl, _ := img.At(b.Min.X+i, b.Min.Y+y).RGBA()
			o := y*side + i
			dst[o] = float32(r>>8) / 255
			dst[pp+o] = float32(g>>8) / 255
			dst[2*pp+o] = float32(bl>>8) / 255
		}
	}
}

func to8(v float32) uint8 { return uint8(min(255, max(0, v*255+0.5))) }

// Augment writes into dst the light augmentation that forms the HR view of
// src (both 3*size*size CHW in [0,1]; they may be the same slice):
// horizontal flip with probability p.Flip, brightness and contrast factors
// 1 ± U(0,p.Jitter) (contrast about the image mean), and a random
// crop-and-pad shift of up to p.CropPad pixels each way, padding with black
// as a zero-padded random crop does.
func Augment(dst, src []float32, size int, p DegradeParams, rng *rand.Rand) {
	var d degrader
	d.augment(dst, src, size, p, rng)
}

func (d *degrader) augment(dst, src []float32, size int, p DegradeParams, rng *rand.Rand) {
	n := 3 * size * size
	flip := rng.Float64() < p.Flip
	bright := float32(1 + p.Jitter*(2*rng.Float64()-1))
	contrast := float32(1 + p.Jitter*(2*rng.Float64()-1))
	pad := max(0, p.CropPad)
	dx := rng.Intn(2*pad+1) - pad
	dy := rng.Intn(2*pad+1) - pad

	var mean float64
	for _, v := range src[:n] {
		mean += float64(v)
	}
	m := float32(mean / float64(n))
	// Gather through a scratch copy so dst may alias src.
	d.tmp = grow(d.tmp, n)
	copy(d.tmp, src[:n])
	pp := size * size
	for c := 0; c < 3; c++ {
		for y := 0; y < size; y++ {
			sy := y - dy
			for x := 0; x < size; x++ {
				sx := x - dx
				o := c*pp + y*size + x
				if sx < 0 || sx >= size || sy < 0 || sy >= size {
					dst[o] = 0
					continue
				}
				if flip {
					sx = size - 1 - sx
				}
				v := ((d.tmp[c*pp+sy*size+sx]-m)*contrast + m) * bright
				dst[o] = min(1, max(0, v))
			}
		}
	}
}

// DownUp makes a deterministic evaluation LR image: downsample src to
// side×side px with kernel (one of Kernels; anything else panics), then
// upsample back to size (bilinear). dst and src are 3*size*size CHW in
// [0,1] and may be the same slice.
func DownUp(dst, src []float32, size, side int, kernel string) {
	var d degrader
	d.downUp(dst, src, size, side, kernel)
}

func (d *degrader) downUp(dst, src []float32, size, side int, kernel string) {
	side = max(1, min(size, side))
	d.lr = grow(d.lr, 3*side*side)
	d.rs.resize(d.lr, side, side, src, size, size, 3, kernel)
	d.rs.resize(dst, size, size, d.lr, side, side, 3, "bilinear")
}
