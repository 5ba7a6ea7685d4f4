package align

import (
	"image"
	"image/color"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// ContactSheet lays samples out four pairs to a row: the original fitted
// into a tile×tile square with every detection drawn (the kept face's box
// green, others orange; its landmarks as dots: eyes blue, nose yellow,
// mouth magenta), then the aligned crop; a caption says what happened.
// An image with no face or unreadable has an empty crop tile.
func ContactSheet(samples []Sample, tile int) *image.RGBA {
	const perRow, gap, caption = 4, 4, 14
	rows := (len(samples) + perRow - 1) / perRow
	w := perRow*(2*tile+3*gap) + gap
	h := max(1, rows)*(tile+caption+gap) + gap
	sheet := image.NewRGBA(image.Rect(0, 0, w, h))
	xdraw.Draw(sheet, sheet.Rect, image.NewUniform(color.RGBA{24, 24, 28, 255}), image.Point{}, xdraw.Src)
	for i, s := range samples {
		x0 := gap + (i%perRow)*(2*tile+3*gap)
		y0 := gap + (i/perRow)*(tile+caption+gap)
		orig := image.Rect(x0, y0, x0+tile, y0+tile)
		xdraw.Draw(sheet, orig, image.NewUniform(color.RGBA{40, 40, 46, 255}), image.Point{}, xdraw.Src)
		if s.Original != nil {
			drawFitted(sheet, orig, s)
		}
		if s.Crop != nil {
			xdraw.Draw(sheet, image.Rect(x0+tile+gap, y0, x0+2*tile+gap, y0+tile), s.Crop, image.Point{}, xdraw.Src)
		}
		label := map[Status]string{Aligned: "ok", Several: "several", NoFace: "no face", Unreadable: "unreadable"}[s.Status]
		col := color.RGBA{200, 200, 200, 255}
		if s.Status == NoFace || s.Status == Unreadable {
			col = color.RGBA{240, 90, 90, 255}
		}
		dr := font.Drawer{Dst: sheet, Src: image.NewUniform(col), Face: basicfont.Face7x13, Dot: fixed.P(x0+1, y0+tile+caption-3)}
		dr.DrawString(label)
	}
	return sheet
}

// drawFitted draws s.Original scaled to fit r (aspect kept, bilinear) and
// its detections over it.
func drawFitted(dst *image.RGBA, r image.Rectangle, s Sample) {
	ow, oh := s.Original.Rect.Dx(), s.Original.Rect.Dy()
	k := min(float64(r.Dx())/float64(ow), float64(r.Dy())/float64(oh))
	fw, fh := max(1, int(float64(ow)*k)), max(1, int(float64(oh)*k))
	fit := image.Rect(r.Min.X, r.Min.Y, r.Min.X+fw, r.Min.Y+fh)
	xdraw.BiLinear.Scale(dst, fit, s.Original, s.Original.Rect, xdraw.Src, nil)
	at := func(x, y float32) (int, int) {
		return r.Min.X + int(float64(x)*k), r.Min.Y + int(float64(y)*k)
	}
	for j, f := range s.Faces {
		col := color.RGBA{255, 160, 0, 255}
		if j == s.Chosen {
			col = color.RGBA{0, 220, 0, 255}
		}
		x1, y1 := at(f.Box[0], f.Box[1])
		x2, y2 := at(f.Box[2], f.Box[3])
		for x := x1; x <= x2; x++ {
			setIn(dst, r, x, y1, col)
			setIn(dst, r, x, y2, col)
		}
		for y := y1; y <= y2; y++ {
			setIn(dst, r, x1, y, col)
			setIn(dst, r, x2, y, col)
		}
		dots := []color.RGBA{{60, 140, 255, 255}, {60, 140, 255, 255}, {255, 230, 0, 255}, {255, 0, 200, 255}, {255, 0, 200, 255}}
		for p, l := range f.Landmarks {
			cx, cy := at(l[0], l[1])
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					setIn(dst, r, cx+dx, cy+dy, dots[p])
				}
			}
		}
	}
}

// setIn sets a pixel when it lies inside r.
func setIn(dst *image.RGBA, r image.Rectangle, x, y int, c color.RGBA) {
	if image.Pt(x, y).In(r) {
		dst.SetRGBA(x, y, c)
	}
}
