package align

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/ccface/ccface/datasets"
	"github.com/ccface/ccface/engine/onnx"
)

// CacheRoot is where aligned copies of data sets are kept:
// ccface/aligned under the user's cache folder (~/.cache on Linux,
// $XDG_CACHE_HOME when set).
func CacheRoot() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("align: no cache folder for aligned data (%w); set XDG_CACHE_HOME or HOME", err)
	}
	return filepath.Join(dir, "ccface", "aligned"), nil
}

// Cached returns an aligned copy of the folder or .rec at src, made with
// the detector file and opt, in the cache under root: reused when a copy
// with the same key exists (the key hashes the source's files, names,
// sizes and modification times, the detector's bytes and opt), aligned
// now otherwise, with progress on progress. A copy appears under its key
// only once complete, so an interrupted alignment is redone, never half
// used; two processes aligning the same set at once each finish and one
// copy is kept.
func Cached(root, src, detector string, opt Options, progress io.Writer) (dir string, rep *Report, err error) {
	if err := opt.Validate(); err != nil {
		return "", nil, fmt.Errorf("align: %w", err)
	}
	key, err := cacheKey(src, detector, opt)
	if err != nil {
		return "", nil, err
	}
	dir = filepath.Join(root, key)
	if info, err := os.Stat(dir); err == nil && info.IsDir() {
		return dir, nil, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", nil, fmt.Errorf("align: cache: %w", err)
	}
	m, err := onnx.Load(detector)
	if err != nil {
		return "", nil, err
	}
	tmp, err := os.MkdirTemp(root, key+".tmp-")
	if err != nil {
		return "", nil, fmt.Errorf("align: cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "aligned")
	rep, err = Run(m, src, out, opt, progress)
	if err != nil {
		return "", nil, err
	}
	if err := os.Rename(out, dir); err != nil {
		if info, serr := os.Stat(dir); serr == nil && info.IsDir() {
			return dir, rep, nil // another process finished the same copy first
		}
		return "", nil, fmt.Errorf("align: cache: %w", err)
	}
	return dir, rep, nil
}

// cacheKey identifies an aligned copy: the source's files (path, size,
// modification time; hashing every image would read the whole set), the
// detector's bytes and the options.
func cacheKey(src, detector string, opt Options) (string, error) {
	h := sha256.New()
	io.WriteString(h, "ccface align v1\x00"+opt.String()+"\x00")
	abs, err := filepath.Abs(src)
	if err != nil {
		return "", fmt.Errorf("align: %s: %w", src, err)
	}
	io.WriteString(h, abs+"\x00")
	files, err := sourceFiles(src)
	if err != nil {
		return "", err
	}
	for _, f := range files {
		info, err := os.Stat(f)
		if err != nil {
			return "", fmt.Errorf("align: %w", err)
		}
		io.WriteString(h, f+"\x00"+strconv.FormatInt(info.Size(), 10)+"\x00"+strconv.FormatInt(info.ModTime().UnixNano(), 10)+"\x00")
	}
	det, err := os.Open(detector)
	if err != nil {
		return "", fmt.Errorf("align: detector %s: %w; set data.detector to an SCRFD .onnx file", detector, err)
	}
	defer det.Close()
	if _, err := io.Copy(h, det); err != nil {
		return "", fmt.Errorf("align: read the detector %s: %w", detector, err)
	}
	return hex.EncodeToString(h.Sum(nil)[:12]), nil
}

// sourceFiles lists the files a folder or .rec source reads.
func sourceFiles(src string) ([]string, error) {
	format, err := datasets.DetectFormat(src)
	if err != nil {
		return nil, err
	}
	switch format {
	case datasets.FormatFolder:
		fs, err := datasets.OpenFolderSource(src)
		if err != nil {
			return nil, err
		}
		files := make([]string, fs.Len())
		for i := range files {
			files[i] = fs.Path(i)
		}
		return files, nil
	case datasets.FormatRec:
		rec, idx := datasets.RecordPaths(src)
		files := []string{rec}
		if _, err := os.Stat(idx); err == nil {
			files = append(files, idx)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("align: %w", err)
		}
		return files, nil
	}
	return nil, fmt.Errorf("align: %s is a %s; alignment on load reads image folders and .rec files", src, datasets.FormatDescription(format))
}
