package align

import (
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ccface/ccface/datasets"
	"github.com/ccface/ccface/engine/onnx"
)

// Options say how a set is aligned.
type Options struct {
	Detect  DetectOptions
	Size    int     // side of the aligned crops (ArcFace: 112)
	Pick    string  // PickLargest or PickCentral, when an image holds several faces
	MinFace float64 // faces whose box's shorter side is below this many source pixels are ignored
	Workers int     // 0: one per core
}

// DefaultOptions aligns to 112×112 keeping the most central face.
func DefaultOptions() Options {
	return Options{Detect: DefaultDetect(), Size: 112, Pick: PickCentral}
}

// Validate checks the options and says what to change.
func (o Options) Validate() error {
	if err := o.Detect.Validate(); err != nil {
		return err
	}
	if o.Size < 16 || o.Size > 1024 {
		return fmt.Errorf("output size %d: must be in 16..1024 pixels", o.Size)
	}
	if o.Pick != PickLargest && o.Pick != PickCentral {
		return fmt.Errorf("pick %q: must be %s or %s", o.Pick, PickLargest, PickCentral)
	}
	if o.MinFace < 0 {
		return fmt.Errorf("minimum face %g px: must be 0 or more", o.MinFace)
	}
	return nil
}

// String records the options, for reports and cache keys.
func (o Options) String() string {
	return fmt.Sprintf("det-size=%d upscale=%v threshold=%g nms=%g size=%d pick=%s min-face=%g",
		o.Detect.Size, o.Detect.Upscale, o.Detect.Threshold, o.Detect.NMS, o.Size, o.Pick, o.MinFace)
}

// item is one input image: how to read it, what to call it in messages
// and where its crop goes under the output folder.
type item struct {
	entry string
	out   string
	read  func() (*image.RGBA, error)
}

// listInput lists what `data align` reads: an identity folder, a RecordIO
// file or one image.
func listInput(in string) (items []item, closer io.Closer, err error) {
	if datasets.IsImageFile(in) {
		stem := strings.TrimSuffix(filepath.Base(in), filepath.Ext(in))
		return []item{{entry: in, out: stem + ".png", read: func() (*image.RGBA, error) { return datasets.ReadImage(in) }}}, nil, nil
	}
	format, err := datasets.DetectFormat(in)
	if err != nil {
		return nil, nil, err
	}
	switch format {
	case datasets.FormatFolder:
		src, err := datasets.OpenFolderSource(in)
		if err != nil {
			return nil, nil, err
		}
		used := map[string]bool{}
		for i := 0; i < src.Len(); i++ {
			path := src.Path(i)
			id := src.IDName(src.Label(i))
			base := filepath.Base(path)
			out := filepath.Join(id, strings.TrimSuffix(base, filepath.Ext(base))+".png")
			if used[out] { // a.jpg and a.png side by side
				out = filepath.Join(id, base+".png")
			}
			used[out] = true
			items = append(items, item{entry: path, out: out, read: func() (*image.RGBA, error) { return datasets.ReadImage(path) }})
		}
		return items, nil, nil
	case datasets.FormatRec:
		rec, err := datasets.OpenRecordIO(in)
		if err != nil {
			return nil, nil, err
		}
		for i := 0; i < rec.Len(); i++ {
			entry := rec.Entry(i)
			items = append(items, item{
				entry: entry,
				out:   filepath.Join(rec.IDName(rec.Label(i)), fmt.Sprintf("%08d.png", i)),
				read: func() (*image.RGBA, error) {
					raw, err := rec.Raw(i)
					if err != nil {
						return nil, err
					}
					img, err := datasets.DecodeRGBA(raw)
					if err != nil {
						return nil, fmt.Errorf("%s: %w", entry, err)
					}
					return img, nil
				},
			})
		}
		return items, rec, nil
	}
	return nil, nil, fmt.Errorf("align: %s is a %s; data align reads an image folder (DIR/<identity>/<image>), a .rec or one PNG/JPEG image",
		in, datasets.FormatDescription(format))
}

// Status is what happened to one image.
type Status int

// The outcomes of one image.
const (
	Aligned    Status = iota // one face, aligned
	Several                  // several faces, one aligned (Options.Pick)
	NoFace                   // nothing written
	Unreadable               // not an image, corrupt, too large
)

// Report is the outcome of aligning a set.
type Report struct {
	In, Out  string
	Options  Options
	Total    int
	Counts   [4]int   // by Status
	Problems []string // "entry: what happened", for every image not simply aligned
	Elapsed  time.Duration
	Workers  int
	Samples  []Sample // the contact sheet's images
}

// Written is the number of crops written.
func (r *Report) Written() int { return r.Counts[Aligned] + r.Counts[Several] }

// Sample is one image of the contact sheet: a thumbnail of the original
// with the detections drawn, and its crop (nil when none was made).
type Sample struct {
	Entry    string
	Original *image.RGBA
	Faces    []Face // in Original's coordinates
	Chosen   int    // index in Faces, -1 for none
	Crop     *image.RGBA
	Status   Status
}

