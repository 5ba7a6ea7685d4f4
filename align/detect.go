package align

import (
	"fmt"
	"image"
	"math"
	"sort"

	"github.com/ccface/ccface/engine/onnx"
)

// Face is one detection in the coordinates of the image it was found in.
type Face struct {
	Box       [4]float32    // x1, y1, x2, y2
	Score     float32       // the detector's face probability
	Landmarks [5][2]float32 // left eye, right eye, nose tip, left and right mouth corners (x, y)
}

// Width and Height are the box's sides in pixels.
func (f Face) Width() float32  { return f.Box[2] - f.Box[0] }
func (f Face) Height() float32 { return f.Box[3] - f.Box[1] }

// DetectOptions are the detector settings insightface exposes.
type DetectOptions struct {
	Size      int     // detector input side (square), a multiple of 32
	Threshold float32 // score threshold (insightface: 0.5)
	NMS       float32 // IoU above which a lower-scored box is suppressed (insightface: 0.4)
	// Upscale enlarges images smaller than the detector input to fill it,
	// as insightface's letterbox always does. Off, a small image is placed
	// unscaled (only larger ones shrink), which keeps a tight face crop at
	// a size the detector's anchors cover.
	Upscale bool
}

// DefaultDetect is insightface's SCRFD setting: 640×640, threshold 0.5,
// NMS 0.4; small images are not enlarged (a tight face crop enlarged to
// 640 px is past SCRFD's largest anchors and is missed).
func DefaultDetect() DetectOptions {
	return DetectOptions{Size: 640, Threshold: 0.5, NMS: 0.4}
}

// Validate checks the options and says what to change.
func (o DetectOptions) Validate() error {
	if o.Size < 32 || o.Size > 2048 || o.Size%32 != 0 {
		return fmt.Errorf("detector size %d: must be a multiple of 32 in 32..2048 (SCRFD's largest stride is 32)", o.Size)
	}
	if o.Threshold <= 0 || o.Threshold >= 1 {
		return fmt.Errorf("detector threshold %g: must be in (0,1)", o.Threshold)
	}
	if o.NMS <= 0 || o.NMS > 1 {
		return fmt.Errorf("NMS IoU %g: must be in (0,1]", o.NMS)
	}
	return nil
}

// strides are SCRFD's feature-map strides (the *_bnkps models: 3 levels, 2
// anchors per cell).
var strides = [3]int{8, 16, 32}

const anchorsPerCell = 2

// Detector runs an SCRFD model (insightface's face detector with 5
// keypoints) on one image at a time. It owns its Runners (one per input
// size it has met): use one Detector per goroutine; they may share the
// Model.
type Detector struct {
	model *onnx.Model
	opt   DetectOptions
	sized map[int]*sizedRunner
}

// sizedRunner is the detector graph at one input side, with the output
// index of scores, boxes and keypoints per stride.
type sizedRunner struct {
	run   *onnx.Runner
	level [3][3]int
}

// NewDetector checks opt and that m is an SCRFD detector with keypoints,
// building its graph at opt.Size.
func NewDetector(m *onnx.Model, opt DetectOptions) (*Detector, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	d := &Detector{model: m, opt: opt, sized: map[int]*sizedRunner{}}
	if _, err := d.runner(opt.Size); err != nil {
		return nil, err
	}
	return d, nil
}

// runner returns the graph at side×side, building it on first use and
// checking that the outputs are SCRFD's: per stride, scores (1 per
// anchor), box distances (4) and keypoint offsets (10).
func (d *Detector) runner(side int) (*sizedRunner, error) {
	if s := d.sized[side]; s != nil {
		return s, nil
	}
	r, err := d.model.NewRunner(1, side, side)
	if err != nil {
		return nil, fmt.Errorf("align: %s cannot run as the face detector (want an SCRFD model such as scrfd_2.5g_bnkps.onnx): %w", d.model.Path, err)
	}
	sr := &sizedRunner{run: r}
	kind := map[int]int{1: 0, 4: 1, 10: 2}
	found := 0
	for i := 0; i < r.Outputs(); i++ {
		s := r.OutputShape(i)
		if len(s) != 2 {
			continue
		}
		k, ok := kind[s[1]]
		for li, st := range strides {
			if ok && s[0] == (side/st)*(side/st)*anchorsPerCell {
				sr.level[li][k] = i
				found++
			}
		}
	}
	if r.Outputs() != 9 || found != 9 {
		return nil, fmt.Errorf("align: %s is not an SCRFD detector with keypoints: want 9 outputs (scores, boxes and 5 keypoints at strides 8/16/32, as insightface's scrfd_*_bnkps models have), got %d", d.model.Path, r.Outputs())
	}
	d.sized[side] = sr
	return sr, nil
}

