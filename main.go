// Command ccface is a terminal workbench for training low-resolution face
// recognisers by classification-consistency distillation (CCFace).
//
//	ccface                      TUI on a new session with the defaults
//	ccface train [--headless]   train with --data, --preset, --set
//	ccface data preview         contact sheet of HR faces and degraded views
//	ccface knobs                every knob, its value and range
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/ccface/ccface/sessions/live"
)

const usage = `ccface: a terminal workbench for low-resolution face recognition by distillation

Usage:
  ccface [flags]                     open the TUI on a new session and start training
  ccface train [--headless] [flags]  train (the TUI, or progress lines with --headless)
  ccface serve [--listen ADDR] [--authorized-keys F] [--viewers F] [training flags]
                                     serve the TUI of one training run over SSH
  ccface resume ID [--headless]      continue a session from its latest good checkpoint
  ccface fork ID [--at STEP|latest] [--set k=v]... [--name NAME]
                                     new session from a checkpoint with changed knobs
  ccface sessions [--pick]           list sessions
  ccface pick                        choose a session to resume or fork, and sessions to overlay
  ccface compare [--data D] [--methods a,b] [--seeds N] [--teacher ID|FILE.onnx] [--out DIR]
                                     method vs ablations vs baselines, same data and seeds
  ccface compare --sweep DIR [--baseline METHOD] [--out DIR]
                                     a sweep's finished trials in compare's tables
  ccface export ID... [--format png|svg|pdf] [--out DIR] [--smooth A] [--only NAMES]
                                     figures and CSVs of one or more sessions
  ccface data preview [flags] --out sheet.png
                                     HR faces beside their degraded views
  ccface data inspect PATH [--out sheet.png]
                                     identities, sizes, channels, bad and duplicate files
  ccface data align IN OUT --detector scrfd.onnx [--det-size N] [--upscale] [--size N] [--pick largest|central] [--min-face PX]
                                     detect faces, align them to the ArcFace template, write PNG crops, a report and a contact sheet
  ccface eval ID --data PATH [--model teacher|student|both] [--at STEP]
                                     evaluate a session's models on a folder, .rec, .bin, pairs.txt or TinyFace set
  ccface eval FILE.onnx --data PATH  evaluate an imported ONNX recogniser as is, at HR and each LR size
  ccface model inspect FILE.onnx     inputs, outputs, operators, parameters, multiply-adds, preprocessing
  ccface model export ID --onnx OUT.onnx [--model student|teacher] [--at STEP]
                                     a fine-tuned copy of a session's ONNX teacher, back as ONNX
  ccface knobs [--preset P]          list every knob with its value and range
  ccface sweep plan|slurm|k8s|status|watch
                                     plan a sweep of trials, run it on Slurm or Kubernetes, watch it
  ccface train --headless --sweep DIR [--index N]
                                     run one trial of a sweep (resumes it if it was interrupted)

Training flags (train, serve, compare, and ccface alone; fork takes --set, --sessions, --name):
  --data synth|DIR     built-in synthetic faces (default) or an image folder (DIR/<identity>/<image>)
  --preset tiny|default|real
  --set key=value      set any knob; repeatable (see ccface knobs)
  --sessions DIR       where sessions live (default: ccface/sessions in your data directory)
  --name NAME          a name for the session
  --teacher FILE.onnx  distil a pretrained ONNX recogniser (frozen) instead of training a teacher
`

func main() {
	live.KeepGoingOnBrokenPipe()
	os.Exit(run(os.Args[1:], live.DropAfterBrokenPipe(os.Stdout), live.DropAfterBrokenPipe(os.Stderr)))
}

// errUsage marks errors after which the usage text helps.
var errUsage = errors.New("usage")

func run(args []string, stdout, stderr io.Writer) int {
	var err error
	switch {
	case len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help"):
		fmt.Fprint(stdout, usage)
		return 0
	case len(args) == 0 || args[0][0] == '-':
		err = cmdTrain(args, false, stdout, stderr)
	case args[0] == "train":
		err = cmdTrain(args[1:], true, stdout, stderr)
	case args[0] == "resume":
		err = cmdResume(args[1:], stdout, stderr)
	case args[0] == "fork":
		err = cmdFork(args[1:], stdout, stderr)
	case args[0] == "pick":
		err = cmdPick(args[1:], stdout, stderr)
	case args[0] == "sessions":
		err = cmdSessions(args[1:], stdout, stderr)
	case args[0] == "serve":
		err = cmdServe(args[1:], stdout, stderr)
	case args[0] == "compare":
		err = cmdCompare(args[1:], stdout, stderr)
	case args[0] == "export":
		err = cmdExport(args[1:], stdout, stderr)
	case args[0] == "data":
		err = cmdData(args[1:], stdout, stderr)
	case args[0] == "sweep":
		err = cmdSweep(args[1:], stdout, stderr)
	case args[0] == "eval":
		err = cmdEval(args[1:], stdout, stderr)
	case args[0] == "model":
		err = cmdModel(args[1:], stdout, stderr)
	case args[0] == "knobs":
		err = cmdKnobs(args[1:], stdout)
	default:
		err = fmt.Errorf("unknown command %q: %w", args[0], errUsage)
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "ccface: %v\n\n%s", err, usage)
		return 2
	}
	fmt.Fprintf(stderr, "ccface: %v\n", err)
	return 1
}
