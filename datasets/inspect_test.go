package datasets

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func inspectText(t *testing.T, path string, opt InspectOptions) (*Report, string) {
	t.Helper()
	r, err := Inspect(path, opt)
	if err != nil {
		t.Fatalf("Inspect(%s): %v", path, err)
	}
	t.Cleanup(func() { r.Close() })
	var b bytes.Buffer
	r.WriteText(&b)
	return r, b.String()
}

func wantLines(t *testing.T, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("report lacks %q:\n%s", w, text)
		}
	}
}

func TestInspectRecordIO(t *testing.T) {
	r, text := inspectText(t, "testdata/rec/insight.rec", InspectOptions{})
	if r.Images != 8 || r.Identities != 3 || r.Read != 8 || r.UnreadableCount != 0 || r.BGRSuspect() {
		t.Errorf("report %+v", r)
	}
	wantLines(t, text, "MXNet RecordIO", "images       8\n", "identities   3\n", "min 2, median 3, max 3",
		"2          1 ", "3-5        2 ", "sizes        20×24: 5, 24×24: 3", "grey: 1", "jpeg: 4, png: 4",
		"unreadable   0", "duplicates   none", "RGB order looks right")

	_, text = inspectText(t, "testdata/rec/bgr.rec", InspectOptions{})
	wantLines(t, text, "WARNING: the face centre is bluer than it is red in 6 of 6", "channels look swapped (BGR)")
}

func TestInspectBadData(t *testing.T) {
	r, text := inspectText(t, "testdata/bad/broken.rec", InspectOptions{})
	if r.UnreadableCount != 3 || r.TooLarge != 1 {
		t.Errorf("%d unreadable (%d too large), want 3 (1)", r.UnreadableCount, r.TooLarge)
	}
	wantLines(t, text, "unreadable   3 (1 over the 16777216-pixel limit)",
		"broken.rec key 3 (offset 992): cannot decode jpeg 20×24: unexpected EOF (truncated or corrupt)",
		"broken.rec key 4 (offset 1488): not a PNG or JPEG image",
		"broken.rec key 5 (offset 1544): image too large to decode safely: png header says 16384×16384",
		"broken.rec: key 2: no image data after the header; skipped")

	// A folder with every kind of bad file, and duplicates across identities.
	dir := t.TempDir()
	good := mustRead(t, "testdata/pairs/lfw/Ann_Lee/Ann_Lee_0001.jpg")
	writeFile(t, filepath.Join(dir, "ann", "1.jpg"), good)
	writeFile(t, filepath.Join(dir, "ann", "2.jpg"), mustRead(t, "testdata/pairs/lfw/Ann_Lee/Ann_Lee_0002.jpg"))
	writeFile(t, filepath.Join(dir, "bo", "copy.jpg"), good)
	writeFile(t, filepath.Join(dir, "bo", "empty.png"), nil)
	writeFile(t, filepath.Join(dir, "bo", "cut.jpg"), good[:len(good)/3])
	writeFile(t, filepath.Join(dir, "bo", "text.jpg"), []byte("I am a text file"))
	writeFile(t, filepath.Join(dir, "bo", "bomb.png"), mustRead(t, "testdata/bad/bomb.png"))
	writeFile(t, filepath.Join(dir, "bo", "notes.txt"), []byte("x"))
	r, text = inspectText(t, dir, InspectOptions{})
	if r.Images != 7 || r.UnreadableCount != 4 || len(r.Duplicates) != 1 || r.DuplicateCross != 1 {
		t.Errorf("%d images, %d unreadable, %d duplicate groups (%d across ids); want 7, 4, 1, 1", r.Images, r.UnreadableCount, len(r.Duplicates), r.DuplicateCross)
	}
	wantLines(t, text, "empty.png: empty (0 bytes)", "cut.jpg: cannot decode jpeg", "text.jpg: not a PNG or JPEG image",
		"bomb.png: image too large", "1 groups of byte-identical images (2 images), 1 across identities (label noise?)",
		filepath.Join(dir, "ann", "1.jpg")+" = "+filepath.Join(dir, "bo", "copy.jpg"), "ignored      1 non-image files")
}

