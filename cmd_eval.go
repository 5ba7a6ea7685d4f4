package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ccface/ccface/datasets"
	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/engine/onnx"
	"github.com/ccface/ccface/engine/train"
	"github.com/ccface/ccface/sessions"
	"github.com/ccface/ccface/sessions/live"
)

// cmdEval evaluates a session's models, or an imported ONNX recogniser, on
// an evaluation set: an image folder, a RecordIO file, a verification
// .bin, a pairs.txt or a TinyFace layout, each under its own protocol.
func cmdEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", stderr)
	sessionsDir := fs.String("sessions", "", "sessions directory (default: ccface/sessions in your data directory)")
	data := fs.String("data", "", "evaluation set: folder, .rec, .bin, pairs.txt or TinyFace root")
	images := fs.String("images", "", "image folder a pairs.txt names images in (default: next to it)")
	model := fs.String("model", "both", "which model of the session: teacher, student or both")
	at := fs.String("at", "latest", "the session's checkpoint to evaluate: the newest at or before this step, or latest")
	var sets []string
	fs.Func("set", "key=value: a data or eval knob for this evaluation (data.grey, data.crop, eval.pairs, eval.lr_sizes, ...)", func(s string) error { sets = append(sets, s); return nil })
	id, rest := splitLeadingArg(args)
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	} else if id == "" || fs.NArg() > 0 || *data == "" {
		return fmt.Errorf("eval wants a session ID or a FILE.onnx and --data PATH: %w", errUsage)
	}
	if strings.HasSuffix(strings.ToLower(id), ".onnx") {
		return evalONNX(id, *data, *images, sets, stdout, stderr)
	}
	var which []string
	switch *model {
	case "both":
		which = []string{engine.PhaseTeacher, engine.PhaseStudent}
	case engine.PhaseTeacher, engine.PhaseStudent:
		which = []string{*model}
	default:
		return fmt.Errorf("--model %q: want teacher, student or both", *model)
	}
	sess, got, blob, err := sessionCheckpoint(*sessionsDir, id, *at, stderr)
	if err != nil {
		return err
	}
	var evals []engine.Event
	var cfg engine.Config
	var models []train.Embedder
	for _, w := range which {
		emb, name, c, err := train.CheckpointEmbedder(blob, w)
		if err != nil {
			if *model == "both" && w == engine.PhaseStudent {
				continue // a teacher-only checkpoint: the teacher alone
			}
			return fmt.Errorf("%s: %w", sess.Dir, err)
		}
		cfg = c
		models = append(models, emb)
		evals = append(evals, engine.Event{Kind: engine.KindEval, Message: name})
	}
	if cfg, err = applySets(cfg, sets); err != nil {
		return err
	}
	if sameData(cfg.Data.Source, *data) {
		fmt.Fprintf(stderr, "warning: %s is the data this session trained on: its scores include identities the model learnt; evaluate on a disjoint set\n", *data)
	}
	set, proto, err := loadEval(cfg, *data, *images, stderr)
	if err != nil {
		return err
	}
	for i, emb := range models {
		if evals[i].Values, _, err = train.Evaluate(emb, cfg, set, proto); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "session %s, checkpoint of step %d, on %s (%d images):\n", sess.Manifest.ID, got, *data, len(set.Pixels))
	printEvals(stdout, evals)
	return nil
}

// evalONNX evaluates an imported recogniser as the file computes it, under
// the same protocol and LR sizes as a session's model.
func evalONNX(path, data, images string, sets []string, stdout, stderr io.Writer) error {
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
	if cfg, err = applySets(cfg, sets); err != nil {
		return err
	}
	set, proto, err := loadEval(cfg, data, images, stderr)
	if err != nil {
		return err
	}
	values, _, err := train.Evaluate(emb, cfg, set, proto)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s (%d px, %s) on %s (%d images):\n", path, cfg.Data.HR, m.Pre, data, len(set.Pixels))
	printEvals(stdout, []engine.Event{{Kind: engine.KindEval, Values: values, Message: filepath.Base(path)}})
	return nil
}

// sessionCheckpoint opens session id under --sessions and loads its newest
// good checkpoint at or before --at, warning of damaged ones passed over.
func sessionCheckpoint(sessionsDir, id, at string, stderr io.Writer) (*sessions.Session, int64, []byte, error) {
	step, err := parseAt(at)
	if err != nil {
		return nil, 0, nil, err
	}
	root, err := sessionsRoot(sessionsDir)
	if err != nil {
		return nil, 0, nil, err
	}
	sess, err := sessions.Open(root, id)
	if err != nil {
		return nil, 0, nil, err
	}
	got, blob, skipped, err := sess.LatestGoodCheckpoint(step)
	for _, s := range skipped {
		fmt.Fprintf(stderr, "warning: %s\n", s)
	}
	return sess, got, blob, err
}

// parseAt reads --at: a step number, or latest (-1).
func parseAt(at string) (int64, error) {
	if at == "latest" {
		return -1, nil
	}
	n, err := strconv.ParseInt(at, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("--at %q: want a step number or latest", at)
	}
	return n, nil
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
	fmt.Fprint(w, live.EvalTable(evals))
	views := live.EvalViews(evals)
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
