package live

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/sessions"
	"github.com/ccface/ccface/sweep"
)

// SweepCompareSpec tabulates a planned sweep's trials as compare does.
type SweepCompareSpec struct {
	Dir string // the sweep folder
	Out string // directory for compare.md, compare.csv and compare.json; "" for Dir/compare
	// Baseline is the method the paired differences are taken against when
	// the sweep varies the method; "" is proxyless when the sweep has it,
	// else the first method planned.
	Baseline string
	Log      io.Writer // the table and where it was written
}

// sweepRow is one row of a sweep's table: the trials that share every
// varying knob but the seed.
type sweepRow struct {
	settings []sweep.Setting // the varying knobs but the seed, in plan order
	trials   []int           // planned trials, by index
	seeds    []int64         // of the finished trials, in plan order
	values   []map[string]float64
}

func (r *sweepRow) label() string {
	if len(r.settings) == 0 {
		return "all"
	}
	parts := make([]string, len(r.settings))
	for i, s := range r.settings {
		parts[i] = s.String()
	}
	return strings.Join(parts, " ")
}

func (r *sweepRow) value(knob string) string {
	for _, s := range r.settings {
		if s.Knob == knob {
			return s.Value
		}
	}
	return "-"
}

// unfinishedTrial is a trial left out of the table, and why.
type unfinishedTrial struct {
	Index int    `json:"index"`
	ID    string `json:"id"`
	Name  string `json:"name"`
	State string `json:"state"`
	Step  int64  `json:"step"`
	Total int64  `json:"total,omitempty"`
	Why   string `json:"why,omitempty"`
}

// CompareSweep reads the final evaluation of every finished trial of a
// sweep (its student's, or its teacher's when the method is teacher) and
// writes compare's tables: one row per setting of the varying knobs other
// than the seed, mean ± std over the seeds that finished, and, when the
// sweep varies the method, each row's per-seed (paired) difference in LR
// rank-1 at the smallest size to the baseline method's row of the same
// other knobs. Trials that have not finished are named below the table.
// It reads session folders without locking them, so it works while the
// sweep runs.
func CompareSweep(spec SweepCompareSpec) error {
	sw, err := sweep.Load(spec.Dir)
	if err != nil {
		return err
	}
	if spec.Out == "" {
		spec.Out = filepath.Join(sw.Dir, "compare")
	}
	status, warnings, err := sw.Status(nil)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintf(spec.Log, "warning: %s\n", w)
	}
	var knobs []string // varying knobs but the seed, in plan order
	for _, t := range sw.Trials {
		for _, s := range t.Settings {
			if s.Knob != "seed" && !slices.Contains(knobs, s.Knob) {
				knobs = append(knobs, s.Knob)
			}
		}
	}
	var rows []*sweepRow
	byLabel := map[string]*sweepRow{}
	var unfinished []unfinishedTrial
	var lrSizes []int
	var base engine.Config
	for i, t := range sw.Trials {
		cfg, err := sw.Config(t)
		if err != nil {
			return err
		}
		if i == 0 {
			base = cfg
		}
		for _, px := range cfg.Eval.LRSizes {
			if !slices.Contains(lrSizes, px) {
				lrSizes = append(lrSizes, px)
			}
		}
		r := &sweepRow{settings: slices.DeleteFunc(slices.Clone(t.Settings), func(s sweep.Setting) bool { return s.Knob == "seed" })}
		if have, ok := byLabel[r.label()]; ok {
			r = have
		} else {
			byLabel[r.label()] = r
			rows = append(rows, r)
		}
		r.trials = append(r.trials, t.Index)
		st := status[i]
		left := unfinishedTrial{Index: t.Index, ID: t.ID(), Name: t.Name(), State: st.State, Step: st.Step, Total: st.Total}
		if st.State != sweep.StateFinished {
			unfinished = append(unfinished, left)
			continue
		}
		model := engine.PhaseStudent
		if cfg.Method == "teacher" {
			model = engine.PhaseTeacher
		}
		events, _, err := sessions.ReadEvents(filepath.Join(sw.TrialsRoot(), t.ID()))
		if err != nil {
			return fmt.Errorf("trial %d: %w", t.Index, err)
		}
		ev := lastEvalOf(events, model)
		if ev == nil {
			left.Why = "no evaluation of its " + model + " recorded"
			unfinished = append(unfinished, left)
			continue
		}
		r.seeds = append(r.seeds, cfg.Seed)
		r.values = append(r.values, ev.Values)
	}
	finished := len(sw.Trials) - len(unfinished)
	if finished == 0 {
		return fmt.Errorf("no trial of the sweep in %s has finished yet: see `ccface sweep status %s`", sw.Dir, sw.Dir)
	}
	slices.Sort(lrSizes)
	cols := comparisonColumns(lrSizes)
	t := sweepTable{spec: spec, sw: sw, knobs: knobs, rows: rows, cols: cols, unfinished: unfinished, finished: finished, base: base}
	if slices.Contains(knobs, "method") && len(lrSizes) > 0 {
		t.objective = engine.EvalKey(engine.LRView(lrSizes[0]), engine.ERank1)
		if t.baseline, err = baselineOf(rows, spec.Baseline); err != nil {
			return err
		}
	}
	return t.write()
}