// Options returns the detector's settings.
func (d *Detector) Options() DetectOptions { return d.opt }

// Detect finds the faces in img (whose bounds start at 0,0), highest
// score first, in img's pixel coordinates. The image goes into the
// detector as insightface letterboxes it: resized keeping its aspect
// (bilinear with half-pixel centres, like cv2.resize), placed at the top
// left on black, fed as RGB (p − 127.5)/128. Without Upscale, an image
// smaller than the detector input is not enlarged and runs at the
// smallest multiple of 32 holding it: the padding would only be black.
func (d *Detector) Detect(img *image.RGBA) ([]Face, error) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if w < 1 || h < 1 {
		return nil, nil
	}
	side := d.opt.Size
	nw, nh, scale := letterbox(w, h, side, d.opt.Upscale)
	if !d.opt.Upscale {
		side = min(side, (max(nw, nh)+31)/32*32)
	}
	sr, err := d.runner(side)
	if err != nil {
		return nil, err
	}
	fillInput(sr.run.Input(), img, nw, nh, side)
	if err := sr.run.Run(); err != nil {
		return nil, err
	}
	var faces []Face
	for li, st := range strides {
		lv := sr.level[li]
		faces = decodeLevel(faces, side, st, d.opt.Threshold, sr.run.Output(lv[0]), sr.run.Output(lv[1]), sr.run.Output(lv[2]))
	}
	for i := range faces {
		for j := range faces[i].Box {
			faces[i].Box[j] /= scale
		}
		for j := range faces[i].Landmarks {
			faces[i].Landmarks[j][0] /= scale
			faces[i].Landmarks[j][1] /= scale
		}
	}
	return nms(faces, d.opt.NMS), nil
}

// letterbox returns the size an image of w×h takes in a size×size input
// and the scale applied: insightface's rule (the longer side fills the
// input, the other is truncated to an integer), without enlarging when
// upscale is off.
func letterbox(w, h, size int, upscale bool) (nw, nh int, scale float32) {
	if !upscale && w <= size && h <= size {
		return w, h, 1
	}
	ratio := float64(h) / float64(w)
	if ratio > 1 {
		nh = size
		nw = int(float64(nh) / ratio)
	} else {
		nw = size
		nh = int(float64(nw) * ratio)
	}
	nw, nh = max(nw, 1), max(nh, 1)
	return nw, nh, float32(nh) / float32(h)
}

// fillInput writes img resized to nw×nh at the top left of a size×size
// CHW input, the rest black, normalised as (p − 127.5)/128. The resize is
// cv2.resize's INTER_LINEAR (half-pixel centres, edge clamped, rounded to
// 8 bits), which insightface's detector was run with.
func fillInput(dst []float32, img *image.RGBA, nw, nh, size int) {
	const black = (0 - 127.5) / 128
	plane := size * size
	for i := range dst[:3*plane] {
		dst[i] = black
	}
	w, h := img.Rect.Dx(), img.Rect.Dy()
	xs := bilinearTaps(nw, w)
	ys := bilinearTaps(nh, h)
	for y := 0; y < nh; y++ {
		ty := ys[y]
		r0 := img.Pix[ty.i0*img.Stride:]
		r1 := img.Pix[ty.i1*img.Stride:]
		for x := 0; x < nw; x++ {
			tx := xs[x]
			for c := 0; c < 3; c++ {
				top := float32(r0[4*tx.i0+c])*(1-tx.f) + float32(r0[4*tx.i1+c])*tx.f
				bot := float32(r1[4*tx.i0+c])*(1-tx.f) + float32(r1[4*tx.i1+c])*tx.f
				v := float32(math.Round(float64(top*(1-ty.f) + bot*ty.f)))
				dst[c*plane+y*size+x] = (v - 127.5) / 128
			}
		}
	}
}

