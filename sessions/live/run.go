package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/engine/train"
	"github.com/ccface/ccface/sessions"
)

// Run is a training engine bound to its session: its events are recorded
// in the session's log and its checkpoints saved there.
type Run struct {
	eng    *train.Engine
	hub    *engine.Hub
	sess   *sessions.Session
	rec    *recorder
	unlock func() error
	cancel context.CancelFunc
	prior  []engine.Event // the recorded history a resumed or forked run continues

	bestCkpt string // path of the checkpoint of the best LR rank-1 (engine goroutine only)
}

// Hub is where front ends subscribe to the run's events and steer it.
func (r *Run) Hub() *engine.Hub { return r.hub }

// Session is the run's session on disk.
func (r *Run) Session() *sessions.Session { return r.sess }

// Trainer is the engine itself, for a front end that steers it directly.
func (r *Run) Trainer() engine.Trainer { return r.eng }

// Stop asks the run to end at the next step boundary (final checkpoint,
// then KindDone); by names who asked.
func (r *Run) Stop(by string) { r.eng.Stop(by) }

// Prior is the recorded history the run continues (nothing for a new
// run): screens replay it; progress printers only take its evaluations.
func (r *Run) Prior() []engine.Event { return r.prior }

func (r *Run) start(eng *train.Engine, prior ...engine.Event) {
	r.eng, r.prior = eng, prior
	r.hub = engine.NewHub(eng, prior...)
	r.rec = newRecorder(r.sess, r.hub)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	eng.Start(ctx)
}

// save is the engine's checkpoint hook. It first waits until the recorder
// has written every event up to the checkpoint's step, so a kill right
// after the checkpoint loses no recorded metric of the steps it covers.
func (r *Run) save(step int64, blob []byte) (string, error) {
	if err := r.rec.syncTo(step, syncTimeout); err != nil {
		return "", err
	}
	path, err := r.sess.WriteCheckpoint(step, blob)
	if err != nil {
		return "", err
	}
	// The checkpoint written at the step of the best evaluation so far is
	// the best one: phase-end evaluations are followed by a checkpoint.
	if _, _, bestStep, ok := r.rec.best(); ok && bestStep == step {
		r.bestCkpt = path
	}
	keep := r.eng.Config().Hyper.Checkpoint.Keep
	if err := r.sess.Prune(keep, map[string]bool{r.bestCkpt: r.bestCkpt != ""}); err != nil {
		return path, fmt.Errorf("checkpoint written, but pruning old ones failed: %w", err)
	}
	return path, nil
}

// Finish waits for the recorder to write the run's last event and releases
// the session. Call it once the run has ended (its event stream closed).
func (r *Run) Finish() error {
	err := r.rec.wait()
	r.cancel()
	if uerr := r.unlock(); uerr != nil && err == nil {
		err = uerr
	}
	return err
}

// Drive shows the run with front until front returns, then finishes it.
// The front end's error comes first.
func (r *Run) Drive(front func(*Run) error) error {
	err := front(r)
	if ferr := r.Finish(); ferr != nil && err == nil {
		err = ferr
	}
	return err
}

// Watch hands every event this run emits (not the history it continues:
// see Prior) to see, in order, until the run ends, and returns the message
// of a KindFailed event as an error.
func (r *Run) Watch(see func(engine.Event)) error {
	view, cancel := r.hub.SubscribeRun()
	defer cancel()
	var failed error
	for batch := range view.Events() {
		for _, ev := range batch {
			if see != nil {
				see(ev)
			}
			if ev.Kind == engine.KindFailed {
				failed = errors.New(ev.Message)
			}
		}
	}
	return failed
}

// Screen runs show, a front end on a subscription of its own (the TUI),
// then stops the run ("quit", or "tui error" when show failed), waits for
// its final checkpoint and says on w where the session is and, unless the
// run finished, how to continue it.
func (r *Run) Screen(w io.Writer, show func(view engine.Trainer) error) error {
	view, cancel := r.hub.Subscribe()
	defer cancel()
	if err := show(view); err != nil {
		r.Stop("tui error")
		return err
	}
	r.Stop("quit")
	var end engine.Event
	for batch := range view.Events() { // wait for the engine's final checkpoint and done event
		for _, ev := range batch {
			if ev.Kind == engine.KindDone || ev.Kind == engine.KindFailed {
				end = ev
			}
		}
	}
	fmt.Fprintf(w, "session: %s\n", r.sess.Dir)
	if !(end.Kind == engine.KindDone && strings.HasPrefix(end.Message, "finished")) {
		fmt.Fprintf(w, "continue it with: %s\n", resumeCommand(r.sess))
	}
	return nil
}

// resumeCommand is the command line that continues sess.
func resumeCommand(sess *sessions.Session) string {
	cmd := "ccface resume " + sess.Manifest.ID
	root := filepath.Dir(sess.Dir)
	if def, err := sessions.DefaultRoot(); err != nil || filepath.Clean(def) != root {
		cmd += " --sessions " + root
	}
	return cmd
}
