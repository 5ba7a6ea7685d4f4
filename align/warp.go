package align

import (
	"fmt"
	"image"
	"math"
)

// arcface112 is insightface's 5-point ArcFace template in a 112×112 crop
// (face_align.arcface_dst): eyes, nose tip, mouth corners.
var arcface112 = [5][2]float64{
	{38.2946, 51.6963},
	{73.5318, 51.5014},
	{56.0252, 71.7366},
	{41.5493, 92.3655},
	{70.7299, 92.2041},
}

// Template returns the ArcFace landmarks for a size×size crop, scaled as
// insightface's estimate_norm does: by size/112 when size is a multiple of
// 112, otherwise by size/128 with an 8/128 shift right (the template was
// defined in a 128-wide frame cropped to 112).
func Template(size int) [5][2]float64 {
	ratio, dx := float64(size)/112, 0.0
	if size%112 != 0 {
		ratio = float64(size) / 128
		dx = 8 * ratio
	}
	var t [5][2]float64
	for i, p := range arcface112 {
		t[i] = [2]float64{p[0]*ratio + dx, p[1] * ratio}
	}
	return t
}

// Similarity is the map (x, y) → (a·x − b·y + tx, b·x + a·y + ty): a
// rotation by atan2(b, a), a uniform scale √(a²+b²) and a translation.
type Similarity struct{ A, B, TX, TY float64 }

// Apply maps a point.
func (s Similarity) Apply(x, y float64) (float64, float64) {
	return s.A*x - s.B*y + s.TX, s.B*x + s.A*y + s.TY
}

// Scale is the factor lengths are multiplied by.
func (s Similarity) Scale() float64 { return math.Hypot(s.A, s.B) }

// Inverse returns the map back.
func (s Similarity) Inverse() Similarity {
	d := s.A*s.A + s.B*s.B
	a, b := s.A/d, -s.B/d
	return Similarity{A: a, B: b, TX: -(a*s.TX - b*s.TY), TY: -(b*s.TX + a*s.TY)}
}

// Matrix is the 2×3 affine matrix (cv2.warpAffine's M).
func (s Similarity) Matrix() [2][3]float64 {
	return [2][3]float64{{s.A, -s.B, s.TX}, {s.B, s.A, s.TY}}
}

// EstimateSimilarity returns the least-squares similarity taking src onto
// dst: Umeyama's estimate (skimage's SimilarityTransform.estimate, which
// insightface aligns with). In 2-D the scaled rotations are the matrices
// [[a, −b], [b, a]], so Umeyama's SVD solution (reflections excluded) is
// the closed-form linear least squares in (a, b) about the centroids.
func EstimateSimilarity(src, dst [][2]float64) (Similarity, error) {
	if len(src) != len(dst) || len(src) < 2 {
		return Similarity{}, fmt.Errorf("align: similarity needs at least 2 point pairs, got %d and %d", len(src), len(dst))
	}
	n := float64(len(src))
	var msx, msy, mdx, mdy float64
	for i := range src {
		msx += src[i][0] / n
		msy += src[i][1] / n
		mdx += dst[i][0] / n
		mdy += dst[i][1] / n
	}
	var num0, num1, den float64
	for i := range src {
		sx, sy := src[i][0]-msx, src[i][1]-msy
		dx, dy := dst[i][0]-mdx, dst[i][1]-mdy
		num0 += sx*dx + sy*dy
		num1 += sx*dy - sy*dx
		den += sx*sx + sy*sy
	}
	if den < 1e-12 {
		return Similarity{}, fmt.Errorf("align: the landmarks coincide (spread %g px²): no similarity fits them", den)
	}
	a, b := num0/den, num1/den
	return Similarity{A: a, B: b, TX: mdx - (a*msx - b*msy), TY: mdy - (b*msx + a*msy)}, nil
}

// AlignTransform is the similarity taking a face's landmarks onto the
// ArcFace template of a size×size crop.
func AlignTransform(f Face, size int) (Similarity, error) {
	t := Template(size)
	src := make([][2]float64, 5)
	dst := make([][2]float64, 5)
	for i := range src {
		src[i] = [2]float64{float64(f.Landmarks[i][0]), float64(f.Landmarks[i][1])}
		dst[i] = t[i]
	}
	return EstimateSimilarity(src, dst)
}

// Warp renders the size×size crop that m maps img onto (m takes source
// pixel coordinates to crop ones, pixel centres at integers as in
// cv2.warpAffine; outside the image is black). Each crop pixel is the
// bilinear sample at its preimage; when m shrinks (scale < 1), each pixel
// instead averages an n×n grid of bilinear samples spread over its
// footprint in the source (n = ⌈1/scale⌉), a box prefilter, so a large
// face does not alias into the crop.
func Warp(img *image.RGBA, m Similarity, size int) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, size, size))
	inv := m.Inverse()
	n := 1
	if s := m.Scale(); s < 1 {
		n = int(math.Ceil(1/s - 1e-9))
	}
	offs := make([]float64, n)
	for i := range offs {
		offs[i] = (float64(i)+0.5)/float64(n) - 0.5
	}
	w := 1 / float64(n*n)
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var acc [3]float64
			for _, oy := range offs {
				for _, ox := range offs {
					sx, sy := inv.Apply(float64(x)+ox, float64(y)+oy)
					p := bilinear(img, sx, sy)
					acc[0] += p[0]
					acc[1] += p[1]
					acc[2] += p[2]
				}
			}
			o := out.Pix[y*out.Stride+4*x:]
			for c := 0; c < 3; c++ {
				o[c] = uint8(min(255, max(0, math.Round(acc[c]*w))))
			}
			o[3] = 255
		}
	}
	return out
}

// bilinear samples img at (x, y), pixels outside the image counting as
// black (cv2's BORDER_CONSTANT 0).
func bilinear(img *image.RGBA, x, y float64) [3]float64 {
	x0, y0 := math.Floor(x), math.Floor(y)
	fx, fy := x-x0, y-y0
	ix, iy := int(x0), int(y0)
	var out [3]float64
	for dy := 0; dy < 2; dy++ {
		wy := 1 - fy
		if dy == 1 {
			wy = fy
		}
		py := iy + dy
		if wy == 0 || py < 0 || py >= img.Rect.Dy() {
			continue
		}
		row := img.Pix[py*img.Stride:]
		for dx := 0; dx < 2; dx++ {
			wx := 1 - fx
			if dx == 1 {
				wx = fx
			}
			px := ix + dx
			if wx == 0 || px < 0 || px >= img.Rect.Dx() {
				continue
			}
			for c := 0; c < 3; c++ {
				out[c] += wx * wy * float64(row[4*px+c])
			}
		}
	}
	return out
}
