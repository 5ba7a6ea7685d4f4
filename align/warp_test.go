package align

import (
	"image"
	"math"
	"testing"
)

// TestEstimateSimilarityRecoversKnownMap fits points moved by a known
// similarity (exact recovery), and checks Inverse undoes Apply.
func TestEstimateSimilarityRecoversKnownMap(t *testing.T) {
	want := Similarity{A: 0.8 * math.Cos(0.3), B: 0.8 * math.Sin(0.3), TX: 12.5, TY: -7}
	src := [][2]float64{{10, 20}, {60, 22}, {35, 50}, {15, 80}, {58, 78}}
	dst := make([][2]float64, len(src))
	for i, p := range src {
		dst[i][0], dst[i][1] = want.Apply(p[0], p[1])
	}
	got, err := EstimateSimilarity(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []float64{got.A - want.A, got.B - want.B, got.TX - want.TX, got.TY - want.TY} {
		if math.Abs(d) > 1e-9 {
			t.Fatalf("fit %+v, want %+v", got, want)
		}
	}
	x, y := got.Inverse().Apply(got.Apply(3, 4))
	if math.Abs(x-3) > 1e-9 || math.Abs(y-4) > 1e-9 {
		t.Fatalf("inverse maps back to (%g,%g), want (3,4)", x, y)
	}
	if _, err := EstimateSimilarity([][2]float64{{1, 1}, {1, 1}}, [][2]float64{{0, 0}, {1, 1}}); err == nil {
		t.Fatal("coincident landmarks: want an error")
	}
}

// TestTemplateSizes checks insightface's rule: multiples of 112 scale the
// template, other sizes use the 128 frame shifted 8 px.
func TestTemplateSizes(t *testing.T) {
	if got := Template(224)[0]; math.Abs(got[0]-2*38.2946) > 1e-9 || math.Abs(got[1]-2*51.6963) > 1e-9 {
		t.Errorf("224: left eye %v", got)
	}
	if got := Template(128)[0]; math.Abs(got[0]-(38.2946+8)) > 1e-9 || math.Abs(got[1]-51.6963) > 1e-9 {
		t.Errorf("128: left eye %v, want (46.2946, 51.6963)", got)
	}
}

// TestWarpAntialiasesWhenShrinking warps a one-pixel checkerboard down 4×:
// a point-sampling warp returns black or white pixels, a box-filtered one
// the mean grey.
func TestWarpAntialiasesWhenShrinking(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 256, 256))
	for y := 0; y < 256; y++ {
		for x := 0; x < 256; x++ {
			v := uint8(0)
			if (x+y)%2 == 0 {
				v = 255
			}
			o := src.Pix[y*src.Stride+4*x:]
			o[0], o[1], o[2], o[3] = v, v, v, 255
		}
	}
	out := Warp(src, Similarity{A: 0.25, TX: 0.1, TY: 0.1}, 32)
	for y := 4; y < 28; y++ {
		for x := 4; x < 28; x++ {
			if v := out.Pix[y*out.Stride+4*x]; v < 112 || v > 143 {
				t.Fatalf("pixel (%d,%d) = %d, want about 128 (aliasing)", x, y, v)
			}
		}
	}
	// At scale 1 with an integer shift the warp is an exact copy.
	same := Warp(src, Similarity{A: 1, TX: -10, TY: -20}, 32)
	for y := 0; y < 32; y++ {
		for x := 0; x < 32; x++ {
			if same.Pix[y*same.Stride+4*x] != src.Pix[(y+20)*src.Stride+4*(x+10)] {
				t.Fatalf("pixel (%d,%d) not copied", x, y)
			}
		}
	}
}

// TestNMSAndPick works a hand case: two overlapping boxes (IoU > 0.4) and
// one apart; the overlap keeps its best score; largest and central choose
// differently.
func TestNMSAndPick(t *testing.T) {
	faces := []Face{
		{Box: [4]float32{0, 0, 99, 99}, Score: 0.7},       // large, off-centre
		{Box: [4]float32{5, 5, 104, 104}, Score: 0.9},     // overlaps the first: IoU ≈ 0.82
		{Box: [4]float32{180, 130, 220, 170}, Score: 0.6}, // small, at the centre of 400×300
	}
	kept := nms(faces, 0.4)
	if len(kept) != 2 || kept[0].Score != 0.9 || kept[1].Score != 0.6 {
		t.Fatalf("kept %+v, want the 0.9 and 0.6 boxes", kept)
	}
	if i := Pick(kept, PickLargest, 400, 300); i != 0 {
		t.Errorf("largest picked %d, want 0", i)
	}
	if i := Pick(kept, PickCentral, 400, 300); i != 1 {
		t.Errorf("central picked %d, want 1", i)
	}
}

// TestLetterbox follows insightface's rule and the no-upscale variant.
func TestLetterbox(t *testing.T) {
	for _, c := range []struct {
		w, h, size int
		up         bool
		nw, nh     int
	}{
		{92, 112, 160, true, 131, 160},
		{400, 300, 320, true, 320, 240},
		{92, 112, 160, false, 92, 112},
		{400, 300, 320, false, 320, 240},
	} {
		nw, nh, scale := letterbox(c.w, c.h, c.size, c.up)
		if nw != c.nw || nh != c.nh || math.Abs(float64(scale)-float64(nh)/float64(c.h)) > 1e-6 {
			t.Errorf("%dx%d into %d (upscale %v): %dx%d scale %g, want %dx%d", c.w, c.h, c.size, c.up, nw, nh, scale, c.nw, c.nh)
		}
	}
}
