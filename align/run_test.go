package align

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	xdraw "golang.org/x/image/draw"

	"github.com/ccface/ccface/datasets"
)

// writeFile writes data under dir, making folders.
func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func sharedFile(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sharedData, rel))
	if err != nil {
		t.Skipf("needs the shared data (%v)", err)
	}
	return data
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// uniform is a w×h image of one grey level: no face in it.
func uniform(w, h int, v uint8) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	return img
}

// twoFaces pastes two shared faces on a black 400×300 canvas (as the
// reference case two-faces-shrunk does).
func twoFaces(t *testing.T) *image.RGBA {
	return buildCase(t, refCase{Name: "two", Canvas: []int{400, 300}, Paste: [][3]json3{
		{[]byte(`"celeba298/07201/007710.jpg"`), []byte("20"), []byte("40")},
		{[]byte(`"orl/s2/1.png"`), []byte("250"), []byte("120")},
	}})
}

// TestRunNamesAndCountsBadInput aligns a folder holding two faces, an
// image with two faces, a blank image, a 10×10 image, a truncated JPEG and
// a text file named .png: the faces are written in the identity layout,
// every other file is named and counted, nothing crashes, and a second run
// into the same folder is refused without touching it.
func TestRunNamesAndCountsBadInput(t *testing.T) {
	m := loadDetector(t)
	in := filepath.Join(t.TempDir(), "in")
	jpeg := sharedFile(t, "celeba298/07201/001085.jpg")
	writeFile(t, filepath.Join(in, "alice", "a.jpg"), jpeg)
	writeFile(t, filepath.Join(in, "alice", "b.png"), sharedFile(t, "orl/s1/1.png"))
	writeFile(t, filepath.Join(in, "bob", "group.png"), encodePNG(t, twoFaces(t)))
	writeFile(t, filepath.Join(in, "bob", "blank.png"), encodePNG(t, uniform(112, 112, 128)))
	writeFile(t, filepath.Join(in, "bob", "tiny.png"), encodePNG(t, uniform(10, 10, 90)))
	writeFile(t, filepath.Join(in, "bob", "cut.jpg"), jpeg[:len(jpeg)/3])
	writeFile(t, filepath.Join(in, "bob", "notes.png"), []byte("these are my notes, not a picture\n"))

	out := filepath.Join(t.TempDir(), "out")
	opt := DefaultOptions()
	opt.Detect.Size, opt.Pick, opt.Workers = 320, PickLargest, 2
	var progress bytes.Buffer
	rep, err := Run(m, in, out, opt, &progress)
	if err != nil {
		t.Fatal(err)
	}
	want := [4]int{Aligned: 2, Several: 1, NoFace: 2, Unreadable: 2}
	if rep.Counts != want || rep.Total != 7 {
		t.Fatalf("counts %v of %d, want %v of 7; problems:\n%s", rep.Counts, rep.Total, want, strings.Join(rep.Problems, "\n"))
	}
	for _, w := range []string{"group.png: 2 faces, kept the largest", "blank.png: no face (112×112", "tiny.png: no face (10×10",
		"cut.jpg: unreadable: cannot decode jpeg", "notes.png: unreadable: not a PNG or JPEG"} {
		if !strings.Contains(strings.Join(rep.Problems, "\n"), w) {
			t.Errorf("problems lack %q:\n%s", w, strings.Join(rep.Problems, "\n"))
		}
	}
	for _, rel := range []string{"alice/a.png", "alice/b.png", "bob/group.png"} {
		img, err := datasets.ReadImage(filepath.Join(out, rel))
		if err != nil || img.Rect.Dx() != 112 || img.Rect.Dy() != 112 {
			t.Errorf("%s: %v (want a 112×112 crop)", rel, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "bob", "blank.png")); err == nil {
		t.Error("a crop was written for the blank image")
	}
	report, err := os.ReadFile(ReportPath(out))
	if err != nil || !strings.Contains(string(report), "7 images: 3 aligned (1 of them had several faces, largest kept), 2 no face, 2 unreadable") ||
		!strings.Contains(string(report), "notes.png") {
		t.Errorf("report (%v):\n%s", err, report)
	}
	if _, err := datasets.ReadImage(SheetPath(out)); err != nil {
		t.Errorf("contact sheet: %v", err)
	}
	if _, err := os.Stat(out + ".partial"); err == nil {
		t.Error("the .partial folder was left behind")
	}

	// The aligned folder is a training folder: both identities load.
	set, err := datasets.LoadFolder(out, 32, datasets.Prep{})
	if err != nil || set.NumIDs() != 2 || set.Len() != 3 {
		t.Errorf("aligned folder as a data set: %v", err)
	}

	if _, err := Run(m, in, out, opt, &progress); err == nil || !strings.Contains(err.Error(), "exists and is not empty") {
		t.Errorf("second run into %s: %v, want a refusal", out, err)
	}
	if _, err := os.Stat(filepath.Join(out, "alice", "a.png")); err != nil {
		t.Errorf("the refused run touched the earlier output: %v", err)
	}
	if _, err := Run(m, in, filepath.Join(in, "aligned"), opt, &progress); err == nil || !strings.Contains(err.Error(), "inside the input folder") {
		t.Errorf("output inside the input: %v", err)
	}
}

// TestRunSingleImageAndRecordIO aligns one image file, and a .rec with a
// face and a corrupt record.
func TestRunSingleImageAndRecordIO(t *testing.T) {
	m := loadDetector(t)
	dir := t.TempDir()
	face := sharedFile(t, "orl/s3/1.png")
	single := filepath.Join(dir, "me.png")
	writeFile(t, single, face)
	opt := DefaultOptions()
	opt.Detect.Size = 160
	rep, err := Run(m, single, filepath.Join(dir, "one"), opt, &bytes.Buffer{})
	if err != nil || rep.Written() != 1 {
		t.Fatalf("single image: %v", err)
	}
	if _, err := datasets.ReadImage(filepath.Join(dir, "one", "me.png")); err != nil {
		t.Error(err)
	}

	stem := filepath.Join(dir, "faces")
	writeRec(t, stem, [][]byte{face, []byte("garbage, not an image"), sharedFile(t, "orl/s4/1.png")}, []int{0, 0, 1})
	rep, err = Run(m, stem+".rec", filepath.Join(dir, "rec"), opt, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Written() != 2 || rep.Counts[Unreadable] != 1 || !strings.Contains(rep.Problems[0], "not a PNG or JPEG") {
		t.Fatalf("counts %v, problems %v", rep.Counts, rep.Problems)
	}
	set, err := datasets.LoadFolder(filepath.Join(dir, "rec"), 32, datasets.Prep{})
	if err != nil || set.NumIDs() != 2 {
		t.Errorf("aligned .rec as a folder: %v", err)
	}

	if _, err := Run(m, filepath.Join(dir, "missing"), filepath.Join(dir, "x"), opt, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing input: %v", err)
	}
}

// writeRec writes encoded images as an insightface RecordIO pair: per
// record the magic, the length, a 24-byte IRHeader (flag, label, id, id2)
// and the image, padded to 4 bytes.
func writeRec(t *testing.T, stem string, images [][]byte, labels []int) {
	t.Helper()
	var rec, idx bytes.Buffer
	for i, enc := range images {
		fmt.Fprintf(&idx, "%d\t%d\n", i, rec.Len())
		header := make([]byte, 24)
		binary.LittleEndian.PutUint32(header[4:], math.Float32bits(float32(labels[i])))
		binary.LittleEndian.PutUint64(header[8:], uint64(i))
		data := append(header, enc...)
		_ = binary.Write(&rec, binary.LittleEndian, uint32(0xced7230a))
		_ = binary.Write(&rec, binary.LittleEndian, uint32(len(data)))
		rec.Write(data)
		rec.Write(make([]byte, (4-len(data)%4)%4))
	}
	writeFile(t, stem+".rec", rec.Bytes())
	writeFile(t, stem+".idx", idx.Bytes())
}

// TestUpscaleFindsTinyFaces: a 20×24 face (ORL shrunk 4.6×) is below
// SCRFD's smallest anchors as it is, and found once --upscale enlarges it
// into a 128-px detector input.
func TestUpscaleFindsTinyFaces(t *testing.T) {
	m := loadDetector(t)
	big, err := datasets.ReadImage(filepath.Join(sharedData, "orl/s7/1.png"))
	if err != nil {
		t.Skipf("needs the shared data: %v", err)
	}
	tiny := image.NewRGBA(image.Rect(0, 0, 20, 24))
	xdraw.CatmullRom.Scale(tiny, tiny.Rect, big, big.Rect, xdraw.Src, nil)
	for _, up := range []bool{false, true} {
		d, err := NewDetector(m, DetectOptions{Size: 128, Threshold: 0.5, NMS: 0.4, Upscale: up})
		if err != nil {
			t.Fatal(err)
		}
		faces, err := d.Detect(tiny)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{false: 0, true: 1}[up]; len(faces) != want {
			t.Fatalf("upscale %v: %d faces, want %d", up, len(faces), want)
		}
		if up {
			f := faces[0]
			// eyes above the nose above the mouth, inside the image
			if !(f.Landmarks[0][1] < f.Landmarks[2][1] && f.Landmarks[2][1] < f.Landmarks[3][1]) || f.Box[2] > 26 {
				t.Errorf("implausible face on the tiny image: %+v", f)
			}
		}
	}
}