// lastEvalOf is the last evaluation of model ("teacher" or "student"): a
// student's log also holds its teacher's, which its row must not show.
func lastEvalOf(events []engine.Event, model string) *engine.Event {
	for i := len(events) - 1; i >= 0; i-- {
		if name, _, _ := strings.Cut(events[i].Message, " "); events[i].Kind == engine.KindEval && name == model {
			return &events[i]
		}
	}
	return nil
}

// baselineOf checks or picks the baseline method of the paired differences.
func baselineOf(rows []*sweepRow, want string) (string, error) {
	var methods []string
	for _, r := range rows {
		if m := r.value("method"); !slices.Contains(methods, m) {
			methods = append(methods, m)
		}
	}
	switch {
	case want != "" && !slices.Contains(methods, want):
		return "", fmt.Errorf("--baseline %s: the sweep's methods are %s", want, strings.Join(methods, ", "))
	case want != "":
		return want, nil
	case slices.Contains(methods, "proxyless"):
		return "proxyless", nil
	}
	return methods[0], nil
}

type sweepTable struct {
	spec       SweepCompareSpec
	sw         *sweep.Sweep
	knobs      []string
	rows       []*sweepRow
	cols       []string
	unfinished []unfinishedTrial
	finished   int
	base       engine.Config // the first trial's: data and model for the caption
	objective  string        // metric of the paired differences; "" without a method axis
	baseline   string
}

// cells are a row's mean ± std (in percent) over its finished seeds.
func (t *sweepTable) cells(r *sweepRow) map[string]comparisonCell {
	out := map[string]comparisonCell{}
	for _, c := range t.cols {
		var xs []float64
		for _, v := range r.values {
			if x, ok := v[c]; ok {
				xs = append(xs, 100*x)
			}
		}
		cell := comparisonCell{N: len(xs)}
		if len(xs) > 0 {
			cell.Mean, cell.Std = meanStd(xs)
		}
		out[c] = cell
	}
	return out
}

// paired is a row's per-seed difference in the objective to the baseline
// row of the same other knobs, over the seeds both finished; ok is false
// for the baseline rows themselves, or without a method axis.
func (t *sweepTable) paired(r *sweepRow) (cell comparisonCell, ok bool) {
	if t.objective == "" || r.value("method") == t.baseline {
		return comparisonCell{}, false
	}
	var ref *sweepRow
	for _, o := range t.rows {
		if o.value("method") != t.baseline {
			continue
		}
		same := true
		for _, k := range t.knobs {
			same = same && (k == "method" || o.value(k) == r.value(k))
		}
		if same {
			ref = o
		}
	}
	if ref == nil {
		return comparisonCell{}, true
	}
	var diffs []float64
	for i, seed := range r.seeds {
		j := slices.Index(ref.seeds, seed)
		a, okA := r.values[i][t.objective]
		if j < 0 || !okA {
			continue
		}
		if b, okB := ref.values[j][t.objective]; okB {
			diffs = append(diffs, 100*(a-b))
		}
	}
	cell.N = len(diffs)
	if len(diffs) > 0 {
		cell.Mean, cell.Std = meanStd(diffs)
	}
	return cell, true
}

func (t *sweepTable) pairedTitle() string {
	return fmt.Sprintf("%s vs %s (paired)", t.objective, t.baseline)
}

func fmtCell(c comparisonCell, signed bool) string {
	f := "%.1f"
	if signed {
		f = "%+.1f"
	}
	switch c.N {
	case 0:
		return "-"
	case 1: // one value has no spread to show
		return fmt.Sprintf(f, c.Mean)
	}
	return fmt.Sprintf(f+" ± %.1f", c.Mean, c.Std)
}

// keyColumns are the table's leading columns: one per varying knob, or a
// single "trials" column when only the seed varies.
func (t *sweepTable) keyColumns() []string {
	if len(t.knobs) == 0 {
		return []string{"trials"}
	}
	return t.knobs
}

func (t *sweepTable) keyCells(r *sweepRow) []string {
	if len(t.knobs) == 0 {
		return []string{r.label()}
	}
	out := make([]string, len(t.knobs))
	for i, k := range t.knobs {
		out[i] = r.value(k)
	}
	return out
}

