package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/engine/train"
	"github.com/ccface/ccface/sessions"
	"github.com/ccface/ccface/tui"
)

// cmdTrain starts a new training session: in the TUI, or headless.
func cmdTrain(args []string, sub bool, stdout, stderr io.Writer) error {
	fs := newFlagSet("train", stderr)
	var f runFlags
	f.register(fs)
	headless := fs.Bool("headless", false, "print progress lines instead of opening the TUI")
	sweepDir := fs.String("sweep", "", "run one trial of this sweep folder (with --headless; see `ccface sweep`)")
	index := fs.String("index", "", "the trial to run with --sweep (default: $SLURM_ARRAY_TASK_ID, else $JOB_COMPLETION_INDEX)")
	katib := fs.Bool("katib", false, "print each evaluation as Katib metric lines (name=value)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: %w", fs.Arg(0), errUsage)
	}
	if *sweepDir != "" {
		if !*headless {
			return errors.New("--sweep runs a trial without a terminal: add --headless")
		}
		return runSweepTrial(*sweepDir, *index, stdout)
	}
	if *index != "" {
		return errors.New("--index picks a trial of a sweep: add --sweep DIR")
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	root, err := sessionsRoot(f.sessions)
	if err != nil {
		return err
	}
	r, err := startNewRun(cfg, root, f.name, stdout)
	if err != nil {
		return err
	}
	r.katib = *katib
	return r.drive(*headless, stdout)
}

// cmdResume continues a session from its latest good checkpoint.
func cmdResume(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("resume", stderr)
	sessionsDir := fs.String("sessions", "", "sessions directory (default: ccface/sessions in your data directory)")
	headless := fs.Bool("headless", false, "print progress lines instead of opening the TUI")
	id, rest := splitLeadingArg(args)
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	} else if id == "" || fs.NArg() > 0 {
		return fmt.Errorf("resume wants one session ID (see `ccface sessions`): %w", errUsage)
	}
	root, err := sessionsRoot(*sessionsDir)
	if err != nil {
		return err
	}
	r, err := resumeRun(root, id, stdout)
	if err != nil {
		return err
	}
	return r.drive(*headless, stdout)
}

// cmdFork starts a new session from a checkpoint of another, with changed knobs.
func cmdFork(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("fork", stderr)
	sessionsDir := fs.String("sessions", "", "sessions directory (default: ccface/sessions in your data directory)")
	headless := fs.Bool("headless", false, "print progress lines instead of opening the TUI")
	at := fs.String("at", "latest", "checkpoint step to start from (the newest at or before it), or latest")
	var sets []string
	fs.Func("set", "key=value: change a live knob (repeatable)", func(s string) error { sets = append(sets, s); return nil })
	id, rest := splitLeadingArg(args)
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	} else if id == "" || fs.NArg() > 0 {
		return fmt.Errorf("fork wants one session ID (see `ccface sessions`): %w", errUsage)
	}
	step := int64(-1)
	if *at != "latest" {
		n, err := strconv.ParseInt(*at, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("--at %q: want a step number or latest", *at)
		}
		step = n
	}
	root, err := sessionsRoot(*sessionsDir)
	if err != nil {
		return err
	}
	r, err := forkRun(root, id, step, sets, stdout)
	if err != nil {
		return err
	}
	return r.drive(*headless, stdout)
}

// splitLeadingArg takes a positional argument given before the flags.
func splitLeadingArg(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

// drive shows the run (TUI or headless) until it ends, then releases it.
func (r *liveRun) drive(headless bool, w io.Writer) error {
	var err error
	if headless {
		err = runHeadless(r.eng, r.hub, r.sess.Dir, r.katib, w)
	} else {
		err = runTUI(r.eng, r.hub, r.sess, r.overlays)
	}
	if ferr := r.finish(); ferr != nil && err == nil {
		err = ferr
	}
	return err
}

// runTUI drives the run from the terminal UI; logs go to the session.
func runTUI(eng *train.Engine, hub *engine.Hub, sess *sessions.Session, overlays []tui.Overlay) error {
	view, cancel := hub.Subscribe()
	defer cancel()
	model := tui.New(view, tui.Options{SessionPath: sess.Dir, By: "local", Export: tuiExporter(sess), Overlays: overlays})
	if _, err := tea.NewProgram(model, tea.WithAltScreen()).Run(); err != nil {
		eng.Stop("tui error")
		return err
	}
	eng.Stop("quit")
	for range view.Events() { // wait for the engine's final checkpoint and done event
	}
	fmt.Printf("session: %s\n", sess.Dir)
	return nil
}

// runHeadless prints progress lines and tables until the run ends. The first
// Ctrl-C stops cleanly (checkpoint, done); a second one exits at once.
// With katib, each evaluation is also printed as Katib metric lines.
func runHeadless(eng *train.Engine, hub *engine.Hub, dir string, katib bool, w io.Writer) error {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		<-sig
		fmt.Fprintln(w, "\nstopping at the next step boundary (Ctrl-C again to exit at once)...")
		eng.Stop("signal")
		<-sig
		fmt.Fprintf(w, "exiting without a final checkpoint; session: %s\n", dir)
		os.Exit(130)
	}()
	view, cancel := hub.Subscribe()
	defer cancel()
	p := newPrinter(w, 3*time.Second)
	var failed error
	for batch := range view.Events() {
		for _, ev := range batch {
			p.event(ev)
			if katib && ev.Kind == engine.KindEval {
				katibLines(w, ev)
			}
			if ev.Kind == engine.KindFailed {
				failed = errors.New(ev.Message)
			}
		}
	}
	p.summary()
	fmt.Fprintf(w, "session: %s\n", dir)
	return failed
}

// cmdSessions lists the sessions in the sessions directory.
func cmdSessions(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sessions", stderr)
	sessionsDir := fs.String("sessions", "", "sessions directory (default: ccface/sessions in your data directory)")
	pick := fs.Bool("pick", false, "choose a session to resume or fork (and sessions to overlay) in a picker")
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := sessionsRoot(*sessionsDir)
	if err != nil {
		return err
	}
	if *pick {
		return pickSession(root, stdout, stderr)
	}
	list, warnings, err := sessions.List(root)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if len(list) == 0 {
		fmt.Fprintf(stdout, "no sessions in %s: start one with `ccface` or `ccface train --headless`\n", root)
		return nil
	}
	fmt.Fprint(stdout, sessions.FormatList(list))
	return nil
}