func TestInspectEvalFormats(t *testing.T) {
	_, text := inspectText(t, "testdata/bin/lfw_p2.bin", InspectOptions{})
	wantLines(t, text, "verification pickle", "images       12", "identities   none recorded", "pairs        6: 3 same, 3 different, in 6 folds")
	_, text = inspectText(t, "testdata/pairs/pairs_missing.txt", InspectOptions{})
	wantLines(t, text, "pairs        6: 3 same, 3 different, in 2 folds", "problems     2", "line 3: Bo_Chen/Bo_Chen_0007.jpg: no such image")
	_, text = inspectText(t, "testdata/tinyface", InspectOptions{})
	wantLines(t, text, "TinyFace", "probes       5, 1 of them with no mate in the gallery", "gallery      3 matches + 3 distractors", "(+3 images with no identity)")
}

func TestInspectSampleAndSheet(t *testing.T) {
	r, text := inspectText(t, "testdata/rec/plain.rec", InspectOptions{Sample: 3, Seed: 2})
	if r.Read != 3 {
		t.Errorf("read %d, want a sample of 3", r.Read)
	}
	wantLines(t, text, "images       7 (read 3, a fixed random sample")
	img, err := r.Sheet(3, 2, 2, 24, DefaultDegrade(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 3*(48+2)+2 || b.Dy() != 3*(48+14+2)+2 {
		t.Errorf("sheet %v", b)
	}
	out := filepath.Join(t.TempDir(), "sheet.png")
	if err := WritePNG(out, img); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(out); err != nil || info.Size() == 0 {
		t.Errorf("sheet file: %v", err)
	}
	// A .bin has no identities: the sheet still draws (captioned by index).
	rb, _ := inspectText(t, "testdata/bin/lfw_p4.bin", InspectOptions{})
	if _, err := rb.Sheet(4, 1, 1, 16, DefaultDegrade(), 1); err != nil {
		t.Error(err)
	}
}

func TestInspectErrors(t *testing.T) {
	for _, c := range []struct{ path, want string }{
		{"testdata/nothing-here", "no such file"},
		{"testdata/gen/gen.py", "unknown data format"},
		{"testdata/bin/dict.bin", "dict.bin"},
	} {
		if _, err := Inspect(c.path, InspectOptions{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Inspect(%s) = %v, want %q", c.path, err, c.want)
		}
	}
}

func TestInspectRealCelebA(t *testing.T) {
	dir := needData(t, "celeba298")
	r, text := inspectText(t, dir, InspectOptions{Sample: 300, Seed: 1})
	if r.Identities != 298 || r.Read != 300 || r.BGRSuspect() {
		t.Errorf("celeba298: %d ids, read %d, BGR suspect %v:\n%s", r.Identities, r.Read, r.BGRSuspect(), text)
	}
	if r.MeanRGB[0] <= r.MeanRGB[2] {
		t.Errorf("real faces: mean centre R %.0f <= B %.0f", r.MeanRGB[0], r.MeanRGB[2])
	}
	t.Logf("celeba298 sample: mean centre RGB %.0f %.0f %.0f, bluer than red in %d of %d", r.MeanRGB[0], r.MeanRGB[1], r.MeanRGB[2], r.BlueOverRed, r.ColourImages)
}

// Grey faces stored as RGB are reported as RGB files without colour, not
// as "RGB" then "no colour images (grey)".
func TestInspectGreyStoredAsRGB(t *testing.T) {
	dir := t.TempDir()
	for id := 0; id < 2; id++ {
		for k := 0; k < 2; k++ {
			img := image.NewRGBA(image.Rect(0, 0, 16, 16))
			for i := range img.Pix {
				img.Pix[i] = uint8(40 * (id + k + 1))
			}
			var b bytes.Buffer
			if err := png.Encode(&b, img); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, fmt.Sprintf("id%d", id), fmt.Sprintf("%d.png", k)), b.Bytes())
		}
	}
	_, text := inspectText(t, dir, InspectOptions{})
	wantLines(t, text, "RGB-encoded images have equal channels (grey stored as RGB)")
	if strings.Contains(text, "no colour images (grey)") {
		t.Errorf("report contradicts its channel count:\n%s", text)
	}
}
