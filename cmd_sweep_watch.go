package main

import (
	"fmt"
	"io"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/ccface/ccface/sweep"
	"github.com/ccface/ccface/tui"
)

// cmdSweepWatch is `ccface sweep watch DIR`: the TUI on a sweep. It is its
// own verb rather than `sweep status --tui` because status prints text for
// scripts and logs (once, or redrawn with --watch), while watch is an
// interactive program with keys, like `pick`, and never ends by itself.
func cmdSweepWatch(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sweep watch", stderr)
	every := fs.Duration("every", tui.DefaultSweepEvery, "poll the trials' session folders (and squeue) this often")
	dir, err := oneArg(fs, args, "sweep watch wants one sweep folder (made by `ccface sweep plan`)")
	if err != nil {
		return err
	}
	if *every < 100*time.Millisecond {
		return fmt.Errorf("--every %s: want at least 100ms", *every)
	}
	sw, err := sweep.Load(dir)
	if err != nil {
		return err
	}
	_, err = tea.NewProgram(tui.NewSweep(sweepViewOptions(sw, *every)), tea.WithAltScreen()).Run()
	return err
}

// sweepViewOptions wires the sweep view to the sweep folder: the TUI reads
// nothing itself (it imports neither sweep nor sessions).
func sweepViewOptions(sw *sweep.Sweep, every time.Duration) tui.SweepOptions {
	return tui.SweepOptions{
		Name:  sw.Name,
		Dir:   sw.Dir,
		Every: every,
		Poll: func() ([]tui.SweepRow, []string, error) {
			list, warnings, err := sw.Status(sw.SlurmQueue())
			if err != nil {
				return nil, warnings, err
			}
			return sweepRows(list), warnings, nil
		},
		Events: sw.TrialEvents,
	}
}

// sweepRows turns a sweep's status into the view's plain rows.
func sweepRows(list []sweep.TrialStatus) []tui.SweepRow {
	rows := make([]tui.SweepRow, len(list))
	for i, s := range list {
		set := make([]tui.SweepSetting, len(s.Trial.Settings))
		for j, kv := range s.Trial.Settings {
			set[j] = tui.SweepSetting{Knob: kv.Knob, Value: kv.Value}
		}
		rows[i] = tui.SweepRow{Index: s.Trial.Index, ID: s.Trial.ID(), Settings: set, State: s.State, Phase: s.Phase,
			Step: s.Step, Total: s.Total, BestLR: s.BestLRRank1, BestLRPx: s.BestLRSize, Slurm: s.Scheduler}
	}
	return rows
}
