package train

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccface/ccface/engine"
)

// TestLoadDataAsksDetectFormat: training takes the path kinds
// datasets.DetectFormat names, and refuses evaluation-only kinds with what
// to do instead.
func TestLoadDataAsksDetectFormat(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "lfw.bin")
	pairs := filepath.Join(dir, "pairs.txt")
	for _, p := range []string{bin, pairs} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ source, want string }{
		{bin, "data.eval=" + bin},
		{pairs, "data.eval=" + pairs},
		{filepath.Join(dir, "missing"), "no such file or folder"},
		{filepath.Join(dir, "faces.zip"), "no such file or folder"},
	} {
		cfg := engine.Default()
		cfg.Data.Source = c.source
		_, err := LoadData(cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.source, err, c.want)
		}
	}
}

// writeFaces writes random 16 px PNG "faces", one sub-folder per identity.
func writeFaces(t *testing.T, dir string, ids []string, per int, rng *rand.Rand) {
	t.Helper()
	for _, id := range ids {
		if err := os.MkdirAll(filepath.Join(dir, id), 0o755); err != nil {
			t.Fatal(err)
		}
		for k := 0; k < per; k++ {
			img := image.NewRGBA(image.Rect(0, 0, 16, 16))
			for p := 0; p < 16*16; p++ {
				img.Set(p%16, p/16, color.RGBA{uint8(rng.Intn(256)), uint8(rng.Intn(256)), uint8(rng.Intn(256)), 255})
			}
			f, err := os.Create(filepath.Join(dir, id, string(rune('a'+k))+".png"))
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(f, img); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

// TestEvaluationSetOverlappingTrainingIsRefused: a data.eval that holds
// images of the training folder (here two identities copied under new
// names) is refused with a message naming it; a disjoint one loads.
func TestEvaluationSetOverlappingTrainingIsRefused(t *testing.T) {
	rng := rand.New(rand.NewSource(41))
	root := t.TempDir()
	trainDir, evalDir, cleanDir := filepath.Join(root, "train"), filepath.Join(root, "eval"), filepath.Join(root, "clean")
	writeFaces(t, trainDir, []string{"ann", "bob", "cy", "dee"}, 3, rng)
	writeFaces(t, evalDir, []string{"eve", "fay"}, 3, rng)
	copyDir(t, filepath.Join(trainDir, "ann"), filepath.Join(evalDir, "renamed1"))
	copyDir(t, filepath.Join(trainDir, "cy"), filepath.Join(evalDir, "renamed2"))
	writeFaces(t, cleanDir, []string{"gus", "hal"}, 3, rng)

	cfg := tinyConfig()
	cfg.Data.Source, cfg.Data.HR = trainDir, 16
	cfg.Data.EvalSource = evalDir
	_, err := LoadData(cfg)
	if err == nil || !strings.Contains(err.Error(), evalDir) || !strings.Contains(err.Error(), "2 of its 4 identities") {
		t.Fatalf("overlapping evaluation set: got %v, want a refusal naming %s and 2 of its 4 identities", err, evalDir)
	}
	cfg.Data.EvalSource = cleanDir
	if _, err := LoadData(cfg); err != nil {
		t.Fatalf("disjoint evaluation set refused: %v", err)
	}
}

// data.grey and data.crop reach both the training and the evaluation
// images of a folder run.
func TestDataGreyAndCropApplyToTrainingAndEvaluation(t *testing.T) {
	dir := t.TempDir()
	var ids []string
	for i := 0; i < 8; i++ {
		ids = append(ids, fmt.Sprintf("id%d", i))
	}
	writeFaces(t, dir, ids, 3, rand.New(rand.NewSource(1)))
	cfg := engine.Default()
	cfg.Data.Source, cfg.Data.HR, cfg.Data.EvalFraction, cfg.Eval.LRSizes = dir, 8, 0.5, []int{4}
	if err := engine.ApplySet(&cfg, []string{"data.grey=true", "data.crop=centre:8"}); err != nil {
		t.Fatal(err)
	}
	data, err := LoadData(cfg)
	if err != nil {
		t.Fatal(err)
	}
	grey := func(px []uint8) bool {
		for i := 0; i+2 < len(px); i += 3 {
			if px[i] != px[i+1] || px[i+1] != px[i+2] {
				return false
			}
		}
		return true
	}
	px := make([]uint8, 8*8*3)
	for i := 0; i < data.Train.Len(); i++ {
		if err := data.Train.Image(i, 8, px); err != nil {
			t.Fatal(err)
		}
		if !grey(px) {
			t.Fatalf("training image %d is not grey", i)
		}
	}
	for i, p := range data.Eval.Pixels {
		if !grey(p) {
			t.Fatalf("evaluation image %d is not grey", i)
		}
	}
	cfg.Data.Crop = "box:20,20,8,8" // outside the 16-px images
	if _, err := LoadData(cfg); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("a crop outside every image: %v", err)
	}
	cfg.Data.Source, cfg.Data.Crop = "synth", ""
	if _, err := LoadData(cfg); err == nil || !strings.Contains(err.Error(), "not to the synthetic faces") {
		t.Errorf("data.grey on synthetic faces: %v", err)
	}
}
