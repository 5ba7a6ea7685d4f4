package sessions

import (
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ccface/ccface/engine"
)

// TestCrashSafety SIGKILLs a writer that appends events and writes
// checkpoints in a loop, at random moments, and checks after each kill that
// the session opens, its log reads (at most a torn last line), the newest
// checkpoint is good, and the resumed timeline has every step exactly once.
func TestCrashSafety(t *testing.T) {
	root, s := newSession(t, "crash")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	rounds := 8
	if testing.Short() {
		rounds = 3
	}
	lastCkpt := int64(0)
	for round := 0; round < rounds; round++ {
		cmd, line, _ := helper(t, "crashloop", s.Dir)
		if line != "locked\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: helper said %q", round, line)
		}
		wait := time.Duration(20+rng.IntN(380)) * time.Millisecond
		time.Sleep(wait)
		if err := cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		err := cmd.Wait()
		if cmd.ProcessState.Exited() { // it stopped on its own: a failure
			t.Fatalf("round %d: helper exited early: %v", round, err)
		}

		o, err := Open(root, s.Manifest.ID)
		if err != nil {
			t.Fatalf("round %d: open: %v", round, err)
		}
		evs, warns, err := ReadEvents(o.Dir)
		if err != nil || len(warns) > 1 {
			t.Fatalf("round %d (killed after %v): events: %v %q", round, wait, err, warns)
		}
		step, blob, skipped, err := o.LatestGoodCheckpoint(-1)
		if len(skipped) > 0 {
			t.Fatalf("round %d: a renamed checkpoint was damaged: %q", round, skipped)
		}
		if err != nil {
			if lastCkpt > 0 {
				t.Fatalf("round %d: lost every checkpoint: %v", round, err)
			}
			t.Logf("round %d: killed after %v before the first checkpoint", round, wait)
			continue
		}
		if err := checkBlob(step, blob); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if step < lastCkpt {
			t.Fatalf("round %d: latest checkpoint went back from %d to %d", round, lastCkpt, step)
		}
		lastCkpt = step
		kept, _ := Timeline(evs)
		next := int64(1)
		for _, e := range kept {
			if e.Kind != engine.KindPoint {
				continue
			}
			if e.Step != next {
				t.Fatalf("round %d: timeline has point %d where %d was due", round, e.Step, next)
			}
			next++
		}
		if next-1 < step {
			t.Fatalf("round %d: events end at step %d, before the checkpoint at %d", round, next-1, step)
		}
		entries, _ := os.ReadDir(o.Dir)
		tmps, ckpts := 0, 0
		for _, e := range entries {
			switch {
			case isTemp(e.Name()):
				tmps++
			case strings.HasPrefix(e.Name(), "ckpt-"):
				ckpts++
			}
		}
		t.Logf("round %d: killed after %v at ~step %d; checkpoint %d; %d checkpoints, %d temp files, warnings %d",
			round, wait, next-1, step, ckpts, tmps, len(warns))
	}
	if lastCkpt == 0 {
		t.Fatal("no checkpoint was ever written")
	}
}
