package main

import (
	"fmt"
	"io"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/ccface/ccface/sessions"
	"github.com/ccface/ccface/sessions/live"
	"github.com/ccface/ccface/tui"
)

// cmdPick is `ccface pick` (and `ccface sessions --pick`): choose a session
// in the TUI's session picker, then resume or fork it in the TUI with the
// sessions marked to overlay drawn under its curves.
func cmdPick(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("pick", stderr)
	sessionsDir := fs.String("sessions", "", "sessions directory (default: ccface/sessions in your data directory)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: %w", fs.Arg(0), errUsage)
	}
	root, err := sessionsRoot(*sessionsDir)
	if err != nil {
		return err
	}
	return pickSession(root, stdout, stderr)
}

// pickSession runs the picker over the sessions in root and then the
// chosen resume or fork. Cancelling the picker is not an error.
func pickSession(root string, stdout, stderr io.Writer) error {
	list, warnings, err := sessions.List(root)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		for _, w := range warnings {
			fmt.Fprintf(stderr, "warning: %s\n", w)
		}
		fmt.Fprintf(stdout, "no sessions in %s: start one with `ccface` or `ccface train --headless`\n", root)
		return nil
	}
	picker := tui.NewPicker(pickerRows(root, list), tui.PickerOptions{
		Root:      root,
		Notes:     warnings,
		CheckFork: func(id string, at int64, sets []string) error { return sessions.CheckFork(root, id, at, sets) },
	})
	final, err := tea.NewProgram(picker, tea.WithAltScreen()).Run()
	if err != nil {
		return err
	}
	choice, ok := final.(tui.Picker).Choice()
	if !ok {
		return nil
	}
	overlays := loadOverlays(root, choice.Overlays, stderr)
	spec := live.Spec{Root: root, Log: stdout}
	switch choice.Action {
	case tui.PickResume:
		spec.Resume = choice.ID
	case tui.PickFork:
		spec.Fork, spec.ForkAt, spec.ForkSets = choice.ID, choice.At, choice.Sets
	default:
		return fmt.Errorf("picker: unknown action %q", choice.Action)
	}
	return openAndShow(spec, front{overlays: overlays}, stdout)
}

// pickerRows turns session summaries into the picker's plain rows, with
// each session's checkpoint steps for the fork prompt.
func pickerRows(root string, list []sessions.Summary) []tui.PickerRow {
	rows := make([]tui.PickerRow, len(list))
	for i, s := range list {
		rows[i] = tui.PickerRow{
			ID: s.ID, Name: s.Name, Created: s.Created.Local(), Data: s.Data, Method: s.Method,
			Phase: s.Phase, Step: s.Step, BestLRRank1: s.BestLRRank1, BestLRSize: s.BestLRSize,
			State: s.State, Parent: s.Parent, ParentStep: s.ParentStep,
		}
		if sess, err := sessions.Open(root, s.Dir); err == nil {
			rows[i].Checkpoints = sess.CheckpointSteps() // nil: unknown
		}
	}
	return rows
}

// loadOverlays reads the recorded runs of the sessions ids for the TUI to
// draw under the live curves: each one's timeline (what a resume kept), so
// a killed and resumed run is one curve. A session that cannot be read is
// left out with a warning: an overlay is never worth refusing to train.
func loadOverlays(root string, ids []string, warn io.Writer) []tui.Overlay {
	runs, warnings := sessions.ReadRecorded(root, ids)
	for _, w := range warnings {
		fmt.Fprintf(warn, "warning: overlay %s\n", w)
	}
	var out []tui.Overlay
	for _, r := range runs {
		out = append(out, tui.Overlay{Name: r.Title, Events: r.Events})
	}
	return out
}
