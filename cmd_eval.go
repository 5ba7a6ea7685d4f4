package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ccface/ccface/engine"
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
	const want = "eval wants a session ID or a FILE.onnx and --data PATH"
	id, err := oneArg(fs, args, want)
	if err != nil {
		return err
	}
	if *data == "" {
		return fmt.Errorf("%s: %w", want, errUsage)
	}
	spec := live.EvalSpec{Data: *data, Images: *images, Sets: sets, Out: stdout, Warn: stderr}
	if strings.HasSuffix(strings.ToLower(id), ".onnx") {
		return live.EvalONNX(id, spec)
	}
	switch *model {
	case "both", engine.PhaseTeacher, engine.PhaseStudent:
	default:
		return fmt.Errorf("--model %q: want teacher, student or both", *model)
	}
	step, err := parseAt(*at)
	if err != nil {
		return err
	}
	root, err := sessionsRoot(*sessionsDir)
	if err != nil {
		return err
	}
	return live.EvalSession(root, id, step, *model, spec)
}

// parseAt reads --at: a step number, or latest (live.Latest).
func parseAt(at string) (int64, error) {
	if at == "latest" {
		return live.Latest, nil
	}
	n, err := strconv.ParseInt(at, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("--at %q: want a step number or latest", at)
	}
	return n, nil
}
