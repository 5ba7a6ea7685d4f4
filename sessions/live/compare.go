package live

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/engine/train"
	"github.com/ccface/ccface/sessions"
)

// CompareSpec is a comparison: one teacher per seed (or one given), one
// student per method and seed, all from one base configuration.
type CompareSpec struct {
	Root    string        // the sessions directory
	Base    engine.Config // seed i runs with Base.Seed+i
	Methods []string      // the student rows; the teacher row is always there
	Seeds   int
	Sets    []string  // knob assignments that win over each method's defaults
	Teacher string    // a session whose teacher every seed uses instead of training one per seed
	Out     string    // directory for compare.md, compare.csv and compare.json
	Log     io.Writer // progress lines and the table
}

// Compare trains (or reuses) every run of spec and tabulates their
// evaluations. Runs are sessions with names derived from the
// configuration, so a rerun reuses every run that finished. Cancelling ctx
// stops the current run at its next step boundary.
func Compare(ctx context.Context, spec CompareSpec) error {
	c := &comparison{root: spec.Root, w: spec.Log, total: spec.Seeds * (len(spec.Methods) + 1), ctx: ctx}
	base := spec.Base.Clone()
	// An ONNX teacher's hash enters every run's key: another file under the
	// same name is another comparison.
	if err := train.ResolveTeacher(&base); err != nil {
		return err
	}
	var fixedTeacher []byte
	var fixedEval *engine.Event
	if spec.Teacher != "" {
		s, err := sessions.Open(spec.Root, spec.Teacher)
		if err != nil {
			return err
		}
		if fixedTeacher, fixedEval, err = finalOf(s, engine.PhaseTeacher); err != nil {
			return err
		}
	}
	results := map[string][]map[string]float64{}
	for i := 0; i < spec.Seeds; i++ {
		cfg := base.Clone()
		cfg.Seed = base.Seed + int64(i)
		teacherBlob, teacherEval := fixedTeacher, fixedEval
		if teacherBlob == nil {
			tcfg := cfg.Clone()
			engine.ApplyMethod(&tcfg, "teacher")
			var err error
			if teacherBlob, teacherEval, err = c.run(tcfg, "teacher", nil); err != nil {
				return err
			}
		} else {
			c.done++
		}
		results["teacher"] = append(results["teacher"], teacherEval.Values)
		for _, m := range spec.Methods {
			mcfg := cfg.Clone()
			engine.ApplyMethod(&mcfg, m)
			if err := engine.ApplySet(&mcfg, spec.Sets); err != nil { // explicit --set wins over the method's defaults
				return err
			}
			mcfg.Method = m
			_, ev, err := c.run(mcfg, m, teacherBlob)
			if err != nil {
				return err
			}
			results[m] = append(results[m], ev.Values)
		}
	}
	rows := append([]string{"teacher"}, spec.Methods...)
	return writeComparison(spec.Out, rows, results, base, spec.Seeds, spec.Log)
}

// configKey names a run's configuration apart from its seed and method
// name (both are in the session name), so a rerun finds exactly the runs it
// would repeat; the knobs a method sets (policy, acr) stay in the key.
func configKey(cfg engine.Config) string {
	c := cfg.Clone()
	c.Method, c.Seed = "", 0
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:4])
}

type comparison struct {
	root  string
	w     io.Writer
	done  int
	total int
	ctx   context.Context
}

// run returns the final checkpoint and evaluation of the named run,
// training it unless a finished session of that name exists.
func (c *comparison) run(cfg engine.Config, label string, teacherBlob []byte) ([]byte, *engine.Event, error) {
	c.done++
	name := fmt.Sprintf("compare-%s-seed%d-%s", configKey(cfg), cfg.Seed, label)
	list, _, err := sessions.List(c.root)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	for _, s := range list {
		if s.Name == name && s.State == "finished" {
			sess, err := sessions.Open(c.root, s.ID)
			if err != nil {
				return nil, nil, err
			}
			blob, ev, err := finalOf(sess, modelOf(label))
			if err == nil {
				fmt.Fprintf(c.w, "[%d/%d] %s: reusing finished session %s\n", c.done, c.total, name, s.ID)
				return blob, ev, nil
			}
		}
	}
	fmt.Fprintf(c.w, "[%d/%d] %s: training\n", c.done, c.total, name)
	r, err := Open(Spec{Root: c.root, Config: cfg, Name: name, Teacher: teacherBlob})
	if err != nil {
		return nil, nil, err
	}
	var last *engine.Event
	var interrupted error
	tick := time.Now()
	failed := r.Watch(func(ev engine.Event) {
		switch ev.Kind {
		case engine.KindEval:
			last = &ev
		case engine.KindPoint:
			if time.Since(tick) > 15*time.Second {
				tick = time.Now()
				fmt.Fprintf(c.w, "    %s step %d  loss %.3f  %.0f img/s\n", ev.Phase, ev.Step, ev.Values[engine.MLoss], ev.Values[engine.MImgPerSec])
			}
		}
		if interrupted == nil && c.ctx.Err() != nil {
			r.Stop("compare interrupted")
			interrupted = errors.New("interrupted: rerun the same command to continue; finished runs are reused")
		}
	})
	if interrupted != nil {
		failed = interrupted
	}
	if err := r.Finish(); err != nil && failed == nil {
		failed = err
	}
	if failed != nil {
		return nil, nil, fmt.Errorf("%s (session %s): %w", name, r.Session().Dir, failed)
	}
	blob, ev, err := finalOf(r.Session(), modelOf(label))
	if err != nil {
		return nil, nil, err
	}
	if last != nil {
		ev = last
	}
	return blob, ev, nil
}

