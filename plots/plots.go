package plots

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/ccface/ccface/engine"
)

// Run is one session's recorded events, in the order they were logged.
type Run struct {
	Name   string // shown in legends; "" becomes "run N"
	Events []engine.Event
}

// Options says which figures to make and how.
type Options struct {
	Format string // "png" (default), "svg" or "pdf"
	OutDir string // created if missing; "" means the working directory

	// Smooth is the EMA weight in [0,1): 0 draws raw values; otherwise
	// s_t = Smooth*s_{t-1} + (1-Smooth)*x_t, debiased as in TensorBoard.
	Smooth float64

	Only  []string // figure names to make; empty means every figure that has data
	XAxis string   // "step" (default) or "epoch"

	// LastSteps zooms the figures over training time to their last
	// LastSteps steps (0: the whole run), as the TUI's zoom does: curves
	// are smoothed over the whole run first, so zooming does not change
	// them.
	LastSteps int64

	// Width and Height are the size of the plot; a legend that would cover
	// data goes below it and makes the figure taller. The defaults fit one
	// column of a two-column paper.
	Width, Height vg.Length

	// DPI is the PNG resolution; 0 means 200. Ignored for SVG and PDF.
	DPI int
}

// Result lists what an export did.
type Result struct {
	Written  []string // paths of every file written, figures and CSVs
	Skipped  []string // "figure: reason", e.g. no data
	Warnings []string // e.g. non-finite values left out
}

// Figures counts the figures written (every file but the CSVs).
func (r Result) Figures() int {
	n := 0
	for _, p := range r.Written {
		if filepath.Ext(p) != ".csv" {
			n++
		}
	}
	return n
}

// WriteReport says on w what an export into dir wrote, skipped and warned
// of.
func (r Result) WriteReport(w io.Writer, dir string) {
	fmt.Fprintf(w, "wrote %d figures with their CSVs to %s\n", r.Figures(), dir)
	for _, s := range r.Skipped {
		fmt.Fprintf(w, "  skipped %s\n", s)
	}
	for _, s := range r.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", s)
	}
}

// Defaults of Options.
const (
	DefaultWidth  = 3.5 * vg.Inch
	DefaultHeight = 2.4 * vg.Inch
	DefaultDPI    = 200
)

// Figure names, in the order they are made.
const (
	FigLoss        = "loss"
	FigMargins     = "margins"
	FigAngles      = "angles"
	FigEval        = "eval"
	FigROC         = "roc"
	FigCMC         = "cmc"
	FigResolution  = "resolution"
	FigMarginHist  = "margin_hist"
	FigConsistency = "consistency"
)

// CurveMarginHist is the curve name of the per-sample margin histogram
// (X: bin centres, Y: counts) on whichever event carries it.
const CurveMarginHist = "margin_hist"

// FigureNames lists every figure Export can make, in the order it makes
// them (the catalogue's order).
func FigureNames() []string {
	var out []string
	for _, fs := range catalogue() {
		out = append(out, fs.name)
	}
	return out
}

// Formats lists the output formats Export accepts.
func Formats() []string { return []string{"png", "svg", "pdf"} }

// withDefaults fills zero fields and checks the rest, so every error names
// the offending value and what is accepted.
func (o Options) withDefaults() (Options, error) {
	o.Format = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(o.Format), "."))
	if o.Format == "" {
		o.Format = "png"
	}
	if !slices.Contains(Formats(), o.Format) {
		return o, fmt.Errorf("plots: format %q: want one of %s", o.Format, strings.Join(Formats(), ", "))
	}
	if math.IsNaN(o.Smooth) || o.Smooth < 0 || o.Smooth >= 1 {
		return o, fmt.Errorf("plots: smoothing weight %v: want a value in [0, 1), e.g. 0.6 (0 = raw)", o.Smooth)
	}
	switch o.XAxis {
	case "":
		o.XAxis = "step"
	case "step", "epoch":
	default:
		return o, fmt.Errorf("plots: x axis %q: want step or epoch", o.XAxis)
	}
	if o.LastSteps < 0 {
		return o, fmt.Errorf("plots: last steps %d: want 0 (the whole run) or more", o.LastSteps)
	}
	for _, n := range o.Only {
		if !slices.Contains(FigureNames(), n) {
			return o, fmt.Errorf("plots: unknown figure %q: want some of %s", n, strings.Join(FigureNames(), ", "))
		}
	}
	if o.Width == 0 {
		o.Width = DefaultWidth
	}
	if o.Height == 0 {
		o.Height = DefaultHeight
	}
	if o.Width < vg.Inch || o.Height < vg.Inch {
		return o, fmt.Errorf("plots: size %.2fx%.2f in: want at least 1x1 in", o.Width/vg.Inch, o.Height/vg.Inch)
	}
	if o.DPI == 0 {
		o.DPI = DefaultDPI
	}
	if o.DPI < 30 || o.DPI > 1200 {
		return o, fmt.Errorf("plots: dpi %d: want 30 to 1200", o.DPI)
	}
	if o.OutDir == "" {
		o.OutDir = "."
	}
	return o, nil
}

