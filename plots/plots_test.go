package plots

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"

	"github.com/ccface/ccface/engine"
)

func TestDecimateKeepsShape(t *testing.T) {
	n := 100_000
	xs, ys := make([]float64, n), make([]float64, n)
	for i := range n {
		xs[i] = float64(i + 1)
		ys[i] = math.Sin(float64(i) / 5000)
	}
	ys[54321] = 50 // a spike must survive
	idx := decimate(xs, ys)
	if len(idx) > 4*decimateBuckets || len(idx) < decimateBuckets {
		t.Fatalf("kept %d of %d points", len(idx), n)
	}
	if !slices.IsSorted(idx) || idx[0] != 0 || idx[len(idx)-1] != n-1 {
		t.Fatal("indices must be sorted and keep both ends")
	}
	if !slices.Contains(idx, 54321) {
		t.Fatal("spike dropped")
	}
	if got := decimate(xs[:100], ys[:100]); len(got) != 100 {
		t.Fatalf("short series decimated to %d points", len(got))
	}
}

// runs1 is one synthetic run with a diverged loss.
func runs1() []Run { return []Run{{Name: "baseline", Events: synthRun(synthOpts{diverge: true})}} }

// runs2 overlays a second, better run.
func runs2() []Run {
	return append(runs1(), Run{Name: "adaptive", Events: synthRun(synthOpts{seed: 7, better: 0.04})})
}

// readCSV parses an exported CSV: comment lines, then run,series,x,y rows.
func readCSV(t *testing.T, data []byte) (comments []string, rows [][]string) {
	t.Helper()
	var body bytes.Buffer
	for line := range strings.SplitSeq(string(data), "\n") {
		if strings.HasPrefix(line, "#") {
			comments = append(comments, line)
			continue
		}
		body.WriteString(line + "\n")
	}
	rows, err := csv.NewReader(&body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], []string{"run", "series", "x", "y"}) {
		t.Fatalf("CSV header row %v", rows[:min(1, len(rows))])
	}
	return comments, rows[1:]
}

// drawnRows lists, per plotter that newPlot adds for the figure's data, the
// points it draws, as CSV rows. It reads the plotters themselves, so the
// comparison covers what reaches the canvas, not only the figure model.
func drawnRows(f *figure) [][]string {
	var out [][]string
	row := func(run int, key string, x, y float64) {
		out = append(out, []string{f.runs[run], key, fmtNum(x), fmtNum(y)})
	}
	for _, b := range f.bands {
		for i := range b.xs {
			row(b.run, b.key+"-std", b.xs[i], b.lo[i])
		}
		for i := range b.xs {
			row(b.run, b.key+"+std", b.xs[i], b.hi[i])
		}
	}
	for _, s := range f.series {
		var xys plotter.XYs
		for _, p := range f.plotters(s) {
			switch p := p.(type) {
			case *plotter.Line:
				xys = append(xys, p.XYs...)
			case *plotter.Scatter:
				xys = append(xys, p.XYs...)
			case *barPlotter:
				for i := range p.s.xs {
					xys = append(xys, plotter.XY{X: p.s.xs[i], Y: p.s.ys[i]})
				}
			case glyphMarks:
				// Marks on points already drawn by the line.
			default:
				panic(fmt.Sprintf("unknown plotter %T", p))
			}
		}
		for _, xy := range xys {
			row(s.run, s.key, xy.X, xy.Y)
		}
	}
	return out
}

