package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCmdInspect(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sheet.png")
	var stdout, stderr bytes.Buffer
	err := cmdInspect([]string{"datasets/testdata/rec/insight.rec", "--out", out, "-n", "3", "-views", "2"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	for _, want := range []string{"MXNet RecordIO", "identities   3", "RGB order looks right", "wrote " + out} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	if info, err := os.Stat(out); err != nil || info.Size() == 0 {
		t.Errorf("no sheet written: %v", err)
	}

	stdout.Reset()
	if err := cmdInspect([]string{"--images", "datasets/testdata/pairs/lfw", "datasets/testdata/pairs/pairs.txt"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "pairs        8: 4 same, 4 different, in 2 folds") {
		t.Errorf("pairs report:\n%s", stdout.String())
	}

	if err := cmdInspect(nil, &stdout, &stderr); !errors.Is(err, errUsage) {
		t.Errorf("no PATH: %v, want a usage error", err)
	}
	if err := cmdInspect([]string{"datasets/testdata/bin/odd_count.bin"}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "odd_count.bin: 3 images for 2 pairs") {
		t.Errorf("bad pickle: %v", err)
	}
}
