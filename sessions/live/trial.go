package live

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/sessions"
	"github.com/ccface/ccface/sweep"
)

// RunTrial is `train --headless --sweep DIR`: one trial (see OpenTrial),
// headless, with Katib metric lines. Slurm sends USR1
// (--signal=B:USR1@N) before the time limit: the trial then stops with a
// checkpoint and requeues its own task, whose next attempt resumes it.
// SIGTERM (the limit itself, scancel, a Kubernetes eviction) stops with a
// checkpoint and exits, as in any headless run.
func RunTrial(dir, indexFlag string, getenv func(string) string, w io.Writer) error {
	// Caught from the start: USR1's default action would kill the task
	// while it loads data, before there is a run to checkpoint.
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	stop := stopOnSignal(w) // SIGTERM while the trial loads data still stops it cleanly
	defer stop.release()
	r, err := OpenTrial(dir, indexFlag, getenv, w)
	if err != nil || r == nil {
		return err
	}
	var requeue atomic.Bool
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-usr1:
			requeue.Store(true)
			fmt.Fprintln(w, "USR1: the time limit is near; checkpointing, then requeueing this task")
			r.Stop("USR1 before the time limit")
		case <-ctx.Done():
		}
	}()
	if err := driveHeadless(r, stop, true, w); err != nil || !requeue.Load() {
		return err
	}
	return RequeueSlurmTask(getenv, w)
}

// OpenTrial opens the run of one trial of the sweep in dir, its index
// from indexFlag, else SLURM_ARRAY_TASK_ID, else JOB_COMPLETION_INDEX
// (read through getenv). The trial's session sits at a fixed path in the
// sweep folder: an earlier attempt's checkpoint is resumed, and a finished
// trial returns a nil Run (nothing to do).
func OpenTrial(dir, indexFlag string, getenv func(string) string, w io.Writer) (*Run, error) {
	sw, err := sweep.Load(dir)
	if err != nil {
		return nil, err
	}
	index, source, err := sweep.ResolveIndex(indexFlag, getenv)
	if err != nil {
		return nil, err
	}
	t, err := sw.Trial(index)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "sweep %s: trial %d of %d (index from %s): %s\n", sw.Name, t.Index, len(sw.Trials), source, t.Name())
	state, detail, err := sw.TrialState(t)
	if err != nil {
		return nil, err
	}
	switch state {
	case sweep.TrialFinished:
		fmt.Fprintf(w, "trial %d already finished: %s\n", t.Index, filepath.Join(sw.TrialsRoot(), t.ID()))
		return nil, nil
	case sweep.TrialFailed:
		return nil, fmt.Errorf("trial %d failed earlier (%s): see %s; remove that folder to run it again",
			t.Index, detail, filepath.Join(sw.TrialsRoot(), t.ID(), sessions.EventsFile))
	case sweep.TrialResumable:
		sess, err := sessions.Open(sw.TrialsRoot(), t.ID())
		if err != nil {
			return nil, err
		}
		// The lock first: another attempt of this index still running (a
		// duplicate launch) must not have its folder renamed under it.
		unlock, err := sess.Lock()
		if err != nil {
			return nil, fmt.Errorf("trial %d: %w", t.Index, err)
		}
		cps, err := sess.Checkpoints()
		if uerr := unlock(); uerr != nil {
			return nil, uerr
		}
		if err == nil && len(cps) == 0 {
			aside, err := sw.SetAside(t)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(w, "trial %d had no checkpoint to resume from; its folder is kept at %s and it starts afresh\n", t.Index, aside)
			return startTrial(sw, t, w)
		}
		return Open(Spec{Root: sw.TrialsRoot(), Log: w, Resume: t.ID()})
	}
	return startTrial(sw, t, w)
}

// startTrial starts trial t in its fixed session folder, from the sweep's
// teacher when it names one.
func startTrial(sw *sweep.Sweep, t sweep.Trial, w io.Writer) (*Run, error) {
	cfg, err := sw.Config(t)
	if err != nil {
		return nil, err
	}
	var teacherBlob []byte
	if dir := sw.TeacherDir(); dir != "" {
		teacher, err := sessions.Open("", dir)
		if err != nil {
			return nil, fmt.Errorf("the sweep's teacher: %w", err)
		}
		if _, teacherBlob, _, err = teacher.LatestGoodCheckpoint(-1); err != nil {
			return nil, fmt.Errorf("the sweep's teacher %s: %w", dir, err)
		}
	}
	r, err := Open(Spec{Root: sw.TrialsRoot(), Log: w, Config: cfg, ID: t.ID(),
		Name: sw.Name + " " + t.Name(), Teacher: teacherBlob})
	if err != nil {
		return nil, err
	}
	// A first checkpoint at once, so a task killed from here on resumes
	// instead of starting over.
	if err := r.Trainer().Checkpoint("sweep trial start"); err != nil {
		fmt.Fprintf(w, "warning: %v\n", err)
	}
	return r, nil
}

// RequeueSlurmTask puts this Slurm task back in the queue (its next
// attempt resumes the trial). getenv reads the task's environment; outside
// Slurm there is nothing to requeue: the trial resumes when run again.
func RequeueSlurmTask(getenv func(string) string, w io.Writer) error {
	job := getenv("SLURM_JOB_ID")
	if arr, task := getenv("SLURM_ARRAY_JOB_ID"), getenv("SLURM_ARRAY_TASK_ID"); arr != "" && task != "" {
		job = arr + "_" + task
	}
	if job == "" {
		fmt.Fprintln(w, "not a Slurm job: nothing requeued; run the trial again to resume it")
		return nil
	}
	out, err := exec.Command("scontrol", "requeue", job).CombinedOutput()
	if err != nil {
		return fmt.Errorf("scontrol requeue %s: %w: %s (the checkpoint is saved: resubmit the task to resume)", job, err, strings.TrimSpace(string(out)))
	}
	fmt.Fprintf(w, "requeued Slurm task %s: it resumes from the checkpoint\n", job)
	return nil
}

// KatibLines prints an evaluation as Katib StdOut metric lines: every
// metric, plus lr_rank1 (rank-1 at the smallest LR size, the sweep's usual
// objective). Each line is one write, so no other output splits it.
func KatibLines(w io.Writer, ev engine.Event) {
	metrics := map[string]float64{}
	for k, v := range ev.Values {
		metrics[k] = v
	}
	if v, _, _, ok := sessions.BestLRRank1([]engine.Event{ev}); ok {
		metrics["lr_rank1"] = v
	}
	metrics["step"] = float64(ev.Step)
	for _, line := range sweep.KatibLines(metrics) {
		io.WriteString(w, line+"\n")
	}
}
