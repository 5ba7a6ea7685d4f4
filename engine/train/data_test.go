package train

import (
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
