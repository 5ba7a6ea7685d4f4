package main

import (
	"fmt"
	"io"

	"github.com/ccface/ccface/engine/onnx"
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
	const want = "model export wants a session ID and --onnx OUT.onnx"
	id, err := oneArg(fs, args, want)
	if err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%s: %w", want, errUsage)
	}
	step, err := parseAt(*at)
	if err != nil {
		return err
	}
	root, err := sessionsRoot(*sessionsDir)
	if err != nil {
		return err
	}
	return live.ExportModel(root, id, step, *model, *out, stdout, stderr)
}

// cmdModelInspect describes an ONNX model: what goes in and out, what it
// is made of, what it costs, and how ccface will feed it.
func cmdModelInspect(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("model inspect", stderr)
	path, err := oneArg(fs, args, "model inspect wants FILE.onnx")
	if err != nil {
		return err
	}
	m, err := onnx.Load(path)
	if err != nil {
		return err
	}
	return m.WriteInfo(stdout)
}
