// Package plots turns recorded runs into publication figures and the exact
// numbers behind them.
//
// It owns the figure catalogue (one table, catalogue in figures.go: each
// figure's name, title, what it reads and its builder; FigureNames lists
// it), the way each figure is read out of a run's []engine.Event, the look
// of the figures (gonum/plot, the Okabe-Ito colour-blind-safe palette,
// sizes readable at one paper column) and the files an export writes: <figure>.<png|svg|pdf>, <figure>.csv with
// exactly the plotted points and, for figures over training time,
// <figure>.raw.csv with every unsmoothed point; Result says what an
// export wrote, skipped and warned of (WriteReport).
//
// It takes plain data and never a live model: callers (the `ccface export`
// command, the TUI's export key, tests) read events from a session and pass
// copies in. Export does blocking file I/O, so a UI must call it from a
// background command, never from its update loop. Export is safe for
// concurrent use: the package holds no mutable state.
//
// # Reading events
//
// Event logs are append-only, so a run that was resumed from a checkpoint
// records the steps after that checkpoint twice. Which records survive is
// engine.Timeline's rule, the same one the session store and the TUI use:
// a start event at step S supersedes what was logged before it after S.
// The engine counts epochs per phase; an epoch (or step) that goes back at
// a change of phase is read as such a counter and the new phase is drawn
// after the old one, so the x axis always runs forward.
//
// # Smoothing and decimation
//
// Smoothing is engine.SmoothSegments, the TensorBoard exponential moving
// average with its start-up debiasing, restarted at each phase change; the
// TUI's charts use the same function, so `x` exports the curve on screen.
// Evaluations, ROC/CMC curves and histograms are never smoothed.
//
// Long runs have about 100k points per series, far more than a figure has
// pixels. A series longer than 4000 points is cut down to the first, last,
// lowest and highest point of each of 1000 equal slices of the x range (the
// M4 scheme), which keeps spikes visible and looks the same as the full line. The CSV holds those same points
// and says so in its header; the .raw.csv keeps everything.
//
// # Text in PDFs
//
// gonum's PDF backend writes a label's UTF-8 bytes as single-byte text, so
// labels are written with ASCII stand-ins ("->", "theta", "+/-") in PDFs
// only.
package plots
