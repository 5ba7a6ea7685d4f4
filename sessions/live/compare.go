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
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ccface/ccface/datasets"
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

// CompareMethods reads a comma-separated list of methods (compare's
// --methods) into CompareSpec.Methods, in order; "teacher" is left out,
// since a comparison always has its teacher row.
func CompareMethods(s string) ([]string, error) {
	var out []string
	for _, m := range strings.Split(s, ",") {
		m = strings.TrimSpace(m)
		if m == "teacher" || m == "" {
			continue // the teacher row is always there
		}
		ok := false
		for _, known := range engine.Methods {
			ok = ok || known == m
		}
		if !ok {
			return nil, fmt.Errorf("unknown method %q: use %s", m, strings.Join(engine.Methods, ", "))
		}
		out = append(out, m)
	}
	return out, nil
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
		// A teacher session that distils an ONNX model hands its students
		// that model: its input size, embedding size and input convention.
		if tm := s.Manifest.Config.Model; tm.Teacher != "" && base.Model.Teacher == "" {
			m := &base.Model
			m.Teacher, m.TeacherSHA256, m.Channels, m.Mean, m.Std = tm.Teacher, tm.TeacherSHA256, tm.Channels, tm.Mean, tm.Std
			m.Embed, base.Data.HR = tm.Embed, s.Manifest.Config.Data.HR
		}
		// The seed also draws the data: the synthetic faces, and which
		// identities of a folder are held out. A teacher's classifier knows
		// its own seed's training identities, so its students must share
		// that seed (the students of other seeds would learn against rows
		// of other identities).
		ts := s.Manifest.Config.Seed
		if seedDrawsData(base) && (spec.Seeds > 1 || base.Seed != ts) {
			return fmt.Errorf("--teacher %s was trained with seed %d, and the seed draws this data's training identities: compare its students with --seeds 1 --set seed=%d, or let compare train one teacher per seed (--teacher FILE.onnx for an ONNX model)", spec.Teacher, ts, ts)
		}
	}
	results := map[string][]map[string]float64{}
	for i := 0; i < spec.Seeds; i++ {
		cfg := base.Clone()
		cfg.Seed = base.Seed + int64(i)
		teacherBlob, teacherEval := fixedTeacher, fixedEval
		if teacherBlob == nil {
			// Student knobs leave the teacher's key, so a comparison
			// that changes only them reuses its teachers.
			tcfg, err := engine.TeacherRun(cfg, engine.Default())
			if err != nil {
				return err
			}
			engine.ApplyMethod(&tcfg, "teacher")
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

// runKey names a compare run by everything that defines it apart from its
// seed and method name (both are in the session name): the knobs (those a
// method sets included) and its provenance (the teacher it starts from,
// the data, the training code). A rerun reuses exactly the runs it would
// repeat, and no others.
func runKey(cfg engine.Config, prov map[string]string) string {
	c := cfg.Clone()
	c.Method, c.Seed = "", 0
	b, _ := json.Marshal(struct {
		Config     engine.Config
		Provenance map[string]string
	}{c, prov})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:4])
}

type comparison struct {
	root  string
	w     io.Writer
	done  int
	total int
	ctx   context.Context
	data  string // fingerprint of the data sources, once computed
}

// provenance is what defines a run beyond its knobs: the teacher it starts
// from (a checkpoint's sha256, none for a teacher run), the data and the
// training code.
func (c *comparison) provenance(cfg engine.Config, teacherBlob []byte) (map[string]string, error) {
	if c.data == "" {
		fp, err := dataKey(cfg)
		if err != nil {
			return nil, err
		}
		c.data = fp
	}
	prov := map[string]string{provData: c.data, provCode: strconv.Itoa(train.Version)}
	if teacherBlob != nil {
		sum := sha256.Sum256(teacherBlob)
		prov[provTeacher] = hex.EncodeToString(sum[:8])
	}
	return prov, nil
}

// Provenance keys of a compare run.
const (
	provTeacher = "teacher"
	provData    = "data"
	provCode    = "train_version"
)

// dataKey identifies the training and evaluation sources of cfg without
// decoding an image.
func dataKey(cfg engine.Config) (string, error) {
	fp, err := sourceFingerprint(cfg.Data.Source)
	if err != nil || cfg.Data.EvalSource == "" {
		return fp, err
	}
	ev, err := sourceFingerprint(cfg.Data.EvalSource)
	return fp + "+" + ev, err
}

// sourceFingerprint identifies a data source cheaply: an image folder by
// its list of files and labels, a RecordIO by its index, other files and
// folders (.bin, pairs.txt, TinyFace) by their files' names, sizes and
// modification times. Synthetic faces are defined by the configuration,
// which is in the key already.
func sourceFingerprint(path string) (string, error) {
	format, err := datasets.DetectFormat(path)
	if err != nil {
		return "", err
	}
	switch format {
	case datasets.FormatSynth:
		return "synth", nil
	case datasets.FormatFolder:
		src, err := datasets.OpenFolderSource(path)
		if err != nil {
			return "", err
		}
		return src.Fingerprint(), nil
	case datasets.FormatRec:
		rec, err := datasets.OpenRecordIO(path)
		if err != nil {
			return "", err
		}
		defer rec.Close()
		return rec.Fingerprint(), nil
	}
	h := sha256.New()
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(path, p)
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", rel, info.Size(), info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("compare: fingerprint of %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)[:8]), nil
}