// modelOf is the model a comparison row reports: the teacher row its
// teacher, every method row its student.
func modelOf(label string) string {
	if label == "teacher" {
		return engine.PhaseTeacher
	}
	return engine.PhaseStudent
}

// finalOf returns a finished session's latest checkpoint and the last
// evaluation of its model ("teacher" or "student"): a finished student run
// also holds its teacher's, and a teacher row must not show the student's.
func finalOf(s *sessions.Session, model string) ([]byte, *engine.Event, error) {
	_, blob, _, err := s.LatestGoodCheckpoint(-1)
	if err != nil {
		return nil, nil, err
	}
	events, _, err := sessions.ReadEvents(s.Dir)
	if err != nil {
		return nil, nil, err
	}
	for i := len(events) - 1; i >= 0; i-- {
		if name, _, _ := strings.Cut(events[i].Message, " "); events[i].Kind == engine.KindEval && name == model {
			return blob, &events[i], nil
		}
	}
	return nil, nil, fmt.Errorf("%s: no evaluation of its %s recorded", s.Dir, model)
}

// comparisonColumns lists the metrics tabulated, in order.
func comparisonColumns(lrSizes []int) []string {
	cols := []string{engine.EvalKey("hr", engine.EVerifAcc), engine.EvalKey("hr", engine.ERank1)}
	sizes := append([]int(nil), lrSizes...)
	sort.Sort(sort.Reverse(sort.IntSlice(sizes)))
	for _, s := range sizes {
		lr, hrlr := engine.LRView(s), engine.HRLRView(s)
		cols = append(cols,
			engine.EvalKey(lr, engine.EVerifAcc), engine.EvalKey(hrlr, engine.EVerifAcc),
			engine.EvalKey(lr, engine.ERank1), engine.EvalKey(lr, engine.ERank5),
			engine.EvalKey(lr, engine.ERank20), engine.EvalKey(lr, engine.EMAP))
	}
	return cols
}

func meanStd(xs []float64) (float64, float64) {
	var s, ss float64
	for _, x := range xs {
		s += x
	}
	m := s / float64(len(xs))
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	return m, math.Sqrt(ss / float64(len(xs)))
}

type comparisonCell struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	N    int     `json:"n"`
}

// writeComparison writes the table as markdown, CSV and JSON and prints
// the markdown.
func writeComparison(dir string, rows []string, results map[string][]map[string]float64, cfg engine.Config, seeds int, w io.Writer) error {
	cols := comparisonColumns(cfg.Eval.LRSizes)
	cells := map[string]map[string]comparisonCell{}
	for _, r := range rows {
		cells[r] = map[string]comparisonCell{}
		for _, c := range cols {
			var xs []float64
			for _, v := range results[r] {
				if x, ok := v[c]; ok {
					xs = append(xs, 100*x)
				}
			}
			cell := comparisonCell{N: len(xs)} // N = 0: not measured (JSON has no NaN)
			if len(xs) > 0 {
				cell.Mean, cell.Std = meanStd(xs)
			}
			cells[r][c] = cell
		}
	}
	var md strings.Builder
	fmt.Fprintf(&md, "Data %s, preset model %dx%d/%d, %d seed(s); percentages, mean ± std over seeds. "+
		"ver: 10-fold verification accuracy; r1/r5/r20: rank-k identification (HR gallery, probes at that size); mAP.\n\n",
		cfg.Data.Source, cfg.Model.Width, cfg.Model.Depth, cfg.Model.Embed, seeds)
	md.WriteString("| method |")
	for _, c := range cols {
		md.WriteString(" " + c + " |")
	}
	md.WriteString("\n|---|")
	for range cols {
		md.WriteString("---|")
	}
	md.WriteString("\n")
	for _, r := range rows {
		fmt.Fprintf(&md, "| %s |", r)
		for _, c := range cols {
			cell := cells[r][c]
			if cell.N == 0 {
				md.WriteString(" - |")
				continue
			}
			fmt.Fprintf(&md, " %.1f ± %.1f |", cell.Mean, cell.Std)
		}
		md.WriteString("\n")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("compare: %s: %w", dir, err)
	}
	if err := sessions.WriteFileAtomic(filepath.Join(dir, "compare.md"), []byte(md.String()), 0o644); err != nil {
		return err
	}
	var csvBuf strings.Builder
	cw := csv.NewWriter(&csvBuf)
	_ = cw.Write([]string{"method", "metric", "mean_pct", "std_pct", "seeds"})
	for _, r := range rows {
		for _, c := range cols {
			cell := cells[r][c]
			_ = cw.Write([]string{r, c, fmt.Sprintf("%.4f", cell.Mean), fmt.Sprintf("%.4f", cell.Std), fmt.Sprint(cell.N)})
		}
	}
	cw.Flush()
	if err := sessions.WriteFileAtomic(filepath.Join(dir, "compare.csv"), []byte(csvBuf.String()), 0o644); err != nil {
		return err
	}
	js, err := json.MarshalIndent(map[string]any{"data": cfg.Data.Source, "seeds": seeds, "config": cfg, "results": cells, "per_seed": results}, "", "  ")
	if err != nil {
		return err
	}
	if err := sessions.WriteFileAtomic(filepath.Join(dir, "compare.json"), js, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s\nwrote compare.md, compare.csv and compare.json to %s\n", md.String(), dir)
	return nil
}
