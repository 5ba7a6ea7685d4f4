package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/ccface/ccface/datasets"
)

// cmdInspect implements `ccface data inspect PATH [--out sheet.png]`: it
// describes a data set in any format ccface reads (image folder, .rec/.idx,
// verification .bin, pairs.txt, TinyFace folder) so that a wrong channel
// order, missing pair images or corrupt files are found before a run
// rather than during one, and optionally draws its faces beside degraded
// views.
func cmdInspect(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("data inspect", stderr)
	out := fs.String("out", "", "also write a contact sheet of HR faces and degraded views to this PNG")
	images := fs.String("images", "", "image folder of a pairs.txt (default: lfw/ or images/ beside it)")
	sample := fs.Int("sample", 0, "images to read in full (0: all up to 20000, then a fixed sample; -1: all)")
	rows := fs.Int("n", 8, "faces on the contact sheet")
	views := fs.Int("views", 5, "degraded views per face on the sheet")
	size := fs.Int("size", 32, "HR side of the faces on the sheet, in pixels")
	zoom := fs.Int("zoom", 4, "pixel magnification of the sheet")
	seed := fs.Int64("seed", 1, "picks the sample and the faces shown")
	// PATH may come before the flags, as in the usage line.
	var path string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		path, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if path == "" && fs.NArg() > 0 {
		path = fs.Arg(0)
		fs.Parse(fs.Args()[1:]) // flags after PATH
	}
	if path == "" || fs.NArg() > 0 {
		return fmt.Errorf("data inspect: want `ccface data inspect PATH [--out sheet.png]` with one PATH: %w", errUsage)
	}
	if *rows < 1 || *views < 0 || *zoom < 1 || *zoom > 32 || *size < 4 || *size > 256 {
		return fmt.Errorf("data inspect: want -n ≥ 1, -views ≥ 0, 1 ≤ -zoom ≤ 32 and 4 ≤ -size ≤ 256")
	}
	rep, err := datasets.Inspect(path, datasets.InspectOptions{Images: *images, Sample: *sample, Seed: *seed})
	if err != nil {
		return err
	}
	defer rep.Close()
	rep.WriteText(stdout)
	if *out == "" {
		return nil
	}
	return rep.WriteSheet(*out, *rows, *views, *zoom, *size, *seed, stdout)
}