// sheetSamples is how many images the contact sheet shows.
const sheetSamples = 24

// reportName and sheetName are written next to the identity folders;
// folder readers only look into sub-folders, so they are not taken for
// images.
const (
	reportName = "align_report.txt"
	sheetName  = "align_sheet.png"
)

// Run aligns every image of in (an identity folder, a .rec or one image)
// into the folder out, in the same identity layout, as PNG crops; writes
// out/align_report.txt and the contact sheet out/align_sheet.png; and
// prints progress lines on progress. out must not exist yet: the crops are
// written into out.partial and renamed into place once complete, so an
// interrupted run leaves no half-aligned folder under the final name.
// Images with no face or unreadable are named and counted, never fatal;
// only a set where nothing could be aligned is an error.
func Run(model *onnx.Model, in, out string, opt Options, progress io.Writer) (*Report, error) {
	if err := opt.Validate(); err != nil {
		return nil, fmt.Errorf("align: %w", err)
	}
	if err := checkOutput(in, out); err != nil {
		return nil, err
	}
	items, closer, err := listInput(in)
	if err != nil {
		return nil, err
	}
	if closer != nil {
		defer closer.Close()
	}
	tmp := out + ".partial"
	if err := os.RemoveAll(tmp); err != nil {
		return nil, fmt.Errorf("align: remove the leftover %s: %w", tmp, err)
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("align: %w", err)
	}
	rep, err := alignItems(model, items, tmp, opt, progress)
	if err == nil {
		rep.In, rep.Out = in, out
		err = finish(rep, tmp)
	}
	if err == nil {
		err = os.Rename(tmp, out)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	return rep, nil
}

// checkOutput refuses an output folder that holds anything (nothing of
// the user's is overwritten) or lies inside the input folder (it would be
// read as identities next time).
func checkOutput(in, out string) error {
	if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
		return fmt.Errorf("align: %s exists and is not empty; choose a new output folder (nothing was written)", out)
	} else if err == nil {
		if err := os.Remove(out); err != nil {
			return fmt.Errorf("align: %w", err)
		}
	}
	ai, err1 := filepath.Abs(in)
	ao, err2 := filepath.Abs(out)
	if err1 == nil && err2 == nil {
		if rel, err := filepath.Rel(ai, ao); err == nil && !strings.HasPrefix(rel, "..") {
			if info, err := os.Stat(in); err == nil && info.IsDir() {
				return fmt.Errorf("align: output %s is inside the input folder %s; choose a folder outside it", out, in)
			}
		}
	}
	return nil
}

// alignItems detects and aligns every item on opt.Workers goroutines, each
// with its own detector graph, writing crops under dir.
func alignItems(model *onnx.Model, items []item, dir string, opt Options, progress io.Writer) (*Report, error) {
	workers := opt.Workers
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(items)))
	dets := make([]*Detector, workers)
	for w := range dets {
		d, err := NewDetector(model, opt.Detect)
		if err != nil {
			return nil, err
		}
		dets[w] = d
	}
	rep := &Report{Options: opt, Total: len(items), Workers: workers}
	status := make([]Status, len(items))
	problems := make([]string, len(items))
	sampleAt := map[int]int{}
	for k := 0; k < min(sheetSamples, len(items)); k++ {
		sampleAt[k*len(items)/min(sheetSamples, len(items))] = k
	}
	rep.Samples = make([]Sample, len(sampleAt))

	var done atomic.Int64
	var counts [4]atomic.Int64
	var writeErr error
	var errOnce sync.Once
	start := time.Now()
	stop := make(chan struct{})
	var reporter sync.WaitGroup
	reporter.Add(1)
	go func() { // progress lines, at most every 2 s
		defer reporter.Done()
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				n := done.Load()
				fmt.Fprintf(progress, "align: %d/%d images (%.0f%%), %.1f ms/image, %d no face, %d several, %d unreadable\n",
					n, len(items), 100*float64(n)/float64(len(items)), msPer(time.Since(start), int(n)),
					counts[NoFace].Load(), counts[Several].Load(), counts[Unreadable].Load())
			}
		}
	}()
	var failed atomic.Bool
	datasets.ParallelFor(len(items), workers, func(w, i int) {
		if failed.Load() { // a write failed: the rest is skipped, the run fails
			return
		}
		st, why, sample, err := alignOne(dets[w], items[i], dir, opt)
		if err != nil {
			errOnce.Do(func() { writeErr = err })
			failed.Store(true)
			return
		}
		status[i], problems[i] = st, why
		if k, ok := sampleAt[i]; ok {
			rep.Samples[k] = sample
		}
		counts[st].Add(1)
		done.Add(1)
	})
	close(stop)
	reporter.Wait()
	if writeErr != nil {
		return nil, writeErr
	}
	rep.Elapsed = time.Since(start)
	for i, st := range status {
		rep.Counts[st]++
		if problems[i] != "" {
			rep.Problems = append(rep.Problems, items[i].entry+": "+problems[i])
		}
	}
	if rep.Written() == 0 {
		first := ""
		if len(rep.Problems) > 0 {
			first = " (first: " + rep.Problems[0] + ")"
		}
		return nil, fmt.Errorf("align: no face found in any of the %d images%s; for small inputs try --upscale with a small --det-size, or lower --min-face", len(items), first)
	}
	return rep, nil
}

