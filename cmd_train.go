package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/sessions"
	"github.com/ccface/ccface/sessions/live"
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
		var other string
		fs.Visit(func(fl *flag.Flag) {
			if fl.Name != "headless" && fl.Name != "sweep" && fl.Name != "index" && other == "" {
				other = fl.Name
			}
		})
		if other != "" {
			return fmt.Errorf("--%s does not apply with --sweep: the sweep's plan fixes its trials (edit the spec and plan again)", other)
		}
		return live.RunTrial(*sweepDir, *index, os.Getenv, stdout)
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
	return openAndShow(live.Spec{Root: root, Log: stdout, Config: cfg, Name: f.name}, front{headless: *headless, katib: *katib}, stdout)
}

// cmdResume continues a session from its latest good checkpoint.
func cmdResume(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("resume", stderr)
	sessionsDir := fs.String("sessions", "", "sessions directory (default: ccface/sessions in your data directory)")
	headless := fs.Bool("headless", false, "print progress lines instead of opening the TUI")
	id, err := oneArg(fs, args, "resume wants one session ID (see `ccface sessions`)")
	if err != nil {
		return err
	}
	root, err := sessionsRoot(*sessionsDir)
	if err != nil {
		return err
	}
	return openAndShow(live.Spec{Root: root, Log: stdout, Resume: id}, front{headless: *headless}, stdout)
}

// cmdFork starts a new session from a checkpoint of another, with changed knobs.
func cmdFork(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("fork", stderr)
	sessionsDir := fs.String("sessions", "", "sessions directory (default: ccface/sessions in your data directory)")
	headless := fs.Bool("headless", false, "print progress lines instead of opening the TUI")
	at := fs.String("at", "latest", "checkpoint step to start from (the newest at or before it), or latest")
	name := fs.String("name", "", "a name for the new session (default: the parent's name@step)")
	var sets []string
	fs.Func("set", "key=value: change a live knob (repeatable)", func(s string) error { sets = append(sets, s); return nil })
	id, err := oneArg(fs, args, "fork wants one session ID (see `ccface sessions`)")
	if err != nil {
		return err
	}
	step, err := parseAt(*at)
	if err != nil {
		return err
	}
	root, err := sessionsRoot(*sessionsDir)
	if err != nil {
		return err
	}
	return openAndShow(live.Spec{Root: root, Log: stdout, Fork: id, ForkAt: step, ForkSets: sets, Name: *name}, front{headless: *headless}, stdout)
}

// splitLeadingArg takes a positional argument given before the flags.
func splitLeadingArg(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

// oneArg parses args with fs and returns the one positional argument,
// given before or after the flags; with none or several it is the usage
// error want.
func oneArg(fs *flag.FlagSet, args []string, want string) (string, error) {
	arg, rest := splitLeadingArg(args)
	if err := fs.Parse(rest); err != nil {
		return "", err
	}
	if arg == "" && fs.NArg() == 1 {
		arg = fs.Arg(0)
	} else if arg == "" || fs.NArg() > 0 {
		return "", fmt.Errorf("%s: %w", want, errUsage)
	}
	return arg, nil
}

// front says how a run is shown: the TUI (with overlays drawn under the
// live curves) or headless progress lines (with Katib metric lines).
type front struct {
	headless, katib bool
	overlays        []tui.Overlay
}

// openAndShow opens the run spec describes and shows it until it ends.
func openAndShow(spec live.Spec, fe front, w io.Writer) error {
	if fe.headless {
		return live.RunHeadless(spec, fe.katib)
	}
	r, err := live.Open(spec)
	if err != nil {
		return err
	}
	return r.Drive(func(r *live.Run) error { return showTUI(r, fe.overlays, w) })
}

// showTUI drives the run from the terminal UI; logs go to the session.
func showTUI(r *live.Run, overlays []tui.Overlay, w io.Writer) error {
	sess := r.Session()
	return r.Screen(w, func(view engine.Trainer) error {
		model := tui.New(view, tui.Options{SessionPath: sess.Dir, By: "local", Export: tuiExporter(sess), Overlays: overlays})
		_, err := tea.NewProgram(model, tea.WithAltScreen()).Run()
		return err
	})
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
