// Package live is ccface's run lifecycle: the application layer between
// the command line and the engine. It opens a run from a Spec (a new
// session, a resume, a fork, a student from a teacher checkpoint), binds the
// training engine to its session (the recorder appends every event to the
// log; checkpoints wait for it), and finishes the run. Front ends follow
// one loop:
//
//	r, err := live.Open(spec) // validate, load data, create or lock the session, start
//	... show r.Hub() until the run ends; stop it with r.Stop ...
//	err = r.Finish()          // wait for the recorder, release the lock
//
// Drive wraps that loop around a front end given as a function. The loops
// of the front ends are here too, each with its way of being stopped:
// RunHeadless (progress lines; SIGINT/SIGTERM stop the run with a final
// checkpoint, a second signal exits at once: signals.go), Run.Screen (after
// a screen such as the TUI closes: stop, wait for the final checkpoint, say
// how to continue), Run.Serve (a run served over SSH: the server is a small
// interface, so this package imports no UI), Compare (SignalContext stops
// it), and RunTrial (one trial of a sweep; Slurm's USR1 before the time
// limit checkpoints it and requeues its task). Main chooses the front end
// and hands it the UI.
//
// The commands that read a session's checkpoints for a model live here
// too: EvalSession and EvalONNX (an evaluation set under its protocol, and
// the tables of the result), ExportModel (a fine-tuned ONNX teacher written
// back as ONNX), and PreviewData (a contact sheet of the faces a run of a
// configuration trains on). CompareSweep reads a planned sweep's finished
// trials into the tables Compare writes; it trains nothing.
//
// Unlike the session store it sits under, it holds a live engine (and so
// imports engine/train); nothing under engine/ imports it, and it imports
// no UI.
package live
