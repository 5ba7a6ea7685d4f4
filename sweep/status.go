package sweep

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ccface/ccface/sessions"
)

// Trial states in a sweep's status.
const (
	StateQueued      = "queued"      // not started, or waiting in the scheduler's queue to resume
	StateRunning     = "running"     // a process trains it now
	StateFinished    = "finished"    // trained to the end
	StateFailed      = "failed"      // the engine reported an error
	StateInterrupted = "interrupted" // stopped or killed, not queued: run it again to resume
)

// TrialStatus is one row of `ccface sweep status`.
type TrialStatus struct {
	Trial       Trial
	State       string
	Phase       string
	Step        int64
	Total       int64   // steps of the whole trial; 0 before it starts
	BestLRRank1 float64 // -1 when not evaluated yet
	BestLRSize  int
	Scheduler   string // the task's squeue state, "" when unknown
}

// Status reads each trial's session folder (no lock taken, so it works
// while trials run, on any machine that sees the folder). queue maps trial
// indices to squeue states; nil when there is no Slurm.
func (sw *Sweep) Status(queue map[int]string) ([]TrialStatus, []string, error) {
	sums, warnings, err := sessions.List(sw.TrialsRoot())
	if err != nil {
		return nil, warnings, err
	}
	byID := map[string]sessions.Summary{}
	for _, s := range sums {
		byID[s.ID] = s
	}
	out := make([]TrialStatus, len(sw.Trials))
	for i, t := range sw.Trials {
		st := TrialStatus{Trial: t, State: StateQueued, BestLRRank1: -1, Scheduler: queue[i]}
		inQueue := st.Scheduler == "PENDING" || st.Scheduler == "REQUEUED" || st.Scheduler == "REQUEUE_HOLD"
		runningInQueue := st.Scheduler == "RUNNING" || st.Scheduler == "CONFIGURING" || st.Scheduler == "COMPLETING"
		if s, ok := byID[t.ID()]; ok {
			st.Phase, st.Step, st.Total, st.BestLRRank1, st.BestLRSize = s.Phase, s.Step, s.TotalSteps, s.BestLRRank1, s.BestLRSize
			switch s.State {
			case sessions.StateRunning:
				st.State = StateRunning
			case sessions.StateFinished:
				st.State = StateFinished
			case sessions.StateFailed:
				st.State = StateFailed
			default: // stopped or crashed: resumes when its task runs again
				switch {
				case inQueue:
					st.State = StateQueued
				case runningInQueue:
					st.State = StateRunning
				default:
					st.State = StateInterrupted
				}
			}
		} else if runningInQueue {
			st.State = StateRunning // starting: loading data before its session exists
		}
		out[i] = st
	}
	return out, warnings, nil
}

// ParseSqueue maps trial indices to task states from the output of
// `squeue -h -r -o "%i %T"` over the sweep's jobs: "1234_5 RUNNING" is task
// 5 of array 1234, trial 5 plus that array's offset.
func ParseSqueue(out string, jobs []SlurmJob) map[int]string {
	offsets := map[string]int{}
	for _, j := range jobs {
		offsets[j.ID] = j.Offset
	}
	states := map[int]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		job, task, ok := strings.Cut(f[0], "_")
		off, known := offsets[job]
		n, err := strconv.Atoi(task)
		if !ok || !known || err != nil {
			continue // not a task of this sweep
		}
		states[off+n] = f[1]
	}
	return states
}

// FormatStatus renders the trials as a table, then a line of counts and
// the best trial so far.
func FormatStatus(list []TrialStatus) string {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INDEX\tTRIAL\tSTATE\tPHASE\tSTEP\tBEST LR R1\tSLURM\tSETTINGS")
	counts := map[string]int{}
	best := -1
	for i, s := range list {
		counts[s.State]++
		r1 := "-"
		if s.BestLRRank1 >= 0 {
			r1 = fmt.Sprintf("%.1f%% @%dpx", 100*s.BestLRRank1, s.BestLRSize)
			if best < 0 || s.BestLRRank1 > list[best].BestLRRank1 {
				best = i
			}
		}
		step := "-"
		if s.State != StateQueued || s.Step > 0 {
			step = strconv.FormatInt(s.Step, 10)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Trial.Index, s.Trial.ID(), s.State, dash(s.Phase), step, r1,
			dash(s.Scheduler), s.Trial.Name())
	}
	tw.Flush()
	fmt.Fprintf(&b, "%d trials: %d queued, %d running, %d finished, %d failed, %d interrupted\n", len(list),
		counts[StateQueued], counts[StateRunning], counts[StateFinished], counts[StateFailed], counts[StateInterrupted])
	if best >= 0 {
		s := list[best]
		fmt.Fprintf(&b, "best so far: trial %d (%s), LR rank-1 %.1f%% at %d px\n", s.Trial.Index, s.Trial.Name(), 100*s.BestLRRank1, s.BestLRSize)
	}
	return b.String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// PrintStatus prints the sweep's status table (with squeue's view of its
// tasks) on w and its warnings on warn; with every > 0 it redraws the
// screen that often until every trial has ended.
func (sw *Sweep) PrintStatus(w, warn io.Writer, every time.Duration) error {
	for {
		list, warnings, err := sw.Status(sw.SlurmQueue())
		if err != nil {
			return err
		}
		for _, s := range warnings {
			fmt.Fprintf(warn, "warning: %s\n", s)
		}
		if every > 0 {
			fmt.Fprintf(w, "\x1b[H\x1b[2J%s  (every %s, Ctrl-C to leave)\n", time.Now().Format(time.TimeOnly), every)
		}
		fmt.Fprint(w, FormatStatus(list))
		if every == 0 || AllEnded(list) {
			return nil
		}
		time.Sleep(every)
	}
}

// AllEnded reports whether every trial has finished or failed.
func AllEnded(list []TrialStatus) bool {
	for _, s := range list {
		if s.State != StateFinished && s.State != StateFailed {
			return false
		}
	}
	return true
}
