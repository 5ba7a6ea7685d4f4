package main

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/engine/onnx"
	"github.com/ccface/ccface/engine/train"
	"github.com/ccface/ccface/sessions"
	"github.com/ccface/ccface/sessions/live"
)

// cmdEval evaluates a session's latest model, or an imported ONNX
// recogniser, on an evaluation set: an image folder, a RecordIO file, a
// verification .bin, a pairs.txt or a TinyFace layout, each under its own
// protocol.
func cmdEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", stderr)
	sessionsDir := fs.String("sessions", "", "sessions directory (default: ccface/sessions in your data directory)")
	data := fs.String("data", "", "evaluation set: folder, .rec, .bin, pairs.txt or TinyFace root")
	images := fs.String("images", "", "image folder a pairs.txt names images in (default: next to it)")
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
		return evalONNX(id, *data, *images, stdout, stderr)
	}
	root, err := sessionsRoot(*sessionsDir)
	if err != nil {
		return err
	}
	sess, err := sessions.Open(root, id)
	if err != nil {
		return err
	}
	step, blob, _, err := sess.LatestGoodCheckpoint(-1)
	if err != nil {
		return err
	}
	backbone, model, cfg, err := train.CheckpointModel(blob)
	if err != nil {
		return fmt.Errorf("%s: %w", sess.Dir, err)
	}
	set, proto, skipped, err := train.LoadEvalSet(*data, *images, cfg.Data.HR)
	if err != nil {
		return err
	}
	if len(skipped) > 0 {
		fmt.Fprintf(stderr, "warning: %d entries skipped, e.g. %s\n", len(skipped), skipped[0])
	}
	values, _, err := train.Evaluate(train.Backbone{Params: backbone, Cfg: cfg}, cfg, set, proto)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s of session %s (step %d) on %s (%d images):\n", model, sess.Manifest.ID, step, *data, len(set.Pixels))
	printEval(stdout, model, values)
	return nil
}

// evalONNX evaluates an imported recogniser as the file computes it, under
// the same protocol and LR sizes as a session's model.
func evalONNX(path, data, images string, stdout, stderr io.Writer) error {
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
	set, proto, skipped, err := train.LoadEvalSet(data, images, cfg.Data.HR)
	if err != nil {
		return err
	}
	if len(skipped) > 0 {
		fmt.Fprintf(stderr, "warning: %d entries skipped, e.g. %s\n", len(skipped), skipped[0])
	}
	values, _, err := train.Evaluate(emb, cfg, set, proto)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s (%d px, %s) on %s (%d images):\n", path, cfg.Data.HR, m.Pre, data, len(set.Pixels))
	printEval(stdout, filepath.Base(path), values)
	return nil
}

func printEval(stdout io.Writer, model string, values map[string]float64) {
	fmt.Fprint(stdout, live.EvalTable([]engine.Event{{Kind: engine.KindEval, Values: values, Message: model}}))
	var keys []string
	for k := range values {
		if strings.HasSuffix(k, engine.EAUC) || strings.HasSuffix(k, engine.EMAP) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(stdout, "  %s %.3f\n", k, values[k])
	}
}
