package datasets

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The kinds of data a path can name. DetectFormat is the one place that
// decides which a path is; training, evaluation (OpenEval) and inspection
// (Inspect) all ask it.
const (
	FormatSynth    = "synth"    // the built-in synthetic faces ("synth" or "")
	FormatFolder   = "folder"   // DIR/<identity>/<image>
	FormatRec      = "rec"      // insightface RecordIO (.rec + .idx)
	FormatBin      = "bin"      // insightface verification pickle
	FormatPairs    = "pairs"    // LFW-style pairs.txt over an image folder
	FormatTinyFace = "tinyface" // TinyFace's Probe/ and Gallery_Match/ layout
)

// wantFormats is the list of what a data path may be, for errors.
const wantFormats = "want an image folder (DIR/<identity>/<image>), a .rec/.idx, a verification .bin, a pairs.txt or a TinyFace folder"

// DetectFormat names the format of path by its name and layout: FormatSynth
// ("synth" or ""), FormatRec (a .rec or .idx, or a name whose .rec exists),
// FormatBin (.bin or a pickle), FormatPairs (a .txt), FormatTinyFace (a
// folder with Probe/ and Gallery_Match/, or Testing_Set/ holding them) or
// FormatFolder (any other folder).
func DetectFormat(path string) (string, error) {
	if path == "" || path == FormatSynth {
		return FormatSynth, nil
	}
	info, err := os.Stat(path)
	if err != nil {
		if _, rerr := os.Stat(strings.TrimSuffix(path, filepath.Ext(path)) + ".rec"); rerr == nil {
			return FormatRec, nil
		}
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("datasets: %s: no such file or folder; %s: %w", path, wantFormats, err)
		}
		return "", fmt.Errorf("datasets: %s: %w", path, err)
	}
	if info.IsDir() {
		if tinyFaceRoot(path) != "" {
			return FormatTinyFace, nil
		}
		return FormatFolder, nil
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".rec", ".idx":
		return FormatRec, nil
	case ".bin", ".pkl", ".pickle":
		return FormatBin, nil
	case ".txt":
		return FormatPairs, nil
	}
	return "", fmt.Errorf("datasets: %s: unknown data format; %s", path, wantFormats)
}

// FormatDescription says in words what a format is, for reports.
func FormatDescription(format string) string {
	switch format {
	case FormatSynth:
		return "built-in synthetic faces"
	case FormatFolder:
		return "image folder (DIR/<identity>/<image>)"
	case FormatRec:
		return "MXNet RecordIO (.rec + .idx)"
	case FormatBin:
		return "verification pickle (.bin: images, issame)"
	case FormatPairs:
		return "LFW-style pairs list over an image folder"
	case FormatTinyFace:
		return "TinyFace test layout (Probe, Gallery_Match, Gallery_Distractor)"
	}
	return format
}
