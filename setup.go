package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/sessions"
	"github.com/ccface/ccface/sessions/live"
)

// runFlags are the flags every command that builds a configuration takes.
type runFlags struct {
	data, preset, sessions, name, teacher string
	sets                                  []string
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "synth", "synth, or an image folder with one sub-folder per identity")
	fs.StringVar(&f.preset, "preset", "default", "tiny, default, or real (small real face sets)")
	fs.StringVar(&f.sessions, "sessions", "", "sessions directory (default: ccface/sessions in your data directory)")
	fs.StringVar(&f.name, "name", "", "a name for the session")
	fs.StringVar(&f.teacher, "teacher", "", "a pretrained ONNX recogniser (FILE.onnx) to distil, frozen, instead of training a teacher (compare: or a session whose teacher every seed uses)")
	fs.Func("set", "key=value: set a knob (repeatable; `ccface knobs` lists them)", func(s string) error {
		f.sets = append(f.sets, s)
		return nil
	})
}

// config builds and validates the run configuration the flags describe.
func (f *runFlags) config() (engine.Config, error) {
	cfg, err := engine.ParsePreset(f.preset)
	if err != nil {
		return cfg, err
	}
	cfg.Data.Source = f.data
	if f.teacher != "" {
		// A pretrained teacher needs no long teacher phase: it only fits a
		// classifier head on frozen embeddings. --set still wins.
		cfg.Model.Teacher = f.teacher
		cfg.Teacher.Epochs, cfg.Teacher.MarginWarmup, cfg.Teacher.MarginRamp, cfg.Teacher.LRWarmup = 2, 0, 1, 0
	}
	if err := engine.ApplySet(&cfg, f.sets); err != nil {
		return cfg, err
	}
	// Recorded absolute, so resume, fork and eval find the data from any
	// directory.
	for _, p := range []*string{&cfg.Data.Source, &cfg.Data.EvalSource} {
		if *p != "" && *p != "synth" {
			if abs, err := filepath.Abs(*p); err == nil {
				*p = abs
			}
		}
	}
	if f.teacher != "" && cfg.Model.Student == "copy" && !setsKnob(f.sets, "lr_student") {
		// A pretrained network moves far on one step at the learning rate
		// that trains a network from scratch (measured: 0.0007 took a copy of
		// mobilefacenet from 89% to 33% training accuracy in one step).
		cfg.Hyper.LRStudent = 1e-4
	}
	return cfg, nil
}

// setsKnob reports whether one of the --set assignments sets knob.
func setsKnob(sets []string, knob string) bool {
	for _, kv := range sets {
		if k, _, _ := strings.Cut(kv, "="); strings.TrimSpace(k) == knob {
			return true
		}
	}
	return false
}

// sessionsRoot resolves --sessions or the default.
func sessionsRoot(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	return sessions.DefaultRoot()
}

func newFlagSet(name string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(w, "Usage of ccface %s:\n", name)
		fs.PrintDefaults()
		fmt.Fprintln(w, "\n`ccface help` lists every command.")
	}
	return fs
}

func cmdKnobs(args []string, stdout io.Writer) error {
	fs := newFlagSet("knobs", stdout)
	var f runFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Knobs (live ones may change while training runs):")
	fmt.Fprint(stdout, engine.DescribeKnobs(&cfg))
	return nil
}

func cmdData(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "inspect" {
		return cmdInspect(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "align" {
		return cmdAlign(args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "preview" {
		return fmt.Errorf("ccface data: want `ccface data preview --out sheet.png`, `ccface data inspect PATH` or `%s`: %w", alignUsage, errUsage)
	}
	fs := newFlagSet("data preview", stdout)
	var f runFlags
	f.register(fs)
	out := fs.String("out", "sheet.png", "PNG file to write")
	rows := fs.Int("n", 8, "faces to show")
	views := fs.Int("views", 5, "degraded views per face")
	zoom := fs.Int("zoom", 4, "pixel magnification")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %s: %w", strings.Join(fs.Args(), " "), errUsage)
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	if *rows < 1 || *views < 0 || *zoom < 1 || *zoom > 32 {
		return fmt.Errorf("data preview: want -n ≥ 1, -views ≥ 0 and 1 ≤ -zoom ≤ 32")
	}
	return live.PreviewData(cfg, *out, *rows, *views, *zoom, stdout)
}
