// Package live is ccface's run lifecycle: the application layer between
// the command line and the engine. It opens a run from a Spec (a new
// session, a resume, a fork, a student from a teacher checkpoint), binds the
// training engine to its session (the recorder appends every event to the
// log; checkpoints wait for it), and finishes the run. Front ends (the TUI
// and the SSH server in package main, the headless printer and the compare
// driver here) follow one loop:
//
//	r, err := live.Open(spec) // validate, load data, create or lock the session, start
//	... show r.Hub() until the run ends; stop it with r.Stop ...
//	err = r.Finish()          // wait for the recorder, release the lock
//
// Drive wraps that loop around a front end given as a function.
// CompareSweep reads a planned sweep's finished trials into the tables
// Compare writes; it trains nothing.
//
// Unlike the session store it sits under, it holds a live engine (and so
// imports engine/train); nothing under engine/ imports it, and it imports
// no UI.
package live