// Export draws the figures of runs (overlaid, one legend entry per run and
// series) into opt.OutDir. Figures without data are listed in Skipped and
// not written. It returns an error when the options are invalid, when a file
// cannot be written, or when no figure at all has data; the error then says
// which metrics were looked for. Result is filled as far as Export got.
func Export(runs []Run, opt Options) (Result, error) {
	var res Result
	opt, err := opt.withDefaults()
	if err != nil {
		return res, err
	}
	if len(runs) == 0 {
		return res, errors.New("plots: no runs to plot: pass at least one session")
	}
	figs, res := build(runs, opt)
	if len(figs) == 0 {
		return res, fmt.Errorf("plots: nothing to plot in %s: looked for %s", describeRuns(runs), lookedFor(opt.Only))
	}
	if err := os.MkdirAll(opt.OutDir, 0o755); err != nil {
		return res, fmt.Errorf("plots: create output directory: %w", err)
	}
	for _, f := range figs {
		img, err := render(f, opt)
		if err != nil {
			return res, fmt.Errorf("plots: draw %s: %w", f.name, err)
		}
		files := []struct {
			name string
			data []byte
		}{
			{f.name + "." + opt.Format, img},
			{f.name + ".csv", f.csv(opt, false)},
		}
		if f.timeSeries {
			files = append(files, struct {
				name string
				data []byte
			}{f.name + ".raw.csv", f.csv(opt, true)})
		}
		for _, file := range files {
			path := filepath.Join(opt.OutDir, file.name)
			if err := writeAtomic(path, file.data); err != nil {
				return res, err
			}
			res.Written = append(res.Written, path)
		}
	}
	return res, nil
}

// build reads the runs and lays out every requested figure that has data;
// the others go to Skipped. It does no I/O, so tests can check exactly what
// would be drawn.
func build(runs []Run, opt Options) ([]*figure, Result) {
	var res Result
	rd := make([]*runData, len(runs))
	names := runNames(runs)
	epochX := opt.XAxis == "epoch"
	for i, r := range runs {
		rd[i] = readRun(names[i], r.Events, epochX)
		if epochX && !rd[i].epochX {
			// One run without epochs puts every run on steps: a shared
			// axis must mean the same thing for all of them.
			res.Warnings = append(res.Warnings, fmt.Sprintf("run %q carries no epochs; x axis is the step for every run", names[i]))
			epochX = false
		}
	}
	for i, r := range runs {
		if rd[i].epochX != epochX {
			rd[i] = readRun(names[i], r.Events, epochX)
		}
	}
	zoom(rd, opt.LastSteps)
	want := opt.Only
	if len(want) == 0 {
		want = FigureNames()
	}
	var figs []*figure
	for _, spec := range catalogue() {
		if !slices.Contains(want, spec.name) {
			continue
		}
		f, skip := makeFigure(spec, rd, opt)
		if skip != "" {
			res.Skipped = append(res.Skipped, spec.name+": "+skip)
			continue
		}
		res.Warnings = append(res.Warnings, f.warnings...)
		figs = append(figs, f)
	}
	return figs, res
}

// zoom sets where each run's figures over training time start: at the
// last lastSteps steps of the longest run, so runs share the window.
func zoom(rd []*runData, lastSteps int64) {
	if lastSteps <= 0 {
		return
	}
	var last int64
	for _, r := range rd {
		if n := len(r.points); n > 0 {
			last = max(last, r.points[n-1].step)
		}
	}
	for _, r := range rd {
		r.from = math.Inf(1)
		for _, p := range r.points {
			if p.step >= last-lastSteps {
				r.from = p.x
				break
			}
		}
	}
}

// runNames makes legend names unique and non-empty, so two sessions with the
// same name stay apart in legends and CSVs.
func runNames(runs []Run) []string {
	out := make([]string, len(runs))
	seen := map[string]int{}
	for i, r := range runs {
		n := strings.TrimSpace(r.Name)
		if n == "" {
			n = fmt.Sprintf("run %d", i+1)
		}
		seen[n]++
		if seen[n] > 1 {
			n = fmt.Sprintf("%s (%d)", n, seen[n])
		}
		out[i] = n
	}
	return out
}

func describeRuns(runs []Run) string {
	events := 0
	for _, r := range runs {
		events += len(r.Events)
	}
	return fmt.Sprintf("%d run(s) with %d event(s)", len(runs), events)
}

// lookedFor names the data each requested figure reads, for the error of an
// export that found nothing.
func lookedFor(only []string) string {
	want := only
	if len(want) == 0 {
		want = FigureNames()
	}
	var parts []string
	for _, n := range want {
		if fs, ok := figureSpecOf(n); ok {
			parts = append(parts, n+" ("+fs.reads+")")
		}
	}
	return strings.Join(parts, "; ")
}

// writeAtomic writes data to a temporary file beside path, syncs it and
// renames it over path, so a reader never sees half a figure and an export
// killed midway leaves the previous files intact.
func writeAtomic(path string, data []byte) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("plots: write %s: %w", path, err)
	}
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("plots: write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("plots: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("plots: write %s: %w", path, err)
	}
	return nil
}
