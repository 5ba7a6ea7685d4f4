// Package tui is ccface's terminal workbench: one bubbletea root model (New)
// that watches a running engine.Trainer and steers it.
//
// It owns the screen layout (status bar, charts, knob panel, event log,
// help overlay), the key map, the styles and the compact in-memory history of
// the run that the charts are drawn from. It never imports the engine's
// implementation (nor gorgonia): everything goes through the engine.Trainer
// interface, so tests drive it with a scriptable fake and an SSH server can
// serve one model per client.
//
// # Data flow
//
// Events arrive in batches on Trainer.Events(). The model reads exactly one
// batch per tea.Cmd and re-arms the read when Update handles the batch, so
// the engine is never waited on: it only ever sees a channel being drained.
// Update folds a batch into float slices (one track per metric, see store)
// and never does I/O or drawing; charts are rebuilt by View from those
// slices, at most once per frame interval (redrawEvery), and cached between
// frames so key presses that do not touch the charts cost nothing.
//
// Long runs stay bounded: a track that reaches trackCap points averages its
// older half pairwise, so recent steps keep full resolution and old ones get
// coarser. Knob-change markers and lifecycle events are kept in full.
//
// # Knobs
//
// Live knobs (engine.LiveKnobs) are listed in three groups: margin/method,
// aug and train. A change is validated synchronously by Trainer.SetKnob (its
// error is shown inline), then shown as pending until the engine reports the
// KindHyper event for it; that event is marked on every chart at its step and
// logged as "knob old→new @step N by who".
//
// # Shared runs
//
// With Options.Detach (every SSH client, see tui/serve) leaving never stops
// the run: q and ctrl+c detach, and an operator stops the run for everyone
// with S and a y/n confirmation. Options.ReadOnly viewers cannot steer at
// all. A server reaches a client's screen with Notice (tea.Program.Send).
//
// # Overlays and the session picker
//
// Options.Overlays are other sessions' recorded runs (a fork's parent, any
// session the user marked in the picker). They are folded once, in New, by
// the same track code as live events (so a long recording is compacted the
// same way) and never touched by Update. Each chart draws their matching
// series as dashed braille in a muted shade of the series colour, into
// cells the live curves left empty, and names them in its legend; their
// knob and phase markers are not drawn. The o key hides and shows them.
//
// NewPicker is a separate tea.Model run before a session opens: a table of
// sessions (plain rows; tui does not read session directories) to resume,
// fork (with --at and knob settings, checked by PickerOptions.CheckFork in
// a Cmd) or mark for overlay. Its final model's Choice says what was picked.
//
// # The sweep view
//
// NewSweep is a separate tea.Model on a sweep (`ccface sweep watch`): a
// table of trials (plain SweepRows; tui reads no session folder) with the
// best LR rank-1 starred, and the loss and LR rank-1 curves of the trials
// selected with space drawn over one another by the chart code below, the
// first selected solid and the others dashed under it, each in its own
// colour. SweepOptions.Poll (the trials' states) and SweepOptions.Events
// (one trial's log) do the reading, only ever in tea.Cmds: a poll at a
// time, the next armed when its result arrives, and a selected trial read
// again only when a poll shows it moved on. Events are folded into tracks
// in the Cmd too, so Update only swaps them in.
//
// # Charts
//
// Charts use ntcharts' linechart for the canvas, the y axis and its labels,
// and ntcharts' braille grid for the lines. ntcharts v0.4.0 has no way to
// draw a vertical marker line (timeserieslinechart.SetColumnBackgroundStyle
// only recolours a column's background, which vanishes without colour and
// needs time.Time x values), so knob and phase markers are drawn as a dotted
// column onto the chart's canvas here, and the shared x axis under the stack
// of charts is drawn here too so every chart lines up with it.
package tui
