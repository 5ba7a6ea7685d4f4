package plots

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden images in testdata/golden")

// Tolerances of the golden comparison. Anti-aliased text and line edges
// differ slightly between font rasterisers and CPUs: many pixels change a
// little. A missing, moved or restyled line changes few pixels a lot. So a
// figure passes when under goldenStrong of its pixels differ by more than a
// quarter of the full scale; one 1.1 pt line across the plot is 0.7% of the
// pixels at 100 dpi, a line moved by 3% of its height about 1%. The mean
// difference is a backstop for changes spread over the whole figure, such
// as a tinted background.
const (
	goldenMean   = 0.02
	goldenStrong = 0.0015
)

// imgDiff measures how far two images are apart.
type imgDiff struct {
	mean   float64 // mean absolute channel difference, 0..1
	strong float64 // share of pixels with a channel off by more than 0.25
}

func (d imgDiff) ok() bool { return d.mean <= goldenMean && d.strong <= goldenStrong }

func (d imgDiff) String() string {
	return fmt.Sprintf("mean diff %.5f (max %.4f), strongly changed pixels %.4f%% (max %.2f%%)",
		d.mean, goldenMean, 100*d.strong, 100*goldenStrong)
}

func compareImages(a, b image.Image) (imgDiff, error) {
	if a.Bounds().Size() != b.Bounds().Size() {
		return imgDiff{}, fmt.Errorf("size %v, golden %v", a.Bounds().Size(), b.Bounds().Size())
	}
	var sum float64
	strong := 0
	w, h := a.Bounds().Dx(), a.Bounds().Dy()
	for y := range h {
		for x := range w {
			r1, g1, b1, _ := a.At(a.Bounds().Min.X+x, a.Bounds().Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(b.Bounds().Min.X+x, b.Bounds().Min.Y+y).RGBA()
			worst := 0.0
			for _, d := range []float64{
				math.Abs(float64(r1)-float64(r2)) / 0xFFFF,
				math.Abs(float64(g1)-float64(g2)) / 0xFFFF,
				math.Abs(float64(b1)-float64(b2)) / 0xFFFF,
			} {
				sum += d
				worst = math.Max(worst, d)
			}
			if worst > 0.25 {
				strong++
			}
		}
	}
	n := float64(w * h)
	return imgDiff{mean: sum / (3 * n), strong: float64(strong) / n}, nil
}

// goldenCase is a set of figures to render and compare.
type goldenCase struct {
	prefix string
	runs   func() []Run
	opt    Options
	only   []string
}

func goldenCases() []goldenCase {
	return []goldenCase{
		{"", runs1, Options{Smooth: 0.6}, FigureNames()},
		{"two_", runs2, Options{Smooth: 0.6}, []string{FigLoss, FigMargins, FigEval, FigROC, FigResolution, FigMarginHist}},
	}
}

// renderPNGs renders the case's figures to PNG, keyed by golden file name.
func renderPNGs(t *testing.T, c goldenCase, edit func(*figure)) map[string][]byte {
	t.Helper()
	opt, err := c.opt.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	opt.Only = c.only
	// 100 dpi keeps testdata small; a line is still hundreds of pixels.
	opt.DPI = 100
	figs, _ := build(c.runs(), opt)
	out := map[string][]byte{}
	for _, f := range figs {
		if edit != nil {
			edit(f)
		}
		data, err := render(f, opt)
		if err != nil {
			t.Fatal(err)
		}
		out[c.prefix+f.name+".png"] = data
	}
	if len(out) != len(c.only) {
		t.Fatalf("rendered %d of %d figures", len(out), len(c.only))
	}
	return out
}

func decodePNG(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func goldenPath(name string) string { return filepath.Join("testdata", "golden", name) }

func TestGoldenImages(t *testing.T) {
	for _, c := range goldenCases() {
		for name, data := range renderPNGs(t, c, nil) {
			path := goldenPath(name)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./plots -run TestGoldenImages -update to create it)", err)
			}
			d, err := compareImages(decodePNG(t, data), decodePNG(t, want))
			if err != nil || !d.ok() {
				got := filepath.Join(t.TempDir(), name)
				os.WriteFile(got, data, 0o644)
				t.Errorf("%s differs from its golden image: %v %v; got written to %s (run with -update if the change is intended)", name, d, err, got)
			}
		}
	}
}

// TestGoldenCatchesChanges proves the comparison can fail: a figure that
// lost one line, or whose line moved a little, must not pass, while
// anti-aliasing noise on every edge pixel must.
func TestGoldenCatchesChanges(t *testing.T) {
	if *update {
		t.Skip("updating goldens")
	}
	c := goldenCases()[0]
	c.only = []string{FigLoss, FigResolution, FigConsistency}
	golden := func(name string) image.Image {
		data, err := os.ReadFile(goldenPath(name))
		if err != nil {
			t.Skip("no golden image yet:", err)
		}
		return decodePNG(t, data)
	}
	for _, ch := range []struct {
		name string
		edit func(*figure)
	}{
		{"one line dropped", func(f *figure) {
			f.series = slices.DeleteFunc(f.series, func(s *series) bool {
				return s.key == "cluster_hr" || s.key == "hrlr.verif_acc" || s.key == "loss_cc_lr"
			})
		}},
		{"one line moved by 3% of its value", func(f *figure) {
			for _, s := range f.series {
				if s.key == "loss_cc_hr" || s.key == "rank1" || s.key == "ts_cos" {
					ys := make([]float64, len(s.ys))
					for i, y := range s.ys {
						ys[i] = y * 1.03
					}
					s.ys = ys
				}
			}
		}},
	} {
		for name, data := range renderPNGs(t, c, ch.edit) {
			d, err := compareImages(decodePNG(t, data), golden(name))
			if err == nil && d.ok() {
				t.Errorf("%s: %s passed the golden comparison (%v)", ch.name, name, d)
			}
			if name == "resolution.png" && err != nil {
				t.Errorf("%s: %s: want a pixel difference, got %v", ch.name, name, err)
			}
			t.Logf("%s: %s: %v %v", ch.name, name, d, err)
		}
	}
	for name := range renderPNGs(t, c, nil) {
		g := golden(name)
		noisy := jitterEdges(g, 40)
		d, err := compareImages(noisy, g)
		if err != nil || !d.ok() {
			t.Errorf("%s: edge noise failed the comparison: %v %v", name, d, err)
		}
		t.Logf("edge noise: %s: %v", name, d)
	}
}

// jitterEdges shifts every partly covered pixel (neither background nor a
// solid colour) by up to amount levels, as a different rasteriser would.
func jitterEdges(src image.Image, amount int) image.Image {
	dst := image.NewRGBA(src.Bounds())
	draw.Draw(dst, dst.Bounds(), src, src.Bounds().Min, draw.Src)
	nz := &noise{s: 42}
	for i := 0; i < len(dst.Pix); i += 4 {
		r, g, b := dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2]
		if (r == 255 && g == 255 && b == 255) || (r < 8 && g < 8 && b < 8) {
			continue
		}
		j := int(nz.next() * float64(amount))
		for k := range 3 {
			dst.Pix[i+k] = uint8(min(max(int(dst.Pix[i+k])+j, 0), 255))
		}
	}
	return dst
}
