package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/engine/train"
	"github.com/ccface/ccface/sessions"
	"github.com/ccface/ccface/tui"
)

// liveRun is a training engine bound to its session: its events are
// recorded in the session's log and its checkpoints saved there.
type liveRun struct {
	eng    *train.Engine
	hub    *engine.Hub
	sess   *sessions.Session
	rec    *recorder
	unlock func() error
	cancel context.CancelFunc

	bestCkpt string        // path of the checkpoint of the best LR rank-1 (loop goroutine only)
	overlays []tui.Overlay // recorded runs the TUI draws under the live curves (ccface pick)
	katib    bool          // headless: print evaluations as Katib metric lines too
}

// sessionsRoot resolves --sessions or the default.
func sessionsRoot(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	return sessions.DefaultRoot()
}

// startNewRun creates a session for cfg and starts training in it.
func startNewRun(cfg engine.Config, root, name string, w io.Writer) (*liveRun, error) {
	fmt.Fprintf(w, "loading %s faces at %d px...\n", cfg.Data.Source, cfg.Data.HR)
	data, err := loadData(cfg, w)
	if err != nil {
		return nil, err
	}
	// The engine validates everything before the session exists, so bad
	// input leaves nothing behind.
	r := &liveRun{}
	eng, err := train.New(cfg, data, train.Options{Save: r.save})
	if err != nil {
		return nil, err
	}
	if r.sess, r.unlock, err = createLocked(root, sessions.Manifest{Name: name, Config: cfg,
		DataFingerprint: dataFingerprint(data)}); err != nil {
		return nil, err
	}
	r.start(eng)
	return r, nil
}

// startStudentRun creates a session for cfg whose student phase starts
// from a teacher trained elsewhere (a checkpoint blob of that session).
func startStudentRun(cfg engine.Config, root, name string, teacherBlob []byte, w io.Writer) (*liveRun, error) {
	data, err := loadData(cfg, w)
	if err != nil {
		return nil, err
	}
	r := &liveRun{}
	eng, err := train.New(cfg, data, train.Options{Save: r.save})
	if err == nil {
		err = eng.StartFromTeacher(teacherBlob)
	}
	if err != nil {
		return nil, err
	}
	if r.sess, r.unlock, err = createLocked(root, sessions.Manifest{Name: name, Config: cfg,
		DataFingerprint: dataFingerprint(data)}); err != nil {
		return nil, err
	}
	r.start(eng)
	return r, nil
}

// resumeRun reopens a session at its latest good checkpoint (or the one at
// or before atStep) and continues training with the knobs it had.
func resumeRun(root, id string, w io.Writer) (*liveRun, error) {
	sess, err := sessions.Open(root, id)
	if err != nil {
		return nil, err
	}
	unlock, err := sess.Lock()
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*liveRun, error) {
		unlock()
		return nil, err
	}
	step, blob, skipped, err := sess.LatestGoodCheckpoint(-1)
	for _, s := range skipped {
		fmt.Fprintf(w, "warning: damaged checkpoint skipped: %s\n", s)
	}
	if err != nil {
		return fail(fmt.Errorf("%s: nothing to resume from: %w", sess.Dir, err))
	}
	cfg := sess.Manifest.Config
	fmt.Fprintf(w, "loading %s faces at %d px...\n", cfg.Data.Source, cfg.Data.HR)
	data, err := loadData(cfg, w)
	if err != nil {
		return fail(err)
	}
	if fp := dataFingerprint(data); sess.Manifest.DataFingerprint != "" && fp != sess.Manifest.DataFingerprint {
		return fail(fmt.Errorf("%s: the data at %s has changed since the session started (fingerprint %s, now %s): resuming would not continue the same run",
			sess.Dir, cfg.Data.Source, sess.Manifest.DataFingerprint, fp))
	}
	r := &liveRun{sess: sess, unlock: unlock}
	eng, err := train.New(cfg, data, train.Options{Save: r.save})
	if err != nil {
		return fail(err)
	}
	if err := eng.Restore(blob); err != nil {
		return fail(fmt.Errorf("%s: checkpoint at step %d: %w", sess.Dir, step, err))
	}
	fmt.Fprintf(w, "resuming %s from step %d\n", sess.Manifest.ID, step)
	r.start(eng, priorEvents(sess, step)...)
	return r, nil
}

// forkRun starts a new session from a parent's checkpoint at or before
// atStep (-1: the latest) with the knob assignments sets applied.
func forkRun(root, parentID string, atStep int64, sets []string, w io.Writer) (*liveRun, error) {
	parent, err := sessions.Open(root, parentID)
	if err != nil {
		return nil, err
	}
	child, step, blob, skipped, err := sessions.Fork(root, parent, atStep, sets)
	for _, s := range skipped {
		fmt.Fprintf(w, "warning: damaged checkpoint skipped: %s\n", s)
	}
	if err != nil {
		return nil, err
	}
	unlock, err := child.Lock()
	if err != nil {
		return nil, err
	}
	cfg := child.Manifest.Config
	fmt.Fprintf(w, "loading %s faces at %d px...\n", cfg.Data.Source, cfg.Data.HR)
	data, err := loadData(cfg, w)
	if err == nil && child.Manifest.DataFingerprint != "" && dataFingerprint(data) != child.Manifest.DataFingerprint {
		err = fmt.Errorf("the data at %s has changed since %s started: a fork would not continue the same run", cfg.Data.Source, parent.Manifest.ID)
	}
	r := &liveRun{sess: child, unlock: unlock}
	var eng *train.Engine
	if err == nil {
		eng, err = train.New(cfg, data, train.Options{Save: r.save})
	}
	if err == nil {
		err = eng.RestoreWith(blob, cfg)
	}
	if err != nil {
		unlock()
		return nil, fmt.Errorf("fork of %s at step %d (new session %s left for inspection): %w", parent.Manifest.ID, step, child.Dir, err)
	}
	fmt.Fprintf(w, "forked %s at step %d into %s\n", parent.Manifest.ID, step, child.Manifest.ID)
	r.start(eng, priorEvents(child, step)...)
	// Its own first checkpoint holds the changed knobs, so a resume of the
	// child never falls back to the parent's copy.
	if err := eng.Checkpoint("fork"); err != nil {
		fmt.Fprintf(w, "warning: %v\n", err)
	}
	return r, nil
}