// run returns the final checkpoint and evaluation of the named run,
// training it unless a finished session of that name exists.
func (c *comparison) run(cfg engine.Config, label string, teacherBlob []byte) ([]byte, *engine.Event, error) {
	c.done++
	prov, err := c.provenance(cfg, teacherBlob)
	if err != nil {
		return nil, nil, err
	}
	name := fmt.Sprintf("compare-%s-seed%d-%s", runKey(cfg, prov), cfg.Seed, label)
	list, _, err := sessions.List(c.root)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	var other *sessions.Session // the newest finished run of this seed and label made otherwise
	for _, s := range list {
		if s.State != sessions.StateFinished || !isCompareRun(s.Name, cfg.Seed, label) {
			continue
		}
		sess, err := sessions.Open(c.root, s.ID)
		if err != nil {
			return nil, nil, err
		}
		if s.Name != name {
			if other == nil || sess.Manifest.Created.After(other.Manifest.Created) {
				other = sess
			}
			continue
		}
		blob, ev, err := finalOf(sess, modelOf(label))
		if err == nil {
			fmt.Fprintf(c.w, "[%d/%d] %s: reusing finished session %s (same knobs, teacher, data and training code)\n", c.done, c.total, name, s.ID)
			return blob, ev, nil
		}
	}
	if other != nil {
		fmt.Fprintf(c.w, "[%d/%d] %s: not reusing %s: %s\n", c.done, c.total, name, other.Manifest.ID, whyDifferent(other.Manifest, cfg, prov))
	}
	if c.ctx.Err() != nil { // asked to stop between runs: start no new one
		return nil, nil, errors.New("interrupted: rerun the same command to continue; finished runs are reused")
	}
	fmt.Fprintf(c.w, "[%d/%d] %s: training\n", c.done, c.total, name)
	r, err := Open(Spec{Root: c.root, Config: cfg, Name: name, Teacher: teacherBlob, Provenance: prov})
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

// isCompareRun says whether a session name is that of a compare run of
// this seed and label (any key).
func isCompareRun(name string, seed int64, label string) bool {
	key, ok := strings.CutPrefix(name, "compare-")
	if !ok {
		return false
	}
	key, ok = strings.CutSuffix(key, fmt.Sprintf("-seed%d-%s", seed, label))
	return ok && len(key) == 8
}

// whyDifferent says what makes a recorded compare run another run than
// the one of cfg and prov.
func whyDifferent(m sessions.Manifest, cfg engine.Config, prov map[string]string) string {
	if m.Provenance == nil {
		return "it was made before compare recorded its teacher, data and training code"
	}
	var why []string
	if m.Provenance[provTeacher] != prov[provTeacher] {
		why = append(why, fmt.Sprintf("another teacher (checkpoint %s, now %s)", orNone(m.Provenance[provTeacher]), orNone(prov[provTeacher])))
	}
	if m.Provenance[provData] != prov[provData] {
		why = append(why, "other data (fingerprint "+orNone(m.Provenance[provData])+", now "+prov[provData]+")")
	}
	if m.Provenance[provCode] != prov[provCode] {
		why = append(why, "older training code (version "+orNone(m.Provenance[provCode])+", now "+prov[provCode]+")")
	}
	was, now := engine.Values(&m.Config), engine.Values(&cfg)
	for _, k := range engine.Knobs {
		if !k.Same(was[k.Name], now[k.Name]) {
			why = append(why, fmt.Sprintf("%s %s, now %s", k.Name, was[k.Name], now[k.Name]))
		}
	}
	if len(why) == 0 {
		return "it differs in a setting that is not a knob"
	}
	return strings.Join(why, "; ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// seedDrawsData reports whether a configuration's seed decides its data:
// synthetic faces, or a folder or .rec split into training and evaluation
// identities by the seed (not with a separate data.eval set).
func seedDrawsData(cfg engine.Config) bool {
	return cfg.Data.Source == "" || cfg.Data.Source == "synth" || cfg.Data.EvalSource == ""
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
	spread := "percentages, mean ± std over seeds"
	if seeds == 1 {
		spread = "percentages of one seed (no spread measured)"
	}
	fmt.Fprintf(&md, "Data %s, preset model %dx%d/%d, %d seed(s); %s. "+
		"ver: 10-fold verification accuracy; r1/r5/r20: rank-k identification (HR gallery, probes at that size); mAP.\n\n",
		cfg.Data.Source, cfg.Model.Width, cfg.Model.Depth, cfg.Model.Embed, seeds, spread)
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
			if cell.N == 1 { // one value has no spread to show
				fmt.Fprintf(&md, " %.1f |", cell.Mean)
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
