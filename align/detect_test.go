package align

import (
	"encoding/json"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/ccface/ccface/datasets"
	"github.com/ccface/ccface/engine/onnx"
)

const (
	sharedModels = "../../shared/models"
	sharedData   = "../../shared/data"
)

// loadDetector loads the shared SCRFD file, skipping when it is absent.
func loadDetector(t testing.TB) *onnx.Model {
	t.Helper()
	path := filepath.Join(sharedModels, "scrfd_2.5g_bnkps.onnx")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("needs the shared detector %s (not in this checkout): %v", path, err)
	}
	m, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// refCase is one case of testdata/scrfd_ref.json (scripts/scrfd_ref.py).
type refCase struct {
	Name    string
	Canvas  []int
	Paste   [][3]json3
	Det     int
	Upscale bool
	Size    []int
	Faces   []struct {
		Score       float64
		Box         [4]float64
		Landmarks   [5][2]float64
		Matrix      [2][3]float64
		CropMean    [3]float64 `json:"crop_mean"`
		CropSamples [][5]int   `json:"crop_samples"`
	}
}

// buildCase makes the case's input as the script does: one shared image,
// or a black canvas with images pasted at integer offsets.
func buildCase(t *testing.T, c refCase) *image.RGBA {
	t.Helper()
	var img *image.RGBA
	if len(c.Canvas) == 2 {
		img = image.NewRGBA(image.Rect(0, 0, c.Canvas[0], c.Canvas[1]))
		for i := 3; i < len(img.Pix); i += 4 {
			img.Pix[i] = 255
		}
	}
	for _, p := range c.Paste {
		var rel string
		var x, y int
		if json.Unmarshal(p[0], &rel) != nil || json.Unmarshal(p[1], &x) != nil || json.Unmarshal(p[2], &y) != nil {
			t.Fatalf("case %s: bad paste entry", c.Name)
		}
		part, err := datasets.ReadImage(filepath.Join(sharedData, rel))
		if err != nil {
			t.Skipf("needs the shared data: %v", err)
		}
		if img == nil {
			img = part
			continue
		}
		for r := 0; r < part.Rect.Dy(); r++ {
			copy(img.Pix[(y+r)*img.Stride+4*x:], part.Pix[r*part.Stride:r*part.Stride+4*part.Rect.Dx()])
		}
	}
	return img
}

func loadRef(t *testing.T) []refCase {
	t.Helper()
	raw, err := os.ReadFile("testdata/scrfd_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct{ Cases []refCase }
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	return ref.Cases
}

// TestDetectMatchesReference compares boxes, scores and landmarks after
// ccface's post-processing with an independent run of the same file
// (PyTorch graph, insightface's post-processing in numpy/OpenCV):
// same faces, within a pixel.
func TestDetectMatchesReference(t *testing.T) {
	m := loadDetector(t)
	for _, c := range loadRef(t) {
		t.Run(c.Name, func(t *testing.T) {
			img := buildCase(t, c)
			if img.Rect.Dx() != c.Size[0] || img.Rect.Dy() != c.Size[1] {
				t.Fatalf("input is %v, the reference's %v", img.Rect.Size(), c.Size)
			}
			d, err := NewDetector(m, DetectOptions{Size: c.Det, Threshold: 0.5, NMS: 0.4, Upscale: c.Upscale})
			if err != nil {
				t.Fatal(err)
			}
			faces, err := d.Detect(img)
			if err != nil {
				t.Fatal(err)
			}
			if len(faces) != len(c.Faces) {
				t.Fatalf("%d faces, the reference has %d: %+v", len(faces), len(c.Faces), faces)
			}
			worst := 0.0
			for i, want := range c.Faces {
				got := faces[i]
				for j := range want.Box {
					worst = math.Max(worst, math.Abs(float64(got.Box[j])-want.Box[j]))
				}
				for j := range want.Landmarks {
					for k := 0; k < 2; k++ {
						worst = math.Max(worst, math.Abs(float64(got.Landmarks[j][k])-want.Landmarks[j][k]))
					}
				}
				if math.Abs(float64(got.Score)-want.Score) > 0.02 {
					t.Errorf("face %d: score %.4f, reference %.4f", i, got.Score, want.Score)
				}
			}
			if worst > 1 {
				t.Errorf("boxes or landmarks differ from the reference by up to %.3f px", worst)
			}
			t.Logf("largest difference %.3f px", worst)
		})
	}
}

// TestAlignMatchesReference checks the similarity against skimage's
// SimilarityTransform (what insightface's estimate_norm calls) on the
// reference landmarks, and the warp against cv2.warpAffine's crop at
// sampled pixels.
func TestAlignMatchesReference(t *testing.T) {
	for _, c := range loadRef(t) {
		t.Run(c.Name, func(t *testing.T) {
			img := buildCase(t, c)
			for i, f := range c.Faces {
				var face Face
				for j, p := range f.Landmarks {
					face.Landmarks[j] = [2]float32{float32(p[0]), float32(p[1])}
				}
				s, err := AlignTransform(face, 112)
				if err != nil {
					t.Fatal(err)
				}
				got := s.Matrix()
				for r := range got {
					for k := range got[r] {
						if d := math.Abs(got[r][k] - f.Matrix[r][k]); d > 1e-4*(1+math.Abs(f.Matrix[r][k])) {
							t.Errorf("face %d: M[%d][%d] = %.6f, skimage %.6f", i, r, k, got[r][k], f.Matrix[r][k])
						}
					}
				}
				crop := Warp(img, s, 112)
				sum, n := 0.0, 0
				for _, p := range f.CropSamples {
					o := crop.Pix[p[1]*crop.Stride+4*p[0]:]
					for k := 0; k < 3; k++ {
						sum += math.Abs(float64(o[k]) - float64(p[2+k]))
						n++
					}
				}
				// JPEG decoders and cv2's 1/32-pixel fixed point differ by a few levels.
				if mean := sum / float64(n); mean > 4 {
					t.Errorf("face %d: crop differs from cv2.warpAffine's by %.2f levels on average at the samples", i, mean)
				} else {
					t.Logf("face %d: mean difference to cv2.warpAffine %.2f levels", i, mean)
				}
			}
		})
	}
}

// json3 is one field of a paste entry: a path or an offset.
type json3 = json.RawMessage
