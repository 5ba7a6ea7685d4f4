package datasets

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	xdraw "golang.org/x/image/draw"
)

// Source is a labelled image collection that decodes images on demand, so
// that a training set need not fit in memory. A Set is the in-memory Source;
// RecordIO, FileSource and the evaluation readers decode per call.
//
// Label returns a class index in [0, NumIDs()), or -1 for an image with no
// identity (an image of a verification pair, a TinyFace distractor); only
// sources whose labels are all >= 0 can be trained on. Image writes image i
// as size×size 8-bit RGB (HWC, size*size*3 bytes) into dst; its error names
// the file and the entry. Implementations must be safe for concurrent use,
// as the Loader decodes on several goroutines.
type Source interface {
	Len() int
	Label(i int) int
	NumIDs() int
	Image(i, size int, dst []uint8) error
}

// RawSource is a Source whose images are stored encoded; inspect reads the
// encoded bytes to hash them and to read their headers.
type RawSource interface {
	Source
	Raw(i int) ([]byte, error) // the encoded image (JPEG, PNG)
	Entry(i int) string        // the file and entry, for messages
}

// Label returns image i's class, so that a Set is a Source.
func (s *Set) Label(i int) int { return s.Labels[i] }

// Image copies image i into dst, resized (bilinear) when size differs from
// s.Size, so that a Set is a Source.
func (s *Set) Image(i, size int, dst []uint8) error {
	if size == s.Size {
		copy(dst[:size*size*3], s.Pixels[i])
		return nil
	}
	src := image.NewRGBA(image.Rect(0, 0, s.Size, s.Size))
	for o := 0; o < s.Size*s.Size; o++ {
		copy(src.Pix[4*o:4*o+3], s.Pixels[i][3*o:3*o+3])
		src.Pix[4*o+3] = 255
	}
	out := image.NewRGBA(image.Rect(0, 0, size, size))
	xdraw.BiLinear.Scale(out, out.Rect, src, src.Rect, xdraw.Src, nil)
	for o := 0; o < size*size; o++ {
		copy(dst[3*o:3*o+3], out.Pix[4*o:4*o+3])
	}
	return nil
}

// FileSource is a list of image files with labels, decoded on demand: an
// image folder too large to hold in memory, the images named by a pairs.txt,
// the TinyFace test folders.
type FileSource struct {
	name   string
	paths  []string
	labels []int32
	ids    []string
	decoder
}

// newFileSource builds a FileSource; labels index ids, or are -1.
func newFileSource(name string, paths []string, labels []int32, ids []string) *FileSource {
	return &FileSource{name: name, paths: paths, labels: labels, ids: ids}
}

// OpenFolderSource lists dir laid out as dir/<identity>/<image>.png|jpg
// without decoding anything (LoadFolder decodes what it lists): identities and images
// in name order, hidden entries and non-image files ignored. Images that
// cannot be decoded fail in Image, and the Loader skips and counts them.
func OpenFolderSource(dir string) (*FileSource, error) {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("datasets: %s: no such folder; pass a folder laid out as DIR/<identity>/<image>.png|jpg: %w", dir, err)
	case err != nil:
		return nil, fmt.Errorf("datasets: %s: %w", dir, err)
	case !info.IsDir():
		return nil, fmt.Errorf("datasets: %s: is a file, not a folder; pass a folder laid out as DIR/<identity>/<image>.png|jpg", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("datasets: read %s: %w", dir, err)
	}
	s := &FileSource{name: dir}
	for _, e := range entries {
		sub := filepath.Join(dir, e.Name())
		if strings.HasPrefix(e.Name(), ".") || !isDir(sub, e) {
			continue
		}
		files, err := os.ReadDir(sub)
		if err != nil {
			return nil, fmt.Errorf("datasets: read identity folder %s: %w", sub, err)
		}
		n := 0
		for _, f := range files {
			if f.IsDir() || strings.HasPrefix(f.Name(), ".") || !isImageName(f.Name()) {
				continue
			}
			s.paths = append(s.paths, filepath.Join(sub, f.Name()))
			s.labels = append(s.labels, int32(len(s.ids)))
			n++
		}
		if n > 0 {
			s.ids = append(s.ids, e.Name())
		}
	}
	if len(s.paths) == 0 {
		return nil, fmt.Errorf("datasets: %s: no identity folders with images found; expected DIR/<identity>/<image>.png|jpg", dir)
	}
	return s, nil
}