func (t *sweepTable) markdown() string {
	sw := t.sw
	var md strings.Builder
	fmt.Fprintf(&md, "Sweep %s (%s): %d of %d trials finished. Data %s, preset %s, model %dx%d/%d; "+
		"percentages, mean ± std over the seeds that finished (n: finished of planned). "+
		"ver: 10-fold verification accuracy; r1/r5/r20: rank-k identification (HR gallery, probes at that size); mAP.",
		sw.Name, sw.Dir, t.finished, len(sw.Trials), t.base.Data.Source, sw.Preset, t.base.Model.Width, t.base.Model.Depth, t.base.Model.Embed)
	if t.objective != "" {
		fmt.Fprintf(&md, " The last column is the per-seed (paired) difference in %s to %s with the same other knobs.", t.objective, t.baseline)
	}
	md.WriteString("\n\n|")
	head := append(append(t.keyColumns(), "n"), t.cols...)
	if t.objective != "" {
		head = append(head, t.pairedTitle())
	}
	for _, h := range head {
		md.WriteString(" " + h + " |")
	}
	md.WriteString("\n|")
	for range head {
		md.WriteString("---|")
	}
	md.WriteString("\n")
	for _, r := range t.rows {
		cells := t.cells(r)
		md.WriteString("|")
		for _, k := range t.keyCells(r) {
			md.WriteString(" " + k + " |")
		}
		fmt.Fprintf(&md, " %d/%d |", len(r.values), len(r.trials))
		for _, c := range t.cols {
			md.WriteString(" " + fmtCell(cells[c], false) + " |")
		}
		if t.objective != "" {
			p, ok := t.paired(r)
			if !ok {
				md.WriteString(" - |")
			} else {
				md.WriteString(" " + fmtCell(p, true) + " |")
			}
		}
		md.WriteString("\n")
	}
	if len(t.unfinished) > 0 {
		fmt.Fprintf(&md, "\nNot in the table (%d unfinished):\n\n", len(t.unfinished))
		for _, u := range t.unfinished {
			why := u.State
			if u.Why != "" {
				why += ", " + u.Why
			}
			switch {
			case u.Total > 0:
				why += fmt.Sprintf(", step %d/%d", u.Step, u.Total)
			case u.Step > 0:
				why += fmt.Sprintf(", step %d", u.Step)
			}
			fmt.Fprintf(&md, "- trial %d (%s, %s): %s\n", u.Index, u.ID, u.Name, why)
		}
	}
	return md.String()
}

func (t *sweepTable) csv() string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write(append(t.keyColumns(), "metric", "mean_pct", "std_pct", "seeds"))
	for _, r := range t.rows {
		cells := t.cells(r)
		for _, c := range t.cols {
			_ = w.Write(append(t.keyCells(r), c, fmt.Sprintf("%.4f", cells[c].Mean), fmt.Sprintf("%.4f", cells[c].Std), fmt.Sprint(cells[c].N)))
		}
		if p, ok := t.paired(r); ok {
			_ = w.Write(append(t.keyCells(r), t.pairedTitle(), fmt.Sprintf("%.4f", p.Mean), fmt.Sprintf("%.4f", p.Std), fmt.Sprint(p.N)))
		}
	}
	w.Flush()
	return b.String()
}

func (t *sweepTable) json() ([]byte, error) {
	type perSeed struct {
		Seed   int64              `json:"seed"`
		Values map[string]float64 `json:"values"`
	}
	type row struct {
		Settings map[string]string         `json:"settings"`
		Trials   []int                     `json:"trials"`
		Results  map[string]comparisonCell `json:"results"`
		Paired   *comparisonCell           `json:"paired,omitempty"`
		PerSeed  []perSeed                 `json:"per_seed"`
	}
	var rows []row
	for _, r := range t.rows {
		x := row{Settings: map[string]string{}, Trials: r.trials, Results: t.cells(r), PerSeed: []perSeed{}}
		for _, s := range r.settings {
			x.Settings[s.Knob] = s.Value
		}
		for i, seed := range r.seeds {
			x.PerSeed = append(x.PerSeed, perSeed{seed, r.values[i]})
		}
		if p, ok := t.paired(r); ok {
			x.Paired = &p
		}
		rows = append(rows, x)
	}
	sw := t.sw
	unfinished := t.unfinished
	if unfinished == nil {
		unfinished = []unfinishedTrial{} // [] rather than null: readers iterate it
	}
	out := map[string]any{"sweep": sw.Name, "dir": sw.Dir, "trials": len(sw.Trials), "finished": t.finished,
		"knobs": t.knobs, "columns": t.cols, "rows": rows, "unfinished": unfinished}
	if t.objective != "" {
		out["paired"] = map[string]string{"metric": t.objective, "baseline": t.baseline}
	}
	return json.MarshalIndent(out, "", "  ")
}

// write saves the three tables and prints the markdown.
func (t *sweepTable) write() error {
	dir := t.spec.Out
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("compare: %s: %w", dir, err)
	}
	md := t.markdown()
	js, err := t.json()
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{"compare.md", []byte(md)}, {"compare.csv", []byte(t.csv())}, {"compare.json", js}} {
		if err := sessions.WriteFileAtomic(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(t.spec.Log, "\n%s\nwrote compare.md, compare.csv and compare.json to %s\n", md, dir)
	return nil
}
