package datasets

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// ContactSheet renders n images of set (chosen deterministically from seed)
// as rows: the HR image followed by `views` degraded views made with p
// (forceLR), each scaled up by zoom (nearest) with a small gap. When tiles
// are wide enough, each is captioned: the identity name under the HR image,
// the LR side in pixels under each view.
func ContactSheet(set *Set, n, views, zoom int, p DegradeParams, seed int64) *image.RGBA {
	n = max(0, min(n, set.Len()))
	views, zoom = max(0, views), max(1, zoom)
	const gap = 2
	size := set.Size
	tile := size * zoom
	caption := 0
	face := basicfont.Face7x13
	if tile >= 6*7 { // room for "16px"
		caption = 14
	}
	cols := 1 + views
	w := cols*(tile+gap) + gap
	h := n*(tile+caption+gap) + gap
	sheet := image.NewRGBA(image.Rect(0, 0, w, h))
	bg := color.RGBA{24, 24, 28, 255}
	for i := 0; i < len(sheet.Pix); i += 4 {
		sheet.Pix[i], sheet.Pix[i+1], sheet.Pix[i+2], sheet.Pix[i+3] = bg.R, bg.G, bg.B, bg.A
	}
	pick := newRand(mixSeed(uint64(seed), tagSheet)).Perm(set.Len())[:n]
	per := 3 * size * size
	src, view := make([]float32, per), make([]float32, per)
	var d degrader
	small := image.NewRGBA(image.Rect(0, 0, size, size))
	for r, idx := range pick {
		ToCHW(src, set.Pixels[idx], size)
		y0 := gap + r*(tile+caption+gap)
		for c := 0; c < cols; c++ {
			label := ""
			copy(view, src)
			if c == 0 {
				if l := set.Labels[idx]; l < len(set.IDNames) {
					label = set.IDNames[l]
				}
			} else {
				rng := newRand(mixSeed(uint64(seed), tagSheet, uint64(r), uint64(c)))
				ratio := d.degrade(view, src, size, p, true, rng)
				label = fmt.Sprintf("%dpx", int(ratio*float64(size)+0.5))
			}
			chwToRGBA(small, view, size)
			x0 := gap + c*(tile+gap)
			for y := 0; y < tile; y++ {
				for x := 0; x < tile; x++ {
					s := small.Pix[(y/zoom)*small.Stride+(x/zoom)*4:]
					copy(sheet.Pix[(y0+y)*sheet.Stride+(x0+x)*4:], s[:4])
				}
			}
			if caption > 0 && label != "" {
				if fit := tile / 7; len(label) > fit {
					label = label[len(label)-fit:] // keep the end: folder ids differ there
				}
				dr := font.Drawer{Dst: sheet, Src: image.NewUniform(color.RGBA{220, 220, 220, 255}), Face: face,
					Dot: fixed.P(x0+1, y0+tile+caption-3)}
				dr.DrawString(label)
			}
		}
	}
	return sheet
}

// WritePNG writes img to path atomically: a temporary file in the same
// folder, fsynced, then renamed over path, so a crash never leaves a torn
// image behind.
func WritePNG(path string, img image.Image) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("datasets: write %s: %w (does the folder exist and is it writable?)", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := png.Encode(f, img); err != nil {
		return fmt.Errorf("datasets: write %s: encode PNG: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("datasets: write %s: sync: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("datasets: write %s: close: %w", path, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil { // CreateTemp makes it 0600
		return fmt.Errorf("datasets: write %s: chmod: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("datasets: write %s: rename: %w", path, err)
	}
	return nil
}