// Name is the folder or file the images come from.
func (s *FileSource) Name() string { return s.name }

// Len returns the number of images.
func (s *FileSource) Len() int { return len(s.paths) }

// NumIDs returns the number of identities.
func (s *FileSource) NumIDs() int { return len(s.ids) }

// Label returns image i's class, or -1 for an image with no identity.
func (s *FileSource) Label(i int) int { return int(s.labels[i]) }

// IDName returns class c's name.
func (s *FileSource) IDName(c int) string { return s.ids[c] }

// Fingerprint identifies the list of files and labels (not their bytes:
// hashing a large folder would read all of it).
func (s *FileSource) Fingerprint() string {
	h := sha256.New()
	for _, p := range s.paths {
		io.WriteString(h, p)
		h.Write([]byte{0})
	}
	return fingerprintOf(hex.EncodeToString(h.Sum(nil)), len(s.paths), func(i int) (uint64, uint64) { return uint64(i), uint64(s.labels[i]) })
}

// fingerprintOf hashes a parent identity and n (index, label) pairs into
// the short hex form Set.Fingerprint uses.
func fingerprintOf(parent string, n int, at func(i int) (uint64, uint64)) string {
	h := sha256.New()
	io.WriteString(h, parent)
	var b [16]byte
	for i := 0; i < n; i++ {
		x, y := at(i)
		binary.LittleEndian.PutUint64(b[:8], x)
		binary.LittleEndian.PutUint64(b[8:], y)
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Path returns image i's file.
func (s *FileSource) Path(i int) string { return s.paths[i] }

// Entry names image i for messages: its path.
func (s *FileSource) Entry(i int) string { return s.paths[i] }

// Raw reads image i's file.
func (s *FileSource) Raw(i int) ([]byte, error) {
	data, err := readImageFile(s.paths[i])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.paths[i], err)
	}
	return data, nil
}

// Image decodes image i as a size×size RGB face into dst.
func (s *FileSource) Image(i, size int, dst []uint8) error {
	data, err := s.Raw(i)
	if err != nil {
		return err
	}
	return s.decode(data, size, dst, s.paths[i])
}

// memSource holds encoded images in memory (the images of a verification
// .bin), decoded on demand; it has no identities.
type memSource struct {
	name   string
	images [][]byte
	decoder
}

func (m *memSource) Len() int                  { return len(m.images) }
func (m *memSource) NumIDs() int               { return 0 }
func (m *memSource) Label(int) int             { return -1 }
func (m *memSource) Entry(i int) string        { return fmt.Sprintf("%s image %d", m.name, i) }
func (m *memSource) Raw(i int) ([]byte, error) { return m.images[i], nil }
func (m *memSource) Image(i, size int, dst []uint8) error {
	return m.decode(m.images[i], size, dst, m.Entry(i))
}

// SourceView is a subset of a Source's images with its own labels: one side
// of SplitSource.
type SourceView struct {
	src    Source
	idx    []int
	labels []int32
	ids    []int // view class → parent class
}

// Len returns the number of images in the view.
func (v *SourceView) Len() int { return len(v.idx) }

// NumIDs returns the number of identities in the view.
func (v *SourceView) NumIDs() int { return len(v.ids) }

// Label returns image i's class in the view, 0..NumIDs()-1.
func (v *SourceView) Label(i int) int { return int(v.labels[i]) }

// ParentClass maps a view class back to the parent's class index.
func (v *SourceView) ParentClass(c int) int { return v.ids[c] }

// Parent returns the image index in the parent source.
func (v *SourceView) Parent(i int) int { return v.idx[i] }

// Image decodes image i of the view.
func (v *SourceView) Image(i, size int, dst []uint8) error { return v.src.Image(v.idx[i], size, dst) }

