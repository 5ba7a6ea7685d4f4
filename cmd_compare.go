package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/sessions/live"
)

// cmdCompare trains one teacher per seed, one student per method and seed,
// and tabulates their evaluations. Runs are sessions with names derived
// from the configuration, so a rerun reuses every run that finished.
func cmdCompare(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("compare", stderr)
	var f runFlags
	f.register(fs)
	methodsFlag := fs.String("methods", "ccface,ccface-noadapt,ccface-noacr,proxyless,arcface-aug,feature-kd",
		"comma-separated methods: "+strings.Join(engine.Methods, ","))
	seeds := fs.Int("seeds", 3, "seeds per method (seed, seed+1, ...)")
	out := fs.String("out", "ccface-compare", "directory for compare.md, compare.csv and compare.json")
	fromSweep := registerCompareSweep(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: %w", fs.Arg(0), errUsage)
	}
	if fromSweep.given() {
		return fromSweep.run(fs, *out, stdout)
	}
	// --teacher names a pretrained FILE.onnx (each seed fits its classifier
	// head), or a session whose teacher every seed uses.
	var teacherID string
	if f.teacher != "" && !strings.HasSuffix(strings.ToLower(f.teacher), ".onnx") {
		teacherID, f.teacher = f.teacher, ""
	}
	base, err := f.config()
	if err != nil {
		return err
	}
	methods, err := live.CompareMethods(*methodsFlag)
	if err != nil {
		return fmt.Errorf("--methods: %w", err)
	}
	if *seeds < 1 || *seeds > 100 {
		return fmt.Errorf("--seeds %d: want 1..100", *seeds)
	}
	root, err := sessionsRoot(f.sessions)
	if err != nil {
		return err
	}
	ctx, stop := live.SignalContext(stdout)
	defer stop()
	return live.Compare(ctx, live.CompareSpec{Root: root, Base: base, Methods: methods, Seeds: *seeds,
		Sets: f.sets, Teacher: teacherID, Out: *out, Log: stdout})
}
