package datasets

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Pair is a verification pair: two image indices and whether they show the
// same person. Fold is the cross-validation fold the file puts it in (the
// LFW protocol's folds are contiguous blocks of the file). Without Fold it
// converts to engine/eval's Pair.
type Pair struct {
	A, B int
	Same bool
	Fold int
}

// EvalSet is an evaluation set as its files define it. Images holds every
// image (decoded on demand). The file's protocol is in Pairs (a .bin or a
// pairs.txt: verify exactly these pairs) or in Probes and Gallery (TinyFace:
// rank each probe against the whole gallery, distractors included, whose
// Label is -1). A plain folder or a .rec defines neither: draw pairs and a
// gallery split from the labels as for any labelled set.
type EvalSet struct {
	Name   string // the path given
	Format string // FormatFolder, FormatRec, FormatBin, FormatPairs or FormatTinyFace
	Images Source
	Pairs  []Pair
	Folds  int // folds of Pairs (10 for LFW and insightface .bin); 0 when no pairs
	// Probes and Gallery index Images (TinyFace).
	Probes, Gallery []int
	// Skipped names what the reader dropped: a pair whose image is missing,
	// an index line past the end of its .rec.
	Skipped []string
}

// EvalOptions adjusts OpenEval.
type EvalOptions struct {
	// Images is the image folder a pairs.txt names images in; empty looks
	// next to the pairs file (lfw/, lfw-deepfunneled/, lfw_funneled/,
	// images/, or the pairs file's own folder).
	Images string
	// Prep is applied to every image as it is decoded.
	Prep Prep
}

