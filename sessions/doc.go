// Package sessions is ccface's on-disk session store: the only memory a run
// has once its process is gone. It owns the layout of a session directory and
// every byte written into it:
//
//	<root>/<ID>/
//	    manifest.json    versioned Manifest: config, data fingerprint, method,
//	                     parent (when forked), code version
//	    events.jsonl     append-only log of engine.Event, one JSON object a line
//	    ckpt-<step>.ccf  checkpoints: a 64-byte header (magic, version, step,
//	                     length, SHA-256) followed by the engine's opaque blob
//	    lock             flock(2) target; holds the owner's pid, host and start
//	    ccface.log       the run's text log (the TUI owns stdout)
//	    serve.log        the SSH server's log, when the run was served
//	    plots/           exported figures
//
// IDs look like 20261127-101502-a3f9: the UTC creation time, so IDs sort by
// age on any machine, and 4 random hex digits. Commands accept any unique
// prefix of an ID.
//
// It also reads sessions for the views that show them: RunLabels and Title
// (what names a run in a figure or overlay), ReadRecorded (the timelines
// the TUI draws under a live run), ReadLogs (the logs a figure overlays)
// and CheckFork (a fork checked before the picker closes).
//
// It takes plain data (configs, events, byte blobs) and never a live model:
// it imports only the engine contract package.
//
// # Durability
//
// Whole files (manifest, checkpoints, exports through WriteFileAtomic) are
// written to a temporary file in the same directory, fsynced, renamed over
// the target and the directory fsynced, so a reader sees the old file or the
// new one, never a mix. A crash mid-write leaves only a hidden ".*.tmp-*"
// file, which every reader ignores and the next Lock removes.
//
// The event log is appended through a buffer; Flush and Close write it out
// and fsync. WriteCheckpoint flushes the log before it writes the
// checkpoint, so every event appended before checkpoint S is on disk when S
// is. A kill -9 therefore loses at most the events after the last flush, and
// may leave a torn last line, which ReadEvents reports as a warning and the
// next writer cuts off before it appends. A damaged line anywhere else is an
// error naming file:line.
//
// Non-finite values (a diverged loss is NaN) are kept: they are written as
// the JSON strings "NaN", "+Inf" and "-Inf" and read back as floats.
//
// # Resume
//
// A resumed run appends to the same log, beginning with a KindStart event at
// the step it resumed from. Events logged after that step by the killed run
// are then superseded; Timeline drops them (and hands them back, so the
// engine may re-apply knob changes the crash lost).
//
// # Concurrency
//
// A Session is safe for use by several goroutines. Only one process writes a
// session: Append, WriteCheckpoint, Prune and SaveManifest need the lock
// taken by Lock, and a second process's Lock is refused with an *InUseError
// naming the owner. Readers (Open, ReadEvents, Checkpoints, LoadCheckpoint,
// List) need no lock; they see only complete files, and at worst a torn
// last line when a writer is mid-flush.
package sessions
