package datasets

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestContactSheet renders a preview sheet. Set CCFACE_SHEET_DIR to keep
// the PNGs (synthetic and, when present, real data) for a look by eye.
func TestContactSheet(t *testing.T) {
	out := os.Getenv("CCFACE_SHEET_DIR")
	if out == "" {
		out = t.TempDir()
	}
	train, _, err := Synthetic(SynthConfig{Seed: 1, TrainIDs: 40, EvalIDs: 1, PerID: 4, Size: 32})
	if err != nil {
		t.Fatal(err)
	}
	p := DefaultDegrade()
	img := ContactSheet(train, 6, 4, 3, p, 9)
	if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != 5*(96+2)+2 || h != 6*(96+14+2)+2 {
		t.Errorf("sheet %d×%d, want %d×%d", w, h, 5*98+2, 6*112+2)
	}
	if again := ContactSheet(train, 6, 4, 3, p, 9); !bytes.Equal(again.Pix, img.Pix) {
		t.Error("same seed, different sheet")
	}
	path := filepath.Join(out, "synth-sheet.png")
	if err := WritePNG(path, img); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	back, err := png.Decode(f)
	if err != nil || back.Bounds() != img.Bounds() {
		t.Fatalf("read back %s: %v, bounds %v", path, err, back)
	}
	if dir := filepath.Join(sharedData, "celeba298"); os.Getenv("CCFACE_SHEET_DIR") != "" {
		if s, err := LoadFolder(dir, 32, Prep{}); err == nil {
			if err := WritePNG(filepath.Join(out, "celeba-sheet.png"), ContactSheet(s, 6, 4, 3, p, 9)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestWritePNGErrors(t *testing.T) {
	dir := t.TempDir()
	img := ContactSheet(&Set{Size: 4}, 0, 1, 1, DefaultDegrade(), 1)
	missing := filepath.Join(dir, "no", "such", "dir", "x.png")
	if err := WritePNG(missing, img); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("WritePNG into a missing folder: %v, want an error naming %s", err, missing)
	}
	ok := filepath.Join(dir, "ok.png")
	if err := WritePNG(ok, img); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}
