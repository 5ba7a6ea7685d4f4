package datasets

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// InspectOptions adjust Inspect.
type InspectOptions struct {
	// Images is the image folder of a pairs.txt (see EvalOptions).
	Images string
	// Sample is how many images to read in full (header, hash, pixels):
	// 0 reads all of a set of up to 20,000 and a fixed random 20,000 of a
	// larger one; negative reads all.
	Sample int
	// Seed picks the sample and the contact sheet's faces.
	Seed int64
}

// defaultInspectSample keeps inspecting a multi-million-image .rec to a
// minute or so; identities and counts always cover every image.
const defaultInspectSample = 20000

// Report is what Inspect found. Counts of identities and images cover the
// whole set; everything read from the image bytes covers Read images.
type Report struct {
	Path, Format string
	Images       int   // images in the set
	Identities   int   // identities (0 for a .bin: pairs carry no identity)
	NoIdentity   int   // images with no identity (.bin images, TinyFace distractors)
	PerID        []int // images per identity
	Read         int   // images read in full

	Sizes     map[string]int // "W×H" → images
	Channels  map[string]int // "grey", "RGB", "RGBA" → images
	Encodings map[string]int // "jpeg", "png" → images

	Unreadable      []string // "entry: reason", at most 200
	UnreadableCount int
	TooLarge        int        // refused by the pixel limit
	Duplicates      [][]string // entries with byte-identical images, per group
	DuplicateCross  int        // groups spanning different identities (label noise)

	// Face-centre colour statistics of the colour images read.
	ColourImages int
	MeanRGB      [3]float64
	BlueOverRed  int // colour images whose centre is bluer than it is red

	// The file's protocol.
	Pairs, SamePairs, Folds   int
	Probes, Gallery, Distract int
	ProbesWithoutMate         int
	Notes                     []string // reader problems and warnings
	ignored                   int
	ignoredExample            string
	set                       *EvalSet
	readable                  []int // sampled images that decoded
}

// Inspect opens path (DetectFormat) and describes it: identities, images,
// sizes, channels, encodings, the per-identity count histogram, unreadable
// and duplicate images, and a channel-order hint. It reads every image up
// to opt.Sample. The report keeps the set open for Sheet; Close it.
func Inspect(path string, opt InspectOptions) (*Report, error) {
	es, err := OpenEval(path, EvalOptions{Images: opt.Images})
	if err != nil {
		return nil, err
	}
	src, ok := es.Images.(RawSource)
	if !ok {
		es.Close()
		return nil, fmt.Errorf("datasets: %s: cannot inspect a %T", path, es.Images)
	}
	r := &Report{Path: path, Format: es.Format, set: es, Images: src.Len(), Identities: src.NumIDs(),
		Sizes: map[string]int{}, Channels: map[string]int{}, Encodings: map[string]int{}, Notes: slices.Clone(es.Skipped)}
	if rec, ok := src.(*RecordIO); ok {
		if _, n := rec.Problems(); n > len(r.Notes) {
			r.Notes = append(r.Notes, fmt.Sprintf("... %d reader problems in all", n))
		}
	}
	r.PerID = make([]int, src.NumIDs())
	for i := 0; i < src.Len(); i++ {
		if l := src.Label(i); l >= 0 {
			r.PerID[l]++
		} else {
			r.NoIdentity++
		}
	}
	r.protocol(es)
	if es.Format == FormatFolder {
		r.countIgnored(path)
	}

	pick := samplePositions(src.Len(), opt.Sample, opt.Seed)
	r.Read = len(pick)
	type result struct {
		info   imageInfo
		hash   [32]byte
		err    error
		rgb    [3]float64
		colour bool
	}
	res := make([]result, len(pick))
	workers := 8
	scratch := make([]imageScratch, workers)
	ParallelFor(len(pick), workers, func(w, k int) {
		i := pick[k]
		data, err := src.Raw(i)
		if err == nil {
			res[k].hash = sha256.Sum256(data)
			res[k].info, err = probeImage(data)
		}
		if err == nil {
			const side = 32
			px := make([]uint8, side*side*3)
			if err = scratch[w].decode(data, side, px, Crop{}); err == nil {
				res[k].rgb, res[k].colour = centreColour(px, side)
			}
		}
		if err != nil && !strings.HasPrefix(err.Error(), src.Entry(i)) {
			err = fmt.Errorf("%s: %w", src.Entry(i), err)
		}
		res[k].err = err
	})

	groups := map[[32]byte][]int{}
	var sum [3]float64
	for k, x := range res {
		i := pick[k]
		if x.err != nil {
			r.UnreadableCount++
			if errors.Is(x.err, ErrTooLarge) {
				r.TooLarge++
			}
			if len(r.Unreadable) < maxProblems {
				r.Unreadable = append(r.Unreadable, x.err.Error())
			}
			if x.hash == ([32]byte{}) {
				continue
			}
		} else {
			r.readable = append(r.readable, i)
			r.Sizes[fmt.Sprintf("%d×%d", x.info.Width, x.info.Height)]++
			r.Channels[map[int]string{1: "grey", 3: "RGB", 4: "RGBA"}[x.info.Channels]]++
			r.Encodings[x.info.Format]++
			if x.colour {
				r.ColourImages++
				for c := range sum {
					sum[c] += x.rgb[c]
				}
				if x.rgb[2] > x.rgb[0] {
					r.BlueOverRed++
				}
			}
		}
		groups[x.hash] = append(groups[x.hash], i)
	}
	if r.ColourImages > 0 {
		for c := range sum {
			r.MeanRGB[c] = sum[c] / float64(r.ColourImages)
		}
	}
	var dups [][]int
	for _, g := range groups {
		if len(g) > 1 {
			dups = append(dups, g)
		}
	}
	slices.SortFunc(dups, func(a, b []int) int { return a[0] - b[0] })
	for _, g := range dups {
		names := make([]string, len(g))
		cross := false
		for j, i := range g {
			names[j] = src.Entry(i)
			if src.Label(i) != src.Label(g[0]) || src.Label(i) < 0 {
				cross = true
			}
		}
		if cross && es.Format != FormatBin {
			r.DuplicateCross++
		}
		r.Duplicates = append(r.Duplicates, names)
	}
	return r, nil
}

