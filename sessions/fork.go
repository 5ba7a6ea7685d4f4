package sessions

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ccface/ccface/engine"
)

// Fork starts a new session under root from the parent's newest good
// checkpoint at or before atStep (-1: the newest), with the knob
// assignments sets ("margin=0.3", as for engine.ApplySet) applied to the
// configuration the parent had at that checkpoint (Session.ConfigAt).
//
// Fork takes the assignments rather than a finished Config (as first
// proposed) because the base they apply to is only known once the
// checkpoint is chosen: a damaged checkpoint makes Fork fall back to an
// earlier one, whose knobs may differ.
//
// The child's manifest records the parent and step. Its log starts with the
// parent's timeline up to that step (so curves continue; done and failed
// events are left out), then a KindLog event naming the parent and one
// KindHyper event (By "fork") per knob that differs from the parent's at
// that step, so charts mark the change. The checkpoint is copied into the
// child, so the child resumes on its own even before it writes one. Its
// knobs are in the child's Manifest.Config: the engine must start from the
// returned blob with those knobs, not the ones inside the blob.
//
// name names the child; empty, it is the parent's name (or ID) and "@step".
//
// It returns the unlocked child, the step, the checkpoint blob, and the
// damaged checkpoints passed over (as LatestGoodCheckpoint). On error
// nothing is left under root.
func Fork(root string, parent *Session, atStep int64, sets []string, name string) (child *Session, step int64, blob []byte, skipped []string, err error) {
	step, blob, skipped, err = parent.LatestGoodCheckpoint(atStep)
	if err != nil {
		what := "let the run write one first"
		if steps := checkpointSteps(parent); steps != "" {
			what = "its checkpoints are at steps " + steps
		}
		return nil, 0, nil, skipped, fmt.Errorf("%w: a fork starts from a checkpoint: %s", err, what)
	}
	events, _, err := ReadEvents(parent.Dir)
	if err != nil {
		return nil, 0, nil, skipped, err
	}
	timeline, _ := Timeline(events)
	base := configAt(parent.Manifest.Config, timeline, step)
	cfg := base.Clone()
	if err := engine.ApplySet(&cfg, sets); err != nil {
		return nil, 0, nil, skipped, fmt.Errorf("sessions: fork %s: %w", parent.Manifest.ID, err)
	}

	var copied []engine.Event
	var last engine.Event
	for _, e := range timeline {
		if e.Step > step || e.Kind == engine.KindDone || e.Kind == engine.KindFailed {
			continue
		}
		copied = append(copied, e)
		last = e
	}
	now := time.Now()
	copied = append(copied, engine.Event{Kind: engine.KindLog, Step: step, Epoch: last.Epoch, Phase: last.Phase, Time: now,
		Message: fmt.Sprintf("forked from session %s at step %d", parent.Manifest.ID, step)})
	oldV, newV := engine.Values(&base), engine.Values(&cfg)
	for _, k := range engine.Knobs {
		if !k.Same(oldV[k.Name], newV[k.Name]) {
			copied = append(copied, engine.Event{Kind: engine.KindHyper, Step: step, Epoch: last.Epoch, Phase: last.Phase, Time: now,
				Knob: k.Name, Old: oldV[k.Name], New: newV[k.Name], By: "fork"})
		}
	}
	var log bytes.Buffer
	for i := range copied {
		line, err := marshalEvent(&copied[i])
		if err != nil {
			return nil, 0, nil, skipped, fmt.Errorf("sessions: fork %s: encode event: %w", parent.Manifest.ID, err)
		}
		log.Write(line)
		log.WriteByte('\n')
	}

	if name == "" {
		name = parent.Manifest.Name
		if name == "" {
			name = parent.Manifest.ID
		}
		name = fmt.Sprintf("%s@%d", name, step)
	}
	child, err = Create(root, Manifest{
		Name:            name,
		Config:          cfg,
		DataFingerprint: parent.Manifest.DataFingerprint,
		Method:          cfg.Method,
		Parent:          &ParentRef{ID: parent.Manifest.ID, Step: step},
	})
	if err != nil {
		return nil, 0, nil, skipped, err
	}
	fail := func(err error) (*Session, int64, []byte, []string, error) {
		os.RemoveAll(child.Dir)
		return nil, 0, nil, skipped, err
	}
	if err := WriteFileAtomic(filepath.Join(child.Dir, EventsFile), log.Bytes(), 0o644); err != nil {
		return fail(err)
	}
	if _, err := writeCheckpoint(child.Dir, step, blob); err != nil {
		return fail(err)
	}
	return child, step, blob, skipped, nil
}

// checkpointSteps lists the steps of a session's checkpoints ("4, 8, 12"),
// for an error that asks for one of them.
func checkpointSteps(s *Session) string {
	var steps []string
	for _, step := range s.CheckpointSteps() {
		steps = append(steps, strconv.FormatInt(step, 10))
	}
	return strings.Join(steps, ", ")
}

// CheckFork checks a fork of session id under root the way Fork will
// make it, before it is made (the picker asks before it closes): a
// checkpoint at or before at, and sets valid on the config the session had
// at that checkpoint. It reads the session's log.
func CheckFork(root, id string, at int64, sets []string) error {
	sess, err := Open(root, id)
	if err != nil {
		return err
	}
	cps, err := sess.Checkpoints()
	if err != nil {
		return err
	}
	step := int64(-1)
	for _, c := range cps {
		if at < 0 || c.Step <= at {
			step = c.Step
		}
	}
	if step < 0 {
		if at < 0 {
			return fmt.Errorf("%s has no checkpoint to fork from", id)
		}
		return fmt.Errorf("%s has no checkpoint at or before step %d", id, at)
	}
	cfg, err := sess.ConfigAt(step)
	if err != nil {
		return err
	}
	return engine.ApplySet(&cfg, sets)
}
