package datasets

import (
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sharedData is the real data of /work/shared/data, relative to this
// package; tests that need it skip when it is absent.
const sharedData = "../../shared/data"

func needData(t *testing.T, set string) string {
	t.Helper()
	dir := filepath.Join(sharedData, set)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real data %s not present (%v); it lives outside the repo, next to it", dir, err)
	}
	return dir
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeImage(t *testing.T, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if strings.HasSuffix(strings.ToLower(path), ".png") {
		err = png.Encode(f, img)
	} else {
		err = jpeg.Encode(f, img, &jpeg.Options{Quality: 95})
	}
	if err != nil {
		t.Fatal(err)
	}
}

// bars is w×h: red left quarter, green middle half, blue right quarter, so a
// correct centre crop of a 2:1 image is all green.
func bars(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{0, 200, 0, 255}
			if x < w/4 {
				c = color.RGBA{200, 0, 0, 255}
			} else if x >= w-w/4 {
				c = color.RGBA{0, 0, 200, 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

func grey(w, h int, v uint8) image.Image {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	return img
}

func TestLoadFolder(t *testing.T) {
	dir := t.TempDir()
	writeImage(t, filepath.Join(dir, "alice", "1.png"), bars(64, 32))
	writeImage(t, filepath.Join(dir, "alice", "2.JPG"), grey(20, 30, 100))
	writeFile(t, filepath.Join(dir, "alice", "bad.png"), []byte("not a png at all"))
	writeFile(t, filepath.Join(dir, "alice", "empty.jpg"), nil)
	writeFile(t, filepath.Join(dir, "alice", "notes.txt"), []byte("ignored"))
	writeFile(t, filepath.Join(dir, "alice", ".DS_Store"), []byte{0, 1, 2})
	writeImage(t, filepath.Join(dir, "bob", "a.jpeg"), bars(16, 16))
	writeFile(t, filepath.Join(dir, "carol", "broken.jpg"), []byte{0xff, 0xd8, 0xff, 0xe0, 0, 0x10})
	writeFile(t, filepath.Join(dir, "dave", "README.txt"), []byte("no images"))
	writeFile(t, filepath.Join(dir, "README.txt"), []byte("top-level notes"))

	if err := os.Symlink(filepath.Join(dir, "bob"), filepath.Join(dir, "zed")); err != nil {
		t.Fatal(err)
	}

	s, err := LoadFolder(dir, 8, Prep{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 4 || s.NumIDs() != 3 || strings.Join(s.IDNames, ",") != "alice,bob,zed" {
		t.Fatalf("got %d images of %v; want 4 images of alice,bob,zed", s.Len(), s.IDNames)
	}
	if want := []int{0, 0, 1, 2}; !slices.Equal(s.Labels, want) {
		t.Errorf("labels %v, want %v", s.Labels, want)
	}
	if len(s.Skipped) != 3 {
		t.Fatalf("skipped %q: want bad.png, empty.jpg and broken.jpg", s.Skipped)
	}
	for i, name := range []string{"bad.png", "empty.jpg", "broken.jpg"} {
		if !strings.Contains(s.Skipped[i], name+": ") {
			t.Errorf("skipped[%d] = %q, want it to name %s and why", i, s.Skipped[i], name)
		}
	}
	// 1.png cropped to its centre square is pure green.
	for o := 0; o < 64; o++ {
		if r, g, b := s.Pixels[0][3*o], s.Pixels[0][3*o+1], s.Pixels[0][3*o+2]; r > 8 || g < 190 || b > 8 {
			t.Fatalf("pixel %d of the centre crop = (%d,%d,%d), want green", o, r, g, b)
		}
	}
	// Grey JPEG comes out as R=G=B.
	for o := 0; o < 64; o++ {
		if p := s.Pixels[1][3*o:]; p[0] != p[1] || p[1] != p[2] || p[0] < 90 || p[0] > 110 {
			t.Fatalf("grey pixel %d = %v, want equal channels near 100", o, p[:3])
		}
	}
	again, _ := LoadFolder(dir, 8, Prep{})
	if again.Fingerprint() != s.Fingerprint() {
		t.Error("two loads differ")
	}
}

func TestLoadFolderErrors(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "file.png")
	writeFile(t, file, []byte("x"))
	empty := filepath.Join(tmp, "empty")
	writeFile(t, filepath.Join(empty, "README.txt"), []byte("x"))
	writeFile(t, filepath.Join(empty, "id1", "notes.txt"), []byte("x"))
	corrupt := filepath.Join(tmp, "corrupt")
	writeFile(t, filepath.Join(corrupt, "id1", "a.png"), []byte("x"))
	for _, c := range []struct{ dir, want string }{
		{filepath.Join(tmp, "missing"), "no such folder"},
		{file, "is a file, not a folder"},
		{empty, "no identity folders with images found; expected DIR/<identity>/<image>.png|jpg"},
		{corrupt, "none of the 1 images could be read"},
	} {
		_, err := LoadFolder(c.dir, 32, Prep{})
		if err == nil || !strings.Contains(err.Error(), c.dir) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LoadFolder(%s): got %v, want an error naming the path and %q", c.dir, err, c.want)
		}
	}
}

func TestSplitByIdentity(t *testing.T) {
	train, eval, _ := Synthetic(SynthConfig{Seed: 1, TrainIDs: 20, EvalIDs: 1, PerID: 3, Size: 8})
	_ = eval
	tr, ev := SplitByIdentity(train, 0.25, 7)
	if tr.NumIDs() != 15 || ev.NumIDs() != 5 || tr.Len()+ev.Len() != train.Len() {
		t.Fatalf("split 20 ids at 0.25: %d/%d ids, %d+%d images; want 15/5 ids and %d images",
			tr.NumIDs(), ev.NumIDs(), tr.Len(), ev.Len(), train.Len())
	}
	names := map[string]bool{}
	for _, n := range tr.IDNames {
		names[n] = true
	}
	for _, n := range ev.IDNames {
		if names[n] {
			t.Fatalf("identity %s in both parts", n)
		}
	}
	for _, part := range []*Set{tr, ev} {
		seen := make([]bool, part.NumIDs())
		for i, l := range part.Labels {
			seen[l] = true
			if orig := train.IDNames[train.Labels[indexOf(train, part.Pixels[i])]]; orig != part.IDNames[l] {
				t.Fatalf("%s image %d labelled %s, was %s", part.Name, i, part.IDNames[l], orig)
			}
		}
		for l, ok := range seen {
			if !ok {
				t.Errorf("%s: label %d unused; labels must be contiguous", part.Name, l)
			}
		}
	}
	tr2, ev2 := SplitByIdentity(train, 0.25, 7)
	if tr2.Fingerprint() != tr.Fingerprint() || ev2.Fingerprint() != ev.Fingerprint() {
		t.Error("same seed, different split")
	}
	if _, ev3 := SplitByIdentity(train, 0.25, 8); ev3.Fingerprint() == ev.Fingerprint() {
		t.Error("seeds 7 and 8 chose the same eval identities")
	}
}

func indexOf(s *Set, px []uint8) int {
	for i, p := range s.Pixels {
		if &p[0] == &px[0] {
			return i
		}
	}
	return -1
}

func TestLoadRealORL(t *testing.T) {
	dir := needData(t, "orl")
	s, err := LoadFolder(dir, 32, Prep{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 400 || s.NumIDs() != 40 || len(s.Skipped) != 0 {
		t.Errorf("orl: %d images, %d ids, skipped %v; want 400, 40, none", s.Len(), s.NumIDs(), s.Skipped)
	}
	if p := s.Pixels[0]; p[0] != p[1] || p[1] != p[2] {
		t.Errorf("orl is grey; got RGB %v", p[:3])
	}
}

func TestLoadRealCelebA(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the 5,665-image load")
	}
	dir := needData(t, "celeba298")
	s, err := LoadFolder(dir, 32, Prep{})
	if err != nil {
		t.Fatal(err)
	}
	if s.NumIDs() != 298 || s.Len()+len(s.Skipped) != 5665 {
		t.Errorf("celeba298: %d ids, %d images + %d skipped; want 298 ids and 5665 files", s.NumIDs(), s.Len(), len(s.Skipped))
	}
	tr, ev := SplitByIdentity(s, 0.25, 1)
	t.Logf("celeba298 at 32 px: %d images, %d ids; split %d/%d ids", s.Len(), s.NumIDs(), tr.NumIDs(), ev.NumIDs())
}
