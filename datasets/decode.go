package datasets

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // register the decoders every reader uses
	_ "image/png"

	xdraw "golang.org/x/image/draw"
)

// MaxPixels is the largest image (width × height) any reader decodes. Face
// crops are a few hundred pixels across; a header claiming more is a
// corrupt file or a decompression bomb (a few kilobytes of PNG that would
// inflate to gigabytes). The check reads only the header (image.DecodeConfig),
// so refusing such a file costs microseconds and no pixel memory.
const MaxPixels = 1 << 24 // 16.7 Mpx: 4096×4096, 64 MiB as RGBA

// MaxEncodedBytes bounds one encoded image read from a file, a record or a
// pickle, so that a corrupt length field cannot make a reader allocate
// gigabytes.
const MaxEncodedBytes = 64 << 20

// ErrNotImage and ErrTooLarge classify unreadable images so that callers
// (inspect) can count them by kind.
var (
	ErrNotImage = errors.New("not a PNG or JPEG image")
	ErrTooLarge = errors.New("image too large to decode safely")
)

// imageInfo is what the header of an encoded image says.
type imageInfo struct {
	Format        string // "png", "jpeg"
	Width, Height int
	Channels      int // 1 grey, 3 colour, 4 colour with alpha
}

// probeImage reads only the header of data: format, size and channels. It
// refuses empty data, non-images and images over MaxPixels.
func probeImage(data []byte) (imageInfo, error) {
	if len(data) == 0 {
		return imageInfo{}, errors.New("empty (0 bytes)")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return imageInfo{}, fmt.Errorf("%w (starts with % x)", ErrNotImage, data[:min(len(data), 8)])
		}
		return imageInfo{}, fmt.Errorf("unreadable header: %w", err)
	}
	info := imageInfo{Format: format, Width: cfg.Width, Height: cfg.Height, Channels: channelsOf(cfg.ColorModel)}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return info, fmt.Errorf("empty %s image (%d×%d)", format, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return info, fmt.Errorf("%w: %s header says %d×%d, over the %d-pixel limit (a corrupt header or a decompression bomb)",
			ErrTooLarge, format, cfg.Width, cfg.Height, MaxPixels)
	}
	return info, nil
}

// channelsOf maps a decoder's colour model to a channel count.
func channelsOf(m color.Model) int {
	switch m {
	case color.GrayModel, color.Gray16Model:
		return 1
	case color.NRGBAModel, color.NRGBA64Model:
		return 4 // Go's PNG decoder uses these only for images with alpha
	}
	if p, ok := m.(color.Palette); ok {
		for _, c := range p {
			if _, _, _, a := c.RGBA(); a != 0xffff {
				return 4
			}
		}
	}
	return 3
}

// imageScratch holds one decoding worker's buffers and its resize scaler,
// which is reused while source sizes repeat (they usually all match).
type imageScratch struct {
	rgb, dst *image.RGBA
	scaler   xdraw.Scaler
	key      [3]int // source side, destination side, valid
}

// decode checks data's header (probeImage), decodes it, crops the square
// that c selects (by default the centred square of the frame) and resizes
// it to size×size RGB (HWC) into dst, which must hold size*size*3 bytes.
func (w *imageScratch) decode(data []byte, size int, dst []uint8, c Crop) error {
	info, err := probeImage(data)
	if err != nil {
		return err
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("cannot decode %s %d×%d: %w (truncated or corrupt)", info.Format, info.Width, info.Height, err)
	}
	b := img.Bounds()
	if b.Empty() {
		return fmt.Errorf("empty %s image", info.Format)
	}
	crop, err := c.square(b)
	if err != nil {
		return err
	}
	side := crop.Dx()
	// Convert the crop to RGBA first: image/draw has fast paths from every
	// decoded type, while the scaler converts YCbCr once per filter tap.
	if w.rgb == nil || w.rgb.Rect.Dx() != side {
		w.rgb = image.NewRGBA(image.Rect(0, 0, side, side))
	}
	xdraw.Draw(w.rgb, w.rgb.Rect, img, crop.Min, xdraw.Src)
	src := w.rgb
	if side != size {
		if w.dst == nil || w.dst.Rect.Dx() != size {
			w.dst = image.NewRGBA(image.Rect(0, 0, size, size))
		}
		if w.key != [3]int{side, size, 1} {
			w.scaler, w.key = xdraw.BiLinear.NewScaler(size, size, side, side), [3]int{side, size, 1}
		}
		w.scaler.Scale(w.dst, w.dst.Rect, w.rgb, w.rgb.Rect, xdraw.Src, nil)
		src = w.dst
	}
	for y := 0; y < size; y++ {
		row := src.Pix[y*src.Stride:]
		for x := 0; x < size; x++ {
			copy(dst[(y*size+x)*3:(y*size+x)*3+3], row[4*x:4*x+3])
		}
	}
	return nil
}
