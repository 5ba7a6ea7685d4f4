package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDataPathsRecordedAbsolute: a session started with relative --data
// and data.eval paths records them absolute, so resume, fork and eval find
// the data from another directory; synth stays synth.
func TestDataPathsRecordedAbsolute(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	f := runFlags{data: "faces", preset: "tiny", sets: []string{"data.eval=held/out"}}
	cfg, err := f.config()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(wd, "faces"); cfg.Data.Source != want {
		t.Errorf("data.source %q, want %q", cfg.Data.Source, want)
	}
	if want := filepath.Join(wd, "held", "out"); cfg.Data.EvalSource != want {
		t.Errorf("data.eval %q, want %q", cfg.Data.EvalSource, want)
	}
	f = runFlags{data: "synth", preset: "tiny"}
	if cfg, err = f.config(); err != nil || cfg.Data.Source != "synth" {
		t.Errorf("synth became %q (%v)", cfg.Data.Source, err)
	}
}