// dataFingerprint identifies the training and evaluation data of a run.
func dataFingerprint(d train.Data) string {
	return train.Fingerprint(d.Train) + "+" + d.Eval.Fingerprint()
}

// createLocked creates a session and takes its lock.
func createLocked(root string, m sessions.Manifest) (*sessions.Session, func() error, error) {
	sess, err := sessions.Create(root, m)
	if err != nil {
		return nil, nil, err
	}
	unlock, err := sess.Lock()
	if err != nil {
		return nil, nil, err
	}
	return sess, unlock, nil
}

// priorEvents returns a session's recorded timeline up to step, so the
// screens of a resumed or forked run show its whole history, knob changes
// included. A log that cannot be read only costs the history.
func priorEvents(sess *sessions.Session, step int64) []engine.Event {
	events, _, err := sessions.ReadEvents(sess.Dir)
	if err != nil {
		return nil
	}
	kept, _ := sessions.Timeline(events)
	var out []engine.Event
	for _, ev := range kept {
		if ev.Step <= step && ev.Kind != engine.KindDone && ev.Kind != engine.KindFailed {
			out = append(out, ev)
		}
	}
	return out
}

func (r *liveRun) start(eng *train.Engine, prior ...engine.Event) {
	r.eng = eng
	r.hub = engine.NewHub(eng, prior...)
	r.rec = newRecorder(r.sess, r.hub)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	eng.Start(ctx)
}

// save is the engine's checkpoint hook. It first waits until the recorder
// has written every event up to the checkpoint's step, so a kill right
// after the checkpoint loses no recorded metric of the steps it covers.
func (r *liveRun) save(step int64, blob []byte) (string, error) {
	if err := r.rec.syncTo(step, 10*time.Second); err != nil {
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

// finish waits for the recorder and releases the session.
func (r *liveRun) finish() error {
	err := r.rec.wait()
	r.cancel()
	if uerr := r.unlock(); uerr != nil && err == nil {
		err = uerr
	}
	return err
}

// recorder appends every event to the session's log until the run ends.
type recorder struct {
	sess  *sessions.Session
	mu    sync.Mutex
	cond  *sync.Cond
	seen  int64 // highest step among events appended
	evals []engine.Event
	done  bool
	err   error
	end   chan struct{}
}

func newRecorder(sess *sessions.Session, hub *engine.Hub) *recorder {
	rec := &recorder{sess: sess, seen: -1, end: make(chan struct{})}
	rec.cond = sync.NewCond(&rec.mu)
	sub, _ := hub.SubscribeRun()
	go rec.run(sub)
	return rec
}

func (rec *recorder) run(sub engine.Trainer) {
	defer close(rec.end)
	for batch := range sub.Events() {
		err := rec.sess.Append(batch...)
		if err == nil {
			err = rec.sess.Flush()
		}
		rec.mu.Lock()
		if err != nil && rec.err == nil {
			rec.err = fmt.Errorf("recording events in %s: %w", rec.sess.Dir, err)
		}
		for _, ev := range batch {
			rec.seen = max(rec.seen, ev.Step)
			if ev.Kind == engine.KindEval {
				rec.evals = append(rec.evals, ev)
			}
		}
		rec.cond.Broadcast()
		rec.mu.Unlock()
	}
	err := rec.sess.Close()
	rec.mu.Lock()
	if err != nil && rec.err == nil {
		rec.err = err
	}
	rec.done = true
	rec.cond.Broadcast()
	rec.mu.Unlock()
}

// syncTo waits until an event of step ≥ step is on disk. Events arrive in
// order, so everything before it is too.
func (rec *recorder) syncTo(step int64, timeout time.Duration) error {
	timer := time.AfterFunc(timeout, func() {
		rec.mu.Lock()
		rec.cond.Broadcast()
		rec.mu.Unlock()
	})
	defer timer.Stop()
	deadline := time.Now().Add(timeout)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for rec.seen < step && !rec.done && rec.err == nil {
		if time.Now().After(deadline) {
			return errors.New("event log did not catch up with the checkpoint in time")
		}
		rec.cond.Wait()
	}
	return rec.err
}

// best returns the best LR rank-1 among the evaluations recorded so far.
func (rec *recorder) best() (rank1 float64, px int, step int64, ok bool) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return sessions.BestLRRank1(rec.evals)
}

func (rec *recorder) wait() error {
	<-rec.end
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.err
}
