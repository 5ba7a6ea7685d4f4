package datasets

import (
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// imageExts are the file extensions LoadFolder decodes; other files (a
// README.txt, .DS_Store) are not images and are ignored without a word.
func isImageName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

// LoadFolder reads a face set laid out as dir/<identity>/<image>.png|jpg:
// one sub-folder per identity, PNG or JPEG, grey or colour, any size. Each
// image is centre-cropped to a square and resized to size×size with a
// bilinear filter widened to the scale factor (so downscaling averages
// every source pixel instead of aliasing).
//
// Files that cannot be decoded (corrupt, truncated, empty) are skipped and
// listed in Set.Skipped as "path: reason"; identity folders with no
// readable image are dropped; hidden entries and non-image files are
// ignored. Identities and images are taken in name order and decoded in
// parallel on a bounded pool, so the result is deterministic.
func LoadFolder(dir string, size int, prep Prep) (*Set, error) {
	if size < 4 || size > 1024 {
		return nil, fmt.Errorf("datasets: %s: image size %d: must be in [4,1024] pixels", dir, size)
	}
	src, err := OpenFolderSource(dir) // the one identity-folder scan
	if err != nil {
		return nil, err
	}
	paths, names := src.paths, src.ids

	pixels := make([][]uint8, len(paths))
	reasons := make([]string, len(paths))
	workers := min(runtime.GOMAXPROCS(0), 8) // decoding is CPU-bound; more only adds open files
	scratch := make([]imageScratch, workers)
	ParallelFor(len(paths), workers, func(w, i int) {
		px, err := scratch[w].load(paths[i], size, prep)
		if err != nil {
			reasons[i] = err.Error()
			return
		}
		pixels[i] = px
	})

	// Assemble in listing order, re-indexing identities that kept an image.
	s := &Set{Name: dir, Size: size}
	newID := make([]int, len(names))
	for i := range newID {
		newID[i] = -1
	}
	for i, path := range paths {
		if pixels[i] == nil {
			s.Skipped = append(s.Skipped, path+": "+reasons[i])
			continue
		}
		id := src.labels[i]
		if newID[id] < 0 {
			newID[id] = len(s.IDNames)
			s.IDNames = append(s.IDNames, names[id])
		}
		s.Pixels = append(s.Pixels, pixels[i])
		s.Labels = append(s.Labels, newID[id])
	}
	if s.Len() == 0 {
		return nil, fmt.Errorf("datasets: %s: none of the %d images could be read (first: %s); expected DIR/<identity>/<image>.png|jpg",
			dir, len(paths), s.Skipped[0])
	}
	return s, nil
}

// isDir follows a symlinked identity folder, as sets are often assembled
// from links into a larger collection.
func isDir(path string, e os.DirEntry) bool {
	if e.Type()&os.ModeSymlink == 0 {
		return e.IsDir()
	}
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}

// load reads path and decodes it as a size×size RGB face under prep (see
// imageScratch.decode).
func (w *imageScratch) load(path string, size int, prep Prep) ([]uint8, error) {
	data, err := readImageFile(path)
	if err != nil {
		return nil, err
	}
	out := make([]uint8, size*size*3)
	if err := w.decode(data, size, out, prep.Crop); err != nil {
		return nil, err
	}
	if prep.Grey {
		toGrey(out)
	}
	return out, nil
}

// readImageFile reads an image file whole, refusing one over
// MaxEncodedBytes before reading it.
func readImageFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if info.Size() > MaxEncodedBytes {
		return nil, fmt.Errorf("%w: the file is %d bytes, over the %d-byte limit for one face image", ErrTooLarge, info.Size(), MaxEncodedBytes)
	}
	data := make([]byte, info.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return data, nil
}

// SplitByIdentity splits s into train and eval sets with disjoint
// identities: round(evalFraction·NumIDs) identities (at least one each way
// when s has two or more and 0 < evalFraction < 1), chosen by a permutation
// drawn from seed. Labels are re-indexed 0..n-1 in each part, keeping the
// original identity order; image order is kept. Skipped is carried by train.
func SplitByIdentity(s *Set, evalFraction float64, seed int64) (train, eval *Set) {
	n := s.NumIDs()
	nEval := int(evalFraction*float64(n) + 0.5)
	if evalFraction > 0 && evalFraction < 1 && n >= 2 {
		nEval = max(1, min(n-1, nEval))
	}
	nEval = max(0, min(n, nEval))
	isEval := make([]bool, n)
	rng := rand.New(&splitMix{s: mixSeed(uint64(seed), tagSplit)})
	for _, id := range rng.Perm(n)[:nEval] {
		isEval[id] = true
	}
	var evalIDs, trainIDs []int
	for id := 0; id < n; id++ {
		if isEval[id] {
			evalIDs = append(evalIDs, id)
		} else {
			trainIDs = append(trainIDs, id)
		}
	}
	train = s.pick(s.Name+":train", trainIDs)
	train.Skipped = append([]string(nil), s.Skipped...)
	eval = s.pick(s.Name+":eval", evalIDs)
	return train, eval
}

// pick returns the images of the given identities (ascending), relabelled
// 0..len(ids)-1 in that order.
func (s *Set) pick(name string, ids []int) *Set {
	relabel := make(map[int]int, len(ids))
	out := &Set{Name: name, Size: s.Size, IDNames: make([]string, len(ids))}
	for k, id := range ids {
		relabel[id] = k
		if id < len(s.IDNames) {
			out.IDNames[k] = s.IDNames[id]
		} else {
			out.IDNames[k] = fmt.Sprint(id)
		}
	}
	for i, l := range s.Labels {
		if k, ok := relabel[l]; ok {
			out.Pixels = append(out.Pixels, s.Pixels[i])
			out.Labels = append(out.Labels, k)
		}
	}
	return out
}