// tap is one output coordinate's two source neighbours and the weight of
// the second.
type tap struct {
	i0, i1 int
	f      float32
}

// bilinearTaps maps n output coordinates onto m source ones with
// half-pixel centres, clamping at the edges.
func bilinearTaps(n, m int) []tap {
	out := make([]tap, n)
	scale := float64(m) / float64(n)
	for i := range out {
		s := (float64(i)+0.5)*scale - 0.5
		i0 := int(math.Floor(s))
		f := float32(s - float64(i0))
		if i0 < 0 {
			i0, f = 0, 0
		}
		if i0 >= m-1 {
			i0, f = m-1, 0
		}
		out[i] = tap{i0: i0, i1: min(i0+1, m-1), f: f}
	}
	return out
}

// decodeLevel appends the anchors of one stride scoring at least the
// threshold, decoded as insightface does: anchor centres on the grid
// (x·stride, y·stride), two anchors per cell; a box is the centre minus
// (left, top) and plus (right, bottom) distances, a keypoint the centre
// plus its offset, all predicted in stride units.
func decodeLevel(faces []Face, side, stride int, thresh float32, scores, boxes, kps []float32) []Face {
	cols := side / stride
	s := float32(stride)
	for a, score := range scores {
		if score < thresh {
			continue
		}
		cell := a / anchorsPerCell
		cx, cy := float32(cell%cols)*s, float32(cell/cols)*s
		b := boxes[4*a : 4*a+4]
		f := Face{Score: score, Box: [4]float32{cx - b[0]*s, cy - b[1]*s, cx + b[2]*s, cy + b[3]*s}}
		k := kps[10*a : 10*a+10]
		for j := range f.Landmarks {
			f.Landmarks[j] = [2]float32{cx + k[2*j]*s, cy + k[2*j+1]*s}
		}
		faces = append(faces, f)
	}
	return faces
}

// nms keeps the highest-scored box of every cluster whose IoU exceeds
// thresh, as insightface computes it (areas with the +1 pixel convention).
func nms(faces []Face, thresh float32) []Face {
	sort.SliceStable(faces, func(i, j int) bool { return faces[i].Score > faces[j].Score })
	area := func(f Face) float32 { return (f.Box[2] - f.Box[0] + 1) * (f.Box[3] - f.Box[1] + 1) }
	var keep []Face
	dropped := make([]bool, len(faces))
	for i, f := range faces {
		if dropped[i] {
			continue
		}
		keep = append(keep, f)
		for j := i + 1; j < len(faces); j++ {
			if dropped[j] {
				continue
			}
			g := faces[j]
			iw := max(0, min(f.Box[2], g.Box[2])-max(f.Box[0], g.Box[0])+1)
			ih := max(0, min(f.Box[3], g.Box[3])-max(f.Box[1], g.Box[1])+1)
			inter := iw * ih
			if inter/(area(f)+area(g)-inter) > thresh {
				dropped[j] = true
			}
		}
	}
	return keep
}

// Pick chooses one face of several: "largest" by box area, or "central"
// by insightface's default ranking (area minus twice the squared distance
// of the box centre from the image centre), for an image of w×h.
func Pick(faces []Face, how string, w, h int) int {
	best, bestV := -1, float32(math.Inf(-1))
	for i, f := range faces {
		v := f.Width() * f.Height()
		if how == PickCentral {
			dx := (f.Box[0]+f.Box[2])/2 - float32(w/2)
			dy := (f.Box[1]+f.Box[3])/2 - float32(h/2)
			v -= 2 * (dx*dx + dy*dy)
		}
		if v > bestV {
			best, bestV = i, v
		}
	}
	return best
}

// The ways Pick chooses among several faces.
const (
	PickLargest = "largest"
	PickCentral = "central"
)