func msPer(d time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(d.Microseconds()) / 1000 / float64(n)
}

// alignOne reads, detects, aligns and writes one image. Problems with the
// image are its status; only failing to write is an error.
func alignOne(d *Detector, it item, dir string, opt Options) (Status, string, Sample, error) {
	sample := Sample{Entry: it.entry, Chosen: -1}
	img, err := it.read()
	if err != nil {
		sample.Status = Unreadable
		return Unreadable, "unreadable: " + trimEntry(err.Error(), it.entry), sample, nil
	}
	sample.Original = img
	all, err := d.Detect(img)
	if err != nil {
		return 0, "", sample, fmt.Errorf("align: %s: %w", it.entry, err)
	}
	var faces []Face
	for _, f := range all {
		if float64(min(f.Width(), f.Height())) >= opt.MinFace {
			faces = append(faces, f)
		}
	}
	sample.Faces = faces
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if len(faces) == 0 {
		why := fmt.Sprintf("no face (%d×%d px image)", w, h)
		if len(all) > 0 {
			why = fmt.Sprintf("no face of at least %g px (%d smaller)", opt.MinFace, len(all))
		}
		sample.Status = NoFace
		return NoFace, why, sample, nil
	}
	k := Pick(faces, opt.Pick, w, h)
	sample.Chosen = k
	s, err := AlignTransform(faces[k], opt.Size)
	if err != nil {
		sample.Status = NoFace
		return NoFace, "no usable landmarks: " + err.Error(), sample, nil
	}
	crop := Warp(img, s, opt.Size)
	sample.Crop = crop
	path := filepath.Join(dir, it.out)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, "", sample, fmt.Errorf("align: %w", err)
	}
	if err := datasets.WritePNG(path, crop); err != nil {
		return 0, "", sample, fmt.Errorf("align: %w", err)
	}
	if len(faces) > 1 {
		f := faces[k]
		sample.Status = Several
		return Several, fmt.Sprintf("%d faces, kept the %s one (score %.2f, %.0f×%.0f px at %.0f,%.0f)",
			len(faces), opt.Pick, f.Score, f.Width(), f.Height(), f.Box[0], f.Box[1]), sample, nil
	}
	sample.Status = Aligned
	return Aligned, "", sample, nil
}

// trimEntry drops the entry's own name from the front of a message that
// repeats it.
func trimEntry(msg, entry string) string {
	return strings.TrimPrefix(msg, entry+": ")
}

// finish writes the report and the contact sheet into dir.
func finish(rep *Report, dir string) error {
	var b strings.Builder
	rep.WriteSummary(&b)
	for _, p := range rep.Problems {
		fmt.Fprintln(&b, p)
	}
	if err := os.WriteFile(filepath.Join(dir, reportName), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("align: write the report: %w", err)
	}
	if err := datasets.WritePNG(filepath.Join(dir, sheetName), ContactSheet(rep.Samples, rep.Options.Size)); err != nil {
		return fmt.Errorf("align: write the contact sheet: %w", err)
	}
	return nil
}

// WriteSummary writes the counts, the speed and the options.
func (r *Report) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "aligned %s -> %s (%s)\n", r.In, r.Out, r.Options)
	fmt.Fprintf(w, "%d images: %d aligned (%d of them had several faces, %s kept), %d no face, %d unreadable\n",
		r.Total, r.Written(), r.Counts[Several], r.Options.Pick, r.Counts[NoFace], r.Counts[Unreadable])
	fmt.Fprintf(w, "%.1f s: %.1f ms/image wall on %d workers (%.1f ms per image per worker)\n",
		r.Elapsed.Seconds(), msPer(r.Elapsed, r.Total), r.Workers, msPer(r.Elapsed, r.Total)*float64(r.Workers))
}

// WriteOutcome is what `ccface data align` says when done: the summary,
// the first problems, and where the crops, report and sheet are.
func (r *Report) WriteOutcome(w io.Writer) {
	r.WriteSummary(w)
	for i, p := range r.Problems {
		if i == 10 {
			fmt.Fprintf(w, "  ... %d more in %s\n", len(r.Problems)-10, ReportPath(r.Out))
			break
		}
		fmt.Fprintln(w, "  "+p)
	}
	fmt.Fprintf(w, "wrote %d crops under %s, the report %s and the contact sheet %s\n",
		r.Written(), r.Out, ReportPath(r.Out), SheetPath(r.Out))
}

// ReportPath and SheetPath are where Run put its report and sheet.
func ReportPath(out string) string { return filepath.Join(out, reportName) }
func SheetPath(out string) string  { return filepath.Join(out, sheetName) }