// Close releases the files an EvalSet holds open (a .rec).
func (e *EvalSet) Close() error {
	if c, ok := e.Images.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// OpenEval opens path as an evaluation set, whatever its format
// (DetectFormat).
func OpenEval(path string, opt EvalOptions) (*EvalSet, error) {
	e, err := openEval(path, opt)
	if err != nil {
		return nil, err
	}
	if p, ok := e.Images.(Preparer); ok {
		p.SetPrep(opt.Prep)
	} else if opt.Prep != (Prep{}) {
		e.Close()
		return nil, fmt.Errorf("datasets: %s: data.grey and data.crop apply to encoded images, not to this set", path)
	}
	return e, nil
}

func openEval(path string, opt EvalOptions) (*EvalSet, error) {
	format, err := DetectFormat(path)
	if err != nil {
		return nil, err
	}
	switch format {
	case FormatSynth:
		return nil, fmt.Errorf("datasets: %q names the built-in synthetic faces, which have no evaluation files: %s", path, wantFormats)
	case FormatRec:
		r, err := OpenRecordIO(path)
		if err != nil {
			return nil, err
		}
		list, _ := r.Problems()
		return &EvalSet{Name: path, Format: format, Images: r, Skipped: list}, nil
	case FormatBin:
		return OpenVerificationBin(path)
	case FormatPairs:
		return OpenPairs(path, opt.Images)
	case FormatTinyFace:
		return OpenTinyFace(path)
	}
	src, err := OpenFolderSource(path)
	if err != nil {
		return nil, err
	}
	return &EvalSet{Name: path, Format: format, Images: src}, nil
}

// foldCount is the number of distinct folds the pairs fall in.
func foldCount(pairs []Pair) int {
	seen := map[int]bool{}
	for _, p := range pairs {
		seen[p.Fold] = true
	}
	return len(seen)
}

// contiguousFolds assigns n pairs to k contiguous folds as scikit-learn's
// KFold(k) without shuffling does (insightface's verification): the first
// n%k folds hold one pair more.
func contiguousFolds(n, k int) []int {
	k = max(1, min(k, n))
	out := make([]int, n)
	i := 0
	for f := 0; f < k; f++ {
		size := n / k
		if f < n%k {
			size++
		}
		for j := 0; j < size; j++ {
			out[i] = f
			i++
		}
	}
	return out
}

// OpenVerificationBin reads an insightface verification set (lfw.bin,
// cfp_fp.bin, agedb_30.bin): a pickle of (list of encoded images, list of
// issame bools), pair i being images 2i and 2i+1. It is read whole into
// memory (these files are tens of megabytes); images are decoded on demand.
// Pairs are split into 10 contiguous folds, as insightface evaluates them.
func OpenVerificationBin(path string) (*EvalSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("datasets: open verification set %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("datasets: %s: %w", path, err)
	}
	const maxBin = 4 << 30
	if info.Size() > maxBin {
		return nil, fmt.Errorf("datasets: %s: %d bytes is over the %d-byte limit for a verification .bin", path, info.Size(), int64(maxBin))
	}
	data := make([]byte, info.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("datasets: read %s: %w", path, err)
	}
	v, err := unpickle(data)
	if err != nil {
		return nil, fmt.Errorf("datasets: %s: not a readable verification pickle: %w", path, err)
	}
	images, same, err := verificationPickle(v)
	if err != nil {
		return nil, fmt.Errorf("datasets: %s: %w", path, err)
	}
	if len(same) == 0 {
		return nil, fmt.Errorf("datasets: %s: holds no pairs", path)
	}
	e := &EvalSet{Name: path, Format: FormatBin, Images: &memSource{name: path, images: images}, Folds: min(10, len(same))}
	folds := contiguousFolds(len(same), e.Folds)
	for i, s := range same {
		e.Pairs = append(e.Pairs, Pair{A: 2 * i, B: 2*i + 1, Same: s, Fold: folds[i]})
	}
	return e, nil
}

// findPairsImages picks the image folder of a pairs file when none is given.
func findPairsImages(pairsPath string) string {
	dir := filepath.Dir(pairsPath)
	for _, sub := range []string{"lfw", "lfw-deepfunneled", "lfw_funneled", "lfw-funneled", "images"} {
		if info, err := os.Stat(filepath.Join(dir, sub)); err == nil && info.IsDir() {
			return filepath.Join(dir, sub)
		}
	}
	return dir
}

// OpenPairs reads an LFW-style pairs file over the image folder images (""
// looks next to the file, see EvalOptions.Images). Lines are
//
//	name n1 n2          same person: images name/name_000n1.jpg, name/name_000n2.jpg
//	name1 n1 name2 n2   different people
//	path1 path2 0|1     any two images under images, and whether they match
//
// separated by tabs or spaces. An optional first line "folds count" (LFW's
// "10 300": 10 folds of 300 same and 300 different pairs) or "count" gives
// the folds, which are contiguous blocks of lines; without it 10 folds are
// cut as for a .bin. A pair naming a missing image is dropped and listed in
// Skipped with its line; if no pair is left the error says where it looked.
func OpenPairs(path, images string) (*EvalSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("datasets: open pairs file %s: %w", path, err)
	}
	defer f.Close()
	if images == "" {
		images = findPairsImages(path)
	}
	if info, err := os.Stat(images); err != nil || !info.IsDir() {
		return nil, fmt.Errorf("datasets: %s: image folder %s is not a folder; pass the folder that holds <name>/<name>_0001.jpg", path, images)
	}

	type rawPair struct {
		a, b     string // paths relative to images
		ida, idb string // identity names ("" when the line gives paths)
		same     bool
		line     int
	}
	var (
		pairs   []rawPair
		folds   = 0
		perFold = 0
		e       = &EvalSet{Name: path, Format: FormatPairs}
		lfwName = func(name, num string) (string, error) {
			n, err := strconv.Atoi(num)
			if err != nil || n < 0 {
				return "", fmt.Errorf("image number %q is not a number", num)
			}
			return filepath.Join(name, fmt.Sprintf("%s_%04d", name, n)), nil
		}
	)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<16)
	for ln := 1; sc.Scan(); ln++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		bad := func(format string, args ...any) error {
			return fmt.Errorf("datasets: %s line %d: %q: %s", path, ln, clip(sc.Text(), 60), fmt.Sprintf(format, args...))
		}
		if len(pairs) == 0 && folds == 0 && len(fields) <= 2 && isInt(fields[0]) && (len(fields) == 1 || isInt(fields[1])) {
			folds, _ = strconv.Atoi(fields[0])
			if len(fields) == 2 {
				perFold, _ = strconv.Atoi(fields[1])
			} else {
				folds, perFold = 1, folds
			}
			if folds < 1 || perFold < 1 {
				return nil, bad("header must be \"folds pairs-per-fold\" or \"count\", both at least 1")
			}
			continue
		}
		var p rawPair
		p.line = ln
		var errA, errB error
		switch {
		case len(fields) == 3 && isInt(fields[1]) && isInt(fields[2]):
			p.ida, p.idb, p.same = fields[0], fields[0], true
			p.a, errA = lfwName(fields[0], fields[1])
			p.b, errB = lfwName(fields[0], fields[2])
		case len(fields) == 4 && isInt(fields[1]) && isInt(fields[3]):
			p.ida, p.idb = fields[0], fields[2]
			p.a, errA = lfwName(fields[0], fields[1])
			p.b, errB = lfwName(fields[2], fields[3])
		case len(fields) == 3 && (fields[2] == "0" || fields[2] == "1"):
			p.a, p.b, p.same = fields[0], fields[1], fields[2] == "1"
		default:
			return nil, bad("want \"name n1 n2\" (same), \"name1 n1 name2 n2\" (different) or \"path1 path2 0|1\"")
		}
		if err := errors.Join(errA, errB); err != nil {
			return nil, bad("%v", err)
		}
		pairs = append(pairs, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("datasets: read %s: %w", path, err)
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("datasets: %s: no pairs; want lines \"name n1 n2\" or \"name1 n1 name2 n2\" as in LFW's pairs.txt", path)
	}
	if folds > 0 && folds*perFold*2 != len(pairs) && folds*perFold != len(pairs) {
		e.Skipped = append(e.Skipped, fmt.Sprintf("%s: header says %d folds of %d same and %d different pairs (%d), but the file has %d pairs; folds are cut evenly instead",
			path, folds, perFold, perFold, 2*folds*perFold, len(pairs)))
	}
	if folds == 0 {
		folds = 10
	}
	foldOf := contiguousFolds(len(pairs), folds)

	// Resolve each image once; identities from LFW names, else the folder.
	index := map[string]int{}
	var paths []string
	var labels []int32
	classOf := map[string]int32{}
	var ids []string
	resolve := func(rel, id string) (int, error) {
		if i, ok := index[rel]; ok {
			return i, nil
		}
		full := filepath.Join(images, rel)
		found := ""
		if filepath.Ext(rel) != "" {
			if _, err := os.Stat(full); err == nil {
				found = full
			}
		}
		for _, ext := range [...]string{".jpg", ".png", ".jpeg"} { // LFW's is .jpg
			if found != "" {
				break
			}
			if _, err := os.Stat(full + ext); err == nil {
				found = full + ext
			}
		}
		if found == "" {
			shown := rel
			if filepath.Ext(rel) == "" {
				shown += ".jpg"
			}
			return -1, fmt.Errorf("%s: no such image in %s", shown, images)
		}
		if id == "" {
			id = filepath.Base(filepath.Dir(rel))
		}
		c, ok := classOf[id]
		if !ok {
			c = int32(len(ids))
			classOf[id] = c
			ids = append(ids, id)
		}
		index[rel] = len(paths)
		paths = append(paths, found)
		labels = append(labels, c)
		return index[rel], nil
	}
	for k, p := range pairs {
		a, errA := resolve(p.a, p.ida)
		b, errB := resolve(p.b, p.idb)
		if err := errors.Join(errA, errB); err != nil {
			e.Skipped = append(e.Skipped, fmt.Sprintf("%s line %d: %v; pair dropped", path, p.line, strings.ReplaceAll(err.Error(), "\n", "; ")))
			continue
		}
		same := p.same
		if p.ida != "" && p.ida != p.idb {
			same = false
		}
		e.Pairs = append(e.Pairs, Pair{A: a, B: b, Same: same, Fold: foldOf[k]})
	}
	if len(e.Pairs) == 0 {
		return nil, fmt.Errorf("datasets: %s: none of its %d pairs has both images under %s (first: %s); pass the LFW image folder that holds <name>/<name>_0001.jpg",
			path, len(pairs), images, first(e.Skipped))
	}
	e.Folds = foldCount(e.Pairs) // fewer than asked when pairs are few or dropped
	e.Images = newFileSource(images, paths, labels, ids)
	return e, nil
}