// Close releases the inspected set's files.
func (r *Report) Close() error { return r.set.Close() }

// protocol fills the pair and TinyFace counts.
func (r *Report) protocol(es *EvalSet) {
	r.Pairs, r.Folds = len(es.Pairs), es.Folds
	for _, p := range es.Pairs {
		if p.Same {
			r.SamePairs++
		}
	}
	if es.Format != FormatTinyFace {
		return
	}
	r.Probes = len(es.Probes)
	mated := map[int]bool{}
	for _, g := range es.Gallery {
		if l := es.Images.Label(g); l >= 0 {
			mated[l] = true
		} else {
			r.Distract++
		}
	}
	r.Gallery = len(es.Gallery) - r.Distract
	for _, p := range es.Probes {
		if !mated[es.Images.Label(p)] {
			r.ProbesWithoutMate++
		}
	}
}

// countIgnored counts the non-image files of an image folder, which the
// readers skip without a word.
func (r *Report) countIgnored(dir string) {
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") || isImageName(d.Name()) {
			return nil
		}
		r.ignored++
		if r.ignoredExample == "" {
			r.ignoredExample = p
		}
		return nil
	})
}

// samplePositions returns the image indices to read: all, or a seeded
// sample, ascending.
func samplePositions(n, sample int, seed int64) []int {
	if sample == 0 {
		sample = defaultInspectSample
	}
	if sample < 0 || sample >= n {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := newRand(mixSeed(uint64(seed), tagSheet, 1)).Perm(n)[:sample]
	slices.Sort(out)
	return out
}

// centreColour averages the central half of a size×size RGB face, where
// the skin is, and says whether the image has colour at all (a grey image
// stored as RGB has equal channels).
func centreColour(px []uint8, size int) ([3]float64, bool) {
	var sum [3]float64
	var chroma float64
	n := 0
	for y := size / 4; y < size-size/4; y++ {
		for x := size / 4; x < size-size/4; x++ {
			p := px[(y*size+x)*3:]
			for c := 0; c < 3; c++ {
				sum[c] += float64(p[c])
			}
			chroma += math.Abs(float64(p[0])-float64(p[1])) + math.Abs(float64(p[1])-float64(p[2]))
			n++
		}
	}
	for c := range sum {
		sum[c] /= float64(n)
	}
	return sum, chroma/float64(n) > 4
}

// BGRSuspect reports whether the channel order looks swapped: in most
// colour images the face centre is bluer than it is red. Skin is redder
// than it is blue under any ordinary light, so a majority of blue faces
// means images were saved from OpenCV's BGR arrays as if they were RGB.
func (r *Report) BGRSuspect() bool {
	return r.ColourImages >= 3 && r.BlueOverRed*2 > r.ColourImages
}

// WriteText writes the report for a terminal.
func (r *Report) WriteText(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("%s\n", r.Path)
	p("  format       %s\n", FormatDescription(r.Format))
	read := ""
	if r.Read < r.Images {
		read = fmt.Sprintf(" (read %d, a fixed random sample; --sample -1 reads all)", r.Read)
	}
	p("  images       %d%s\n", r.Images, read)
	switch {
	case r.Identities > 0:
		p("  identities   %d", r.Identities)
		if r.NoIdentity > 0 {
			p(" (+%d images with no identity)", r.NoIdentity)
		}
		p("\n")
	default:
		p("  identities   none recorded (pairs only)\n")
	}
	if r.Pairs > 0 {
		p("  pairs        %d: %d same, %d different, in %d folds\n", r.Pairs, r.SamePairs, r.Pairs-r.SamePairs, r.Folds)
	}
	if r.Format == FormatTinyFace {
		p("  probes       %d, %d of them with no mate in the gallery\n", r.Probes, r.ProbesWithoutMate)
		p("  gallery      %d matches + %d distractors\n", r.Gallery, r.Distract)
	}
	if len(r.PerID) > 0 {
		c := slices.Clone(r.PerID)
		slices.Sort(c)
		total := 0
		for _, v := range c {
			total += v
		}
		p("  per identity min %d, median %d, max %d, mean %.1f\n", c[0], c[len(c)/2], c[len(c)-1], float64(total)/float64(len(c)))
		idBuckets := []struct {
			lo, hi int
			name   string
		}{{1, 1, "1"}, {2, 2, "2"}, {3, 5, "3-5"}, {6, 10, "6-10"}, {11, 20, "11-20"}, {21, 50, "21-50"}, {51, 100, "51-100"}, {101, math.MaxInt, "101+"}}
		counts := make([]int, len(idBuckets))
		for _, v := range r.PerID {
			for b, k := range idBuckets {
				if v >= k.lo && v <= k.hi {
					counts[b]++
				}
			}
		}
		most := slices.Max(counts)
		p("    images/id  identities\n")
		for b, k := range idBuckets {
			if k.lo > c[len(c)-1] {
				break
			}
			bar := 0
			if most > 0 {
				bar = (counts[b]*30 + most - 1) / most
			}
			p("    %-9s  %-7d %s\n", k.name, counts[b], strings.Repeat("█", bar))
		}
	}
	p("  sizes        %s\n", topCounts(r.Sizes, 6))
	p("  channels     %s\n", topCounts(r.Channels, 3))
	p("  encodings    %s\n", topCounts(r.Encodings, 3))
	p("  unreadable   %d", r.UnreadableCount)
	if r.TooLarge > 0 {
		p(" (%d over the %d-pixel limit)", r.TooLarge, MaxPixels)
	}
	p("\n")
	for i, u := range r.Unreadable {
		if i == 10 {
			p("    ... and %d more\n", r.UnreadableCount-10)
			break
		}
		p("    %s\n", u)
	}
	if len(r.Duplicates) == 0 {
		p("  duplicates   none (byte-identical images)\n")
	} else {
		files := 0
		for _, g := range r.Duplicates {
			files += len(g)
		}
		p("  duplicates   %d groups of byte-identical images (%d images)", len(r.Duplicates), files)
		if r.DuplicateCross > 0 {
			p(", %d across identities (label noise?)", r.DuplicateCross)
		}
		p("\n")
		for i, g := range r.Duplicates {
			if i == 5 {
				p("    ... and %d more groups\n", len(r.Duplicates)-5)
				break
			}
			p("    %s\n", strings.Join(g, " = "))
		}
	}
	switch {
	case r.ColourImages == 0 && r.Channels["RGB"]+r.Channels["RGBA"] > 0:
		p("  colour       none: the RGB-encoded images have equal channels (grey stored as RGB); channel order does not matter\n")
	case r.ColourImages == 0:
		p("  colour       no colour images (grey): channel order does not matter\n")
	case r.BGRSuspect():
		p("  colour       WARNING: the face centre is bluer than it is red in %d of %d colour images (mean R %.0f G %.0f B %.0f).\n",
			r.BlueOverRed, r.ColourImages, r.MeanRGB[0], r.MeanRGB[1], r.MeanRGB[2])
		p("               Skin is redder than blue, so the channels look swapped (BGR): were the images\n")
		p("               encoded from OpenCV arrays without cvtColor(BGR2RGB)? ccface reads them as RGB.\n")
	default:
		p("  colour       RGB order looks right: mean face centre R %.0f G %.0f B %.0f; bluer than red in %d of %d colour images\n",
			r.MeanRGB[0], r.MeanRGB[1], r.MeanRGB[2], r.BlueOverRed, r.ColourImages)
	}
	if r.ignored > 0 {
		p("  ignored      %d non-image files (e.g. %s)\n", r.ignored, r.ignoredExample)
	}
	if len(r.Notes) > 0 {
		p("  problems     %d\n", len(r.Notes))
		for i, n := range r.Notes {
			if i == 10 {
				p("    ... and %d more\n", len(r.Notes)-10)
				break
			}
			p("    %s\n", n)
		}
	}
}

// topCounts formats the n largest counts of m.
func topCounts(m map[string]int, n int) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if m[keys[a]] != m[keys[b]] {
			return m[keys[a]] > m[keys[b]]
		}
		return keys[a] < keys[b]
	})
	var parts []string
	for i, k := range keys {
		if i == n {
			parts = append(parts, fmt.Sprintf("and %d more", len(keys)-n))
			break
		}
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// WriteSheet writes Sheet, made with DefaultDegrade, to the PNG path and
// says so on w.
func (r *Report) WriteSheet(path string, rows, views, zoom, size int, seed int64, w io.Writer) error {
	p := DefaultDegrade()
	img, err := r.Sheet(rows, views, zoom, size, p, seed)
	if err != nil {
		return err
	}
	if err := WritePNG(path, img); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s: faces at %d px, each followed by %d degraded views (aug.r_min=%g aug.r_max=%g)\n",
		path, size, views, p.RMin, p.RMax)
	return nil
}

