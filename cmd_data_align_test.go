package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCmdDataAlign runs `ccface data align` as a user types it: flags
// after the folders, a folder with a face and a non-image; then the usage
// errors, each a one-line message naming what to pass.
func TestCmdDataAlign(t *testing.T) {
	detector := "../shared/models/scrfd_2.5g_bnkps.onnx"
	face, err := os.ReadFile("../shared/data/orl/s5/1.png")
	if _, derr := os.Stat(detector); err != nil || derr != nil {
		t.Skip("needs the shared detector and ORL faces (../shared)")
	}
	in := filepath.Join(t.TempDir(), "in")
	for name, data := range map[string][]byte{"ann/1.png": face, "ann/2.png": []byte("not an image")} {
		p := filepath.Join(in, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCLI(t, "data", "align", in, out, "--detector", detector, "--det-size", "160", "--pick", "largest")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"2 images: 1 aligned", "1 unreadable", "2.png: unreadable: not a PNG or JPEG", "align_sheet.png"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "ann", "1.png")); err != nil {
		t.Error(err)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"data", "align", in}, "want `ccface data align IN OUT"},
		{[]string{"data", "align", in, out + "2"}, "pass --detector PATH"},
		{[]string{"data", "align", in, out + "2", "--detector", detector, "--pick", "first"}, `pick "first": must be largest or central`},
		{[]string{"data", "align", in, out + "2", "--detector", detector, "--det-size", "100"}, "detector size 100: must be a multiple of 32"},
		{[]string{"data", "align", in, out, "--detector", detector}, "exists and is not empty"},
		{[]string{"data", "align", in, out + "2", "--detector", filepath.Join(in, "ann", "2.png")}, "2.png"},
	} {
		code, stdout, stderr := runCLI(t, c.args...)
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q (stdout %q), want %q", c.args[2:], code, stderr, stdout, c.want)
		}
	}
	if _, err := os.Stat(out + "2"); err == nil {
		t.Error("a refused run created its output folder")
	}
}
