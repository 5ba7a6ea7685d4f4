package live

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ccface/ccface/datasets"
	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/engine/onnx"
	"github.com/ccface/ccface/engine/train"
)

// EvalSpec is what an evaluation runs on: an image folder, a RecordIO
// file, a verification .bin, a pairs.txt or a TinyFace layout, each under
// its own protocol.
type EvalSpec struct {
	Data   string    // the evaluation set
	Images string    // the image folder a pairs.txt names images in (default: next to it)
	Sets   []string  // data and eval knobs for this evaluation (data.grey, eval.lr_sizes, ...)
	Out    io.Writer // the tables
	Warn   io.Writer // what was skipped, few pairs, training data evaluated
}

// EvalSession evaluates the models of session id under root, from its
// newest good checkpoint at or before step at (Latest: the newest): model
// is teacher, student or both (the teacher alone when the checkpoint has
// no student yet).
func EvalSession(root, id string, at int64, model string, spec EvalSpec) error {
	which := []string{model}
	if model == "both" {
		which = []string{engine.PhaseTeacher, engine.PhaseStudent}
	}
	sess, got, blob, err := sessionCheckpoint(root, id, at, spec.Warn)
	if err != nil {
		return err
	}
	var evals []engine.Event
	var cfg engine.Config
	var models []train.Embedder
	for _, w := range which {
		emb, name, c, err := train.CheckpointEmbedder(blob, w)
		if err != nil {
			if model == "both" && w == engine.PhaseStudent {
				continue // a teacher-only checkpoint: the teacher alone
			}
			return fmt.Errorf("%s: %w", sess.Dir, err)
		}
		cfg = c
		models = append(models, emb)
		evals = append(evals, engine.Event{Kind: engine.KindEval, Message: name})
	}
	if cfg, err = applySets(cfg, spec.Sets); err != nil {
		return err
	}
	if sameData(cfg.Data.Source, spec.Data) {
		fmt.Fprintf(spec.Warn, "warning: %s is the data this session trained on: its scores include identities the model learnt; evaluate on a disjoint set\n", spec.Data)
	}
	set, proto, err := loadEval(cfg, spec.Data, spec.Images, spec.Warn)
	if err != nil {
		return err
	}
	for i, emb := range models {
		if evals[i].Values, _, err = train.Evaluate(emb, cfg, set, proto); err != nil {
			return err
		}
	}
	fmt.Fprintf(spec.Out, "session %s, checkpoint of step %d, on %s (%d images):\n", sess.Manifest.ID, got, spec.Data, len(set.Pixels))
	printEvals(spec.Out, evals)
	return nil
}

// EvalONNX evaluates an imported recogniser as the file computes it, under
// the same protocol and LR sizes as a session's model.
func EvalONNX(path string, spec EvalSpec) error {
	m, err := onnx.Load(path)
	if err != nil {
		return err
	}
	emb, err := train.ONNXEmbedder(m)
	if err != nil {
		return err
	}
	cfg := engine.Default()
	cfg.Data.HR = emb.Side()
	if cfg, err = applySets(cfg, spec.Sets); err != nil {
		return err
	}
	set, proto, err := loadEval(cfg, spec.Data, spec.Images, spec.Warn)
	if err != nil {
		return err
	}
	values, _, err := train.Evaluate(emb, cfg, set, proto)
	if err != nil {
		return err
	}
	fmt.Fprintf(spec.Out, "%s (%d px, %s) on %s (%d images):\n", path, cfg.Data.HR, m.Pre, spec.Data, len(set.Pixels))
	printEvals(spec.Out, []engine.Event{{Kind: engine.KindEval, Values: values, Message: filepath.Base(path)}})
	return nil
}

// applySets applies --set knobs to an evaluation's configuration.
func applySets(cfg engine.Config, sets []string) (engine.Config, error) {
	err := engine.ApplySet(&cfg, sets)
	return cfg, err
}

// loadEval loads the evaluation set at the configuration's size and
// preprocessing, and says what was skipped and when pairs are few.
func loadEval(cfg engine.Config, data, images string, stderr io.Writer) (*datasets.Set, train.Protocol, error) {
	prep, err := train.PrepOf(cfg)
	if err != nil {
		return nil, train.Protocol{}, err
	}
	set, proto, skipped, err := train.LoadEvalSet(data, images, cfg.Data.HR, prep)
	if err != nil {
		return nil, train.Protocol{}, err
	}
	if len(skipped) > 0 {
		fmt.Fprintf(stderr, "warning: %d entries skipped, e.g. %s\n", len(skipped), skipped[0])
	}
	if note := train.PairsNote(cfg, set, proto); note != "" {
		fmt.Fprintf(stderr, "warning: %s\n", note)
	}
	return set, proto, nil
}

// sameData reports whether an evaluation path is a session's training
// source (the same folder or file, however it is written).
func sameData(source, data string) bool {
	canon := func(p string) string {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		return filepath.Clean(p)
	}
	if source == "" || source == "synth" {
		return false
	}
	if _, err := os.Stat(data); err != nil {
		return false
	}
	return canon(source) == canon(data)
}

// printEvals prints the models side by side, then each view's verification
// accuracy with its standard deviation over folds, AUC, TAR and mAP, views
// in a fixed order (HR, then LR sides from largest).
func printEvals(w io.Writer, evals []engine.Event) {
	fmt.Fprint(w, EvalTable(evals))
	views := EvalViews(evals)
	for _, v := range views {
		if v != "hr" {
			views = append(views, "hr"+v)
		}
	}
	for _, ev := range evals {
		fmt.Fprintf(w, "  %s:\n", ev.Message)
		for _, v := range views {
			val := func(metric string) (float64, bool) { x, ok := ev.Values[engine.EvalKey(v, metric)]; return x, ok }
			var parts []string
			if acc, ok := val(engine.EVerifAcc); ok {
				std, _ := val(engine.EVerifStd)
				parts = append(parts, fmt.Sprintf("verification %.1f ± %.1f%%", 100*acc, 100*std))
			}
			if auc, ok := val(engine.EAUC); ok {
				parts = append(parts, fmt.Sprintf("AUC %.3f", auc))
			}
			if tar, ok := val(engine.ETAR1e3); ok {
				parts = append(parts, fmt.Sprintf("TAR@FAR=1e-3 %.1f%%", 100*tar))
			}
			if r5, ok := val(engine.ERank5); ok {
				parts = append(parts, fmt.Sprintf("rank-5 %.1f%%", 100*r5))
			}
			if mAP, ok := val(engine.EMAP); ok {
				parts = append(parts, fmt.Sprintf("mAP %.3f", mAP))
			}
			if len(parts) > 0 {
				fmt.Fprintf(w, "    %-8s %s\n", v, strings.Join(parts, ", "))
			}
		}
	}
}