// Sheet renders a contact sheet of up to rows readable faces, each at size
// px, followed by views degraded views made with p (ContactSheet). Faces
// are captioned with their identity, or their entry when they have none.
func (r *Report) Sheet(rows, views, zoom, size int, p DegradeParams, seed int64) (*image.RGBA, error) {
	if len(r.readable) == 0 {
		return nil, fmt.Errorf("datasets: %s: no readable image to show", r.Path)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	src := r.set.Images
	rows = max(1, min(rows, len(r.readable)))
	pick := newRand(mixSeed(uint64(seed), tagSheet, 2)).Perm(len(r.readable))[:rows]
	slices.Sort(pick)
	set := &Set{Name: r.Path, Size: size}
	namer := idNamer(src)
	pixels := make([][]uint8, rows)
	errs := make([]error, rows)
	ParallelFor(rows, 0, func(_, k int) {
		pixels[k] = make([]uint8, size*size*3)
		errs[k] = src.Image(r.readable[pick[k]], size, pixels[k])
	})
	for k, idx := range pick {
		if errs[k] != nil {
			continue
		}
		i := r.readable[idx]
		name := fmt.Sprint(i)
		if l := src.Label(i); l >= 0 && namer != nil {
			name = namer(l)
		}
		set.Pixels = append(set.Pixels, pixels[k])
		set.Labels = append(set.Labels, len(set.IDNames))
		set.IDNames = append(set.IDNames, name)
	}
	if set.Len() == 0 {
		return nil, fmt.Errorf("datasets: %s: no readable image to show (first error: %v)", r.Path, errs[0])
	}
	return ContactSheet(set, set.Len(), views, zoom, p, seed), nil
}
