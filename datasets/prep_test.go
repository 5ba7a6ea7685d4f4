package datasets

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
)

func TestParseCrop(t *testing.T) {
	tests := []struct {
		in, want string
		err      string
	}{
		{"", "none", ""},
		{"none", "none", ""},
		{"centre:120", "centre:120", ""},
		{"center:120", "centre:120", ""},
		{"centre:48%", "centre:48%", ""},
		{"box:65,70,120,110", "box:65,70,120,110", ""},
		{"centre:0", "", "positive number of pixels"},
		{"centre:150%", "", "(0, 100]"},
		{"box:1,2,3", "", "four numbers"},
		{"box:1,2,0,4", "", "must be positive"},
		{"square", "", "unknown crop square"},
	}
	for _, tc := range tests {
		c, err := ParseCrop(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "data.crop="+tc.in) {
				t.Errorf("ParseCrop(%q): err %v, want one naming the value and %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || c.String() != tc.want {
			t.Errorf("ParseCrop(%q) = %s, %v; want %s", tc.in, c, err, tc.want)
		}
	}
}

// frame is a 250×200 image: grey background, a red 40×40 square at
// (105,80) — the "face" — and a blue 10-px border.
func frame(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 250, 200))
	for y := 0; y < 200; y++ {
		for x := 0; x < 250; x++ {
			c := color.RGBA{100, 100, 100, 255}
			switch {
			case x < 10 || y < 10 || x >= 240 || y >= 190:
				c = color.RGBA{0, 0, 255, 255}
			case x >= 105 && x < 145 && y >= 80 && y < 120:
				c = color.RGBA{200, 0, 0, 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPrepCropsAndGreys(t *testing.T) {
	data := frame(t)
	px := func(p Prep) []uint8 {
		t.Helper()
		var d decoder
		d.SetPrep(p)
		out := make([]uint8, 8*8*3)
		if err := d.decode(data, 8, out, "frame.png"); err != nil {
			t.Fatal(err)
		}
		return out
	}
	at := func(b []uint8, x, y int) [3]uint8 { i := (y*8 + x) * 3; return [3]uint8{b[i], b[i+1], b[i+2]} }

	// The default centre square (200×200) still shows the blue border.
	if c := at(px(Prep{}), 0, 0); int(c[2]) < int(c[0])+40 {
		t.Errorf("default crop corner %v, want the blue border", c)
	}
	// centre:40 and box:105,80,40,40 are the red face only.
	for _, c := range []string{"centre:40", "box:105,80,40,40", "centre:20%"} {
		crop, err := ParseCrop(c)
		if err != nil {
			t.Fatal(err)
		}
		out := px(Prep{Crop: crop})
		for _, xy := range [][2]int{{0, 0}, {7, 7}, {4, 4}} {
			if got := at(out, xy[0], xy[1]); got[0] < 180 || got[1] > 20 || got[2] > 20 {
				t.Errorf("%s: pixel %v = %v, want the red face", c, xy, got)
			}
		}
	}
	// Grey: three equal channels with BT.601 luma of red 200: 60.
	out := px(Prep{Grey: true, Crop: Crop{Centre: 40}})
	if got := at(out, 4, 4); got != [3]uint8{60, 60, 60} {
		t.Errorf("grey face pixel %v, want [60 60 60]", got)
	}
	// A box outside the frame is refused with the file named.
	var d decoder
	d.SetPrep(Prep{Crop: Crop{Box: image.Rect(200, 150, 300, 250)}})
	err := d.decode(data, 8, make([]uint8, 8*8*3), "frame.png")
	if err == nil || !strings.Contains(err.Error(), "frame.png") || !strings.Contains(err.Error(), "outside the 250×200 image") {
		t.Errorf("box outside the frame: %v", err)
	}
}
