package main

import (
	"fmt"
	"io"

	"github.com/ccface/ccface/align"
	"github.com/ccface/ccface/engine/onnx"
)

// cmdAlign implements `ccface data align IN OUT --detector scrfd.onnx`:
// faces detected with an SCRFD model, aligned to the ArcFace template and
// written as PNG crops in IN's identity layout, with a report of the images
// that had no face, several faces or could not be read, and a contact
// sheet.
func cmdAlign(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("data align", stderr)
	def := align.DefaultOptions()
	detector := fs.String("detector", "", "SCRFD face detector with keypoints (insightface's scrfd_*_bnkps.onnx)")
	detSize := fs.Int("det-size", def.Detect.Size, "detector input side (a multiple of 32); larger images are shrunk to fit")
	upscale := fs.Bool("upscale", false, "enlarge smaller images to fill the detector input (insightface's letterbox; for tiny inputs with 16-24 px faces use a small --det-size such as 128)")
	size := fs.Int("size", def.Size, "side of the aligned crops in pixels")
	pick := fs.String("pick", def.Pick, "face kept when an image has several: largest or central")
	minFace := fs.Float64("min-face", 0, "ignore faces whose box is smaller than this many pixels (shorter side)")
	workers := fs.Int("workers", 0, "images aligned at once, each with its own detector graph (0: one per core)")
	// IN and OUT may come before, between or after the flags.
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 2 {
		return fmt.Errorf("data align: want `ccface data align IN OUT --detector scrfd.onnx` (IN: an image folder, a .rec or one image; OUT: a new folder): %w", errUsage)
	}
	if *detector == "" {
		return fmt.Errorf("data align: pass --detector PATH to an SCRFD model with keypoints, e.g. insightface's scrfd_2.5g_bnkps.onnx: %w", errUsage)
	}
	opt := align.Options{Size: *size, Pick: *pick, MinFace: *minFace, Workers: *workers, Detect: def.Detect}
	opt.Detect.Size, opt.Detect.Upscale = *detSize, *upscale
	if err := opt.Validate(); err != nil {
		return fmt.Errorf("data align: %w", err)
	}
	m, err := onnx.Load(*detector)
	if err != nil {
		return err
	}
	rep, err := align.Run(m, pos[0], pos[1], opt, stdout)
	if err != nil {
		return err
	}
	rep.WriteOutcome(stdout)
	return nil
}

// alignUsage is the data command's line for align.
const alignUsage = "ccface data align IN OUT --detector scrfd.onnx"
