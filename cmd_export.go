package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/plots"
	"github.com/ccface/ccface/sessions"
	"github.com/ccface/ccface/tui"
)

// cmdExport writes figures and their CSVs for one or more sessions; several
// sessions overlay on each figure.
func cmdExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", stderr)
	sessionsDir := fs.String("sessions", "", "sessions directory (default: ccface/sessions in your data directory)")
	format := fs.String("format", "png", "png, svg or pdf")
	out := fs.String("out", "", "output directory (default: the session's plots/ folder; ./ccface-plots for several sessions)")
	smooth := fs.Float64("smooth", 0, "EMA smoothing weight in [0,1) (0.9 is TensorBoard-like); the CSV states it")
	only := fs.String("only", "", "comma-separated figures to make: "+strings.Join(plots.FigureNames(), ","))
	xaxis := fs.String("x", "step", "x axis of time series: step or epoch")
	ids, rest := splitPositional(args)
	if err := fs.Parse(rest); err != nil {
		return err
	}
	ids = append(ids, fs.Args()...)
	if len(ids) == 0 {
		return fmt.Errorf("export wants at least one session ID (see `ccface sessions`): %w", errUsage)
	}
	root, err := sessionsRoot(*sessionsDir)
	if err != nil {
		return err
	}
	opened, logs, warnings, err := sessions.ReadLogs(root, ids)
	for _, w := range warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if err != nil {
		return err
	}
	var runs []plots.Run
	for i, name := range sessions.RunLabels(opened) {
		runs = append(runs, plots.Run{Name: name, Events: logs[i]})
	}
	dir := *out
	if dir == "" {
		dir = opened[0].PlotsDir()
		if len(runs) > 1 {
			dir = "ccface-plots"
		}
	}
	opt := plots.Options{Format: *format, OutDir: dir, Smooth: *smooth, XAxis: *xaxis}
	if *only != "" {
		opt.Only = strings.Split(*only, ",")
	}
	res, err := plots.Export(runs, opt)
	if err != nil {
		return err
	}
	res.WriteReport(stdout, dir)
	return nil
}

// splitPositional takes the positional arguments given before the flags.
func splitPositional(args []string) ([]string, []string) {
	i := 0
	for i < len(args) && !strings.HasPrefix(args[i], "-") {
		i++
	}
	return args[:i], args[i:]
}

// tuiExporter returns the TUI's export action: figures of this session's
// events into its plots folder, as PNG, drawn as the charts were on screen
// (smoothing, x axis, zoom).
func tuiExporter(sess *sessions.Session) func([]engine.Event, tui.ExportView) (string, error) {
	return func(events []engine.Event, view tui.ExportView) (string, error) {
		opt := plots.Options{OutDir: sess.PlotsDir(), Smooth: view.Smooth, LastSteps: view.LastSteps}
		if view.ByEpoch {
			opt.XAxis = "epoch"
		}
		res, err := plots.Export([]plots.Run{{Name: sess.Title(), Events: events}}, opt)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("wrote %d figures to %s", res.Figures(), sess.PlotsDir()), nil
	}
}
