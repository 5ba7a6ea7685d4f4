package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/ccface/ccface/engine/onnx"
	"github.com/ccface/ccface/engine/train"
	"github.com/ccface/ccface/sessions/live"
)

// cmdModel dispatches `ccface model SUBCOMMAND`.
func cmdModel(args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) > 0 && args[0] == "inspect":
		return cmdModelInspect(args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "export":
		return cmdModelExport(args[1:], stdout, stderr)
	}
	return fmt.Errorf("model wants a subcommand: inspect FILE.onnx, or export SESSION --onnx OUT.onnx: %w", errUsage)
}

// cmdModelExport writes a session's fine-tuned network back as ONNX, in
// the format of the file it was imported from.
func cmdModelExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("model export", stderr)
	sessionsDir := fs.String("sessions", "", "sessions directory (default: ccface/sessions in your data directory)")
	out := fs.String("onnx", "", "the ONNX file to write")
	model := fs.String("model", "student", "which model: student or teacher")
	at := fs.String("at", "latest", "the checkpoint: the newest at or before this step, or latest")
	id, rest := splitLeadingArg(args)
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	} else if id == "" || fs.NArg() > 0 || *out == "" {
		return fmt.Errorf("model export wants a session ID and --onnx OUT.onnx: %w", errUsage)
	}
	step, err := parseAt(*at)
	if err != nil {
		return err
	}
	root, err := sessionsRoot(*sessionsDir)
	if err != nil {
		return err
	}
	sess, got, blob, err := live.SessionCheckpoint(root, id, step, stderr)
	if err != nil {
		return err
	}
	which, err := train.ExportONNX(blob, *model, *out)
	if err != nil {
		return fmt.Errorf("%s: %w", sess.Dir, err)
	}
	fmt.Fprintf(stdout, "wrote %s: the %s of session %s at step %d\n", *out, which, sess.Manifest.ID, got)
	return nil
}

// cmdModelInspect describes an ONNX model: what goes in and out, what it
// is made of, what it costs, and how ccface will feed it.
func cmdModelInspect(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("model inspect", stderr)
	path, rest := splitLeadingArg(args)
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if path == "" && fs.NArg() == 1 {
		path = fs.Arg(0)
	} else if path == "" || fs.NArg() > 0 {
		return fmt.Errorf("model inspect wants FILE.onnx: %w", errUsage)
	}
	m, err := onnx.Load(path)
	if err != nil {
		return err
	}
	info, err := m.Info()
	if err != nil {
		return err
	}
	dims := func(s []int) string {
		var p []string
		for _, d := range s {
			if d < 0 {
				p = append(p, "?")
			} else {
				p = append(p, fmt.Sprint(d))
			}
		}
		return strings.Join(p, "×")
	}
	fmt.Fprintf(stdout, "%s (opset %d, %s)\n", path, info.Opset, info.Producer)
	for _, in := range info.Inputs {
		fmt.Fprintf(stdout, "  input   %-10s %s\n", in.Name, dims(in.Shape))
	}
	for i, o := range info.Outputs {
		fmt.Fprintf(stdout, "  output  %-10s %s (one image at %d×%d: %s)\n", o.Name, dims(o.Shape), info.Side[0], info.Side[1], dims(info.OutputShapes[i]))
	}
	fmt.Fprintf(stdout, "  operators   %s\n", strings.Join(info.OpList(), ", "))
	fmt.Fprintf(stdout, "  parameters  %d (%.2f M)\n", info.Params, float64(info.Params)/1e6)
	fmt.Fprintf(stdout, "  multiply-adds per image at %d×%d: %.1f M\n", info.Side[0], info.Side[1], float64(info.MACs)/1e6)
	fmt.Fprintf(stdout, "  preprocessing: %s; grey images as three equal channels\n", m.Pre)
	return nil
}
