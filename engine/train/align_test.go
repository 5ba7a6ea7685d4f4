package train

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ccface/ccface/engine"
)

// TestAlignOnLoadThroughCache: with data.align=scrfd a folder is aligned
// into the user cache on first load, reused on the next (same pixels, no
// second alignment), and re-aligned when a file changes; the knob is part
// of the recorded configuration.
func TestAlignOnLoadThroughCache(t *testing.T) {
	detector := "../../../shared/models/scrfd_2.5g_bnkps.onnx"
	orl := "../../../shared/data/orl"
	if _, err := os.Stat(detector); err != nil {
		t.Skipf("needs the shared detector and ORL faces: %v", err)
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	src := filepath.Join(t.TempDir(), "faces")
	for id := 1; id <= 8; id++ {
		for img := 1; img <= 3; img++ {
			data, err := os.ReadFile(filepath.Join(orl, "s"+strconv.Itoa(id), strconv.Itoa(img)+".png"))
			if err != nil {
				t.Skipf("needs the shared ORL faces: %v", err)
			}
			dst := filepath.Join(src, "p"+strconv.Itoa(id), strconv.Itoa(img)+".png")
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	cfg := engine.Default()
	cfg.Data.Source = src
	if err := engine.ApplySet(&cfg, []string{"data.align=scrfd"}); err == nil || !strings.Contains(err.Error(), "data.detector") {
		t.Fatalf("data.align=scrfd without a detector: %v, want an error naming data.detector", err)
	}
	if err := engine.ApplySet(&cfg, []string{"data.align=scrfd", "data.detector=" + detector}); err != nil {
		t.Fatal(err)
	}
	if v := engine.Values(&cfg); v["data.align"] != "scrfd" || v["data.detector"] != detector {
		t.Fatalf("recorded knobs %v", v)
	}

	var log bytes.Buffer
	first, err := LoadDataWith(cfg, &log)
	if err != nil {
		t.Fatal(err)
	}
	if got := first.Train.Len() + first.Eval.Len(); got != 24 {
		t.Fatalf("%d images loaded, want the 24 aligned faces\n%s", got, log.String())
	}
	if !strings.Contains(log.String(), "24 images: 24 aligned") {
		t.Fatalf("first load did not align:\n%s", log.String())
	}
	root := filepath.Join(os.Getenv("XDG_CACHE_HOME"), "ccface", "aligned")
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 {
		t.Fatalf("cache holds %d entries, want 1", len(entries))
	}

	log.Reset()
	again, err := LoadDataWith(cfg, &log)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "images:") || !strings.Contains(log.String(), entries[0].Name()) {
		t.Fatalf("second load aligned again instead of using the cache:\n%s", log.String())
	}
	if !bytes.Equal(again.Eval.Pixels[0], first.Eval.Pixels[0]) {
		t.Fatal("the cached copy loads different pixels")
	}
	plain := cfg
	plain.Data.Align = engine.AlignOff
	raw, err := LoadData(plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(raw.Eval.Pixels[0], first.Eval.Pixels[0]) {
		t.Fatal("aligned and unaligned loads give the same pixels")
	}

	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(filepath.Join(src, "p1", "1.png"), later, later); err != nil {
		t.Fatal(err)
	}
	log.Reset()
	if _, err := LoadDataWith(cfg, &log); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 2 || !strings.Contains(log.String(), "24 aligned") {
		t.Fatalf("a changed file did not make a new aligned copy (%d entries):\n%s", len(entries), log.String())
	}
}