func isInt(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// tinyFaceRoot returns the folder holding TinyFace's Probe/ and
// Gallery_Match/ under root (root itself or root/Testing_Set), or "".
func tinyFaceRoot(root string) string {
	for _, dir := range []string{root, filepath.Join(root, "Testing_Set"), filepath.Join(root, "tinyface", "Testing_Set")} {
		p, err1 := os.Stat(filepath.Join(dir, "Probe"))
		g, err2 := os.Stat(filepath.Join(dir, "Gallery_Match"))
		if err1 == nil && err2 == nil && p.IsDir() && g.IsDir() {
			return dir
		}
	}
	return ""
}

// OpenTinyFace reads the TinyFace test layout: Probe/ and Gallery_Match/
// hold images named "<identity>_<n>.jpg" (identity from the file name, as
// TinyFace's evaluation reads it), Gallery_Distractor/ (searched
// recursively, optional) images of people in neither, given Label -1. Probes
// are ranked against Gallery_Match plus the distractors. Files whose name
// carries no identity are listed in Skipped.
func OpenTinyFace(root string) (*EvalSet, error) {
	dir := tinyFaceRoot(root)
	if dir == "" {
		return nil, fmt.Errorf("datasets: %s: not a TinyFace test folder; want Probe/, Gallery_Match/ and Gallery_Distractor/ in it or in its Testing_Set/", root)
	}
	e := &EvalSet{Name: root, Format: FormatTinyFace}
	var (
		paths  []string
		labels []int32
		ids    []string
		class  = map[int]int32{}
	)
	add := func(path string, id int) int {
		l := int32(-1)
		if id >= 0 {
			c, ok := class[id]
			if !ok {
				c = int32(len(ids))
				class[id] = c
				ids = append(ids, strconv.Itoa(id))
			}
			l = c
		}
		paths = append(paths, path)
		labels = append(labels, l)
		return len(paths) - 1
	}
	listed := func(sub string, recursive bool) ([]string, error) {
		var out []string
		base := filepath.Join(dir, sub)
		err := filepath.WalkDir(base, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != base && (!recursive || strings.HasPrefix(d.Name(), ".")) {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasPrefix(d.Name(), ".") && isImageName(d.Name()) {
				out = append(out, p)
			}
			return nil
		})
		return out, err
	}
	for _, sub := range []string{"Probe", "Gallery_Match"} {
		files, err := listed(sub, false)
		if err != nil {
			return nil, fmt.Errorf("datasets: read %s: %w", filepath.Join(dir, sub), err)
		}
		for _, p := range files {
			head, _, ok := strings.Cut(filepath.Base(p), "_")
			id, err := strconv.Atoi(head)
			if !ok || err != nil || id < 0 {
				e.Skipped = append(e.Skipped, p+": name does not start with \"<identity>_\" (e.g. 12_3.jpg); skipped")
				continue
			}
			i := add(p, id)
			if sub == "Probe" {
				e.Probes = append(e.Probes, i)
			} else {
				e.Gallery = append(e.Gallery, i)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "Gallery_Distractor")); err == nil {
		files, err := listed("Gallery_Distractor", true)
		if err != nil {
			return nil, fmt.Errorf("datasets: read %s: %w", filepath.Join(dir, "Gallery_Distractor"), err)
		}
		for _, p := range files {
			e.Gallery = append(e.Gallery, add(p, -1))
		}
	}
	if len(e.Probes) == 0 || len(e.Gallery) == 0 {
		return nil, fmt.Errorf("datasets: %s: %d probe and %d gallery images; TinyFace evaluation needs both (Probe/ and Gallery_Match/ hold <identity>_<n>.jpg)",
			dir, len(e.Probes), len(e.Gallery))
	}
	e.Images = newFileSource(dir, paths, labels, ids)
	return e, nil
}

// Decoded is an EvalSet decoded into memory at one size.
type Decoded struct {
	Pixels [][]uint8 // per image of EvalSet.Images, size*size*3 RGB; nil where unreadable
	Size   int
	Labels []int // per image; -1 for no identity
	Pairs  []Pair
	Folds  int
	// Probes and Gallery without unreadable images.
	Probes, Gallery []int
	// Skipped lists the unreadable images and the pairs, probes and gallery
	// entries dropped with them.
	Skipped []string
}

// Decode decodes every image at size on a bounded pool of goroutines and
// drops the pairs, probes and gallery entries whose image could not be
// read, listing each in Skipped (an unreadable image never fails the
// evaluation, it only shrinks it).
func (e *EvalSet) Decode(size int) (*Decoded, error) {
	if size < 4 || size > 1024 {
		return nil, fmt.Errorf("datasets: %s: image size %d: must be in [4,1024] pixels", e.Name, size)
	}
	pixels, errs := decodeAll(e.Images, size, 0)
	d := &Decoded{Pixels: pixels, Size: size, Folds: e.Folds, Skipped: slices.Clone(e.Skipped)}
	bad := 0
	for i, err := range errs {
		d.Labels = append(d.Labels, e.Images.Label(i))
		if err != nil {
			bad++
			d.Skipped = append(d.Skipped, err.Error())
		}
	}
	if bad == len(errs) && bad > 0 {
		return nil, fmt.Errorf("datasets: %s: none of its %d images could be read (first: %v)", e.Name, bad, errs[0])
	}
	for _, p := range e.Pairs {
		if errs[p.A] != nil || errs[p.B] != nil {
			d.Skipped = append(d.Skipped, fmt.Sprintf("pair (%d, %d) dropped: an image is unreadable", p.A, p.B))
			continue
		}
		d.Pairs = append(d.Pairs, p)
	}
	keep := func(idx []int) []int {
		var out []int
		for _, i := range idx {
			if errs[i] == nil {
				out = append(out, i)
			}
		}
		return out
	}
	d.Probes, d.Gallery = keep(e.Probes), keep(e.Gallery)
	return d, nil
}
