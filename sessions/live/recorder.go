package live

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/sessions"
)

// syncTimeout bounds how long a checkpoint waits for the event log.
const syncTimeout = 10 * time.Second

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