// Fingerprint identifies the view: its parent's fingerprint (when the
// parent has one) and which images it takes with which labels.
func (v *SourceView) Fingerprint() string {
	parent := ""
	if f, ok := v.src.(interface{ Fingerprint() string }); ok {
		parent = f.Fingerprint()
	}
	return fingerprintOf(parent, len(v.idx), func(i int) (uint64, uint64) { return uint64(v.idx[i]), uint64(v.labels[i]) })
}

// SplitSource splits src into train and eval views with disjoint
// identities, choosing the same identities as SplitByIdentity does for a
// Set with the same labels and seed (labels are re-indexed in order).
// Images with label -1 are left out of both.
func SplitSource(src Source, evalFraction float64, seed int64) (train, eval *SourceView) {
	n := src.NumIDs()
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
	train, eval = &SourceView{src: src}, &SourceView{src: src}
	relabel := make([]int32, n)
	for id := 0; id < n; id++ {
		v := train
		if isEval[id] {
			v = eval
		}
		relabel[id] = int32(len(v.ids))
		v.ids = append(v.ids, id)
	}
	for i := 0; i < src.Len(); i++ {
		l := src.Label(i)
		if l < 0 || l >= n {
			continue
		}
		v := train
		if isEval[l] {
			v = eval
		}
		v.idx = append(v.idx, i)
		v.labels = append(v.labels, relabel[l])
	}
	return train, eval
}

// Materialize decodes every image of src at size into an in-memory Set (an
// evaluation set, or a small training set), on a bounded pool of
// goroutines. Unreadable images are left out and listed in Set.Skipped;
// idName names class c (nil: the class number). src's labels must all be
// valid classes.
func Materialize(src Source, size int, name string, idName func(c int) string) (*Set, error) {
	if size < 4 || size > 1024 {
		return nil, fmt.Errorf("datasets: %s: image size %d: must be in [4,1024] pixels", name, size)
	}
	n := src.Len()
	for i := 0; i < n; i++ {
		if l := src.Label(i); l < 0 || l >= src.NumIDs() {
			return nil, fmt.Errorf("datasets: %s: image %d has label %d, not a class in [0,%d); a set of pairs or distractors has no identities to train or split on",
				name, i, l, src.NumIDs())
		}
	}
	if idName == nil {
		idName = idNamer(src)
	}
	pixels, errs := decodeAll(src, size, 0)
	s := &Set{Name: name, Size: size, IDNames: make([]string, src.NumIDs())}
	for c := range s.IDNames {
		if idName != nil {
			s.IDNames[c] = idName(c)
		} else {
			s.IDNames[c] = fmt.Sprint(c)
		}
	}
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			s.Skipped = append(s.Skipped, errs[i].Error())
			continue
		}
		s.Pixels = append(s.Pixels, pixels[i])
		s.Labels = append(s.Labels, src.Label(i))
	}
	if s.Len() == 0 && n > 0 {
		return nil, fmt.Errorf("datasets: %s: none of the %d images could be read (first: %v)", name, n, errs[0])
	}
	return s, nil
}

// decodeAll decodes every image of src on up to workers goroutines
// (0: GOMAXPROCS, at most 8).
func decodeAll(src Source, size, workers int) ([][]uint8, []error) {
	n := src.Len()
	if workers < 1 {
		workers = min(runtime.GOMAXPROCS(0), 8)
	}
	pixels := make([][]uint8, n)
	errs := make([]error, n)
	ParallelFor(n, workers, func(_, i int) {
		px := make([]uint8, size*size*3)
		if err := src.Image(i, size, px); err != nil {
			errs[i] = err
			return
		}
		pixels[i] = px
	})
	return pixels, errs
}

// idNamer returns a source's class-name function when it has one.
func idNamer(src Source) func(int) string {
	switch s := src.(type) {
	case *Set:
		return func(c int) string { return s.IDNames[c] }
	case interface{ IDName(int) string }:
		return s.IDName
	case *SourceView:
		if p := idNamer(s.src); p != nil {
			return func(c int) string { return p(s.ids[c]) }
		}
	}
	return nil
}