func TestCSVRowsArePlottedPoints(t *testing.T) {
	long := synthRun(synthOpts{steps: 30_000, seed: 3, noEval: true})
	for _, c := range []struct {
		name string
		runs []Run
		opt  Options
	}{
		{"raw", runs1(), Options{}},
		{"smoothed two runs", runs2(), Options{Smooth: 0.6}},
		{"epoch axis", runs1(), Options{XAxis: "epoch", Smooth: 0.3}},
		{"decimated", []Run{{Name: "long", Events: long}}, Options{Smooth: 0.9}},
	} {
		t.Run(c.name, func(t *testing.T) {
			opt, err := c.opt.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			figs, _ := build(c.runs, opt)
			if len(figs) == 0 {
				t.Fatal("no figures")
			}
			for _, f := range figs {
				comments, rows := readCSV(t, f.csv(opt, false))
				want := drawnRows(f)
				if len(rows) != len(want) {
					t.Fatalf("%s: %d CSV rows, %d drawn points", f.name, len(rows), len(want))
				}
				for i := range rows {
					if !slices.Equal(rows[i], want[i]) {
						t.Fatalf("%s: row %d is %v, drawn %v", f.name, i, rows[i], want[i])
					}
				}
				head := strings.Join(comments, "\n")
				wantSmooth := "smoothing: none"
				if f.smoothed {
					wantSmooth = "smoothing: EMA weight " + fmtNum(opt.Smooth)
				}
				for _, s := range []string{wantSmooth, "x unit: " + f.xUnit} {
					if !strings.Contains(head, s) {
						t.Errorf("%s: header lacks %q:\n%s", f.name, s, head)
					}
				}
				if c.name == "decimated" && f.timeSeries {
					if !strings.Contains(head, "decimated: run") {
						t.Errorf("%s: header does not say the series was decimated", f.name)
					}
					for _, s := range f.series {
						if len(s.xs) >= len(s.rawXs) || len(s.xs) > 4*decimateBuckets {
							t.Errorf("%s/%s: drew %d of %d points", f.name, s.key, len(s.xs), len(s.rawXs))
						}
					}
				}
			}
		})
	}
}

func TestRawCSVHasEveryFinitePoint(t *testing.T) {
	opt, _ := Options{Smooth: 0.8}.withDefaults()
	figs, _ := build(runs1(), opt)
	f := figs[slices.IndexFunc(figs, func(f *figure) bool { return f.name == FigLoss })]
	_, rows := readCSV(t, f.csv(opt, true))
	count := map[string]int{}
	for _, r := range rows {
		y, err := strconv.ParseFloat(r[3], 64)
		if err != nil || !finite(y) {
			t.Fatalf("raw row %v", r)
		}
		count[r[1]]++
	}
	// 400 steps with the total loss non-finite at 3 of them; the LR term
	// exists in the student half only.
	if count["loss"] != 397 || count["loss_cc_hr"] != 400 || count["loss_cc_lr"] != 200 {
		t.Fatalf("raw rows per series %v", count)
	}
}

