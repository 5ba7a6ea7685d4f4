package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: %w", fs.Arg(0), errUsage)
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	root := f.sessions
	if root == "" {
		if root, err = sessions.DefaultRoot(); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "loading %s faces at %d px...\n", cfg.Data.Source, cfg.Data.HR)
	trainSet, evalSet, err := loadData(cfg, stdout)
	if err != nil {
		return err
	}
	sess, err := sessions.Create(root, sessions.Manifest{Name: f.name, Config: cfg, DataFingerprint: trainSet.Fingerprint() + "+" + evalSet.Fingerprint()})
	if err != nil {
		return err
	}
	unlock, err := sess.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	eng, err := train.New(cfg, trainSet, evalSet, train.Options{Save: sess.WriteCheckpoint})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hub := engine.NewHub(eng)
	recorded := record(sess, hub)
	eng.Start(ctx)
	if *headless {
		err = runHeadless(eng, hub, sess.Dir, stdout)
	} else {
		err = runTUI(eng, hub, sess)
	}
	if rerr := <-recorded; rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// record appends every event to the session's log until the run ends.
func record(sess *sessions.Session, hub *engine.Hub) <-chan error {
	done := make(chan error, 1)
	sub, _ := hub.Subscribe()
	go func() {
		var first error
		for batch := range sub.Events() {
			if err := sess.Append(batch...); err != nil && first == nil {
				first = fmt.Errorf("recording events in %s: %w", sess.Dir, err)
			}
			if err := sess.Flush(); err != nil && first == nil {
				first = err
			}
		}
		if err := sess.Close(); err != nil && first == nil {
			first = err
		}
		done <- first
	}()
	return done
}

// runTUI drives the run from the terminal UI; logs go to the session.
func runTUI(eng *train.Engine, hub *engine.Hub, sess *sessions.Session) error {
	view, cancel := hub.Subscribe()
	defer cancel()
	model := tui.New(view, tui.Options{SessionPath: sess.Dir, By: "local"})
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
func runHeadless(eng *train.Engine, hub *engine.Hub, dir string, w io.Writer) error {
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
			if ev.Kind == engine.KindFailed {
				failed = errors.New(ev.Message)
			}
		}
	}
	p.summary()
	fmt.Fprintf(w, "session: %s\n", dir)
	return failed
}
