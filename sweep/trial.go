package sweep

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/sessions"
)

// What a task finds in its trial's session folder.
const (
	TrialNew       = "new"       // no session yet: start one
	TrialResumable = "resumable" // started, not ended: resume from its latest good checkpoint
	TrialFinished  = "finished"  // nothing to do
	TrialFailed    = "failed"    // the engine reported an error; rerunning would repeat it
)

// TrialState reads the state of trial t's session. For a failed trial,
// detail is the engine's message.
func (sw *Sweep) TrialState(t Trial) (state, detail string, err error) {
	dir := filepath.Join(sw.TrialsRoot(), t.ID())
	if _, err := os.Stat(filepath.Join(dir, sessions.ManifestFile)); errors.Is(err, os.ErrNotExist) {
		return TrialNew, "", nil
	}
	events, _, err := sessions.ReadEvents(dir)
	if err != nil {
		return "", "", fmt.Errorf("trial %d: %w", t.Index, err)
	}
	// Only the events of the last attempt (after its start) say how it ended.
	for i := len(events) - 1; i >= 0 && events[i].Kind != engine.KindStart; i-- {
		switch ev := events[i]; {
		case ev.Kind == engine.KindFailed:
			return TrialFailed, ev.Message, nil
		case ev.Kind == engine.KindDone && strings.HasPrefix(ev.Message, "finished"):
			return TrialFinished, "", nil
		}
	}
	return TrialResumable, "", nil
}

// SetAside moves the session of a trial that has no checkpoint to resume
// from (killed while it loaded data) out of the way, under a hidden name
// that session listings skip, so the trial can start afresh and nothing
// is deleted.
func (sw *Sweep) SetAside(t Trial) (string, error) {
	from := filepath.Join(sw.TrialsRoot(), t.ID())
	to := filepath.Join(sw.TrialsRoot(), fmt.Sprintf(".%s.no-checkpoint-%s", t.ID(), time.Now().UTC().Format("20060102-150405.000")))
	if err := os.Rename(from, to); err != nil {
		return "", fmt.Errorf("trial %d: set aside its session without a checkpoint: %w", t.Index, err)
	}
	return to, nil
}

// TrialEvents reads the event log of the trial whose session is id, while
// it may still be written: a live log's torn last line is the one being
// written, so its warning says nothing here, and the next read has it whole.
func (sw *Sweep) TrialEvents(id string) ([]engine.Event, error) {
	events, _, err := sessions.ReadEvents(filepath.Join(sw.TrialsRoot(), id))
	return events, err
}
