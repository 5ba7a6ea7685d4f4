package datasets

import (
	"fmt"
	"image"
	"strconv"
	"strings"
	"sync"
)

// Prep is the preprocessing every image of a set gets as it is decoded,
// before the resize to the model's side: a crop of the source frame and a
// conversion to grey. Both change results by points (a colour-trained model
// loses several on a grey benchmark; a face in the middle of a 250-px frame
// is a small part of a plain centre square), so training and evaluation
// sets take the same Prep and the session records it.
type Prep struct {
	Grey bool
	Crop Crop
}

// Crop selects the part of a source frame that holds the face. The zero
// value takes the centred square of the whole frame.
type Crop struct {
	// Centre > 0 takes a centred square of that many source pixels
	// (CentreFrac > 0: that fraction of the shorter side).
	Centre     int
	CentreFrac float64
	// Box, when not empty, is an explicit box in source pixels; its
	// centred square is taken.
	Box image.Rectangle
}

// ParseCrop reads the data.crop knob: "" or "none", "centre:N" (N source
// pixels), "centre:P%" (P percent of the shorter side) or "box:X,Y,W,H".
func ParseCrop(s string) (Crop, error) {
	s = strings.TrimSpace(s)
	kind, arg, _ := strings.Cut(s, ":")
	bad := func(why string) (Crop, error) {
		return Crop{}, fmt.Errorf("data.crop=%s: %s; use none, centre:N (pixels), centre:P%% or box:X,Y,W,H", s, why)
	}
	switch kind {
	case "", "none":
		if arg != "" {
			return bad("none takes no argument")
		}
		return Crop{}, nil
	case "centre", "center":
		if p, ok := strings.CutSuffix(arg, "%"); ok {
			f, err := strconv.ParseFloat(p, 64)
			if err != nil || f <= 0 || f > 100 {
				return bad("the percentage must be in (0, 100]")
			}
			return Crop{CentreFrac: f / 100}, nil
		}
		n, err := strconv.Atoi(arg)
		if err != nil || n < 1 {
			return bad("the side must be a positive number of pixels")
		}
		return Crop{Centre: n}, nil
	case "box":
		parts := strings.Split(arg, ",")
		if len(parts) != 4 {
			return bad("a box needs four numbers")
		}
		var v [4]int
		for i, p := range parts {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil || n < 0 {
				return bad(fmt.Sprintf("%q is not a pixel count", p))
			}
			v[i] = n
		}
		if v[2] < 1 || v[3] < 1 {
			return bad("width and height must be positive")
		}
		return Crop{Box: image.Rect(v[0], v[1], v[0]+v[2], v[1]+v[3])}, nil
	}
	return bad("unknown crop " + kind)
}

// String is the knob form ParseCrop reads.
func (c Crop) String() string {
	switch {
	case !c.Box.Empty():
		return fmt.Sprintf("box:%d,%d,%d,%d", c.Box.Min.X, c.Box.Min.Y, c.Box.Dx(), c.Box.Dy())
	case c.Centre > 0:
		return fmt.Sprintf("centre:%d", c.Centre)
	case c.CentreFrac > 0:
		return "centre:" + strconv.FormatFloat(c.CentreFrac*100, 'f', -1, 64) + "%"
	}
	return "none"
}

// square returns the square of bounds b that the crop selects.
func (c Crop) square(b image.Rectangle) (image.Rectangle, error) {
	r := b
	switch {
	case !c.Box.Empty():
		r = c.Box.Add(b.Min)
		if !r.In(b) {
			return image.Rectangle{}, fmt.Errorf("crop %s falls outside the %d×%d image", c, b.Dx(), b.Dy())
		}
	case c.Centre > 0 || c.CentreFrac > 0:
		side := c.Centre
		if c.CentreFrac > 0 {
			side = max(1, int(c.CentreFrac*float64(min(b.Dx(), b.Dy()))+0.5))
		}
		if side > min(b.Dx(), b.Dy()) {
			return image.Rectangle{}, fmt.Errorf("crop %s is larger than the %d×%d image", c, b.Dx(), b.Dy())
		}
		r = image.Rect(0, 0, side, side).Add(b.Min).Add(image.Pt((b.Dx()-side)/2, (b.Dy()-side)/2))
	}
	side := min(r.Dx(), r.Dy())
	return image.Rect(0, 0, side, side).Add(r.Min).Add(image.Pt((r.Dx()-side)/2, (r.Dy()-side)/2)), nil
}

// toGrey replaces each RGB pixel of an HWC buffer by its luma (ITU-R BT.601
// weights, as JPEG and most libraries convert), kept as three equal
// channels so the networks' input stays 3-channel.
func toGrey(pix []uint8) {
	for i := 0; i+2 < len(pix); i += 3 {
		y := (299*int(pix[i]) + 587*int(pix[i+1]) + 114*int(pix[i+2]) + 500) / 1000
		pix[i], pix[i+1], pix[i+2] = uint8(y), uint8(y), uint8(y)
	}
}

// decoder decodes one source's encoded images with pooled scratch under
// the source's Prep. Sources embed it, which gives them SetPrep.
type decoder struct {
	pool sync.Pool // *imageScratch
	prep Prep
}

// SetPrep sets the preprocessing of every later decode. Call it before the
// source is shared between goroutines.
func (d *decoder) SetPrep(p Prep) { d.prep = p }

// decode decodes data into dst (size×size RGB), naming entry on failure.
func (d *decoder) decode(data []byte, size int, dst []uint8, entry string) error {
	w, _ := d.pool.Get().(*imageScratch)
	if w == nil {
		w = &imageScratch{}
	}
	defer d.pool.Put(w)
	if err := w.decode(data, size, dst, d.prep.Crop); err != nil {
		return fmt.Errorf("%s: %w", entry, err)
	}
	if d.prep.Grey {
		toGrey(dst[:size*size*3])
	}
	return nil
}

// Preparer is a source whose decoding takes a Prep (image folders, .rec,
// .bin, pairs.txt and TinyFace sets).
type Preparer interface {
	SetPrep(Prep)
}