func TestNonFiniteLeftOutAndReported(t *testing.T) {
	dir := t.TempDir()
	res, err := Export(runs1(), Options{OutDir: dir, Only: []string{FigLoss}})
	if err != nil {
		t.Fatal(err)
	}
	want := "loss: baseline: loss: 3 non-finite values left out (steps 120 to 122)"
	if !slices.Contains(res.Warnings, want) {
		t.Fatalf("warnings %q, want %q", res.Warnings, want)
	}
	for _, name := range []string{"loss.csv", "loss.raw.csv"} {
		data, _ := os.ReadFile(filepath.Join(dir, name))
		_, rows := readCSV(t, data)
		for _, r := range rows {
			if r[1] == "loss" && (r[2] == "120" || r[2] == "121" || r[2] == "122") {
				t.Fatalf("%s has a row for a non-finite step: %v", name, r)
			}
		}
		if bytes.Contains(bytes.ToLower(data), []byte("nan")) || bytes.Contains(bytes.ToLower(data), []byte("inf")) {
			t.Fatalf("%s contains a non-finite value", name)
		}
	}

	// A series with no finite value at all skips its figure, saying why.
	evs := []engine.Event{
		{Kind: engine.KindPoint, Step: 1, Values: map[string]float64{engine.MLoss: math.NaN(), engine.MMargin: 0.3}},
		{Kind: engine.KindPoint, Step: 2, Values: map[string]float64{engine.MLoss: math.Inf(1), engine.MMargin: 0.3}},
	}
	res, err = Export([]Run{{Name: "x", Events: evs}}, Options{OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	want = "loss: no finite values: loss: x: loss: 2 non-finite values left out (steps 1 to 2)"
	if !slices.Contains(res.Skipped, want) {
		t.Fatalf("skipped %q, want %q", res.Skipped, want)
	}
}

func TestEmptySeriesMessages(t *testing.T) {
	dir := t.TempDir()
	// Points without margins, angles or consistency metrics, no evaluations.
	evs := []engine.Event{{Kind: engine.KindPoint, Step: 1, Values: map[string]float64{engine.MLoss: 2}},
		{Kind: engine.KindPoint, Step: 2, Values: map[string]float64{engine.MLoss: 1}}}
	res, err := Export([]Run{{Name: "x", Events: evs}}, Options{OutDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) != len(FigureNames())-1 {
		t.Fatalf("skipped %q", res.Skipped)
	}
	want := `margins: no data: no run has point metrics "margin", "margin_std"`
	if !slices.Contains(res.Skipped, want) {
		t.Fatalf("skipped %q, want %q", res.Skipped, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "margins.png")); !os.IsNotExist(err) {
		t.Fatal("a figure without data was written")
	}

	// Nothing to plot at all is an error naming what was looked for.
	_, err = Export([]Run{{Name: "x", Events: []engine.Event{{Kind: engine.KindStart}}}}, Options{OutDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), `loss (point metrics named "loss*")`) || !strings.Contains(err.Error(), `roc (eval curves "roc.<view>")`) {
		t.Fatalf("err = %v", err)
	}
	_, err = Export([]Run{{Name: "x", Events: evs}}, Options{OutDir: t.TempDir(), Only: []string{FigROC}})
	if err == nil || !strings.Contains(err.Error(), "looked for roc") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Export(nil, Options{}); err == nil {
		t.Fatal("no runs must be an error")
	}
}

func TestOptionsChecked(t *testing.T) {
	for _, o := range []Options{
		{Format: "jpg"}, {Smooth: 1}, {Smooth: -0.1}, {Smooth: math.NaN()},
		{Only: []string{"losses"}}, {XAxis: "time"}, {Width: 10}, {DPI: 5},
	} {
		if _, err := Export(runs1(), o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

func TestFormatsAndFiles(t *testing.T) {
	for _, format := range Formats() {
		dir := t.TempDir()
		res, err := Export(runs2(), Options{Format: format, OutDir: dir, Smooth: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Skipped) != 0 {
			t.Fatalf("%s: skipped %q", format, res.Skipped)
		}
		for _, name := range FigureNames() {
			data, err := os.ReadFile(filepath.Join(dir, name+"."+format))
			if err != nil {
				t.Fatal(err)
			}
			switch format {
			case "png":
				img, err := png.Decode(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				if w := img.Bounds().Dx(); w != 700 {
					t.Errorf("%s.png is %d px wide, want 3.5 in at 200 dpi", name, w)
				}
			case "svg":
				if !bytes.Contains(data, []byte("<svg")) || !bytes.Contains(data, []byte("<path")) {
					t.Errorf("%s.svg has no vector paths", name)
				}
				if bytes.Contains(data, []byte("<image")) {
					t.Errorf("%s.svg embeds a raster image", name)
				}
			case "pdf":
				if !bytes.HasPrefix(data, []byte("%PDF")) {
					t.Errorf("%s.pdf is not a PDF", name)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, name+".csv")); err != nil {
				t.Error(err)
			}
		}
		// Exactly the figures, their CSVs and the raw CSVs of time series;
		// no temporary files left behind.
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if len(names) != len(res.Written) || len(names) != 2*9+5 {
			t.Fatalf("%s: files %v, written %v", format, names, res.Written)
		}
	}
}

// TestPDFTextIsASCII: the PDF backend shows any non-ASCII byte as mojibake.
func TestPDFTextIsASCII(t *testing.T) {
	lk := newLook("pdf")
	if got := lk.txt("margin 0.4→0.3, θ LR ± 1 std"); got != "margin 0.4->0.3, theta LR +/- 1 std" {
		t.Fatalf("got %q", got)
	}
	if got := newLook("png").txt("0.4→0.3"); got != "0.4→0.3" {
		t.Fatalf("png text changed: %q", got)
	}
}

func TestOnlyAndOverwrite(t *testing.T) {
	dir := t.TempDir()
	for range 2 { // the second export replaces the first in place
		res, err := Export(runs1(), Options{OutDir: dir, Only: []string{FigROC, FigMargins}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Written) != 5 {
			t.Fatalf("written %v", res.Written)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 5 {
		t.Fatalf("%d files", len(entries))
	}
}

// TestResumeReplacesReplayedSteps reads a log where the run was killed at
// step 150 and resumed from a checkpoint at step 100: the second records of
// steps 101..150 win and a knob change logged before the crash is gone.
func TestResumeReplacesReplayedSteps(t *testing.T) {
	pt := func(s int, v float64) engine.Event {
		return engine.Event{Kind: engine.KindPoint, Step: int64(s), Phase: engine.PhaseTeacher, Values: map[string]float64{engine.MLoss: v}}
	}
	var evs []engine.Event
	evs = append(evs, engine.Event{Kind: engine.KindStart})
	for s := 1; s <= 150; s++ {
		evs = append(evs, pt(s, 1))
		if s == 120 {
			evs = append(evs, engine.Event{Kind: engine.KindHyper, Step: 120, Knob: "margin", Old: "0.4", New: "0.2"})
		}
		if s == 90 {
			evs = append(evs, engine.Event{Kind: engine.KindHyper, Step: 90, Knob: "lr", Old: "0.1", New: "0.05"})
		}
	}
	evs = append(evs, engine.Event{Kind: engine.KindStart, Step: 100, Phase: engine.PhaseTeacher},
		engine.Event{Kind: engine.KindPhase, Step: 100, Phase: engine.PhaseTeacher})
	// A resume may replay the knob history up to the checkpoint.
	evs = append(evs, engine.Event{Kind: engine.KindHyper, Step: 90, Knob: "lr", Old: "0.1", New: "0.05"})
	for s := 101; s <= 200; s++ {
		evs = append(evs, pt(s, 2))
	}
	rd := readRun("r", evs, false)
	if len(rd.points) != 200 {
		t.Fatalf("%d points, want 200", len(rd.points))
	}
	for i, p := range rd.points {
		if p.step != int64(i+1) {
			t.Fatalf("point %d has step %d", i, p.step)
		}
		if want := map[bool]float64{true: 1, false: 2}[p.step <= 100]; p.values[engine.MLoss] != want {
			t.Fatalf("step %d = %v, want %v", p.step, p.values[engine.MLoss], want)
		}
	}
	if len(rd.markers) != 1 || rd.markers[0].label != "lr 0.1→0.05" {
		t.Fatalf("markers %+v", rd.markers)
	}
	if rd.points[0].seg != rd.points[199].seg {
		t.Fatal("a resume in the same phase must not restart smoothing")
	}
}

// TestPhaseCountersRunOn reads a log whose steps and epochs restart with the
// student phase: the student is drawn after the teacher, not over it.
func TestPhaseCountersRunOn(t *testing.T) {
	var evs []engine.Event
	evs = append(evs, engine.Event{Kind: engine.KindStart}, engine.Event{Kind: engine.KindPhase, Phase: engine.PhaseTeacher})
	for s := 1; s <= 10; s++ {
		evs = append(evs, engine.Event{Kind: engine.KindPoint, Step: int64(s), Epoch: float64(s) / 5, Values: map[string]float64{engine.MLoss: 1}})
	}
	evs = append(evs, engine.Event{Kind: engine.KindPhase, Phase: engine.PhaseStudent, Step: 0})
	for s := 1; s <= 10; s++ {
		evs = append(evs, engine.Event{Kind: engine.KindPoint, Step: int64(s), Epoch: float64(s) / 5, Values: map[string]float64{engine.MLoss: 1}})
	}
	for _, epoch := range []bool{false, true} {
		rd := readRun("r", evs, epoch)
		if len(rd.points) != 20 {
			t.Fatalf("%d points", len(rd.points))
		}
		for i := 1; i < len(rd.points); i++ {
			if rd.points[i].x <= rd.points[i-1].x {
				t.Fatalf("epoch=%v: x goes back at %d: %v after %v", epoch, i, rd.points[i].x, rd.points[i-1].x)
			}
		}
		if len(rd.markers) != 2 || rd.markers[1].x < rd.points[9].x || rd.markers[1].x > rd.points[10].x {
			t.Fatalf("epoch=%v: student phase mark at %v", epoch, rd.markers[1].x)
		}
	}
}

func TestMarkersOnTimeSeries(t *testing.T) {
	opt, _ := Options{}.withDefaults()
	figs, _ := build(runs1(), opt)
	for _, f := range figs {
		var labels []string
		for _, ms := range f.markers {
			for _, m := range ms {
				labels = append(labels, m.label)
			}
		}
		if !f.timeSeries {
			if len(labels) > 0 {
				t.Errorf("%s: marks on a figure that is not over time", f.name)
			}
			continue
		}
		// The consistency figure only covers the student phase, so the
		// teacher-time scale change and the phase start are outside it.
		want := []string{"scale 32→48", "student", "margin 0.4→0.3", "lr 0.1→0.05"}
		if f.name == FigConsistency {
			want = []string{"margin 0.4→0.3", "lr 0.1→0.05"}
		}
		if !slices.Equal(labels, want) {
			t.Errorf("%s: marks %q, want %q", f.name, labels, want)
		}
		if !strings.Contains(string(f.csv(opt, false)), "# marker: run \"baseline\", knob change at step 300") {
			t.Errorf("%s: CSV header does not list the marks", f.name)
		}
	}
}

func TestLegendKeepsOffData(t *testing.T) {
	opt, _ := Options{}.withDefaults()
	figs, _ := build(runs2(), opt)
	for _, f := range figs {
		lk := newLook("png")
		p := newPlot(f, lk)
		l := f.legend(lk)
		da := p.DataCanvas(probeCanvas(opt))
		pl := placeLegend(f, p, da, l, lk, opt.Width)
		if pl.below > 0 {
			continue
		}
		_, labels := layoutMarks(f, p, da, lk)
		if covers(pl.box(da), f.samples(p, da), labels) {
			t.Errorf("%s: legend covers data", f.name)
		}
	}
}

// TestImports keeps plots on the light side of the dependency rules.
func TestImports(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skip("go list:", err)
	}
	for dep := range strings.FieldsSeq(string(out)) {
		for _, bad := range []string{"/tui", "/sessions", "gorgonia.org/", "charmbracelet"} {
			if strings.Contains(dep, bad) {
				t.Errorf("plots depends on %s", dep)
			}
		}
	}
}

func TestFigureNames(t *testing.T) {
	want := []string{"loss", "margins", "angles", "eval", "roc", "cmc", "resolution", "margin_hist", "consistency"}
	if !slices.Equal(FigureNames(), want) {
		t.Fatal(FigureNames())
	}
	for _, fs := range catalogue() {
		if fs.title == "" || fs.reads == "" || fs.build == nil {
			t.Errorf("%s: catalogue entry incomplete: %+v", fs.name, fs)
		}
	}
}

func TestEpochAxisFallsBackTogether(t *testing.T) {
	noEpochs := synthRun(synthOpts{seed: 2})
	for i := range noEpochs {
		noEpochs[i].Epoch = 0
	}
	runs := []Run{{Name: "a", Events: synthRun(synthOpts{})}, {Name: "a", Events: noEpochs}}
	opt, _ := Options{XAxis: "epoch", Only: []string{FigLoss}}.withDefaults()
	figs, res := build(runs, opt)
	if len(figs) != 1 || figs[0].xUnit != "step" {
		t.Fatalf("x unit %q", figs[0].xUnit)
	}
	if !slices.Contains(res.Warnings, `run "a (2)" carries no epochs; x axis is the step for every run`) {
		t.Fatalf("warnings %q", res.Warnings)
	}
	if figs[0].runs[1] != "a (2)" {
		t.Fatalf("duplicate run names not told apart: %q", figs[0].runs)
	}
	// With epochs everywhere the axis is the epoch, running 0..10.
	figs, _ = build(runs[:1], opt)
	if _, xmax, _, _ := figs[0].dataRange(); figs[0].xUnit != "epoch" || xmax != 10 {
		t.Fatalf("x unit %q, max %v", figs[0].xUnit, xmax)
	}
}

// Every series dimension value gets its own dash pattern: a ROC of seven
// views over two runs must not draw two views with the same (solid) line.
func TestDashesNeverRepeat(t *testing.T) {
	seen := map[string]int{}
	for i := range 12 {
		k := fmt.Sprint(dashes(i))
		if j, dup := seen[k]; dup {
			t.Fatalf("dash patterns %d and %d are both %s", j, i, k)
		}
		seen[k] = i
	}
}

// TestReadFollowsTimeline: the figures keep exactly the records
// engine.Timeline keeps, including a resume that was stopped before its
// first new step (the killed run's steps after the checkpoint are gone,
// though no new point replaced them) and an evaluation the crash lost.
func TestReadFollowsTimeline(t *testing.T) {
	pt := func(s int) engine.Event {
		return engine.Event{Kind: engine.KindPoint, Step: int64(s), Phase: engine.PhaseTeacher, Values: map[string]float64{engine.MLoss: float64(s)}}
	}
	ev := func(s int) engine.Event {
		return engine.Event{Kind: engine.KindEval, Step: int64(s), Values: map[string]float64{"hr.rank1": 0.5}}
	}
	var evs []engine.Event
	evs = append(evs, engine.Event{Kind: engine.KindStart})
	for s := 1; s <= 150; s++ {
		evs = append(evs, pt(s))
		if s%50 == 0 {
			evs = append(evs, ev(s))
		}
	}
	evs = append(evs, engine.Event{Kind: engine.KindStart, Step: 100, Phase: engine.PhaseTeacher},
		engine.Event{Kind: engine.KindDone, Step: 100})
	kept, _ := engine.Timeline(evs)
	var want, wantEvals []int64
	for _, e := range kept {
		switch e.Kind {
		case engine.KindPoint:
			want = append(want, e.Step)
		case engine.KindEval:
			wantEvals = append(wantEvals, e.Step)
		}
	}
	rd := readRun("r", evs, false)
	var got, gotEvals []int64
	for _, p := range rd.points {
		got = append(got, p.step)
	}
	for _, e := range rd.evals {
		gotEvals = append(gotEvals, e.step)
	}
	if !slices.Equal(got, want) || !slices.Equal(gotEvals, wantEvals) {
		t.Fatalf("read points %d..%d and evals %v; Timeline keeps points %d..%d and evals %v",
			got[0], got[len(got)-1], gotEvals, want[0], want[len(want)-1], wantEvals)
	}
}

// lastStepChange is runs1 with a margin change at the very last step.
func lastStepChange() []Run {
	evs := synthRun(synthOpts{})
	n := len(evs)
	h := engine.Event{Kind: engine.KindHyper, Step: 400, Knob: "margin", Old: "0.3", New: "0.5"}
	return []Run{{Name: "a", Events: append(evs[:n-1:n-1], h, evs[n-1])}}
}

// No change label sits on a curve: each finds a free place beside its line
// or goes to a band above the data (before, "margin 0.4→0.3, lr 0.1→0.05"
// ran down over the eval curves).
func TestMarkLabelsKeepOffData(t *testing.T) {
	for _, runs := range [][]Run{runs1(), runs2(), lastStepChange()} {
		opt, _ := Options{}.withDefaults()
		figs, _ := build(runs, opt)
		for _, f := range figs {
			if !f.timeSeries {
				continue
			}
			lk := newLook("png")
			p := newPlot(f, lk)
			reserveMarkBand(f, p, p.DataCanvas(probeCanvas(opt)), lk)
			da := p.DataCanvas(probeCanvas(opt))
			_, labels := layoutMarks(f, p, da, lk)
			pts := f.samples(p, da)
			for _, lb := range labels {
				if covers(lb.rect, pts, nil) {
					t.Errorf("%d run(s): %s: label %q covers a curve", len(runs), f.name, lb.texts)
				}
				if strings.Contains(strings.Join(lb.texts, ""), "…") && f.name != FigConsistency {
					t.Errorf("%d run(s): %s: label %q shortened", len(runs), f.name, lb.texts)
				}
			}
		}
	}
}

// A change at the last step is drawn inside the plot with its label on its
// right, not on the plot's edge with the label pushed over the data.
func TestChangeAtLastStepInside(t *testing.T) {
	opt, _ := Options{Only: []string{FigLoss}}.withDefaults()
	figs, _ := build(lastStepChange(), opt)
	lk := newLook("png")
	p := newPlot(figs[0], lk)
	da := p.DataCanvas(probeCanvas(opt))
	lines, labels := layoutMarks(figs[0], p, da, lk)
	last, lb := lines[len(lines)-1], labels[len(labels)-1]
	if last.x >= da.Max.X-lk.marking.FontExtents().Height || !lb.right {
		t.Fatalf("change at the last step at x %v of %v, label right of it: %v", last.x, da.Max.X, lb.right)
	}
}
