package live

import (
	"errors"
	"fmt"
	"io"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/engine/train"
	"github.com/ccface/ccface/sessions"
)

// Latest as Spec.ForkAt forks at a session's newest checkpoint.
const Latest = -1

// Spec says where a run starts. It is a new session (Config, Name, and
// Teacher for a student trained from a teacher of another session) unless
// Resume or Fork names an existing one.
type Spec struct {
	Root string    // the sessions directory
	Log  io.Writer // loading messages and warnings; nil discards them

	// A new session. ID, when set, is its fixed folder name under Root (a
	// sweep trial's, so a restarted task finds it); otherwise a fresh one.
	Config engine.Config
	Name   string
	ID     string
	// Teacher, when set, is a checkpoint blob of a finished teacher phase:
	// the new run starts at its student phase.
	Teacher []byte
	// Provenance goes into the new session's manifest (see
	// sessions.Manifest.Provenance).
	Provenance map[string]string

	// Resume names a session to continue from its latest good checkpoint,
	// with the knobs it had.
	Resume string

	// Fork names a session to start a new one from, at its newest
	// checkpoint at or before ForkAt (Latest: the newest), with the knob
	// assignments ForkSets applied. Name, when set, names the new one.
	Fork     string
	ForkAt   int64
	ForkSets []string
}

// Open starts the run spec describes. Everything that can be checked is
// checked before a new session is created, so bad input leaves nothing
// behind.
func Open(spec Spec) (*Run, error) {
	if spec.Log == nil {
		spec.Log = io.Discard
	}
	switch {
	case spec.Resume != "" && spec.Fork != "":
		return nil, errors.New("a run either resumes or forks a session, not both")
	case spec.Resume != "":
		return openResume(spec)
	case spec.Fork != "":
		return openFork(spec)
	}
	return openNew(spec)
}

// openNew creates a session for spec.Config and starts training in it.
func openNew(spec Spec) (*Run, error) {
	cfg, w := spec.Config, spec.Log
	if cfg.Model.Teacher != "" {
		// The model decides the input side and embedding size, and its hash
		// is recorded with the session.
		if err := train.ResolveTeacher(&cfg); err != nil {
			return nil, err
		}
		fmt.Fprintf(w, "teacher %s: %d px, %d-d embeddings, sha256 %.12s…\n", cfg.Model.Teacher, cfg.Data.HR, cfg.Model.Embed, cfg.Model.TeacherSHA256)
	}
	fmt.Fprintf(w, "loading %s faces at %d px...\n", cfg.Data.Source, cfg.Data.HR)
	data, err := LoadData(cfg, w)
	if err != nil {
		return nil, err
	}
	r := &Run{}
	eng, err := train.New(cfg, data, train.Options{Save: r.save})
	if err == nil && spec.Teacher != nil {
		err = eng.StartFromTeacher(spec.Teacher)
	}
	if err != nil {
		return nil, err
	}
	if r.sess, r.unlock, err = createLocked(spec.Root, sessions.Manifest{ID: spec.ID, Name: spec.Name, Config: cfg,
		DataFingerprint: dataFingerprint(data), Provenance: spec.Provenance}); err != nil {
		return nil, err
	}
	r.start(eng)
	return r, nil
}

// openResume reopens a session at its latest good checkpoint and continues
// training with the knobs it had.
func openResume(spec Spec) (*Run, error) {
	w := spec.Log
	sess, err := sessions.Open(spec.Root, spec.Resume)
	if err != nil {
		return nil, err
	}
	unlock, err := sess.Lock()
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Run, error) {
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
	data, err := LoadData(cfg, w)
	if err != nil {
		return fail(err)
	}
	if fp := dataFingerprint(data); sess.Manifest.DataFingerprint != "" && fp != sess.Manifest.DataFingerprint {
		return fail(fmt.Errorf("%s: the data at %s has changed since the session started (fingerprint %s, now %s): resuming would not continue the same run",
			sess.Dir, cfg.Data.Source, sess.Manifest.DataFingerprint, fp))
	}
	r := &Run{sess: sess, unlock: unlock}
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

// openFork starts a new session from a parent's checkpoint.
func openFork(spec Spec) (*Run, error) {
	w := spec.Log
	parent, err := sessions.Open(spec.Root, spec.Fork)
	if err != nil {
		return nil, err
	}
	child, step, blob, skipped, err := sessions.Fork(spec.Root, parent, spec.ForkAt, spec.ForkSets, spec.Name)
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
	data, err := LoadData(cfg, w)
	if err == nil && child.Manifest.DataFingerprint != "" && dataFingerprint(data) != child.Manifest.DataFingerprint {
		err = fmt.Errorf("the data at %s has changed since %s started: a fork would not continue the same run", cfg.Data.Source, parent.Manifest.ID)
	}
	r := &Run{sess: child, unlock: unlock}
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

// LoadData loads the sets of cfg and reports skipped files on w.
func LoadData(cfg engine.Config, w io.Writer) (train.Data, error) {
	data, err := train.LoadDataWith(cfg, w)
	if err != nil {
		return data, err
	}
	if len(data.Warnings) > 0 {
		fmt.Fprintf(w, "warning: %d unreadable files skipped:\n", len(data.Warnings))
		for i, s := range data.Warnings {
			if i == 10 {
				fmt.Fprintf(w, "  ... and %d more\n", len(data.Warnings)-10)
				break
			}
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
	return data, nil
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
